"""PF409: a sync SQLAlchemy session queried directly inside an `async def`."""

from __future__ import annotations

from typing import Iterable

import libcst as cst

from pitfalls.core import names
from pitfalls.core.semantic import parameters
from pitfalls.core.walker import iter_nodes
from pitfalls.rules._async import SyncHelpers, own_nodes
from pitfalls.rules._coroutines import ASYNC_SESSION, AsyncValues
from pitfalls.rules._sessions import ASYNC, SYNC, Sessions
from pitfalls.rules.api import Invalid, Rule, RuleContext, Severity, Valid

# Session methods that talk to the database (`add`, `delete`, `expunge`... only record).
_DATABASE_METHODS = frozenset(
    {
        "query", "execute", "exec", "scalar", "scalars", "get", "get_one", "commit", "flush",
        "refresh", "merge", "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings",
    }
)
_INSTEAD = (
    "use an `AsyncSession` (with `await`), hand the work to `asyncio.to_thread()`/"
    "`run_in_threadpool()`, or make it a plain `def` (FastAPI runs those in a threadpool)"
)

# A project's sync engine, session factory and FastAPI dependency, for the examples.
_SYNC_DB_FILES = {
    "app/__init__.py": "",
    "app/db/__init__.py": "",
    "app/db/session.py": (
        "from sqlalchemy import create_engine\n"
        "from sqlalchemy.orm import sessionmaker\n\n"
        "engine = create_engine(\"sqlite:///./app.db\")\n"
        "SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)\n"
    ),
    "app/deps.py": (
        "from app.db.session import SessionLocal\n\n"
        "def get_db():\n"
        "    with SessionLocal() as db:\n"
        "        yield db\n"
    ),
}


