"""The SQL database the PF6xx rules check against, reflected read-only with SQLAlchemy.

Any database SQLAlchemy reaches works (PostgreSQL through psycopg, SQLite built in). The
inspector only reads the catalog, over one connection whose transaction is rolled back; on
PostgreSQL the session is also read-only (``default_transaction_read_only``), and SQLite
files are opened with ``mode=ro``, so a file that does not exist is refused, never created.
Reflection is synchronous: an application's async URL (``postgresql+asyncpg://``,
``sqlite+aiosqlite://``) is read through the synchronous driver of the same database.
Failures become one :class:`~pitfalls.directus.SchemaSourceError` line that never shows the
URL's password.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from pitfalls.core.schema import Column, DatabaseSchema
from pitfalls.sources.errors import SchemaSourceError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Dialect, Engine
    from sqlalchemy.types import TypeEngine

# PostgreSQL drivers SQLAlchemy can reflect through, in order of preference (module names).
_POSTGRES_DRIVERS = ("psycopg", "psycopg2")
_POSTGRES_HINT = " (pip install 'pitfalls[postgres]')"


def safe_url(url: str) -> str:
    """The URL with its password masked (in the userinfo and a ``password=`` parameter), for messages."""
    parsed = _parse(url)
    if parsed is None:
        return "<unparsable URL>"
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def _parse(url: str) -> URL | None:
    """The parsed URL; None when unparsable, or when an unencoded ``@`` in the password
    split it so that part of the password would show as the host or database name."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return None
    if parsed.password is not None and "@" in f"{parsed.host or ''}{parsed.database or ''}":
        return None
    return parsed


def sqlite_url_relative_to(url: str, root: str | os.PathLike[str]) -> str:
    """``url`` with a relative SQLite file path joined to ``root``; any other URL unchanged."""
    parsed = _parse(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if database in ("", ":memory:") or os.path.isabs(database):
        return url
    return parsed.set(database=os.path.join(root, database)).render_as_string(hide_password=False)


def _passwords(url: str) -> list[str]:
    """Every spelling of the URL's password, to scrub from driver messages."""
    found: list[str] = []
    parsed = _parse(url)
    if parsed is not None:
        found += [p for p in (parsed.password, parsed.query.get("password")) if isinstance(p, str)]
    raw = re.match(r"^[^:/]+://[^:/@]*:(.*)@", url)  # as typed, before any unquoting
    if raw:
        found.append(raw.group(1))
    return sorted({p for p in found if p}, key=len, reverse=True)


def _redact(message: str, url: str) -> str:
    for password in _passwords(url):
        message = message.replace(password, "***")
    return message


def connect(url: str, *, timeout: float) -> Engine:
    """A SQLAlchemy engine that reads only; raises SchemaSourceError for a bad URL or driver."""
    where = f"database {safe_url(url)}"
    parsed = _parse(url)
    if parsed is None:
        raise SchemaSourceError(
            f"{where}: not a database URL (like postgresql+psycopg://user@host/db or sqlite:///app.db; "
            "write an @ in a password as %40)"
        )
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, where, timeout)
        if backend in ("postgresql", "postgres"):
            return _postgres_engine(parsed, where, timeout)
        return _engine(parsed, where, {})
    except SchemaSourceError as exc:
        raise SchemaSourceError(_redact(str(exc), url)) from None


def _engine(parsed: URL, where: str, connect_args: dict[str, object], hint: str = "") -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import NoSuchModuleError
    from sqlalchemy.pool import NullPool

    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise SchemaSourceError(f"{where}: SQLAlchemy has no dialect or driver named '{parsed.drivername}'") from None
    if dialect.is_async:
        raise SchemaSourceError(f"{where}: '{parsed.drivername}' is an async driver; name a synchronous one of the same database")
    try:
        return create_engine(parsed, connect_args=connect_args, poolclass=NullPool)
    except ImportError as exc:
        raise SchemaSourceError(f"{where}: the driver for '{parsed.drivername}' is not installed ({exc}){hint}") from None


