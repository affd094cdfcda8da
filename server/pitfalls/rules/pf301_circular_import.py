"""PF301: module-level imports among project modules that form a cycle."""

from __future__ import annotations

import ast

import libcst as cst

from pitfalls.core import names
from pitfalls.core.diagnostics import Position
from pitfalls.core.summary import ModuleSummary
from pitfalls.core.walker import iter_statements
from pitfalls.rules._imports import NameUse, global_uses, is_docstring
from pitfalls.rules._layout import Layout, layout
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, PendingFix, Rule, RuleContext, Valid

_TYPE_CHECKING = ("typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING")

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/base.py": """
        from sqlalchemy.orm import DeclarativeBase


        class CompanyBaseModel(DeclarativeBase):
            pass
    """,
    "app/framework/services.py": """
        from typing import Generic, TypeVar

        ModelT = TypeVar("ModelT")


        class CompanyBusinessObjectService(Generic[ModelT]):
            def __init__(self, db, model):
                self.db = db
                self.model = model
    """,
    "app/models/__init__.py": "",
    "app/services/__init__.py": "",
}

# The guide's cycle: the model imports the service, which imports the model.
_PARTNER_MODEL = """
    from app.framework.base import CompanyBaseModel
    from app.services.partner_service import PartnerService


    class Partner(CompanyBaseModel):
        __tablename__ = "partners"

        def service(self, db) -> PartnerService:
            return PartnerService(db)
"""
_PARTNER_SERVICE = """
    from app.framework.services import CompanyBusinessObjectService
    from app.models.partner import Partner


    class PartnerService(CompanyBusinessObjectService[Partner]):
        pass
"""
_AUDIT_SERVICE = """
    from app.framework.services import CompanyBusinessObjectService
    from app.models.partner import Partner


    class AuditService(CompanyBusinessObjectService[Partner]):
        pass
