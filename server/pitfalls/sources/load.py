"""The live and snapshot schemas a check runs against, resolved once per run.

Each configuration names its own sources (a service's snapshot, its database); a file is
checked against its configuration's. Sources are optional; without one the rules that need
it stay silent. The CLI and the language server resolve them here, once, outside the
per-file work: an edit never waits on the network, and the workers receive plain data. A
source that cannot be used becomes one warning and no schema, so the static rules still run.

Precedence: a live Directus (``directus.url``) over its snapshot, which is the fallback when
the server cannot be read; the database URL from the command line, then
``PITFALLS_DATABASE_URL``, then ``[tool.pitfalls.database] url``. ``pitfalls doctor``'s
Redis: ``--redis-url``, then ``REDIS_URL``, then ``[tool.pitfalls.redis] url``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pitfalls.core.schema import DirectusSchema, Schemas
from pitfalls.project.config import ProjectConfig
from pitfalls.sources.database import reflect_database, sqlite_url_relative_to
from pitfalls.sources import trust
from pitfalls.sources.errors import SchemaSourceError
from pitfalls.sources.trust import may_contact

DATABASE_URL_ENV = "PITFALLS_DATABASE_URL"
REDIS_URL_ENV = "REDIS_URL"  # the application's own variable, as in the guide


@dataclass
class LoadedSchemas:
    schemas: Schemas
    warnings: list[str] = field(default_factory=list)


def snapshot_path(config: ProjectConfig) -> str | None:
    snapshot = config.settings.directus.snapshot
    return os.path.join(config.root, snapshot) if snapshot else None


def database_url(config: ProjectConfig, env: Mapping[str, str] | None = None, command_line: str | None = None) -> str | None:
    """The PF6xx database: ``--database-url``, then ``PITFALLS_DATABASE_URL`` (both as given:
    a relative SQLite path is relative to where pitfalls runs), then the configured
    ``[tool.pitfalls.database] url``, whose relative SQLite path is relative to the project root."""
    env = os.environ if env is None else env
    given = command_line or env.get(DATABASE_URL_ENV)
    if given:
        return given
    configured = config.settings.database.url
    return sqlite_url_relative_to(configured, config.root) if configured else None


def load_schemas(
    config: ProjectConfig,
    *,
    live: bool = True,
    env: Mapping[str, str] | None = None,
    database: str | None = None,
) -> LoadedSchemas:
    """Resolve every configured source; ``live=False`` reads files only (no network).
    ``database`` is the command line's database URL, over the environment and the config."""
    warnings: list[str] = []
    directus = _directus(config, live, env, warnings)
    schema = None
    url = database_url(config, env, database)
    refused = refused_database(config, url, env, database) if url and live else None
    if refused:
        warnings.append(f"{refused}; PF6xx rules are off")
        url = None
    if url and live:
        try:
            schema = reflect_database(url, timeout=config.settings.database.timeout)
        except SchemaSourceError as exc:
            warnings.append(f"{exc}; PF6xx rules are off")
    return LoadedSchemas(Schemas(directus, schema), warnings)


@dataclass
class ConfigSchemas:
    """The schemas of several configurations, loaded (off the engine thread, in the editor)
    before they are given to them."""

    by_config: dict[ProjectConfig, LoadedSchemas]

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys(w for each in self.by_config.values() for w in each.warnings))

    def changed(self) -> bool:
        """Whether a configuration would get other schemas than it has."""
        return any(
            config.schemas is None or config.schemas.fingerprint() != each.schemas.fingerprint()
            for config, each in self.by_config.items()
        )

    def attach(self) -> None:
        for config, each in self.by_config.items():
            config.schemas = each.schemas


def load_each(
    configs: Iterable[ProjectConfig],
    *,
    live: bool = True,
    env: Mapping[str, str] | None = None,
    database: str | None = None,
) -> ConfigSchemas:
    """:func:`load_schemas` for each configuration; those naming the same sources share one
    load (one fetch per Directus, one reflection per database)."""
    by_sources: dict[tuple, LoadedSchemas] = {}
    loaded = {}
    for config in configs:
        directus, db = config.settings.directus, config.settings.database
        key = (snapshot_path(config), directus.url, directus.timeout, database_url(config, env, database), db.timeout)
        if key not in by_sources:
            by_sources[key] = load_schemas(config, live=live, env=env, database=database)
        loaded[config] = by_sources[key]
    return ConfigSchemas(loaded)


