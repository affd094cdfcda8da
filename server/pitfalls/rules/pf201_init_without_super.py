"""PF201: ``__init__`` that never calls the base class's ``__init__``."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.summary import FunctionInfo
from pitfalls.core.walker import iter_statements
from pitfalls.rules._signatures import INITLESS_BASES, bound_params, mro, resolved_init, signature
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, Valid

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/services.py": """
        from typing import Generic, TypeVar

        from sqlalchemy.ext.asyncio import AsyncSession

        ModelT = TypeVar("ModelT")
        CreateT = TypeVar("CreateT")
        UpdateT = TypeVar("UpdateT")


        class CompanyBusinessObjectService(Generic[ModelT, CreateT, UpdateT]):
            def __init__(self, db: AsyncSession, model: type[ModelT], messaging_service=None):
                self.db = db
                self.model = model
                self.messaging_service = messaging_service

            async def create(self, data: CreateT) -> ModelT:
                obj = self.model(**data.model_dump())
                self.db.add(obj)
                await self.db.commit()
                if self.messaging_service is not None:
                    await self.messaging_service.publish(obj)
                return obj
    """,
    "app/framework/crud.py": """
        from app.framework.services import CompanyBusinessObjectService, CreateT, ModelT, UpdateT


        class AuditedService(CompanyBusinessObjectService[ModelT, CreateT, UpdateT]):
            async def audit(self, action: str) -> None:
                ...
    """,
    "app/framework/mixins.py": """
        class AuditableMixin:
            def log_change(self, field: str) -> None:
                ...


        class EventPublisherMixin:
            def __init__(self, *, channel: str, publisher=None):
                self.channel = channel
                self.publisher = publisher

            def publish(self, event: dict) -> None:
                if self.publisher is not None:
                    self.publisher.send(self.channel, event)
    """,
    "app/services/__init__.py": "",
}


class InitWithoutSuper(Rule):
    """
    ## What it does
    Reports an `__init__` that calls neither `super().__init__(...)`,
    `super(Cls, self).__init__(...)` nor `Base.__init__(self, ...)`, in a class whose
    base chain (followed across files, through generic bases such as
    `CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]`, in method
    resolution order) has a class of the project with an `__init__` of its own: the one
    that `super().__init__` would run, when skipping it loses an attribute the instance
    needs. That is a `self.<attr>` the base `__init__` sets (itself, through the `self.`
    methods it calls, or through the `super().__init__` it calls in turn) and a method the
    instance runs reads (the subclass's own, or one it inherits and does not override),
    while the subclass's `__init__` neither sets it (itself or through a `self.` method it
    calls) nor, in another of its methods, manages it. The message names the attributes
    and the methods that read them.

    Left alone:
    - classes without `__init__`, and `__init__` stubs (a body of only `...`/`pass`/a
      docstring, as in `@overload` declarations or protocols) and bodies that only raise;
    - classes whose next `__init__` lies in a library (`BaseModel`, `Exception`...;
      `Generic` and `ABC` define none and are looked through); a project class between the
      two that has annotated fields and no `__init__` may be a dataclass with a generated
      one, so it ends the search too;
    - base `__init__`s that set nothing the instance reads: abstract or stub ones (`pass`,
      a docstring, `raise NotImplementedError`), wherever they are defined; attributes
      only the methods the subclass overrides read (a `paid_invoices_stream` each wallet
      replaces); attributes with a class-level default (`retries = 3`) or a method or
      property of the same name; classes with `__getattr__`;
    - a subclass `__init__` that calls the base `__init__` from a `self.` helper, sets
      attributes by computed name (`setattr(self, name, value)`, `self.__dict__`,
      `vars(self)`), or calls a `self.` method that a library base may define.

    Reads are what the project's own methods do with `self.<attr>`; code outside the class
    reading the attribute (`service.db` in a route) is not seen.

    ## Why is this bad?
    The base `__init__` never runs, so nothing it sets up exists on the instance. The
    business object guide's service errors:

    ```
    AttributeError: 'PartnerService' object has no attribute 'create'
    ```

    are diagnosed there with "Must call super().__init__", and its missing audit entries
    with a service whose `audit_service`, injected by the framework's `__init__`, is not
    there: the framework's setup (the session, the model, the messaging and audit
    services) is silently skipped.

    ## Example
    ```python
    class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
        def __init__(self, db: AsyncSession):
            # the framework's `create` also reads `self.messaging_service`
            self.db = db
            self.model = Partner
    ```

    ## Use instead
    ```python
    class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
        def __init__(self, db: AsyncSession):
            super().__init__(db, Partner)
            self.db = db
            self.model = Partner
    ```

    ## Fix safety
    The fix inserts `super().__init__(...)` as the first statement (after the docstring),
    passing each parameter of the base `__init__` that the subclass's `__init__` also
    takes, by the same name; for a base parameter `p` the subclass does not take but sets
    as `self.p = X` (the guide's `self.model = Partner`), it passes `X` when `X` is a name
    known before the body runs (a parameter, an import, a module-level name) or a literal.
    Arguments go positionally, in the base's order, until a defaulted parameter is left
    out; from there (and for keyword-only parameters) by keyword. `*args`/`**kwargs` are
    forwarded when both sides take them. When a required base parameter cannot be supplied
    this way there is no fix.

    The fix is unsafe: the base `__init__` now runs first, with its side effects, and may
    overwrite attributes or expect values the subclass computes later in its body; the
    assignments the subclass already makes are kept.
    """

    code = "PF201"
    function_local = True  # see Rule.function_local
    name = "init-without-super"
    summary = "`__init__` does not call the base class's `__init__`"
    fix_applicability = Applicability.UNSAFE

    VALID = [
        # The attribute the base `__init__` sets is set afresh by another method the
        # framework runs before anything reads it (a visitor's metadata, set by `resolve()`).
        Valid("""
            class MetadataDependent:
                def __init__(self) -> None:
                    self.metadata = {}

                def resolve(self, wrapper) -> None:
                    self.metadata = wrapper.resolve_many(self)

                def get_metadata(self, key, node):
                    return self.metadata[key][node]


            class NameVisitor(MetadataDependent):
                def __init__(self, provider) -> None:
                    self.provider = provider
        """),
        # The guide's correct service.
        Valid(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner
            from app.schemas.partner import PartnerCreate, PartnerUpdate


            class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                def __init__(self, db: AsyncSession):
                    super().__init__(db, Partner)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # The two older spellings, and a call nested in a branch.
        Valid(
            """
            from app.framework.crud import AuditedService
            from app.framework.services import CompanyBusinessObjectService
            from app.models import Invoice, Partner


            class PartnerService(CompanyBusinessObjectService[Partner, None, None]):
                def __init__(self, db):
                    super(PartnerService, self).__init__(db, Partner)


            class InvoiceService(AuditedService[Invoice, None, None]):
                def __init__(self, db, messaging_service=None):
                    CompanyBusinessObjectService.__init__(self, db, Invoice, messaging_service)


            class DraftService(AuditedService[Invoice, None, None]):
                def __init__(self, db, readonly: bool = False):
                    if readonly:
                        super().__init__(db, Invoice, messaging_service=None)
                    else:
                        super().__init__(db, Invoice)
            """,
            files=_FRAMEWORK,
            path="app/services/invoice_service.py",
        ),
        # No `__init__`: the inherited one runs.
        Valid(
            """
            from app.framework.crud import AuditedService
            from app.models import Partner
            from app.schemas import PartnerCreate, PartnerUpdate


            class PartnerService(AuditedService[Partner, PartnerCreate, PartnerUpdate]):
                async def find_by_email(self, email: str):
                    ...
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # Bases without an `__init__` of their own in the project: a mixin, library classes.
        Valid(
            """
            from pydantic import BaseModel

            from app.framework.mixins import AuditableMixin


            class PartnerExporter(AuditableMixin):
                def __init__(self, path: str):
                    self.path = path


            class PartnerNotFound(Exception):
                def __init__(self, partner_id: int):
                    self.partner_id = partner_id


            class PartnerRead(BaseModel):
                def __init__(self, **data):
                    object.__setattr__(self, "raw", data)
            """,
            files=_FRAMEWORK,
            path="app/services/exporter.py",
        ),
        # `@overload` stubs, an `__init__` that forbids instantiation, an abstract base one.
        Valid(
            """
            from abc import ABC, abstractmethod
            from typing import overload


            class Amount:
                def __init__(self, value):
                    self.value = value


            class Money(Amount):
                @overload
                def __init__(self, value: int) -> None: ...

                @overload
                def __init__(self, value: str) -> None:
                    ...

                def __init__(self, value):
                    super().__init__(int(value))


            class Zero(Amount):
                def __init__(self):
                    raise TypeError("use Zero.instance()")


            class Exporter(ABC):
                @abstractmethod
                def __init__(self, path: str) -> None:
                    \"\"\"Open the target.\"\"\"
                    raise NotImplementedError


            class CsvExporter(Exporter):
                def __init__(self, path: str) -> None:
                    self.path = path
            """
        ),
        # The base `__init__` only sets what the base's own `paid_invoices_stream` reads,
        # and the subclass overrides that method: nothing it runs misses the attribute.
        Valid(
            """
            from typing import AsyncGenerator

            from app.wallets.base import Wallet


            class FakeWallet(Wallet):
                def __init__(self) -> None:
                    self.queue = []

                async def paid_invoices_stream(self) -> AsyncGenerator[str, None]:
                    for invoice in self.queue:
                        yield invoice
            """,
            files={
                "app/__init__.py": "",
                "app/wallets/__init__.py": "",
                "app/wallets/base.py": """
                    import asyncio
                    from abc import ABC, abstractmethod
                    from typing import AsyncGenerator


                    class Wallet(ABC):
                        features = None

                        def __init__(self) -> None:
                            self.pending_invoices: list[str] = []
                            self.features = []

                        def has_feature(self, feature: str) -> bool:
                            return self.features is not None and feature in self.features

                        @abstractmethod
                        async def get_invoice_status(self, checking_id: str): ...

                        async def paid_invoices_stream(self) -> AsyncGenerator[str, None]:
                            while True:
                                for invoice in self.pending_invoices:
                                    if await self.get_invoice_status(invoice):
                                        self.pending_invoices.remove(invoice)
                                        yield invoice
                                await asyncio.sleep(5)
                """,
            },
            path="app/wallets/fake.py",
        ),
        # The base `__init__` runs after all, from a helper the subclass's `__init__` calls;
        # a subclass that sets what the base's methods read itself, or through a helper, or
        # by computed names.
        Valid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.models import Invoice, Partner


            class PartnerService(CompanyBusinessObjectService):
                def __init__(self, db):
                    self._setup(db)

                def _setup(self, db):
                    super().__init__(db, Partner)


            class InvoiceService(CompanyBusinessObjectService):
                def __init__(self, db, bus):
                    self.db = db
                    self.model = Invoice
                    self.messaging_service = bus


            class CachedInvoiceService(CompanyBusinessObjectService):
                def __init__(self, db, bus):
                    self.db = db
                    self.model = Invoice
                    self._connect(bus)

                def _connect(self, bus):
                    self.messaging_service = bus


            class DynamicService(CompanyBusinessObjectService):
                def __init__(self, **parts):
                    for name, value in parts.items():
                        setattr(self, name, value)


            class ProxyService(CompanyBusinessObjectService):
                def __init__(self, target):
                    self._target = target

                def __getattr__(self, name):
                    return getattr(self._target, name)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # Abstract or stub base `__init__`s of another module: nothing to miss. A base
        # attribute with a class-level default, or one that no method reads; one the
        # subclass sets through the base's property setter.
        Valid(
            """
            from app.exporters.base import Exporter, Sink, Target


            class CsvExporter(Exporter):
                def __init__(self, path: str) -> None:
                    self.path = path


            class FileSink(Sink):
                def __init__(self, path: str) -> None:
                    self.path = path


            class HttpTarget(Target):
                def __init__(self, url: str) -> None:
                    self.url = url


            class Store:
                def __init__(self, path: str) -> None:
                    self._path = path

                @property
                def path(self) -> str:
                    return self._path

                @path.setter
                def path(self, value: str) -> None:
                    self._path = value

                def read(self) -> str:
                    with open(self._path) as f:
                        return f.read()


            class TempStore(Store):
                def __init__(self) -> None:
                    self.path = "/tmp/store"
            """,
            files={
                "app/__init__.py": "",
                "app/exporters/__init__.py": "",
                "app/exporters/base.py": """
                    from abc import ABC, abstractmethod


                    class Exporter(ABC):
                        @abstractmethod
                        def __init__(self, path: str) -> None:
                            \"\"\"Open the target.\"\"\"
                            raise NotImplementedError

                        def describe(self) -> str:
                            return self.path


                    class Sink:
                        def __init__(self, path: str) -> None:
                            pass

                        def describe(self) -> str:
                            return self.path


                    class Target:
                        retries = 3

                        def __init__(self, url: str, retries: int = 3) -> None:
                            self.url = url
                            self.retries = retries
                            self.created = True

                        def send(self, body: bytes) -> None:
                            for _ in range(self.retries):
                                post(self.url, body)
                """,
            },
            path="app/exporters/csv.py",
        ),
        # The base's `__init__` called by name.
        Valid(
            """
            from app.framework.mixins import EventPublisherMixin


            class Publisher(EventPublisherMixin):
                def __init__(self, channel: str):
                    EventPublisherMixin.__init__(self, channel=channel)
            """,
            files=_FRAMEWORK,
            path="app/services/publisher.py",
        ),
    ]
    INVALID = [
        # A class defined inside a function (a factory) is checked like any other.
        Invalid(
            """
            from app.framework.services import CompanyBusinessObjectService


            def service_for(model):
                class ModelService(CompanyBusinessObjectService):
                    def __init__(self, db):
                        self.db = db
                        self.model = model

                return ModelService
            """,
            files=_FRAMEWORK,
            path="app/services/factory.py",
            line=6,
            message="`self.messaging_service`",
        ),
        # The guide's service, subclassing the generic base defined in another file.
        Invalid(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner
            from app.schemas.partner import PartnerCreate, PartnerUpdate


            class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                def __init__(self, db: AsyncSession):
                    # the framework expects the session here
                    self.db = db
                    self.model = Partner
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=9,
            message=(
                "`CompanyBusinessObjectService.__init__(self, db, model, messaging_service=...)` "
                "(`app.framework.services`) does not run, so `self.messaging_service` (read by "
                "`CompanyBusinessObjectService.create`) is never set"
            ),
            fixed="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner
            from app.schemas.partner import PartnerCreate, PartnerUpdate


            class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                def __init__(self, db: AsyncSession):
                    super().__init__(db, Partner)
                    # the framework expects the session here
                    self.db = db
                    self.model = Partner
            """,
        ),
        # Through an intermediate generic class of another file; after the docstring.
        Invalid(
            """
            from app.framework.crud import AuditedService
            from app.models import Invoice


            class InvoiceService(AuditedService[Invoice, None, None]):
                def __init__(self, db, model=Invoice, *, messaging_service=None):
                    \"\"\"Invoices are published on their own channel.\"\"\"
                    self.cache = {}
            """,
            files=_FRAMEWORK,
            path="app/services/invoice_service.py",
            line=6,
            fixed="""
            from app.framework.crud import AuditedService
            from app.models import Invoice


            class InvoiceService(AuditedService[Invoice, None, None]):
                def __init__(self, db, model=Invoice, *, messaging_service=None):
                    \"\"\"Invoices are published on their own channel.\"\"\"
                    super().__init__(db, model, messaging_service)
                    self.cache = {}
            """,
        ),
        # A required base parameter the subclass cannot supply: reported, no fix.
        Invalid(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService


            class ReportService(CompanyBusinessObjectService):
                def __init__(self, session: AsyncSession):
                    self.session = session
            """,
            files=_FRAMEWORK,
            path="app/services/report_service.py",
            line=7,
        ),
        # A keyword-only base parameter, a skipped default, a one-line body.
        Invalid(
            """
            from app.framework.mixins import AuditableMixin, EventPublisherMixin


            class PartnerEvents(AuditableMixin, EventPublisherMixin):
                def __init__(self, channel: str): self.channel = channel
            """,
            files=_FRAMEWORK,
            path="app/services/events.py",
            line=5,
            fixed="""
            from app.framework.mixins import AuditableMixin, EventPublisherMixin


            class PartnerEvents(AuditableMixin, EventPublisherMixin):
                def __init__(self, channel: str): super().__init__(channel=channel); self.channel = channel
            """,
        ),
        # Exceptions of the project; `**kwargs` forwarded.
        Invalid(
            """
            class AppError(Exception):
                def __init__(self, message: str, status_code: int = 400, **extra):
                    super().__init__(message)
                    self.status_code = status_code
                    self.extra = extra

                def to_dict(self) -> dict:
                    return {"detail": str(self), "status": self.status_code, **self.extra}


            class NotFoundError(AppError):
                def __init__(self, message: str, **extra):
                    self.message = message
            """,
            line=12,
            message="so `self.status_code` and `self.extra` (read by `AppError.to_dict`) are never set",
            fixed="""
            class AppError(Exception):
                def __init__(self, message: str, status_code: int = 400, **extra):
                    super().__init__(message)
                    self.status_code = status_code
                    self.extra = extra

                def to_dict(self) -> dict:
                    return {"detail": str(self), "status": self.status_code, **self.extra}


            class NotFoundError(AppError):
                def __init__(self, message: str, **extra):
                    super().__init__(message, **extra)
                    self.message = message
            """,
        ),
        # The base `__init__` (of another module) sets an attribute through a helper and
        # calls its own base's `__init__`, which sets another; inherited methods read both.
        Invalid(
            """
            from app.workers import Worker


            class BatchWorker(Worker):
                def __init__(self, url: str, size: int) -> None:
                    self.size = size
            """,
            files={
                "app/__init__.py": "",
                "app/workers.py": """
                    class Connection:
                        def __init__(self, url: str) -> None:
                            self.url = url

                        def close(self) -> None:
                            print("closing", self.url)


                    class Worker(Connection):
                        def __init__(self, url: str) -> None:
                            super().__init__(url)
                            self._reset()

                        def _reset(self) -> None:
                            self.pending = []

                        def drain(self) -> list:
                            done, self.pending = self.pending, []
                            return done
                """,
            },
            path="app/batch.py",
            line=5,
            message=(
                "so `self.url` (read by `Connection.close`) and `self.pending` (read by "
                "`Worker.drain`) are never set"
            ),
            fixed="""
            from app.workers import Worker


            class BatchWorker(Worker):
                def __init__(self, url: str, size: int) -> None:
                    super().__init__(url)
                    self.size = size
            """,
        ),
        # A class defined under a module-level `if`, indented with tabs.
        Invalid(
            """
            import sys

            from app.framework.services import CompanyBusinessObjectService
            from app.models import Partner

            if sys.version_info >= (3, 11):
            \tclass PartnerService(CompanyBusinessObjectService):
            \t\tdef __init__(self, db, model=Partner):
            \t\t\tself.db = db
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=8,
            fixed="""
            import sys

            from app.framework.services import CompanyBusinessObjectService
            from app.models import Partner

            if sys.version_info >= (3, 11):
            \tclass PartnerService(CompanyBusinessObjectService):
            \t\tdef __init__(self, db, model=Partner):
            \t\t\tsuper().__init__(db, model)
            \t\t\tself.db = db
            """,
        ),
    ]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value != "__init__":
            return
        classdef = self.ctx.class_body
        if classdef is None:
            return
        qualname = self.ctx.class_qualname(classdef)
        if qualname is None or _is_stub(node):
            return
        if _calls_base_init(node):
            return
        found = resolved_init(self.ctx.index, qualname, include_self=False)
        if found is None:
            return
        owner, base_init = found
        missing = _Instance(self.ctx.index, qualname).missing(owner, base_init)
        if not missing:
            return
        message = (
            f"`{classdef.name.value}.__init__` never calls `super().__init__()`: "
            f"`{signature(owner, base_init)}` (`{owner.rsplit('.', 1)[0]}`) does not run, "
            f"so {_describe(missing)}"
        )
        call = self._super_call(node, base_init)
        fix = self.ctx.fix(f"Call `{call}` first", self._insert(node, call)) if call else None
        self.ctx.report(node.name, message, fix=fix)

    def _super_call(self, node: cst.FunctionDef, base_init: FunctionInfo) -> str | None:
        """``super().__init__(...)`` from what the subclass's ``__init__`` has; None when a
        required base parameter cannot be supplied."""
        base = bound_params(base_init)
        params = node.params
        positional = [*params.posonly_params, *params.params]
        if base is None or not positional:
            return None
        own = {p.name.value for p in (*positional[1:], *params.kwonly_params)}
        star = params.star_arg.name.value if isinstance(params.star_arg, cst.Param) else None
        star_star = params.star_kwarg.name.value if params.star_kwarg else None
        assigned = self._self_assignments(node, own)
        args: list[str] = []
        by_keyword = False
        for param in base:
            if param.kind == "vararg":
                if star and not by_keyword:
                    args.append(f"*{star}")
                by_keyword = True
            elif param.kind == "kwarg":
                if star_star:
                    args.append(f"**{star_star}")
            else:
                value = param.name if param.name in own else assigned.get(param.name)
                if value is None:
                    if not param.has_default:
                        return None
                    by_keyword = True
                elif by_keyword or param.kind == "keyword_only":
                    args.append(f"{param.name}={value}")
                else:
                    args.append(value)
        return f"super().__init__({', '.join(args)})"

    def _self_assignments(self, node: cst.FunctionDef, own: set[str]) -> dict[str, str]:
        """``self.<attr> = X`` statements of the body whose ``X`` is known before the body
        runs: a parameter, an imported or module-level name, a literal."""
        found: dict[str, str] = {}
        for small in _simple_statements(node):
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
                continue
            target = small.targets[0].target
            if (
                isinstance(target, cst.Attribute)
                and names.dotted(target.value) == "self"
                and self._known_before_body(small.value, own)
            ):
                found.setdefault(target.attr.value, self.ctx.code_for(small.value))
        return found

    def _known_before_body(self, value: cst.BaseExpression, own: set[str]) -> bool:
        if isinstance(value, (cst.SimpleString, cst.Integer, cst.Float)):
            return True
        text = names.dotted(value)
        if text is None:
            return False
        head = text.split(".")[0]
        return head != "self" and (head in own or self.ctx.qualified_name(value) is not None)

    def _insert(self, node: cst.FunctionDef, call: str) -> NodeEdit:
        """Insert ``call`` as the body's first statement, after a docstring."""
        body = node.body
        if not isinstance(body, cst.IndentedBlock):
            return NodeEdit(body.body[0], f"{call}; ", mode="before")
        indent = _body_indent(self.ctx.module, body)
        if _is_docstring(body.body[0]):
            return NodeEdit(body.body[0], f"\n{indent}{call}", mode="after")
        return NodeEdit(body.header, f"{indent}{call}\n", mode="after")


_STRINGS = (cst.SimpleString, cst.ConcatenatedString)
_Method = tuple[str, FunctionInfo]  # (defining class, method)


class _Instance:
    """An instance of a project class as the index sees it: the methods it runs (for each
    name, the definition that wins in method resolution order) and the names its classes
    bind at class level (methods, properties, defaults), which an instance attribute
    missing falls back to."""

    def __init__(self, index: IndexView, qualname: str) -> None:
        self.index = index
        self.qualname = qualname
        self.methods: dict[str, _Method] = {}
        self.class_level: set[str] = set()
        self.opaque = False  # a class of the order the index does not know: its methods are unknown
        for cls in mro(index, qualname) or ():
            info = index.class_info(cls)
            if info is None:
                self.opaque = self.opaque or cls not in INITLESS_BASES
                continue
            for name, func in info.methods.items():
                self.methods.setdefault(name, (cls, func))
            self.class_level.update(info.methods, info.attributes)
            self.class_level.update(name for name, f in info.fields.items() if f.has_default)

    def runs(self, start: _Method) -> tuple[dict[str, None], set[tuple[str, str]], bool]:
        """What running ``start`` on the instance sets on ``self``, following the
        ``self.<m>()`` it calls, the property setters it assigns and ``super().__init__``
        (to the ``__init__`` the defining class's would reach); with the methods reached,
        as (class, name), and whether one of them but ``start`` calls ``super().__init__``
        or one calls a method the index cannot see."""
        sets: dict[str, None] = {}
        reached: set[tuple[str, str]] = set()
        inconclusive = False
        stack = [start]
        while stack:
            current = stack.pop()
            cls, func = current
            if (cls, func.name) in reached:
                continue
            reached.add((cls, func.name))
            sets.update(dict.fromkeys(func.self_sets))
            # `self.name = v` on a property runs its setter (the last `name` defined).
            properties = [name for name in func.self_sets if name in self.methods]
            for name in reversed([*func.self_calls, *properties]):
                target = self.methods.get(name)
                if target is not None:
                    stack.append(target)
                else:
                    inconclusive = inconclusive or self.opaque
            if func.calls_super_init:  # followed first: it usually comes first
                inconclusive = inconclusive or current is not start
                after = resolved_init(self.index, cls, include_self=False)
                if after is not None:
                    stack.append(after)
        return sets, reached, inconclusive

    def missing(self, owner: str, base_init: FunctionInfo) -> dict[str, str]:
        """The attributes the base ``__init__`` (``owner``'s) sets that the subclass's own
        neither sets nor gets by calling it, and that a method the instance runs reads:
        ``{attribute: "Class.method"}``. Empty when the subclass's ``__init__`` calls the
        base one through a helper, sets attributes by computed name or calls a method the
        index cannot see, and when the class answers missing attributes (``__getattr__``)."""
        own = self.index.class_info(self.qualname)
        if own is None or own.init is None or "__getattr__" in self.methods:
            return {}  # with `__getattr__`, a missing attribute is looked up, not an error
        ours, ours_reached, inconclusive = self.runs((self.qualname, own.init))
        if inconclusive or "*" in ours:
            return {}
        theirs, theirs_reached, _ = self.runs((owner, base_init))
        # A helper only the base ``__init__`` calls does not run either.
        skipped = theirs_reached - ours_reached
        # Set anywhere in the subclass's own methods: it manages the attribute itself; set
        # afresh (not read first) by another method of the hierarchy (`resolve()` setting
        # what a visitor reads): the framework sets it when it prepares the object.
        ours.update(dict.fromkeys(a for f in own.methods.values() for a in f.self_sets))
        ours.update(
            dict.fromkeys(
                a
                for name, (cls, func) in self.methods.items()
                if (cls, name) not in skipped
                for a in func.self_sets
                if a not in func.self_reads
            )
        )
        lost = [a for a in theirs if a not in ours and a not in self.class_level and a != "*"]
        found: dict[str, str] = {}
        for name, (cls, func) in self.methods.items():
            if (cls, name) in skipped:
                continue
            reads = set(func.self_reads)
            for attr in lost:
                if attr in reads and attr not in found:
                    found[attr] = f"{cls.rsplit('.', 1)[-1]}.{name}"
        return {attr: found[attr] for attr in lost if attr in found}


def _describe(missing: dict[str, str]) -> str:
    """``self.a` and `self.b` (read by `C.m`) are never set`` for the first few attributes,
    grouped by the method that reads them."""
    groups: dict[str, list[str]] = {}
    for attr, reader in list(missing.items())[:3]:
        groups.setdefault(reader, []).append(f"`self.{attr}`")
    shown = [f"{_and(attrs)} (read by `{reader}`)" for reader, attrs in groups.items()]
    if len(missing) > 3:
        shown.append(f"{len(missing) - 3} more")
    return f"{_and(shown)} {'is' if len(missing) == 1 else 'are'} never set"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _calls_base_init(node: cst.FunctionDef) -> bool:
    """Like :func:`names.calls_super_init`, one-line bodies (``def f(self): ...; ...``,
    ``if x: super().__init__()``) included."""
    for stmt in (node, *iter_statements(node.body)):
        body = stmt if isinstance(stmt, cst.SimpleStatementLine) else getattr(stmt, "body", None)
        if not isinstance(body, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in body.body:
            value = small.value if isinstance(small, cst.Expr) else None
            if isinstance(value, cst.Await):
                value = value.expression
            if isinstance(value, cst.Call) and names.is_super_init_call(value):
                return True
    return False


def _simple_statements(node: cst.FunctionDef) -> list[cst.BaseSmallStatement]:
    """The small statements directly in the function's body."""
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    return [s for stmt in body.body if isinstance(stmt, cst.SimpleStatementLine) for s in stmt.body]


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, _STRINGS)
    )


def _is_stub(node: cst.FunctionDef) -> bool:
    """A body of only a docstring, ``...`` or ``pass`` (overloads, protocols), or one that
    only raises (a class that forbids instantiation)."""
    body = node.body
    statements = body.body if isinstance(body, cst.IndentedBlock) else (body,)
    simple = (cst.SimpleStatementLine, cst.SimpleStatementSuite)
    if len(statements) > 2 or not all(isinstance(s, simple) for s in statements):
        return False
    smalls = _simple_statements(node)
    if smalls and isinstance(smalls[-1], cst.Raise):
        smalls = smalls[:-1]
    return all(
        isinstance(s, cst.Pass)
        or (isinstance(s, cst.Expr) and isinstance(s.value, (cst.Ellipsis, *_STRINGS)))
        for s in smalls
    )


def _body_indent(module: cst.Module, target: cst.IndentedBlock) -> str:
    """The absolute indentation of a block's lines (blocks store it relative to their
    parent), found by descending the compound statements only."""
    stack: list[tuple[cst.CSTNode, str]] = [(module, "")]
    while stack:
        node, indent = stack.pop()
        if isinstance(node, cst.IndentedBlock):
            indent += module.default_indent if node.indent is None else node.indent
            if node is target:
                return indent
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            value = getattr(node, name, None)
            for child in value if isinstance(value, (list, tuple)) else (value,):
                # Compound statements, their blocks and clauses; simple lines hold no block.
                if isinstance(child, cst.CSTNode) and not isinstance(
                    child, cst.SimpleStatementLine
                ):
                    stack.append((child, indent))
    return module.default_indent
