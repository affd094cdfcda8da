"""The project's configuration: ``[tool.pitfalls]`` found, read and merged with overrides.

One merge serves the command line and the editor: their options go over the file's, table
by table, with Ruff's precedence for the rule selection.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from pitfalls.core.settings import ConfigError, Settings, code_matches, parse_settings
from pitfalls.project.dependencies import pydantic_major
from pitfalls.rules import RULES_BY_CODE

# Override keys that add to a setting rather than replace it (not Settings fields).
EXTENDING = {"extend-select": "select", "extend-exclude": "exclude"}


class ProjectConfig:
    """Settings plus where they came from: the project root paths are relative to."""

    def __init__(self, settings: Settings, root: Path, source: Path | None) -> None:
        self.settings = settings
        self.root = root
        self.source = source
        self._pydantic: dict[str, int | None] = {}  # folder -> the pydantic major it pins
        self._per_folder: dict[str, Settings] = {}
        self._fingerprints: dict[int, str] = {}

    def settings_for(self, path: Path | str) -> Settings:
        """The settings a file is checked with: the project's, with what the file's nearest
        dependency files say where the configuration does not (``pydantic-version``)."""
        if self.settings.pydantic_version is not None:
            return self.settings
        folder = Path(os.path.dirname(os.path.abspath(path)))
        found = self._per_folder.get(str(folder))
        if found is None:
            major = pydantic_major(folder, self.root, self._pydantic)
            found = self.settings if major is None else self.settings.model_copy(update={"pydantic_version": major})
            self._per_folder[str(folder)] = found
        return found

    def fingerprint_for(self, path: Path | str) -> str:
        """The fingerprint of :meth:`settings_for`, part of what a cached result holds for."""
        settings = self.settings_for(path)
        found = self._fingerprints.get(id(settings))
        if found is None:
            found = self._fingerprints[id(settings)] = settings.fingerprint()
        return found

    def relative(self, path: Path) -> str:
        full = os.path.abspath(path)
        root = str(self.root)
        if full.startswith(root + os.sep):
            return Path(os.path.relpath(full, root)).as_posix()
        return Path(full).as_posix()

    def is_excluded(self, path: Path) -> bool:
        return matches_any(self.relative(path), self.settings.exclude)

    def enabled_codes(self, all_codes: list[str], path: Path | None = None) -> set[str]:
        s = self.settings
        enabled = {c for c in all_codes if code_matches(c, s.select) and not code_matches(c, s.ignore)}
        if path is not None and s.per_file_ignores:
            rel = self.relative(path)
            for pattern, codes in s.per_file_ignores.items():
                if matches_any(rel, [pattern]):
                    enabled = {c for c in enabled if not code_matches(c, codes)}
        return enabled

    def source_roots(self) -> list[Path]:
        return [Path(os.path.abspath(self.root / s)) for s in self.settings.src]


def matches_any(rel_posix: str, patterns: list[str]) -> bool:
    """Gitignore-like matching: a pattern matches the path, its name, or a parent folder."""
    if not patterns:
        return False
    path = PurePosixPath(rel_posix)
    candidates = [rel_posix, path.name, *(p.as_posix() for p in path.parents if p.as_posix() != ".")]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern):
                return True
    return False


def find_pyproject(start: Path) -> Path | None:
    start = Path(os.path.abspath(start))
    for folder in [start, *start.parents] if start.is_dir() else [start.parent, *start.parent.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(
    config_path: Path | None, start: Path, overrides: dict[str, Any] | None = None
) -> ProjectConfig:
    """Load ``[tool.pitfalls]`` from ``config_path`` or the nearest pyproject.toml."""
    if config_path is not None:
        if not config_path.is_file():
            raise ConfigError(f"{config_path}: no such config file")
        source: Path | None = Path(os.path.abspath(config_path))
    else:
        source = find_pyproject(start)
    table: dict[str, Any] = {}
    if source is not None:
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {exc}") from None
        if source.name == "pyproject.toml":
            table = data.get("tool", {}).get("pitfalls", {})
        else:  # a dedicated pitfalls.toml / .pitfalls.toml
            table = data.get("tool", {}).get("pitfalls", data)
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [tool.pitfalls] must be a table")
    settings = parse_settings(apply_overrides(table, overrides or {}), source)
    unknown = unknown_selector(table)
    if unknown is not None:
        raise ConfigError(f"{source}: [tool.pitfalls] unknown rule code or prefix in '{unknown[0]}': {unknown[1]}")
    if config_path is not None:
        root = Path.cwd()  # as in Ruff: paths in a --config file are relative to where you run
    elif source is not None:
        root = source.parent
    else:
        root = start if start.is_dir() else start.parent
    return ProjectConfig(settings, Path(os.path.abspath(root)), source)


def unknown_selector(table: dict[str, Any]) -> tuple[str, str] | None:
    """The first (key, code) in ``table``'s selections that matches no rule (``PF1`` and
    ``PF40`` are prefixes of some): a typo would otherwise select or ignore nothing, silently.
    Values of the wrong type are left to :func:`parse_settings`."""
    lists = [(key, table.get(key)) for key in ("select", "ignore", "extend-select")]
    per_file = table.get("per-file-ignores")
    if isinstance(per_file, dict):
        lists += [(f"per-file-ignores.{pattern}", codes) for pattern, codes in per_file.items()]
    for key, codes in lists:
        for code in codes if isinstance(codes, list) else []:
            if isinstance(code, str) and not any(known.startswith(code) for known in RULES_BY_CODE):
                return key, code
    return None


def apply_overrides(table: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` (``[tool.pitfalls]`` keys from the command line or the editor) over
    the file's ``table``. As in Ruff, ``select`` without ``ignore`` replaces the file's
    selection whole (its ``ignore`` included), and ``extend-select`` / ``extend-exclude``
    add to whatever selection / exclusion results."""
    overrides = dict(overrides)
    extending = {key: overrides.pop(key, None) or [] for key in EXTENDING}
    if "select" in overrides and "ignore" not in overrides:
        overrides["ignore"] = []
    merged = merge_tables(table, overrides)
    for key, values in extending.items():
        if values:
            target = EXTENDING[key]
            merged[target] = [*merged.get(target, getattr(Settings(), target)), *values]
    return merged


def merge_tables(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``, table by table: `--directus-url` keeps the snapshot setting."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


