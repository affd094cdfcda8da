"""PF405: a coroutine made and dropped, or used as if it were its result, without `await`."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core import names
from pitfalls.core.walker import children
from pitfalls.rules._coroutines import COROUTINE_FUNCTIONS, AsyncValues, coroutine_function, transparent
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Valid

# What a coroutine object has: reading these is handling the coroutine, not its result.
_COROUTINE_ATTRIBUTES = frozenset(
    {
        "send", "throw", "close", "cr_await", "cr_frame", "cr_running", "cr_code", "cr_origin", "cr_suspended",
        "__await__", "__name__", "__qualname__", "__class__",
    }
)
# Functions that fail on a coroutine where they expect a value (`list(coro)`, `len(coro)`).
_CONSUMERS = frozenset(
    f"builtins.{name}"
    for name in (
        "list", "tuple", "set", "frozenset", "dict", "len", "sorted", "sum", "min", "max", "any", "all",
        "enumerate", "zip", "iter", "next", "reversed", "int", "float",
    )
) | {"json.dumps"}
# Functions that only read what they are given: a coroutine passed to them stays unawaited.
_READERS = frozenset(
    f"builtins.{name}" for name in ("print", "str", "repr", "bool", "type", "id", "hasattr", "callable", "isinstance")
)
_AWAITABLE_TYPES = ("Awaitable", "Coroutine", "Future", "Task")
# A parameter annotation naming one plain type (`User`, `dict`, `models.User`)...
_VALUE_ANNOTATION = re.compile(r"[A-Za-z_][\w.]*")
# ... other than one a coroutine may be.
_NOT_VALUES = frozenset({"Any", "object", "Awaitable", "Coroutine", "Future", "Task", "Callable", "Generator", "Hashable"})


class CoroutineNeverAwaited(Rule):
    """
    ## What it does
    Checks for calls that make a coroutine without `await`, where the coroutine is dropped
    (the call is a statement of its own, or assigned to a name nothing awaits or hands on:
    only tested, `if partner is None:`, or printed) or used as if it were the call's
    result: an attribute read (`partner.id`, `db.execute(stmt).scalars()`), subscripted,
    iterated (`for`, `async for`), unpacked, passed to `list()`, `len()`, `json.dumps()` and
    the like, or to a project function whose parameter is annotated with a plain type
    (`def audit(partner: Partner)`). In `async def` and in sync code.

    A call makes a coroutine when it calls:
    - an `async def` of the project (a function, or a method through the receiver's class
      and its bases: `self.<method>()`, `super().<method>()`, `service.<method>()` of a
      `service = PartnerService(db)`, a module-level instance another module builds),
      unless it is an async generator (its body yields) or a decorator may change what
      calling it returns;
    - a coroutine method of a value known to be an `AsyncSession` (`commit`, `execute`,
      `get`, `flush`, `refresh`, `delete`, `scalars`, `scalar`, `rollback`, `close`...), an
      `httpx.AsyncClient` (`get`, `post`, `send`...) or a `redis.asyncio` client (its
      commands);
    - `asyncio.sleep()`, `asyncio.wait_for()`, `asyncio.to_thread()` and the other
      `asyncio` coroutine functions.

    A value is known to be an `AsyncSession` when it is annotated so, built by one
    (`AsyncSession(engine)`, an `async_sessionmaker`, a `sessionmaker(class_=AsyncSession)`,
    an `async with` of one, a project `@asynccontextmanager` yielding one), a FastAPI
    parameter whose `Depends(...)` dependency yields one, or a `self.<attr>` the class
    assigns one (`self.db = db` from `__init__(self, db: AsyncSession)`).

    A coroutine that is awaited (now or later: `task = fetch(); ...; await task`), returned,
    yielded, stored (in a list, a dict, an attribute) or handed to another call
    (`asyncio.gather()`, `asyncio.create_task()`, `asyncio.run()`,
    `loop.run_until_complete()`, `TaskGroup.create_task()`, `inspect.isawaitable()`...) is
    not reported, nor is `async for` over a project method (an `async def` stub of a base
    class may be implemented by async generators).

    The same mistakes on an `AsyncSession` that are not about a coroutine (`db.query()`,
    which it does not have, and generators used as context managers) are
    PF408's: this rule owns every coroutine-returning call made without
    `await`, `db.execute(...)` and `db.commit()` included.

    ## Why is this bad?
    Calling an `async def` runs none of its body: it returns a coroutine, which runs only
    when awaited. A dropped `db.commit()` commits nothing, and the only trace is a warning
    when the coroutine is garbage-collected:

    ```
    RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited
    ```

    Used as its result, the coroutine fails where the result was expected:

    ```
    AttributeError: 'coroutine' object has no attribute 'id'
    TypeError: cannot unpack non-iterable coroutine object
    TypeError: 'coroutine' object is not iterable
    ```

    ## Example
    ```python
    from sqlalchemy.ext.asyncio import AsyncSession

    async def create_partner(db: AsyncSession, data: PartnerCreate) -> int:
        service = PartnerService(db)
        partner = service.create_partner(data)
        db.commit()
        return partner.id
    ```

    ## Use instead
    ```python
    from sqlalchemy.ext.asyncio import AsyncSession

    async def create_partner(db: AsyncSession, data: PartnerCreate) -> int:
        service = PartnerService(db)
        partner = await service.create_partner(data)
        await db.commit()
        return partner.id
    ```

    ## Fix safety
    Inside an `async def`, a call that is a statement of its own is fixed by adding
    `await`. The fix is unsafe: the call then runs, with its effects and its exceptions,
    where before it did nothing. In sync code there is no fix (`await` is not allowed
    there: call it from async code, or run it with `asyncio.run()`), nor for a coroutine
    used as a value (the code around it may need more than `await`).
    """

    code = "PF405"
    name = "coroutine-never-awaited"
    summary = "Coroutine never awaited"
    exact_on_ast_tree = True
    fix_applicability = Applicability.UNSAFE

    VALID = [
        # Awaited, now or later; handed to gather/create_task/run; returned; stored.
        Valid("""
            import asyncio

            class PartnerService:
                async def create_partner(self, data: dict) -> dict:
                    return data

                async def notify(self, partner: dict) -> None:
                    await asyncio.sleep(0)

            async def create(service: PartnerService, data: dict) -> dict:
                pending = service.create_partner(data)
                partner = await pending
                background = asyncio.create_task(service.notify(partner))
                tasks = [service.notify(partner), service.notify(partner)]
                await asyncio.gather(*tasks, asyncio.wait_for(service.notify(partner), 5))
                await background
                return partner

            def later(service: PartnerService, data: dict):
                return service.create_partner(data)

            def main() -> None:
                asyncio.run(create(PartnerService(), {"name": "ACME"}))
        """),
        # An async generator (FastAPI's `get_db`) is called without `await`; an async
        # context manager is entered; a sync method of the same name elsewhere.
        Valid("""
            from contextlib import asynccontextmanager

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

            SessionLocal = async_sessionmaker()

            async def get_db():
                async with SessionLocal() as session:
                    yield session

            @asynccontextmanager
            async def get_db_session():
                async with SessionLocal() as session:
                    yield session

            async def stream_ids(db: AsyncSession):
                async for session in get_db():
                    yield session
                async with get_db_session() as db:
                    db.add(object())
                    db.expunge_all()
                    await db.commit()

            class Report:
                def create_partner(self, data):
                    return data

            def build(report: Report):
                report.create_partner({}).items()
        """),
        # A sync `Session` (commit() runs), a redis pipeline (queues, executes on await),
        # and an httpx.AsyncClient's stream() (an async context manager).
        Valid("""
            import httpx
            import redis.asyncio as redis
            from sqlalchemy.orm import Session

            cache = redis.Redis()

            def save(db: Session, partner) -> int:
                db.add(partner)
                db.commit()
                db.refresh(partner)
                return partner.id

            async def warm(client: httpx.AsyncClient) -> None:
                pipe = cache.pipeline()
                pipe.set("a", 1)
                pipe.set("b", 2)
                await pipe.execute()
                async with client.stream("GET", "/items") as response:
                    await response.aread()
        """),
        # A decorator may change what calling the function returns (a Celery task, a
        # sync_to_async wrapper...): not reported.
        Valid("""
            from app.tasks import celery_app

            @celery_app.task
            async def send_welcome(partner_id: int) -> None:
                ...

            def on_created(partner_id: int) -> None:
                send_welcome(partner_id)
        """, files={"app/__init__.py": "", "app/tasks.py": "celery_app = object()\n"}, path="app/events.py"),
        # The coroutine object itself: closed, named, compared.
        Valid("""
            async def job() -> None:
                ...

            def cancel() -> None:
                pending = job()
                pending.close()
                print(job().__name__)
        """),
        # A sync override of an async base method; an `async def` stub a subclass
        # implements as an async generator (`async for` over it works); a local `def`
        # hiding a module-level `async def`; a coroutine handed on through a name.
        Valid("""
            import asyncio
            from typing import AsyncIterator

            class Repository:
                async def save(self, item) -> None:
                    ...

                async def stream(self) -> AsyncIterator[int]:
                    raise NotImplementedError

            class MemoryRepository(Repository):
                def save(self, item) -> None:
                    ...

                async def stream(self):
                    yield 1

            async def refresh() -> None:
                ...

            async def sync_all(memory: MemoryRepository, repository: Repository) -> None:
                memory.save(1)
                async for item in repository.stream():
                    print(item)

            def run_once() -> None:
                def refresh() -> None:
                    ...

                refresh()
                loop = asyncio.new_event_loop()
                pending = sync_all(MemoryRepository(), Repository())
                loop.run_until_complete(pending)
        """),
    ]
    INVALID = [
        # The guide's service layer: a dropped commit, a method result used as its value.
        Invalid("""
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.services import PartnerService

            async def create_partner(db: AsyncSession, data: dict) -> int:
                service = PartnerService(db)
                partner = service.create_partner(data)
                db.commit()
                return partner.id
        """, files={
            "app/__init__.py": "",
            "app/services.py": (
                "class BaseService:\n"
                "    async def create(self, data):\n"
                "        return data\n\n"
                "class PartnerService(BaseService):\n"
                "    def __init__(self, db):\n"
                "        self.db = db\n\n"
                "    async def create_partner(self, data):\n"
                "        return await self.create(data)\n"
            ),
        }, path="app/routes.py", count=2, fixed="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.services import PartnerService

            async def create_partner(db: AsyncSession, data: dict) -> int:
                service = PartnerService(db)
                partner = service.create_partner(data)
                await db.commit()
                return partner.id
        """),
        # Through `self.db` set from an annotated parameter, and an inherited method.
        Invalid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            class BaseService:
                async def log(self, action: str) -> None:
                    ...

            class PartnerService(BaseService):
                def __init__(self, db: AsyncSession):
                    self.db = db

                async def list_partners(self):
                    self.log("list")
                    return self.db.execute(select(Partner)).scalars().all()
        """, count=2, fixed="""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            class BaseService:
                async def log(self, action: str) -> None:
                    ...

            class PartnerService(BaseService):
                def __init__(self, db: AsyncSession):
                    self.db = db

                async def list_partners(self):
                    await self.log("list")
                    return self.db.execute(select(Partner)).scalars().all()
        """),
        # Unpacked, iterated, passed to list(); asyncio.sleep dropped.
        Invalid("""
            import asyncio

            async def fetch_page(page: int):
                return [], 0

            async def export() -> None:
                items, total = fetch_page(1)
                for item in fetch_page(2):
                    print(item)
                print(len(fetch_page(3)))
                asyncio.sleep(1)
                summarise(fetch_page(4))

            def summarise(page: tuple) -> str:
                return f"{len(page[0])} of {page[1]}"
        """, count=5, message="await"),
        # A FastAPI dependency that yields an AsyncSession, whatever the annotation says.
        Invalid("""
            from fastapi import Depends
            from sqlalchemy.orm import Session

            from app.db import get_db

            async def rename_partner(partner_id: int, name: str, db: Session = Depends(get_db)) -> None:
                partner = db.get(Partner, partner_id)
                if partner is None:
                    raise LookupError(partner_id)
                partner.name = name
                await db.commit()
        """, files={
            "app/__init__.py": "",
            "app/db.py": (
                "from sqlalchemy.ext.asyncio import async_sessionmaker\n\n"
                "SessionLocal = async_sessionmaker()\n\n"
                "async def get_db():\n"
                "    async with SessionLocal() as session:\n"
                "        yield session\n"
            ),
        }, path="app/routes.py", line=7, message="AsyncSession"),
        # In sync code: an `async def main()` called instead of run; reported, not fixed.
        Invalid("""
            import httpx

            async def main() -> None:
                async with httpx.AsyncClient() as client:
                    response = client.get("http://localhost:8055/server/ping")
                    print(response.status_code)

            if __name__ == "__main__":
                main()
        """, count=2),
        # Assigned and never used: never awaited.
        Invalid("""
            import redis.asyncio as redis

            cache = redis.from_url("redis://localhost")

            async def forget(key: str) -> None:
                result = cache.delete(key)
        """, line=6, message="never awaited"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.values = ctx.fact(AsyncValues)

    # -- where a call's value goes ------------------------------------------------------

    def visit_With(self, node: cst.With) -> None:
        self.values.note_with(node)

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self._check(node.value, "discarded")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if type(node.value) is cst.Call and node.attr.value not in _COROUTINE_ATTRIBUTES:
            self._check(node.value, f"attribute:{node.attr.value}")

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if isinstance(node.value, cst.Call):
            self._check(node.value, "subscript")

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.iter, cst.Call):
            self._check(node.iter, "async for" if node.asynchronous is not None else "iterated")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if isinstance(node.iter, cst.Call):
            self._check(node.iter, "async for" if node.asynchronous is not None else "iterated")

    def visit_Call(self, node: cst.Call) -> None:
        calls = [arg for arg in node.args if type(arg.value) is cst.Call and not arg.star]
        if not calls or not isinstance(node.func, (cst.Name, cst.Attribute)):
            return
        use = f"passed:{names.dotted(node.func)}"
        if self.ctx.qualified_name(node.func) in _CONSUMERS:
            for arg in calls:
                self._check(arg.value, use)  # type: ignore[arg-type]
        elif isinstance(node.func, cst.Name):  # `audit(service.create(data))`, `def audit(partner: Partner)`
            for arg in calls:
                if self._coroutine(arg.value) is not None and _takes_value(self.values, node, arg):  # type: ignore[arg-type]
                    self._check(arg.value, use)  # type: ignore[arg-type]

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if type(node.value) is cst.Call:
            self._assigned([node.target], node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if type(node.value) is cst.Call:
            self._assigned([t.target for t in node.targets], node.value)

    def _assigned(self, targets: list[cst.BaseExpression], call: cst.Call) -> None:
        if any(isinstance(t, (cst.Tuple, cst.List)) for t in targets):
            self._check(call, "unpacked")
        elif len(targets) == 1 and isinstance(targets[0], cst.Name) and self.ctx.function is not None:
            name = targets[0].value
            if self.ctx.parameter(name) is not None:
                return
            found = self._coroutine(call)
            if found is None:
                return
            use = _first_bad_use(self.values, self.ctx.function, name, targets[0])
            if use is not None and not (use == "async for" and found[1]):
                self._report(call, found[0], use, name)

    # -- judging a call ------------------------------------------------------------------

    def _check(self, call: cst.Call, use: str) -> None:
        found = self._coroutine(call)
        if found is not None and not (use == "async for" and found[1]):
            self._report(call, found[0], use, None)

    def _coroutine(self, call: cst.Call) -> tuple[str, bool] | None:
        """Why ``call`` makes a coroutine (for the message), and whether it calls a project
        method: an `async def` stub of a base class may be overridden by an async
        generator, which `async for` may iterate. None when it makes no coroutine."""
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        qual = self.ctx.qualified_name(func)
        if qual in COROUTINE_FUNCTIONS:
            return "a coroutine function", False
        callee = self.values.callee(func)
        if callee is not None:
            if not coroutine_function(callee.info):
                return None
            return f"`{callee.label}` is `async def`", self.ctx.index.class_info(callee.qualname.rpartition(".")[0]) is not None
        client = self.values.coroutine_method(func)
        if client is not None:
            return f"a coroutine method of `{client}`", False
        return None

    def _report(self, call: cst.Call, why: str, use: str, name: str | None) -> None:
        ctx = self.ctx
        shown = f"`{names.dotted(call.func)}()`"
        kind, _, detail = use.partition(":")
        holder = f"`{name}` holds the coroutine {shown} returns ({why}), not its result" if name else (
            f"{shown} returns a coroutine ({why}), not its result"
        )
        subject = f"`{name}`" if name else shown
        fix = None
        if kind in ("discarded", "unused"):
            what = f"`{name}` holds a coroutine never awaited" if name else "the coroutine is never awaited"
            if ctx.in_async_function:
                message = f"{shown} without `await` does nothing ({why}): {what}; add `await`"
                if name is None:
                    fix = ctx.fix("Add `await`", NodeEdit(call, "await ", mode="before"))
            else:
                message = (
                    f"{shown} in sync code does nothing ({why}): {what}; call it with `await` from async "
                    f"code, or run it with `asyncio.run()`"
                )
        elif kind == "attribute":
            message = f"{holder}: `.{detail}` raises `AttributeError: 'coroutine' object has no attribute '{detail}'`; add `await`"
        elif kind == "subscript":
            message = f"{holder}: subscripting it raises `TypeError: 'coroutine' object is not subscriptable`; add `await`"
        elif kind == "iterated":
            message = f"{holder}: iterating it raises `TypeError: 'coroutine' object is not iterable`; add `await`"
        elif kind == "async for":
            message = (
                f"{holder}: `async for` over it raises `TypeError: 'async for' requires an object with __aiter__ "
                f"method, got coroutine`; iterate `await {subject if name else names.dotted(call.func) + '(...)'}`"
            )
        elif kind == "unpacked":
            message = f"{holder}: unpacking it raises `TypeError: cannot unpack non-iterable coroutine object`; add `await`"
        else:  # passed
            message = f"{holder}: `{detail}()` gets the coroutine object instead; add `await`"
        ctx.report(call, message, fix=fix)


def _takes_value(values: AsyncValues, call: cst.Call, arg: cst.Arg) -> bool:
    """``call`` is of a module-level function of the project whose parameter ``arg``
    binds is annotated with a type a coroutine is not (``user: User``, ``data: dict``)."""
    if not isinstance(call.func, cst.Name):
        return False
    callee = values.callee(call.func)
    if callee is None or not transparent(callee.info):
        return False
    params = callee.info.params
    if arg.keyword is not None:
        found = next((p for p in params if p.name == arg.keyword.value and p.kind in ("positional", "keyword_only")), None)
    else:
        before = call.args[: call.args.index(arg)]
        if any(a.star or a.keyword is not None for a in before):
            return False
        positional = [p for p in params if p.kind == "positional"]
        found = positional[len(before)] if len(before) < len(positional) else None
    annotation = found.annotation if found is not None else None
    if annotation is None or not _VALUE_ANNOTATION.fullmatch(annotation):
        return False
    last = annotation.rpartition(".")[2]
    module = values.ctx.index.module(callee.qualname.rpartition(".")[0])
    return len(last) > 1 and last not in _NOT_VALUES and (module is None or last not in module.typevars)


def _first_bad_use(values: AsyncValues, function: cst.FunctionDef, name: str, own: cst.Name) -> str | None:
    """How the coroutine assigned to ``name`` (at ``own``) is used in ``function``: the
    first use that fails (``attribute:x``, ``subscript``, ``iterated``, ``unpacked``,
    ``passed:f``), else ``unused`` when nothing may await it (no read, or only tests such as
    ``if partner is None:``); None when something may (an ``await``, a return, a call it
    is handed to, a container, a nested function, another binding of the name...)."""
    bad: str | None = None
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[tuple[cst.CSTNode, bool]] = [(function.body, False)]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, cst.Name) and node.value == name and node is not own:
            parent = parents.get(node)
            if _not_a_reference(node, parent):
                continue
            if nested:
                return None
            use = _use(values, node, parents)
            if use is None:
                return None
            if use != "test":
                bad = bad or use
            continue
        inner = nested or isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef))
        kids = children(node)
        for kid in kids:
            parents[kid] = node
        kids.reverse()
        stack.extend((kid, inner) for kid in kids)
    return bad or "unused"


def _not_a_reference(node: cst.Name, parent: cst.CSTNode | None) -> bool:
    """A name that is no variable: an attribute's name, a keyword, a def's or import's name."""
    return (
        (isinstance(parent, cst.Attribute) and parent.attr is node)
        or (isinstance(parent, cst.Arg) and parent.keyword is node)
        or isinstance(parent, (cst.ImportAlias, cst.FunctionDef, cst.ClassDef))
    )


