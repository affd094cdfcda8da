"""What the blocking-call rules (PF404, PF409) share: the sync helpers of this file that an
``async def`` calls directly, and the first blocking call each makes.

A helper is a sync ``self.<method>()`` of the enclosing class, a module-level function of
this module or (when asked) a method called on an instance of a module-level class of this
module (``PartnerService(db).get(id)``), without a decorator that may change how it runs
(``staticmethod`` and ``classmethod`` change nothing). A generator is no helper that blocks: its body runs only
when iterated. Calls in a nested function, lambda or class of the helper are not its own.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

import libcst as cst

from pitfalls.core import names
from pitfalls.core.walker import children, module_level_statements
from pitfalls.rules.api import RuleContext

T = TypeVar("T")


class SyncHelpers(Generic[T]):
    """The sync helpers calls run, and what blocks in each (``blocking(call)``: what a
    call of the helper's body blocks on, None when nothing; it is asked while the
    traversal is elsewhere, so it may resolve only what does not depend on the position:
    imports, ``self.<attr>``, the helper's own parameters). One answer per helper."""

    def __init__(
        self,
        ctx: RuleContext,
        blocking: Callable[[cst.Call, cst.FunctionDef], T | None],
        *,
        instances: bool = False,
    ) -> None:
        self.ctx = ctx
        self.blocking = blocking
        self.instances = instances
        self._found: dict[cst.FunctionDef, T | None] = {}
        self._owners: dict[cst.FunctionDef, cst.ClassDef] = {}

    def owner(self, function: cst.FunctionDef) -> cst.ClassDef | None:
        """The class of a helper that is a method."""
        return self._owners.get(function)

    def helper(self, func: cst.BaseExpression) -> cst.FunctionDef | None:
        """The sync function of this file a call of ``func`` runs: ``self.<method>()`` of
        the enclosing class, or a module-level function; None when a decorator may change
        how it runs."""
        ctx = self.ctx
        cls: cst.ClassDef | None = None
        if isinstance(func, cst.Attribute) and names.dotted(func.value) in ("self", "cls"):
            cls = ctx.enclosing_class
            if cls is None or ctx.value_of(names.dotted(func.value) or "") is not None:
                return None
            body, name = cls.body.body, func.attr.value
        elif isinstance(func, cst.Name) and ctx.qualified_name(func) == qualified(ctx.module_name, func.value):
            body, name = ctx.module.body, func.value
        elif self.instances and isinstance(func, cst.Attribute):
            cls = self._module_class(ctx.class_of_instance(func.value))
            if cls is None:
                return None
            body, name = cls.body.body, func.attr.value
        else:
            return None
        found = None
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
                found = stmt  # the last definition wins
        if found is None or found.asynchronous is not None:
            return None
        if any(names.dotted(d.decorator) not in ("staticmethod", "classmethod") for d in found.decorators):
            return None
        if cls is not None:
            self._owners[found] = cls
        return found

    def _module_class(self, qualname: str | None) -> cst.ClassDef | None:
        """The module-level class of this module a qualified name names."""
        prefix = f"{self.ctx.module_name}." if self.ctx.module_name else ""
        if qualname is None or not qualname.startswith(prefix) or "." in qualname[len(prefix):]:
            return None
        found = None
        for stmt in module_level_statements(self.ctx.module.body):
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == qualname[len(prefix):]:
                found = stmt
        return found

    def first_blocking(self, function: cst.FunctionDef) -> T | None:
        """What the first blocking call ``function`` makes itself (not in a nested
        function) blocks on; None for a generator, whose body runs only when iterated."""
        if function not in self._found:
            found = None
            for node in own_nodes(function):
                if isinstance(node, cst.Yield):
                    found = None
                    break
                if found is None and isinstance(node, cst.Call):
                    found = self.blocking(node, function)
            self._found[function] = found
        return self._found[function]

    def called_blocking(self, call: cst.Call) -> T | None:
        """What the sync helper ``call`` runs blocks on, if it is one."""
        function = self.helper(call.func)
        return self.first_blocking(function) if function is not None else None


def qualified(module: str, name: str) -> str:
    return f"{module}.{name}" if module else name


def own_nodes(function: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The nodes of a function's body, not entering nested functions, lambdas or classes."""
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        yield node
        kids = children(node)
        kids.reverse()
        stack.extend(kids)
