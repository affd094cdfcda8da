"""PF207: base ``__init__`` called with arguments that do not fit its signature."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import ParamInfo
from pitfalls.rules._signatures import bind, bound_params, resolved_init, signature
from pitfalls.rules.api import Invalid, Rule, Valid

# Parameters that take a model class (the framework's `model`), by name when unannotated.
_MODEL_CLASS_PARAMS = frozenset({"model", "model_class", "model_cls", "model_type"})
# Unannotated parameters that by convention hold a database session.
_SESSION_NAMES = frozenset({"db", "session", "db_session"})

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/services.py": """
        from typing import Generic, TypeVar

        from sqlalchemy.ext.asyncio import AsyncSession

        ModelT = TypeVar("ModelT")
        CreateT = TypeVar("CreateT")
        UpdateT = TypeVar("UpdateT")


        class BaseService:
            def __init__(self, model, messaging_service=None):
                self.model = model
                self.messaging_service = messaging_service


        class CompanyBusinessObjectService(BaseService, Generic[ModelT, CreateT, UpdateT]):
            async def get_list(self, company_id: int):
                ...


        class SessionService(Generic[ModelT]):
            def __init__(self, db: AsyncSession, model: type[ModelT], *, audit: bool = True):
                self.db = db
                self.model = model
                self.audit = audit
    """,
    "app/services/__init__.py": "",
}


class SuperInitArguments(Rule):
    """
    ## What it does
    Reports a call of the base class's `__init__` (`super().__init__(...)`,
    `super(Cls, self).__init__(...)` or `Base.__init__(self, ...)`) whose arguments do not
    fit the `__init__` it reaches, found through the class's bases across files and through
    generic bases, in method resolution order:

    - more positional arguments than it takes, a keyword it does not take, a parameter
      given twice, or a required parameter left out (Python raises a `TypeError`);
    - arguments that bind but to the wrong parameters: a positional argument that is a
      plain name equal to *another* parameter of the base, which the call also gives a
      value (`super().__init__(model, db)` against `def __init__(self, db, model)`), or a
      database session (a name annotated `Session`/`AsyncSession`, or an unannotated
      `db`/`session`) bound to a parameter that takes a model class (annotated
      `type[...]`, or unannotated and named `model`, `model_class`...).

    Calls that pass `*args`/`**kwargs`, and bases whose `__init__` takes them, are left
    alone, as are bases whose `__init__` is not in the project (`BaseModel`, `Exception`).

    ## Why is this bad?
    The guide's services call `super().__init__(db, Partner)`; against a framework base
    declared `def __init__(self, model, messaging_service=None)` this binds without an
    error and silently passes the session as the model and the model as the messaging
    service, so the service fails later, far from the cause, the first time it queries
    `self.model`. Arguments that do not bind at all fail when the service is built:

    ```
    TypeError: BaseService.__init__() takes from 2 to 3 positional arguments but 4 were given
    ```

    ## Example
    ```python
    class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
        def __init__(self, db: AsyncSession):
            super().__init__(db, Partner)  # base: def __init__(self, model, messaging_service=None)
    ```

    ## Use instead
    ```python
    class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
        def __init__(self, db: AsyncSession):
            super().__init__(Partner)
            self.db = db
    ```

    ## Fix safety
    There is no automatic fix: which arguments the base should receive is a design
    decision.
    """

    code = "PF207"
    function_local = True  # see Rule.function_local
    name = "super-init-arguments"
    summary = "Base `__init__` called with arguments that do not fit it"
    exact_on_ast_tree = True

    VALID = [
        # Arguments that fit, positionally and by keyword.
        Valid(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService, SessionService
            from app.models import Invoice, Partner


            class PartnerService(CompanyBusinessObjectService[Partner, None, None]):
                def __init__(self, db: AsyncSession, messaging_service=None):
                    super().__init__(Partner, messaging_service=messaging_service)
                    self.db = db


            class InvoiceService(SessionService[Invoice]):
                def __init__(self, db: AsyncSession):
                    super().__init__(db, Invoice, audit=False)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # The older spellings, with fitting arguments.
        Valid(
            """
            from app.framework.services import BaseService, SessionService
            from app.models import Partner


            class PartnerService(SessionService[Partner]):
                def __init__(self, session):
                    super(PartnerService, self).__init__(session, Partner)


            class LegacyService(BaseService):
                def __init__(self, model, messaging_service):
                    BaseService.__init__(self, model, messaging_service)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # `*args`/`**kwargs` on either side: not knowable statically.
        Valid(
            """
            class Base:
                def __init__(self, *args, **kwargs):
                    self.args = args


            class Child(Base):
                def __init__(self, a, b, c):
                    super().__init__(a, b, c, extra=1)


            class Other(Child):
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)
            """
        ),
        # Library bases: `BaseModel`, `Exception`, a `Generic` in between.
        Valid(
            """
            from typing import Generic, TypeVar

            from pydantic import BaseModel

            T = TypeVar("T")


            class Page(BaseModel, Generic[T]):
                def __init__(self, items, total):
                    super().__init__(items=items, total=total)


            class AppError(Exception):
                def __init__(self, message, status_code=400):
                    super().__init__(message, status_code)
                    self.status_code = status_code


            class Box(Generic[T]):
                def __init__(self, value: T):
                    super().__init__()
                    self.value = value
            """
        ),
        # A session passed to a parameter meant for it, whatever its name; a model
        # class passed as the model; a name passed to a parameter of another name.
        Valid(
            """
            from sqlalchemy.orm import Session


            class Repository:
                def __init__(self, database, model: type):
                    self.database = database
                    self.model = model


            class PartnerRepository(Repository):
                def __init__(self, session: Session, model=None):
                    super().__init__(session, model or dict)


            class Cache:
                def __init__(self, model):
                    self.model = model


            class PartnerCache(Cache):
                def __init__(self, model_cls):
                    super().__init__(model_cls)


            class Element:
                def __init__(self, name, title=None):
                    self.name = name
                    self.title = title


            class Heading(Element):
                def __init__(self, title):
                    super().__init__(title)
            """
        ),
    ]
    INVALID = [
        # The guide's call against a base that does not take the session.
        Invalid(
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
            line=10,
            message="the session `db` binds to `model`",
        ),
        # A class defined inside a function.
        Invalid(
            """
            from app.framework.services import BaseService


            def service_for(model):
                class ModelService(BaseService):
                    def __init__(self, messaging_service):
                        super().__init__(messaging_service=messaging_service)

                return ModelService
            """,
            files=_FRAMEWORK,
            path="app/services/factory.py",
            line=7,
            message="`model`",
        ),
        # The session's type re-exported by a project module: still a session.
        Invalid(
            """
            from app.db import AsyncSession
            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner


            class PartnerService(CompanyBusinessObjectService[Partner, None, None]):
                def __init__(self, conn: AsyncSession):
                    super().__init__(conn, Partner)
            """,
            files={**_FRAMEWORK, "app/db.py": "from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine\n"},
            path="app/services/partner_service.py",
            line=8,
            message="the session `conn` binds to `model`",
        ),
        # Too many positionals, through a generic base of another file.
        Invalid(
            """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService
            from app.models import Partner


            class PartnerService(CompanyBusinessObjectService[Partner, None, None]):
                def __init__(self, db: AsyncSession, publisher):
                    super(PartnerService, self).__init__(
                        Partner,
                        publisher,
                        db,
                    )
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=9,
            message="3 positional arguments for 2 parameters",
        ),
        # Unknown keyword, missing required parameter, a keyword-only one given positionally.
        Invalid(
            """
            from app.framework.services import SessionService
            from app.models import Invoice


            class InvoiceService(SessionService[Invoice]):
                def __init__(self, session):
                    super().__init__(session, model_class=Invoice)


            class DraftService(SessionService[Invoice]):
                def __init__(self, session):
                    SessionService.__init__(self, session, Invoice, False)
            """,
            files=_FRAMEWORK,
            path="app/services/invoice_service.py",
            count=2,
        ),
        # Arguments swapped: each is a name of the other parameter.
        Invalid(
            """
            class Repository:
                def __init__(self, db, model, *, page_size=50):
                    self.db = db
                    self.model = model


            class PartnerRepository(Repository):
                def __init__(self, db, model):
                    super().__init__(model, db, page_size=20)
            """,
            line=9,
            message="`model` binds to `db`",
        ),
        # A parameter given twice.
        Invalid(
            """
            from app.framework.services import BaseService
            from app.models import Partner


            class PartnerService(BaseService):
                def __init__(self, messaging_service):
                    super().__init__(Partner, messaging_service, model=Partner)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=7,
            message="`model` given twice",
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
            return
        method = self.ctx.enclosing_method()
        classdef = method[0] if method is not None else None
        if classdef is None or self.ctx.class_qualname(classdef) is None:
            return  # only directly in a method of a class the index knows
        target = self._target(func.value, node, classdef)
        if target is None:
            return
        qualname, include_self, args = target
        found = resolved_init(self.ctx.index, qualname, include_self=include_self)
        if found is None:
            return
        owner, base_init = found
        params = bound_params(base_init)
        binding = bind(args, params) if params is not None else None
        if params is None or binding is None:
            return
        problems = binding.problems or self._misbound(binding.bound, params)
        if problems:
            self.ctx.report(
                node,
                f"Arguments do not fit `{signature(owner, base_init)}` "
                f"(`{owner.rsplit('.', 1)[0]}`): {'; '.join(problems)}",
            )

    def _target(
        self, owner: cst.BaseExpression, call: cst.Call, classdef: cst.ClassDef
    ) -> tuple[str, bool, list[cst.Arg]] | None:
        """(class whose ``__init__`` is reached, whether that class's own counts, the
        arguments after ``self``) for the three ways of calling the base ``__init__``."""
        if isinstance(owner, cst.Call) and names.dotted(owner.func) == "super":
            if not owner.args:
                qualname = self.ctx.class_qualname(classdef)
            elif len(owner.args) == 2:
                qualname = self.ctx.qualified_name(owner.args[0].value)
            else:
                return None
            return (qualname, False, list(call.args)) if qualname else None
        if not (call.args and names.dotted(call.args[0].value) == "self" and not call.args[0].star):
            return None
        qualname = self.ctx.qualified_name(owner)
        return (qualname, True, list(call.args[1:])) if qualname else None

    def _misbound(self, bound: dict[str, cst.Arg], params: list[ParamInfo]) -> list[str]:
        """Arguments that bind, but plainly to the wrong parameter."""
        by_name = {p.name: p for p in params}
        problems = []
        for param_name, arg in bound.items():
            value = arg.value.value if isinstance(arg.value, cst.Name) else None
            if value is None or value == param_name:
                continue
            if arg.keyword is None and value in bound:  # the call gives `value` elsewhere
                problems.append(f"`{value}` binds to `{param_name}`")
            elif self._is_session(value) and _takes_model_class(by_name[param_name]):
                problems.append(f"the session `{value}` binds to `{param_name}`")
        return problems

    def _is_session(self, name: str) -> bool:
        annotation = self.ctx.annotation_of(name)
        if annotation is None:
            return name in _SESSION_NAMES and self.ctx.value_of(name) is None
        named = names.annotated_type(annotation)
        qualname = self.ctx.qualified_name(named) if named is not None else None
        return (
            qualname is not None
            and qualname.split(".")[0] in ("sqlalchemy", "sqlmodel")
            and qualname.rsplit(".", 1)[-1] in ("Session", "AsyncSession")
        )


def _takes_model_class(param: ParamInfo) -> bool:
    if param.annotation is None:
        return param.name in _MODEL_CLASS_PARAMS
    return param.annotation.split("[")[0].rsplit(".", 1)[-1] in ("type", "Type")
