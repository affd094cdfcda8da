"""The ``[tool.pitfalls]`` settings, validated with pydantic: what rules and the run read.

Plain frozen dataclasses hold them; pydantic validates a table into them (each field's
``metadata`` gives its alias and bounds) and is imported only then, so a run whose tables
were validated before (:class:`~pitfalls.project.cache.KnownTables`) never loads it.
Bad input is a :class:`ConfigError` with one line naming the key; the CLI turns it into
exit code 2. Reading the settings from files is :mod:`pitfalls.project.config`'s job.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

CODE_PREFIX = re.compile(r"^PF\d{0,3}$")
# pydantic's model configuration, read from each dataclass: unknown keys are errors.
_STRICT_KEYS = {"extra": "forbid", "populate_by_name": True}


class ConfigError(Exception):
    """A one-line, user-facing description of bad configuration."""


def _alias(name: str, **bounds: float) -> dict[str, Any]:
    return {"alias": name, **bounds}


@dataclass(frozen=True)
class SecretSettings:
    """Options of the credential rules (PF102, PF104)."""

    __pydantic_config__ = _STRICT_KEYS

    check_tests: bool = field(default=False, metadata=_alias("check-tests"))
    extra_names: list[str] = field(default_factory=list, metadata=_alias("extra-names"))


@dataclass(frozen=True)
class FrameworkSettings:
    """What the framework rules (PF2xx) assume when the project's source does not say.

    The rules learn the rest from the code itself: declarative bases are the classes
    deriving from SQLAlchemy's ``DeclarativeBase`` or assigned from ``declarative_base()``;
    the supported extension field types come from the constant named here, wherever the
    project defines it."""

    __pydantic_config__ = _STRICT_KEYS

    declarative_bases: list[str] = field(default_factory=list, metadata=_alias("declarative-bases"))
    mixin_order: list[str] = field(
        default_factory=lambda: ["BusinessObjectMixin", "AuditableMixin", "EventPublisherMixin"],
        metadata=_alias("mixin-order"),
    )
    field_types_constant: str = field(default="SUPPORTED_FIELD_TYPES", metadata=_alias("field-types-constant"))
    field_types: list[str] = field(
        default_factory=lambda: ["string", "integer", "decimal", "boolean", "date", "datetime", "json"],
        metadata=_alias("field-types"),
    )
    extension_method: str = field(default="set_extension", metadata=_alias("extension-method"))
    # PF210: the `extension_filters` operators come from this constant; the list is used
    # only when no module defines it (empty: nothing known, PF210 stays silent).
    filter_operators_constant: str = field(default="SUPPORTED_FILTER_OPERATORS", metadata=_alias("filter-operators-constant"))
    filter_operators: list[str] = field(default_factory=list, metadata=_alias("filter-operators"))


@dataclass(frozen=True)
class DirectusSettings:
    """Where the Directus schema comes from (PF5xx), and explicit model -> collection maps."""

    __pydantic_config__ = _STRICT_KEYS

    snapshot: str | None = None  # a `directus schema snapshot` / `GET /schema/snapshot` file
    url: str | None = None  # a live instance (credentials only from the environment)
    models: dict[str, str] = field(default_factory=dict)  # model class name -> collection
    timeout: float = field(default=10.0, metadata={"gt": 0})  # seconds per request
    refresh_minutes: float = field(default=10.0, metadata=_alias("refresh-minutes", ge=0))  # language server; 0: only on demand


@dataclass(frozen=True)
class DatabaseSettings:
    """The SQL database of the PF6xx rules (or PITFALLS_DATABASE_URL); reflected read-only."""

    __pydantic_config__ = _STRICT_KEYS

    url: str | None = None
    timeout: float = field(default=10.0, metadata={"gt": 0})


REDIS_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True)
class RedisSettings:
    """The Redis of ``pitfalls doctor``'s framework checks (or REDIS_URL, --redis-url): PING,
    and read-only looks at the event streams (those the code names, and these)."""

    __pydantic_config__ = _STRICT_KEYS

    url: str | None = None
    timeout: float = field(default=10.0, metadata={"gt": 0})  # seconds to connect, and per command
    streams: list[str] = field(default_factory=list)


# A float, as validation and remembered settings give it: the settings' fingerprint (the
# cache file's name) spells 3 and 3.0 apart.
DEFAULT_MAX_FILE_MB = 3.0


@dataclass(frozen=True)
class Settings:
    __pydantic_config__ = _STRICT_KEYS

    select: list[str] = field(default_factory=lambda: ["PF"])
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict, metadata=_alias("per-file-ignores"))
    exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = field(default=True, metadata=_alias("respect-gitignore"))  # leave out what git ignores
    src: list[str] = field(default_factory=list)
    secrets: SecretSettings = field(default_factory=SecretSettings)
    framework: FrameworkSettings = field(default_factory=FrameworkSettings)
    directus: DirectusSettings = field(default_factory=DirectusSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    # The pydantic major version the code runs on; unset: what its dependency files pin.
    pydantic_version: int | None = field(default=None, metadata=_alias("pydantic-version", ge=1, le=2))
    # Environment variables set outside the repository's files (PF701): the deployment's. The
    # run adds the names its env, compose, Docker and CI files define; None: no such source.
    environment: tuple[str, ...] | None = None
    # Top-level modules the declared dependencies provide (PF303), lower case. The run adds
    # what the file's nearest dependency files declare; None: they do not say (or none).
    dependency_modules: tuple[str, ...] | None = field(default=None, metadata=_alias("dependency-modules"))
    # Whether the build packages only folders with `__init__.py` (PF303); unset: what
    # `setup.py` / `setup.cfg` / `[tool.setuptools]` say (`find_packages()`).
    packages_need_init: bool | None = field(default=None, metadata=_alias("packages-need-init"))
    # Larger files are not analysed (one PF000 each): libcst takes about 250 MB and 4 s
    # per megabyte of source, in every worker at once.
    max_file_size: float = field(default=DEFAULT_MAX_FILE_MB, metadata=_alias("max-file-size", gt=0, le=1024))  # megabytes

    def fingerprint(self) -> str:
        payload = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def setting_keys() -> Iterator[str]:
    """The keys of a ``[tool.pitfalls]`` table: each field's alias, else its name."""
    for f in dataclasses.fields(Settings):
        yield f.metadata.get("alias", f.name)


