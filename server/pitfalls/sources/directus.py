"""The Directus schema the PF5xx rules check against: from a snapshot file or a live server.

A snapshot is the body of ``GET /schema/snapshot`` (``{"data": {"collections", "fields",
"relations"}}``) or the file ``directus schema snapshot`` writes (the same object without
``data``, in YAML unless told ``--format json``). A live server is read with httpx:
``/collections``, ``/fields``, ``/relations`` and, when the token may, ``/permissions/me``;
only GET requests apart from the login. Every response is validated with pydantic models.

Whatever goes wrong (refused, timeout, 401, 403, 500, bad JSON or YAML, an unexpected shape)
becomes one :class:`SchemaSourceError` line naming the source, the cause and the remedy;
no message ever holds a token or a password.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pitfalls.core.schema import ACTIONS, Choice, DirectusField, DirectusSchema
from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.sources.errors import SchemaSourceError

if TYPE_CHECKING:  # httpx and yaml load only when a live server or a YAML file is read
    import httpx

# ---------------------------------------------------------------------------------------
# The shapes Directus answers with (snapshot files and the REST API share the field shape).


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class FieldSchema(_Item):
    is_nullable: bool = True
    is_primary_key: bool = False
    has_auto_increment: bool = False
    default_value: Any = None


class FieldMeta(_Item):
    required: bool | None = False
    options: dict[str, Any] | None = None
    special: list[str] | str | None = None


class CollectionItem(_Item):
    collection: str
    meta: dict[str, Any] | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")


class FieldItem(_Item):
    collection: str
    field: str
    type: str | None = None
    schema_: FieldSchema | None = Field(None, alias="schema")
    meta: FieldMeta | None = None

    def to_field(self) -> DirectusField:
        column = self.schema_
        meta = self.meta or FieldMeta()
        special = meta.special or []
        if isinstance(special, str):  # older snapshots store "a,b"
            special = [s for s in special.split(",") if s]
        return DirectusField(
            name=self.field,
            type=self.type,
            # Alias fields (o2m, m2m, presentation) have no column: nothing to be null.
            nullable=column.is_nullable if column is not None else True,
            primary_key=column.is_primary_key if column is not None else False,
            auto_increment=column.has_auto_increment if column is not None else False,
            has_default=column is not None and column.default_value is not None,
            required=bool(meta.required),
            choices=_choices(meta.options),
            special=tuple(special),
        )


class PermissionRule(_Item):
    access: str = "none"


Permissions = dict[str, dict[str, PermissionRule]]  # the body of `/permissions/me`


class Snapshot(_Item):
    collections: list[CollectionItem]
    fields: list[FieldItem]
    relations: list[dict[str, Any]] = []
    # Not Directus's: `pitfalls snapshot` adds what the token may do (`/permissions/me`).
    permissions: Permissions | None = None

    def to_schema(self, source: str) -> DirectusSchema:
        collections: dict[str, dict[str, DirectusField]] = {c.collection: {} for c in self.collections}
        for item in self.fields:
            collections.setdefault(item.collection, {})[item.field] = item.to_field()
        allowed = None if self.permissions is None else allowed_actions(self.permissions)
        return DirectusSchema(collections, allowed, source)


def allowed_actions(permissions: Permissions) -> dict[str, frozenset[str]]:
    """The actions each collection permits (``access`` other than ``none``)."""
    return {
        collection: frozenset(a for a, rule in actions.items() if a in ACTIONS and rule.access != "none")
        for collection, actions in permissions.items()
    }


def _choices(options: dict[str, Any] | None) -> tuple[Choice, ...] | None:
    choices = (options or {}).get("choices")
    if not isinstance(choices, list) or not choices:
        return None
    values: list[Choice] = []
    for choice in choices:
        value = choice.get("value") if isinstance(choice, dict) else choice
        if isinstance(value, (str, int, float, bool)):
            values.append(value)
    return tuple(values) or None


def _shape_error(where: str, exc: ValidationError) -> SchemaSourceError:
    error = exc.errors()[0]
    key = ".".join(str(p) for p in error["loc"]) or "(root)"
    return SchemaSourceError(f"{where} has an unexpected shape at '{key}': {error['msg']}")


# ---------------------------------------------------------------------------------------
# Snapshot files. Parsed once per (path, mtime, size) per process.

_SNAPSHOTS: dict[str, tuple[tuple[int, int], DirectusSchema | SchemaSourceError]] = {}
SNAPSHOT_SUFFIXES = (".json", ".yaml", ".yml")  # what ``directus schema snapshot`` writes (the editor watches them)


def read_snapshot(path: str) -> DirectusSchema:
    """The schema in the snapshot file at ``path`` (JSON or YAML)."""
    path = os.path.abspath(path)
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise SchemaSourceError(f"{path}: cannot read Directus snapshot: {exc.strerror or exc}") from None
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _SNAPSHOTS.get(path)
    if cached is None or cached[0] != key:
        try:
            result: DirectusSchema | SchemaSourceError = _parse_snapshot(path)
        except SchemaSourceError as exc:
            result = exc
        cached = _SNAPSHOTS[path] = (key, result)
    if isinstance(cached[1], SchemaSourceError):
        raise cached[1]
    return cached[1]


def _parse_snapshot(path: str) -> DirectusSchema:
    where = f"{path}: Directus snapshot"
    try:
        text = read_bounded(path, MAX_BODY_BYTES / 1_000_000).decode("utf-8")
    except UnreadableFile as exc:
        raise SchemaSourceError(f"{where}: {exc}") from None
    except UnicodeDecodeError:
        raise SchemaSourceError(f"{where} is not UTF-8") from None
    data = _decode(where, text, yaml_first=path.endswith((".yaml", ".yml")))
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    try:
        snapshot = Snapshot.model_validate(data)
    except ValidationError as exc:
        raise _shape_error(where, exc) from None
    return snapshot.to_schema(f"snapshot {path}")


def _decode(where: str, text: str, *, yaml_first: bool) -> Any:
    """JSON, or the YAML `directus schema snapshot` writes by default."""
    import yaml

    if not yaml_first:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if text.lstrip().startswith(("{", "[")):
                raise SchemaSourceError(f"{where} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SchemaSourceError(f"{where} is neither JSON nor valid YAML ({line}{problem})") from None


# ---------------------------------------------------------------------------------------
# A live server.

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    data: T


class LoginData(_Item):
    access_token: str


@dataclass(frozen=True)
class Credentials:
    """A static token, or an email and password to log in with. Never printed."""

    token: str | None = None
    email: str | None = None
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # not even a traceback shows the secret
        return f"Credentials({self.describe()})"

    def describe(self) -> str:
        return "DIRECTUS_TOKEN" if self.token else f"login as {self.email}" if self.email else "no credentials"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if env is None else env
        token = env.get("DIRECTUS_TOKEN", "").strip()
        if token:
            return cls(token=token)
        for prefix in ("DIRECTUS_", "DIRECTUS_API_AGENT_"):
            email, password = env.get(f"{prefix}EMAIL", "").strip(), env.get(f"{prefix}PASSWORD", "")
            if email and password:
                return cls(email=email, password=password)
        return cls()


REMEDY_401 = (
    "check DIRECTUS_TOKEN, or DIRECTUS_EMAIL/DIRECTUS_PASSWORD (or DIRECTUS_API_AGENT_EMAIL/"
    "DIRECTUS_API_AGENT_PASSWORD): they must match the user exactly, and the user's status must be Active"
)
REMEDY_403 = (
    "in Settings > Access Control > Access Policies, give the token's policy read on "
    "directus_collections, directus_fields and directus_relations (or app access), check that the "
    "policy is assigned to the user's role, or configure a snapshot instead"
)
DEFAULT_TIMEOUT = 10.0
# A body larger than this (as sent, and again once decompressed) is refused, never held whole.
MAX_BODY_BYTES = 50 * 1024 * 1024


class DirectusClient:
    """GET-only access to one Directus server (after an optional login)."""

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        import httpx

        self.url = url.rstrip("/")
        self.credentials = credentials
        self.timeout = float(timeout)
        try:
            httpx.URL(self.url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise SchemaSourceError(f"Directus URL {self.url} is not valid: {exc}") from None
        self._client = httpx.Client(
            base_url=self.url,
            timeout=httpx.Timeout(timeout),
            # One retry on connection errors (refused, reset during connect), none on anything else.
            transport=httpx.HTTPTransport(retries=1),
            follow_redirects=False,
            # A fresh connection per request (the deadline's watchdog learns each socket as it
            # connects), and only encodings read below with a bound on the decoded size.
            headers={"User-Agent": "pitfalls", "Accept-Encoding": "gzip, deflate", "Connection": "close"},
        )
        self._token: str | None = credentials.token

    def __enter__(self) -> DirectusClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def close(self) -> None:
        self._client.close()

    # -- requests --------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request with the token, read whole (at most ``MAX_BODY_BYTES``) within the total
        deadline ``timeout``; every failure becomes SchemaSourceError."""
        import httpx

        headers = self._auth_headers()
        watchdog = _Watchdog(self.timeout)
        timed_out = SchemaSourceError(f"Directus at {self.url}: {method} {path} timed out after {self.timeout}s")
        try:
            with watchdog:
                request = self._client.build_request(method, path, headers=headers, extensions={"trace": watchdog.trace}, **kwargs)
                response = self._client.send(request, stream=True)
                try:
                    body = self._read_body(response, watchdog, f"{method} {path}")
                finally:
                    response.close()
        except httpx.TimeoutException:
            raise timed_out from None
        except httpx.ConnectError as exc:
            if watchdog.fired:
                raise timed_out from None
            raise SchemaSourceError(f"Directus at {self.url}: cannot connect ({self._redact(_reason(exc))}); is the server running?") from None
        except (httpx.HTTPError, OSError) as exc:
            if watchdog.fired:
                raise timed_out from None
            raise SchemaSourceError(f"Directus at {self.url}: {method} {path} failed: {self._redact(_reason(exc))}") from None
        if body is None:
            raise timed_out
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=kept, content=body, request=response.request)

    def _read_body(self, response: httpx.Response, watchdog: _Watchdog, what: str) -> bytes | None:
        """The decoded body, or None when the deadline passed; refuses what exceeds the cap."""
        too_big = SchemaSourceError(
            f"Directus at {self.url}: {what} answered with a body over {MAX_BODY_BYTES // (1024 * 1024)} MB; not read",
        )
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            decoder = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding != "deflate" else zlib.MAX_WBITS)
        else:
            raise SchemaSourceError(f"Directus at {self.url}: {what} answered with an unsupported Content-Encoding")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise too_big
        parts: list[bytes] = []
        received = decoded = 0
        for chunk in response.iter_raw():
            if watchdog.expired():
                return None
            received += len(chunk)
            if received > MAX_BODY_BYTES:
                raise too_big
            if decoder is None:
                parts.append(chunk)
                decoded += len(chunk)
                continue
            pending = chunk
            while pending:
                try:
                    out = decoder.decompress(pending, MAX_BODY_BYTES - decoded + 1)
                except zlib.error:
                    raise SchemaSourceError(f"Directus at {self.url}: {what} answered with a body that does not decompress ({encoding})") from None
                decoded += len(out)
                if decoded > MAX_BODY_BYTES:
                    raise too_big
                parts.append(out)
                pending = decoder.unconsumed_tail
        if decoder is not None:
            parts.append(decoder.flush())
        if watchdog.expired():
            return None
        return b"".join(parts)

    def _auth_headers(self) -> dict[str, str]:
        """The Authorization header; a token no header can carry is refused, never echoed."""
        token = self._token
        if not token:
            return {}
        if not all(0x21 <= ord(c) <= 0x7E for c in token):
            which = "DIRECTUS_TOKEN" if token == self.credentials.token else "the access token the login returned"
            raise SchemaSourceError(
                f"Directus at {self.url}: {which} contains a line break, a space or a character an HTTP header cannot carry (not shown)",
                "set it to the token alone, on one line, in plain ASCII",
            )
        return {"Authorization": f"Bearer {token}"}

    def _redact(self, text: str) -> str:
        """``text`` with every known credential value replaced by ``***``."""
        secrets = {s for s in (self.credentials.token, self.credentials.password, self._token) if s}
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
            squeezed = " ".join(secret.split())
            if squeezed:
                text = text.replace(squeezed, "***")
        return text

    def _parse(self, response: httpx.Response, model: type[T], what: str) -> T:
        where = f"Directus at {self.url}: {what}"
        try:
            body = response.json()
        except (ValueError, RecursionError):
            raise SchemaSourceError(f"{where} answered {response.status_code} with a body that is not JSON") from None
        try:
            return Envelope[model].model_validate(body).data  # type: ignore[valid-type]
        except ValidationError as exc:
            raise _shape_error(where, exc) from None

    def login(self) -> None:
        """Trade the email and password for an access token (the one POST)."""
        if self._token or not self.credentials.email:
            return
        response = self.request("POST", "/auth/login", json={"email": self.credentials.email, "password": self.credentials.password})
        if response.status_code == 401:
            raise SchemaSourceError(f"Directus at {self.url}: login as {self.credentials.email} failed (401 Unauthorized)", REMEDY_401)
        self._check_status(response, "POST /auth/login")
        self._token = self._parse(response, LoginData, "POST /auth/login").access_token

    def get(self, path: str, model: type[T], params: dict[str, Any] | None = None) -> T:
        response = self.request("GET", path, params=params)
        self._check_status(response, f"GET {path}")
        return self._parse(response, model, f"GET {path}")

    def _check_status(self, response: httpx.Response, what: str) -> None:
        status = response.status_code
        if status < 300:
            return
        where = f"Directus at {self.url}: {what} answered {status}"
        detail = self._redact(_error_message(response.text))
        if status == 401:
            raise SchemaSourceError(f"{where} (token rejected{': ' + detail if detail else ''})", REMEDY_401)
        if status == 403:
            raise SchemaSourceError(f"{where}{': ' + detail if detail else ''}", REMEDY_403)
        raise SchemaSourceError(f"{where}{': ' + detail if detail else ''}")

    # -- the schema ------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The schema as the token sees it, in the snapshot shape, with its permissions."""
        self.login()
        every = {"limit": "-1"}
        collections = self.get("/collections", list[CollectionItem], every)
        fields = self.get("/fields", list[FieldItem], every)
        relations = self.get("/relations", list[dict[str, Any]], every)
        return Snapshot(collections=collections, fields=fields, relations=relations, permissions=self.permissions())

    def permissions(self) -> Permissions | None:
        """What the token may do per collection (``/permissions/me``, Directus 11+); None when
        the server has no such endpoint."""
        response = self.request("GET", "/permissions/me")
        if response.status_code in (403, 404):
            return None
        self._check_status(response, "GET /permissions/me")
        return self._parse(response, Permissions, "GET /permissions/me")


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _error_message(text: str) -> str:
    """Directus's own message (``{"errors": [{"message": ...}]}``), on one line."""
    try:
        errors = json.loads(text).get("errors")
        message = errors[0]["message"]
    except (ValueError, AttributeError, LookupError, TypeError, RecursionError):
        return ""
    return " ".join(str(message).split())[:300]


class _Watchdog:
    """The total deadline of one request: past it, the request's socket is shut down, which
    ends any read in progress (slow headers included); the body loop also checks it."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.deadline

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event not in ("connection.connect_tcp.complete", "connection.connect_unix_socket.complete"):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def fetch_schema(
    url: str,
    credentials: Credentials | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> DirectusSchema:
    """The live schema of the Directus at ``url``; credentials default to the environment's."""
    with DirectusClient(url, credentials or Credentials.from_env(), timeout=timeout) as client:
        return client.snapshot().to_schema(f"Directus at {client.url}")


def fetch_permissions(
    url: str, credentials: Credentials, *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, frozenset[str]] | None:
    """What the token may do per collection; None when that cannot be learnt."""
    try:
        with DirectusClient(url, credentials, timeout=timeout) as client:
            client.login()
            permissions = client.permissions()
    except SchemaSourceError:
        return None
    return None if permissions is None else allowed_actions(permissions)
