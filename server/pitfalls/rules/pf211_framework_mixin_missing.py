"""PF211: a framework service audits or publishes events of a model that lacks the mixin
the framework needs for it."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.summary import ClassInfo
from pitfalls.core.walker import iter_nodes
from pitfalls.rules._bases import class_bases, framework, is_declarative
from pitfalls.rules._signatures import annotated_name, mro
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

_MIXINS = """
    from sqlalchemy.orm import DeclarativeBase


    class Base(DeclarativeBase):
        pass


    class CompanyBaseModel(Base):
        __abstract__ = True


    class BusinessObjectMixin:
        pass


    class AuditableMixin:
        def audit_changes(self, old, new):
            ...


    class EventPublisherMixin:
        __event_stream__ = "business_object_events"
"""
_SERVICES = """
    from typing import TYPE_CHECKING, Generic, Optional, TypeVar

    if TYPE_CHECKING:
        from app.framework.audit import AuditService
        from app.framework.events import MessagingService

    ModelT = TypeVar("ModelT")
    CreateT = TypeVar("CreateT")
    UpdateT = TypeVar("UpdateT")


    class BusinessObjectService(Generic[ModelT]):
        def __init__(self, db, model: type[ModelT]):
            self.db = db
            self.model = model

        async def get(self, entity_id: int):
            return await self.db.get(self.model, entity_id)


    class CompanyBusinessObjectService(BusinessObjectService[ModelT], Generic[ModelT, CreateT, UpdateT]):
        audit_service: Optional[AuditService] = None

        def __init__(self, db, model: type[ModelT], messaging_service: Optional[MessagingService] = None):
            super().__init__(db, model)
            self.messaging_service = messaging_service

        async def create(self, data: CreateT) -> ModelT:
            obj = self.model(**data.model_dump())
            if self.messaging_service is not None:
                await self.messaging_service.publish_entity_event(obj, "created")
            return obj

        async def update(self, obj: ModelT, data: UpdateT) -> ModelT:
            if self.audit_service is not None:
                self.audit_service.log_change(obj, "updated", {}, data.model_dump())
            return obj
