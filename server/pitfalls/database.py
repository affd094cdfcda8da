"""The SQL database the PF6xx rules check against, reflected read-only with SQLAlchemy.

Any database SQLAlchemy reaches works (PostgreSQL through psycopg, SQLite built in). The
inspector only reads the catalog; on PostgreSQL the session is also opened read-only, and a
SQLite file that does not exist is refused rather than created. Failures become one
:class:`~pitfalls.directus.SchemaSourceError` line that never shows the URL's password.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

from pitfalls.directus import SchemaSourceError


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    has_default: bool = False  # a server default, a sequence or an identity
    primary_key: bool = False
    autoincrement: bool = False


@dataclass(frozen=True)
class DatabaseSchema:
    """Tables by name (``schema.table`` outside the default schema) and their columns."""

    tables: dict[str, dict[str, Column]]
    source: str = field(default="", compare=False)

    def fingerprint(self) -> str:
        payload = json.dumps(
            {t: sorted([c.name, c.type, c.nullable, c.has_default, c.primary_key, c.autoincrement] for c in cols.values())
             for t, cols in sorted(self.tables.items())},
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def connect(url: str, *, timeout: float):
    """A SQLAlchemy engine that reads only; raises SchemaSourceError for a bad URL or driver."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    where = f"database {safe_url(url)}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise SchemaSourceError(f"{where}: not a database URL (like postgresql+psycopg://user@host/db or sqlite:///app.db)") from None
    connect_args: dict[str, object] = {}
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or not os.path.isfile(database):
            raise SchemaSourceError(f"{where}: no such SQLite file")
        parsed = parsed.set(drivername="sqlite", database=f"file:{os.path.abspath(database)}?mode=ro", query={"uri": "true"})
        connect_args["timeout"] = timeout
    elif backend == "postgresql":
        connect_args["connect_timeout"] = max(1, int(timeout))
        connect_args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
    try:
        return create_engine(parsed, connect_args=connect_args, poolclass=_null_pool())
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " (pip install 'pitfalls[postgres]')" if backend == "postgresql" else ""
        raise SchemaSourceError(f"{where}: no driver for '{parsed.drivername}'{hint}: {exc}") from None


def _null_pool():
    from sqlalchemy.pool import NullPool

    return NullPool


def reflect_database(url: str, *, timeout: float = 10.0) -> DatabaseSchema:
    """Every table and column of the database at ``url`` (the default schema)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    where = f"database {safe_url(url)}"
    engine = connect(url, timeout=timeout)
    try:
        inspector = inspect(engine)
        columns = inspector.get_multi_columns()
        keys = inspector.get_multi_pk_constraint()
    except SQLAlchemyError as exc:
        raise SchemaSourceError(f"{where}: {_cause(exc)}") from None
    finally:
        engine.dispose()
    tables: dict[str, dict[str, Column]] = {}
    for (schema, table), found in columns.items():
        name = f"{schema}.{table}" if schema else table
        primary = set((keys.get((schema, table)) or {}).get("constrained_columns") or [])
        sole_integer_key = len(primary) == 1
        cols: dict[str, Column] = {}
        for col in found:
            type_name = str(col["type"])
            is_key = col["name"] in primary
            identity = bool(col.get("identity"))
            # SQLite's INTEGER PRIMARY KEY is the rowid: it numbers itself.
            rowid = is_key and sole_integer_key and engine.dialect.name == "sqlite" and type_name.upper() == "INTEGER"
            auto = identity or rowid or (is_key and col.get("autoincrement") is True)
            default = col.get("default") is not None or identity or auto or bool(col.get("computed"))
            cols[col["name"]] = Column(col["name"], type_name, bool(col["nullable"]), default, is_key, auto)
        tables[name] = cols
    return DatabaseSchema(tables, where)


def _cause(exc: Exception) -> str:
    """The driver's own first line (psycopg's, sqlite3's), never the URL."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
