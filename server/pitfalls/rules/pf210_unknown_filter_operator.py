"""PF210: an ``extension_filters`` key whose ``__op`` suffix the framework does not support."""

from __future__ import annotations

import difflib

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._bases import framework
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

_KEYWORD = "extension_filters"
_SEPARATOR = "__"

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/extensions.py": """
        SUPPORTED_FILTER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains")


        def filter_clause(key: str, value: str):
            field, operator = key.rsplit("__", 1) if "__" in key else (key, "eq")
            if operator not in SUPPORTED_FILTER_OPERATORS:
                raise ValueError(f"Unsupported filter operator '{operator}'")
            return field, operator, value
    """,
    "app/framework/services.py": """
        from typing import Any, Generic, Optional, TypeVar

        ModelT = TypeVar("ModelT")


        class CompanyBusinessObjectService(Generic[ModelT]):
            async def get_list(self, company_id: int, extension_filters: Optional[dict[str, Any]] = None) -> list[ModelT]:
                ...
    """,
    "app/services/__init__.py": "",
    "app/services/partner_service.py": """
        from app.framework.services import CompanyBusinessObjectService
        from app.models.partner import Partner


        class PartnerService(CompanyBusinessObjectService[Partner]):
            pass
    """,
}


class UnknownFilterOperator(Rule):
    """
    ## What it does
    Reports a key of an `extension_filters` dict whose operator suffix (the part after the
    last `__`: `credit_limit__gte` filters `credit_limit` with `gte`) is not one the
    framework supports. The dict is the literal passed as `extension_filters=` (or
    `dict(credit_limit__gte=...)`), or the literal last assigned to the name passed.

    The supported operators are the strings of the module constant
    `SUPPORTED_FILTER_OPERATORS` (a list, tuple or set of string literals), wherever the
    project defines it; without one, the `[tool.pitfalls.framework] filter-operators`
    list, which is empty by default: a project whose framework does not list its operators
    is not checked. The constant's name is `filter-operators-constant`. An operator table
    written as a dict or an `if` chain is not read: name it in `filter-operators`.

    Keys without `__` filter by equality and are fine; a field name with `__` in it
    (`billing__city__in`) keeps everything before the last `__`. Keys that are not plain
    string literals, and calls whose method (found through the receiver's project class)
    takes no `extension_filters` parameter, are left alone.

    ## Why is this bad?
    The framework splits the key at its last `__` and looks the operator up when the
    query is built, so the call fails every time it runs (or, in a framework that skips
    what it does not know, returns unfiltered rows, as in the business object guide's
    Issue 10):

    ```
    ValueError: Unsupported filter operator 'greater_than'
    ```

    ## Example
    ```python
    partners = await service.get_list(
        company_id=company_id,
        extension_filters={"credit_limit__greater_than": "5000.00"},
    )
    ```

    ## Use instead
    ```python
    partners = await service.get_list(
        company_id=company_id,
        extension_filters={"credit_limit__gte": "5000.00"},
    )
    ```

    ## Fix safety
    There is no fix: a near miss such as `ge` could mean `gt` or `gte`, which select
    different rows. The message names the closest supported operator, if any.
    """

    code = "PF210"
    function_local = True  # see Rule.function_local
    name = "unknown-filter-operator"
    summary = "Extension filter operator that the framework does not support"
    exact_on_ast_tree = True

    VALID = [
        # The guide's Issue 10 solution; equality keys, a field name with `__` in it.
        Valid(
            """
            from app.services.partner_service import PartnerService


            async def rich_partners(db, company_id: int):
                service = PartnerService()
                return await service.get_list(
                    company_id=company_id,
                    extension_filters={
                        "credit_limit__gte": "5000.00",
                        "loyalty_tier": "gold",
                        "billing__city__in": ["Berlin", "Paris"],
                    },
                )
            """,
            files=_FRAMEWORK,
            path="app/api/partners.py",
        ),
        # No operator list in the project (and none configured): nothing is known.
        Valid(
            """
            async def rich_partners(service, company_id: int):
                return await service.get_list(company_id=company_id, extension_filters={"credit_limit__above": "5000"})
            """,
        ),
        # Look-alikes: Django lookups and another keyword; a method without the parameter;
        # keys that are no plain literals; a name rebound to something unknown.
        Valid(
            """
            from app.models import Partner


            class Catalogue:
                def search(self, query: str, extension_filters=None, *, strict: bool = False):
                    ...


            class Archive:
                def get_list(self, company_id: int, filters=None):
                    ...


            def queries(archive: Archive, catalogue: Catalogue, field: str, incoming: dict):
                Partner.objects.filter(credit_limit__greater_than=5000)
                archive.get_list(1, filters={"credit_limit__above": "5000"})
                archive.get_list(1, extension_filters={"credit_limit__above": "5000"})
                catalogue.search("x", extension_filters={f"{field}__gte": "1", field + "__lte": "2"})
                filters = {"credit_limit__above": "5000"}
                filters = incoming
                catalogue.search("x", extension_filters=filters)
            """,
            files=_FRAMEWORK,
            path="app/api/catalogue.py",
        ),
    ]
    INVALID = [
        # The guide's Issue 10 query with an operator the framework does not know.
        Invalid(
            """
            from app.services.partner_service import PartnerService


            async def rich_partners(service: PartnerService, company_id: int):
                return await service.get_list(
                    company_id=company_id,
                    extension_filters={"credit_limit__greater_than": "5000.00"},
                )
            """,
            files=_FRAMEWORK,
            path="app/api/partners.py",
            line=7,
            message="'greater_than'",
        ),
        # A dict bound to a name, a `dict(...)` call, `self` in a framework service; a
        # near miss is named.
        Invalid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.contact import Contact


            class ContactService(CompanyBusinessObjectService[Contact]):
                async def adults(self, company_id: int):
                    filters = {"age__gtee": "18", "city": "Berlin"}
                    return await self.get_list(company_id, extension_filters=filters)

                async def named(self, company_id: int, name: str):
                    return await self.get_list(company_id, extension_filters=dict(name__like=name))
            """,
            files=_FRAMEWORK,
            path="app/services/contact_service.py",
            count=2,
            message="supports eq, ne, gt, gte, lt, lte, in, contains",
        ),
        # No constant in the project: the configured list.
        Invalid(
            """
            async def recent(service, company_id: int):
                return await service.get_list(company_id=company_id, extension_filters={"signed_on__after": "2024-01-01"})
            """,
            config={"framework": {"filter-operators": ["exact", "before", "since"]}},
            message="supports exact, before, since",
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._settings = framework(ctx)
        self._supported: list[str] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        argument = next((a for a in node.args if a.keyword is not None and a.keyword.value == _KEYWORD), None)
        if argument is None or not self._may_take_filters(node.func):
            return
        keys = _literal_keys(self._dict_of(argument.value))
        supported = self._operators() if keys else []
        if not supported:
            return
        for key_node, key in keys:
            field, separator, operator = key.rpartition(_SEPARATOR)
            if not separator or not field or not operator or operator in supported:
                continue
            close = difflib.get_close_matches(operator, supported, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            self.ctx.report(
                key_node,
                f"Unknown extension filter operator '{operator}' in '{key}': the framework supports "
                f"{', '.join(supported)}{hint}",
            )

    def _may_take_filters(self, func: cst.BaseExpression) -> bool:
        """False when the method called is known (through the receiver's project class) and
        takes no ``extension_filters``."""
        if not isinstance(func, cst.Attribute):
            return True
        receiver = func.value
        if names.dotted(receiver) == "self" and self.ctx.value_of("self") is None:
            method = self.ctx.enclosing_method(outermost=True)
            cls = self.ctx.class_qualname(method[0]) if method is not None else None
        else:
            cls = self.ctx.class_of_instance(receiver)
        found = self.ctx.index.method(cls, func.attr.value) if cls is not None else None
        return found is None or any(p.name == _KEYWORD or p.kind == "kwarg" for p in found[1].params)

    def _dict_of(self, value: cst.BaseExpression) -> cst.BaseExpression | None:
        """The dict literal (or ``dict(...)`` call) passed, through the name it was bound to."""
        if isinstance(value, cst.Name):
            value = self.ctx.value_of(value.value)
        return value

    def _operators(self) -> list[str]:
        if self._supported is None:
            found: list[str] = []
            for _, values in self.ctx.index.find_constant(self._settings.filter_operators_constant):
                found.extend(v for v in values if v not in found)
            self._supported = found or list(self._settings.filter_operators)
        return self._supported


def _literal_keys(value: cst.BaseExpression | None) -> list[tuple[cst.CSTNode, str]]:
    """The plain string keys of a dict literal, or the keywords of ``dict(...)``."""
    if isinstance(value, cst.Dict):
        found = []
        for element in value.elements:
            if isinstance(element, cst.DictElement):
                key = names.string_value(element.key)
                if key is not None:
                    found.append((element.key, key))
        return found
    if isinstance(value, cst.Call) and names.dotted(value.func) == "dict":
        return [(arg.keyword, arg.keyword.value) for arg in value.args if arg.keyword is not None]
    return []
