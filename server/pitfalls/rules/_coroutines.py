"""What PF405 and PF408 share: which calls make a coroutine, and which values are async
clients (an ``AsyncSession``, an ``httpx.AsyncClient``, a ``redis.asyncio`` client).

A call makes a coroutine when it calls a project ``async def`` (a function, a method through
the receiver's class and its bases, ``super()``, a class or a module-level instance another
module builds) that is no async generator and has no decorator that may change what calling
it returns, a coroutine method of a known async client, or an ``asyncio`` coroutine
function. A value is an async client when it was built by one (``AsyncSession(engine)``, an
``async_sessionmaker``'s or a ``sessionmaker(class_=AsyncSession)``'s call, ``async with``
of one, or of a project ``@asynccontextmanager`` yielding one), is annotated so, is a FastAPI
parameter whose ``Depends(...)`` dependency yields one (whatever the parameter's annotation
says), or a ``self.<attr>`` assigned one (or a parameter so annotated) in the class.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import FunctionInfo
from pitfalls.core.walker import iter_statements
from pitfalls.rules._http import HTTP_METHODS
from pitfalls.rules.api import RuleContext, name_mediated

ASYNC_SESSION = "AsyncSession"
ASYNC_HTTP = "httpx.AsyncClient"
ASYNC_REDIS = "redis.asyncio.Redis"
ASYNC_ENGINE = "AsyncEngine"
ASYNC_CONNECTION = "AsyncConnection"

_SESSIONS = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
# What builds (when called) or names (as an annotation) an async client.
ASYNC_CLIENTS: dict[str, str] = {
    **dict.fromkeys(_SESSIONS, ASYNC_SESSION),
    "httpx.AsyncClient": ASYNC_HTTP,
    "sqlalchemy.ext.asyncio.create_async_engine": ASYNC_ENGINE,
    "sqlalchemy.ext.asyncio.engine.create_async_engine": ASYNC_ENGINE,
    "sqlalchemy.ext.asyncio.AsyncEngine": ASYNC_ENGINE,
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": ASYNC_ENGINE,
    "sqlalchemy.ext.asyncio.AsyncConnection": ASYNC_CONNECTION,
    "sqlalchemy.ext.asyncio.engine.AsyncConnection": ASYNC_CONNECTION,
    **dict.fromkeys(
        (
            "redis.asyncio.Redis", "redis.asyncio.StrictRedis", "redis.asyncio.from_url",
            "redis.asyncio.Redis.from_url", "redis.asyncio.StrictRedis.from_url", "redis.asyncio.client.Redis",
            "redis.asyncio.client.StrictRedis", "aioredis.Redis", "aioredis.StrictRedis", "aioredis.from_url",
            "aioredis.Redis.from_url", "aioredis.client.Redis",
        ),
        ASYNC_REDIS,
    ),
}
_ASYNC_FACTORIES = frozenset({"sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.session.async_sessionmaker"})
_SYNC_FACTORIES = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends", "fastapi.param_functions.Depends", "fastapi.Security"})

# The coroutine methods of each client (None: every method but _REDIS_NOT_COROUTINES).
SESSION_COROUTINES = frozenset(
    {
        "close", "commit", "connection", "delete", "execute", "flush", "get", "get_one", "invalidate", "merge",
        "refresh", "reset", "rollback", "run_sync", "scalar", "scalars", "stream", "stream_scalars", "exec",
    }
)
_COROUTINE_METHODS: dict[str, frozenset[str] | None] = {
    ASYNC_SESSION: SESSION_COROUTINES,
    ASYNC_HTTP: HTTP_METHODS | {"send", "aclose"},
    ASYNC_REDIS: None,
    ASYNC_ENGINE: frozenset({"dispose"}),
    ASYNC_CONNECTION: frozenset(
        {
            "execute", "scalar", "scalars", "stream", "stream_scalars", "run_sync", "commit", "rollback", "close",
            "invalidate", "exec_driver_sql", "get_raw_connection", "start",
        }
    ),
}
# redis.asyncio methods that return something other than a coroutine.
_REDIS_NOT_COROUTINES = frozenset(
    {
        "pipeline", "pubsub", "lock", "register_script", "monitor", "client", "scan_iter", "sscan_iter",
        "hscan_iter", "zscan_iter", "get_encoder", "get_connection_kwargs", "get_retry", "set_retry",
        "set_response_callback", "load_external_module", "from_url", "from_pool", "json", "ft", "ts", "bf",
        "cf", "cms", "topk", "tdigest", "graph", "connection_pool", "connection", "response_callbacks",
    }
)
COROUTINE_FUNCTIONS = frozenset(
    {
        "asyncio.sleep", "asyncio.wait_for", "asyncio.wait", "asyncio.to_thread", "asyncio.open_connection",
        "asyncio.start_server", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
        "asyncio.tasks.sleep",
    }
)
# Decorators that leave an `async def` a coroutine function.
_TRANSPARENT = frozenset(
    {
        "staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod", "abc.abstractmethod",
        "typing.override", "typing_extensions.override", "typing.final", "typing_extensions.final",
        "functools.cache", "functools.lru_cache", "async_lru.alru_cache", "tenacity.retry",
        "backoff.on_exception", "backoff.on_predicate",
    }
)
_CONTEXT_MANAGERS = frozenset({"asynccontextmanager", "contextmanager"})
_MAX_HOPS = 5


@dataclass(frozen=True)
class Callee:
    """A project function or method a call reaches."""

    qualname: str  # `app.services.PartnerService.create_partner`, `app.db.get_db`
    info: FunctionInfo

    @property
    def label(self) -> str:
        parts = self.qualname.split(".")
        return ".".join(parts[-2:]) if len(parts) > 1 and parts[-2][:1].isupper() else parts[-1]


def transparent(info: FunctionInfo) -> bool:
    """No decorator that may change what calling the function returns."""
    return all(d in _TRANSPARENT for d in info.decorators)


def coroutine_function(info: FunctionInfo) -> bool:
    """Calling it makes a coroutine: an ``async def`` without ``yield`` or a decorator that
    may change that."""
    return info.is_async and not info.is_async_generator and transparent(info)


def is_context_manager(info: FunctionInfo) -> bool:
    return any(d.rpartition(".")[2] in _CONTEXT_MANAGERS for d in info.decorators)


# Name-mediated as far as instance_class goes (its one memo is by class and method, from
# the class's code): what function-local rules ask of it (PF209). ``callee``'s memo is by
# node, answered where the walk first asks: rules that ask it are not function-local.
@name_mediated
class AsyncValues:
    """Which calls reach which project functions, and which async client an expression
    holds: a fact of the file (``ctx.fact(AsyncValues)``), shared by PF405 and PF408. Ask
    while the traversal is at the expression: answers depend on the names in scope."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._clients: dict[cst.BaseExpression, str | None] = {}
        self._callees: dict[cst.BaseExpression, Callee | None] = {}
        self._self_params: dict[tuple[cst.ClassDef, str], list[tuple[cst.FunctionDef, cst.Param]]] = {}
        self._async_items: set[cst.BaseExpression] = set()

    # -- project functions --------------------------------------------------------------

    def callee(self, func: cst.BaseExpression) -> Callee | None:
        """The project function or method ``func`` (a call's ``func``) names."""
        if func not in self._callees:
            self._callees[func] = self._callee(func)
        return self._callees[func]

    def _callee(self, func: cst.BaseExpression) -> Callee | None:
        ctx = self.ctx
        if type(func) is cst.Attribute:
            receiver = func.value
            method = func.attr.value
            if isinstance(receiver, cst.Call) and names.dotted(receiver.func) == "super" and not receiver.args:
                return self._super_method(method)
            cls = self.instance_class(receiver)
            if cls is not None:
                return self._method(cls, method)
        qual = ctx.qualified_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if qual is None:
            return None
        qual = ctx.index.resolve(qual)
        owner, _, name = qual.rpartition(".")
        if not owner:
            return None
        if ctx.index.class_info(owner) is not None:  # `Service.create(...)`
            return self._method(owner, name)
        cls = self._module_instance(owner)  # `crud_user.create(...)`, `crud_user` built elsewhere
        if cls is not None:
            return self._method(cls, name)
        summary = ctx.index.find(owner)
        info = ctx.index.entry(summary, "function", name) if summary is not None else None
        if info is None or (isinstance(func, cst.Name) and func.value in self._nested_defs()):
            return None  # not a project function, or a `def` of the function hides it
        return Callee(qual, info)

    def _nested_defs(self) -> frozenset[str]:
        """The names ``def`` statements bind inside the current function (none of them is
        a binding the semantic layer records)."""
        function = self.ctx.function
        if function is None:
            return frozenset()
        return self.ctx.node_fact(_nested_def_names, function)

    def _method(self, cls: str, name: str) -> Callee | None:
        found = self.ctx.index.method(cls, name)
        return Callee(f"{found[0]}.{name}", found[1]) if found is not None else None

    def _super_method(self, name: str) -> Callee | None:
        ctx = self.ctx
        cls = ctx.enclosing_class
        qual = ctx.class_qualname(cls) if cls is not None else None
        if qual is None:
            return None
        for base in ctx.index.ancestors(qual):
            info = ctx.index.class_info(base)
            if info is not None and name in info.methods:
                return Callee(f"{base}.{name}", info.methods[name])
        return None

    def instance_class(self, expr: cst.BaseExpression) -> str | None:
        """The project class ``expr`` is an instance of: ``self``/``cls`` in a method, what
        the semantic layer knows, or a module-level instance another module builds."""
        ctx = self.ctx
        if isinstance(expr, cst.Name) and expr.value in ("self", "cls"):
            return self._self_class(expr.value)
        found = ctx.class_of_instance(expr)
        if found is not None:
            return found
        if type(expr) is cst.Attribute and names.dotted(expr.value) in ("self", "cls"):
            return self._parameter_class(expr)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            if isinstance(expr, cst.Name) and (ctx.value_of(expr.value) is not None or ctx.annotation_of(expr.value) is not None):
                return None
            qual = ctx.qualified_name(expr)
            return self._module_instance(ctx.index.resolve(qual)) if qual else None
        return None

    def _self_class(self, name: str) -> str | None:
        """The class of ``self``/``cls``: the first parameter of the method (of the class
        it is directly in) holding the position, or of the one a nested function is in."""
        ctx = self.ctx
        if ctx.value_of(name) is not None:
            return None  # rebound
        method = ctx.enclosing_method()
        if method is None and ctx.parameter(name) is None:
            method = ctx.enclosing_method(outermost=True)
        if method is None or not isinstance(method[1], cst.FunctionDef):
            return None
        function = method[1]
        params = function.params.params
        if not params or params[0].name.value != name:
            return None
        if any(names.dotted(d.decorator) == "staticmethod" for d in function.decorators):
            return None
        return ctx.class_qualname(method[0])

    def _parameter_class(self, expr: cst.Attribute) -> str | None:
        """The class of ``self.<attr>`` when every assignment to it is a parameter
        annotated with one project class (``self.repo = repo`` from ``repo: Repo``)."""
        ctx = self.ctx
        values = [v for v in ctx.attribute_values(expr) if names.dotted(v) != "None"]
        params = self._self_parameters(expr)
        found: set[str | None] = set()
        for value in values:
            candidates = params.get(value.value, []) if isinstance(value, cst.Name) else []
            if not candidates:
                return None
            for param in candidates:
                named = names.annotated_type(param.annotation.annotation) if param.annotation is not None else None
                qual = ctx.qualified_name(named) if named is not None else None
                found.add(ctx.index.resolve(qual) if qual and ctx.index.class_info(qual) is not None else None)
        return found.pop() if len(found) == 1 else None

    def _module_instance(self, qual: str) -> str | None:
        """``app.crud.crud_user`` where module ``app.crud`` has ``crud_user = CRUDUser(...)``:
        ``app.crud.CRUDUser`` (resolved)."""
        module, _, name = qual.rpartition(".")
        summary = self.ctx.index.find(module) if module else None
        built = self.ctx.index.entry(summary, "call_assignment", name) if summary is not None else None
        if built is None or self.ctx.index.class_info(built) is None:
            return None
        return self.ctx.index.resolve(built)

    # -- async clients ------------------------------------------------------------------

    def client_type(self, expr: cst.BaseExpression) -> str | None:
        """ASYNC_SESSION, ASYNC_HTTP or ASYNC_REDIS when ``expr`` is known to hold one."""
        if expr not in self._clients:
            self._clients[expr] = self._type(expr, _MAX_HOPS)
        return self._clients[expr]

    def coroutine_method(self, func: cst.BaseExpression) -> str | None:
        """The client type when ``func`` is a coroutine method of a known async client."""
        if type(func) is not cst.Attribute:
            return None
        client = self.client_type(func.value)
        if client is None:
            return None
        methods = _COROUTINE_METHODS[client]
        method = func.attr.value
        if methods is None:
            return client if not method.startswith("_") and method not in _REDIS_NOT_COROUTINES else None
        return client if method in methods else None

    def _type(self, expr: cst.BaseExpression, hops: int) -> str | None:
        if hops <= 0:
            return None
        if isinstance(expr, cst.Call):
            return self._call_type(expr, hops - 1)
        if isinstance(expr, cst.Await) and isinstance(expr.expression, cst.Call):
            callee = self.callee(expr.expression.func)  # `db = await get_session()`
            if callee is not None and coroutine_function(callee.info):
                return self._qual_type(callee.info.returns, hops - 1, called=False)
            return None
        if isinstance(expr, cst.Name):
            return self._name_type(expr.value, hops - 1)
        if isinstance(expr, cst.Attribute):
            return self._attribute_type(expr, hops - 1)
        return None

    def _call_type(self, call: cst.Call, hops: int) -> str | None:
        ctx = self.ctx
        built = self.named_client(ctx.qualified_name(call.func))
        if built is not None:
            return built
        if self._is_factory(call.func, hops):
            return ASYNC_SESSION
        callee = self.callee(call.func)
        if callee is not None and not callee.info.is_async and transparent(callee.info):
            return self._qual_type(callee.info.returns, hops, called=False)
        return None

    def _with_type(self, item: cst.BaseExpression, is_async: bool, hops: int) -> str | None:
        """What ``with item as name`` binds ``name`` to (clients enter as themselves)."""
        if not isinstance(item, cst.Call):
            return self._type(item, hops)
        func = item.func
        if is_async and isinstance(func, cst.Attribute) and func.attr.value == "begin" and self._is_factory(func.value, hops):
            return ASYNC_SESSION  # `async with factory.begin() as session:`
        if isinstance(func, cst.Attribute) and func.attr.value in ("begin", "connect"):
            if self.client_type(func.value) == ASYNC_ENGINE:
                return ASYNC_CONNECTION  # `async with engine.begin() as conn:`
        callee = self.callee(func)
        if callee is not None and is_context_manager(callee.info):
            return self.yielded_type(callee.info, hops)
        return self._call_type(item, hops)

    def yielded_type(self, info: FunctionInfo, hops: int = _MAX_HOPS) -> str | None:
        """The client an async generator (a dependency, an ``@asynccontextmanager``) yields."""
        if not info.is_async_generator:
            return None
        if info.yield_type is not None:
            return self.named_client(info.yield_type)
        return self._qual_type(info.yields_call, hops - 1, called=True, entered=True)

    def _qual_type(self, qual: str | None, hops: int, *, called: bool, entered: bool = False) -> str | None:
        """The client a qualified name names (``called``: what calling it returns;
        ``entered``: what ``async with`` of that call gives)."""
        if qual is None or hops <= 0:
            return None
        ctx = self.ctx
        qual = ctx.index.resolve(qual)
        named = self.named_client(qual)
        if named is not None:
            return named
        if not called:
            return None
        module, _, name = qual.rpartition(".")
        summary = ctx.index.find(module) if module else None
        if summary is None:
            return None
        entry = ctx.index.entry
        if self._factory_call(entry(summary, "call_assignment", name), entry(summary, "call_class", name)):
            return ASYNC_SESSION
        info = entry(summary, "function", name)
        if info is None:
            return None
        if entered and is_context_manager(info):
            return self.yielded_type(info, hops - 1)
        if not info.is_async and transparent(info):
            return self._qual_type(info.returns, hops - 1, called=False)
        return None

    def _factory_call(self, factory: str | None, built: str | None) -> bool:
        """A session factory: an ``async_sessionmaker``, or a ``sessionmaker`` of
        ``AsyncSession`` (``class_=AsyncSession``)."""
        if factory is None:
            return False
        factory = self.ctx.index.resolve(factory)
        if factory in _ASYNC_FACTORIES:
            return True
        return factory in _SYNC_FACTORIES and built is not None and self.ctx.index.resolve(built) in _SESSIONS

    def _is_factory(self, func: cst.BaseExpression, hops: int) -> bool:
        """``func`` holds an async session factory (``Local`` of ``Local()``): assigned in
        this file (a name, a ``self.<attr>``), or a module-level name another module builds."""
        ctx = self.ctx
        if isinstance(func, cst.Name):
            value = ctx.value_of(func.value)
            if value is not None or ctx.parameter(func.value) is not None:
                return isinstance(value, cst.Call) and self._builds_factory(value)
        elif isinstance(func, cst.Attribute):
            values = [v for v in ctx.attribute_values(func) if names.dotted(v) != "None"]
            if values:
                return len(values) == 1 and isinstance(values[0], cst.Call) and self._builds_factory(values[0])
        else:
            return False
        qual = ctx.qualified_name(func)
        return qual is not None and self._qual_type(qual, hops, called=True) == ASYNC_SESSION

    def _builds_factory(self, call: cst.Call) -> bool:
        built = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "class_"), None)
        return self._factory_call(
            self.ctx.qualified_name(call.func), self.ctx.qualified_name(built) if built is not None else None
        )

    def _name_type(self, name: str, hops: int) -> str | None:
        ctx = self.ctx
        found = ctx.with_item(name)
        if found is not None and found[1] and ctx.value_of(name, local=True) is None:
            return self._with_type(found[0], self._in_async_with(found[0]), hops)
        param = ctx.parameter(name)
        if param is not None and ctx.value_of(name, local=True) is None:
            return self.parameter_type(param)
        value = ctx.value_of(name)
        if value is not None:
            return self._type(value, hops)
        annotation = ctx.annotation_of(name)
        if annotation is not None:
            return self._annotation_type(annotation)
        qual = ctx.qualified_name(cst.Name(name))
        if qual is None:
            return None
        module, _, attr = ctx.index.resolve(qual).rpartition(".")
        summary = ctx.index.find(module) if module else None
        if summary is None:
            return None
        built = ctx.index.entry(summary, "call_assignment", attr)  # `redis_client = Redis(...)` in another module
        return self.named_client(built)

    def _in_async_with(self, item: cst.BaseExpression) -> bool:
        return item in self._async_items

    def note_with(self, node: cst.With) -> None:
        """Rules call it from ``visit_With``: which ``with`` items are entered by ``async with``."""
        if node.asynchronous is not None:
            self._async_items.update(item.item for item in node.items)

    def parameter_type(self, param: cst.Param) -> str | None:
        """A parameter's client: its ``Depends(...)`` dependency's first, then its annotation."""
        depends = depends_call(self.ctx, param)
        if depends is not None:
            found = self.dependency_type(depends)
            if found is not None:
                return found
        if param.annotation is None:
            return None
        return self._annotation_type(param.annotation.annotation)

    def dependency_type(self, depends: cst.Call) -> str | None:
        """The client a ``Depends(dependency)`` provides: what an async generator yields,
        or what an ``async def`` returns."""
        dependency = depends.args[0].value if depends.args and depends.args[0].keyword is None else None
        for arg in depends.args:
            if arg.keyword is not None and arg.keyword.value == "dependency":
                dependency = arg.value
        if dependency is None:
            return None
        callee = self.callee(dependency)
        if callee is None or not callee.info.is_async or not transparent(callee.info):
            return None
        if callee.info.is_async_generator:
            return self.yielded_type(callee.info)
        return self._qual_type(callee.info.returns, _MAX_HOPS, called=False)

    def _annotation_type(self, annotation: cst.BaseExpression) -> str | None:
        named = names.annotated_type(annotation)
        qual = self.ctx.qualified_name(named) if named is not None else None
        return self.named_client(qual)

    def named_client(self, qual: str | None) -> str | None:
        """The client a qualified name builds or names: a client, or a project class
        derived from one (``class RedisCli(Redis)``)."""
        if qual is None:
            return None
        return next(iter(self.ctx.index.classified(qual, ASYNC_CLIENTS)), None)

    def _attribute_type(self, expr: cst.Attribute, hops: int) -> str | None:
        """``self.<attr>``: its annotation, what every assignment builds, or the annotation
        (or ``Depends``) of the parameter a method assigns it from."""
        ctx = self.ctx
        annotation = ctx.attribute_annotation(expr)
        if annotation is not None:
            return self._annotation_type(annotation)
        values = [v for v in ctx.attribute_values(expr) if names.dotted(v) != "None"]
        if not values:
            return None
        found: set[str | None] = set()
        params = self._self_parameters(expr)
        for value in values:
            if isinstance(value, cst.Call):
                found.add(self._call_type(value, hops))
            elif isinstance(value, cst.Name) and value.value in params:
                found.update(self.parameter_type(param) for param in params[value.value])
            else:
                return None
        return found.pop() if len(found) == 1 else None

    def _self_parameters(self, expr: cst.Attribute) -> dict[str, list[cst.Param]]:
        """The parameters of the class's methods that ``self.<attr> = <parameter>`` assigns
        (a parameter name the method does not rebind before)."""
        cls = self.ctx.enclosing_class
        if cls is None or names.dotted(expr.value) not in ("self", "cls"):
            return {}
        key = (cls, expr.attr.value)
        if key not in self._self_params:
            found: list[tuple[cst.FunctionDef, cst.Param]] = []
            for stmt in cls.body.body:
                if isinstance(stmt, cst.FunctionDef):
                    found.extend((stmt, p) for p in _assigned_parameters(stmt, expr.attr.value))
            self._self_params[key] = found
        out: dict[str, list[cst.Param]] = {}
        for _, param in self._self_params[key]:
            out.setdefault(param.name.value, []).append(param)
        return out


