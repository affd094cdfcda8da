"""TOML files of a checked repository, read with bounds: the repository is untrusted.

tomllib recurses once per level of nested arrays and inline tables, and takes quadratic
time and unbounded memory on a key of many dotted parts (100,000 parts: minutes, then the
out-of-memory killer); both are refused before tomllib sees the text.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from pitfalls.core.source import bracket_depth
from pitfalls.project.files import UnreadableFile, read_bounded

MAX_TOML_MB = 1  # a pyproject.toml is a few kilobytes
MAX_KEY_PARTS = 100
MAX_NESTING = 100


class TomlError(Exception):
    """The file cannot be used; the message says why, in one line."""


def load_toml(path: Path) -> dict[str, Any]:
    """The file's data. A run reads a ``pyproject.toml`` for its configuration, its
    dependencies and its ``requires-python``: the same text is parsed once, and the data
    is shared between them (never to be changed in place)."""
    try:
        text = read_bounded(path, MAX_TOML_MB).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError) as exc:
        raise TomlError(f"cannot read: {exc}") from None
    return parse_toml(text)


@functools.lru_cache(maxsize=64)
def parse_toml(text: str) -> dict[str, Any]:
    """A TOML text's data (the same text is parsed once: see :func:`load_toml`)."""
    for number, line in enumerate(text.splitlines(), 1):
        key = line if line.lstrip().startswith("[") else line.partition("=")[0]
        if key.count(".") >= MAX_KEY_PARTS:
            raise TomlError(f"invalid TOML: a key of more than {MAX_KEY_PARTS} dotted parts (line {number})")
    if bracket_depth(text) > MAX_NESTING:
        raise TomlError(f"invalid TOML: nested more than {MAX_NESTING} levels deep")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlError(f"invalid TOML: {exc}") from None
