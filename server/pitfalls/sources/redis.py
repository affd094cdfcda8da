"""The Redis that ``pitfalls doctor`` checks: does it answer, and can the event streams be read.

Read-only: ``PING``, then ``TYPE``, ``XLEN`` and ``XREVRANGE ... COUNT 1`` on a stream; nothing
is ever written. redis-py is optional (``pip install "pitfalls[redis]"``). Every command has
the configured timeout to connect and to answer, and none is retried: a Redis that is down
is one refused connection, not a minute of back-off. Whatever goes wrong is one
:class:`SchemaSourceError` line with the guide's remedy; no message holds the URL's password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pitfalls.sources.database import safe_url  # the same masking as the database URL's
from pitfalls.sources.errors import SchemaSourceError

if TYPE_CHECKING:  # redis loads only when a Redis is checked
    import redis

T = TypeVar("T")

REMEDY_PACKAGE = 'install redis-py where pitfalls runs: pip install "pitfalls[redis]" (or pip install redis)'
REMEDY_UNREACHABLE = (
    "start Redis (`docker run -p 6379:6379 redis`, or `systemctl start redis-server`) and check the URL "
    "(REDIS_URL, --redis-url, [tool.pitfalls.redis] url), e.g. redis://localhost:6379/0"
)
REMEDY_URL = "give a redis://host:6379/0, rediss:// or unix:// URL (REDIS_URL, --redis-url, [tool.pitfalls.redis] url)"
REMEDY_AUTH = (
    "put the Redis user's password in the URL (redis://user:password@host:6379/0), as the application's REDIS_URL has it"
)
REMEDY_ACL = (
    "grant the Redis user read on the stream keys (ACL SETUSER <user> ~<stream> +type +xlen +xrevrange), "
    "and +xadd for the application"
)


@dataclass(frozen=True)
class Stream:
    """What a stream key holds."""

    name: str
    kind: str  # the key's type: "stream", "none" (no such key yet), or another type
    length: int = 0
    newest: str | None = None  # the ID of its newest entry ("<milliseconds>-<sequence>")


class RedisProbe:
    """One connection to the Redis at ``url``, for a few read-only commands."""

    def __init__(self, url: str, timeout: float) -> None:
        self.shown = safe_url(url)
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise SchemaSourceError(f"redis {self.shown}: the redis package is not installed", REMEDY_PACKAGE) from None
        self._errors: type[Exception] = redis.RedisError
        try:
            self._client: redis.Redis = redis.Redis.from_url(
                url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
            )
        except ValueError as exc:
            raise SchemaSourceError(f"redis {self.shown}: not a Redis URL: {_one_line(exc)}", REMEDY_URL) from None

    def __enter__(self) -> RedisProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._client.close()

    def ping(self) -> None:
        self._call("PING", self._client.ping)

    def stream(self, name: str) -> Stream:
        kind = _text(self._call(f"TYPE {name}", lambda: self._client.type(name)))
        if kind != "stream":
            return Stream(name, kind)
        length = self._call(f"XLEN {name}", lambda: self._client.xlen(name))
        newest = self._call(f"XREVRANGE {name}", lambda: self._client.xrevrange(name, count=1))
        return Stream(name, kind, int(length), _text(newest[0][0]) if newest else None)

    def _call(self, what: str, command: Callable[[], T]) -> T:
        try:
            return command()
        except self._errors as exc:
            raise SchemaSourceError(f"redis {self.shown}: {what}: {_one_line(exc)}", _remedy(exc)) from None


def _remedy(exc: Exception) -> str:
    from redis.exceptions import AuthenticationError, ConnectionError, TimeoutError

    message = str(exc)
    if isinstance(exc, AuthenticationError) or message.startswith(("NOAUTH", "WRONGPASS", "invalid username-password")):
        return REMEDY_AUTH
    if message.startswith("NOPERM"):
        return REMEDY_ACL
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return REMEDY_UNREACHABLE
    return ""


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
