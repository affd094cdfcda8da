"""What a rule sees of the file it checks: the tree, names, scopes, the project index.

The context follows the shared traversal: it keeps a stack of scopes (module, classes,
functions) with the imports and assignments seen so far, so that rules can ask what a name
refers to or was assigned from without libcst's (costly) scope metadata. Reports hold
nodes; positions are resolved once, after the traversal, and only for files with reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from pitfalls.core import names
from pitfalls.core.diagnostics import Applicability, Position, Severity
from pitfalls.core.index import IndexView
from pitfalls.core.schema import Schemas
from pitfalls.core.summary import ModuleSummary

if TYPE_CHECKING:
    from pitfalls.core.rule import Rule


@dataclass
class NodeEdit:
    """An edit expressed against the tree: replace ``node``'s text, or insert before/after it.

    ``node`` may also be a :class:`Position` for insertions at a known place.
    """

    node: cst.CSTNode | Position
    content: str
    mode: str = "replace"  # "replace", "before", "after", "span"
    through: cst.CSTNode | None = None  # with "replace": replace from node's start to this node's end
    # with "span": from `node`'s start (or end, if from_end) to `to`'s start (or end, if to_end)
    to: cst.CSTNode | None = None
    from_end: bool = False
    to_end: bool = False

    @classmethod
    def span(
        cls, start: tuple[cst.CSTNode, str], end: tuple[cst.CSTNode, str], content: str = ""
    ) -> NodeEdit:
        """Replace the text from one node edge to another, e.g. delete from an argument's
        start to the next argument's start: ``span((arg, "start"), (next_arg, "start"))``.
        Text edits like this keep the surrounding layout, which re-generated nodes lose."""
        return cls(start[0], content, "span", to=end[0], from_end=start[1] == "end", to_end=end[1] == "end")


@dataclass
class PendingFix:
    message: str
    edits: list[NodeEdit]
    applicability: Applicability


@dataclass
class Report:
    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: PendingFix | None
    severity: Severity
    data: dict[str, Any]
    line_node: cst.CSTNode | None = None  # report at this node's line instead


@dataclass
class Scope:
    kind: str  # "module", "class", "function"
    node: cst.CSTNode
    # local name -> qualified name it was imported as
    imports: dict[str, str] = field(default_factory=dict)
    # local name -> last value assigned to it so far (source order); None: unknown
    values: dict[str, cst.BaseExpression | None] = field(default_factory=dict)
    # local name -> annotation (parameters and annotated assignments)
    annotations: dict[str, cst.BaseExpression] = field(default_factory=dict)


class RuleContext:
    def __init__(
        self,
        *,
        path: str,
        source: str,
        module: cst.Module,
        summary: ModuleSummary,
        index: IndexView,
        settings: Any = None,
        schemas: Schemas | None = None,
    ) -> None:
        self.path = path
        self.source = source
        self.module = module
        self.summary = summary
        self.module_name = summary.name
        self.index = index
        self.settings = settings
        self.schemas = schemas or Schemas()  # the Directus and database schemas, when configured
        self.reports: list[Report] = []
        self.scopes: list[Scope] = [self._module_scope()]
        self._self_assignments: dict[int, dict[str, list[cst.BaseExpression]]] = {}
        self.current_rule: type[Rule] | None = None

    # -- reporting ----------------------------------------------------------------------

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: PendingFix | None = None,
        severity: Severity | None = None,
        data: dict[str, Any] | None = None,
        rule: type[Rule] | None = None,
    ) -> None:
        rule = rule or self.current_rule
        assert rule is not None, "report() outside a rule handler needs rule="
        self.reports.append(
            Report(rule, node, message, fix, severity or rule.severity, data or {})
        )

    def fix(
        self, message: str, *edits: NodeEdit, applicability: Applicability | None = None
    ) -> PendingFix:
        rule = self.current_rule
        applicability = applicability or (rule.fix_applicability if rule else None) or Applicability.UNSAFE
        return PendingFix(message, list(edits), applicability)

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    # -- scopes -------------------------------------------------------------------------

    def _module_scope(self) -> Scope:
        scope = Scope("module", self.module)
        for local, qualname in self.summary.bindings.items():
            scope.imports[local] = qualname
        # Module-level assignments are visible to functions defined before them.
        for stmt in _flat_module_statements(self.module.body):
            for target, value, annotation in _assigned(stmt):
                if value is not None:
                    scope.values.setdefault(target, value)
                if annotation is not None:
                    scope.annotations.setdefault(target, annotation)
        return scope

    def push_scope(self, kind: str, node: cst.CSTNode) -> None:
        scope = Scope(kind, node)
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            for param in _all_params(node.params):
                # A parameter's value is unknown, and it hides outer names of its own.
                scope.values[param.name.value] = None
                if param.annotation is not None:
                    scope.annotations[param.name.value] = param.annotation.annotation
        self.scopes.append(scope)

    def pop_scope(self) -> None:
        self.scopes.pop()

    def record_import(self, stmt: cst.Import | cst.ImportFrom) -> None:
        for _, _, bound, target in names.import_bindings(stmt, self.module_name, self.summary.is_package):
            if bound != "*":
                self.scopes[-1].imports[bound] = target

    def record_assignment(self, stmt: cst.CSTNode) -> None:
        """Called when leaving an assignment, so that while its right-hand side is
        visited the name still holds its previous value (``sql = sql + "..."``)."""
        scope = self.scopes[-1]
        if isinstance(stmt, cst.AugAssign):
            if isinstance(stmt.target, cst.Name):
                name = stmt.target.value
                previous = self.value_of(name)
                operator = getattr(cst, type(stmt.operator).__name__.removesuffix("Assign"))()
                scope.values[name] = cst.BinaryOperation(
                    left=previous if previous is not None else stmt.target, operator=operator, right=stmt.value
                )
            return
        if isinstance(stmt, cst.Assign):
            for target in stmt.targets:
                if isinstance(target.target, cst.Name):
                    # A plain assignment rebinds the name: an earlier annotation no longer holds.
                    scope.values[target.target.value] = stmt.value
                    scope.annotations[target.target.value] = None
                else:
                    self.record_unknown(target.target)
            return
        for target, value, annotation in _assigned(stmt):
            if value is not None:
                scope.values[target] = value
            if annotation is not None:
                scope.annotations[target] = annotation

    def record_unknown(self, target: cst.BaseExpression | None) -> None:
        """Names bound to values nobody can know here (loop targets, ``with ... as``,
        ``except ... as``, unpacking) hide outer bindings of the same names."""
        scope = self.scopes[-1]
        stack = [target]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name):
                scope.values[node.value] = None
                scope.annotations[node.value] = None
            elif isinstance(node, (cst.Tuple, cst.List)):
                stack.extend(e.value for e in node.elements)
            elif isinstance(node, cst.StarredElement):
                stack.append(node.value)

    @property
    def function(self) -> cst.FunctionDef | None:
        """The innermost enclosing ``def`` (None at module or class level)."""
        for scope in reversed(self.scopes):
            if scope.kind == "function":
                return scope.node if isinstance(scope.node, cst.FunctionDef) else None
            if scope.kind == "class":
                return None
        return None

    @property
    def in_async_function(self) -> bool:
        """Directly inside an ``async def`` (a nested sync def or lambda does not count)."""
        for scope in reversed(self.scopes):
            if scope.kind == "function":
                node = scope.node
                return isinstance(node, cst.FunctionDef) and node.asynchronous is not None
        return False

    @property
    def enclosing_class(self) -> cst.ClassDef | None:
        for scope in reversed(self.scopes):
            if scope.kind == "class" and isinstance(scope.node, cst.ClassDef):
                return scope.node
        return None

    def _lookup(self, attr: str, name: str) -> Any:
        """Innermost binding of ``name`` in the given scope map, skipping class scopes
        when looking from inside a function (Python's rule)."""
        innermost = True
        for scope in reversed(self.scopes):
            if scope.kind == "class" and not innermost:
                continue
            table = getattr(scope, attr)
            if name in table:
                return table[name]
            innermost = False
        return None

    def value_of(self, name: str) -> cst.BaseExpression | None:
        """The expression last assigned to ``name`` (so far, in source order)."""
        return self._lookup("values", name)

    def annotation_of(self, name: str) -> cst.BaseExpression | None:
        return self._lookup("annotations", name)

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """What a Name/Attribute chain refers to through imports: ``uuid4`` after
        ``from uuid import uuid4`` is ``uuid.uuid4``; a class defined in this module is
        ``<module>.<Class>``. None when the head is not imported or defined here."""
        text = names.dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        base = self._imported_as(head)
        if base is None:
            if head in self.summary.classes or head in self.summary.functions:
                base = f"{self.module_name}.{head}" if self.module_name else head
            elif head in names.BUILTIN_QUALNAMES and head not in self.scopes[0].values:
                base = names.BUILTIN_QUALNAMES[head]
            else:
                base = self._star_imported(head)
                if base is None:
                    return None
        return f"{base}.{rest}" if rest else base

    def _star_imported(self, name: str) -> str | None:
        """``name`` as brought in by a ``from module import *`` of a project module (its
        ``__all__``, else its public names), so rules still see through star imports."""
        if name.startswith("_") or name in self.scopes[0].values:
            return None
        for info in self.summary.imports:
            if info.bound != "*" or info.scope != "module":
                continue
            star = self.index.module(info.module)
            if star is None:
                continue
            exported = star.all_names if star.all_names is not None else star.defined
            if name in exported:
                return f"{info.module}.{name}"
        return None

    def _imported_as(self, name: str) -> str | None:
        """The import ``name`` refers to, unless a local variable or parameter hides it."""
        innermost = True
        for scope in reversed(self.scopes):
            if scope.kind == "class" and not innermost:
                continue
            innermost = False
            if name in scope.imports:
                return scope.imports[name]
            if scope.kind != "module" and name in scope.values:
                return None
        return None

    def class_of_instance(self, expr: cst.BaseExpression) -> str | None:
        """The qualified class name an expression is known to be an instance of: built
        by the class's constructor, annotated with it, or returned by a function annotated
        to return it. Follows plain names through their last assignment."""
        for _ in range(10):
            if isinstance(expr, cst.Call):
                qual = self.qualified_name(expr.func)
                if qual is None:
                    return None
                if self.index.class_info(qual) is not None:
                    return self.index.resolve(qual)
                returned = self.index.function_returns(qual)
                if returned is None and isinstance(expr.func, cst.Name):
                    func = self.summary.functions.get(expr.func.value)
                    returned = func.returns if func else None
                return self.index.resolve(returned) if returned else None
            if isinstance(expr, cst.Await):
                expr = expr.expression
                continue
            if isinstance(expr, cst.Name):
                annotation = self.annotation_of(expr.value)
                if annotation is not None:
                    named = names.annotated_type(annotation)
                    qual = self.qualified_name(named) if named is not None else None
                    if qual and self.index.class_info(qual) is not None:
                        return self.index.resolve(qual)
                    return None
                value = self.value_of(expr.value)
                if value is None or value is expr:
                    return None
                expr = value
                continue
            return None
        return None

    def self_assignments(self, cls: cst.ClassDef) -> dict[str, list[cst.BaseExpression]]:
        """``self.<attr> = value`` assignments in the methods of ``cls``, by attribute."""
        key = id(cls)
        found = self._self_assignments.get(key)
        if found is None:
            from pitfalls.core.walker import iter_nodes

            found = {}
            for node in iter_nodes(cls.body):
                if isinstance(node, cst.Assign):
                    for target in node.targets:
                        t = target.target
                        if isinstance(t, cst.Attribute) and names.dotted(t.value) == "self":
                            found.setdefault(t.attr.value, []).append(node.value)
                elif isinstance(node, cst.AnnAssign) and node.value is not None:
                    t = node.target
                    if isinstance(t, cst.Attribute) and names.dotted(t.value) == "self":
                        found.setdefault(t.attr.value, []).append(node.value)
            self._self_assignments[key] = found
        return found


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


def _flat_module_statements(body: Any) -> list[cst.BaseSmallStatement]:
    out: list[cst.BaseSmallStatement] = []
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, (cst.If, cst.Try)):
            out.extend(_flat_module_statements(stmt.body.body))
    return out


def _assigned(
    stmt: cst.CSTNode,
) -> list[tuple[str, cst.BaseExpression | None, cst.BaseExpression | None]]:
    """(name, value, annotation) for each plain name an assignment statement binds."""
    if isinstance(stmt, cst.Assign):
        return [
            (t.target.value, stmt.value, None)
            for t in stmt.targets
            if isinstance(t.target, cst.Name)
        ]
    if isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
        return [(stmt.target.value, stmt.value, stmt.annotation.annotation)]
    if isinstance(stmt, cst.NamedExpr) and isinstance(stmt.target, cst.Name):
        return [(stmt.target.value, stmt.value, None)]
    return []
