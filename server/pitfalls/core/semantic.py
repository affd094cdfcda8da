"""The per-file semantic layer: scopes, bindings, values, and where the traversal is.

The runner's single traversal drives it (``push_scope``, ``record_assignment``...), so at
each node it knows what a name was imported as or last assigned, without libcst's (costly)
scope metadata and without a second walk. It is the one place that tracks bindings: rules
ask it questions and never see its scopes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from pitfalls.core import names
from pitfalls.core.assignments import ClassAttributes, assigned, flat_statements
from pitfalls.core.index import IndexView
from pitfalls.core.summary import ModuleSummary, local_class_info
from pitfalls.core.summary_data import BUILTIN_QUALNAMES
from pitfalls.core.walker import module_level_statements

_UNBOUND = object()


@dataclass
class Scope:
    kind: str  # "module", "class", "function"
    node: cst.CSTNode
    # local name -> qualified name it was imported as
    imports: dict[str, str] = field(default_factory=dict)
    # local name -> last value assigned to it so far (source order); None: unknown
    values: dict[str, cst.BaseExpression | None] = field(default_factory=dict)
    # local name -> annotation (parameters and annotated assignments); None: rebound since
    annotations: dict[str, cst.BaseExpression | None] = field(default_factory=dict)
    in_async: bool = False  # the innermost function holding this scope is an `async def`


@dataclass(frozen=True)
class BindingMark:
    """Where and to what a name was bound, to tell later whether the code rebound it."""

    name: str
    depth: int
    scope: Scope
    value: object


class Semantic:
    """Bindings and values of one file as the traversal reaches them (the base of RuleContext)."""

    def __init__(self, module: cst.Module, summary: ModuleSummary, index: IndexView) -> None:
        self.module = module
        self.summary = summary
        self.module_name = summary.name
        self.index = index
        self._scopes: list[Scope] = [self._module_scope()]
        self._class_attributes: dict[cst.ClassDef, ClassAttributes] = {}
        self._classes: dict[str, cst.ClassDef] | None = None
        self._local_classes: dict[cst.ClassDef, str] = {}
        # Kept by node, not id(): an assignment's value may be a node built here (`+=`),
        # whose id a later one could reuse.
        self._previous: dict[tuple[cst.BaseExpression, str], cst.BaseExpression] = {}
        self._appended: dict[cst.BaseExpression, list[cst.BaseExpression]] = {}
        self._annotated: set[cst.BaseExpression] = set()
        # For each enclosing `with`: its node, its function, and what `as name` binds each name to.
        self._withs: list[tuple[cst.With, cst.FunctionDef | None, dict[str, cst.BaseExpression]]] = []
        # qualified_name's answers until the bindings change (by id, kept with their node).
        self._qualified: dict[int, tuple[cst.BaseExpression, str | None]] = {}
        self._instances: dict[int, tuple[cst.BaseExpression, str | None]] = {}  # class_of_instance's, likewise
        # The modules `from module import *` imports at module level (most files: none).
        self._star_modules = [i.module for i in summary.imports if i.bound == "*" and i.scope == "module"]

    # -- recording (called by the runner as the traversal passes) -----------------------

    def bindings_changed(self) -> None:
        """Called by the runner after each recording below (rules ask again, not the memo)."""
        self._qualified.clear()
        self._instances.clear()

    def _module_scope(self) -> Scope:
        scope = Scope("module", self.module)
        for local, qualname in self.summary.bindings.items():
            scope.imports[local] = qualname
        # Module-level assignments are visible to functions defined before them.
        for stmt in flat_statements(self.module.body):
            for target, value, annotation in assigned(stmt):
                if value is not None:
                    scope.values.setdefault(target, value)
                if annotation is not None:
                    scope.annotations.setdefault(target, annotation)
        return scope

    def push_scope(self, node: cst.FunctionDef | cst.Lambda | cst.ClassDef) -> None:
        """Entering a function's (or lambda's) body or a class's."""
        is_class = type(node) is cst.ClassDef
        scope = Scope("class" if is_class else "function", node)
        if is_class:  # a class body runs in its enclosing function
            scope.in_async = self._scopes[-1].in_async
        else:
            scope.in_async = type(node) is cst.FunctionDef and node.asynchronous is not None  # (a lambda never is)
            packed = (node.params.star_arg, node.params.star_kwarg)  # a tuple, a dict: not what the annotation names
            for param in parameters(node.params):
                # A parameter's value is unknown, and it hides outer names of its own.
                scope.values[param.name.value] = None
                if param.annotation is not None and not any(param is p for p in packed):
                    scope.annotations[param.name.value] = param.annotation.annotation
        self._scopes.append(scope)

    def record_class(self, node: cst.ClassDef) -> None:
        """A class statement binds its name in the enclosing scope; a class defined
        inside a function becomes known to the index as ``module.func.<locals>.Cls``."""
        if not any(scope.kind == "function" for scope in self._scopes):
            return
        path = [
            f"{scope.node.name.value}.<locals>" if isinstance(scope.node, cst.FunctionDef)
            else "<lambda>.<locals>" if isinstance(scope.node, cst.Lambda)
            else scope.node.name.value  # type: ignore[attr-defined]
            for scope in self._scopes[1:]
        ]
        qualname = ".".join(filter(None, [self.module_name, *path, node.name.value]))
        scope = self._scopes[-1]
        scope.imports[node.name.value] = qualname
        scope.values.pop(node.name.value, None)
        self._local_classes[node] = qualname
        self.index.local_classes[qualname] = local_class_info(
            self.module, self.summary, node, qualname, self._local_bindings()
        )

    def _local_bindings(self) -> dict[str, str]:
        bound: dict[str, str] = {}
        for scope in self._scopes[1:]:
            if scope.kind == "function":
                bound.update(scope.imports)
        return bound

    def class_qualname(self, node: cst.ClassDef) -> str | None:
        """The qualified name of a class of this file: module-level (``module.Cls``) or
        defined inside a function (``module.func.<locals>.Cls``); None for one nested in a
        module-level class."""
        if self._module_classes().get(node.name.value) is node:
            return f"{self.module_name}.{node.name.value}" if self.module_name else node.name.value
        return self._local_classes.get(node)

    def pop_scope(self, node: cst.CSTNode) -> None:
        """Leaving the body :meth:`push_scope` entered."""
        self._scopes.pop()

    def record_import(self, stmt: cst.Import | cst.ImportFrom) -> None:
        for _, _, bound, target in names.import_bindings(stmt, self.module_name, self.summary.is_package):
            if bound != "*":
                self._scopes[-1].imports[bound] = target

    def record_assignment(self, stmt: cst.CSTNode) -> None:
        """Called when leaving an assignment, so that while its right-hand side is
        visited the name still holds its previous value (``sql = sql + "..."``)."""
        scope = self._scopes[-1]
        stmt_type = type(stmt)
        if stmt_type is cst.AugAssign:
            if type(stmt.target) is cst.Name:
                name = stmt.target.value
                previous = self.value_of(name)
                if previous is not None and isinstance(stmt.operator, cst.AddAssign):
                    self._appended.setdefault(previous, []).append(stmt.value)
                operator = getattr(cst, type(stmt.operator).__name__.removesuffix("Assign"))()
                scope.values[name] = cst.BinaryOperation(
                    left=previous if previous is not None else stmt.target, operator=operator, right=stmt.value
                )
            return
        if stmt_type is cst.Assign:
            for target in stmt.targets:
                if type(target.target) is cst.Name:
                    self._remember_previous(target.target.value, stmt.value)
                    # A plain assignment rebinds the name: an earlier annotation no longer holds.
                    scope.values[target.target.value] = stmt.value
                    scope.annotations[target.target.value] = None
                else:
                    self.record_unknown(target.target)
            return
        if stmt_type is cst.AnnAssign and stmt.value is not None:
            self._annotated.add(stmt.value)
            if type(stmt.target) is cst.Name:
                self._remember_previous(stmt.target.value, stmt.value)
        for target, value, annotation in assigned(stmt):
            if value is not None:
                scope.values[target] = value
            if annotation is not None:
                scope.annotations[target] = annotation

    def _remember_previous(self, name: str, value: cst.BaseExpression) -> None:
        previous = self.value_of(name)
        if previous is not None:
            self._previous[(value, name)] = previous

    def record_unknown(self, target: cst.BaseExpression | None) -> None:
        """Names bound to values nobody can know here (loop targets, ``with ... as``,
        ``except ... as``, unpacking) hide outer bindings of the same names."""
        scope = self._scopes[-1]
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

    def record_with_item(self, node: cst.WithItem) -> None:
        self.record_unknown(node.asname.name if node.asname else None)

    def record_except_handler(self, node: cst.ExceptHandler) -> None:
        self.record_unknown(node.name.name if node.name else None)

    def record_for(self, node: cst.For) -> None:
        """``for item in items:`` binds ``item`` to an item of ``items``: annotated with
        the item type when ``items`` is annotated as a collection (``list[Model]``)."""
        self.record_unknown(node.target)
        if not isinstance(node.target, cst.Name) or node.asynchronous is not None:
            return
        source = node.iter
        if type(source) is cst.Name:
            annotation = self.annotation_of(source.value)
        else:
            annotation = self.attribute_annotation(source)
        element = names.element_annotation(annotation) if annotation is not None else None
        if element is not None:
            self._scopes[-1].annotations[node.target.value] = element

    def enter_with(self, node: cst.With) -> None:
        """Entering a ``with``: its ``as name`` bindings hold until :meth:`leave_with`.
        Calling it again for the same node changes nothing."""
        if self._withs and self._withs[-1][0] is node:
            return
        bound = {
            item.asname.name.value: item.item
            for item in node.items
            if item.asname is not None and isinstance(item.asname.name, cst.Name)
        }
        self._withs.append((node, self.function, bound))

    def leave_with(self, node: cst.With) -> None:
        if self._withs and self._withs[-1][0] is node:
            self._withs.pop()

    # -- where we are -------------------------------------------------------------------

    @property
    def at_module_level(self) -> bool:
        """No class or function (nor lambda) encloses the position."""
        return len(self._scopes) == 1

    @property
    def function(self) -> cst.FunctionDef | None:
        """The innermost enclosing ``def`` (None at module or class level)."""
        for scope in reversed(self._scopes):
            if scope.kind == "function":
                return scope.node if isinstance(scope.node, cst.FunctionDef) else None
            if scope.kind == "class":
                return None
        return None

    @property
    def in_async_function(self) -> bool:
        """Directly inside an ``async def`` (a nested sync def or lambda does not count)."""
        return self._scopes[-1].in_async

    @property
    def enclosing_class(self) -> cst.ClassDef | None:
        """The innermost class whose body holds the position, however deep."""
        for scope in reversed(self._scopes):
            if scope.kind == "class" and isinstance(scope.node, cst.ClassDef):
                return scope.node
        return None

    @property
    def class_body(self) -> cst.ClassDef | None:
        """The class whose own body holds the position (not one of its methods)."""
        node = self._scopes[-1].node
        return node if isinstance(node, cst.ClassDef) else None

    @property
    def module_level_class(self) -> cst.ClassDef | None:
        """The module-level class (the only kind the index knows) whose body holds the
        position, however deep: its methods and nested classes included."""
        node = self._scopes[1].node if len(self._scopes) > 1 else None
        return node if isinstance(node, cst.ClassDef) else None

    def enclosing_method(
        self, *, outermost: bool = False
    ) -> tuple[cst.ClassDef, cst.FunctionDef | cst.Lambda] | None:
        """The class and the function directly in its body that the position is directly
        in (a lambda in a class body counts); with ``outermost``, the method of the
        module-level class that holds the position, however deep."""
        scopes = self._scopes
        if outermost:
            if len(scopes) > 2 and scopes[1].kind == "class" and scopes[2].kind == "function":
                return scopes[1].node, scopes[2].node  # type: ignore[return-value]
            return None
        if len(scopes) > 2 and scopes[-1].kind == "function" and scopes[-2].kind == "class":
            return scopes[-2].node, scopes[-1].node  # type: ignore[return-value]
        return None

    # -- bindings and values ------------------------------------------------------------

    def _lookup(self, attr: str, name: str, local: bool) -> Any:
        """Innermost binding of ``name`` in the given scope map, skipping class scopes
        when looking from inside a function (Python's rule); ``local``: this scope only."""
        if local:
            return getattr(self._scopes[-1], attr).get(name)
        innermost = True
        for scope in reversed(self._scopes):
            if scope.kind == "class" and not innermost:
                continue
            table = getattr(scope, attr)
            if name in table:
                return table[name]
            innermost = False
        return None

    def value_of(self, name: str, *, local: bool = False) -> cst.BaseExpression | None:
        """The expression last assigned to ``name`` (so far, in source order); None when
        unknown (a parameter, a loop variable...). ``local``: bound in this scope only."""
        return self._lookup("values", name, local)

    def annotation_of(self, name: str, *, local: bool = False) -> cst.BaseExpression | None:
        """The annotation of a parameter or an annotated assignment, unless a plain
        assignment or an unknown value (a loop variable...) rebound the name since."""
        return self._lookup("annotations", name, local)

    def is_annotated_value(self, value: cst.BaseExpression) -> bool:
        """Whether ``value`` was assigned with an annotation (``x: T = value``), which
        then describes it; a later ``x += ...`` or ``(x := ...)`` keeps the annotation but
        assigns a value it may not describe."""
        return value in self._annotated

    def previous_value(self, value: cst.BaseExpression, name: str) -> cst.BaseExpression | None:
        """What ``name`` held before it was assigned ``value``: the ``sql`` on the right of
        ``sql = sql + "..."`` is that one, not the new value."""
        return self._previous.get((value, name))

    def appended(self, value: cst.BaseExpression) -> list[cst.BaseExpression]:
        """The ``name += x`` operands added to a name while it held ``value``, in order
        (including in other scopes, which ``global name`` allows)."""
        return self._appended.get(value, [])

    def parameter(self, name: str) -> cst.Param | None:
        """The parameter ``name`` of the innermost enclosing ``def`` (see :attr:`function`)."""
        function = self.function
        if function is None:
            return None
        return next((p for p in parameters(function.params) if p.name.value == name), None)

    def with_item(self, name: str) -> tuple[cst.BaseExpression, bool] | None:
        """The context manager of the innermost enclosing ``with ... as name:`` (what it
        was built from, not what ``__enter__`` returned), and whether that ``with`` is in
        the current function (see :attr:`function`)."""
        for _, function, bound in reversed(self._withs):
            if name in bound:
                return bound[name], function is self.function
        return None

    def binding_mark(self, name: str) -> BindingMark:
        """Where ``name`` is bound now, for :meth:`rebound_since` (e.g. at an ``except ...
        as name``, to know later whether the handler still sees the exception)."""
        scope = self._scopes[-1]
        return BindingMark(name, len(self._scopes), scope, scope.values.get(name, _UNBOUND))

    def binding_marks(self) -> Callable[[str], BindingMark]:
        """:meth:`binding_mark` of any name as bound now, made when asked: a module's
        hundreds of ``def``s cost one copy of its bindings, not a mark each."""
        scope, depth = self._scopes[-1], len(self._scopes)
        values = dict(scope.values)
        return lambda name: BindingMark(name, depth, scope, values.get(name, _UNBOUND))

    def rebound_since(self, mark: BindingMark) -> bool:
        """Whether ``mark``'s name no longer is what it was: assigned in its scope since,
        or a parameter or local of a function opened since."""
        if mark.scope.values.get(mark.name, _UNBOUND) is not mark.value:
            return True
        return any(mark.name in scope.values for scope in self._scopes[mark.depth:] if scope.kind == "function")

    # -- names --------------------------------------------------------------------------

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """What a Name/Attribute chain refers to through imports: ``uuid4`` after
        ``from uuid import uuid4`` is ``uuid.uuid4``; a class defined in this module is
        ``<module>.<Class>``. None when the head is not imported or defined here. A name
        imported from a project module that re-exports it is the name where it is
        defined: ``AsyncSession`` imported from ``app.db`` (which imports it from
        SQLAlchemy) is ``sqlalchemy.ext.asyncio.AsyncSession``."""
        known = self._qualified.get(id(expr))  # several rules ask about the same node
        if known is None or known[0] is not expr:
            known = self._qualified[id(expr)] = (expr, self._qualified_name(expr))
        return known[1]

    def _qualified_name(self, expr: cst.BaseExpression) -> str | None:
        text = names.dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        base = self._imported_as(head)
        if base is None:
            if head in self.summary.classes or head in self.summary.functions:
                base = f"{self.module_name}.{head}" if self.module_name else head
                return f"{base}.{rest}" if rest else base
            if head in BUILTIN_QUALNAMES and head not in self._scopes[0].values:
                base = BUILTIN_QUALNAMES[head]
                return f"{base}.{rest}" if rest else base
            base = self._star_imported(head)
            if base is None:
                return None
        return self.index.resolve(f"{base}.{rest}" if rest else base)

    def _star_imported(self, name: str) -> str | None:
        """``name`` as brought in by a ``from module import *`` of a project module (its
        ``__all__``, else its public names), so rules still see through star imports."""
        if not self._star_modules or name.startswith("_") or name in self._scopes[0].values:
            return None
        for module in self._star_modules:
            star = self.index.module(module)
            if star is None:
                continue
            exported = star.all_names if star.all_names is not None else star.defined
            if name in exported:
                return f"{module}.{name}"
        return None

    def _imported_as(self, name: str) -> str | None:
        """The import ``name`` refers to, unless a local variable or parameter hides it."""
        innermost = True
        for scope in reversed(self._scopes):
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
        to return it. Follows plain names through their last assignment, and ``self.x``
        through the class's annotation of ``x`` or the constructors assigned to it."""
        known = self._instances.get(id(expr))  # PF208 and PF209 ask about the same receivers
        if known is None or known[0] is not expr:
            known = self._instances[id(expr)] = (expr, self._class_of_instance(expr))
        return known[1]

    def _class_of_instance(self, expr: cst.BaseExpression) -> str | None:
        for _ in range(10):
            kind = type(expr)  # exact types: isinstance() on libcst's ABCs is slow
            if kind is cst.Call:
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
            if kind is cst.Await:
                expr = expr.expression
                continue
            if kind is cst.Attribute:
                annotation = self.attribute_annotation(expr)
                if annotation is not None:
                    return self._annotated_class(annotation)
                # Only calls: a name in a method's `self.x = name` is that method's.
                built = {
                    self.class_of_instance(value) if isinstance(value, cst.Call) else None
                    for value in self.attribute_values(expr)
                    if names.dotted(value) != "None"
                }
                return built.pop() if len(built) == 1 else None
            if kind is cst.Name:
                annotation = self.annotation_of(expr.value)
                if annotation is not None:
                    return self._annotated_class(annotation)
                value = self.value_of(expr.value)
                if value is None or value is expr:
                    return None
                expr = value
                continue
            return None
        return None

    def _annotated_class(self, annotation: cst.BaseExpression) -> str | None:
        named = names.annotated_type(annotation)
        qual = self.qualified_name(named) if named is not None else None
        if qual and self.index.class_info(qual) is not None:
            return self.index.resolve(qual)
        return None

    def attribute_values(self, expr: cst.BaseExpression) -> list[cst.BaseExpression]:
        """What ``self.X``, ``cls.X`` or ``Class.X`` (a class of this module) may hold: the
        values the class body (``X = v``) and its methods (``self.X = v``) assign to ``X``,
        in source order; empty when ``expr`` is no such attribute or nothing assigns it.
        A value assigned in a method is written in that method's scope."""
        found = self._attributes_of(expr)
        return found.values.get(expr.attr.value, []) if found is not None else []  # type: ignore[attr-defined]

    def attribute_annotation(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The annotation of ``self.X``/``cls.X``/``Class.X``: ``X: T`` in the class body or
        ``self.X: T = v`` in a method."""
        found = self._attributes_of(expr)
        return found.annotations.get(expr.attr.value) if found is not None else None  # type: ignore[attr-defined]

    def _attributes_of(self, expr: cst.BaseExpression) -> ClassAttributes | None:
        if type(expr) is not cst.Attribute or type(expr.value) is not cst.Name:
            return None
        receiver = expr.value.value
        cls: cst.ClassDef | None = None
        if receiver in ("self", "cls") and self.value_of(receiver) is None:
            cls = self.enclosing_class
        else:
            qualname = self.qualified_name(expr.value)
            prefix = f"{self.module_name}." if self.module_name else ""
            if qualname is not None and qualname.startswith(prefix):
                cls = self._module_classes().get(qualname[len(prefix):])
        if cls is None:
            return None
        found = self._class_attributes.get(cls)
        if found is None:
            found = self._class_attributes[cls] = ClassAttributes.of(cls)
        return found

    def _module_classes(self) -> dict[str, cst.ClassDef]:
        """Module-level classes by name (under ``if``/``try`` too, as summaries have them;
        the last definition wins)."""
        if self._classes is None:
            self._classes = {}
            for stmt in module_level_statements(self.module.body):
                if type(stmt) is cst.ClassDef:
                    self._classes[stmt.name.value] = stmt
        return self._classes


def parameters(params: cst.Parameters) -> list[cst.Param]:
    """Every parameter a signature binds, ``*args`` and ``**kwargs`` included."""
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    if type(params.star_arg) is cst.Param:
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out
