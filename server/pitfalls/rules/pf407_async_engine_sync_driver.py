"""PF407: `create_async_engine()` given a URL that names a sync driver."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core.walker import module_level_statements
from pitfalls.rules._database_urls import DatabaseUrls, Url
from pitfalls.rules._imports import global_uses
from pitfalls.rules._sessions import ASYNC_ENGINES
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, PendingFix, Rule, RuleContext, Valid

# URL scheme -> (the sync DBAPI SQLAlchemy loads for it, the async scheme to use instead,
# whether that replacement is certain to keep a working program working).
_SYNC_DRIVERS: dict[str, tuple[str, str, bool]] = {
    # SQLAlchemy 2.1 loads psycopg (3) for a bare `postgresql://`, which can be async.
    "postgresql": ("psycopg2", "postgresql+asyncpg", False),
    "postgres": ("psycopg2", "postgresql+asyncpg", True),  # no dialect of that name: never worked
    "postgresql+psycopg2": ("psycopg2", "postgresql+asyncpg", True),
    "postgresql+psycopg2cffi": ("psycopg2cffi", "postgresql+asyncpg", True),
    "postgresql+pg8000": ("pg8000", "postgresql+asyncpg", True),
    "mysql": ("mysqldb", "mysql+aiomysql", True),
    "mysql+mysqldb": ("mysqldb", "mysql+aiomysql", True),
    "mysql+pymysql": ("pymysql", "mysql+aiomysql", True),
    "sqlite": ("pysqlite", "sqlite+aiosqlite", True),
    "sqlite+pysqlite": ("pysqlite", "sqlite+aiosqlite", True),
    "mssql": ("pyodbc", "mssql+aioodbc", True),
    "mssql+pyodbc": ("pyodbc", "mssql+aioodbc", True),
    "oracle+cx_oracle": ("cx_oracle", "oracle+oracledb", False),  # another DBAPI package
}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\+[A-Za-z0-9_]+)?")


class AsyncEngineSyncDriver(Rule):
    """
    ## What it does
    Checks for `create_async_engine(url)` (`sqlalchemy.ext.asyncio`, under any import)
    whose URL names a sync driver: `postgresql://`, `postgres://`, `postgresql+psycopg2://`,
    `postgresql+pg8000://`, `mysql://`, `mysql+pymysql://`, `mysql+mysqldb://`, `sqlite://`,
    `mssql+pyodbc://`, `oracle+cx_oracle://`.

    The URL is followed to where the source spells it out: a literal in the call, a
    variable or module constant, a string constant of another project module, the default
    of an `os.getenv("X", "...")`/`os.environ.get` look-up, an f-string whose scheme is
    literal, or the default of a settings field (`settings.DATABASE_URL`, where `settings`
    is an instance of a project `BaseSettings` or plain class, here or imported from the
    module that builds it). `url.replace("postgresql://", "postgresql+asyncpg://")`,
    `make_url(...)` and `URL.create(drivername=...)` are followed too, so a URL converted
    before the call is seen as converted. A settings class with a validator (which may
    rewrite the value) is not read.

    ## Why is this bad?
    An async engine runs its queries through an asyncio DBAPI driver; given a sync one, it
    fails on creation, at import time of the module that builds it:

    ```
    sqlalchemy.exc.InvalidRequestError: The asyncio extension requires an async driver to be used. The loaded 'psycopg2' is not async.
    ```

    With a settings default, the application fails wherever the environment does not
    override it: a fresh checkout, the test run, a worker started without `.env`.

    A bare `postgresql://` loads psycopg2 up to SQLAlchemy 2.0 (2.1 loads psycopg 3, which
    works, when it is installed).

    `postgresql+asyncpg://`, `postgresql+psycopg://` (psycopg 3 is async-capable),
    `sqlite+aiosqlite://`, `mysql+aiomysql://`, `mysql+asyncmy://`, `mssql+aioodbc://`
    and `oracle+oracledb://` are async drivers and are not reported; neither is
    `create_engine(...)` with a sync driver.

    ## Example
    ```python
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql://user:password@localhost:5432/dbname")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    ```

    ## Use instead
    ```python
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://user:password@localhost:5432/dbname")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    ```

    ## Fix safety
    The fix replaces the scheme with the async driver the guide names (`asyncpg`,
    `aiosqlite`, `aiomysql`, `aioodbc`); the driver package must be installed. It is
    offered, as safe, for a literal in the call or a module constant of the file read only
    there, with no query string nor `connect_args=` (but SQLite's: their parameters are the
    driver's, psycopg2's `sslmode` is asyncpg's `ssl`): the engine could never be created,
    so nothing that worked changes.
    There is no fix for a bare `postgresql://` (SQLAlchemy 2.1 loads psycopg 3 for it,
    async-capable: which driver is installed decides), for `oracle+cx_oracle://` (another
    DBAPI package), nor for a value used elsewhere too (a variable, an environment default,
    an f-string), a settings default or another module's constant.
    """

    code = "PF407"
    function_local = True  # see Rule.function_local
    name = "async-engine-sync-driver"
    summary = "`create_async_engine()` with a sync driver"
    fix_applicability = Applicability.SAFE

    VALID = [
        # Async drivers, and a sync driver given to the sync `create_engine`.
        Valid("""
            from sqlalchemy import create_engine
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://user:password@localhost:5432/dbname")
            psycopg3 = create_async_engine("postgresql+psycopg://user:password@localhost/dbname")
            lite = create_async_engine("sqlite+aiosqlite:///./test.db")
            maria = create_async_engine("mysql+aiomysql://root:root@localhost/app")
            sync_engine = create_engine("postgresql://user:password@localhost:5432/dbname")
        """),
        # URLs converted before the call: `.replace()`, a driver set on the URL object.
        Valid("""
            import os

            from sqlalchemy.engine import make_url
            from sqlalchemy.ext import asyncio as sa_asyncio

            DATABASE_URL = os.getenv("DATABASE_URL", "postgresql://postgres:postgres@localhost/app")
            ASYNC_URL = DATABASE_URL.replace("postgresql://", "postgresql+asyncpg://")
            engine = sa_asyncio.create_async_engine(ASYNC_URL)

            def build(url: str):
                url = make_url(url).set(drivername="postgresql+asyncpg")
                return sa_asyncio.create_async_engine(url)

            def heroku() -> None:
                url = os.environ.get("DATABASE_URL", "postgres://localhost/app")
                url = url.replace("postgres://", "postgresql+asyncpg://")
                return sa_asyncio.create_async_engine(url, pool_pre_ping=True)
        """),
        # A settings default a validator rewrites, and one that is async already.
        Valid("""
            from app.core.config import settings, Settings
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(settings.DATABASE_URL)
            other = create_async_engine(Settings().TEST_DATABASE_URL)
        """, files={
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/config.py": (
                "from pydantic import field_validator\n"
                "from pydantic_settings import BaseSettings\n\n"
                "class Settings(BaseSettings):\n"
                "    DATABASE_URL: str = \"postgresql://user:password@localhost/app\"\n"
                "    TEST_DATABASE_URL: str = \"sqlite+aiosqlite:///./test.db\"\n\n"
                "    @field_validator(\"DATABASE_URL\")\n"
                "    @classmethod\n"
                "    def async_driver(cls, value: str) -> str:\n"
                "        return value.replace(\"postgresql://\", \"postgresql+asyncpg://\")\n\n"
                "settings = Settings()\n"
            ),
        }, path="app/db.py"),
        # A scheme nobody spelt out: a parameter, a URL from the environment only, a
        # conditional driver, a prefix from settings without a default.
        Valid("""
            import os

            from sqlalchemy import URL
            from sqlalchemy.ext.asyncio import create_async_engine

            def engine_for(url: str):
                return create_async_engine(url)

            engine = create_async_engine(os.environ["DATABASE_URL"])
            url = URL.create(drivername="mysql+asyncmy" if os.getenv("MYSQL") else "postgresql+asyncpg", host="db")
            other = create_async_engine(url)
            scheme = os.environ["DB_SCHEME"]
            third = create_async_engine(f"{scheme}://user@localhost/app")
        """),
    ]
    INVALID = [
        Invalid("""
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+psycopg2://user:password@localhost:5432/dbname", echo=True)
        """, line=3, message="The loaded 'psycopg2' is not async", fixed="""
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://user:password@localhost:5432/dbname", echo=True)
        """),
        # Heroku's `postgres://`, which no SQLAlchemy version loads.
        Invalid("""
            import sqlalchemy.ext.asyncio

            engine = sqlalchemy.ext.asyncio.create_async_engine(url="postgres://app@localhost/app")
        """, line=3, message="no SQLAlchemy dialect", fixed="""
            import sqlalchemy.ext.asyncio

            engine = sqlalchemy.ext.asyncio.create_async_engine(url="postgresql+asyncpg://app@localhost/app")
        """),
        # A module constant read only by the engine: its literal is fixed.
        Invalid("""
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            SQLALCHEMY_DATABASE_URL = "sqlite:///./app.db"

            engine = create_async_engine(
                SQLALCHEMY_DATABASE_URL,
                connect_args={"check_same_thread": False},
            )
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession)
        """, line=6, message="pysqlite", fixed="""
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            SQLALCHEMY_DATABASE_URL = "sqlite+aiosqlite:///./app.db"

            engine = create_async_engine(
                SQLALCHEMY_DATABASE_URL,
                connect_args={"check_same_thread": False},
            )
            SessionLocal = async_sessionmaker(engine, class_=AsyncSession)
        """),
        # The default of a settings field in another module: no fix here.
        Invalid("""
            from sqlalchemy.ext.asyncio import create_async_engine

            from app.core.config import get_settings

            engine = create_async_engine(get_settings().DATABASE_URL, pool_pre_ping=True)
        """, files={
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/config.py": (
                "from functools import lru_cache\n\n"
                "from pydantic_settings import BaseSettings\n\n"
                "class Settings(BaseSettings):\n"
                "    DATABASE_URL: str = \"postgresql://user:password@localhost:5432/dbname\"\n\n"
                "    @property\n"
                "    def is_sqlite(self) -> bool:\n"
                "        return self.DATABASE_URL.startswith(\"sqlite\")\n\n"
                "@lru_cache\n"
                "def get_settings() -> Settings:\n"
                "    return Settings()\n"
            ),
        }, path="app/db.py", line=5, message="default of"),
        # An environment default, an f-string, another module's constant.
        Invalid("""
            import os

            from sqlalchemy.ext.asyncio import create_async_engine

            from app.config import REPLICA_URL

            engine = create_async_engine(os.getenv("DATABASE_URL", "mysql+pymysql://root:root@localhost/app"))

            def reporting_engine(user: str, password: str, host: str):
                return create_async_engine(f"postgresql+psycopg2://{user}:{password}@{host}/reports")

            replica = create_async_engine(REPLICA_URL)
        """, files={
            "app/__init__.py": "",
            "app/config.py": "REPLICA_URL = \"mssql+pyodbc://sa:secret@replica/app?driver=ODBC+Driver+18\"\n",
        }, path="app/db.py", count=3),
        # The guide's URL: psycopg2 up to SQLAlchemy 2.0 (no fix: 2.1 loads psycopg 3).
        Invalid("""
            from sqlalchemy.ext.asyncio import create_async_engine

            DATABASE_URL = "postgresql://user:password@localhost:5432/dbname"
            engine = create_async_engine(DATABASE_URL)
        """, line=4, message="up to SQLAlchemy 2.0"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._urls = DatabaseUrls(ctx)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if ctx.qualified_name(node.func) not in ASYNC_ENGINES:
            return
        arg = _url_argument(node)
        url = self._urls.url(arg) if arg is not None else None
        if arg is None or url is None or "://" not in url.text:
            return
        scheme = url.text.split("://", 1)[0]
        if not _SCHEME.fullmatch(scheme) or scheme.lower() not in _SYNC_DRIVERS:
            return
        driver, instead, certain = _SYNC_DRIVERS[scheme.lower()]
        source = _source(ctx.code_for(arg), arg, url)
        if scheme.lower() == "postgres":
            problem = "names no SQLAlchemy dialect (`NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres`)"
        else:
            problem = (
                f"loads `{driver}`{_until(scheme)}, not an async driver (`InvalidRequestError: The asyncio "
                f"extension requires an async driver to be used. The loaded '{driver}' is not async.`)"
            )
        ctx.report(
            arg,
            f"`create_async_engine()` with a sync driver: `{scheme}://`{source} {problem}; use `{instead}://`",
            fix=self._fix(node, arg, url, scheme, instead) if certain else None,
        )

    def _fix(self, call: cst.Call, arg: cst.BaseExpression, url: Url, scheme: str, instead: str) -> PendingFix | None:
        """The scheme replaced where the literal is, when nothing else depends on it and
        nothing the old driver alone understands goes with it."""
        origin = url.origin
        if origin is None or not url.complete or "?" in url.text:
            return None
        if not instead.startswith("sqlite") and any(a.keyword is not None and a.keyword.value == "connect_args" for a in call.args):
            return None  # psycopg2's or PyMySQL's own arguments
        code = self.ctx.code_for(origin)
        old = f"{scheme}://"
        if old not in code or not self._only_here(arg, origin):
            return None
        return self.ctx.fix(f"Use `{instead}://`", NodeEdit(origin, code.replace(old, f"{instead}://", 1)))

    def _only_here(self, arg: cst.BaseExpression, origin: cst.CSTNode) -> bool:
        """The literal is the call's argument, or a module constant read only there."""
        if origin is arg:
            return True
        if not isinstance(arg, cst.Name) or self.ctx.value_of(arg.value) is not origin:
            return False
        name = arg.value
        assigned = [
            small
            for stmt in module_level_statements(self.ctx.module.body)
            if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body
            if isinstance(small, (cst.Assign, cst.AnnAssign))
            and any(
                isinstance(target, cst.Name) and target.value == name
                for target in ([t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target])
            )
        ]
        if len(assigned) != 1 or assigned[0].value is not origin:
            return False
        imported = self.ctx.index.imported_from(self.ctx.summary)
        if name in imported or "*" in imported:
            return False
        return sum(1 for use in global_uses(self.ctx) if use.name == name) == 1


def _url_argument(call: cst.Call) -> cst.BaseExpression | None:
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if (arg.keyword is None and index == 0) or (arg.keyword is not None and arg.keyword.value == "url"):
            return arg.value
    return None


def _until(scheme: str) -> str:
    return " (up to SQLAlchemy 2.0)" if scheme.lower() == "postgresql" else ""


def _source(code: str, arg: cst.BaseExpression, url: Url) -> str:
    """Where the URL came from, when it is not the literal in the call."""
    if url.origin is arg or not isinstance(arg, (cst.Name, cst.Attribute)):
        return ""  # the URL is in the call
    code = " ".join(code.split())
    code = code if len(code) <= 60 else code[:57] + "..."
    if isinstance(arg, cst.Attribute) and url.origin is None:
        return f" (the default of `{code}`)"
    return f" (from `{code}`)"
