"""PF401: pydantic v1 API used on a pydantic v2 model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import PYDANTIC_SETTINGS
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Severity, Valid


@dataclass(frozen=True)
class _V1Method:
    """A v1 method, what to use instead, and the calls whose rename means exactly the same
    under v2 (the deprecated method only forwards these arguments to the new one)."""

    use: str  # Markdown, for the message
    rename: str | None = None  # None: no drop-in replacement
    positional: int = 0  # positional arguments the rename accepts
    keywords: frozenset[str] | None = frozenset()  # None: any keyword


_DUMP_KEYWORDS = frozenset(
    {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
)
_V1_METHODS = {
    "dict": _V1Method("`.model_dump()`", "model_dump", keywords=_DUMP_KEYWORDS),
    "json": _V1Method("`.model_dump_json()`", "model_dump_json", keywords=_DUMP_KEYWORDS),
    "parse_obj": _V1Method("`.model_validate()`", "model_validate", 1, frozenset({"obj"})),
    "parse_raw": _V1Method("`.model_validate_json()`", "model_validate_json", 1),
    "parse_file": _V1Method("`.model_validate_json()` on the file's content"),
    "from_orm": _V1Method("`.model_validate()` with `from_attributes=True`"),
    "copy": _V1Method("`.model_copy()`", "model_copy", keywords=frozenset({"update", "deep"})),
    "schema": _V1Method(
        "`.model_json_schema()`", "model_json_schema", 2, frozenset({"by_alias", "ref_template"})
    ),
    "schema_json": _V1Method("`json.dumps(Model.model_json_schema())`"),
    "construct": _V1Method("`.model_construct()`", "model_construct", 1, None),
    "update_forward_refs": _V1Method("`.model_rebuild()`", "model_rebuild"),
}
# Methods whose first parameter is the class without a `@classmethod` decorator.
_CLASS_FIRST_METHODS = frozenset({"__new__", "__init_subclass__", "__class_getitem__"})
_V1_DECORATORS = {"validator": "field_validator", "root_validator": "model_validator"}


class PydanticV1Api(Rule):
    """
    ## What it does
    Reports pydantic v1 API used on a pydantic model: the methods `.dict()`, `.json()`,
    `.parse_obj()`, `.parse_raw()`, `.parse_file()`, `.from_orm()`, `.copy()`, `.schema()`,
    `.schema_json()`, `.construct()`, `.update_forward_refs()`, the `__fields__` attribute,
    the `@validator`/`@root_validator` decorators and an inner `class Config`.

    Only what is known to be a pydantic model counts: a class of the project deriving from
    `pydantic.BaseModel` (directly or through project classes), or an instance of one
    (built by its constructor, annotated with it, e.g. a FastAPI endpoint's
    `partner_data: PartnerCreate`, returned by a function annotated to return it, or
    `self`/`cls` in the model's own methods).
    `.dict()` on a dict or dataclass, `.json()` on an HTTP response, `.copy()` on a list,
    a model that defines its own `dict()`, and models imported from outside the project
    (or from `pydantic.v1`) are left alone. So is all code of a project that runs on
    pydantic 1 (its nearest `pyproject.toml`, `requirements*.txt` or `setup.cfg` pins
    pydantic 1, or a FastAPI older than 0.100; or `pydantic-version = 1` in the settings):
    there this is the API, not a pitfall.

    ## Why is this bad?
    Pydantic v2 renamed these (`model_dump()`, `model_validate()`, `model_fields`,
    `field_validator`, `model_config = ConfigDict(...)`...). The old spellings still work
    but are deprecated: every call emits a warning such as

    ```
    PydanticDeprecatedSince20: The `dict` method is deprecated; use `model_dump` instead.
    ```

    which floods logs and test output (and fails test suites run with `-W error`), and
    they are removed in pydantic v3. Some no longer behave as in v1: `.json()` rejects
    `encoder=` and `json.dumps` arguments with a `TypeError`, `.from_orm()` raises unless
    the model sets `from_attributes=True`. The guides still use the v1 spellings
    (`partner_data.dict()` in the business object guide, `DirectusArticle.__fields__.keys()`
    in the Directus schema validator).

    The rule assumes pydantic v2: in a project still pinned to v1, where these are the
    current API, disable it (`ignore = ["PF401"]`).

    ## Example
    ```python
    from pydantic import BaseModel, validator


    class PartnerCreate(BaseModel):
        name: str

        class Config:
            str_strip_whitespace = True

        @validator("name")
        def not_blank(cls, value):
            return value


    async def create_partner(partner_data: PartnerCreate):
        return Partner(**partner_data.dict())
    ```

    ## Use instead
    ```python
    from pydantic import BaseModel, ConfigDict, field_validator


    class PartnerCreate(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)

        name: str

        @field_validator("name")
        @classmethod
        def not_blank(cls, value):
            return value


    async def create_partner(partner_data: PartnerCreate):
        return Partner(**partner_data.model_dump())
    ```

    ## Fix safety
    Renames are safe: under v2 each deprecated method only forwards its arguments to the
    new one, so the fix is offered only for calls whose arguments the new method takes
    with the same meaning (`.copy()` without `include`/`exclude`, `.json()` without
    `json.dumps` arguments...). `.parse_raw(data)` becomes `.model_validate_json(data)`,
    which parses and validates the JSON in one step. `.update_forward_refs()` becomes
    `.model_rebuild()`, which does not rebuild a model that is already complete.
    `instance.__fields__` becomes `type(instance).model_fields` (reading `model_fields`
    from an instance is itself deprecated since pydantic 2.11).

    There is no fix for `.parse_file()`, `.schema_json()`, `.from_orm()` (which needs
    `from_attributes=True` in the model's config), the validators (their signatures
    changed: `values` became `info.data`, `pre=True` became `mode="before"`) or
    `class Config` (some keys were renamed, e.g. `orm_mode` to `from_attributes`).
    """

    code = "PF401"
    function_local = True  # see Rule.function_local
    name = "pydantic-v1-api"
    summary = "Pydantic v1 API on a pydantic model"
    exact_on_ast_tree = True
    severity = Severity.WARNING
    fix_applicability = Applicability.SAFE

    @classmethod
    def applies(cls, settings: Any) -> bool:
        return getattr(settings, "pydantic_version", None) != 1

    VALID = [
        # A project pinned to pydantic 1: `.dict()` is its API.
        Valid("""
            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

            def export(partner: Partner) -> dict:
                return partner.dict()
        """, files={"requirements.txt": "fastapi==0.95.2\npydantic==1.10.26\n"}),
        Valid("""
            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

            def export(partner: Partner) -> dict:
                return partner.dict()
        """, files={"pyproject.toml": '[tool.poetry.dependencies]\nfastapi = "0.65.2"\n'}),
        # The guide's test_directus_connection: `.json()` on HTTP responses.
        Valid("""
            import requests

            def login(url: str) -> str:
                auth_response = requests.post(f"{url}/auth/login", json={}, timeout=10)
                user = requests.get(f"{url}/users/me", timeout=10).json()
                return auth_response.json()["data"]["access_token"], user
        """),
        Valid("""
            import httpx

            async def fetch(client: httpx.AsyncClient) -> dict:
                response = await client.get("/items")
                return response.json()
        """),
        # Plain dicts and lists.
        Valid("""
            defaults = {"status": "draft"}
            payload = defaults.copy()
            tags = ["a", "b"]
            more = tags.copy()
            body = dict(payload).copy()
        """),
        # A dataclass and a class of the project with their own dict()/json()/copy().
        Valid("""
            from dataclasses import asdict, dataclass

            @dataclass
            class Point:
                x: int

                def dict(self) -> dict:
                    return asdict(self)

            class Settings:
                def json(self) -> str:
                    return "{}"

                def copy(self) -> "Settings":
                    return Settings()

            point = Point(1)
            point.dict()
            Settings().json()
            Settings().copy()
        """),
        # SQLAlchemy rows and models.
        Valid("""
            from sqlalchemy import select
            from sqlalchemy.orm import DeclarativeBase, Session

            class Base(DeclarativeBase):
                pass

            class Partner(Base):
                __tablename__ = "partners"

            def rows(session: Session) -> list[dict]:
                result = session.execute(select(Partner.id, Partner.name))
                return [row._asdict() for row in result] + [dict(r._mapping) for r in result]
        """),
        # Unknown objects: parameters without annotation, attributes, call results.
        Valid("""
            def serialize(item, service):
                data = item.dict()
                other = service.repository.get(1).dict()
                return data, other, item.json(), item.copy()
        """),
        # A model imported from outside the project: we cannot see what it is.
        Valid("""
            from directus_sdk.models import Article

            def load(data: dict) -> Article:
                article = Article.parse_obj(data)
                return article.copy()
        """),
        # Inner `class Config` of classes that are not pydantic models.
        Valid("""
            import factory

            class PartnerFactory(factory.Factory):
                class Config:
                    model = "Partner"

            class Service:
                class Config:
                    retries = 3
        """),
        # Explicit v1 compatibility layer: `pydantic.v1` keeps the v1 API.
        Valid("""
            from pydantic.v1 import BaseModel, validator

            class Legacy(BaseModel):
                name: str

                class Config:
                    orm_mode = True

                @validator("name")
                def strip(cls, value):
                    return value.strip()

            Legacy(name="x").dict()
            Legacy.parse_obj({"name": "x"})
        """),
        # Already v2.
        Valid("""
            from pydantic import BaseModel, ConfigDict, field_validator

            class Partner(BaseModel):
                model_config = ConfigDict(from_attributes=True)
                name: str

                @field_validator("name")
                @classmethod
                def strip(cls, value: str) -> str:
                    return value.strip()

            partner = Partner.model_validate({"name": "x"})
            partner.model_dump(), partner.model_copy(), Partner.model_fields
        """),
        # A model that defines its own dict(): the call is to that method.
        Valid("""
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str

                def dict(self, **kwargs):
                    return {"title": self.title.upper()}

            Article(title="x").dict()
        """),
        # A list of models is not a model: `.copy()` is list.copy.
        Valid("""
            from typing import Optional
            from pydantic import BaseModel

            class Item(BaseModel):
                id: int

            def clone(items: list[Item], index: dict[str, Item], first: Optional[Item]):
                index.copy()
                return items.copy()
        """),
        # Reassigned from the model's dump: `data` is a dict by now.
        Valid("""
            from pydantic import BaseModel

            class PartnerCreate(BaseModel):
                name: str

            async def create_partner(data: PartnerCreate, extra: PartnerCreate):
                data = data.model_dump()
                extra = extra.model_dump(); extra = extra.copy()
                if data: data = data.copy()
                return data.copy(), extra
        """),
        # A name of the module rebound in a function (a loop variable, an unannotated
        # parameter) is not the module's model.
        Valid("""
            from pydantic import BaseModel

            class Item(BaseModel):
                id: int

            item = Item(id=1)

            def export(item, rows):
                for row in rows:
                    row.copy()
                return item.json()
        """),
        # A different `validator` decorator.
        Valid("""
            from app.checks import validator

            @validator("name")
            def check(value):
                return value
        """),
    ]
    INVALID = [
        # A model defined inside a function.
        Invalid("""
            from pydantic import BaseModel

            def export(names: list[str]) -> list[dict]:
                class Row(BaseModel):
                    name: str

                return [Row(name=name).dict() for name in names]
        """, line=7),
        # A model held in a class attribute (a field of another model, an attribute
        # annotated in the class body), and the items of a `list[Model]`.
        Invalid("""
            from typing import List

            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

            class Envelope(BaseModel):
                payload: Partner

                def body(self) -> dict:
                    return self.payload.dict()

            class Exporter:
                partners: List[Partner]

                def write(self, out) -> None:
                    for partner in self.partners:
                        out.write(partner.json())
        """, count=2),
        # A settings class is a model too; a value returned as `Optional[Model]` is one.
        Invalid("""
            from typing import Optional

            from pydantic import BaseModel
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_url: str = "http://localhost:8055"

            class Partner(BaseModel):
                name: str

            def find(name: str) -> Optional[Partner]:
                return Partner(name=name)

            def dump(settings: Settings) -> dict:
                return {**settings.dict(), **find("acme").dict()}
        """, count=2, line=16),
        # The same on pydantic 2.
        Invalid("""
            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

            def export(partner: Partner) -> dict:
                return partner.dict()
        """, files={"requirements.txt": "pydantic>=2.5\n"}, line=7, fixed="""
            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

            def export(partner: Partner) -> dict:
                return partner.model_dump()
        """),
        # Business guide Issue 5: a FastAPI endpoint's parameter, model in another module.
        Invalid(
            """
            from fastapi import APIRouter, Depends
            from app.schemas.partner import PartnerCreate, PartnerCreateBase

            router = APIRouter()

            @router.post("/partners/")
            async def create_partner(
                partner_data: PartnerCreateBase,
                company_id: int = Depends(get_current_user_company),
            ):
                full_data = PartnerCreate(
                    **partner_data.dict(),
                    company_id=company_id,
                )
                return full_data
            """,
            files={
                "app/__init__.py": "",
                "app/schemas/__init__.py": "",
                "app/schemas/base.py": """
                    from pydantic import BaseModel

                    class CompanyBusinessObjectSchema(BaseModel):
                        company_id: int
                """,
                "app/schemas/partner.py": """
                    from typing import Optional
                    from pydantic import BaseModel
                    from app.schemas.base import CompanyBusinessObjectSchema

                    class PartnerCreateBase(BaseModel):
                        name: str
                        email: Optional[str] = None

                    class PartnerCreate(CompanyBusinessObjectSchema):
                        name: str
                """,
            },
            path="app/routers/partners.py",
            line=12,
            message="model_dump()",
            fixed="""
            from fastapi import APIRouter, Depends
            from app.schemas.partner import PartnerCreate, PartnerCreateBase

            router = APIRouter()

            @router.post("/partners/")
            async def create_partner(
                partner_data: PartnerCreateBase,
                company_id: int = Depends(get_current_user_company),
            ):
                full_data = PartnerCreate(
                    **partner_data.model_dump(),
                    company_id=company_id,
                )
                return full_data
            """,
        ),
        # Business guide Issue 7: an instance built by its constructor; the model derives
        # from a project base imported from another module.
        Invalid(
            """
            from app.models import Partner
            from app.schemas import PartnerCreate

            partner_data = PartnerCreate(name="Test", company_id=1)
            partner_dict = partner_data.dict()
            partner = Partner(**partner_dict)
            """,
            files={
                "app/__init__.py": "",
                "app/models.py": "class Partner:\n    pass\n",
                "app/base.py": """
                    from pydantic import BaseModel

                    class Schema(BaseModel):
                        pass
                """,
                "app/schemas.py": """
                    from app.base import Schema

                    class PartnerCreate(Schema):
                        name: str
                        company_id: int
                """,
            },
            path="scripts/check.py",
            line=5,
            fixed="""
            from app.models import Partner
            from app.schemas import PartnerCreate

            partner_data = PartnerCreate(name="Test", company_id=1)
            partner_dict = partner_data.model_dump()
            partner = Partner(**partner_dict)
            """,
        ),
        # Directus guide, Schema Validator: class-level `__fields__`.
        Invalid(
            """
            def validate_articles_schema():
                from src_v2.schemas.directus_schemas import DirectusArticle
                model_fields = set(DirectusArticle.__fields__.keys())
                return model_fields
            """,
            files={
                "src_v2/__init__.py": "",
                "src_v2/schemas/__init__.py": "",
                "src_v2/schemas/directus_schemas.py": """
                    from pydantic import BaseModel

                    class DirectusArticle(BaseModel):
                        id: str
                        title: str
                """,
            },
            path="scripts/validate_schema.py",
            line=3,
            message="model_fields",
            fixed="""
            def validate_articles_schema():
                from src_v2.schemas.directus_schemas import DirectusArticle
                model_fields = set(DirectusArticle.model_fields.keys())
                return model_fields
            """,
        ),
        # Class-level calls.
        Invalid(
            """
            import pydantic

            class Article(pydantic.BaseModel):
                title: str

            article = Article.parse_obj({"title": "x"})
            again = Article.parse_raw('{"title": "x"}')
            schema = Article.schema(by_alias=False)
            """,
            count=3,
            fixed="""
            import pydantic

            class Article(pydantic.BaseModel):
                title: str

            article = Article.model_validate({"title": "x"})
            again = Article.model_validate_json('{"title": "x"}')
            schema = Article.model_json_schema(by_alias=False)
            """,
        ),
        # An instance returned by a function annotated to return the model.
        Invalid(
            """
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str

            def get_article() -> Article:
                return Article(title="x")

            async def aget_article() -> "Article":
                return Article(title="x")

            async def handler():
                article = get_article()
                body = article.json(exclude_none=True)
                other = (await aget_article()).copy(update={"title": "y"})
                return body, other
            """,
            count=2,
            fixed="""
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str

            def get_article() -> Article:
                return Article(title="x")

            async def aget_article() -> "Article":
                return Article(title="x")

            async def handler():
                article = get_article()
                body = article.model_dump_json(exclude_none=True)
                other = (await aget_article()).model_copy(update={"title": "y"})
                return body, other
            """,
        ),
        # `self`/`cls` in the model's own methods; an instance's `__fields__`.
        Invalid(
            """
            from typing import Optional
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str

                def to_payload(self) -> dict:
                    return self.dict(by_alias=True)

                @classmethod
                def empty(cls) -> "Article":
                    return cls.construct(title="")

                @classmethod
                def columns(cls) -> list[str]:
                    return list(cls.__fields__)

            def names(article: Optional[Article]) -> list[str]:
                return list(article.__fields__)
            """,
            count=4,
            fixed="""
            from typing import Optional
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str

                def to_payload(self) -> dict:
                    return self.model_dump(by_alias=True)

                @classmethod
                def empty(cls) -> "Article":
                    return cls.model_construct(title="")

                @classmethod
                def columns(cls) -> list[str]:
                    return list(cls.model_fields)

            def names(article: Optional[Article]) -> list[str]:
                return list(type(article).model_fields)
            """,
        ),
        # The parameter is still the model while its reassignment is evaluated.
        Invalid(
            """
            from pydantic import BaseModel

            class PartnerUpdate(BaseModel):
                name: str | None = None

            def update_partner(partner: dict, partner_in: PartnerUpdate) -> dict:
                partner_in = partner_in.dict(exclude_unset=True)
                return {**partner, **partner_in.copy()}
            """,
            line=7,
            fixed="""
            from pydantic import BaseModel

            class PartnerUpdate(BaseModel):
                name: str | None = None

            def update_partner(partner: dict, partner_in: PartnerUpdate) -> dict:
                partner_in = partner_in.model_dump(exclude_unset=True)
                return {**partner, **partner_in.copy()}
            """,
        ),
        # `Annotated[...]` parameter; reported without a fix when the arguments differ.
        Invalid(
            """
            from typing import Annotated
            from fastapi import Body
            from pydantic import BaseModel

            class Item(BaseModel):
                name: str

            def update(item: Annotated[Item, Body()]):
                return item.copy(exclude={"name"})
            """,
            line=9,
            message="model_copy()",
        ),
        # No drop-in replacement: reported without a fix.
        Invalid(
            """
            from pydantic import BaseModel

            class Item(BaseModel):
                name: str

            def load(path, row):
                Item.parse_file(path)
                Item.from_orm(row)
                Item.schema_json(indent=2)
            """,
            count=3,
        ),
        # Validators.
        Invalid(
            """
            import pydantic
            from pydantic import BaseModel, root_validator

            class Partner(BaseModel):
                name: str

                @pydantic.validator("name", pre=True)
                def strip(cls, value):
                    return value.strip()

                @root_validator
                def check(cls, values):
                    return values
            """,
            count=2,
            message="_validator",
        ),
        # Inner Config: reported once, at the `class Config` line.
        Invalid(
            """
            from pydantic import BaseModel

            class Partner(BaseModel):
                name: str

                class Config:
                    orm_mode = True
                    anystr_strip_whitespace = True
            """,
            line=6,
            count=1,
            message="ConfigDict",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = _V1_METHODS.get(func.attr.value)
        if method is None:
            return
        found = self._model_of(func.value)
        if found is None:
            return
        model = found[0]
        if _defines(self.ctx, model, func.attr.value):
            return
        fix = None
        if method.rename is not None and _forwarded_unchanged(node, method):
            fix = self.ctx.fix(f"Rename to `{method.rename}`", NodeEdit(func.attr, method.rename))
        self.ctx.report(
            node,
            f"`.{func.attr.value}()` on `{_short(model)}` is pydantic v1 API, deprecated in v2: "
            f"use {method.use}",
            fix=fix,
        )

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "__fields__":
            return
        found = self._model_of(node.value)
        if found is None:
            return
        model, is_class = found
        if is_class is None:  # `self`/`cls` of a decorated method: class or instance?
            use, fix = "`model_fields` of the class", None
        elif is_class:
            use = "`model_fields`"
            fix = self.ctx.fix(f"Use {use}", NodeEdit(node.attr, "model_fields"))
        else:
            replacement = f"type({self.ctx.code_for(node.value)}).model_fields"
            use = f"`{replacement}`"
            fix = self.ctx.fix(f"Use {use}", NodeEdit(node, replacement))
        self.ctx.report(
            node,
            f"`__fields__` of `{_short(model)}` is pydantic v1 API, deprecated in v2: use {use}",
            fix=fix,
        )

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        tail = names.last_name(target)
        if tail is None:
            return
        if tail not in _V1_DECORATORS:
            return
        qualname = self.ctx.qualified_name(target)
        if qualname is None:
            return
        qualname = self.ctx.index.resolve(qualname)
        if qualname.startswith("pydantic.") and not qualname.startswith("pydantic.v1."):
            self.ctx.report(
                node,
                f"`@{tail}` is pydantic v1 API, deprecated in v2: use `@{_V1_DECORATORS[tail]}`",
            )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        config = next(
            (s for s in node.body.body if type(s) is cst.ClassDef and s.name.value == "Config"),
            None,
        )
        if config is None:
            return
        model = self.ctx.qualified_name(node.name)
        if model is not None and _is_model(self.ctx, model):
            self.ctx.report(
                config,
                f"inner `class Config` of `{node.name.value}` is pydantic v1 API, deprecated "
                "in v2: use `model_config = ConfigDict(...)`",
            )

    # -- what an expression is ----------------------------------------------------------

    def _class_named(self, expr: cst.BaseExpression) -> str | None:
        """The pydantic model class ``expr`` names (``Model``, ``schemas.Model``)."""
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return None
        qualname = self.ctx.qualified_name(expr)
        if qualname is None or not _is_model(self.ctx, qualname):
            return None
        return self.ctx.index.resolve(qualname)

    def _model_of(self, expr: cst.BaseExpression) -> tuple[str, bool | None] | None:
        """The pydantic model ``expr`` is (True), or is an instance of (False), or one of
        the two (None: the first parameter of a decorated method)."""
        ctx = self.ctx
        owner = self._class_named(expr)
        if owner is not None:
            return owner, True
        for _ in range(10):
            if isinstance(expr, cst.Await):
                expr = expr.expression
            elif isinstance(expr, cst.Call):
                qualname = ctx.class_of_instance(expr)
                if qualname is None or not _is_model(ctx, qualname):
                    return None
                return qualname, False
            elif isinstance(expr, cst.Name):
                # Only the current scope: a loop variable (or a name bound by `with ... as`,
                # tuple unpacking) has no known value, and hides the outer binding.
                value = ctx.value_of(expr.value, local=True)
                annotation = ctx.annotation_of(expr.value, local=True)
                if annotation is not None and (value is None or ctx.is_annotated_value(value)):
                    model = self._annotated_model(annotation)
                    return (model, False) if model else None
                if value is None:
                    return self._enclosing_model(expr.value)
                expr = value
            elif isinstance(expr, cst.Attribute):  # `self.payload`, annotated or built in the class
                annotation = ctx.attribute_annotation(expr)
                model = self._annotated_model(annotation) if annotation is not None else None
                if model is None and annotation is None:
                    model = ctx.class_of_instance(expr)
                return (model, False) if model is not None and _is_model(ctx, model) else None
            else:
                return None
        return None

    def _annotated_model(self, annotation: cst.BaseExpression) -> str | None:
        """The model an annotation says a value is: ``Model``, ``Optional[Model]``,
        ``Model | None``, ``Annotated[Model, ...]``, ``"Model"``; not ``list[Model]``."""
        for _ in range(10):
            if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
                try:
                    annotation = cst.parse_expression(names.string_value(annotation) or "")
                except cst.ParserSyntaxError:
                    return None
            elif isinstance(annotation, cst.Subscript):
                head = (names.dotted(annotation.value) or "").rpartition(".")[2]
                items = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
                if head in ("Optional", "Annotated") and items:
                    annotation = items[0]
                elif head == "Union":
                    annotation = _single_not_none(items)
                else:
                    return None
            elif isinstance(annotation, cst.BinaryOperation) and isinstance(
                annotation.operator, cst.BitOr
            ):
                annotation = _single_not_none([annotation.left, annotation.right])
            elif annotation is None:
                return None
            else:
                return self._class_named(annotation)
        return None

    def _enclosing_model(self, name: str) -> tuple[str, bool | None] | None:
        """The model whose method binds ``name`` as its first parameter, and whether that
        is the class (a classmethod) or an instance (an undecorated method)."""
        found = self.ctx.enclosing_method()
        if found is None or not isinstance(found[1], cst.FunctionDef):
            return None
        owner, method = found
        params = [*method.params.posonly_params, *method.params.params]
        if not params or params[0].name.value != name:
            return None
        model = self._class_named(owner.name)
        if model is None:
            return None
        if not method.decorators:
            return model, method.name.value in _CLASS_FIRST_METHODS
        if any(names.dotted(d.decorator) == "classmethod" for d in method.decorators):
            return model, True
        return model, None


def _single_not_none(items: list[cst.BaseExpression]) -> cst.BaseExpression | None:
    rest = [item for item in items if names.dotted(item) != "None"]
    return rest[0] if len(rest) == 1 else None


def _defines(ctx: RuleContext, model: str, attribute: str) -> bool:
    """Whether the model or one of its project bases defines ``attribute`` itself."""
    for qualname in (model, *ctx.index.ancestors(model)):
        info = ctx.index.class_info(qualname)
        if info is not None and (attribute in info.methods or attribute in info.fields):
            return True
    return False


def _forwarded_unchanged(call: cst.Call, method: _V1Method) -> bool:
    """Whether the v2 method takes every argument of ``call`` with the same meaning."""
    positional = 0
    for arg in call.args:
        if arg.star:
            if arg.star == "*" or method.keywords is not None:
                return False
        elif arg.keyword is None:
            positional += 1
        elif method.keywords is not None and arg.keyword.value not in method.keywords:
            return False
    return positional <= method.positional


def _short(qualname: str) -> str:
    return qualname.rpartition(".")[2]


def _is_model(ctx: RuleContext, qualname: str) -> bool:
    """A pydantic model of the project, settings classes (`BaseSettings`) included."""
    return ctx.index.is_pydantic_model(qualname) or ctx.index.is_subclass(qualname, PYDANTIC_SETTINGS)
