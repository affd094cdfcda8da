"""PF203: a model lists the framework's base model and mixins out of the documented order."""

from __future__ import annotations

import libcst as cst

from pitfalls.rules._bases import ClassBase, class_bases, framework, is_declarative
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, Severity, Valid

_MIXINS = """
    class BusinessObjectMixin:
        pass


    class AuditableMixin:
        pass


    class EventPublisherMixin:
        pass
"""
_FRAMEWORK = {
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
    "app/framework/mixins.py": _MIXINS,
    "app/models/__init__.py": "",
}
# Indented as the examples' code it starts (`inspect.cleandoc` dedents them together).
_IMPORTS = """
            from app.framework.base import CompanyBaseModel
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin
"""


class FrameworkBaseOrder(Rule):
    """
    ## What it does
    Reports a class that combines the project's declarative base model with the framework
    mixins in another order than the documented one: the base model first, then
    `BusinessObjectMixin`, `AuditableMixin`, `EventPublisherMixin`.

    The base model is a base that is, or derives from, a SQLAlchemy declarative base: a
    `DeclarativeBase` (or `DeclarativeBaseNoMeta`) subclass, a name assigned from
    `declarative_base()` or from `mapper_registry.generate_base()` (with `mapper_registry
    = registry()`), or a class listed in
    `[tool.pitfalls.framework] declarative-bases` (qualified or bare class names). Mixins
    are matched by the class name a base resolves to, so an aliased import still counts;
    their order is `mixin-order`. Only the positions the base model and those mixins hold
    are compared: other bases and keywords may sit anywhere, a subset of the mixins in the
    right relative order is fine, and classes without a declarative base (router or
    service mixins) are left alone. A mixin the base model already derives from is PF202's
    business.

    ## Why is this bad?
    Python looks attributes and methods up in the order the bases are listed. The
    framework's base model and mixins are written for the documented order (the business
    object guide's Issues 11 and 12 give it as the fix for missing audit entries and
    events). Listed otherwise, where two of them define the same attribute or hook
    another one wins than the framework expects, and hooks chained through `super()` run
    in another order (an event published before its audit entry is written). Nothing
    fails: the class imports and maps, and the guide shows no exception for this, only
    its symptoms (`Audit entries: 0`, an empty event stream). Hence a warning, not an
    error.

    ## Example
    ```python
    class Partner(BusinessObjectMixin, CompanyBaseModel, EventPublisherMixin, AuditableMixin):
        __tablename__ = "partners"
    ```

    ## Use instead
    ```python
    class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
        __tablename__ = "partners"
    ```

    ## Fix safety
    The fix puts the base model and the mixins in the documented order, in the positions
    they held, and is safe: the class gets the method resolution order its framework
    expects, and the other bases and keywords stay where they were.
    """

    code = "PF203"
    function_local = True  # see Rule.function_local
    name = "framework-base-order"
    summary = "Framework base model and mixins out of the documented order"
    severity = Severity.WARNING
    fix_applicability = Applicability.SAFE

    VALID = [
        # The guide's model (Issues 11 and 12).
        Valid(
            _IMPORTS
            + """

            class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
                __tablename__ = "partners"
            """,
            files=_FRAMEWORK,
            path="app/models/partner.py",
        ),
        # Subsets in the right relative order; other bases anywhere.
        Valid(
            _IMPORTS
            + """
            from app.models.mixins import SoftDeleteMixin, TimestampMixin


            class Tag(CompanyBaseModel, AuditableMixin):
                __tablename__ = "tags"


            class Note(TimestampMixin, CompanyBaseModel, BusinessObjectMixin, SoftDeleteMixin, EventPublisherMixin):
                __tablename__ = "notes"
            """,
            files={
                **_FRAMEWORK,
                "app/models/mixins.py": """
                    class TimestampMixin:
                        pass


                    class SoftDeleteMixin:
                        pass
                """,
            },
            path="app/models/note.py",
        ),
        # No declarative base: router and service mixins, a pydantic schema.
        Valid(
            """
            from fastapi import APIRouter
            from pydantic import BaseModel

            from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin


            class PartnerRouter(EventPublisherMixin, BusinessObjectMixin):
                router = APIRouter(prefix="/partners")


            class PartnerEvent(AuditableMixin, BaseModel):
                partner_id: int
            """,
            files=_FRAMEWORK,
            path="app/routers/partner.py",
        ),
        # A mixin the base model already brings (PF202's business), and mixins that merely
        # share a prefix with the framework's.
        Valid(
            _IMPORTS
            + """

            class AuditedModel(CompanyBaseModel, AuditableMixin):
                __abstract__ = True


            class PartnerAuditableMixin(AuditableMixin):
                pass


            class Invoice(AuditableMixin, AuditedModel):
                __tablename__ = "invoices"


            class Payment(PartnerAuditableMixin, CompanyBaseModel):
                __tablename__ = "payments"
            """,
            files=_FRAMEWORK,
            path="app/models/invoice.py",
        ),
        # Another documented order, from the settings.
        Valid(
            _IMPORTS
            + """

            class Partner(CompanyBaseModel, AuditableMixin, EventPublisherMixin, BusinessObjectMixin):
                __tablename__ = "partners"
            """,
            files=_FRAMEWORK,
            path="app/models/partner.py",
            config={"framework": {"mixin-order": ["AuditableMixin", "EventPublisherMixin", "BusinessObjectMixin"]}},
        ),
    ]
    INVALID = [
        # Behind a star import of the framework package (which re-exports what it uses).
        Invalid(
            """
            from app.framework import *


            class Contact(AuditableMixin, CompanyBaseModel):
                __tablename__ = "contacts"
            """,
            files={
                **_FRAMEWORK,
                "app/framework/__init__.py": (
                    "from app.framework.base import CompanyBaseModel\n"
                    "from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin\n"
                ),
            },
            path="app/models/contact.py",
            line=4,
            fixed="""
            from app.framework import *


            class Contact(CompanyBaseModel, AuditableMixin):
                __tablename__ = "contacts"
            """,
        ),
        # Mixin first, and two mixins swapped.
        Invalid(
            _IMPORTS
            + """

            class Partner(BusinessObjectMixin, CompanyBaseModel, EventPublisherMixin, AuditableMixin):
                __tablename__ = "partners"
            """,
            files=_FRAMEWORK,
            path="app/models/partner.py",
            line=5,
            message="`CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin`",
            fixed=_IMPORTS
            + """

            class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
                __tablename__ = "partners"
            """,
        ),
        # SQLAlchemy 2.0 `DeclarativeBase` in this file, an aliased mixin; bases on their own
        # lines, a non-framework mixin keeps its place.
        Invalid(
            """
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            from app.framework.mixins import AuditableMixin as Audited
            from app.framework.mixins import EventPublisherMixin


            class Base(DeclarativeBase):
                pass


            class CompanyBaseModel(Base):
                __abstract__ = True

                id: Mapped[int] = mapped_column(primary_key=True)


            class TimestampMixin:
                pass


            class Invoice(
                EventPublisherMixin,
                TimestampMixin,
                Audited,
                CompanyBaseModel,
            ):
                __tablename__ = "invoices"
            """,
            files=_FRAMEWORK,
            path="app/models/invoice.py",
            line=21,
            fixed="""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            from app.framework.mixins import AuditableMixin as Audited
            from app.framework.mixins import EventPublisherMixin


            class Base(DeclarativeBase):
                pass


            class CompanyBaseModel(Base):
                __abstract__ = True

                id: Mapped[int] = mapped_column(primary_key=True)


            class TimestampMixin:
                pass


            class Invoice(
                CompanyBaseModel,
                TimestampMixin,
                Audited,
                EventPublisherMixin,
            ):
                __tablename__ = "invoices"
            """,
        ),
        # A registry's base used directly, through a package re-export.
        Invalid(
            """
            from app.db import Base
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class Partner(AuditableMixin, Base, BusinessObjectMixin):
                __tablename__ = "partners"
            """,
            files={
                **_FRAMEWORK,
                "app/db/__init__.py": "from app.db.base import Base\n",
                "app/db/base.py": """
                    from sqlalchemy.orm import registry

                    mapper_registry = registry()
                    Base = mapper_registry.generate_base()
                """,
            },
            path="app/models/partner.py",
            line=5,
            fixed="""
            from app.db import Base
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class Partner(Base, BusinessObjectMixin, AuditableMixin):
                __tablename__ = "partners"
            """,
        ),
        # A base model from a factory only the settings name; a configured mixin order.
        Invalid(
            """
            from app.db import Model
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class Partner(Model, BusinessObjectMixin, AuditableMixin):
                __tablename__ = "partners"
            """,
            files={
                **_FRAMEWORK,
                "app/db.py": """
                    from app.core.orm import make_base

                    Model = make_base()
                """,
            },
            path="app/models/partner.py",
            config={
                "framework": {
                    "declarative-bases": ["app.db.Model"],
                    "mixin-order": ["AuditableMixin", "BusinessObjectMixin"],
                }
            },
            line=5,
            fixed="""
            from app.db import Model
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class Partner(Model, AuditableMixin, BusinessObjectMixin):
                __tablename__ = "partners"
            """,
        ),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if len(node.bases) < 2:
            return
        settings = framework(self.ctx)
        bases = class_bases(self.ctx, node)
        if bases is None:
            return
        rank = {name: i for i, name in enumerate(settings.mixin_order)}
        mixins = {i: rank[_name(b)] for i, b in enumerate(bases) if _name(b) in rank}
        if not mixins:
            return
        models = [
            i
            for i, b in enumerate(bases)
            if i not in mixins
            and b.qualname is not None
            and is_declarative(self.ctx.index, b.qualname, settings.declarative_bases)
        ]
        if len(models) != 1:
            return
        model = models[0]
        inherited = set(self.ctx.index.ancestors(bases[model].qualname or ""))
        mixins = {i: r for i, r in mixins.items() if bases[i].qualname not in inherited}
        if not mixins or len(set(mixins.values())) != len(mixins):
            return  # a duplicate base is a TypeError of its own
        positions = sorted([model, *mixins])
        expected = [model, *sorted(mixins, key=mixins.__getitem__)]
        if positions == expected:
            return
        self.ctx.report(
            node.name,
            f"`{node.name.value}` lists the base model and the framework mixins out of the "
            f"documented order; list them as `{', '.join(bases[i].written for i in expected)}`",
            fix=self.ctx.fix(
                "Reorder the bases",
                *(
                    NodeEdit(bases[was].arg.value, self.ctx.code_for(bases[now].arg.value))
                    for was, now in zip(positions, expected, strict=True)
                    if was != now
                ),
            ),
        )


def _name(base: ClassBase) -> str | None:
    """The class name a base resolves to (`AuditableMixin` for an aliased import)."""
    return base.qualname.rpartition(".")[2] if base.qualname is not None else None