def _use(values: AsyncValues, node: cst.Name, parents: dict[cst.CSTNode, cst.CSTNode]) -> str | None:
    """What reading ``node`` does with the coroutine: a failing use, ``test`` (a test of
    it that cannot await it: `if partner is None:`), or None (it may be awaited or handed
    on, or the name is bound again)."""
    parent = parents.get(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return None if parent.attr.value in _COROUTINE_ATTRIBUTES else f"attribute:{parent.attr.value}"
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return "subscript"
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
        return "async for" if parent.asynchronous is not None else "iterated"
    if isinstance(parent, cst.Assign) and parent.value is node:
        return "unpacked" if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in parent.targets) else None
    if isinstance(parent, cst.Arg) and parent.value is node and not parent.star:
        call = parents.get(parent)
        func = names.dotted(call.func) if isinstance(call, cst.Call) else None
        if func is None or not isinstance(call, cst.Call):
            return None
        builtin = f"builtins.{func}" if "." not in func and func not in values.ctx.summary.defined else func
        if builtin in _CONSUMERS:
            return f"passed:{func}"
        if builtin in _READERS:
            aware = builtin == "builtins.isinstance" and any(w in values.ctx.code_for(call) for w in _AWAITABLE_TYPES)
            return None if aware else "test"
        return f"passed:{func}" if _takes_value(values, call, parent) else None
    # A test: its result is a bool, the coroutine goes nowhere.
    child: cst.CSTNode = node
    while isinstance(parent, (cst.BooleanOperation, cst.UnaryOperation, cst.ComparisonTarget, cst.Comparison)):
        if isinstance(parent, cst.UnaryOperation) and not isinstance(parent.operator, cst.Not):
            return None
        if isinstance(parent, (cst.Comparison, cst.ComparisonTarget)) or isinstance(parent, cst.UnaryOperation):
            return "test"
        child, parent = parent, parents.get(parent)
    if isinstance(parent, (cst.If, cst.While, cst.Assert, cst.IfExp)) and parent.test is child:
        return "test"
    return None
