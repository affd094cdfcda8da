"""PF403: SQL text formatted from data."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._dynamic_strings import DynamicStringRule, first_argument
from pitfalls.rules.api import Invalid, RuleContext, Valid

_TEXT_FUNCTIONS = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text", "sqlmodel.text"}
)
_TEXT_KEYWORDS = frozenset({"text"})
# DB-API cursors, SQLAlchemy sessions/connections, asyncpg, databases.
_EXECUTE_METHODS = frozenset({"execute", "executemany", "exec_driver_sql"})
_EXECUTE_KEYWORDS = frozenset({"statement", "query", "sql", "operation"})
# Where SQL takes a whole statement: a subquery (`FROM (`, `JOIN (`, `EXISTS (`, `AS (`), or
# after `UNION [ALL]`; and the start of the statement.
_STATEMENT_SLOT = re.compile(r"(?:\b(?:from|join|exists|as|union(?:\s+all)?)\s*\(|\bunion(?:\s+all)?)\s*$", re.I)

# Calls that inspect a value without vetting it.
_NOT_A_CHECK = frozenset({"len", "isinstance", "bool", "type", "str", "hasattr", "callable", "print", "id"})


class Checks:
    """The names a function checked before using them, fed by the rule's ``If``, ``Else``,
    ``Assert`` and ``For`` handlers: the test compares them against something
    (``in``/``not in``, ``==``/``!=`` a non-empty string), passes them to a call
    (``re.fullmatch(..., name)``, ``valid(name)``, ``name.isidentifier()``), or tests a
    name assigned from a call they were passed to (``row = fetch(..., name)``, ``if not
    row: raise``). An ``if`` whose body leaves (``raise``, ``return``, ``continue``,
    ``break``) vets them for the rest of the function, any ``if`` inside its own block (not
    its ``else``), an ``assert`` from there on; a check of a loop variable that raises or returns vets what
    the loop iterates over. Truthiness (``if name:``), ``is None``, ``len(name)`` and
    ``name.strip()`` are not checks."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._vetted: dict[cst.CSTNode | None, set[str]] = {}
        self._open: list[tuple[cst.If, set[str]]] = []
        self._loops: list[tuple[cst.For, str, str]] = []  # (loop, variable, iterated name)

    def is_checked(self, name: str) -> bool:
        return name in self._vetted.get(self.ctx.function, ()) or any(name in found for _, found in self._open)

    def enter_if(self, node: cst.If) -> None:
        self.enter_else(node)  # an `elif`
        found = self._tested(node.test)
        self._open.append((node, found))
        leaves = _leaves(node.body)
        if found and leaves:
            self._vet(found, whole_loop=leaves in (cst.Raise, cst.Return))

    def enter_else(self, node: cst.If | cst.Else) -> None:
        """The other branch of the innermost open ``if``: its test vets nothing there."""
        if self._open and self._open[-1][0].orelse is node:
            self._open[-1] = (self._open[-1][0], set())

    def leave_if(self, node: cst.If) -> None:
        if self._open and self._open[-1][0] is node:
            self._open.pop()

    def enter_assert(self, node: cst.Assert) -> None:
        self._vet(self._tested(node.test), whole_loop=True)

    def enter_for(self, node: cst.For) -> None:
        if type(node.target) is cst.Name and type(node.iter) is cst.Name:
            self._loops.append((node, node.target.value, node.iter.value))

    def leave_for(self, node: cst.For) -> None:
        if self._loops and self._loops[-1][0] is node:
            self._loops.pop()

    def _vet(self, found: set[str], *, whole_loop: bool) -> None:
        """``whole_loop``: the check stops the function, so a loop variable vetted so
        vets every item of what the loop iterates over."""
        vetted = self._vetted.setdefault(self.ctx.function, set())
        vetted |= found
        if whole_loop:
            vetted.update(iterated for _, variable, iterated in self._loops if variable in found)

    def _tested(self, test: cst.BaseExpression) -> set[str]:
        found: set[str] = set()
        stack = [test]
        while stack:
            expr = stack.pop()
            if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Not):
                stack.append(expr.expression)
            elif isinstance(expr, cst.BooleanOperation):
                stack.extend([expr.left, expr.right])
            elif isinstance(expr, cst.Comparison):
                found |= _compared(expr)
            elif isinstance(expr, (cst.Call, cst.Await)):
                found |= _passed(expr)
            elif isinstance(expr, cst.Name):
                value = self.ctx.value_of(expr.value)
                if isinstance(value, (cst.Call, cst.Await)):
                    found |= _passed(value)
        return found


