"""Which SQLAlchemy session an expression holds, a sync ``Session`` or an ``AsyncSession``
(PF409: the sync side; PF405/PF408's ``AsyncValues`` knows the async clients).

A session is known from what built it:

- a session class called: ``Session(engine)``, SQLModel's ``Session``, ``AsyncSession``,
  or a project subclass of one;
- a session factory called: ``SessionLocal()`` (or ``SessionLocal.begin()``) where
  ``SessionLocal = sessionmaker(...)`` makes sync sessions unless its ``class_=`` names an
  async session class (or its ``bind`` is an async engine: a broken set-up, not known),
  ``async_sessionmaker(...)`` async ones, ``scoped_session(factory)`` the factory's (the
  registry also proxies its session: ``Scoped.query(...)``); the factory may be built in
  this module or imported from another module of the project, whose summary records the
  factory and its ``class_=``;
- a function annotated to return a session class (``def get_session() -> Session``);

reached through a name (an assignment, ``with ... as db:``; what ``async with`` enters is
async, a sync ``Session`` cannot be entered so), a ``self.<attr>`` the class builds,
annotates or assigns from an annotated parameter, or a parameter's annotation (``db:
Session``, ``Annotated[Session, Depends(get_db)]``, or this module's alias of one). A
FastAPI parameter holds what its dependency gives, whatever it is annotated: ``db: Session
= Depends(get_db)`` is a sync session only when ``get_db`` is a sync function of the
project (an ``async def`` dependency yields an ``AsyncSession`` in all likelihood, one from
a library nobody here can see). Anything else is not known.
"""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.semantic import parameters
from pitfalls.core.summary import ModuleSummary
from pitfalls.core.walker import iter_nodes
from pitfalls.rules._coroutines import AsyncValues, depends_call
from pitfalls.rules.api import RuleContext

SYNC = "sync"
ASYNC = "async"

SESSION_CLASSES = {
    "sqlalchemy.orm.Session": SYNC,
    "sqlalchemy.orm.session.Session": SYNC,
    "sqlmodel.Session": SYNC,
    "sqlmodel.orm.session.Session": SYNC,
    "sqlalchemy.ext.asyncio.AsyncSession": ASYNC,
    "sqlalchemy.ext.asyncio.session.AsyncSession": ASYNC,
    "sqlmodel.ext.asyncio.session.AsyncSession": ASYNC,
}
_FACTORIES = {
    "sqlalchemy.orm.sessionmaker": SYNC,
    "sqlalchemy.orm.session.sessionmaker": SYNC,
    "sqlalchemy.ext.asyncio.async_sessionmaker": ASYNC,
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": ASYNC,
}
_SCOPED = {
    "sqlalchemy.orm.scoped_session": SYNC,
    "sqlalchemy.orm.scoping.scoped_session": SYNC,
    "sqlalchemy.ext.asyncio.async_scoped_session": ASYNC,
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session": ASYNC,
}
ASYNC_ENGINES = frozenset(
    {"sqlalchemy.ext.asyncio.create_async_engine", "sqlalchemy.ext.asyncio.engine.create_async_engine"}
)
_MAX_HOPS = 5  # `a = b`, `b = c`... followed this far


