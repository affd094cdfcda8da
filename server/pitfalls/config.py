"""``[tool.pitfalls]`` settings: found, parsed and validated with pydantic.

Bad input is a :class:`ConfigError` with one line naming the file and the key; the CLI
turns it into exit code 2.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CODE_PREFIX = re.compile(r"^PF\d{0,3}$")


class ConfigError(Exception):
    """A one-line, user-facing description of bad configuration."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class SecretSettings(_Section):
    """Options of the credential rules (PF102, PF104)."""

    check_tests: bool = Field(False, alias="check-tests")
    extra_names: list[str] = Field(default_factory=list, alias="extra-names")


class FrameworkSettings(_Section):
    """What the framework rules (PF2xx) assume when the project's source does not say.

    The rules learn the rest from the code itself: declarative bases are the classes
    deriving from SQLAlchemy's ``DeclarativeBase`` or assigned from ``declarative_base()``;
    the supported extension field types come from the constant named here, wherever the
    project defines it."""

    declarative_bases: list[str] = Field(default_factory=list, alias="declarative-bases")
    mixin_order: list[str] = Field(
        default_factory=lambda: ["BusinessObjectMixin", "AuditableMixin", "EventPublisherMixin"],
        alias="mixin-order",
    )
    field_types_constant: str = Field("SUPPORTED_FIELD_TYPES", alias="field-types-constant")
    field_types: list[str] = Field(
        default_factory=lambda: ["string", "integer", "decimal", "boolean", "date", "datetime", "json"],
        alias="field-types",
    )
    extension_method: str = Field("set_extension", alias="extension-method")


class DirectusSettings(_Section):
    """Where the Directus schema comes from (PF5xx), and explicit model -> collection maps."""

    snapshot: str | None = None  # a `directus schema snapshot` / `GET /schema/snapshot` file
    url: str | None = None  # a live instance (credentials only from the environment)
    models: dict[str, str] = Field(default_factory=dict)  # model class name -> collection
    timeout: float = Field(10.0, gt=0)  # seconds per request
    refresh_minutes: float = Field(10.0, ge=0, alias="refresh-minutes")  # language server; 0: only on demand


class DatabaseSettings(_Section):
    """The SQL database of the PF6xx rules (or PITFALLS_DATABASE_URL); reflected read-only."""

    url: str | None = None
    timeout: float = Field(10.0, gt=0)


class Settings(_Section):
    select: list[str] = Field(default_factory=lambda: ["PF"])
    ignore: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    exclude: list[str] = Field(default_factory=list)
    src: list[str] = Field(default_factory=list)
    secrets: SecretSettings = Field(default_factory=SecretSettings)
    framework: FrameworkSettings = Field(default_factory=FrameworkSettings)
    directus: DirectusSettings = Field(default_factory=DirectusSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    @field_validator("select", "ignore")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            _check_code(code)
        return value

    @field_validator("per_file_ignores")
    @classmethod
    def _per_file_codes(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for codes in value.values():
            for code in codes:
                _check_code(code)
        return value

    def fingerprint(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def _check_code(code: str) -> None:
    if not CODE_PREFIX.match(code):
        raise ValueError(f"'{code}' is not a rule code or prefix (like PF101 or PF4)")


def code_matches(code: str, selectors: list[str]) -> bool:
    return any(code.startswith(s) for s in selectors)


class ProjectConfig:
    """Settings plus where they came from: the project root paths are relative to."""

    def __init__(self, settings: Settings, root: Path, source: Path | None) -> None:
        self.settings = settings
        self.root = root
        self.source = source

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
    table = merge_tables(table, overrides or {})
    settings = parse_settings(table, source)
    if config_path is not None:
        root = Path.cwd()  # as in Ruff: paths in a --config file are relative to where you run
    elif source is not None:
        root = source.parent
    else:
        root = start if start.is_dir() else start.parent
    return ProjectConfig(settings, Path(os.path.abspath(root)), source)


def merge_tables(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``, table by table: `--directus-url` keeps the snapshot setting."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_settings(table: dict[str, Any], source: Path | None = None) -> Settings:
    where = f"{source}: " if source else ""
    try:
        return Settings.model_validate(table)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "(root)"
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"{where}[tool.pitfalls] unknown key '{key}'") from None
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}[tool.pitfalls] bad value for '{key}': {message}") from None
