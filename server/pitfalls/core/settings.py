"""The ``[tool.pitfalls]`` settings, validated with pydantic: what rules and the run read.

Bad input is a :class:`ConfigError` with one line naming the key; the CLI turns it into
exit code 2. Reading the settings from files is :mod:`pitfalls.project.config`'s job.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
    # PF210: the `extension_filters` operators come from this constant; the list is used
    # only when no module defines it (empty: nothing known, PF210 stays silent).
    filter_operators_constant: str = Field("SUPPORTED_FILTER_OPERATORS", alias="filter-operators-constant")
    filter_operators: list[str] = Field(default_factory=list, alias="filter-operators")


class DirectusSettings(_Section):
    """Where the Directus schema comes from (PF5xx), and explicit model -> collection maps."""

    snapshot: str | None = None  # a `directus schema snapshot` / `GET /schema/snapshot` file
    url: str | None = None  # a live instance (credentials only from the environment)
    models: dict[str, str] = Field(default_factory=dict)  # model class name -> collection
    timeout: float = Field(10.0, gt=0)  # seconds per request
    refresh_minutes: float = Field(10.0, ge=0, alias="refresh-minutes")  # language server; 0: only on demand

    @field_validator("snapshot")
    @classmethod
    def _path_without_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError("a path cannot contain a NUL character")
        return value

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _checked_url(value)


class DatabaseSettings(_Section):
    """The SQL database of the PF6xx rules (or PITFALLS_DATABASE_URL); reflected read-only."""

    url: str | None = None
    timeout: float = Field(10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        return _checked_url(value)


REDIS_SCHEMES = ("redis", "rediss", "unix")


class RedisSettings(_Section):
    """The Redis of ``pitfalls doctor``'s framework checks (or REDIS_URL, --redis-url): PING,
    and read-only looks at the event streams (those the code names, and these)."""

    url: str | None = None
    timeout: float = Field(10.0, gt=0)  # seconds to connect, and per command
    streams: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme.lower() not in REDIS_SCHEMES:
            raise ValueError(f"not a Redis URL: it must start with {', '.join(s + '://' for s in REDIS_SCHEMES)}")
        return _checked_url(value)


DEFAULT_MAX_FILE_MB = 3


class Settings(_Section):
    select: list[str] = Field(default_factory=lambda: ["PF"])
    ignore: list[str] = Field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    exclude: list[str] = Field(default_factory=list)
    respect_gitignore: bool = Field(True, alias="respect-gitignore")  # leave out what git ignores
    src: list[str] = Field(default_factory=list)
    secrets: SecretSettings = Field(default_factory=SecretSettings)
    framework: FrameworkSettings = Field(default_factory=FrameworkSettings)
    directus: DirectusSettings = Field(default_factory=DirectusSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    # The pydantic major version the code runs on; unset: what its dependency files pin.
    pydantic_version: int | None = Field(None, alias="pydantic-version", ge=1, le=2)
    # Environment variables set outside the repository's files (PF701): the deployment's. The
    # run adds the names its env, compose, Docker and CI files define; None: no such source.
    environment: tuple[str, ...] | None = None
    # Top-level modules the declared dependencies provide (PF303), lower case. The run adds
    # what the file's nearest dependency files declare; None: they do not say (or none).
    dependency_modules: tuple[str, ...] | None = Field(None, alias="dependency-modules")
    # Whether the build packages only folders with `__init__.py` (PF303); unset: what
    # `setup.py` / `setup.cfg` / `[tool.setuptools]` say (`find_packages()`).
    packages_need_init: bool | None = Field(None, alias="packages-need-init")
    # Larger files are not analysed (one PF000 each): libcst takes about 250 MB and 4 s
    # per megabyte of source, in every worker at once.
    max_file_size: float = Field(DEFAULT_MAX_FILE_MB, alias="max-file-size", gt=0, le=1024)  # megabytes

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


def _checked_url(value: str | None) -> str | None:
    """A URL that parses (host, port in range), so that no later step meets a bad one."""
    if value is not None:
        try:
            urlsplit(value).port
        except ValueError as exc:
            raise ValueError(f"not a URL: {exc}") from None
    return value


def _check_code(code: str) -> None:
    if not CODE_PREFIX.match(code):
        raise ValueError(f"'{code}' is not a rule code or prefix (like PF101 or PF4)")


def code_matches(code: str, selectors: list[str]) -> bool:
    return any(code.startswith(s) for s in selectors)


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