class SyncSessionInAsync(Rule):
    """
    ## What it does
    Checks for a sync SQLAlchemy (or SQLModel) `Session` that runs a query, a commit, a
    flush or a refresh (`query`, `execute`, `exec`, `scalar(s)`, `get`, `commit`, `flush`,
    `refresh`, `merge`, `bulk_*`) directly inside an `async def`.

    The session is known from what built it (`Session(engine)`, `SessionLocal()` where
    `SessionLocal = sessionmaker(...)` without an async `class_`, in this module or another
    of the project, `with SessionLocal() as db:`), from a parameter annotated `Session`
    (FastAPI's `db: Session = Depends(get_db)` too, when `get_db` is a sync function of the
    project), or from a `self.<attr>` the class builds, annotates or takes from an
    annotated `__init__` parameter. A call of a sync function or method of the same file
    that itself does such database work (`crud_get(db, id)`, `self._load()`, or a method of
    a service object of a class of this file, `PartnerService(db).get(id)`) blocks just the
    same.

    Test modules are left alone, as are nested `def`s and lambdas (what runs in
    `asyncio.to_thread()`, `run_in_threadpool()` or `loop.run_in_executor()`), sync `def`
    endpoints (FastAPI runs them in a threadpool), an `AsyncSession`, a `Session` whose
    dependency is an `async def` (it yields an `AsyncSession`, whatever the annotation
    says), and a session some call in the same function (or class, for `self.<attr>`)
    awaits: the object is then async, and its annotation wrong.

    ## Why is this bad?
    A sync session waits for the database on the event loop's only thread: while a query
    runs, no other request, background task or timeout of the application makes
    progress. Under load, one slow query stalls every concurrent request, and nothing in
    the traceback points at it.

    The severity is a warning because the harm depends on where the code runs: a blocking
    query in a one-off script's `async def main()` is harmless, the same query in a request
    handler stalls every concurrent request.

    ## Example
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    from app.db import get_db

    app = FastAPI()

    @app.post("/partners")
    async def create_partner(data: PartnerCreate, db: Session = Depends(get_db)):
        partner = Partner(**data.model_dump())
        db.add(partner)
        db.commit()
        db.refresh(partner)
        return partner
    ```

    ## Use instead
    ```python
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    from app.db import get_db

    app = FastAPI()

    @app.post("/partners")
    def create_partner(data: PartnerCreate, db: Session = Depends(get_db)):
        partner = Partner(**data.model_dump())
        db.add(partner)
        db.commit()
        db.refresh(partner)
        return partner
    ```

    or an `AsyncSession` from an async dependency, with `await db.commit()`.

    ## Fix safety
    There is no automatic fix: making the endpoint sync changes where every other call in
    it runs, and an async session needs an async engine, a driver and `await`s.
    """

    code = "PF409"
    name = "sync-session-in-async"
    summary = "Sync SQLAlchemy session used inside `async def`"
    exact_on_ast_tree = True
    severity = Severity.WARNING

    VALID = [
        # Sync endpoints (FastAPI's threadpool), and work handed to a thread.
        Valid("""
            import asyncio

            from fastapi import Depends, FastAPI
            from fastapi.concurrency import run_in_threadpool
            from sqlalchemy.orm import Session

            from app.deps import get_db

            app = FastAPI()

            def count_partners(db: Session) -> int:
                return db.query(Partner).count()

            @app.get("/partners/{partner_id}")
            def read_partner(partner_id: int, db: Session = Depends(get_db)):
                return db.get(Partner, partner_id)

            @app.get("/partners/count")
            async def partner_count(db: Session = Depends(get_db)):
                first = await run_in_threadpool(lambda: db.query(Partner).first())
                total = await asyncio.to_thread(count_partners, db)
                db.add(Partner(name="new"))
                return {"first": first, "total": total}
        """, files=_SYNC_DB_FILES, path="app/routes.py"),
        # Async sessions: built by async factories, annotated, or yielded by an async
        # dependency whatever the parameter's annotation says (PF408's business).
        Valid("""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
            from sqlalchemy.orm import Session, sessionmaker

            engine = create_async_engine("postgresql+asyncpg://user:password@localhost/app")
            AsyncSessionLocal = async_sessionmaker(engine, expire_on_commit=False)
            LegacyLocal = sessionmaker(bind=engine, class_=AsyncSession)

            async def get_db():
                async with AsyncSessionLocal() as session:
                    yield session

            async def list_partners(db: Session = Depends(get_db)):
                return db.execute(select(Partner))

            async def count(db: AsyncSession = Depends(get_db)):
                async with LegacyLocal() as other:
                    await other.execute(select(Partner))
                return await db.scalar(select(Partner.id))

            class PartnerService:
                def __init__(self, db: AsyncSession):
                    self.db = db

                async def get(self, partner_id: int):
                    return await self.db.get(Partner, partner_id)
        """),
        # A session annotated `Session` that the function awaits: an async one, wrongly
        # annotated; a dependency nobody here can see; a test.
        Valid("""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from fastapi_users_db_sqlalchemy import get_async_session

            async def create(data, db: Session):
                partner = Partner(**data)
                db.add(partner)
                result = db.execute(select(Partner))
                await db.commit()
                return result

            async def partners(db: Session = Depends(get_async_session)):
                return db.execute(select(Partner))
        """),
        # `sessionmaker(class_=AsyncSession)` in another module, as FastAPI-boilerplate has it.
        Valid("""
            from sqlalchemy import select

            from app.core.db.database import local_session

            async def count_users() -> int:
                db = local_session()
                try:
                    result = await db.execute(select(User))
                    return len(result.scalars().all())
                finally:
                    await db.close()

            async def first_user():
                async with local_session() as db:
                    return db.execute(select(User))
        """, files={
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/db/__init__.py": "",
            "app/core/db/database.py": (
                "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"
                "from sqlalchemy.orm import sessionmaker\n\n"
                "async_engine = create_async_engine(\"postgresql+asyncpg://localhost/app\")\n"
                "local_session = sessionmaker(bind=async_engine, class_=AsyncSession, expire_on_commit=False)\n"
            ),
        }, path="app/crud.py"),
        Valid("""
            from sqlalchemy.orm import Session

            async def test_create_partner(client, db: Session):
                response = await client.post("/partners", json={"name": "ACME"})
                assert db.query(Partner).count() == 1
        """, path="tests/test_partners.py"),
    ]
    INVALID = [
        # The guide's endpoint with a sync session from a sync dependency.
        Invalid("""
            from fastapi import Depends, FastAPI
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session, sessionmaker

            engine = create_engine("postgresql://user:password@localhost/app")
            SessionLocal = sessionmaker(autocommit=False, autoflush=False, bind=engine)
            app = FastAPI()

            def get_db():
                db = SessionLocal()
                try:
                    yield db
                finally:
                    db.close()

            @app.post("/partners")
            async def create_partner(data: PartnerCreate, db: Session = Depends(get_db)):
                partner = Partner(**data.model_dump())
                db.add(partner)
                db.commit()
                db.refresh(partner)
                return partner
        """, count=2, message="sync `Session`"),
        # A factory and a dependency alias from other modules of the project.
        Invalid("""
            from typing import Annotated

            from fastapi import APIRouter, Depends
            from sqlalchemy.orm import Session

            from app.db.session import SessionLocal
            from app.deps import get_db

            DbSession = Annotated[Session, Depends(get_db)]
            router = APIRouter()

            @router.get("/partners")
            async def list_partners(db: DbSession):
                return db.query(Partner).filter(Partner.is_active).all()

            @router.on_event("startup")
            async def seed() -> None:
                with SessionLocal() as db:
                    db.merge(Partner(id=1, name="ACME"))
                    db.commit()
        """, files=_SYNC_DB_FILES, path="app/routes.py", count=3),
        # A service object holding a sync session, and a helper taking one, called from
        # async code; SQLModel's session.
        Invalid("""
            from sqlalchemy.orm import Session
            from sqlmodel import Session as SQLModelSession, select

            class PartnerService:
                def __init__(self, db: Session):
                    self.db = db

                def get(self, partner_id: int):
                    return self.db.query(Partner).filter(Partner.id == partner_id).first()

            def count_partners(db: Session) -> int:
                return db.query(Partner).count()

            async def partner_summary(partner_id: int, db: Session):
                partner = PartnerService(db).get(partner_id)
                return {"partner": partner, "total": count_partners(db)}

            async def heroes(engine):
                with SQLModelSession(engine) as session:
                    return session.exec(select(Hero)).all()
        """, count=3),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.sessions = ctx.fact(Sessions)
        self._awaited: set[int] = set()  # ids of awaited calls
        self._helpers: SyncHelpers[str] = SyncHelpers(ctx, self._helper_blocking, instances=True)
        self._awaited_receivers: dict[cst.CSTNode, set[str]] = {}

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_With(self, node: cst.With) -> None:
        self.sessions.note_with(node)

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if id(node) in self._awaited or not ctx.in_async_function or ctx.is_test_module:
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _DATABASE_METHODS:
            if self.sessions.kind(func.value) == SYNC and not self._async_here(func.value):
                ctx.report(
                    node,
                    f"`{names.dotted(func) or func.attr.value}()` on a sync `Session` blocks the event loop "
                    f"inside `async def`; {_INSTEAD}",
                )
                return
        found = self._helpers.called_blocking(node)
        if found is not None and not any(self.sessions.kind(arg.value) == ASYNC for arg in node.args):
            ctx.report(
                node,
                f"`{_label(names.dotted(func) or ctx.code_for(func))}()` blocks the event loop inside `async def`: it calls "
                f"`{found}()` on a sync `Session`; {_INSTEAD}",
            )

    # -- what a sync helper of the file does ---------------------------------------------

    def _helper_blocking(self, call: cst.Call, function: cst.FunctionDef) -> str | None:
        """``db.query(...)`` in a sync helper, on a session it is known to hold: its own
        parameter or local, or ``self.<attr>`` of its class."""
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in _DATABASE_METHODS:
            return None
        receiver = func.value
        kind = None
        if isinstance(receiver, cst.Attribute) and names.dotted(receiver.value) == "self":
            owner = self._helpers.owner(function)
            if owner is None or self._awaited_in(owner, names.dotted(receiver) or ""):
                return None
            kind = self.sessions.member_kind(owner, receiver.attr.value)
        elif isinstance(receiver, cst.Name):
            binding = _binding(function, receiver.value)
            if isinstance(binding, cst.Param):
                kind = self.sessions.parameter_kind(binding)
            elif binding is not None:
                kind = self.sessions.value_kind(binding)
        return names.dotted(func) if kind == SYNC else None

    # -- a session something awaits is async --------------------------------------------

    def _async_here(self, receiver: cst.BaseExpression) -> bool:
        """Whether the enclosing function (or class, for ``self.<attr>``) awaits a call
        on ``receiver``, or PF405/PF408 know it as an ``AsyncSession``: then it is no sync
        session, whatever it is annotated."""
        if self.ctx.fact(AsyncValues).client_type(receiver) == ASYNC_SESSION:
            return True
        text = names.dotted(receiver)
        if text is None:
            return False
        scope: cst.CSTNode | None = self.ctx.function
        if text.startswith("self."):
            scope = self.ctx.enclosing_class or scope
        return scope is not None and self._awaited_in(scope, text)

    def _awaited_in(self, scope: cst.CSTNode, text: str) -> bool:
        found = self._awaited_receivers.get(scope)
        if found is None:
            nodes = own_nodes(scope) if isinstance(scope, cst.FunctionDef) else iter_nodes(scope)
            found = self._awaited_receivers[scope] = _awaited_receivers(nodes)
        return text in found


def _label(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 50 else "..." + code[-47:]


def _awaited_receivers(nodes: Iterable[cst.CSTNode]) -> set[str]:
    """The receivers of awaited method calls and of ``async with``/``async for``."""
    found: set[str] = set()
    for node in nodes:
        target = None
        if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
            target = node.expression.func
        elif isinstance(node, cst.With) and node.asynchronous is not None:
            for item in node.items:
                inner = item.item.func if isinstance(item.item, cst.Call) else item.item
                found.add(names.dotted(inner.value if isinstance(inner, cst.Attribute) else inner) or "")
        if isinstance(target, cst.Attribute):
            found.add(names.dotted(target.value) or "")
    return found


def _binding(function: cst.FunctionDef, name: str) -> cst.Param | cst.BaseExpression | None:
    """What ``name`` holds in a helper: its parameter, or the one value its body binds it
    to (``with SessionLocal() as db:``, ``db = SessionLocal()``); None when unknown."""
    param = next((p for p in parameters(function.params) if p.name.value == name), None)
    values: list[cst.BaseExpression | None] = []
    for node in own_nodes(function):
        if isinstance(node, cst.WithItem) and isinstance(node.asname, cst.AsName):
            if isinstance(node.asname.name, cst.Name) and node.asname.name.value == name:
                values.append(node.item)
        elif isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    values.append(node.value)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.NamedExpr)):
            if name in {n.value for n in iter_nodes(node.target) if isinstance(n, cst.Name)}:
                values.append(None)
    if param is not None:
        return param if not values else None
    return values[0] if len(values) == 1 else None
