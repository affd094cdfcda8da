"""PF201: ``__init__`` that never calls the base class's ``__init__``."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import FunctionInfo
from pitfalls.core.walker import iter_statements
from pitfalls.rules._signatures import bound_params, class_qualname, resolved_init, signature
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
    that `super().__init__` would run.

    Classes without `__init__` are left alone, as are classes whose next `__init__` lies in
    a library (`BaseModel`, `Exception`...; `Generic` and `ABC` define none and are looked
    through), `__init__` stubs (a body of only `...`/`pass`/a docstring, as in `@overload`
    declarations or protocols) and bodies that only raise, and bases whose `__init__` is
    such a stub (an abstract `__init__`) when they are defined in the same module (the
    index does not record function bodies of other modules). A project class between the two
    that has annotated fields and no `__init__` may be a dataclass with a generated one, so
    it ends the search too.

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
    name = "init-without-super"
    summary = "`__init__` does not call the base class's `__init__`"
    fix_applicability = Applicability.UNSAFE

    VALID = [
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
                "(`app.framework.services`) does not run"
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


            class NotFoundError(AppError):
                def __init__(self, message: str, **extra):
                    self.message = message
            """,
            line=9,
            fixed="""
            class AppError(Exception):
                def __init__(self, message: str, status_code: int = 400, **extra):
                    super().__init__(message)
                    self.status_code = status_code
                    self.extra = extra


            class NotFoundError(AppError):
                def __init__(self, message: str, **extra):
                    super().__init__(message, **extra)
                    self.message = message
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
        qualname = class_qualname(self.ctx, classdef)
        if qualname is None or _is_stub(node):
            return
        if _calls_base_init(node):
            return
        found = resolved_init(self.ctx.index, qualname, include_self=False)
        if found is None or self._is_stub_here(found[0]):
            return
        owner, base_init = found
        message = (
            f"`{classdef.name.value}.__init__` never calls `super().__init__()`: "
            f"`{signature(owner, base_init)}` (`{owner.rsplit('.', 1)[0]}`) does not run"
        )
        call = self._super_call(node, base_init)
        fix = self.ctx.fix(f"Call `{call}` first", self._insert(node, call)) if call else None
        self.ctx.report(node.name, message, fix=fix)

    def _is_stub_here(self, owner: str) -> bool:
        """Whether the base ``__init__`` is a stub of this module (an abstract ``__init__``
        that only raises): nothing to run. The index does not say so of other modules."""
        module, _, name = owner.rpartition(".")
        if module != self.ctx.module_name:
            return False
        inits = [
            item
            for stmt in self.ctx.module.body
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == name
            for item in stmt.body.body
            if isinstance(item, cst.FunctionDef) and item.name.value == "__init__"
        ]
        return bool(inits) and _is_stub(inits[-1])

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