def _leaves(body: cst.BaseSuite) -> type[cst.BaseSmallStatement] | None:
    """The statement a block ends leaving by (``raise``, ``return``, ``continue``, ``break``)."""
    last = body.body[-1] if body.body else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    return type(last) if isinstance(last, (cst.Raise, cst.Return, cst.Continue, cst.Break)) else None


def _root_name(expr: cst.BaseExpression) -> str | None:
    """``name`` for ``name`` and ``name.method(...)``."""
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr.value if isinstance(expr, cst.Name) else None


def _compared(expr: cst.Comparison) -> set[str]:
    found: set[str] = set()
    left = expr.left
    for target in expr.comparisons:
        right = target.comparator
        if isinstance(target.operator, (cst.In, cst.NotIn)):
            operands = [right] if names.string_value(left) else [left]  # `"'" in name`
        elif isinstance(target.operator, (cst.Equal, cst.NotEqual)):
            operands = [side for side, other in ((left, right), (right, left)) if names.string_value(other)]
        else:
            operands = []
        found.update(n for n in map(_root_name, operands) if n is not None)
        left = right
    return found


def _passed(expr: cst.BaseExpression) -> set[str]:
    """Names passed to a call (inside literal collections too) or whose method it is."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if not isinstance(expr, cst.Call) or names.last_name(expr.func) in _NOT_A_CHECK:
        return set()
    found: set[str] = set()
    receiver = _root_name(expr)
    if receiver is not None and (names.last_name(expr.func) or "").startswith("is"):
        found.add(receiver)  # `name.isidentifier()`, not `name.strip()`
    stack: list[cst.BaseExpression] = [arg.value for arg in expr.args]
    while stack:
        value = stack.pop()
        if isinstance(value, cst.Name):
            found.add(value.value)
        elif isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            stack.extend(e.value for e in value.elements)
        elif isinstance(value, cst.Dict):
            stack.extend(e.value for e in value.elements if isinstance(e, cst.DictElement))
    return found


class SqlBuiltFromData(DynamicStringRule):
    """
    ## What it does
    Reports SQL built from data passed to SQLAlchemy's `text()` (`sqlalchemy.text`,
    `sa.text`, `sqlalchemy.sql.text`, `sqlmodel.text`) or as the statement of any
    `.execute()`, `.executemany()` or `.exec_driver_sql()` (sessions, connections, DB-API
    cursors): an f-string, `.format(...)`, `%` formatting or `+` concatenation (or a name
    last assigned one of these, or extended with `+=` by one since) into which a value
    known to carry data is pasted. The rule follows each interpolated value to where it
    comes from, and a value carries data when it is:

    - a parameter of the enclosing function (not `self`/`cls`), unannotated or annotated
      `str` (or a collection of them, joined);
    - a field of a parameter annotated as a pydantic model (`payload.name`, a request
      body), or what a request parameter holds (`request.query_params["sort"]`);
    - one of those through a string method (`name.lower()`), `str()` or `", ".join(...)`.

    Where a value's origin is unknown, the rule stays silent: attributes and methods of
    other objects (`db.timestamp_placeholder("now")`, `db.big_int`, `settings.SCHEMA`,
    `cls._threshold`, `self.schema`), call results (`quote_identifier(name)`,
    `sa.inspect(engine).get_table_names()`), loop variables. Constants are fine too: a
    literal, a name assigned one, `int(...)`, a model's `__tablename__`, a value formatted
    as a number (`%d`, `{n:d}`), a parameter annotated as a number (`int`, `UUID`,
    `datetime`...) or `Literal[...]`, a join of a literal collection, of a dict literal's
    keys or of a comprehension over them. So are literal SQL with bind parameters, and
    SQLAlchemy constructs (`execute(select(Partner).where(...))`).

    A parameter is left alone once the function checked it (`if order not in
    ("name", "created_at"): raise ...`, `if not VALID_NAME.fullmatch(table): raise ...`,
    or the `if not row: raise ...` of a lookup it was passed to), where it stands for a
    whole statement (`f"{query} LIMIT 10"`, `f"SELECT count(*) FROM ({query}) AS t"`: SQL
    the caller wrote), and in a command-line script (a module that parses its arguments
    or runs under `if __name__ == "__main__":`), whose values come from the person
    running it. `db.execute(text(f"..."))` is reported once, at `text()`.

    ## Why is this bad?
    The database parses the statement after the values are pasted in, so a value with a
    quote, `;` or `--` changes the query instead of being compared against: SQL
    injection. An ordinary name such as `O'Brien` already breaks the statement:

    ```
    sqlalchemy.exc.ProgrammingError: (psycopg2.errors.SyntaxError) unterminated quoted string at or near "'"
    ```

    The guide's `check_extension_tables` probes tables with
    `await db.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))` over its own list of
    names, which is fine; copied into a function that takes the table name from its
    caller, it runs whatever a request sends. Bound values are also sent with the right
    type and let the database reuse the statement's plan.

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
    exact_on_ast_tree = True

    VALID = [
        # Class attributes holding constants (a table name, a template with placeholders).
        Valid("""
            from sqlalchemy import text

            class PartnerRepository:
                TABLE = "partners"
                BY_ID = "SELECT * FROM {} WHERE id = :id"

                async def get(self, db, partner_id: int):
                    sql = self.BY_ID.format(self.TABLE)
                    return await db.execute(text(sql), {"id": partner_id})

                async def count(self, db):
                    return await db.execute(text(f"SELECT count(*) FROM {PartnerRepository.TABLE}"))
        """),
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
        # The guide's check_extension_tables: names looped over from its own list.
        Valid("""
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
        """),
        # Placeholders holding constants.
        Valid("""
            import sqlalchemy as sa
            from typing import Literal
            from app.models import Partner

            SCHEMA = "public"

            async def reset(conn, limit, page_size: int, order: Literal["name", "created_at"]):
                await conn.execute(sa.text(f"SET search_path TO {SCHEMA}"))
                await conn.execute(sa.text(f"TRUNCATE {Partner.__tablename__} CASCADE"))
                await conn.execute(sa.text(f"SELECT id FROM partners LIMIT {int(limit)}"))
                await conn.execute(sa.text(f"SELECT id FROM partners ORDER BY {order} LIMIT {page_size}"))
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
        # Dialect fragments from the database helper (lnbits' migrations and crud).
        Valid("""
            from app.db import Connection, db

            async def touch_wallet(wallet_id: str, conn: Connection | None = None):
                await (conn or db).execute(
                    f"UPDATE wallets SET updated_at = {db.timestamp_placeholder('now')} WHERE id = :id",
                    {"id": wallet_id},
                )

            async def m037_create_assets_table(db: Connection):
                await db.execute(
                    f"CREATE TABLE IF NOT EXISTS assets (id TEXT PRIMARY KEY, size {db.big_int}, "
                    f"created_at TIMESTAMP DEFAULT {db.timestamp_column_default})"
                )
        """),
        # Names reflected from the database or the models, and quoted identifiers.
        Valid("""
            import sqlalchemy as sa
            from app.models import Partner
            from app.search import quote_identifier

            def truncate_all(engine, schema: str):
                with engine.begin() as conn:
                    for table in sa.inspect(engine).get_table_names():
                        conn.execute(sa.text(f'TRUNCATE "{table}" CASCADE'))
                    conn.execute(sa.text(f"DELETE FROM {Partner.__table__.name}"))
                    conn.execute(sa.text(f"SET search_path TO {quote_identifier(schema)}"))

            def column_vector(self, column):
                if column.name in RESERVED_WORDS:
                    column.name = quote_identifier(column.name)
                return sa.text("NEW.{column}".format(column=column.name))
        """),
        # Column names from a constant list or a dict literal's keys, the values bound.
        Valid("""
            from sqlalchemy import text

            INDEXED = ("wallet_id", "status", "created_at")

            async def m010_indexes(db):
                for column in INDEXED:
                    await db.execute(f"CREATE INDEX IF NOT EXISTS idx_payments_{column} ON apipayments ({column})")

            def create_household(session, group_id: str, name: str):
                data = {"id": new_id(), "name": name, "group_id": group_id}
                columns = ", ".join(data.keys())
                placeholders = ", ".join(f":{key}" for key in data.keys())
                session.execute(text(f"INSERT INTO households ({columns}) VALUES ({placeholders})"), data)
        """),
        # Class attributes and settings: constants of the code, not data.
        Valid("""
            from sqlalchemy import text
            from app.core.conf import settings

            class RecipeSearch:
                _similarity_threshold = 0.5

                @classmethod
                def search(cls, session, query: str):
                    session.execute(text(f"SET pg_trgm.word_similarity_threshold = {cls._similarity_threshold};"))
                    return session.execute(text("SELECT * FROM recipes WHERE name % :q"), {"q": query})

            async def create_database(conn):
                await conn.execute(text(f"CREATE DATABASE {settings.DATABASE_SCHEMA}"))
        """),
        # Parameters the function checked first.
        Valid("""
            import re
            from sqlalchemy import text

            VALID_NAME = re.compile(r"[a-z_][a-z0-9_]*")

            async def drop_extension_db(db, ext_id: str):
                row = await db.fetchone("SELECT * FROM dbversions WHERE db = :id", {"id": ext_id})
                if not row:
                    raise ValueError(f"Extension '{ext_id}' cannot be found")
                await db.execute(f"DROP SCHEMA IF EXISTS {ext_id} CASCADE")

            def partners(session, order: str, table: str, group_by: list[str]):
                if order not in ("name", "created_at"):
                    raise ValueError(order)
                assert VALID_NAME.fullmatch(table)
                for field in group_by:
                    if not VALID_NAME.fullmatch(field):
                        raise ValueError(field)
                return session.execute(text(f"SELECT * FROM {table} GROUP BY {', '.join(group_by)} ORDER BY {order}"))
        """),
        # A statement handed in: the caller wrote that SQL.
        Valid('''
            class Connection:
                async def fetch_page(self, query: str, values: dict):
                    rows = await self.execute(f"{query} LIMIT 10", values)
                    count_query = f"""SELECT COUNT(*) as count
                        FROM (
                            {query}
                        ) as count"""
                    total = await self.execute(count_query, values)
                    return rows, total
        '''),
        # A command-line script: its values come from the person running it.
        Valid("""
            import argparse

            def table_unique_columns(cursor, schema, table_name):
                cursor.execute(f"SELECT indexrelid FROM pg_index WHERE indrelid = '{schema}.{table_name}'::regclass")
                return cursor.fetchall()

            args = argparse.ArgumentParser().parse_args()
        """),
    ]
    INVALID = [
        # A template held in a class attribute, formatted with a parameter.
        Invalid("""
            from sqlalchemy import text

            class PartnerRepository:
                SEARCH = "SELECT * FROM partners WHERE name LIKE '%{}%'"

                async def search(self, db, term: str):
                    return await db.execute(text(self.SEARCH.format(term)))
        """, line=7),
        # `text` imported under another name.
        Invalid("""
            from sqlalchemy import text as sql_text

            def find(session, name: str):
                return session.execute(sql_text(f"SELECT id FROM partners WHERE name = '{name}'"))
        """, line=4),
        # The guide's probe, with the table name from the caller: reported once, at text().
        Invalid("""
            from sqlalchemy import text

            async def table_exists(db, table: str) -> bool:
                try:
                    await db.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))
                    return True
                except Exception:
                    return False
        """, line=5, count=1, message="text()"),
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
        # Extended with `+=` after a literal start; `if city:` checks nothing.
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
        # A request body's field (through a string method), a query parameter, a join.
        Invalid("""
            from pydantic import BaseModel
            from sqlalchemy import text

            class PartnerFilter(BaseModel):
                name: str
                limit: int = 10

            async def filter_partners(db, payload: PartnerFilter):
                sql = f"SELECT * FROM partners WHERE name = '{payload.name.lower()}' LIMIT {payload.limit}"
                return await db.execute(text(sql))
        """, line=10, count=1),
        Invalid("""
            from fastapi import Request
            from sqlalchemy import text

            async def sorted_partners(db, request: Request):
                return await db.execute(text(f"SELECT * FROM partners ORDER BY {request.query_params.get('sort')}"))
        """, line=5, count=1),
        Invalid("""
            def export(cursor, columns: list[str]):
                cursor.execute(f"SELECT {', '.join(columns)} FROM partners")
        """, line=2, count=1),
    ]

    STRICT = True

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.checks = Checks(ctx)

    def vetted(self, name: str) -> bool:
        return self.checks.is_checked(name) or self.ctx.is_script

    @staticmethod
    def code_slot(before: str, start: bool) -> bool:
        """A statement handed in (``f"{query} LIMIT 10"``, ``f"... FROM ({query}) AS t"``) is
        SQL the caller wrote, not data."""
        return (start and not before.strip()) or _STATEMENT_SLOT.search(before) is not None

    # Checks that vet a parameter before it reaches the SQL (`if name not in ALLOWED: raise`).
    def visit_If(self, node: cst.If) -> None:
        self.checks.enter_if(node)

    def visit_Else(self, node: cst.Else) -> None:
        self.checks.enter_else(node)

    def leave_If(self, node: cst.If) -> None:
        self.checks.leave_if(node)

    def visit_Assert(self, node: cst.Assert) -> None:
        self.checks.enter_assert(node)

    def visit_For(self, node: cst.For) -> None:
        self.checks.enter_for(node)

    def leave_For(self, node: cst.For) -> None:
        self.checks.leave_for(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = names.last_name(func)
        if name is None:
            return
        if name == "text" or type(func) is cst.Name:  # a plain name may be an alias: `text as sql`
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
