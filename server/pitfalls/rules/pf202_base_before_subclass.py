"""PF202: a class lists a base before a later base that already derives from it."""

from __future__ import annotations

import libcst as cst

from pitfalls.rules._bases import GENERIC, OBJECT, ClassBase, ancestors, class_bases
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, Valid

_SCHEMAS = """
    from pydantic import BaseModel, ConfigDict


    class CompanyBusinessObjectSchema(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        company_id: int
"""
_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/schemas.py": _SCHEMAS,
    "app/schemas/__init__.py": "",
}
_MODELS = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/base.py": """
        from sqlalchemy import Column, Integer
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class CompanyBaseModel(Base):
            __abstract__ = True

            id = Column(Integer, primary_key=True)
            company_id = Column(Integer, nullable=False, index=True)
    """,
    "app/framework/mixins.py": """
        class BusinessObjectMixin:
            pass


        class AuditableMixin:
            pass


        class EventPublisherMixin:
            pass
    """,
    "app/models/__init__.py": "",
}


class BaseBeforeSubclass(Rule):
    """
    ## What it does
    Reports a class statement that lists a base before another base that already derives
    from it, such as `class PartnerBase(BaseModel, CompanyBusinessObjectSchema)` where
    `CompanyBusinessObjectSchema` is a pydantic model. Bases are resolved through imports
    and re-exports, across the project's files and through subscripts
    (`Page[Partner]`); a base outside the project counts by what the project's classes
    derive from (`pydantic.BaseModel`), and a few well-known ones by what they bring
    (`BaseSettings`, `SQLModel` and `RootModel` are pydantic models). `object` listed
    before any other base is reported too.

    `Generic[T]` listed before a subscripted generic base (`class Repo(Generic[T],
    BaseRepo[T])`) is left alone: `typing` drops it from the bases.

    ## Why is this bad?
    Python must place every class before its own bases in the method resolution order, and
    keep the order the bases are listed in. A base listed before its own subclass asks for
    both, so the class statement fails when the module is imported:

    ```
    TypeError: Cannot create a consistent method resolution order (MRO) for bases BaseModel, CompanyBusinessObjectSchema
    ```

    (The business object guide's Issue 6 shows this failure as `Cannot use multiple
    inheritance with 'BaseModel' and 'CompanyBusinessObjectSchema'`; Python's message is
    the one above.) The earlier base adds nothing: the later one already brings it.

    ## Example
    ```python
    from pydantic import BaseModel

    from app.framework.schemas import CompanyBusinessObjectSchema


    class PartnerBase(BaseModel, CompanyBusinessObjectSchema):
        name: str
    ```

    ## Use instead
    ```python
    from app.framework.schemas import CompanyBusinessObjectSchema


    class PartnerBase(CompanyBusinessObjectSchema):
        name: str
    ```

    ## Fix safety
    The fix drops the redundant bases, and is safe: the class gets the same bases, in the
    order its remaining bases give them, and a class statement that could not run now
    does. The import of a dropped base may become unused. There is no fix when a dropped
    base is subscripted (`Generic[T]`, `Base[T]`): its type arguments would go with it.
    """

    code = "PF202"
    function_local = True  # see Rule.function_local
    name = "base-before-subclass"
    summary = "Base class listed before a later base that already derives from it"
    fix_applicability = Applicability.SAFE

    VALID = [
        # The guide's correct inheritance: the framework schema alone.
        Valid(
            """
            from typing import Optional

            from app.framework.schemas import CompanyBusinessObjectSchema


            class PartnerBase(CompanyBusinessObjectSchema):
                name: str
                email: Optional[str] = None
            """,
            files=_FRAMEWORK,
            path="app/schemas/partner.py",
        ),
        # A generic pydantic model: `Generic` does not derive from `BaseModel`.
        Valid("""
            from typing import Generic, List, TypeVar

            from pydantic import BaseModel

            T = TypeVar("T")


            class Page(BaseModel, Generic[T]):
                items: List[T]
                total: int
        """),
        # Unrelated bases in either order, and a subclass listed before its base.
        Valid(
            """
            from app.framework.base import CompanyBaseModel
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class TimestampMixin:
                pass


            class AuditedModel(CompanyBaseModel, AuditableMixin):
                __abstract__ = True


            class Partner(TimestampMixin, CompanyBaseModel, BusinessObjectMixin):
                __tablename__ = "partners"


            class Invoice(AuditedModel, CompanyBaseModel, AuditableMixin):
                __tablename__ = "invoices"
            """,
            files=_MODELS,
            path="app/models/partner.py",
        ),
        # `typing` drops `Generic[T]` when a subscripted generic follows it.
        Valid("""
            from typing import Generic, TypeVar

            T = TypeVar("T")


            class Repository(Generic[T]):
                pass


            class CachedRepository(Generic[T], Repository[T]):
                pass
        """),
        # Bases outside the project, keywords, a class without bases.
        Valid("""
            from enum import Enum

            from pydantic_settings import BaseSettings
            from sqlmodel import Field, SQLModel


            class Status(str, Enum):
                ACTIVE = "active"


            class EnvMixin:
                env_prefix = "APP_"


            class Settings(EnvMixin, BaseSettings):
                database_url: str


            class PartnerTable(SQLModel, table=True):
                id: int | None = Field(default=None, primary_key=True)
        """),
        # A project class named like the framework schema that is not a pydantic model.
        Valid(
            """
            from pydantic import BaseModel

            from app.legacy import CompanyBusinessObjectSchema


            class PartnerBase(BaseModel, CompanyBusinessObjectSchema):
                name: str
            """,
            files={
                "app/__init__.py": "",
                "app/legacy.py": """
                    from dataclasses import dataclass


                    @dataclass
                    class CompanyBusinessObjectSchema:
                        company_id: int = 0
                """,
            },
            path="app/schemas.py",
        ),
    ]
    INVALID = [
        # The business object guide's Issue 6.
        Invalid(
            """
            from pydantic import BaseModel

            from app.framework.schemas import CompanyBusinessObjectSchema


            class PartnerBase(BaseModel, CompanyBusinessObjectSchema):
                pass
            """,
            files=_FRAMEWORK,
            path="app/schemas/partner.py",
            line=6,
            message="`BaseModel` is listed before `CompanyBusinessObjectSchema`",
            fixed="""
            from pydantic import BaseModel

            from app.framework.schemas import CompanyBusinessObjectSchema


            class PartnerBase(CompanyBusinessObjectSchema):
                pass
            """,
        ),
        # Through a chain of project classes in other files; bases on their own lines.
        Invalid(
            """
            from app.framework.schemas import CompanyBusinessObjectSchema
            from app.schemas.partner import PartnerBase


            class PartnerUpdate(
                CompanyBusinessObjectSchema,
                PartnerBase,
            ):
                name: str | None = None
            """,
            files={
                **_FRAMEWORK,
                "app/schemas/partner.py": """
                    from app.framework.schemas import CompanyBusinessObjectSchema


                    class PartnerBase(CompanyBusinessObjectSchema):
                        name: str
                """,
            },
            path="app/schemas/update.py",
            line=5,
            fixed="""
            from app.framework.schemas import CompanyBusinessObjectSchema
            from app.schemas.partner import PartnerBase


            class PartnerUpdate(
                PartnerBase,
            ):
                name: str | None = None
            """,
        ),
        # A model whose abstract base already brings the framework base model; a mixin
        # after it stays.
        Invalid(
            """
            from app.framework.base import CompanyBaseModel
            from app.framework.mixins import AuditableMixin, EventPublisherMixin


            class AuditedModel(CompanyBaseModel, AuditableMixin):
                __abstract__ = True


            class Partner(CompanyBaseModel, AuditedModel, EventPublisherMixin):
                __tablename__ = "partners"
            """,
            files=_MODELS,
            path="app/models/partner.py",
            line=9,
            fixed="""
            from app.framework.base import CompanyBaseModel
            from app.framework.mixins import AuditableMixin, EventPublisherMixin


            class AuditedModel(CompanyBaseModel, AuditableMixin):
                __abstract__ = True


            class Partner(AuditedModel, EventPublisherMixin):
                __tablename__ = "partners"
            """,
        ),
        # A subscripted later base, re-exported by the framework package, and two
        # redundant bases (`BaseModel` under another name, and `object`).
        Invalid(
            """
            from pydantic import BaseModel as PydanticModel

            from app.framework import Page
            from app.schemas.partner import PartnerRead


            class PartnerPage(object, PydanticModel, Page[PartnerRead]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/__init__.py": "from app.framework.pagination import Page\n",
                "app/framework/pagination.py": """
                    from typing import Generic, List, TypeVar

                    from pydantic import BaseModel

                    T = TypeVar("T")


                    class Page(BaseModel, Generic[T]):
                        items: List[T]
                """,
                "app/schemas/partner.py": _SCHEMAS,
            },
            path="app/schemas/pages.py",
            line=7,
            count=1,
            message="`object` is listed before `PydanticModel`",
            fixed="""
            from pydantic import BaseModel as PydanticModel

            from app.framework import Page
            from app.schemas.partner import PartnerRead


            class PartnerPage(Page[PartnerRead]):
                pass
            """,
        ),
        # A base outside the project known to derive from `BaseModel`.
        Invalid(
            """
            from pydantic import BaseModel, Field
            from pydantic_settings import BaseSettings


            class Settings(BaseModel, BaseSettings):
                database_url: str = Field(alias="DATABASE_URL")
            """,
            line=5,
            fixed="""
            from pydantic import BaseModel, Field
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                database_url: str = Field(alias="DATABASE_URL")
            """,
        ),
        # `Generic[T]` before an unsubscripted generic base: no fix, the type argument
        # would be lost.
        Invalid(
            """
            from typing import Generic, TypeVar

            T = TypeVar("T")


            class Repository(Generic[T]):
                pass


            class CachedRepository(Generic[T], Repository):
                pass
            """,
            line=10,
        ),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if len(node.bases) < 2:
            return
        bases = class_bases(self.ctx, node)
        if bases is None:
            return
        # For each redundant base, the first later base that derives from it.
        redundant: dict[int, ClassBase] = {}
        later_ancestors: dict[int, set[str]] = {}
        for i, earlier in enumerate(bases[:-1]):
            if earlier.qualname is None:
                continue
            if earlier.qualname == GENERIC and any(b.subscript is not None for b in bases[i + 1 :]):
                continue  # `typing` drops it
            for j in range(i + 1, len(bases)):
                later = bases[j]
                if later.qualname is None:
                    continue
                if j not in later_ancestors:
                    later_ancestors[j] = ancestors(self.ctx.index, later.qualname)
                if earlier.qualname == OBJECT or earlier.qualname in later_ancestors[j]:
                    redundant[i] = later
                    break
        if not redundant:
            return
        message = "; ".join(
            f"`{bases[i].written}` is listed before `{later.written}`, which already derives from it"
            for i, later in redundant.items()
        )
        fix = None
        if all(bases[i].subscript is None for i in redundant):
            dropped = ", ".join(f"`{bases[i].written}`" for i in redundant)
            fix = self.ctx.fix(
                f"Drop {dropped}",
                NodeEdit(bases[0].arg, self._without(bases, redundant), through=bases[-1].arg),
            )
        self.ctx.report(
            node.name,
            f"{message}: Python cannot create a consistent method resolution order (MRO)",
            fix=fix,
        )

    def _without(self, bases: list[ClassBase], dropped: dict[int, ClassBase]) -> str:
        """The text from the first base to the end of the last, without ``dropped``. The last
        base is never dropped (a dropped base has a later one), so every kept base but the
        last keeps its own comma and spacing."""
        kept = [b.arg for i, b in enumerate(bases[:-1]) if i not in dropped]
        return "".join(self.ctx.code_for(arg) for arg in kept) + self.ctx.code_for(bases[-1].arg.value)
