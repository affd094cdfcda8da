"""``--show-settings`` and ``--show-files``: what a check would use, without checking."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pitfalls.core.settings import settings_json
from pitfalls.project.config import ConfigResolver
from pitfalls.project.files import display_path
from pitfalls.rules import CODES

_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def show_files(files: list[Path]) -> str:
    return "".join(f"{name}\n" for name in sorted(display_path(f) for f in files))


def show_settings(resolver: ConfigResolver, path: Path) -> str:
    """The settings ``path`` is checked with (its own configuration's), one ``key = value``
    (JSON) a line, dotted for tables; a password in a URL is masked, as the output often
    lands in a CI log."""
    config = resolver.config_for(path)
    source = str(config.source) if config.source is not None else "none (defaults)"
    enabled = sorted(config.enabled_codes(list(CODES), path))
    lines = [
        f"Resolved settings for: {display_path(path)}",
        f"Settings path: {source}",
        f"Project root: {config.root}",
        f"Enabled rules: {', '.join(enabled) or 'none'}",
    ]
    settings = settings_json(config.settings_for(path), by_alias=True)
    lines += [f"{key} = {json.dumps(value)}" for key, value in _flat(settings)]
    return "\n".join(lines) + "\n"


def _flat(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested tables as dotted keys; mappings of the user's own keys stay whole."""
    found: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict) and key not in ("per-file-ignores", "models"):
            found += _flat(value, f"{prefix}{key}.")
            continue
        if isinstance(value, str) and key == "url":
            value = _URL_PASSWORD.sub(r"\1***@", value)
        found.append((prefix + key, value))
    return found
