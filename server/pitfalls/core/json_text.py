"""JSON for what pitfalls writes and reads back itself: the summaries in the cache.

msgspec reads and writes it at a fraction of the json module's cost, and decodes a
summary straight into its dataclasses without pydantic's adapter, whose construction alone
was a tenth of a second of each run that decoded summaries (pre-commit's, the editor's
start). Imported when first needed: 10 ms, more than a warm run, which decodes no summary,
would save with it. msgspec speaks UTF-8 only: a text holding a lone surrogate (a source
string may) is written, and read, by the json module.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import msgspec

T = TypeVar("T")


def dumps(value: Any) -> str:
    """``value`` (dataclasses, containers, scalars) as compact JSON text, other than ASCII
    as it is."""
    import msgspec

    try:
        return _encoder().encode(value).decode()
    except UnicodeEncodeError:
        return json.dumps(msgspec.to_builtins(value), ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value in JSON ``text``; ValueError when it is not JSON."""
    import msgspec

    try:
        return msgspec.json.decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError):
        return json.loads(text)  # a lone surrogate (or not JSON: the json module says so)


def load_as(text: str, cls: type[T]) -> T:
    """``text`` (written by :func:`dumps`) decoded straight into ``cls``; ValueError when
    it is not such a value."""
    import msgspec

    try:
        return _decoder(cls).decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError):
        return msgspec.convert(loads(text), cls)


@functools.cache
def _encoder() -> msgspec.json.Encoder:
    import msgspec

    return msgspec.json.Encoder()


@functools.cache
def _decoder(cls: type[T]) -> msgspec.json.Decoder[T]:
    import msgspec

    return msgspec.json.Decoder(cls)
