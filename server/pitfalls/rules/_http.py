"""What PF103 and PF404 share: naming calls, and knowing which sync client an object is.

A client is recognised from what built it (``requests.Session()``, ``httpx.Client()``,
``redis.Redis(...)``/``redis.from_url(...)``, ``subprocess.Popen(...)``), called directly,
through a name (assignment, ``with ... as name:``, parameter annotation) or through a
``self.<attr>`` the class body or its methods assign (or annotate). Anything else (a dict,
a SQLAlchemy session, an ``httpx.AsyncClient``, a ``redis.asyncio`` client) is not a sync
client.
"""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules.api import Rule, RuleContext, name_mediated

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


@name_mediated  # its memo holds the receivers of the statement being walked
class Clients:
    """Which sync client an expression holds: a fact of the file (``ctx.fact(Clients)``),
    so PF103 and PF404, which ask about the same call receivers, work each out once."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._known: dict[cst.BaseExpression, str | None] = {}

    def client_type(self, expr: cst.BaseExpression) -> str | None:
        """The sync client type (a value of :data:`SYNC_CLIENTS`) ``expr`` holds, if known.
        Ask while the traversal is at ``expr``: the answer depends on the names in scope."""
        if expr not in self._known:
            self._known[expr] = self._type(expr, _MAX_HOPS)
        return self._known[expr]

    def _type(self, expr: cst.BaseExpression, hops: int) -> str | None:
        if isinstance(expr, cst.Call):
            return SYNC_CLIENTS.get(self.ctx.qualified_name(expr.func) or "")
        if isinstance(expr, cst.Name) and hops:
            return self._name_type(expr.value, hops - 1)
        if isinstance(expr, cst.Attribute):
            return self.attribute_type(expr)
        return None

    def _annotation_type(self, annotation: cst.BaseExpression | None) -> str | None:
        if annotation is None:
            return None
        return SYNC_CLIENTS.get(self.ctx.qualified_name(annotation) or "")

    def _name_type(self, name: str, hops: int) -> str | None:
        ctx = self.ctx
        found = ctx.with_item(name)
        if found is not None and found[1]:  # `with ... as name:` in this function
            return self._type(found[0], hops)
        param = ctx.parameter(name)
        if param is not None:  # not the value of the same name in an outer scope
            return self._annotation_type(param.annotation.annotation if param.annotation else None)
        value = found[0] if found is not None else ctx.value_of(name)
        if value is not None:
            return self._type(value, hops)
        annotation = ctx.annotation_of(name)
        if annotation is not None:
            return self._annotation_type(annotation)
        return self._imported_type(name)

    def _imported_type(self, name: str) -> str | None:
        """The client a project module builds at module level and this one imports:
        ``from app.core.cache import redis_client``."""
        qualname = self.ctx.qualified_name(cst.Name(name))
        if qualname is None:
            return None
        module, _, attr = self.ctx.index.resolve(qualname).rpartition(".")
        summary = self.ctx.index.find(module) if module else None
        if summary is None:
            return None
        return SYNC_CLIENTS.get(self.ctx.index.entry(summary, "call_assignment", attr) or "")

    def attribute_type(self, expr: cst.Attribute) -> str | None:
        """The client type every (non-``None``) value of ``self.<attr>`` builds, in the
        class body (``session = requests.Session()``) or its methods; else its annotation."""
        values = [v for v in self.ctx.attribute_values(expr) if names.dotted(v) != "None"]
        if not values:
            return self._annotation_type(self.ctx.attribute_annotation(expr))
        # Only calls: a name in a method's `self.x = name` is that method's.
        types = {self._type(value, _MAX_HOPS) if isinstance(value, cst.Call) else None for value in values}
        return types.pop() if len(types) == 1 else None


class ClientRule(Rule):
    """A rule that asks which sync client an expression holds (:meth:`client_type`)."""

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.clients = ctx.fact(Clients)

    def client_type(self, expr: cst.BaseExpression) -> str | None:
        return self.clients.client_type(expr)
