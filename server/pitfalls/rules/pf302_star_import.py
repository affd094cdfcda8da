"""PF302: `from module import *`."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.summary_data import BUILTIN_QUALNAMES
from pitfalls.rules._imports import global_uses
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, PendingFix, Rule, RuleContext, Severity, Valid

_MAX_LINE = 88  # Black's and Ruff's default line length
# Modules pytest collects fixtures from by name: conftest.py and test modules.
_PYTEST_NAMESPACE = re.compile(r"^(conftest|test_.*|.*_test)\.py$")

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
    Checks for `from module import *` through which a module reads names: a name the
    module uses but never binds, that the imported module exports (its `__all__`, or
    else its public names, following its own star imports) or, for a module outside the
    project, that no other star import of the module accounts for.

    It leaves alone star imports whose names the module never reads: they exist to
    re-export the names or for the import's side effects (an alembic `_all_models.py`,
    or `from app.models import *` before `Base.metadata.create_all`, importing every
    model so that it registers its table). So it does in package `__init__` modules
    (the usual way to re-export a package's submodules), and in `conftest.py` and test
    modules (`test_*.py`, `*_test.py`) for modules that may hold fixtures (they import
    pytest or a pytest plugin, re-export a project module that does, or are project
    modules the analysis cannot read): pytest finds fixtures by name in the module's
    namespace, so the star import is how they are registered.

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
    There is no fix for modules outside the project (their exports are unknown).
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
        # Imported for its side effects: importing the models registers their tables on
        # `Base.metadata` before `create_all` (and alembic's `_all_models.py`), no name used.
        Valid("""
            from app.db import Base, engine
            from app.models import *
            from .partner import *


            def create_tables():
                print(__name__)
                Base.metadata.create_all(engine)
        """, files={
            **_FRAMEWORK,
            "app/db.py": """
                from sqlalchemy import create_engine
                from sqlalchemy.orm import declarative_base

                Base = declarative_base()
                engine = create_engine("sqlite://")
            """,
            "app/models/__init__.py": "from .partner import Partner",
            "app/models/partner.py": """
                from app.db import Base


                class Partner(Base):
                    __tablename__ = "partners"
            """,
        }, path="app/models/_all_models.py"),
        # pytest registers the fixtures a conftest (or test module) imports by their names,
        # even when it also uses one of them directly; a project module the index cannot
        # read may hold fixtures too.
        Valid("""
            from tests.fixtures import *
            from tests.generated.fixtures import *


            def pytest_configure(config):
                config.partner_factory = make_partner
        """, files={
            "tests/__init__.py": "",
            "tests/fixtures/__init__.py": "from .partners import *",
            "tests/fixtures/partners.py": """
                import pytest


                def make_partner(name="Acme"):
                    return {"name": name}


                @pytest.fixture
                def partner():
                    return make_partner()
            """,
        }, path="tests/conftest.py"),
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
        # Of two star imports only the one whose names are used; a test module's star
        # import of a module without fixtures.
        Invalid("""
            from app.framework.mixins import *
            from app.framework.extensions import *


            def test_field_types():
                assert validate_field_type("string")
        """, files=_FRAMEWORK, path="tests/test_extensions.py", line=2, count=1, fixed="""
            from app.framework.mixins import *
            from app.framework.extensions import validate_field_type


            def test_field_types():
                assert validate_field_type("string")
        """),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._stars: list[cst.ImportFrom] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar) and not self.ctx.summary.is_package:
            self._stars.append(node)

    def finish(self) -> None:
        if not self._stars:
            return
        index = self.ctx.index
        uses = {u.name for u in global_uses(self.ctx)} - set(self.ctx.summary.defined)
        # Names read that neither this module nor the builtins bind: only a star import can.
        free = {n for n in uses if n not in BUILTIN_QUALNAMES and not _is_dunder(n)}
        pytest_namespace = _PYTEST_NAMESPACE.match(PurePosixPath(self.ctx.path.replace("\\", "/")).name)
        stars: list[tuple[cst.ImportFrom, str, set[str] | None]] = []
        for node in self._stars:
            module = names.absolute_module(
                len(node.relative), names.dotted(node.module) if node.module else None,
                self.ctx.module_name, self.ctx.summary.is_package,
            )
            stars.append((node, module, _exports(index, module, set())))
        known = set().union(*(exports for _, _, exports in stars if exports is not None))
        for node, module, exports in stars:
            # pytest reads fixtures by name from a conftest's (or test module's) namespace.
            if pytest_namespace and _may_hold_fixtures(index, module, set()):
                continue
            used = uses & exports if exports is not None else free - known
            if not used:
                continue  # a re-export, or imported for its side effects (registering models)
            self.ctx.report(
                node,
                f"`{self.ctx.code_for(node)}` hides which names this module uses: import them by name",
                fix=None if exports is None else self._fix(node, sorted(used, key=_import_order)),
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


def _may_hold_fixtures(index: IndexView, name: str, seen: set[str]) -> bool:
    """Whether the module may define pytest fixtures: it imports pytest (or a pytest
    plugin), re-exports names of a project module that may, or is a module of a project
    package that the index cannot read."""
    summary = index.module(name)
    if summary is None:
        top = name.split(".")[0]
        return top != name and index.module(top) is not None
    seen.add(name)
    if any(_is_pytest(info.module) for info in summary.imports):
        return True
    return any(
        _may_hold_fixtures(index, info.module, seen)
        for info in summary.imports
        if info.scope == "module" and (info.name is not None or info.bound == "*") and info.module not in seen
    )


def _is_pytest(module: str) -> bool:
    top = module.split(".")[0]
    return top == "pytest" or top.startswith("pytest_")


def _is_dunder(name: str) -> bool:
    """``__file__``, ``__name__``: module attributes no star import binds."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _import_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest, as isort and Ruff order imported names."""
    return (0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2, name)