def depends_call(ctx: RuleContext, param: cst.Param) -> cst.Call | None:
    """The ``Depends(...)`` of a FastAPI parameter: its default, or in ``Annotated[T, Depends(...)]``."""
    candidates: list[cst.BaseExpression] = []
    if param.default is not None:
        candidates.append(param.default)
    annotation = param.annotation.annotation if param.annotation is not None else None
    if isinstance(annotation, cst.Subscript) and names.last_name(annotation.value) == "Annotated":
        candidates.extend(e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index))
    for candidate in candidates:
        if isinstance(candidate, cst.Call) and ctx.qualified_name(candidate.func) in _DEPENDS:
            return candidate
    return None


def _assigned_parameters(function: cst.FunctionDef, attr: str) -> list[cst.Param]:
    """The parameters ``function`` assigns to ``self.<attr>`` directly (``self.db = db``)."""
    params = {p.name.value: p for p in (*function.params.params, *function.params.kwonly_params)}
    me = function.params.params[0].name.value if function.params.params else None
    out = []
    for stmt in iter_statements(function.body):
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and isinstance(small.value, cst.Name) and small.value.value in params:
                for target in small.targets:
                    node = target.target
                    if isinstance(node, cst.Attribute) and node.attr.value == attr and names.dotted(node.value) == me:
                        out.append(params[small.value.value])
            elif isinstance(small, cst.Assign):
                # `db = other` before `self.db = db`: that parameter no longer says what it holds.
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        params.pop(target.target.value, None)
    return out


def _nested_def_names(function: cst.FunctionDef) -> frozenset[str]:
    """The names the ``def`` statements inside ``function`` bind."""
    return frozenset(stmt.name.value for stmt in iter_statements(function.body) if type(stmt) is cst.FunctionDef)