"""
_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/mixins.py": _MIXINS,
    "app/framework/services.py": _SERVICES,
    "app/framework/audit.py": """
        from app.framework.mixins import AuditableMixin


        class AuditService:
            def log_change(self, entity: AuditableMixin, action: str, old: dict, new: dict) -> None:
                ...
    """,
    "app/framework/events.py": """
        from typing import Optional

        from app.framework.mixins import EventPublisherMixin


        class MessagingService:
            async def publish_entity_event(self, entity: EventPublisherMixin, event: str) -> str:
                ...

            async def publish_partner_created(self, partner_id: int, correlation_id: Optional[str] = None) -> str:
                ...
    """,
    "app/models/__init__.py": "",
    "app/models/partner.py": """
        from app.framework.mixins import AuditableMixin, BusinessObjectMixin, CompanyBaseModel, EventPublisherMixin


        class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
            __tablename__ = "partners"
    """,
    "app/models/contact.py": """
        from app.framework.mixins import AuditableMixin, BusinessObjectMixin, CompanyBaseModel


        class Contact(CompanyBaseModel, BusinessObjectMixin, AuditableMixin):
            __tablename__ = "contacts"
    """,
    "app/models/tag.py": """
        from app.framework.mixins import Base


        class Tag(Base):
            __tablename__ = "tags"
    """,
    "app/services/__init__.py": "",
}


class FrameworkMixinMissing(Rule):
    """
    ## What it does
    Reports the model a framework service works on (the model argument of its generic base,
    `CompanyBusinessObjectService[Contact, ContactCreate, ContactUpdate]`, or the model
    passed to `super().__init__(db, Contact)`) when the service writes audit entries or
    publishes events and the model lacks the mixin that takes part in it
    (`AuditableMixin`, `EventPublisherMixin`).

    What the service needs is learned from the framework's source: a method of one of the
    service's project bases (other than `__init__`) reads an attribute
    (`self.audit_service`) whose class (from the class-level annotation, or the annotation
    of the `__init__` parameter of that name which `__init__` stores) has a method with a
    parameter annotated with one of the mixins, as in `AuditService.log_change(entity:
    AuditableMixin, ...)`; or such a base method takes a parameter so annotated itself.
    The service's own methods do not count: its author may publish by other means. The
    mixins are the names of `[tool.pitfalls.framework] mixin-order`, and they must be
    classes of the project. Abstract models (`__abstract__ = True`) are left alone.

    The rule stays silent when the model's bases are not all known (a star import, a base
    built at run time, a class from a module it cannot see), when the framework defines no
    such mixin, and when the service does not audit or publish.

    ## Why is this bad?
    The framework's audit and event code relies on what the mixin adds to the model (the
    change set, the event stream and payload). Without it the entry is never written or
    the event never published, and nothing says why: the business object guide's Issues
    11 and 12, `Audit entries: 0` and an empty `XRANGE partner_events - +`. Where the
    framework calls the mixin's methods unguarded, each write fails instead:

    ```
    AttributeError: 'Contact' object has no attribute 'event_payload'
    ```

    ## Example
    ```python
    class Contact(CompanyBaseModel, BusinessObjectMixin, AuditableMixin):
        __tablename__ = "contacts"


    class ContactService(CompanyBusinessObjectService[Contact, ContactCreate, ContactUpdate]):
        pass
    ```

    ## Use instead
    ```python
    class Contact(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
        __tablename__ = "contacts"
    ```

    ## Fix safety
    There is no fix: adding a base changes the model's method resolution order, and a
    model may be kept out of the event stream on purpose (then give it a service that does
    not publish, or add a `# noqa: PF211` saying so).
    """

    code = "PF211"
    function_local = True  # see Rule.function_local
    name = "framework-mixin-missing"
    summary = "Model of an auditing or publishing service lacks the framework mixin"

    VALID = [
        # The guide's model (Issues 11 and 12), through the generic base and `super()`.
        Valid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner
            from app.schemas import PartnerCreate, PartnerUpdate


            class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                def __init__(self, db):
                    super().__init__(db, Partner)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # A framework service that neither audits nor publishes (look-ups only), whose
        # subclass publishes by its own means; a class that publishes, but is no service of
        # a model; an abstract model.
        Valid(
            """
            from app.framework.events import MessagingService
            from app.framework.mixins import CompanyBaseModel
            from app.framework.services import BusinessObjectService, CompanyBusinessObjectService
            from app.models.contact import Contact
            from app.models.tag import Tag


            class TagService(BusinessObjectService[Tag]):
                def __init__(self, db, messaging_service: MessagingService):
                    super().__init__(db, Tag)
                    self.messaging_service = messaging_service

                async def created(self, tag: Tag) -> None:
                    await self.messaging_service.publish_partner_created(tag.id)


            class AnyObjectService(CompanyBusinessObjectService[CompanyBaseModel, dict, dict]):
                pass


            class ContactNotifier:
                def __init__(self, db, messaging_service):
                    self.db = db
                    self.messaging_service = messaging_service

                async def created(self, contact: Contact) -> None:
                    await self.messaging_service.publish_partner_created(contact.partner_id)
            """,
            files=_FRAMEWORK,
            path="app/services/lookups.py",
        ),
        # The model's bases are not all known: a star import, a base built at run time.
        Valid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.legacy import Note, Invoice


            class NoteService(CompanyBusinessObjectService[Note, dict, dict]):
                pass


            class InvoiceService(CompanyBusinessObjectService[Invoice, dict, dict]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/models/legacy.py": """
                    from app.core.mixins import *
                    from app.core.orm import make_model
                    from app.framework.mixins import Base, CompanyBaseModel

                    Audited = make_model()


                    class Note(CompanyBaseModel, Timestamped):
                        __tablename__ = "notes"


                    class Invoice(Audited, Base):
                        __tablename__ = "invoices"
                """,
            },
            path="app/services/legacy.py",
        ),
        # No such mixin in the project: the framework's collaborators take other types.
        Valid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.contact import Contact


            class ContactService(CompanyBusinessObjectService[Contact, dict, dict]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/events.py": """
                    class MessagingService:
                        async def publish_entity_event(self, entity: object, event: str) -> str:
                            ...
                """,
            },
            path="app/services/contact_service.py",
        ),
    ]
    INVALID = [
        # Issue 12: a contact is created, and its event never published.
        Invalid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.contact import Contact
            from app.schemas import ContactCreate, ContactUpdate


            class ContactService(CompanyBusinessObjectService[Contact, ContactCreate, ContactUpdate]):
                pass
            """,
            files=_FRAMEWORK,
            path="app/services/contact_service.py",
            line=6,
            message="`ContactService` works on `Contact`, which lacks `EventPublisherMixin`",
        ),
        # Issues 11 and 12 together, through `super().__init__` of an unsubscripted base,
        # the model defined in the same file.
        Invalid(
            """
            from app.framework.mixins import BusinessObjectMixin, CompanyBaseModel
            from app.framework.services import CompanyBusinessObjectService


            class Activity(CompanyBaseModel, BusinessObjectMixin):
                __tablename__ = "activities"


            class ActivityService(CompanyBusinessObjectService):
                def __init__(self, db):
                    super().__init__(db, Activity)
            """,
            files=_FRAMEWORK,
            path="app/services/activity_service.py",
            line=11,
            count=1,
            message="lacks `AuditableMixin` and `EventPublisherMixin`",
        ),
        # Other mixin names, from the settings.
        Invalid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models.contact import Contact


            class ContactService(CompanyBusinessObjectService[Contact, dict, dict]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/events.py": """
                    from app.framework.mixins import Publishable


                    class MessagingService:
                        async def publish_entity_event(self, entity: "Publishable", event: str) -> str:
                            ...
                """,
                "app/framework/mixins.py": _MIXINS + "\n\n    class Publishable:\n        pass\n",
            },
            config={"framework": {"mixin-order": ["AuditableMixin", "Publishable"]}},
            path="app/services/contact_service.py",
            message="lacks `Publishable`",
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._settings = framework(ctx)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self.ctx.at_module_level:
            return
        qualname = self.ctx.class_qualname(node)
        bases = class_bases(self.ctx, node)
        if qualname is None or bases is None:
            return
        models: dict[str, cst.CSTNode] = {}
        for base in bases:
            for element in base.subscript.slice if base.subscript is not None else ():
                if isinstance(element.slice, cst.Index):
                    self._add_model(models, element.slice.value)
        for call in _super_init_calls(node):
            for arg in call.args:
                self._add_model(models, arg.value)
        if len(models) != 1:
            return  # none, or several that do not say which one the service is of
        needs = _needs(self.ctx.index, qualname, self._settings.mixin_order)
        model, where = next(iter(models.items()))
        order = mro(self.ctx.index, model)
        if not needs or order is None or not self._known(order, {qualname.partition(".")[0], model.partition(".")[0]}):
            return
        have = {_name(name) for name in order}
        rank = {name: i for i, name in enumerate(self._settings.mixin_order)}
        missing = {
            mixin: needs[mixin]
            for mixin in sorted(needs, key=lambda m: rank[_name(m)])
            if _name(mixin) not in have
        }
        if not missing:
            return
        model_name = _name(model)
        mixins = " and ".join(f"`{_name(m)}`" for m in missing)
        self.ctx.report(
            where,
            f"`{node.name.value}` works on `{model_name}`, which lacks {mixins} "
            f"({'; '.join(missing.values())}): add {'them' if len(missing) > 1 else 'it'} to `{model_name}`'s bases",
        )

    def _add_model(self, models: dict[str, cst.CSTNode], expr: cst.BaseExpression) -> None:
        qualname = self.ctx.qualified_name(expr)
        if qualname is None or self.ctx.index.class_info(qualname) is None:
            return
        qualname = self.ctx.index.resolve(qualname)
        info = self.ctx.index.class_info(qualname)
        abstract = info is not None and "__abstract__" in info.attributes
        if not abstract and is_declarative(self.ctx.index, qualname, self._settings.declarative_bases):
            models.setdefault(qualname, expr)

    def _known(self, order: list[str], packages: set[str]) -> bool:
        """Whether every class of a method resolution order is known: a project class, a
        declarative base, or a class from outside the project (which cannot derive from
        the project's mixins); ``packages``: the project's top-level packages at hand."""
        view = self.ctx.index
        for name in order:
            if view.class_info(name) is not None or is_declarative(view, name, self._settings.declarative_bases):
                continue
            module, _, _ = name.rpartition(".")
            top = name.partition(".")[0]
            if not module or top in packages or view.module(module) is not None or view.module(top) is not None:
                return False
        return True


def _super_init_calls(node: cst.ClassDef) -> list[cst.Call]:
    """The ``super().__init__(...)`` calls of the class's own ``__init__``."""
    for stmt in node.body.body:
        if type(stmt) is cst.FunctionDef and stmt.name.value == "__init__":
            return [n for n in iter_nodes(stmt.body) if isinstance(n, cst.Call) and names.is_super_init_call(n)]
    return []


def _needs(view: IndexView, service: str, mixin_names: list[str]) -> dict[str, str]:
    """The mixins the framework code the service inherits hands its objects to (qualified
    name -> how), learned from the methods of its project bases. The service's own methods
    are its author's, who may publish by other means (`publish_partner_created(...)`)."""
    classes = [(q, i) for q in (view.resolve(service), *view.ancestors(service)) if (i := view.class_info(q)) is not None]
    needs: dict[str, str] = {}
    for owner, info in classes[1:]:
        for method in info.methods.values():
            if method.name == "__init__":
                continue
            for mixin, param in _mixin_params(view, owner, info, method.name, mixin_names):
                needs.setdefault(mixin, f"`{info.name}.{method.name}()` takes `{param}: {_name(mixin)}`")
            for attr in method.self_reads:
                collaborator = _attribute_class(view, classes, attr)
                for helper in (collaborator, *view.ancestors(collaborator)) if collaborator else ():
                    helper_info = view.class_info(helper)
                    for name in helper_info.methods if helper_info is not None else ():
                        for mixin, param in _mixin_params(view, helper, helper_info, name, mixin_names):
                            needs.setdefault(
                                mixin,
                                f"`{info.name}.{method.name}()` uses `self.{attr}`, whose "
                                f"`{name}()` takes `{param}: {_name(mixin)}`",
                            )
    return needs


def _mixin_params(
    view: IndexView, owner: str, info: ClassInfo, method: str, mixin_names: list[str]
) -> list[tuple[str, str]]:
    """The framework mixins the parameters of ``info.method`` are annotated with, and
    those parameters' names."""
    found = []
    for param in info.methods[method].params:
        cls = _annotated_class(view, owner, param.annotation)
        if cls is not None and _name(cls) in mixin_names:
            found.append((cls, param.name))
    return found


def _attribute_class(view: IndexView, classes: list[tuple[str, ClassInfo]], attr: str) -> str | None:
    """The project class of ``self.<attr>``: annotated in a class body, or the annotated
    ``__init__`` parameter of that name that ``__init__`` stores (nearest class first)."""
    for owner, info in classes:
        field = info.fields.get(attr)
        if field is not None:
            return _annotated_class(view, owner, field.annotation)
        init = info.init
        if init is not None and attr in init.self_sets:
            param = next((p for p in init.params if p.name == attr.lstrip("_")), None)
            return _annotated_class(view, owner, param.annotation) if param is not None else None
    return None


def _annotated_class(view: IndexView, owner: str, annotation: str | None) -> str | None:
    """The project class an annotation written in the module of class ``owner`` names."""
    qualname = annotated_name(view, owner, annotation)
    return qualname if qualname is not None and view.class_info(qualname) is not None else None


def _name(qualname: str) -> str:
    return qualname.rpartition(".")[2]
