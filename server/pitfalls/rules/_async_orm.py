"""What PF406 knows of ORM instances loaded through an ``AsyncSession``: which expressions
are async sessions, which statements select one mapped class and which relationships their
loader options load, and which relationships of a class load lazily (from the project
index's ``ClassInfo.relationships``, so models of other modules are known).

Everything is read from the source and the index; nothing is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._sessions import ASYNC, SESSION_CLASSES, Sessions
from pitfalls.rules._signatures import annotated_name
from pitfalls.rules.api import RuleContext

ASYNC_SESSIONS = frozenset(name for name, kind in SESSION_CLASSES.items() if kind == ASYNC)
_SELECTS = frozenset(
    {
        "sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.select",
        "sqlalchemy.sql.expression.select", "sqlalchemy.sql._selectable_constructors.select",
        "sqlmodel.select", "sqlmodel.sql.expression.select",
    }
)
# Select methods that keep the selected entity (anything else: the statement is not understood).
_SELECT_METHODS = frozenset(
    {
        "where", "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin", "join_from",
        "outerjoin_from", "distinct", "group_by", "having", "execution_options", "with_for_update",
        "params", "select_from", "correlate", "fetch", "slice", "prefix_with", "suffix_with",
        "with_hint", "where_criteria", "enable_assertions", "options",
    }
)
# Loader option functions: the attributes and strings they name are what they are about.
_LOADER_OPTIONS = frozenset(
    {
        "selectinload", "joinedload", "subqueryload", "immediateload", "lazyload", "noload", "raiseload",
        "defaultload", "contains_eager", "load_only", "defer", "undefer", "undefer_group",
        "with_expression", "selectin_polymorphic", "Load", "with_loader_criteria", "joinedload_all",
        "subqueryload_all", "selectinload_all",
    }
)
_ENTITY_OPTIONS = frozenset({"Load", "selectin_polymorphic", "with_loader_criteria"})
LAZY = "select"  # the one strategy that lazy-loads on first read

ALL = frozenset({"*"})  # every relationship loaded (or loader options nobody can read)


@dataclass(frozen=True)
class Instance:
    """A mapped instance an async session query returned."""

    cls: str  # qualified name of its class
    loaded: frozenset[str]  # relationships the query loads; ALL: unknown
    key: object  # where it was obtained (one instance per key)
    session: object = None  # which session: see `AsyncLoads._session_key`


@dataclass(frozen=True)
class Many:
    """Several such instances: a ``Result`` (``kind="result"``), a ``ScalarResult``
    (``"scalars"``) or a list of them (``"list"``)."""

    cls: str
    loaded: frozenset[str]
    kind: str
    key: object
    session: object = None


Denotation = Instance | Many

_RESULT_METHODS = {
    "result": {"scalars": "scalars", "unique": "result", "scalar_one": "one", "scalar_one_or_none": "one", "scalar": "one"},
    "scalars": {"first": "one", "one": "one", "one_or_none": "one", "all": "list", "fetchall": "list", "unique": "scalars"},
    "list": {},
}


def is_async_session(ctx: RuleContext, expr: cst.BaseExpression) -> bool:
    """Whether ``expr`` is known to hold an ``AsyncSession`` (see :class:`Sessions`), or is
    a ``self.<attr>`` that a base class's ``__init__`` (in any module) sets from a
    parameter of the same name annotated ``AsyncSession``: the guide's service layer,
    ``class BusinessObjectService: def __init__(self, db: AsyncSession): self.db = db``."""
    sessions = ctx.fact(Sessions)
    bound = ctx.with_item(expr.value) if isinstance(expr, cst.Name) else None
    if bound is not None and bound[1] and _is_connection(bound[0]) and sessions.value_kind(bound[0]) != ASYNC:
        return False  # `async with engine.connect() as conn`: rows, not mapped instances
    kind = sessions.kind(expr)
    if kind is not None:
        return kind == ASYNC
    return isinstance(expr, cst.Attribute) and _inherited_session(ctx, expr)


def _is_connection(item: cst.BaseExpression) -> bool:
    """``x.connect()`` or ``x.begin()``: an engine's connection, unless ``x`` is a session
    factory."""
    return isinstance(item, cst.Call) and isinstance(item.func, cst.Attribute) and item.func.attr.value in ("connect", "begin")


def _inherited_session(ctx: RuleContext, expr: cst.Attribute) -> bool:
    node = ctx.enclosing_class
    qualname = ctx.class_qualname(node) if node is not None and names.dotted(expr.value) == "self" else None
    if qualname is None or ctx.attribute_values(expr):
        return False
    attr = expr.attr.value
    for candidate in ctx.index.ancestors(qualname):
        info = ctx.index.class_info(candidate)
        if info is None or info.init is None or attr not in info.init.self_sets:
            continue
        param = next((p for p in info.init.params if p.name == attr.lstrip("_")), None)
        return param is not None and _annotation_is_session(ctx, candidate, param.annotation)
    return False


def _annotation_is_session(ctx: RuleContext, owner: str, annotation: str | None) -> bool:
    """Whether a parameter annotation written in the module of class ``owner`` names an
    ``AsyncSession``."""
    return annotated_name(ctx.index, owner, annotation) in ASYNC_SESSIONS


def selected(ctx: RuleContext, stmt: cst.BaseExpression) -> tuple[str, frozenset[str]] | None:
    """``select(Model)...`` (through the names it was built in): the one mapped class it
    selects and the relationships its loader options name (ALL when an option is not
    understood); None when the statement is not understood."""
    loaded: set[str] = set()
    following: dict[str, cst.BaseExpression] = {}  # name -> the value being read through it
    expr = stmt
    for _ in range(40):
        if isinstance(expr, cst.Name):
            current = following.get(expr.value)
            value = ctx.previous_value(current, expr.value) if current is not None else ctx.value_of(expr.value, local=True)
            if value is None:
                return None
            following[expr.value] = value
            expr = value
            continue
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, cst.Attribute) and ctx.qualified_name(func) not in _SELECTS:
            method = func.attr.value
            if method not in _SELECT_METHODS:
                return None
            if method == "options":
                for arg in expr.args:
                    named = None if arg.star else _option_names(arg.value)
                    if named is None:
                        return None  # an option nobody can read here may load anything
                    loaded |= named
            expr = func.value
            continue
        if ctx.qualified_name(func) not in _SELECTS:
            return None
        if len(expr.args) != 1 or expr.args[0].star or expr.args[0].keyword is not None:
            return None
        entity = ctx.qualified_name(expr.args[0].value)
        if entity is None or ctx.index.class_info(entity) is None:
            return None
        return ctx.index.resolve(entity), frozenset(loaded)
    return None


def _option_names(option: cst.BaseExpression) -> set[str] | None:
    """The attribute names and strings a loader option (``selectinload(A.b).joinedload(B.c)``,
    ``Load(A).selectinload(A.b)``) names; None for anything else, or a ``"*"`` wildcard."""
    found: set[str] = set()
    expr = option
    while True:
        if not isinstance(expr, cst.Call):
            return None
        if names.last_name(expr.func) not in _LOADER_OPTIONS:
            return None
        for arg in expr.args:
            if arg.star:
                return None
            if arg.keyword is not None:
                continue  # `innerjoin=True`, `recursion_depth=...`
            value = arg.value
            if isinstance(value, cst.Attribute):
                found.add(value.attr.value)
            elif isinstance(value, cst.Call) and names.last_name(value.func) == "of_type" and isinstance(value.func, cst.Attribute):
                inner = value.func.value
                if not isinstance(inner, cst.Attribute):
                    return None
                found.add(inner.attr.value)
            elif isinstance(value, cst.Name) and names.last_name(expr.func) in _ENTITY_OPTIONS:
                continue  # `Load(Partner)`: the entity, not an attribute
            else:
                text = names.string_value(value)
                if text is None or text == "*":
                    return None  # `"*"`, or an expression (a variable) nobody can read here
                found.update(text.split("."))
        if not isinstance(expr.func, cst.Attribute):
            return found
        expr = expr.func.value  # a chained option: `joinedload(A.b).selectinload(B.c)`
        if names.dotted(expr) is not None:  # a module: `orm.selectinload(...)`
            return found


def relationship_loader(ctx: RuleContext, cls: str, attr: str) -> str | None:
    """The loader strategy of relationship ``attr`` of mapped class ``cls`` (or the nearest
    base declaring it); None when ``attr`` is no relationship there."""
    for candidate in (cls, *ctx.index.ancestors(cls)):
        info = ctx.index.class_info(candidate)
        if info is None:
            continue
        if attr in info.relationships:
            return info.relationships[attr]
        if attr in info.fields or attr in info.attributes or attr in info.methods:
            return None  # redefined as something else
    return None


def _literal_names(value: cst.BaseExpression) -> frozenset[str] | None:
    """A list/tuple/set of string literals, as names; None otherwise."""
    strings = names.string_collection(value)
    return frozenset(strings) if strings is not None else None


class AsyncLoads:
    """What the async functions of one file obtain from async sessions, as the traversal
    reaches it: the rule feeds it the nodes (assignments, loops, comprehensions, ``async
    with``, refreshes) and asks :meth:`denote` what an expression holds.

    An assignment's value is read when the assignment is visited, before its names are
    rebound, so ``result = await db.execute(stmt)`` means the ``stmt`` of that moment.
    Loop and comprehension variables are bound to the items of what they iterate."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.values: dict[cst.BaseExpression, Denotation] = {}
        self.comprehensions: list[dict[str, Denotation | None]] = []
        self.loops: list[tuple[dict[str, Denotation | None], list]] = []
        # Relationships an instance had assigned, refreshed or awaited (`awaitable_attrs`).
        self.settled: dict[object, set[str]] = {}
        # Per function: the classes its queries returned and the relationships they loaded
        # (those sit in the session's identity map from then on).
        self.queried: dict[tuple[cst.FunctionDef | None, object], tuple[set[str], set[str]]] = {}

    # -- feeding -----------------------------------------------------------------------

    def assigned(self, value: cst.BaseExpression | None) -> None:
        if value is not None:
            found = self.denote(value)
            if found is not None:
                self.values[value] = found

    def settle(self, instance: cst.BaseExpression, attributes: frozenset[str]) -> None:
        found = self.denote(instance)
        if isinstance(found, Instance):
            self.settled.setdefault(found.key, set()).update(attributes)

    def refreshed(self, call: cst.Call) -> None:
        """``await session.refresh(obj, ["rel"])``: the named relationships are loaded
        (unknown names: all of them); without names, lazy relationships stay unloaded."""
        args = [a for a in call.args if not a.star]
        if not args or args[0].keyword is not None:
            return
        attribute_names = next(
            (a.value for a in args[1:] if a.keyword is None or a.keyword.value == "attribute_names"), None
        )
        if attribute_names is None:
            return
        self.settle(args[0].value, _literal_names(attribute_names) or ALL)

    def enter_loop(self, node: cst.For) -> None:
        bound: dict[str, Denotation | None] = {}
        marks = []
        item = self._item_of(node.iter, node) if node.asynchronous is None else None
        for name in names.target_names(node.target):
            bound[name] = item if isinstance(node.target, cst.Name) else None
            marks.append(self.ctx.binding_mark(name))
        self.loops.append((bound, marks))

    def leave_loop(self) -> None:
        self.loops.pop()

    def enter_comprehension(self, node: cst.BaseComp | cst.DictComp) -> None:
        frame: dict[str, Denotation | None] = {}
        first = node.for_in
        item = self._item_of(first.iter, first) if first.asynchronous is None else None
        for_in: cst.CompFor | None = first
        self.comprehensions.append(frame)
        while for_in is not None:
            if for_in is not first:
                item = self._item_of(for_in.iter, for_in) if for_in.asynchronous is None else None
            for name in names.target_names(for_in.target):
                frame[name] = item if isinstance(for_in.target, cst.Name) else None
            for_in = for_in.inner_for_in

    def leave_comprehension(self) -> None:
        self.comprehensions.pop()

    def _item_of(self, iterable: cst.BaseExpression, key: cst.CSTNode) -> Instance | None:
        found = self.denote(iterable)
        if isinstance(found, Many) and found.kind in ("scalars", "list"):
            return Instance(found.cls, found.loaded, key, found.session)
        return None

    # -- asking ------------------------------------------------------------------------

    def loaded(self, instance: Instance) -> frozenset[str] | set[str]:
        settled = self.settled.get(instance.key, set())
        return ALL if ALL <= settled or ALL <= instance.loaded else instance.loaded | settled

    def denote(self, expr: cst.BaseExpression) -> Denotation | None:
        """The instance(s) ``expr`` holds, when an async session query in this function
        returned them; None when that is not known."""
        ctx = self.ctx
        if type(expr) is cst.Name:
            return self._name(expr.value)
        if type(expr) is cst.Await:
            return self._session_call(expr)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and not expr.args:
            base = self.denote(expr.func.value)
            if not isinstance(base, Many):
                return None
            kind = _RESULT_METHODS[base.kind].get(expr.func.attr.value)
            if kind is None:
                return None
            if kind == "one":
                return Instance(base.cls, base.loaded, expr, base.session)
            return Many(base.cls, base.loaded, kind, base.key, base.session)
        if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
            base = self.denote(expr.value)
            if isinstance(base, Many) and base.kind == "list":
                return Instance(base.cls, base.loaded, (base.key, ctx.code_for(expr.slice[0].slice)), base.session)
        return None

    def _name(self, name: str) -> Denotation | None:
        for frame in reversed(self.comprehensions):
            if name in frame:
                return frame[name]
        for bound, marks in reversed(self.loops):
            if name in bound:
                mark = next(m for m in marks if m.name == name)
                if not self.ctx.rebound_since(mark):
                    return bound[name]
                break
        value = self.ctx.value_of(name, local=True)
        return self.values.get(value) if value is not None else None

    def _session_call(self, node: cst.Await) -> Denotation | None:
        call = node.expression
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return None
        method = call.func.attr.value
        if method not in ("get", "get_one", "execute", "scalars", "scalar", "exec"):
            return None
        args = list(call.args)
        if not args or args[0].keyword is not None or args[0].star:
            return None
        if not is_async_session(self.ctx, call.func.value):
            return None
        session = self._session_key(call.func.value)
        if method in ("get", "get_one"):
            entity = self.ctx.qualified_name(args[0].value)
            if entity is None or self.ctx.index.class_info(entity) is None:
                return None
            loaded: set[str] = set()
            for arg in args[1:]:
                if arg.star:
                    return None
                if arg.keyword is not None and arg.keyword.value == "options":
                    if not isinstance(arg.value, (cst.List, cst.Tuple)):
                        return None
                    for element in arg.value.elements:
                        named = None if isinstance(element, cst.StarredElement) else _option_names(element.value)
                        if named is None:
                            return None
                        loaded |= named
            return self._obtained(Instance(self.ctx.index.resolve(entity), frozenset(loaded), node, session))
        found = selected(self.ctx, args[0].value)
        if found is None:
            return None
        cls, loaded_by_query = found
        if method == "scalar":
            return self._obtained(Instance(cls, loaded_by_query, node, session))
        return self._obtained(Many(cls, loaded_by_query, "result" if method == "execute" else "scalars", node, session))

    def _session_key(self, expr: cst.BaseExpression) -> object:
        """One session: the ``async with`` item that bound the name in this function (each
        ``async with factory() as s`` opens another), else the expression as written."""
        if isinstance(expr, cst.Name):
            bound = self.ctx.with_item(expr.value)
            if bound is not None and bound[1]:
                return bound[0]
        return self.ctx.code_for(expr)

    def _obtained(self, found: Denotation) -> Denotation:
        classes, loaded = self.queried.setdefault((self.ctx.function, found.session), (set(), set()))
        classes.add(found.cls)
        loaded |= found.loaded
        return found

    def queried_with(self, instance: Instance) -> tuple[set[str], set[str]]:
        """The classes the queries of the current function on the session ``instance``
        came from returned so far (they sit in its identity map), and the relationships
        their loader options named."""
        return self.queried.get((self.ctx.function, instance.session), (set(), set()))


def relationship_targets(ctx: RuleContext, cls: str, attr: str) -> tuple[bool, set[str] | None]:
    """Whether relationship ``attr`` of ``cls`` is a collection (by its ``Mapped[list[...]]``
    annotation), and the classes its annotation names (None when it has none)."""
    for candidate in (cls, *ctx.index.ancestors(cls)):
        info = ctx.index.class_info(candidate)
        if info is None or attr not in info.relationships:
            continue
        field = info.fields.get(attr)
        if field is None:
            return False, None
        try:
            annotation = cst.parse_expression(field.annotation)
        except cst.ParserSyntaxError:
            return False, None
        inner = annotation
        if isinstance(annotation, cst.Subscript) and names.last_name(annotation.value) == "Mapped" and annotation.slice:
            index = annotation.slice[0].slice
            inner = index.value if isinstance(index, cst.Index) else annotation
        collection = names.element_annotation(inner) is not None
        return collection, {ctx.index.resolve(name) for name in field.annotation_names}
    return False, None