def _problems(settings: Settings) -> Iterator[tuple[str, str]]:
    """(key, message) for the values pydantic's types admit but the settings do not."""
    for key, codes in (("select", settings.select), ("ignore", settings.ignore), *(
        ("per-file-ignores", codes) for codes in settings.per_file_ignores.values()
    )):
        for code in codes:
            if not CODE_PREFIX.match(code):
                yield key, f"'{code}' is not a rule code or prefix (like PF101 or PF4)"
    if settings.directus.snapshot is not None and "\x00" in settings.directus.snapshot:
        yield "directus.snapshot", "a path cannot contain a NUL character"
    redis = settings.redis.url
    if redis is not None and urlsplit(redis).scheme.lower() not in REDIS_SCHEMES:
        yield "redis.url", f"not a Redis URL: it must start with {', '.join(s + '://' for s in REDIS_SCHEMES)}"
    for section in ("directus", "database", "redis"):
        url = getattr(settings, section).url
        if url is not None:
            try:
                urlsplit(url).port
            except ValueError as exc:
                yield f"{section}.url", f"not a URL: {exc}"


def code_matches(code: str, selectors: list[str]) -> bool:
    return any(code.startswith(s) for s in selectors)


@functools.cache
def _adapter():  # -> pydantic.TypeAdapter[Settings]
    """Built when a table is first validated: importing pydantic is most of a warm run."""
    from pydantic import TypeAdapter

    return TypeAdapter(Settings)


# Validates a table into settings (a file's, for its errors): :func:`parse_settings`, or one
# that remembers what it validated.
ParseSettings = Callable[[dict[str, Any], Path | None], Settings]


def parse_settings(table: dict[str, Any], source: Path | None = None) -> Settings:
    if not table:
        return Settings()  # the defaults, as validating no keys gives them: no pydantic to import
    from pydantic import ValidationError

    where = f"{source}: " if source else ""
    try:
        settings = _adapter().validate_python(table)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "(root)"
        if error["type"] == "unexpected_keyword_argument":
            raise ConfigError(f"{where}[tool.pitfalls] unknown key '{key}'") from None
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}[tool.pitfalls] bad value for '{key}': {message}") from None
    for key, message in _problems(settings):
        raise ConfigError(f"{where}[tool.pitfalls] bad value for '{key}': {message}")
    return settings


def settings_json(settings: Settings, *, by_alias: bool = False) -> dict[str, Any]:
    """The settings as JSON data, keyed by alias (as a table spells them) or by name."""
    return _adapter().dump_python(settings, mode="json", by_alias=by_alias)


def settings_from_json(data: dict[str, Any]) -> Settings:
    """The settings :func:`settings_json` gave (by name), rebuilt without validating again."""
    return _rebuilt(Settings, data)


def _rebuilt(cls: type, data: dict[str, Any]) -> Any:
    values = {}
    for name, hint in _hints(cls).items():
        if name not in data:
            raise KeyError(name)
        value = data[name]
        if dataclasses.is_dataclass(hint):
            value = _rebuilt(hint, value)
        elif value is not None and tuple in (typing.get_origin(hint), *map(typing.get_origin, typing.get_args(hint))):
            value = tuple(value)
        values[name] = value
    return cls(**values)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}