"""


class CircularImport(Rule):
    """
    ## What it does
    Checks for module-level imports among the project's modules that form a cycle
    (`app.models.partner` imports `app.services.partner_service`, which imports
    `app.models.partner`), a package `__init__` importing its own submodule that imports
    the package back included. Each module on a cycle is reported once, at its first import
    that runs into a cycle, with the shortest cycle through it in the message (and how many
    more of its imports close one).

    Imports inside functions, under `if TYPE_CHECKING:` and under the module's
    `if __name__ == "__main__":` do not count: they do not run while the module is first
    imported (the first two are the usual ways to break a cycle). Nor do the imports of
    `.pyi` stubs, which never run. An explicit re-export, `from .x import Y as Y` or a name
    listed in `__all__`, is the package's API: it is not reported (the modules that import
    the package back are).

    ## Why is this bad?
    While a module is being imported, the modules it imports run first. When one of them
    imports the first module back, it gets a half-initialised module, without the names
    defined below the import, and fails depending on which module happens to be imported
    first:

    ```
    ImportError: cannot import name 'BusinessObjectService' from partially initialized module
    ```

    ## Example
    ```python
    # app/models/partner.py
    from app.framework.base import CompanyBaseModel
    from app.services.partner_service import PartnerService


    class Partner(CompanyBaseModel):
        def attach(self, service: PartnerService) -> None: ...


    # app/services/partner_service.py
    from app.models.partner import Partner
    ```

    ## Use instead
    ```python
    # app/models/partner.py
    from __future__ import annotations

    from typing import TYPE_CHECKING

    from app.framework.base import CompanyBaseModel

    if TYPE_CHECKING:
        from app.services.partner_service import PartnerService
    ```
    or import inside the function that needs the name:
    ```python
    def get_audit_service(self):
        from app.services.audit_service import AuditService
        return AuditService(self.db)
    ```

    ## Fix safety
    When the imported names are only used in annotations, the fix moves the import under
    `if TYPE_CHECKING:` (adding `from typing import TYPE_CHECKING`, and
    `from __future__ import annotations` unless every such annotation is a string); when
    they are only used inside functions, it moves the import to the top of each of those
    functions. It is unsafe: code that evaluates annotations at run time (FastAPI
    parameters, SQLAlchemy `Mapped[...]` columns, `typing.get_type_hints`) no longer finds
    the names, and the imported module's side effects (registering models) happen later.
    There is no fix when a name is used at import time (a base class, a decorator, a
    default value, a pydantic field's type), when the module lists it in `__all__`, or when
    another module of the project imports it from this one (it would be gone: an
    `ImportError` there).
    """

    code = "PF301"
    name = "circular-import"
    summary = "Module-level import on an import cycle"
    fix_applicability = Applicability.UNSAFE
    exact_on_ast_tree = True  # its fix edits lines read off CPython's tree (see _layout)

    VALID = [
        # The guide's solution: import at function level.
        Valid("""
            from app.framework.base import CompanyBaseModel


            class Partner(CompanyBaseModel):
                __tablename__ = "partners"

                def get_audit_service(self, db):
                    from app.services.audit_service import AuditService
                    return AuditService(db)
        """, files={**_FRAMEWORK, "app/services/audit_service.py": _AUDIT_SERVICE},
            path="app/models/partner.py"),
        # The guide's other solution: TYPE_CHECKING imports (`typing.TYPE_CHECKING` too)
        # and string annotations.
        Valid("""
            import typing
            from typing import TYPE_CHECKING, Any, Dict

            from app.framework.services import CompanyBusinessObjectService

            if TYPE_CHECKING:
                from app.models.partner import Partner

            if typing.TYPE_CHECKING:
                from app.models import partner


            class PartnerService(CompanyBusinessObjectService):
                def create_partner(self, data: Dict[str, Any]) -> "Partner":
                    pass
        """, files={**_FRAMEWORK, "app/models/partner.py": _PARTNER_MODEL},
            path="app/services/partner_service.py"),
        # One-directional imports: routes -> services -> models -> framework.
        Valid("""
            from fastapi import APIRouter, Depends

            from app.models.partner import Partner
            from app.services.partner_service import PartnerService

            router = APIRouter()


            @router.get("/partners/{partner_id}")
            async def get_partner(partner_id: int, service: PartnerService = Depends()) -> Partner:
                return await service.get(partner_id)
        """, files={
            **_FRAMEWORK,
            "app/models/partner.py": """
                from app.framework.base import CompanyBaseModel


                class Partner(CompanyBaseModel):
                    __tablename__ = "partners"
            """,
            "app/services/partner_service.py": _PARTNER_SERVICE,
        }, path="app/routes.py"),
        # A package `__init__` importing submodules that import siblings, not the package.
        Valid("""
            from .base import Base
            from .partner import Partner
            from . import invoice

            __all__ = ["Base", "Partner", "invoice"]
        """, files={
            "app/__init__.py": "",
            "app/models/base.py": """
                from sqlalchemy.orm import DeclarativeBase


                class Base(DeclarativeBase):
                    pass
            """,
            "app/models/partner.py": """
                from .base import Base


                class Partner(Base):
                    __tablename__ = "partners"
            """,
            "app/models/invoice.py": """
                from app.models.base import Base
                from app.models.partner import Partner


                class Invoice(Base):
                    __tablename__ = "invoices"
            """,
        }, path="app/models/__init__.py"),
        # SQLAlchemy relationships both ways, by class name: no import needed.
        Valid("""
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import Mapped, mapped_column, relationship

            from app.models.base import Base


            class Invoice(Base):
                __tablename__ = "invoices"
                partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
                partner: Mapped["Partner"] = relationship(back_populates="invoices")
        """, files={
            "app/__init__.py": "",
            "app/models/__init__.py": "from .partner import Partner\nfrom .invoice import Invoice\n",
            "app/models/base.py": """
                from sqlalchemy.orm import DeclarativeBase


                class Base(DeclarativeBase):
                    pass
            """,
            "app/models/partner.py": """
                from sqlalchemy.orm import Mapped, relationship

                from app.models.base import Base


                class Partner(Base):
                    __tablename__ = "partners"
                    invoices: Mapped[list["Invoice"]] = relationship("Invoice", back_populates="partner")
            """,
        }, path="app/models/invoice.py"),
        # A cycle elsewhere in the project, which this module only imports into.
        Valid("""
            from app.models.partner import Partner
            from app.services.partner_service import PartnerService
        """, files={
            **_FRAMEWORK,
            "app/models/partner.py": _PARTNER_MODEL,
            "app/services/partner_service.py": _PARTNER_SERVICE,
        }, path="app/main.py"),
        # A submodule importing its package, whose `__init__` does not import it back;
        # an external module named like a project one.
        Valid("""
            import redis
            from app.models import Base


            class Partner(Base):
                __tablename__ = "partners"
        """, files={
            "app/__init__.py": "",
            "app/redis.py": "import app.models.partner\n",
            "app/models/__init__.py": """
                from sqlalchemy.orm import DeclarativeBase


                class Base(DeclarativeBase):
                    pass
            """,
        }, path="app/models/partner.py"),
        # An aggregator `__init__` re-exporting explicitly: its API, not reported (the
        # module importing the package back is).
        Valid("""
            from .base import Base as Base
            from .partner import Partner
            __all__ = ["Base", "Partner"]
        """, files={
            "app/__init__.py": "",
            "app/models/base.py": "class Base:\n    pass\n",
            "app/models/partner.py": """
                from app.models import Base


                class Partner(Base):
                    pass
            """,
        }, path="app/models/__init__.py"),
        # An import under `if __name__ == "__main__":` runs only when the module is a script.
        Valid("""
            def main() -> None:
                print("serving")


            if __name__ == "__main__":
                from app.server import run
                run(main)
        """, files={"app/__init__.py": "", "app/server.py": "from app import cli\n\n\ndef run(f):\n    f()\n"},
            path="app/cli.py"),
    ]
    INVALID = [
        # Through folders without `__init__.py` inside the package (namespace packages).
        Invalid("""
            from app.api.v1.deps import current_company


            class CompanyService:
                company = current_company
        """, files={
            "app/__init__.py": "",
            "app/api/v1/deps.py": "from app.services.company import CompanyService\n\n\ndef current_company():\n    return CompanyService\n",
        }, path="app/services/company.py", line=1,
           message="app.services.company -> app.api.v1.deps -> app.services.company"),
        Invalid("""
            from app.framework.mixins import AuditableMixin


            class MessagingService(AuditableMixin):
                pass
        """, files={
            "app/__init__.py": "",
            "app/framework/__init__.py": "from .services import CompanyBusinessObjectService\n",
            "app/framework/mixins.py": "class AuditableMixin:\n    pass\n",
            "app/framework/services.py": "from app.services.events import MessagingService\n\n\nclass CompanyBusinessObjectService:\n    pass\n",
            "app/services/__init__.py": "",
        }, path="app/services/events.py", line=1,
           message="app.services.events -> app.framework -> app.framework.services -> app.services.events"),
        # The guide's cycle: the service needs the model at import time (a base class
        # argument), so there is no fix.
        Invalid(_PARTNER_SERVICE, files={**_FRAMEWORK, "app/models/partner.py": _PARTNER_MODEL},
                path="app/services/partner_service.py", line=2,
                message="app.services.partner_service -> app.models.partner -> app.services.partner_service"),
        # Names used only in annotations: moved under `if TYPE_CHECKING:`.
        Invalid('''
            """Partner model."""
            from app.framework.base import CompanyBaseModel
            from app.services.partner_service import PartnerService


            class Partner(CompanyBaseModel):
                __tablename__ = "partners"

                def attach(self, service: PartnerService) -> None:
                    self._service = service
        ''', files={**_FRAMEWORK, "app/services/partner_service.py": _PARTNER_SERVICE},
            path="app/models/partner.py", line=3,
            message="app.models.partner -> app.services.partner_service -> app.models.partner", fixed='''
            """Partner model."""

            from __future__ import annotations

            from app.framework.base import CompanyBaseModel
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from app.services.partner_service import PartnerService


            class Partner(CompanyBaseModel):
                __tablename__ = "partners"

                def attach(self, service: PartnerService) -> None:
                    self._service = service
        '''),
        # Names used only inside functions: moved into them (after a docstring).
        Invalid("""
            from app.framework.base import CompanyBaseModel
            from app.services.audit_service import AuditService


            class Partner(CompanyBaseModel):
                __tablename__ = "partners"

                def get_audit_service(self, db):
                    \"\"\"The audit service for this partner.\"\"\"
                    return AuditService(db)

                async def audit(self, db, event: str) -> None:
                    if event:
                        await AuditService(db).log(self, event)
        """, files={**_FRAMEWORK, "app/services/audit_service.py": _AUDIT_SERVICE},
            path="app/models/partner.py", line=2, fixed="""
            from app.framework.base import CompanyBaseModel


            class Partner(CompanyBaseModel):
                __tablename__ = "partners"

                def get_audit_service(self, db):
                    \"\"\"The audit service for this partner.\"\"\"
                    from app.services.audit_service import AuditService
                    return AuditService(db)

                async def audit(self, db, event: str) -> None:
                    from app.services.audit_service import AuditService
                    if event:
                        await AuditService(db).log(self, event)
        """),
        # Three modules; string annotations need no `__future__` import, and the existing
        # TYPE_CHECKING block takes the import.
        Invalid("""
            from typing import TYPE_CHECKING

            from app.services import invoice_service

            if TYPE_CHECKING:
                from app.models.invoice import Invoice


            def total(service: "invoice_service.InvoiceService") -> "Invoice":
                ...
        """, files={
            **_FRAMEWORK,
            "app/services/invoice_service.py": """
                from app.models.invoice import Invoice


                class InvoiceService:
                    model = Invoice
            """,
            "app/models/invoice.py": """
                from app.reports import total


                class Invoice:
                    pass
            """,
        }, path="app/reports.py", line=3,
            message="app.reports -> app.services.invoice_service -> app.models.invoice -> app.reports",
            fixed="""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from app.models.invoice import Invoice
                from app.services import invoice_service


            def total(service: "invoice_service.InvoiceService") -> "Invoice":
                ...
        """),
        # Laid out as written: two-space indentation, names of `typing` one per line,
        # statements on one line, and the blank line above the import goes with it.
        Invalid("""
            from typing import (
              Any,
              Dict,
            )
            import os; import sys

            from app.services.partner_service import PartnerService

            def attach(
              service: PartnerService,
            ) -> Dict[str, Any]:
              return {}
        """, files={**_FRAMEWORK, "app/services/partner_service.py": _PARTNER_SERVICE},
            path="app/models/partner.py", line=7, fixed="""
            from __future__ import annotations

            from typing import (
              TYPE_CHECKING,
              Any,
              Dict,
            )
            import os; import sys

            if TYPE_CHECKING:
              from app.services.partner_service import PartnerService

            def attach(
              service: PartnerService,
            ) -> Dict[str, Any]:
              return {}
        """),
        # Into a function whose signature spans lines: after the colon, above the comment.
        Invalid("""
            from app.framework.base import CompanyBaseModel
            from app.services.audit_service import AuditService


            class Partner(CompanyBaseModel):
                def get_audit_service(
                    self, db,
                ):  # the partner's
                    # audit trail
                    return AuditService(db)
        """, files={**_FRAMEWORK, "app/services/audit_service.py": _AUDIT_SERVICE},
            path="app/models/partner.py", line=2, fixed="""
            from app.framework.base import CompanyBaseModel


            class Partner(CompanyBaseModel):
                def get_audit_service(
                    self, db,
                ):  # the partner's
                    from app.services.audit_service import AuditService
                    # audit trail
                    return AuditService(db)
        """),
        # A submodule importing its package, whose `__init__` imports the submodule.
        Invalid("""
            from sqlalchemy.orm import Mapped

            from app.models import Base


            class Partner(Base):
                __tablename__ = "partners"
                id: Mapped[int]
        """, files={
            "app/__init__.py": "",
            "app/models/__init__.py": """
                from sqlalchemy.orm import DeclarativeBase


                class Base(DeclarativeBase):
                    pass


                from .partner import Partner
            """,
        }, path="app/models/partner.py", line=3,
            message="app.models.partner -> app.models -> app.models.partner"),
        # The same kind of cycle seen from the package: once, at its first import on a cycle.
        Invalid("""
            from .base import Base
            from .partner import Partner
            from . import invoice
        """, files={
            "app/__init__.py": "",
            "app/models/base.py": "class Base:\n    pass\n",
            "app/models/partner.py": """
                from app.models import Base


                class Partner(Base):
                    pass
            """,
            "app/models/invoice.py": "from app import models\n",
        }, path="app/models/__init__.py", count=1, line=2, message="(1 more import of this module closes a cycle)"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._imports: list[cst.Import | cst.ImportFrom] = []
        # ids of imports that do not run on import: under `if TYPE_CHECKING:` or the
        # module's `if __name__ == "__main__":`
        self._not_on_import: set[int] = set()

    def visit_If(self, node: cst.If) -> None:
        if names.is_type_checking_test(node.test) or (self.ctx.at_module_level and names.is_main_guard(node.test)):
            for stmt in iter_statements(node.body):
                if isinstance(stmt, cst.SimpleStatementLine):
                    self._not_on_import.update(id(small) for small in stmt.body)

    def visit_Import(self, node: cst.Import) -> None:
        self._collect(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._collect(node)

    def _collect(self, node: cst.Import | cst.ImportFrom) -> None:
        """Keep the imports the index counts as module scope: not in a def or class body,
        not under `if TYPE_CHECKING:`."""
        ctx = self.ctx
        if ctx.function is None and ctx.enclosing_class is None and id(node) not in self._not_on_import:
            self._imports.append(node)

    def finish(self) -> None:
        summary = self.ctx.summary
        if not self._imports or _is_stub(summary):
            return
        reached: dict[tuple[str, str | None, str], list[str]] = {}
        for info, module in self.ctx.index.project_imports(summary):
            if module != summary.name:
                reached.setdefault((info.module, info.name, info.bound), []).append(module)
        if not reached:
            return
        hops = self.ctx.index.import_cycles(summary)
        closing: list[tuple[cst.Import | cst.ImportFrom, list[str]]] = []
        for stmt in self._imports:
            if self._is_reexport(stmt):
                continue  # the package's API, imported on purpose
            cycles = []
            for module, attr, bound, _ in names.import_bindings(stmt, summary.name, summary.is_package):
                for target in reached.get((module, attr, bound), ()):
                    if target in hops:
                        cycle = [summary.name, target]
                        while cycle[-1] != summary.name:
                            cycle.append(hops[cycle[-1]])
                        cycles.append(cycle)
            if cycles:
                closing.append((stmt, min(cycles, key=len)))
        if not closing:
            return
        # One finding per module: at the first import that runs into a cycle.
        stmt, cycle = closing[0]
        message = f"Circular import: {' -> '.join(cycle)}"
        if len(closing) > 1:
            more = len(closing) - 1
            message += f" ({more} more import{'s' if more > 1 else ''} of this module close{'' if more > 1 else 's'} a cycle)"
        self.ctx.report(stmt, message, fix=self._fix(stmt))

    def _is_reexport(self, stmt: cst.Import | cst.ImportFrom) -> bool:
        """An explicit re-export: every name bound as itself (`from .x import Y as Y`) or
        listed in the module's `__all__`."""
        if not isinstance(stmt, cst.ImportFrom) or isinstance(stmt.names, cst.ImportStar):
            return False
        exported = set(self.ctx.summary.all_names or ())
        for alias in stmt.names:
            name = names.dotted(alias.name)
            bound = names.dotted(alias.asname.name) if alias.asname is not None else None
            if not (bound == name or (bound or name) in exported):
                return False
        return True

    # -- fix ----------------------------------------------------------------------------

    def _fix(self, stmt: cst.Import | cst.ImportFrom) -> PendingFix | None:
        body = self.ctx.module.body
        position = next(
            (
                i for i, s in enumerate(body)
                if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1 and s.body[0] is stmt
            ),
            None,
        )
        summary = self.ctx.summary
        bound = {b for _, _, b, _ in names.import_bindings(stmt, summary.name, summary.is_package)}
        if position is None or "*" in bound or not bound.isdisjoint(summary.all_names or ()):
            return None
        # Names other modules import from this one would be gone at import time: ImportError.
        imported = self.ctx.index.imported_from(summary)
        if "*" in imported or not bound.isdisjoint(imported):
            return None
        # A name bound twice at module level (another import, a def) would stay bound.
        bindings = [i.bound for i in summary.imports if i.scope != "function"]
        if any(bindings.count(b) > 1 or b in summary.classes or b in summary.functions for b in bound):
            return None
        uses = [u for u in global_uses(self.ctx) if u.name in bound]
        if not uses:  # imported for its side effects
            return None
        lines = layout(self.ctx)
        if lines is None:
            return None
        line = body[position]
        first, last = lines.span(line)
        code = lines.code(lines.statements(line)[0])
        # An import alone between blank lines: its group goes, with the blank lines above.
        start = first
        if 0 < position < len(body) - 1 and lines.blank(last + 1):
            above = lines.span(body[position - 1])[1] + 1
            if above < first and all(lines.blank(n) for n in range(above, first)):
                start = above
        remove = NodeEdit(lines.line_start(start), "", through=lines.line_start(last + 1))
        if all(u.annotation and not self._is_pydantic_field(u) for u in uses):
            edits = self._type_checking_edits(lines, code, line)
            if not all(u.string for u in uses):
                edits.extend(self._future_annotations_edits(lines))
            return self.ctx.fix("Move the import under `if TYPE_CHECKING:`", remove, *edits)
        if all(u.function is not None and isinstance(u.function.body, cst.IndentedBlock) for u in uses):
            edits = [remove]
            for function in {id(u.function): u.function for u in uses if u.function is not None}.values():
                top = _top_of_body(lines, function)
                if top is None:
                    return None
                edits.append(NodeEdit(top[0], _lines(code, top[1])))
            return self.ctx.fix("Move the import into the functions that use it", *edits)
        return None

    def _is_pydantic_field(self, use: NameUse) -> bool:
        """An annotation in a pydantic model's body, which pydantic evaluates."""
        return use.klass is not None and self.ctx.index.is_pydantic_model(
            f"{self.ctx.module_name}.{use.klass.name.value}"
        )

    def _type_checking_edits(self, lines: Layout, code: str, line: cst.SimpleStatementLine) -> list[NodeEdit]:
        """Put ``code`` in the `if TYPE_CHECKING:` block among the module's leading imports,
        or in a new one after them (importing `TYPE_CHECKING` if needed)."""
        last_import = line
        typing_import: ast.ImportFrom | None = None
        for i, stmt in enumerate(self.ctx.module.body):
            if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
            ):
                last_import = stmt
                typing_import = typing_import or next(
                    (
                        theirs for ours, theirs in zip(stmt.body, lines.statements(stmt))
                        if isinstance(ours, cst.ImportFrom) and _is_from_typing(ours)
                        and not isinstance(ours.names, cst.ImportStar) and isinstance(theirs, ast.ImportFrom)
                    ),
                    None,
                )
            elif isinstance(stmt, cst.If) and names.is_type_checking_test(stmt.test):
                if isinstance(stmt.body, cst.IndentedBlock) and isinstance(stmt.body.body[-1], cst.SimpleStatementLine):
                    (found,) = lines.statements(stmt)
                    assert isinstance(found, ast.If)
                    after = lines.line_start(found.body[-1].end_lineno + 1)  # type: ignore[operator]
                    return [NodeEdit(after, _lines(code, lines.text.indent(found.body[0])))]
            elif not (i == 0 and is_docstring(stmt)):
                break
        block = f"\nif TYPE_CHECKING:\n{_lines(code, lines.first_indent())}"
        edits = []
        if self.ctx.summary.bindings.get("TYPE_CHECKING") not in _TYPE_CHECKING:
            if typing_import is not None:
                # Written first, as isort and Ruff order constants, one per line if the rest are.
                aliases = typing_import.names
                comma = lines.between(aliases[0], aliases[1]) if len(aliases) > 1 else ", "
                edits.append(NodeEdit(lines.start(aliases[0]), f"TYPE_CHECKING{comma}"))
            else:
                block = "from typing import TYPE_CHECKING\n" + block
        edits.append(NodeEdit(lines.line_start(lines.span(last_import)[1] + 1), block))
        return edits

    def _future_annotations_edits(self, lines: Layout) -> list[NodeEdit]:
        """`from __future__ import annotations` at the top (after the docstring), so that
        annotations naming the moved import are not evaluated."""
        if any(i.module == "__future__" and i.name == "annotations" for i in self.ctx.summary.imports):
            return []
        body = self.ctx.module.body
        first, last = lines.span(body[0])
        if is_docstring(body[0]):
            gap = "" if len(body) > 1 and lines.span(body[1])[0] > last + 1 else "\n"
            return [NodeEdit(lines.line_start(last + 1), f"\nfrom __future__ import annotations\n{gap}")]
        return [NodeEdit(lines.line_start(first), "from __future__ import annotations\n\n")]


def _top_of_body(lines: Layout, function: cst.FunctionDef) -> tuple[Position, str] | None:
    """Where an import goes in ``function``'s body (after its docstring), and the body's
    indentation."""
    found = lines.function(function)
    if found is None:
        return None
    indent = lines.text.indent(found.body[0])
    assert isinstance(function.body, cst.IndentedBlock)
    if is_docstring(function.body.body[0]):
        return lines.line_start(found.body[0].end_lineno + 1), indent  # type: ignore[operator]
    header = lines.header_line(found)
    return (lines.line_start(header + 1), indent) if header is not None else None


def _is_stub(summary: ModuleSummary) -> bool:
    """A `.pyi` stub: its imports never run."""
    return summary.path.endswith(".pyi")


def _lines(code: str, indent: str) -> str:
    """A module-level statement's code as lines at ``indent`` (a parenthesised import
    spans several)."""
    return indent + code.replace("\n", "\n" + indent) + "\n"


def _is_from_typing(stmt: cst.ImportFrom) -> bool:
    return not stmt.relative and stmt.module is not None and names.dotted(stmt.module) == "typing"
