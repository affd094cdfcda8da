"""PF302: `from module import *`."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.rules._imports import global_uses
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, PendingFix, Rule, RuleContext, Severity, Valid

_MAX_LINE = 88  # Black's and Ruff's default line length

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": """
        from .base import CompanyBaseModel
        from .mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin
    """,
    "app/framework/base.py": """
        from sqlalchemy.orm import DeclarativeBase


        class CompanyBaseModel(DeclarativeBase):
            pass
    """,
    "app/framework/mixins.py": """
        class BusinessObjectMixin:
            pass


        class AuditableMixin:
            pass


        class EventPublisherMixin:
            pass
    """,
    "app/framework/extensions.py": """
        SUPPORTED_FIELD_TYPES = ["string", "integer", "decimal", "boolean", "date", "datetime", "json"]
        DEFAULT_FIELD_TYPE = "string"

        __all__ = ["SUPPORTED_FIELD_TYPES", "validate_field_type"]


        def validate_field_type(field_type: str) -> bool:
            return field_type in SUPPORTED_FIELD_TYPES
    """,
}


class StarImport(Rule):
    """
    ## What it does
    Checks for `from module import *` outside package `__init__` modules (where it is
    the usual way to re-export a package's submodules).

    ## Why is this bad?
    A star import hides which names a module uses and where they come from: a name
    defined in two imported modules silently takes the last one, a name added to the
    imported module can shadow one of yours, and neither readers nor tools can tell an
    undefined name from an imported one. It also loads every module the imported one
    imports, which is how framework packages end up in circular imports (the guide's
    advice: "Import only what you need").

    ## Example
    ```python
    from app.framework import *


    class Partner(CompanyBaseModel, BusinessObjectMixin):
        __tablename__ = "partners"
    ```

    ## Use instead
    ```python
    from app.framework import BusinessObjectMixin, CompanyBaseModel


    class Partner(CompanyBaseModel, BusinessObjectMixin):
        __tablename__ = "partners"
    ```

    ## Fix safety
    When the module is part of the project and its exports are known (its `__all__`, or
    else its public names, following its own star imports), the fix imports the names
    this module reads by name instead. It is safe unless names are used in ways no
    analysis sees: `globals()` or `eval`, other modules importing them from this one, or
    a package's submodules that other imports loaded as its attributes.
    There is no fix for modules outside the project, nor when no exported name is used
    (the import may be kept for its side effects).
    """

    code = "PF302"
    name = "star-import"
    summary = "`from module import *`"
    severity = Severity.WARNING
    fix_applicability = Applicability.SAFE

    VALID = [
        # The guide's good version: import only what you need.
        Valid("""
            from app.framework.base import CompanyBaseModel
            from app.framework.mixins import AuditableMixin, BusinessObjectMixin


            class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin):
                __tablename__ = "partners"
        """, files=_FRAMEWORK, path="app/models/partner.py"),
        # A package `__init__` re-exporting its submodules.
        Valid("""
            from .base import *
            from .mixins import *
            from .extensions import *
        """, files={k: v for k, v in _FRAMEWORK.items() if k != "app/framework/__init__.py"},
            path="app/framework/__init__.py"),
        # Module imports, `__all__`, dynamic imports and the words in strings.
        Valid("""
            import importlib

            import app.framework as framework
            from app.framework import extensions

            __all__ = ["load_framework"]


            def load_framework():
                \"\"\"Never `from app.framework import *` here.\"\"\"
                # from app.framework import *
                return importlib.import_module("app.framework"), framework, extensions
        """, files=_FRAMEWORK, path="app/loader.py"),
    ]
    INVALID = [
        # The guide's bad version; the package re-exports its submodules' classes, and a
        # long list wraps.
        Invalid("""
            from app.framework import *


            class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
                __tablename__ = "partners"
        """, files=_FRAMEWORK, path="app/models/partner.py", line=1, fixed="""
            from app.framework import (
                AuditableMixin,
                BusinessObjectMixin,
                CompanyBaseModel,
                EventPublisherMixin,
            )


            class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
                __tablename__ = "partners"
        """),
        # A class of this module shadows the framework's one of the same name.
        Invalid("""
            from app.framework import *


            class AuditableMixin:
                \"\"\"This service's own audit trail.\"\"\"


            class Partner(CompanyBaseModel, AuditableMixin):
                __tablename__ = "partners"
        """, files=_FRAMEWORK, path="app/models/partner.py", line=1, fixed="""
            from app.framework import CompanyBaseModel


            class AuditableMixin:
                \"\"\"This service's own audit trail.\"\"\"


            class Partner(CompanyBaseModel, AuditableMixin):
                __tablename__ = "partners"
        """),
        # A module with `__all__` exports only what it lists.
        Invalid("""
            from app.framework.extensions import *


            def check(field_type: str = DEFAULT_FIELD_TYPE) -> bool:
                return validate_field_type(field_type) and field_type in SUPPORTED_FIELD_TYPES
        """, files=_FRAMEWORK, path="app/services/extension_service.py", line=1, fixed="""
            from app.framework.extensions import SUPPORTED_FIELD_TYPES, validate_field_type


            def check(field_type: str = DEFAULT_FIELD_TYPE) -> bool:
                return validate_field_type(field_type) and field_type in SUPPORTED_FIELD_TYPES
        """),
        # Relative, through the imported module's own star import and imported names;
        # parameters and locals named like its exports are not imports.
        Invalid("""
            from .partner import *


            def create(data: PartnerCreate, session) -> PartnerRead:
                BaseModel = dict
                return PartnerRead.model_validate(data, context={"session": session, "base": BaseModel})


            def update(data: PartnerUpdate) -> "PartnerRead":
                return PartnerRead(**data.model_dump(), validator=Field)
        """, files={**_FRAMEWORK, "app/schemas/__init__.py": "", "app/schemas/partner.py": """
            from pydantic import BaseModel, Field

            from app.schemas.base import *

            session = None


            class PartnerCreate(CompanyBusinessObjectSchema):
                name: str


            class PartnerUpdate(CompanyBusinessObjectSchema):
                name: str | None = None


            class PartnerRead(PartnerCreate):
                id: int
        """, "app/schemas/base.py": """
            from pydantic import BaseModel


            class CompanyBusinessObjectSchema(BaseModel):
                pass


            def _private():
                pass
        """}, path="app/schemas/helpers.py", line=1, fixed="""
            from .partner import Field, PartnerCreate, PartnerRead, PartnerUpdate


            def create(data: PartnerCreate, session) -> PartnerRead:
                BaseModel = dict
                return PartnerRead.model_validate(data, context={"session": session, "base": BaseModel})


            def update(data: PartnerUpdate) -> "PartnerRead":
                return PartnerRead(**data.model_dump(), validator=Field)
        """),
        # A module outside the project: no fix.
        Invalid("""
            from sqlalchemy import *

            partners = Table("partners", MetaData(), Column("id", Integer, primary_key=True))
        """, line=1),
        # No name of the module is used: it may be imported for its side effects.
        Invalid("""
            from app.framework.mixins import *

            print("framework loaded")
        """, files=_FRAMEWORK, path="app/boot.py", line=1),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._stars: list[cst.ImportFrom] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar) and not self.ctx.summary.is_package:
            self._stars.append(node)

    def finish(self) -> None:
        used: set[str] | None = None
        for node in self._stars:
            module = names.absolute_module(
                len(node.relative), names.dotted(node.module) if node.module else None,
                self.ctx.module_name, self.ctx.summary.is_package,
            )
            fix = None
            exports = _exports(self.ctx.index, module, set())
            if exports is not None:
                if used is None:
                    used = {u.name for u in global_uses(self.ctx)} - set(self.ctx.summary.defined)
                fix = self._fix(node, sorted(used & exports, key=_import_order))
            self.ctx.report(
                node,
                f"`{self.ctx.code_for(node)}` hides which names this module uses: import them by name",
                fix=fix,
            )

    def _fix(self, node: cst.ImportFrom, wanted: list[str]) -> PendingFix | None:
        if not wanted:
            return None
        listed = ", ".join(wanted)
        if len(self.ctx.code_for(node)) - 1 + len(listed) > _MAX_LINE:
            indent = self.ctx.module.default_indent
            listed = "(\n" + "".join(f"{indent}{name},\n" for name in wanted) + ")"
        message = f"Import {', '.join(f'`{name}`' for name in wanted)} by name"
        return self.ctx.fix(message, NodeEdit(node.names, listed))


def _exports(index: IndexView, name: str, seen: set[str]) -> set[str] | None:
    """The names `from <name> import *` binds, when the module is in the project and its
    star imports can be followed; None when unknown."""
    summary = index.module(name)
    if summary is None:
        return None
    if summary.all_names is not None:
        return set(summary.all_names)
    # Names bound only under `if TYPE_CHECKING:` do not exist at run time.
    type_checking = {i.bound for i in summary.imports if i.scope == "type_checking"}
    type_checking -= {i.bound for i in summary.imports if i.scope == "module"}
    exports = {n for n in summary.defined if not n.startswith("_") and n not in type_checking}
    for info in summary.imports:
        if info.bound == "*" and info.scope == "module" and info.module not in seen:
            nested = _exports(index, info.module, seen | {name})
            if nested is None:
                return None
            exports |= nested
    return exports


def _import_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest, as isort and Ruff order imported names."""
    return (0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2, name)
