"""What PF103 and PF404 share: naming calls, and knowing which sync client an object is.

A client is recognised from what built it (``requests.Session()``, ``httpx.Client()``,
``redis.Redis(...)``/``redis.from_url(...)``, ``subprocess.Popen(...)``), called directly,
through a name (assignment, ``with ... as name:``, parameter annotation) or through a
``self.<attr>`` assigned in the class's methods. Anything else (a dict, a SQLAlchemy
session, an ``httpx.AsyncClient``, a ``redis.asyncio`` client) is not a sync client.
"""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules.api import Rule, RuleContext

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
REQUESTS_FUNCTIONS = frozenset(f"requests.{method}" for method in HTTP_METHODS)

# Qualified names that build (when called) or name (as an annotation) a sync client,
# mapped to the client's type.
SYNC_CLIENTS = {
    "requests.Session": "requests.Session",
    "requests.session": "requests.Session",
    "requests.sessions.Session": "requests.Session",
    "httpx.Client": "httpx.Client",
    "redis.Redis": "redis.Redis",
    "redis.StrictRedis": "redis.Redis",
    "redis.from_url": "redis.Redis",
    "redis.Redis.from_url": "redis.Redis",
    "redis.StrictRedis.from_url": "redis.Redis",
    "redis.client.Redis": "redis.Redis",
    "redis.client.StrictRedis": "redis.Redis",
    "subprocess.Popen": "subprocess.Popen",
}

_MAX_HOPS = 5  # `a = b`, `b = c`... followed this far (and never round a cycle)


class ClientRule(Rule):
    """A rule that asks which sync client an expression holds (:meth:`client_type`)."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        # For each enclosing `with`: its function, and what `as name` binds each name to.
        self._with_names: list[tuple[cst.FunctionDef | None, dict[str, cst.BaseExpression]]] = []

    def visit_With(self, node: cst.With) -> None:
        bound = {
            item.asname.name.value: item.item
            for item in node.items
            if item.asname is not None and isinstance(item.asname.name, cst.Name)
        }
        self._with_names.append((self.ctx.function, bound))

    def leave_With(self, node: cst.With) -> None:
        self._with_names.pop()

    def client_type(self, expr: cst.BaseExpression, hops: int = _MAX_HOPS) -> str | None:
        """The sync client type (a value of :data:`SYNC_CLIENTS`) ``expr`` holds, if known."""
        if isinstance(expr, cst.Call):
            return SYNC_CLIENTS.get(self.ctx.qualified_name(expr.func) or "")
        if isinstance(expr, cst.Name) and hops:
            return self._name_type(expr.value, hops - 1)
        if isinstance(expr, cst.Attribute) and names.dotted(expr.value) == "self":
            return self._self_attribute_type(expr.attr.value)
        return None

    def _annotation_type(self, annotation: cst.BaseExpression | None) -> str | None:
        if annotation is None:
            return None
        return SYNC_CLIENTS.get(self.ctx.qualified_name(annotation) or "")

    def _name_type(self, name: str, hops: int) -> str | None:
        function = self.ctx.function
        found = next(((owner, bound[name]) for owner, bound in reversed(self._with_names) if name in bound), None)
        if found is not None and found[0] is function:
            return self.client_type(found[1], hops)
        param = _parameter(function, name)
        if param is not None:  # not the value of the same name in an outer scope
            return self._annotation_type(param.annotation.annotation if param.annotation else None)
        value = found[1] if found is not None else self.ctx.value_of(name)
        if value is not None:
            return self.client_type(value, hops)
        return self._annotation_type(self.ctx.annotation_of(name))

    def _self_attribute_type(self, attr: str) -> str | None:
        """The client type every (non-``None``) ``self.<attr> = ...`` of the class builds."""
        cls = self.ctx.enclosing_class
        if cls is None:
            return None
        types = {
            self.client_type(value) if isinstance(value, cst.Call) else None
            for value in self.ctx.self_assignments(cls).get(attr, ())
            if names.dotted(value) != "None"
        }
        return types.pop() if len(types) == 1 else None


def _parameter(function: cst.FunctionDef | None, name: str) -> cst.Param | None:
    if function is None:
        return None
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value == name:
            return param
    return None
