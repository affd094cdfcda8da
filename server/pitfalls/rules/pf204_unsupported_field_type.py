"""PF204: a string literal passed as the field type of an extension field that the
framework does not support."""

from __future__ import annotations

import difflib

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import FunctionInfo
from pitfalls.rules._bases import framework
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Valid

_PARAM = "field_type"
_CUTOFF = 0.8  # "strng" -> "string" (0.91), but not "email" -> "decimal" (0.67)

_SERVICES = """
    from typing import Any, Generic, TypeVar

    ModelT = TypeVar("ModelT")
    CreateT = TypeVar("CreateT")
    UpdateT = TypeVar("UpdateT")


    class CompanyBusinessObjectService(Generic[ModelT, CreateT, UpdateT]):
        def __init__(self, db, model: type[ModelT]):
            self.db = db
            self.model = model

        async def set_extension(self, entity_id: int, field_name: str, field_type: str, field_value: Any) -> None:
            ...
"""
_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/extensions.py": """
        SUPPORTED_FIELD_TYPES = ["string", "integer", "decimal", "boolean", "date", "datetime", "json"]

        # The guide's Issue 9: validation patterns, not the list of field types.
        CUSTOM_FIELD_TYPES = {
            "email": {"pattern": r"^[^@]+@[^@]+\\.[^@]+$"},
            "phone": {"pattern": r"^\\+?[\\d\\s\\-\\(\\)]+$"},
        }
    """,
    "app/framework/services.py": _SERVICES,
    "app/services/__init__.py": "",
    "app/services/partner_service.py": """
        from app.framework.services import CompanyBusinessObjectService
        from app.models.partner import Partner
        from app.schemas.partner import PartnerCreate, PartnerUpdate


        class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
            def __init__(self, db):
                super().__init__(db, Partner)
    """,
}


class UnsupportedFieldType(Rule):
    """
    ## What it does
    Reports a string literal passed as the `field_type` of `set_extension(...)` that is
    not one of the project's supported extension field types.

    The supported types are the strings of the module constant `SUPPORTED_FIELD_TYPES`
    (a list, tuple or set of string literals), wherever the project defines it; without
    one, `string`, `integer`, `decimal`, `boolean`, `date`, `datetime` and `json`. The
    constant's name, that default list and the method's name are settings
    (`[tool.pitfalls.framework] field-types-constant`, `field-types`,
    `extension-method`). A dict such as the guide's `CUSTOM_FIELD_TYPES` does not count.

    `field_type="..."` is checked on any receiver. A positional argument is checked only
    when the receiver's class is known (built by its constructor, annotated, `self` in a
    project class) and the method found through it: the literal is the one at the
    position of the method's `field_type` parameter. Other classes have methods of that
    name with other signatures (spaCy's `Token.set_extension("is_color", default=False)`).
    A method known not to have a `field_type` parameter is left alone.

    ## Why is this bad?
    The framework validates the type when the extension is written, so the call fails
    every time it runs, as in the business object guide's Issue 9:

    ```
    ValueError: Invalid field type 'custom_type'. Supported types: string, integer, decimal, boolean, date, datetime, json
    ```

    ## Example
    ```python
    await service.set_extension(
        entity_id=partner_id,
        field_name="credit_limit",
        field_type="money",
        field_value="10000.00",
    )
    ```

    ## Use instead
    ```python
    await service.set_extension(
        entity_id=partner_id,
        field_name="credit_limit",
        field_type="decimal",
        field_value="10000.00",
    )
    ```

    ## Fix safety
    When exactly one supported type is close to the literal, ignoring case (`"strng"` ->
    `"string"`, `"Decimal"` -> `"decimal"`, `"datetme"` -> `"datetime"`), the fix
    replaces it. It is safe: the call could only raise, and a near-miss spelling leaves no
    doubt which type was meant. When no type is close (`"money"`, `"str"`) or several are,
    there is no fix.
    """

    code = "PF204"
    function_local = True  # see Rule.function_local
    name = "unsupported-field-type"
    summary = "Extension field type that the framework does not support"
    fix_applicability = Applicability.SAFE

    VALID = [
        # The guide's Issue 9 solution.
        Valid(
            """
            from app.services.partner_service import PartnerService


            async def set_credit_limit(db, partner_id: int) -> None:
                service = PartnerService(db)
                await service.set_extension(
                    entity_id=partner_id,
                    field_name="credit_limit",
                    field_type="decimal",
                    field_value="10000.00",
                )
            """,
            files=_FRAMEWORK,
            path="app/api/partners.py",
        ),
        # The project's own list, extended; positional arguments bound by the signature,
        # other literals at other positions.
        Valid(
            """
            from app.services.partner_service import PartnerService


            async def set_contact(service: PartnerService, partner_id: int) -> None:
                await service.set_extension(partner_id, "email", "email", "a@b.c")
                await service.set_extension(partner_id, "birthday", "date", field_value="1990-01-01")
            """,
            files={
                **_FRAMEWORK,
                "app/framework/extensions.py": """
                    SUPPORTED_FIELD_TYPES = (
                        "string", "integer", "decimal", "boolean", "date", "datetime", "json", "email",
                    )
                """,
            },
            path="app/api/partners.py",
        ),
        # Other receivers: spaCy's `set_extension` takes the name first; a variable type.
        Valid(
            """
            from spacy.tokens import Doc, Token


            Token.set_extension("is_color", default=False)
            Doc.set_extension("field_type", default="money")


            async def copy_extension(service, source, partner_id: int) -> None:
                await service.set_extension(partner_id, source.name, field_type=source.type, field_value=source.value)
            """,
            files=_FRAMEWORK,
            path="app/nlp.py",
        ),
        # A project method of that name without a `field_type` parameter; another method.
        Valid(
            """
            class DocumentStore:
                def set_extension(self, name: str, **options) -> None:
                    ...

                def set_extension_type(self, field_type: str) -> None:
                    ...


            store = DocumentStore()
            store.set_extension("pdf", field_type="binary")
            store.set_extension_type(field_type="binary")
            """,
        ),
    ]
    INVALID = [
        # The guide's Issue 9 diagnosis.
        Invalid(
            """
            from app.services.partner_service import PartnerService


            async def check(db) -> None:
                service = PartnerService(db)
                await service.set_extension(
                    entity_id=1,
                    field_name="test_field",
                    field_type="custom_type",
                    field_value="test",
                )
            """,
            files=_FRAMEWORK,
            path="app/diagnostics.py",
            line=9,
            message="'custom_type'",
        ),
        # A typo, positional through an annotated parameter: fixed.
        Invalid(
            """
            from fastapi import Depends

            from app.api.deps import get_partner_service
            from app.services.partner_service import PartnerService


            async def set_nickname(partner_id: int, service: PartnerService = Depends(get_partner_service)):
                await service.set_extension(partner_id, "nickname", 'strng', "Bob")
                await service.set_extension(partner_id, "discount", field_type="Decimal", field_value="0.1")
            """,
            files=_FRAMEWORK,
            path="app/api/partners.py",
            count=2,
            fixed="""
            from fastapi import Depends

            from app.api.deps import get_partner_service
            from app.services.partner_service import PartnerService


            async def set_nickname(partner_id: int, service: PartnerService = Depends(get_partner_service)):
                await service.set_extension(partner_id, "nickname", 'string', "Bob")
                await service.set_extension(partner_id, "discount", field_type="decimal", field_value="0.1")
            """,
        ),
        # `self` in a subclass of the framework service, with the project's list; an unknown
        # receiver with the keyword. No close match: no fix.
        Invalid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.contact import Contact
            from app.schemas.contact import ContactCreate, ContactUpdate


            class ContactService(CompanyBusinessObjectService[Contact, ContactCreate, ContactUpdate]):
                async def set_phone(self, contact_id: int, phone: str) -> None:
                    await self.set_extension(contact_id, "phone", "phone", phone)

                async def set_budget(self, contact_id: int, amount: str) -> None:
                    await self.extensions.set_extension(
                        entity_id=contact_id, field_name="budget", field_type="money", field_value=amount
                    )
            """,
            files={
                **_FRAMEWORK,
                "app/framework/extensions.py": """
                    SUPPORTED_FIELD_TYPES = {"string", "integer", "decimal", "boolean", "url", "email"}
                """,
            },
            path="app/services/contact_service.py",
            count=2,
            message="supports string, integer, decimal, boolean, url, email",
        ),
        # Settings: another method name and list, no constant in the project.
        Invalid(
            """
            from app.framework.custom_fields import CustomFields

            fields = CustomFields()
            fields.add_custom_field("rating", "stars")
            fields.add_custom_field("score", field_type="float")
            """,
            files={
                "app/__init__.py": "",
                "app/framework/__init__.py": "",
                "app/framework/custom_fields.py": """
                    class CustomFields:
                        def add_custom_field(self, name: str, field_type: str = "string") -> None:
                            ...
                """,
            },
            path="app/setup.py",
            config={"framework": {"extension-method": "add_custom_field", "field-types": ["string", "number"]}},
            count=2,
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        settings = framework(ctx)
        self._method = settings.extension_method
        self._constant = settings.field_types_constant
        self._default_types = settings.field_types
        self._supported: list[str] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (type(func) is cst.Attribute and func.attr.value == self._method and node.args):
            return
        signature = self._signature(func.value)
        if signature is not None and not any(p.name == _PARAM for p in signature.params):
            return
        literal = _field_type_argument(node, signature)
        value = names.string_value(literal)
        if literal is None or value is None:
            return
        supported = self._supported_types()
        if value in supported:
            return
        by_lower = {s.lower(): s for s in supported}
        close = difflib.get_close_matches(value.lower(), by_lower, n=2, cutoff=_CUTOFF)
        fix = None
        if len(close) == 1:
            match = by_lower[close[0]]
            fix = self.ctx.fix(f"Use `{match}`", NodeEdit(literal, _quoted(literal, match)))
        self.ctx.report(
            literal,
            f"Invalid field type '{value}': `{self._method}` supports {', '.join(supported)}",
            fix=fix,
        )

    def _signature(self, receiver: cst.BaseExpression) -> FunctionInfo | None:
        """The method the call reaches, through the receiver's project class, if known."""
        cls = self._self_class() if names.dotted(receiver) == "self" else self.ctx.class_of_instance(receiver)
        found = self.ctx.index.method(cls, self._method) if cls is not None else None
        return found[1] if found is not None else None

    def _self_class(self) -> str | None:
        """The qualified name of the module-level class whose method we are in."""
        method = self.ctx.enclosing_method(outermost=True)
        if method is None:
            return None
        name = method[0].name.value
        return f"{self.ctx.module_name}.{name}" if self.ctx.module_name else name

    def _supported_types(self) -> list[str]:
        if self._supported is None:
            found: list[str] = []
            for _, values in self.ctx.index.find_constant(self._constant):
                found.extend(v for v in values if v not in found)
            self._supported = found or list(self._default_types)
        return self._supported


def _field_type_argument(call: cst.Call, signature: FunctionInfo | None) -> cst.BaseExpression | None:
    """The expression passed as ``field_type``: by keyword, or (with a known signature) at
    the position of the ``field_type`` parameter."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == _PARAM:
            return arg.value
    if signature is None:
        return None
    positional = [p.name for p in signature.params if p.kind == "positional"]
    if positional[:1] in (["self"], ["cls"]):
        positional = positional[1:]
    if _PARAM not in positional:
        return None
    index = positional.index(_PARAM)
    for i, arg in enumerate(call.args):
        if arg.keyword is not None or arg.star:
            return None  # keywords follow the positionals; `*args` hides the positions
        if i == index:
            return arg.value
    return None


def _quoted(literal: cst.BaseExpression, value: str) -> str:
    """``value`` as a literal in the style of ``literal``."""
    if isinstance(literal, cst.SimpleString):
        return f"{literal.prefix}{literal.quote}{value}{literal.quote}"
    return repr(value)