class Sessions:
    """Which session an expression holds: a fact of the file (``ctx.fact(Sessions)``)."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._known: dict[cst.BaseExpression, str | None] = {}
        self._async_items: set[cst.BaseExpression] = set()

    def note_with(self, node: cst.With) -> None:
        """Rules call it from ``visit_With``: what ``async with`` enters is async (a sync
        ``Session`` has no ``__aenter__``)."""
        if node.asynchronous is not None:
            self._async_items.update(item.item for item in node.items)

    def kind(self, expr: cst.BaseExpression) -> str | None:
        """:data:`SYNC` or :data:`ASYNC` for a session ``expr`` is known to hold; None
        when unknown. Ask while the traversal is at ``expr``: names resolve there."""
        if expr not in self._known:
            self._known[expr] = self._kind(expr, _MAX_HOPS)
        return self._known[expr]

    def value_kind(self, value: cst.BaseExpression) -> str | None:
        """The session a value that is not at the traversal's position holds (what a
        helper function binds a name to), resolving only calls and attributes."""
        if isinstance(value, (cst.Call, cst.Attribute)):
            return self._kind(value, _MAX_HOPS)
        return None

    def class_kind(self, qualname: str | None) -> str | None:
        """The kind of session a class (by qualified name) makes: one of SQLAlchemy's or
        SQLModel's session classes, or a project subclass of one."""
        if not qualname:
            return None
        kinds = set(self.ctx.index.classified(qualname, SESSION_CLASSES))
        return kinds.pop() if len(kinds) == 1 else None

    def parameter_kind(self, param: cst.Param) -> str | None:
        """The session a parameter holds, from its annotation and its FastAPI dependency."""
        if param.annotation is None:
            return None
        annotation = self._alias(param.annotation.annotation)
        kind = self.annotation_kind(annotation)
        if kind is None:
            return None
        depends = depends_call(self.ctx, param.with_changes(annotation=cst.Annotation(annotation)))
        if depends is None:
            return kind  # a plain parameter: its annotation says what callers pass
        if kind == ASYNC:
            return ASYNC
        dependency = next(
            (a.value for i, a in enumerate(depends.args) if (a.keyword is None and i == 0 and not a.star)
             or (a.keyword is not None and a.keyword.value == "dependency")),
            None,
        )
        callee = self.ctx.fact(AsyncValues).callee(dependency) if dependency is not None else None
        return SYNC if callee is not None and not callee.info.is_async else None

    def annotation_kind(self, annotation: cst.BaseExpression) -> str | None:
        named = names.annotated_type(annotation)
        return self.class_kind(self.ctx.qualified_name(named)) if named is not None else None

    # -- how an expression got its value ------------------------------------------------

    def _kind(self, expr: cst.BaseExpression, hops: int) -> str | None:
        if isinstance(expr, cst.Call):
            return self._call_kind(expr, hops)
        if isinstance(expr, cst.Name) and hops:
            return self._name_kind(expr.value, hops - 1)
        if isinstance(expr, cst.Attribute):
            return self._attribute_kind(expr, hops)
        return None

    def _name_kind(self, name: str, hops: int) -> str | None:
        ctx = self.ctx
        found = ctx.with_item(name)
        if found is not None and found[1]:  # `with ... as name:` in this function
            return ASYNC if found[0] in self._async_items else self._kind(found[0], hops)
        param = ctx.parameter(name)
        if param is not None:
            return self.parameter_kind(param)
        value = found[0] if found is not None else ctx.value_of(name)
        if value is not None:
            return self._kind(value, hops)
        annotation = ctx.annotation_of(name)
        return self.annotation_kind(annotation) if annotation is not None else None

    def _call_kind(self, call: cst.Call, hops: int) -> str | None:
        ctx = self.ctx
        qualname = ctx.qualified_name(call.func)
        kind = self.class_kind(qualname)
        if kind is not None:
            return kind
        if qualname in _SCOPED:  # the registry proxies the methods of its sessions
            return self._factory_call_kind(call, hops)
        kind = self._factory_kind(call.func, hops)
        if kind is not None or qualname is None:
            return kind
        returned = ctx.index.function_returns(qualname)
        if returned is None and isinstance(call.func, cst.Name):
            function = ctx.summary.functions.get(call.func.value)
            returned = function.returns if function is not None else None
        return self.class_kind(returned)

    def member_kind(self, cls: cst.ClassDef, attr: str) -> str | None:
        """The session ``self.<attr>`` holds in a module-level class of this module."""
        probe = cst.Attribute(value=cst.Name(cls.name.value), attr=cst.Name(attr))
        return self._attribute_kind(probe, _MAX_HOPS, cls)

    def _attribute_kind(self, expr: cst.Attribute, hops: int, cls: cst.ClassDef | None = None) -> str | None:
        """``self.<attr>``: what the class builds or assigns from an annotated parameter
        into it, else its annotation."""
        ctx = self.ctx
        values = [v for v in ctx.attribute_values(expr) if names.dotted(v) != "None"]
        kinds = set()
        for value in values:
            if isinstance(value, cst.Call):
                kinds.add(self._call_kind(value, hops))
            elif isinstance(value, cst.Name):
                param = _assigning_parameter(cls or ctx.enclosing_class, value)
                kinds.add(self.parameter_kind(param) if param is not None else None)
            else:
                kinds.add(None)
        if not values:
            annotation = ctx.attribute_annotation(expr)
            return self.annotation_kind(annotation) if annotation is not None else None
        return kinds.pop() if len(kinds) == 1 else None

    # -- session factories --------------------------------------------------------------

    def _factory_kind(self, func: cst.BaseExpression, hops: int) -> str | None:
        """The session that calling ``func`` makes, when ``func`` is a session factory."""
        ctx = self.ctx
        if hops <= 0:
            return None
        if isinstance(func, cst.Attribute) and func.attr.value == "begin":  # `SessionLocal.begin()`
            return self._factory_kind(func.value, hops - 1)
        if isinstance(func, cst.Call):  # `sessionmaker(...)()`
            return self._factory_call_kind(func, hops - 1)
        if isinstance(func, cst.Name):
            if ctx.parameter(func.value) is not None:
                return None
            value = ctx.value_of(func.value)
            if isinstance(value, cst.Call):
                return self._factory_call_kind(value, hops - 1)
            if value is not None:
                return self._factory_kind(value, hops - 1)
        if isinstance(func, (cst.Name, cst.Attribute)):
            return self._imported_factory(func)
        return None

    def _factory_call_kind(self, call: cst.Call, hops: int) -> str | None:
        """What sessions ``sessionmaker(...)``/``async_sessionmaker(...)``/``scoped_session(...)`` make."""
        qualname = self.ctx.qualified_name(call.func) or ""
        kind = _FACTORIES.get(qualname)
        if kind == SYNC:
            for position, arg in enumerate(call.args):
                keyword = arg.keyword.value if arg.keyword is not None else None
                if arg.star:
                    return None
                if keyword == "class_":
                    return self.class_kind(self.ctx.qualified_name(arg.value))
                if (keyword == "bind" or (keyword is None and position == 0)) and self._is_async_engine(arg.value, hops):
                    return None
            return SYNC
        if kind is not None:
            return kind
        scoped = _SCOPED.get(qualname)
        if scoped == SYNC:
            for position, arg in enumerate(call.args):
                keyword = arg.keyword.value if arg.keyword is not None else None
                if keyword == "session_factory" or (keyword is None and position == 0 and not arg.star):
                    return self._factory_kind(arg.value, hops)
            return None
        return scoped

    def _imported_factory(self, expr: cst.BaseExpression) -> str | None:
        """A factory another module of the project builds at module level:
        ``from app.db.session import SessionLocal``."""
        found = project_binding(self.ctx, expr)
        if found is None:
            return None
        summary, attr = found
        factory = summary.call_assignments.get(attr, "")
        kind = _FACTORIES.get(factory)
        if kind == SYNC:
            built = getattr(summary, "call_classes", {}).get(attr)
            return self.class_kind(built) if built else SYNC
        return kind if kind is not None else (ASYNC if _SCOPED.get(factory) == ASYNC else None)

    def _is_async_engine(self, expr: cst.BaseExpression, hops: int) -> bool:
        ctx = self.ctx
        for _ in range(hops):
            if isinstance(expr, cst.Call):
                return ctx.qualified_name(expr.func) in ASYNC_ENGINES
            if not isinstance(expr, (cst.Name, cst.Attribute)):
                return False
            value = ctx.value_of(expr.value) if isinstance(expr, cst.Name) else None
            if value is None:
                found = project_binding(ctx, expr)
                return found is not None and found[0].call_assignments.get(found[1]) in ASYNC_ENGINES
            expr = value
        return False

    # -- parameters ----------------------------------------------------------------------

    def _alias(self, annotation: cst.BaseExpression) -> cst.BaseExpression:
        """A module-level alias of this module (``DbSession = Annotated[Session,
        Depends(get_db)]``) stands for its value."""
        if isinstance(annotation, cst.Name) and annotation.value not in self.ctx.summary.classes:
            value = self.ctx.value_of(annotation.value)
            if isinstance(value, cst.Subscript) and annotation.value in self.ctx.summary.defined:
                return value
        return annotation


def project_binding(ctx: RuleContext, expr: cst.BaseExpression) -> tuple[ModuleSummary, str] | None:
    """The summary of the project module that defines what a name (or ``module.name``)
    refers to, with the name there: ``SessionLocal`` after ``from app.db import
    SessionLocal`` is ``SessionLocal`` of ``app.db`` (through re-exports)."""
    qualname = ctx.qualified_name(expr)
    if qualname is None:
        return None
    module, _, attr = ctx.index.resolve(qualname).rpartition(".")
    summary = ctx.index.module(module) if module else None
    return (summary, attr) if summary is not None else None


def _assigning_parameter(cls: cst.ClassDef | None, value: cst.Name) -> cst.Param | None:
    """The parameter a method of ``cls`` assigns to ``self.<attr>`` as ``value``:
    ``def __init__(self, db: Session): self.db = db``."""
    if cls is None:
        return None
    for stmt in cls.body.body:
        if not isinstance(stmt, cst.FunctionDef):
            continue
        param = next((p for p in parameters(stmt.params) if p.name.value == value.value), None)
        if param is not None and any(node is value for node in iter_nodes(stmt.body)):
            return param
    return None
