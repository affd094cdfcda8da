"""PF403: SQL text formatted from data."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._dynamic_strings import DynamicStringRule, first_argument
from pitfalls.rules.api import Invalid, Valid

_TEXT_FUNCTIONS = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"}
)
_TEXT_KEYWORDS = frozenset({"text"})
# DB-API cursors, SQLAlchemy sessions/connections, asyncpg, databases.
_EXECUTE_METHODS = frozenset({"execute", "executemany", "exec_driver_sql"})
_EXECUTE_KEYWORDS = frozenset({"statement", "query", "sql", "operation"})


class SqlBuiltFromData(DynamicStringRule):
    """
    ## What it does
    Reports SQL built from data: an f-string with placeholders, `.format(...)`, `%`
    formatting, `+` concatenation, or a name last assigned one of these (or extended with
    `+=` by one since), passed to SQLAlchemy's `text()` (`sqlalchemy.text`, `sa.text`,
    `sqlalchemy.sql.text`, `sqlmodel.text`) or as the statement of any `.execute()`,
    `.executemany()` or `.exec_driver_sql()` (sessions, connections, DB-API cursors).

    Literal SQL with bind parameters (`text("... WHERE id = :id")`,
    `cursor.execute("... WHERE id = %s", (partner_id,))`), SQLAlchemy constructs
    (`execute(select(Partner).where(...))`), f-strings without placeholders, and
    placeholders holding constants (a literal, a name assigned one, `int(...)`, a model's
    `__tablename__`, a value formatted as a number: `%d`, `{n:d}`) are fine.
    `db.execute(text(f"..."))` is reported once, at `text()`.

    ## Why is this bad?
    The database parses the statement after the values are pasted in, so a value with a
    quote, `;` or `--` changes the query instead of being compared against: SQL
    injection. An ordinary name such as `O'Brien` already breaks the statement:

    ```
    sqlalchemy.exc.ProgrammingError: (psycopg2.errors.SyntaxError) unterminated quoted string at or near "'"
    ```

    The guide's `check_extension_tables` probes tables with
    `await db.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))`; copied into code that takes
    the table name from a request, it runs whatever the caller sends. Bound values are
    also sent with the right type and let the database reuse the statement's plan.

    ## Example
    ```python
    from sqlalchemy import text


    async def find_partners(db, name: str):
        result = await db.execute(text(f"SELECT * FROM partners WHERE name = '{name}'"))
        return result.fetchall()
    ```

    ## Use instead
    ```python
    from sqlalchemy import text


    async def find_partners(db, name: str):
        result = await db.execute(
            text("SELECT * FROM partners WHERE name = :name"), {"name": name}
        )
        return result.fetchall()
    ```
    Table and column names cannot be bound: check them against the names you expect, or
    ask `sqlalchemy.inspect(connection).has_table(name)` instead of probing with SQL.

    ## Fix safety
    There is no automatic fix: choosing parameter names and moving the values into the
    call's parameters needs a human.
    """

    code = "PF403"
    name = "sql-built-from-data"
    summary = "SQL built from data"

    VALID = [
        Valid("""
            from sqlalchemy import text

            async def get_partner(db, partner_id: int):
                result = await db.execute(text("SELECT * FROM partners WHERE id = :id"), {"id": partner_id})
                return result.first()
        """),
        Valid("""
            def get_partner(cursor, partner_id, rows):
                cursor.execute("SELECT * FROM partners WHERE id = %s", (partner_id,))
                cursor.executemany("INSERT INTO tags (partner_id, name) VALUES (%s, %s)", rows)
                return cursor.fetchone()
        """),
        Valid("""
            from sqlalchemy import select
            from app.models import Partner

            async def active_partners(db, company_id: int):
                stmt = select(Partner).where(Partner.company_id == company_id, Partner.is_active)
                first = await db.execute(select(Partner).where(Partner.id == company_id))
                return (await db.execute(stmt)).scalars().all()
        """),
        # The guide's own checks: literal SQL, with or without the f prefix.
        Valid('''
            from sqlalchemy import text

            async def diagnose(db):
                await db.execute(text("SELECT 1"))
                await db.execute(text(f"SELECT COUNT(*) FROM audit_logs"))
                result = await db.execute(text("""
                    EXPLAIN ANALYZE
                    SELECT * FROM partners
                    WHERE company_id = 1
                """))
                return result.fetchall()
        '''),
        # Placeholders holding constants.
        Valid("""
            import sqlalchemy as sa
            from app.models import Partner

            SCHEMA = "public"

            async def reset(conn, limit):
                await conn.execute(sa.text(f"SET search_path TO {SCHEMA}"))
                await conn.execute(sa.text(f"TRUNCATE {Partner.__tablename__} CASCADE"))
                await conn.execute(sa.text(f"SELECT id FROM partners LIMIT {int(limit)}"))
        """),
        # Names assigned literal SQL.
        Valid("""
            from sqlalchemy.sql import text

            PARTNER_BY_EMAIL = "SELECT * FROM partners WHERE email = :email"

            def by_email(session, cursor, email):
                sql = "DELETE FROM sessions WHERE email = %(email)s"
                cursor.execute(sql, {"email": email})
                return session.execute(text(PARTNER_BY_EMAIL), {"email": email}).first()
        """),
        # Appending literal SQL; values formatted as numbers.
        Valid("""
            from sqlalchemy import text

            def search(session, active_only, limit, offset):
                sql = "SELECT * FROM partners WHERE company_id = :cid"
                if active_only:
                    sql += " AND is_active"
                sql += " LIMIT %d OFFSET %d" % (limit, offset)
                sql = sql + f" -- page {offset // limit:d}"
                return session.execute(text(sql), {"cid": 1})
        """),
        # Other functions called `text`.
        Valid("""
            import streamlit as st
            from app.i18n import text

            def greet(name):
                st.text(f"Partners of {name}")
                return text(f"Hello {name}")
        """),
        # f-strings that are not the statement.
        Valid("""
            import logging
            from sqlalchemy import text

            logger = logging.getLogger(__name__)

            async def count(db, table):
                logger.info(f"counting {table}")
                result = await db.execute(text("SELECT count(*) FROM partners WHERE kind = :kind"), {"kind": f"{table}"})
                await redis_pipeline.execute()
                return result.scalar()
        """),
    ]
    INVALID = [
        # The guide's check_extension_tables: reported once, at text().
        Invalid("""
            async def check_extension_tables():
                from app.core.database import get_db_session
                from sqlalchemy import text

                tables_to_check = [
                    'business_object_extensions',
                    'business_object_validators',
                    'business_object_field_definitions'
                ]

                async with get_db_session() as db:
                    for table in tables_to_check:
                        try:
                            result = await db.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))
                            print(f"Table {table} exists")
                        except Exception as e:
                            print(f"Table {table} missing: {e}")
        """, line=14, count=1, message="text()"),
        # A name assigned from an f-string.
        Invalid("""
            def find(cursor, name):
                query = f"SELECT * FROM partners WHERE name = '{name}'"
                cursor.execute(query)
                return cursor.fetchall()
        """, line=3, count=1),
        Invalid("""
            import sqlalchemy as sa

            def by_status(session, status):
                return session.execute(sa.text("SELECT * FROM partners WHERE status = '{}'".format(status)))
        """, line=4, count=1),
        Invalid("""
            def get(cursor, partner_id):
                cursor.execute("SELECT * FROM partners WHERE id = '%s'" % partner_id)
        """, line=2),
        Invalid("""
            def purge(conn, table):
                conn.exec_driver_sql("DELETE FROM " + table)
        """, line=2),
        Invalid("""
            from sqlalchemy.sql import text

            def search(session, where):
                sql = "SELECT * FROM partners WHERE " + where
                return session.execute(text(sql))
        """, line=5, count=1),
        # Extended with `+=` after a literal start.
        Invalid("""
            def search(cursor, name, city):
                sql = "SELECT * FROM partners WHERE 1 = 1"
                if name:
                    sql += " AND name = %s"
                if city:
                    sql += f" AND city = '{city}'"
                cursor.execute(sql, (name,))
        """, line=7, count=1),
        Invalid("""
            async def copy(conn, table, rows):
                await conn.executemany(f"INSERT INTO {table} (id, name) VALUES ($1, $2)", rows)
        """, line=2),
        Invalid("""
            from sqlmodel import text

            async def by_company(db, company_id, order):
                result = await db.execute(
                    text(f"SELECT * FROM partners WHERE company_id = :cid ORDER BY {order}"),
                    {"cid": company_id},
                )
                return result.all()
        """, line=5, count=1),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = names.last_name(func)
        if name is None:
            return
        if name == "text":
            if self.ctx.qualified_name(func) not in _TEXT_FUNCTIONS:
                return
            keywords, callee = _TEXT_KEYWORDS, "text()"
        elif name in _EXECUTE_METHODS and isinstance(func, cst.Attribute):
            keywords, callee = _EXECUTE_KEYWORDS, f".{name}()"
        else:
            return
        statement = first_argument(node, keywords)
        if statement is not None and self.strings.is_built_from_data(statement):
            self.ctx.report(
                node,
                f"SQL built from data passed to `{callee}`; write literal SQL with bind "
                "parameters and pass the values separately",
            )
