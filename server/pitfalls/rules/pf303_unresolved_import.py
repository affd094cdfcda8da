"""PF303: an import of a project module that does not exist, or of a name it does not have.

Unlike other rules it looks at the disk, and only to stay silent: a module missing from the
index may still exist there (excluded from the check, ignored by git, a compiled extension).
"""

from __future__ import annotations

import os
import sys

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import ModuleSummary
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

# Exceptions whose handler makes an import optional (`try: import x except ImportError:`).
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_SUPPRESS = frozenset({"contextlib.suppress", "suppress"})
# Modules generated at build time into a package folder (protoc, grpc_tools).
_GENERATED_SUFFIXES = ("_pb2", "_pb2_grpc")

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "from .base import CompanyBaseModel\n",
    "app/framework/base.py": """
        from sqlalchemy.orm import DeclarativeBase


        class CompanyBaseModel(DeclarativeBase):
            pass
    """,
    "app/models/__init__.py": "from .partner import Partner\n",
    "app/models/partner.py": """
        from app.framework.base import CompanyBaseModel


        class Partner(CompanyBaseModel):
            __tablename__ = "partners"
    """,
}


class UnresolvedImport(Rule):
    """
    ## What it does
    Checks for imports that cannot resolve inside the project: a module or package of a
    project package that does not exist (`from app.framework import x` where `app` has no
    `framework`), a relative import beyond the top-level package, and a name imported from
    a project module that neither defines nor re-exports it (a package's submodules count).

    It stays silent whenever the answer is uncertain: imports under `try: ... except
    ImportError:` (or `ModuleNotFoundError`, `contextlib.suppress(ImportError)`) and
    `if TYPE_CHECKING:`, stub files, packages named like standard-library modules, a file
    or folder of that name on disk (excluded from the check, a compiled extension, a
    namespace package) or one git ignores (generated at build time, like protobuf's
    `_pb2` modules), and modules that may bind names no statement shows (a star import,
    a module-level `__getattr__`, `globals()`, `global`, `sys.modules`, unpacking or loop
    targets).

    Imports of modules outside the project are not checked.

    ## Why is this bad?
    The import fails when it runs, and with it everything that imports the module:

    ```
    ModuleNotFoundError: No module named 'app.framework'
    ImportError: cannot import name 'PartnerService' from 'app.services' (app/services/__init__.py)
    ```

    ## Example
    ```python
    from app.framework.mixins import AuditableMixin  # app/framework/ has no mixins.py
    from app.models import PartnerSchema  # app/models defines no PartnerSchema
    ```

    ## Use instead
    Import the module and name where they are defined (or create them):
    ```python
    from app.framework.base import CompanyBaseModel
    from app.schemas.partner import PartnerSchema
    ```

    ## Fix safety
    There is no fix: only the author knows where the module or name should come from.
    """

    code = "PF303"
    name = "unresolved-import"
    summary = "Import of a project module or name that does not exist"

    VALID = [
        # Modules, packages, submodules as names, re-exports and relative imports.
        Valid("""
            import app.framework.base
            from app import framework, models
            from app.framework import CompanyBaseModel
            from app.models import Partner
            from . import partner
            from .partner import Partner as P
            from ..framework.base import CompanyBaseModel as Base
        """, files=_FRAMEWORK, path="app/models/helpers.py"),
        # Optional imports, type-only imports, and modules outside the project.
        Valid("""
            import contextlib
            from typing import TYPE_CHECKING

            import requests
            from sqlalchemy.orm import Session

            try:
                from app.framework.mixins import AuditableMixin
            except ImportError:
                AuditableMixin = object

            with contextlib.suppress(ModuleNotFoundError):
                import app.plugins

            if TYPE_CHECKING:
                from app.framework.typing import CompanyId
        """, files=_FRAMEWORK, path="app/services/partner_service.py"),
        # Names a module may bind without showing them: a star import, `__getattr__`,
        # `globals()`; a namespace package, a
        # compiled extension; a generated module git ignores; a protobuf one.
        Valid("""
            from app.compat import Json
            from app.lazy import Partner
            from app.registry import PartnerService
            from app.api.v1 import deps
            from app.speedups import fast_hash
            from app._version import version
            from app.proto import partner_pb2
        """, files={
            **_FRAMEWORK,
            "app/compat.py": "from json import *\n",
            "app/lazy.py": "def __getattr__(name):\n    return name\n",
            "app/registry.py": "for name in ('PartnerService',):\n    globals()[name] = type(name, (), {})\n",
            "app/api/v1/deps.py": "def current_company():\n    return 1\n",
            "app/speedups.pyx": "def fast_hash(x):\n    return x\n",
            ".git/info/exclude": "app/_version.py\n",
            "app/proto/__init__.py": "",
        }, path="app/main.py"),
        # A project package named like a standard-library one; a plain module.
        Valid("""
            import logging.handlers
            from settings.local import DEBUG
        """, files={"logging/__init__.py": "", "settings.py": ""}, path="run.py"),
    ]
    INVALID = [
        # The guide's missing `app.framework` module.
        Invalid("""
            from app.framework.mixins import AuditableMixin


            class Partner(AuditableMixin):
                pass
        """, files=_FRAMEWORK, path="app/models/invoice.py", line=1,
            message="No module named 'app.framework.mixins'"),
        Invalid("""
            import app.services.partner_service
        """, files=_FRAMEWORK, path="app/main.py", line=1, message="No module named 'app.services'"),
        # A name the module neither defines nor re-exports (nor is a submodule).
        Invalid("""
            from app.models import Partner, PartnerSchema
        """, files=_FRAMEWORK, path="app/routes.py", line=1, count=1,
            message="cannot import name 'PartnerSchema' from 'app.models'"),
        Invalid("""
            from . import partner, invoice
        """, files=_FRAMEWORK, path="app/models/helpers.py", line=1, count=1,
            message="cannot import name 'invoice' from 'app.models'"),
        # Relative beyond the top-level package.
        Invalid("""
            from ...framework import CompanyBaseModel
        """, files=_FRAMEWORK, path="app/models/helpers.py", line=1,
            message="beyond the top-level package"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._guards: list[cst.CSTNode] = []  # enclosing nodes that make imports optional
        self._skip = ctx.path.endswith(".pyi")  # a stub never runs
        self._listings: dict[str, set[str] | None] = {}

    # -- where an import failing is expected ----------------------------------------------

    def visit_Try(self, node: cst.Try) -> None:
        if any(_catches_import_error(h.type) for h in node.handlers):
            self._guards.append(node)

    def visit_If(self, node: cst.If) -> None:
        if names.is_type_checking_test(node.test):
            self._guards.append(node)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            call = item.item
            if (
                isinstance(call, cst.Call)
                and self.ctx.qualified_name(call.func) in _SUPPRESS
                and any(_catches_import_error(arg.value) for arg in call.args)
            ):
                self._guards.append(node)
                return

    def _leave(self, node: cst.CSTNode) -> None:
        if self._guards and self._guards[-1] is node:
            self._guards.pop()

    def leave_Try(self, node: cst.Try) -> None:
        self._leave(node)

    def leave_If(self, node: cst.If) -> None:
        self._leave(node)

    def leave_With(self, node: cst.With) -> None:
        self._leave(node)

    # -- imports --------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        if self._skip or self._guards:
            return
        for alias in node.names:
            module = names.dotted(alias.name)
            if module and not self.ctx.index.modules(module):
                problem = self._missing_module(module)
                if problem:
                    self.ctx.report(alias, problem)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if self._skip or self._guards:
            return
        summary = self.ctx.summary
        level = len(node.relative)
        if level:
            own = summary.name.split(".") if summary.name else []
            package = own if summary.is_package else own[:-1]
            if not package:
                return  # no known parent package: how the file runs decides
            if level > len(package):
                if summary.root and not os.path.isfile(os.path.join(summary.root, "__init__.py")):
                    self.ctx.report(node, f"Relative import beyond the top-level package `{package[0]}`: "
                                          "`ImportError: attempted relative import beyond top-level package`")
                return
        module = names.absolute_module(
            level, names.dotted(node.module) if node.module else None, summary.name, summary.is_package
        )
        if not module:
            return
        found = self.ctx.index.modules(module)
        if not found:
            problem = self._missing_module(module)
            if problem:
                self.ctx.report(node, problem)
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name) and not any(self._has_name(s, alias.name.value) for s in found):
                self.ctx.report(
                    alias,
                    f"`{module}` neither defines nor re-exports `{alias.name.value}`: "
                    f"`ImportError: cannot import name '{alias.name.value}' from '{module}'`",
                )

    # -- resolution -----------------------------------------------------------------------

    def _missing_module(self, module: str) -> str | None:
        """Why ``module`` (not in the project's index) cannot be imported, when its nearest
        enclosing project package certainly lacks it; None when uncertain or not the
        project's."""
        parts = module.split(".")
        if parts[0] in sys.stdlib_module_names:
            return None
        for cut in range(len(parts) - 1, 0, -1):
            packages = self.ctx.index.modules(".".join(parts[:cut]))
            if not packages:
                continue
            child = parts[cut]
            for package in packages:
                if not package.is_package or package.open_names or self._on_disk(package, child) is not False:
                    return None
            missing = ".".join(parts[: cut + 1])
            parent = ".".join(parts[:cut])
            return f"`ModuleNotFoundError: No module named '{missing}'`: the package `{parent}` has no module or package `{child}`"
        return None

    def _has_name(self, summary: ModuleSummary, name: str) -> bool:
        """Whether ``from <summary's module> import name`` may succeed."""
        if name in summary.defined or name.startswith("__") or summary.open_names or summary.path.endswith(".pyi"):
            return True
        if "__getattr__" in summary.functions or any(i.bound == "*" and i.scope != "function" for i in summary.imports):
            return True
        if summary.is_package:
            submodule = f"{summary.name}.{name}" if summary.name else name
            return bool(self.ctx.index.modules(submodule)) or self._on_disk(summary, name) is not False
        return False

    def _on_disk(self, package: ModuleSummary, child: str) -> bool | None:
        """Whether ``package``'s folder holds a module, package or extension ``child`` (or
        one generated at build time); None when the folder cannot be read."""
        if child.endswith(_GENERATED_SUFFIXES):
            return True
        folder = os.path.dirname(os.path.abspath(package.path))
        listing = self._listings.get(folder, ...)
        if listing is ...:
            try:
                listing = {entry.split(".")[0] for entry in os.listdir(folder)}
            except OSError:
                listing = None
            self._listings[folder] = listing
        if listing is None:
            return None
        if child in listing:
            return True
        return self.ctx.index.generated_at_build(os.path.join(folder, child))


def _catches_import_error(kind: cst.BaseExpression | None) -> bool:
    """A bare `except:` or one naming ImportError (or a base of it), alone or in a tuple."""
    if kind is None:
        return True
    if isinstance(kind, cst.Tuple):
        return any(_catches_import_error(e.value) for e in kind.elements)
    return names.last_name(kind) in _IMPORT_ERRORS if names.dotted(kind) else False
