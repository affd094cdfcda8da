"""PF206: a project pydantic model constructed without one of its required fields."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import PYDANTIC_BASE_MODELS, FieldInfo, FunctionInfo
from pitfalls.rules._signatures import INITLESS_BASES, is_classvar, mro
from pitfalls.rules._expected_errors import ExpectedErrors
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

# What a before-validator calls the raw input (`def fill(cls, data)`).
_VALIDATOR_DATA = frozenset({"data", "values", "obj", "raw", "raw_data", "payload"})
# Builtin exceptions pydantic's ValidationError derives from (v1 and v2).
_VALIDATION_ERROR_BASES = frozenset({"builtins.ValueError", "builtins.Exception", "builtins.BaseException"})
# Context managers that expect or swallow the exceptions they are given.
_EXPECTING = frozenset({"pytest.raises", "contextlib.suppress"})
_ASSERT_RAISES = frozenset({"assertRaises", "assertRaisesRegex"})

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/schemas.py": """
        from datetime import datetime
        from typing import Generic, Optional, TypeVar

        from pydantic import BaseModel, ConfigDict, Field

        T = TypeVar("T")


        class CompanyBusinessObjectSchema(BaseModel):
            model_config = ConfigDict(from_attributes=True)

            company_id: int = Field(..., description="Company ID is required")
            created_at: Optional[datetime] = None


        class Page(BaseModel, Generic[T]):
            items: list[T]
            total: int
            page: int = 1
    """,
    "app/schemas/__init__.py": "",
    "app/schemas/partner.py": """
        from typing import Optional

        from pydantic import BaseModel, Field

        from app.framework.schemas import CompanyBusinessObjectSchema


        class PartnerBase(CompanyBusinessObjectSchema):
            name: str = Field(..., description="Partner name is required")
            email: Optional[str] = None


        class PartnerCreate(PartnerBase):
            pass


        class PartnerUpdate(BaseModel):
            name: Optional[str] = None
            email: Optional[str] = None
    """,
    "app/services/__init__.py": "",
}


@dataclass(frozen=True)
class _Field:
    name: str
    owner: str  # qualified name of the class declaring it
    required: bool
    keywords: frozenset[str]  # what a call may pass it as: its name, its aliases


class RequiredFieldMissing(ExpectedErrors, Rule):
    """
    ## What it does
    Reports a call constructing a pydantic model of the project (a class deriving from
    `pydantic.BaseModel`, directly or through project classes in other files) that passes
    neither the name nor the alias of a field the model or one of its bases requires. A
    field is required when it has no default: no value, or `Field(...)` / `Field()` without
    `default`/`default_factory`. As in pydantic v2, `Optional[X]` without a default is
    required too; `Optional[X] = None` is not.

    Calls that pass `**data`, `*args` or positional arguments are left alone, as are
    `model_validate(...)`/`model_construct(...)`, models with an `__init__` of their own (or
    inherited from a project class), models with a method shaped like a before-validator
    that may fill fields in (`def fill(cls, data)`: the index does not record decorators,
    so the shape of `@model_validator(mode="before")` stands in for them), models with a
    base outside the project other than `BaseModel`/`Generic` (it may declare or default
    fields), fields whose alias is not a plain string, and calls passing a keyword that is
    not a known field or alias (the model may use an alias generator or accept extra
    fields).

    So are calls the code expects to fail: in the body of a `try` with a handler that
    catches pydantic's `ValidationError` (or one of its bases: `ValueError`, `Exception`,
    `BaseException`, a bare `except:`), and in a `with pytest.raises(...)`,
    `self.assertRaises(...)` or `contextlib.suppress(...)` block given such an exception.
    A function defined there runs later, outside the handler: its calls are checked.

    ## Why is this bad?
    Pydantic rejects the call when it runs, often only on the path that builds that
    object, and a field inherited from a framework schema in another file is easy to
    forget. The business object guide shows the error for a `PartnerCreate` built
    without its `company_id`:

    ```
    pydantic.error_wrappers.ValidationError: 1 validation error for PartnerCreate
    company_id
      field required
    ```

    ## Example
    ```python
    # app/framework/schemas.py
    class CompanyBusinessObjectSchema(BaseModel):
        company_id: int = Field(..., description="Company ID is required")


    # app/services/partner_service.py
    partner = PartnerCreate(name="Test Partner", email="test@partner.com")
    ```

    ## Use instead
    ```python
    partner = PartnerCreate(name="Test Partner", email="test@partner.com", company_id=company_id)
    ```

    ## Fix safety
    There is no automatic fix: only the caller knows the value.
    """

    code = "PF206"
    function_local = True  # see Rule.function_local
    name = "required-field-missing"
    summary = "Pydantic model constructed without a required field"
    exact_on_ast_tree = True

    VALID = [
        # The guide's fix: the other fields unpacked, `company_id` added.
        Valid(
            """
            from fastapi import Depends

            from app.schemas.partner import PartnerCreate


            async def create_partner(partner_data, company_id: int = Depends(get_company)):
                full_data = PartnerCreate(**partner_data.model_dump(), company_id=company_id)
                return full_data
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # Every required field given; defaults and `Optional[...] = None` left out.
        Valid(
            """
            from app.framework.schemas import Page
            from app.schemas.partner import PartnerCreate, PartnerUpdate


            def build(items):
                partner = PartnerCreate(name="Test", company_id=1)
                update = PartnerUpdate()
                page = Page[PartnerCreate](items=items, total=len(items))
                return partner, update, page
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # Validation from data, construction without validation, v1 spellings.
        Valid(
            """
            from app.schemas import partner as schemas


            def load(data: dict):
                a = schemas.PartnerCreate.model_validate(data)
                b = schemas.PartnerCreate.model_construct(name="x")
                c = schemas.PartnerCreate.parse_obj(data)
                return a, b, c
            """,
            files=_FRAMEWORK,
            path="app/services/loader.py",
        ),
        # Aliases, an alias generator, a custom `__init__`, a before-validator filling a
        # field in, private and class attributes.
        Valid(
            """
            from typing import ClassVar

            from pydantic import (
                AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, model_validator,
            )
            from pydantic.alias_generators import to_camel


            class DirectusArticle(BaseModel):
                date_created: str = Field(alias="dateCreated")
                user_created: str = Field(
                    validation_alias=AliasChoices("user_created", "userCreated"),
                )
                registry: ClassVar[dict] = {}
                _cache: dict = PrivateAttr(default_factory=dict)


            class Article(BaseModel):
                model_config = ConfigDict(alias_generator=to_camel)
                date_created: str


            class Token(BaseModel):
                value: str

                def __init__(self, raw: str):
                    super().__init__(value=raw.strip())


            class Tag(BaseModel):
                name: str
                slug: str

                @model_validator(mode="before")
                @classmethod
                def fill_slug(cls, data):
                    data.setdefault("slug", data["name"].lower())
                    return data


            DirectusArticle(dateCreated="2024-01-01")
            Article(dateCreated="2024-01-01")
            Token("abc")
            Tag(name="News")
            """
        ),
        # Not pydantic models: SQLAlchemy models, dataclasses, library models.
        Valid(
            """
            from dataclasses import dataclass

            from directus_sdk.models import Item
            from sqlalchemy.orm import DeclarativeBase, Mapped


            class Base(DeclarativeBase):
                pass


            class Partner(Base):
                __tablename__ = "partners"
                name: Mapped[str]
                company_id: Mapped[int]


            @dataclass
            class Point:
                x: int
                y: int


            Partner(name="x")
            Point(x=1, y=2)
            Item(title="x")
            """
        ),
        # Library bases: settings read from the environment, a base that may supply fields.
        Valid(
            """
            from fastapi_users import schemas
            from pydantic import BaseModel
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                directus_url: str
                directus_token: str


            class UserCreate(schemas.BaseUserCreate, BaseModel):
                company_id: int
                full_name: str


            settings = Settings()
            UserCreate(email="a@b.c", password="x", company_id=1)
            """
        ),
        # The code handles the ValidationError (a migration skipping what it cannot build),
        # or a test expects it.
        Valid(
            """
            import contextlib
            import unittest

            import pydantic
            import pytest

            from app.schemas.partner import PartnerCreate


            def upgrade(instances):
                try:
                    partner = PartnerCreate(name="Default partner")
                    migrate(instances, partner)
                except pydantic.ValidationError:
                    print("Skipping: set company_id and migrate by hand")


            def parse(name):
                try: return PartnerCreate(name=name)
                except (KeyError, ValueError): return None


            def test_company_id_required():
                with pytest.raises(pydantic.ValidationError, match="company_id"):
                    PartnerCreate(name="Test Partner")
                with contextlib.suppress(Exception):
                    PartnerCreate(name="Test Partner")


            class PartnerTest(unittest.TestCase):
                def test_company_id_required(self):
                    with self.assertRaises(ValueError):
                        PartnerCreate(name="Test Partner")
            """,
            files=_FRAMEWORK,
            path="app/services/migrate.py",
        ),
    ]
    INVALID = [
        # The guide's Issue 5: `company_id` comes from the framework base in another file.
        Invalid(
            """
            from app.schemas.partner import PartnerCreate


            def test_schema_validation():
                partner = PartnerCreate(name="Test Partner", email="test@partner.com")
                assert partner.name == "Test Partner"
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=5,
            message="`company_id` (declared on `app.framework.schemas.CompanyBusinessObjectSchema`)",
        ),
        # `Optional` without a default is required; a generic model subscripted.
        Invalid(
            """
            from typing import Optional

            from pydantic import BaseModel

            from app.framework.schemas import Page


            class PartnerFilter(BaseModel):
                status: Optional[str]
                search: str | None = None


            def list_partners(items):
                return Page[dict](items=items), PartnerFilter(search="acme")
            """,
            files=_FRAMEWORK,
            path="app/services/filters.py",
            line=14,
            count=2,
        ),
        # Fields with aliases; several fields missing, through a module imported under an alias.
        Invalid(
            """
            from pydantic import BaseModel, Field

            import app.schemas.partner as schemas


            class Contact(BaseModel):
                first_name: str = Field(alias="firstName")
                last_name: str = Field(..., alias="lastName")
                phone: str = Field(default="")


            contact = Contact(firstName="Ada")
            partner = schemas.PartnerCreate(email="x@y.z")
            """,
            files=_FRAMEWORK,
            path="app/services/contacts.py",
            count=2,
            message="missing required field",
        ),
        # A required field declared with `Annotated[..., Field(...)]`.
        Invalid(
            """
            from typing import Annotated

            from pydantic import BaseModel, Field


            class InvoiceCreate(BaseModel):
                amount: Annotated[int, Field(gt=0)]
                currency: Annotated[str, Field(default="EUR")]
                note: Annotated[str, Field(max_length=200)] = ""


            invoice = InvoiceCreate(
                currency="USD",
            )
            """,
            line=12,
            message="`amount`",
        ),
        # Handled or expected exceptions that are not a ValidationError; the `except`
        # clause itself; a function defined in a `try` runs outside it.
        Invalid(
            """
            import pytest

            from app.schemas.partner import PartnerCreate


            def load(rows):
                try:
                    partner = PartnerCreate(name=rows["name"])
                except KeyError:
                    partner = PartnerCreate(name="unknown")
                try:
                    def build():
                        return PartnerCreate(name="x")
                except ValueError:
                    pass
                with pytest.raises(KeyError):
                    PartnerCreate(name=rows["missing"])
                return partner, build
            """,
            files=_FRAMEWORK,
            path="app/services/loader.py",
            count=4,
            message="`company_id`",
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._models: dict[str, list[_Field] | None] = {}

    def expects(self, expr: cst.BaseExpression) -> bool:
        """``pytest.raises(ValidationError)``, ``contextlib.suppress(ValueError)``,
        ``self.assertRaises(ValidationError)``."""
        if not isinstance(expr, cst.Call):
            return False
        expecting = names.last_name(expr.func) in _ASSERT_RAISES or self.ctx.qualified_name(expr.func) in _EXPECTING
        return expecting and any(
            self.catches(arg.value)
            for arg in expr.args
            if arg.keyword is None or arg.keyword.value in ("expected_exception", "exception")
        )

    def catches(self, caught: cst.BaseExpression) -> bool:
        """Whether an exception type (or a tuple of them) catches pydantic's ValidationError."""
        types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        for expr in types:
            qualname = self.ctx.qualified_name(expr)
            if qualname is None:
                continue
            qualname = self.ctx.index.resolve(qualname)
            if qualname in _VALIDATION_ERROR_BASES or (
                qualname.split(".")[0] in ("pydantic", "pydantic_core") and qualname.endswith(".ValidationError")
            ):
                return True
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if self.expecting:
            return  # the code handles (or a test expects) the ValidationError
        func = node.func.value if type(node.func) is cst.Subscript else node.func
        dotted = names.dotted(func)
        # Classes are CapWords: skip every other call before resolving anything.
        if dotted is None or not dotted.rsplit(".", 1)[-1][:1].isupper():
            return
        if any(arg.star or arg.keyword is None for arg in node.args):
            return
        qualname = self.ctx.qualified_name(func)
        if qualname is None:
            return
        if qualname not in self._models:
            self._models[qualname] = self._fields(qualname)
        fields = self._models[qualname]
        if fields is None:
            return
        passed = {arg.keyword.value for arg in node.args if arg.keyword is not None}
        if not passed <= {keyword for f in fields for keyword in f.keywords}:
            return
        missing = [f for f in fields if f.required and not f.keywords & passed]
        if missing:
            listed = ", ".join(f"`{f.name}` (declared on `{f.owner}`)" for f in missing)
            plural = "s" if len(missing) > 1 else ""
            self.ctx.report(node, f"`{dotted}(...)` is missing required field{plural} {listed}")

    def _fields(self, qualname: str) -> list[_Field] | None:
        """The model's fields, nearest declaration first; None when calls of the model
        cannot be checked."""
        index = self.ctx.index
        if not index.is_pydantic_model(qualname):
            return None
        order = mro(index, qualname)
        if order is None:
            return None
        found: dict[str, _Field | None] = {}
        for cls in order:
            info = index.class_info(cls)
            if info is None:
                if cls in PYDANTIC_BASE_MODELS or cls in INITLESS_BASES:
                    continue
                return None
            if info.init is not None or any(map(_may_fill_fields, info.methods.values())):
                return None
            for name, field in info.fields.items():
                private = name.startswith("_") or is_classvar(field.annotation)
                if name not in found and not private:
                    found[name] = _describe(field, cls)
        return [f for f in found.values() if f is not None]


def _may_fill_fields(method: FunctionInfo) -> bool:
    """Shaped like a ``@model_validator(mode="before")`` (or v1 ``@root_validator(pre=True)``),
    which may fill fields in from the others: ``def f(cls, data)``. The index does not
    record decorators, so the shape stands in for them."""
    params = [p.name for p in method.params]
    return len(params) == 2 and params[0] == "cls" and params[1] in _VALIDATOR_DATA


def _describe(field: FieldInfo, owner: str) -> _Field | None:
    """Whether the field is required and what a call may pass it as; None when an alias
    is not a plain string (``AliasChoices``, ``AliasPath``)."""
    has_default = field.has_default
    calls = []
    if field.default and "Field(" in field.default:
        calls.append(_field_call(field.default))
    if "Field(" in field.annotation:  # Annotated[int, Field(...)]
        annotated = _field_call(field.annotation)
        has_default = has_default or (annotated is not None and names.field_has_default(annotated))
        calls.append(annotated)
    keywords = {field.name}
    for call in filter(None, calls):
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in ("alias", "validation_alias"):
                alias = names.string_value(arg.value)
                if alias is None:
                    return None
                keywords.add(alias)
    return _Field(field.name, owner, not has_default, frozenset(keywords))


def _field_call(text: str) -> cst.Call | None:
    """The ``Field(...)`` call of a field's default or ``Annotated[...]`` annotation."""
    try:
        expr = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None
    candidates: list[cst.BaseExpression] = [expr]
    if isinstance(expr, cst.Subscript) and _last_name(expr.value) == "Annotated":
        candidates = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)]
    for candidate in candidates:
        if isinstance(candidate, cst.Call) and _last_name(candidate.func) == "Field":
            return candidate
    return None


def _last_name(expr: cst.BaseExpression) -> str:
    return (names.dotted(expr) or "").rsplit(".", 1)[-1]
