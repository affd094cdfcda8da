"""Where a module's global names are read, for the import rules' fixes (PF301, PF302).

One walk over the module, run only when a rule has something to fix, once per file
(``global_uses(ctx)`` is a fact both rules share): it follows Python's scoping just enough to
tell a module-level name from a function's local of the same name, and records for each read
whether it sits in an annotation (string annotations included) and in which function body,
if any, it runs. It is not part of the shared traversal: a name assigned anywhere in a
function is local to all of it, which source order only tells at the function's end, string
annotations must be parsed and walked, and few files ever need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import libcst as cst

from pitfalls.core import names
from pitfalls.core.semantic import parameters
from pitfalls.core.walker import children
from pitfalls.rules.api import RuleContext


@dataclass(frozen=True)
class NameUse:
    """A read of a module-level name."""

    name: str
    annotation: bool  # inside an annotation
    string: bool  # inside a string annotation (never evaluated at import)
    function: cst.FunctionDef | None  # the outermost `def` whose body holds it; None: runs at import
    klass: cst.ClassDef | None  # the class whose own body holds it (field annotations)


class _Scope:
    """A function, lambda or comprehension scope: the names it binds locally."""

    __slots__ = ("globals", "locals", "parent")

    def __init__(self, parent: _Scope | None, local_names: set[str] | None = None) -> None:
        self.parent = parent
        self.locals: set[str] = local_names or set()
        self.globals: set[str] = set()

    def binds(self, name: str) -> bool:
        scope: _Scope | None = self
        while scope is not None:
            if name in scope.locals and name not in scope.globals:
                return True
            scope = scope.parent
        return False


class _Ctx(NamedTuple):
    scope: _Scope | None  # None at module level
    function: cst.FunctionDef | None
    klass: cst.ClassDef | None
    annotation: bool = False
    string: bool = False
    store: bool = False


# Nodes that stay assignment targets inside a target (`a, [b, *c] = ...`).
_TARGET_PARTS = (cst.Tuple, cst.List, cst.StarredElement, cst.Element)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


def global_uses(ctx: RuleContext) -> list[NameUse]:
    """Every read of a module-level (or builtin) name of the file."""
    return ctx.fact(_global_uses)


def _global_uses(ctx: RuleContext) -> list[NameUse]:
    pending: list[tuple[str, _Ctx]] = []
    stack: list[tuple[cst.CSTNode, _Ctx]] = [(ctx.module, _Ctx(None, None, None))]

    def push(nodes: list[cst.CSTNode | None], ctx: _Ctx) -> None:
        stack.extend((n, ctx) for n in reversed(nodes) if n is not None)

    def bind(c: _Ctx, name: str) -> None:
        # Class bodies bind class attributes, which no function sees: ignore them.
        if c.scope is not None and c.klass is None:
            c.scope.locals.add(name)

    while stack:
        node, c = stack.pop()
        node_type = type(node)  # exact types: isinstance() on libcst's ABCs is slow
        if node_type is cst.Name:
            if c.store:
                bind(c, node.value)
            else:
                pending.append((node.value, c))
        elif node_type in (cst.Import, cst.ImportFrom):
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    bound = names.dotted(alias.asname.name if alias.asname else alias.name) or ""
                    bind(c, bound.split(".")[0])
        elif node_type is cst.Attribute:
            push([node.value], c._replace(store=False))
        elif node_type is cst.Subscript:
            push(children(node), c._replace(store=False))
        elif node_type is cst.Arg:
            push([node.value], c)
        elif node_type is cst.Annotation:
            push([node.annotation], c._replace(annotation=True))
        elif node_type in (cst.SimpleString, cst.ConcatenatedString):
            text = names.string_value(node) if c.annotation and not c.string else None
            if text:
                try:
                    push([cst.parse_expression(text.strip())], c._replace(string=True))
                except cst.ParserSyntaxError:
                    pass
        elif node_type is cst.Assign:
            push([t.target for t in node.targets], c._replace(store=True))
            push([node.value], c)
        elif node_type in (cst.AugAssign, cst.AnnAssign):
            push([node.target], c._replace(store=True))
            push([getattr(node, "annotation", None), node.value], c)
        elif node_type in (cst.For, cst.CompFor):
            push([node.target], c._replace(store=True))
            push([n for n in children(node) if n is not node.target], c)
        elif node_type is cst.NamedExpr:
            push([node.target], c._replace(store=True))
            push([node.value], c)
        elif node_type is cst.WithItem:
            push([node.item], c)
            push([node.asname.name if node.asname else None], c._replace(store=True))
        elif node_type is cst.ExceptHandler:
            push([node.name.name if node.name else None], c._replace(store=True))
            push([node.type, node.body], c)
        elif node_type is cst.Del:
            push([node.target], c._replace(store=True))
        elif node_type is cst.Global:
            if c.scope is not None:
                c.scope.globals.update(item.name.value for item in node.names)
        elif node_type is cst.Nonlocal:
            pass
        elif node_type is cst.FunctionDef:
            bind(c, node.name.value)
            params = parameters(node.params)
            signature = [*node.decorators, *(p.annotation for p in params), *(p.default for p in params)]
            push([*signature, node.returns], c._replace(klass=None))  # a method's annotations are no fields
            scope = _Scope(c.scope, {p.name.value for p in params})
            push([node.body], _Ctx(scope, c.function or node, None))
        elif node_type is cst.Lambda:
            params = parameters(node.params)
            push([p.default for p in params], c)
            push([node.body], c._replace(scope=_Scope(c.scope, {p.name.value for p in params}), klass=None))
        elif node_type is cst.ClassDef:
            bind(c, node.name.value)
            push([*node.decorators, *node.bases, *node.keywords], c)
            push([node.body], c._replace(klass=node))
        elif node_type in _COMPREHENSIONS:
            push(children(node), c._replace(scope=_Scope(c.scope), klass=None))
        elif c.store and node_type not in _TARGET_PARTS:
            push(children(node), c._replace(store=False))
        else:
            push(children(node), c)
    return [
        NameUse(name, c.annotation, c.string, c.function, c.klass)
        for name, c in pending
        if c.scope is None or not c.scope.binds(name)
    ]


def is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