def has_sources(config: ProjectConfig) -> bool:
    """Whether the configuration names a schema source (for the editor to keep fresh)."""
    directus = config.settings.directus
    return bool(directus.url or directus.snapshot or database_url(config))


def refused_directus(config: ProjectConfig) -> str | None:
    """Why the configured Directus may not get the user's credentials (a URL the
    repository names that the user has not approved), or None."""
    url = config.settings.directus.url
    if not url or may_contact(url, url in config.repository_urls):
        return None
    return trust.refusal(url, "Directus", config.source or config.root)


def refused_database(
    config: ProjectConfig, url: str, env: Mapping[str, str] | None = None, command_line: str | None = None
) -> str | None:
    """The same for the database URL in use (``--database-url`` and the environment are
    the user's own)."""
    env = os.environ if env is None else env
    from_files = not (command_line or env.get(DATABASE_URL_ENV)) and config.settings.database.url in config.repository_urls
    if may_contact(url, from_files):
        return None
    return trust.refusal(url, "database", config.source or config.root)


def redis_url(config: ProjectConfig, env: Mapping[str, str] | None = None, command_line: str | None = None) -> str | None:
    """Where ``pitfalls doctor`` looks for Redis: ``--redis-url``, ``REDIS_URL``, then the configuration."""
    env = os.environ if env is None else env
    return command_line or env.get(REDIS_URL_ENV) or config.settings.redis.url


def refused_redis(
    config: ProjectConfig, url: str, env: Mapping[str, str] | None = None, command_line: str | None = None
) -> str | None:
    """The same for Redis: a URL from the configuration (in the repository) needs approval."""
    env = os.environ if env is None else env
    from_files = not (command_line or env.get(REDIS_URL_ENV)) and config.settings.redis.url in config.repository_urls
    if may_contact(url, from_files):
        return None
    return trust.refusal(url, "Redis", config.source or config.root)


def _directus(config: ProjectConfig, live: bool, env: Mapping[str, str] | None, warnings: list[str]) -> DirectusSchema | None:
    settings = config.settings.directus
    snapshot = snapshot_path(config)
    if not (settings.url or snapshot):
        return None
    # Here, not at the top: its response models cost every run (a warm one included) a few
    # milliseconds to build, and most projects name no Directus.
    from pitfalls.sources.directus import Credentials, fetch_permissions, fetch_schema, read_snapshot

    permissions = None
    refused = refused_directus(config) if settings.url and live else None
    if refused:
        fallback = f"; using the snapshot {snapshot} instead" if snapshot else "; PF5xx rules are off"
        warnings.append(f"{refused}{fallback}")
        live = False
    if settings.url and live:
        credentials = Credentials.from_env(env)
        try:
            return fetch_schema(settings.url, credentials, timeout=settings.timeout)
        except SchemaSourceError as exc:
            fallback = f"; using the snapshot {snapshot} instead" if snapshot else "; PF5xx rules are off"
            warnings.append(f"{exc}{fallback}")
        if snapshot:
            # A token that may not read the schema can still say what it may do (PF506).
            permissions = fetch_permissions(settings.url, credentials, timeout=settings.timeout)
    if snapshot:
        try:
            schema = read_snapshot(snapshot)
        except SchemaSourceError as exc:
            warnings.append(f"{exc}; PF5xx rules are off")
            return None
        except RecursionError:  # the JSON/YAML parsers recurse once per nesting level
            warnings.append(f"{snapshot}: Directus snapshot is nested too deeply; PF5xx rules are off")
            return None
        if permissions is not None:
            schema = dataclasses.replace(schema, permissions=permissions, source=f"{schema.source} with {settings.url}'s permissions")
        return schema
    return None