def _postgres_engine(parsed: URL, where: str, timeout: float) -> Engine:
    """psycopg (or psycopg2) unless the URL names another synchronous driver."""
    driver = parsed.drivername.partition("+")[2]
    if parsed.get_backend_name() == "postgres" or driver in ("", "asyncpg", "psycopg_async", "aiopg"):
        installed = next((name for name in _POSTGRES_DRIVERS if importlib.util.find_spec(name)), None)
        if installed is None:
            raise SchemaSourceError(f"{where}: no PostgreSQL driver is installed (psycopg or psycopg2){_POSTGRES_HINT}")
        parsed = parsed.set(drivername=f"postgresql+{installed}")
    connect_args = {
        "connect_timeout": max(1, round(timeout)),
        "options": f"-c default_transaction_read_only=on -c statement_timeout={round(timeout * 1000)}",
    }
    hint = _POSTGRES_HINT if parsed.drivername == "postgresql+psycopg" else ""
    return _engine(parsed, where, connect_args, hint)


def _sqlite_engine(parsed: URL, where: str, timeout: float) -> Engine:
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    database = parsed.database or ""
    if database in ("", ":memory:"):
        raise SchemaSourceError(f"{where}: names no SQLite file (an in-memory database has no tables)")
    if not os.path.isfile(database):
        raise SchemaSourceError(f"{where}: no such SQLite file")
    read_only = f"file:{quote(os.path.abspath(database))}?mode=ro"

    def open_read_only() -> sqlite3.Connection:
        return sqlite3.connect(read_only, uri=True, timeout=timeout)

    return create_engine("sqlite://", creator=open_read_only, poolclass=NullPool)


def reflect_database(url: str, *, timeout: float = 10.0) -> DatabaseSchema:
    """Every table and view, with its columns, of the database at ``url``: the default
    schema, and on PostgreSQL every other schema that is not the system's."""
    from sqlalchemy.exc import SQLAlchemyError

    where = f"database {safe_url(url)}"
    engine = connect(url, timeout=timeout)
    try:
        with engine.connect() as connection:
            return _reflect(connection, where)
    except SQLAlchemyError as exc:
        raise SchemaSourceError(_redact(f"{where}: {_cause(exc)}", url)) from None
    finally:
        engine.dispose()


def _reflect(connection: Connection, where: str) -> DatabaseSchema:
    from sqlalchemy import inspect
    from sqlalchemy.engine.reflection import ObjectKind

    inspector = inspect(connection)
    default = inspector.default_schema_name
    others = _other_schemas(inspector.get_schema_names(), default) if connection.dialect.name == "postgresql" else []
    tables: dict[str, dict[str, Column]] = {}
    for schema in [None, *others]:
        columns = inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
        keys = inspector.get_multi_pk_constraint(schema=schema, kind=ObjectKind.ANY)
        for (_, table), found in columns.items():
            primary = (keys.get((schema, table)) or {}).get("constrained_columns") or []
            rowid = _sqlite_rowid_alias(connection, table, primary)
            name = f"{schema}.{table}" if schema else table
            tables[name] = {
                col["name"]: _column(col, connection.dialect, col["name"] in primary, col["name"] == rowid) for col in found
            }
    named = frozenset(filter(None, [default, *others]))
    return DatabaseSchema(tables, default, named, connection.dialect.name != "postgresql", where)


def _other_schemas(names: list[str], default: str | None) -> list[str]:
    return [s for s in names if s != default and s != "information_schema" and not s.startswith("pg_")]


def _column(col: dict, dialect: Dialect, is_key: bool, rowid: bool) -> Column:
    identity = bool(col.get("identity"))
    auto = identity or rowid or col.get("autoincrement") is True
    default = col.get("default") is not None or auto or bool(col.get("computed"))
    return Column(col["name"], _type_name(col["type"], dialect), bool(col["nullable"]), default, is_key, auto)


def _type_name(column_type: TypeEngine, dialect: Dialect) -> str:
    """The type as the database spells it (``mood`` for an enum, ``INTEGER[]``)."""
    from sqlalchemy.exc import CompileError

    try:
        return str(column_type.compile(dialect=dialect))
    except CompileError:  # a reflected type its own dialect cannot render (NullType)
        return type(column_type).__name__


def _sqlite_rowid_alias(connection: Connection, table: str, primary: list[str]) -> str | None:
    """The column that is SQLite's rowid (it numbers itself): the sole primary key column
    declared exactly ``INTEGER`` (SQLAlchemy reports ``INT`` as INTEGER too, which is not)."""
    if connection.dialect.name != "sqlite" or len(primary) != 1:
        return None
    declared = connection.exec_driver_sql(
        "SELECT type FROM pragma_table_info(?) WHERE name = ?", (table, primary[0])
    ).scalar()
    return primary[0] if isinstance(declared, str) and declared.strip().upper() == "INTEGER" else None


def _cause(exc: Exception) -> str:
    """The driver's own first line (psycopg's, sqlite3's), never the URL."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
