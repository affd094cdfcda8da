"""PF408: a sync `Session` API on an `AsyncSession`, and generators used as context managers."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._coroutines import ASYNC_SESSION, AsyncValues, Callee, coroutine_function, depends_call, is_context_manager, transparent
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

# `Session` methods an `AsyncSession` does not have.
_SYNC_ONLY = frozenset({"query", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings"})


class SyncApiOnAsyncSession(Rule):
    """
    ## What it does
    Checks for the sync `Session` API used where an async one is needed:
    - `db.query(...)` (and `bulk_save_objects()`, `bulk_insert_mappings()`,
      `bulk_update_mappings()`) on a value known to be an `AsyncSession`: annotated so,
      built by an `async_sessionmaker` (or a `sessionmaker(class_=AsyncSession)`), entered
      by `async with`, a `self.<attr>` assigned one, or a FastAPI parameter whose
      `Depends(get_db)` dependency is an async generator yielding one, even when the
      parameter is annotated `Session`;
    - `with` (not `async with`) on an `AsyncSession`;
    - `async with f()` (or `with f()`) where `f` is a project async generator function
      without `@asynccontextmanager`, such as the `get_db()` written for FastAPI's
      `Depends`, or a plain `async def` function (its call is a coroutine, not a context
      manager; methods are left alone: a base class's `async def` stub may be implemented
      as an `@asynccontextmanager` by its subclasses);
    - `with f()` where `f` is a generator function of the same module without
      `@contextmanager`.

    A coroutine method of an `AsyncSession` called without `await` (`db.execute(...)`,
    `db.commit()`) is PF405's: that rule owns every coroutine-returning call
    made without `await`; this one owns what an `AsyncSession` does not have and the
    context-manager mistakes.

    ## Why is this bad?
    `AsyncSession` has no legacy `Query` API: the ORM is used through `select()` and
    `await db.execute(...)`. A `Depends(get_db)` parameter annotated `Session` gets the
    `AsyncSession` the dependency yields, whatever the annotation says:

    ```
    AttributeError: 'AsyncSession' object has no attribute 'query'
    ```

    An async generator function is what FastAPI's `Depends` wants, and not a context
    manager: entering its result fails before the body runs.

    ```
    TypeError: 'async_generator' object does not support the asynchronous context manager protocol
    ```

    ## Example
    ```python
    from fastapi import Depends
    from sqlalchemy.orm import Session

    from app.core.database import get_db  # async def get_db(): ... yield session

    @router.get("/partners")
    async def list_partners(db: Session = Depends(get_db)):
        return db.query(Partner).all()

    async def count_partners() -> int:
        async with get_db() as db:
            return len((await db.execute(select(Partner))).all())
    ```

    ## Use instead
    ```python
    from fastapi import Depends
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from app.core.database import get_db, get_db_session  # @asynccontextmanager

    @router.get("/partners")
    async def list_partners(db: AsyncSession = Depends(get_db)):
        return (await db.execute(select(Partner))).scalars().all()

    async def count_partners() -> int:
        async with get_db_session() as db:
            return len((await db.execute(select(Partner))).all())
    ```

    ## Fix safety
    There is no automatic fix: a query becomes a `select()` statement and an `await`, and
    decorating the generator with `@asynccontextmanager` would break the `Depends` that
    uses it (write a second function).
    """

    code = "PF408"
    name = "sync-api-on-async-session"
    summary = "Sync `Session` API on an `AsyncSession`, or a generator used as a context manager"
    exact_on_ast_tree = True

    VALID = [
        # A sync session's Query API; an async one used through select(); the guide's
        # `get_db_session()` context manager and the `get_db()` dependency wrapping it.
        Valid("""
            from contextlib import asynccontextmanager

            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
            from sqlalchemy.orm import Session, sessionmaker

            AsyncSessionLocal = async_sessionmaker()
            SessionLocal = sessionmaker()

            @asynccontextmanager
            async def get_db_session():
                async with AsyncSessionLocal() as session:
                    yield session

            async def get_db():
                async with get_db_session() as session:
                    yield session

            def get_sync_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()

            def report(db: Session = Depends(get_sync_db)):
                return db.query(Partner).count()

            async def partners(db: AsyncSession = Depends(get_db)):
                async with get_db_session() as other:
                    await other.execute(select(Partner))
                return (await db.execute(select(Partner))).scalars().all()
        """),
        # A project object with its own `query()`; a session factory that is no session.
        Valid("""
            from app.search import SearchIndex

            async def search(index: SearchIndex, text: str):
                return index.query(text)
        """, files={
            "app/__init__.py": "",
            "app/search.py": "class SearchIndex:\n    def query(self, text):\n        return []\n",
        }, path="app/routes.py"),
        # An async generator dependency yielding a sync Session (what it yields decides,
        # not that it is async); `async with factory.begin()`; a sync factory in `with`.
        Valid("""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import async_sessionmaker
            from sqlalchemy.orm import Session, sessionmaker

            SessionLocal = sessionmaker()
            AsyncSessionLocal = async_sessionmaker()

            async def get_legacy_db():
                with SessionLocal() as db:
                    yield db

            async def legacy_count(db: Session = Depends(get_legacy_db)) -> int:
                return db.query(Partner).count()

            async def purge() -> None:
                async with AsyncSessionLocal.begin() as session:
                    await session.execute(delete(Partner))
                with SessionLocal() as db:
                    db.query(Partner).delete()
        """),
        # A generator decorated by something that may make it a context manager.
        Valid("""
            import pytest

            from app.db import lifespan_context

            @pytest.fixture
            def db():
                yield object()

            async def run(app):
                async with lifespan_context(app):
                    pass
        """, files={
            "app/__init__.py": "",
            "app/db.py": (
                "from app.utils import managed\n\n"
                "@managed\n"
                "async def lifespan_context(app):\n"
                "    yield\n"
            ),
            "app/utils.py": "def managed(f):\n    return f\n",
        }, path="app/main.py"),
    ]
    INVALID = [
        # The case: `Depends(get_db)` yields an AsyncSession, annotated `Session`.
        Invalid("""
            from fastapi import APIRouter, Depends
            from sqlalchemy.orm import Session

            from app.db import get_db

            router = APIRouter()

            @router.get("/partners")
            async def list_partners(db: Session = Depends(get_db)):
                return db.query(Partner).all()
        """, files={
            "app/__init__.py": "",
            "app/db.py": (
                "from typing import AsyncGenerator\n\n"
                "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
                "async def get_db() -> AsyncGenerator[AsyncSession, None]:\n"
                "    async with AsyncSession() as session:\n"
                "        yield session\n"
            ),
        }, path="app/routes.py", line=10, message="get_db"),
        # The dependency entered as a context manager.
        Invalid("""
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import async_sessionmaker

            SessionLocal = async_sessionmaker()

            async def get_db():
                async with SessionLocal() as session:
                    yield session

            async def test_db_connection():
                async with get_db() as db:
                    result = await db.execute(text("SELECT 1"))
                    return result.scalar()
        """, line=11, message="asynchronous context manager protocol"),
        # Through a service's `self.db`, a sync `with` on an AsyncSession, and a plain
        # generator of the module entered by `with`.
        Invalid("""
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
            from sqlalchemy.orm import sessionmaker

            AsyncSessionLocal = async_sessionmaker()
            SessionLocal = sessionmaker()

            def get_sync_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()

            class PartnerService:
                def __init__(self, db: AsyncSession):
                    self.db = db

                async def count(self) -> int:
                    return self.db.query(Partner).count()

            def nightly() -> None:
                with AsyncSessionLocal() as db:
                    pass
                with get_sync_db() as db:
                    db.query(Partner).delete()
        """, count=3),
        # A coroutine function entered by `async with`.
        Invalid("""
            from sqlalchemy.ext.asyncio import AsyncSession

            async def open_session() -> AsyncSession:
                return AsyncSession()

            async def main() -> None:
                async with open_session() as db:
                    await db.commit()
        """, line=7, message="'coroutine' object"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.values = ctx.fact(AsyncValues)

    def visit_With(self, node: cst.With) -> None:
        self.values.note_with(node)
        is_async = node.asynchronous is not None
        for item in node.items:
            self._with_item(item.item, is_async)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _SYNC_ONLY:
            return
        if self.values.client_type(func.value) != ASYNC_SESSION:
            return
        shown = names.dotted(func.value) or "the session"
        why = self._why(func.value)
        self.ctx.report(
            node,
            f"`{shown}` is an `AsyncSession`{why}, which has no `{func.attr.value}()`: `AttributeError: "
            f"'AsyncSession' object has no attribute '{func.attr.value}'`; use `await {shown}.execute(select(...))`",
        )

    def _why(self, expr: cst.BaseExpression) -> str:
        """How a `Depends(...)` parameter annotated otherwise gets its AsyncSession."""
        if not isinstance(expr, cst.Name):
            return ""
        param = self.ctx.parameter(expr.value)
        depends = depends_call(self.ctx, param) if param is not None else None
        if depends is None or self.values.dependency_type(depends) != ASYNC_SESSION:
            return ""
        dependency = names.dotted(depends.args[0].value) if depends.args else None
        annotation = names.annotated_type(param.annotation.annotation) if param.annotation is not None else None
        annotated = names.dotted(annotation) if annotation is not None else None
        if not dependency:
            return ""
        if annotated and names.last_name(annotation) != "AsyncSession":
            return f" (annotated `{annotated}`, but its dependency `{dependency}` yields an `AsyncSession`)"
        return f" (its dependency `{dependency}` yields one)"

    def _with_item(self, item: cst.BaseExpression, is_async: bool) -> None:
        ctx = self.ctx
        if not isinstance(item, cst.Call):
            return
        statement = "async with" if is_async else "with"
        protocol = "asynchronous context manager protocol" if is_async else "context manager protocol"
        shown = f"`{names.dotted(item.func)}()`"
        callee = self.values.callee(item.func)
        if callee is not None:
            kind = _made(callee, method=ctx.index.class_info(callee.qualname.rpartition(".")[0]) is not None)
            if kind == "async_generator":
                ctx.report(
                    item,
                    f"{shown} is an async generator function, not a context manager: `{statement}` raises "
                    f"`TypeError: 'async_generator' object does not support the {protocol}`; decorate a function "
                    f"with `@contextlib.asynccontextmanager` (a separate one if `Depends` uses this one)",
                )
            elif kind == "coroutine":
                ctx.report(
                    item,
                    f"{shown} is `async def`: its call is a coroutine, and `{statement}` raises `TypeError: "
                    f"'coroutine' object does not support the {protocol}`; use `{statement} await "
                    f"{names.dotted(item.func)}(...)` if it returns a context manager, or make it an "
                    f"`@asynccontextmanager`",
                )
            if kind is not None:
                return
        if not is_async and self.values.client_type(item) == ASYNC_SESSION:
            ctx.report(
                item,
                f"{shown} makes an `AsyncSession`: `with` raises `TypeError: 'AsyncSession' object does not "
                f"support the context manager protocol`; use `async with` (in an `async def`)",
            )
            return
        if not is_async and isinstance(item.func, cst.Name) and _local_generator(ctx, item.func):
            ctx.report(
                item,
                f"{shown} is a generator function, not a context manager: `with` raises `TypeError: 'generator' "
                f"object does not support the context manager protocol`; decorate a function with "
                f"`@contextlib.contextmanager` (a separate one if `Depends` uses this one)",
            )


def _made(callee: Callee, *, method: bool) -> str | None:
    """What calling a project function makes, when it is no context manager: an async
    generator, or a coroutine (of a function: an `async def` stub of a base class may be
    implemented as an `@asynccontextmanager` by the subclasses)."""
    info = callee.info
    if not info.is_async or is_context_manager(info) or not transparent(info):
        return None
    if info.is_async_generator:
        return "async_generator"
    return "coroutine" if coroutine_function(info) and not method else None


def _local_generator(ctx: RuleContext, func: cst.Name) -> bool:
    """``func`` names a module-level sync generator function of this file without a decorator."""
    if ctx.qualified_name(func) != (f"{ctx.module_name}.{func.value}" if ctx.module_name else func.value):
        return False
    found = None
    for stmt in ctx.module.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == func.value:
            found = stmt
    if found is None or found.asynchronous is not None or found.decorators:
        return False
    return names.yielded_values(found) is not None
