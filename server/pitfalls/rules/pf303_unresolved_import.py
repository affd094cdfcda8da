"""PF303: an import of a project module that does not exist, or of a name it does not have.

Unlike other rules it looks at the disk: to stay silent, since a module missing from the
index may still exist there (excluded from the check, ignored by git, a compiled
extension), and to see which folders lack ``__init__.py``. It asks through the index's
view, which records each answer: a cached result is checked again once one changes (a
generated module appeared). What the dependency files declare reaches it through the
settings.
"""

from __future__ import annotations

import os
import sys

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import ModuleSummary
from pitfalls.core.walker import iter_nodes
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

# Exceptions whose handler makes an import optional (`try: import x except ImportError:`).
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_SUPPRESS = frozenset({"contextlib.suppress", "suppress"})
# Modules generated at build time into a package folder (protoc, grpc_tools).
_GENERATED_SUFFIXES = ("_pb2", "_pb2_grpc")
# Build and task scripts import what their tools install (the settings leave out tests',
# docs' and examples' folders the same way).
_UNDECLARED_EXEMPT_FILES = frozenset({"setup.py", "noxfile.py", "fabfile.py", "tasks.py"})
_MAX_ANCESTORS = 8  # folders above an importing file where its imports may be found
# `if` tests under which an import is for some Pythons or platforms only.
_CONDITIONS = frozenset({"sys.version_info", "sys.platform", "platform.system", "os.name"})

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


_PYPROJECT = """
[project]
name = "partner-api"
version = "1.0"
dependencies = [{}]
"""


_NAMESPACE_FOLDER = {
    "app/__init__.py": "",
    "app/utils/money.py": "def parse_amount(text):\n    return text\n",
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

    Where the build packages only folders with `__init__.py` (setuptools'
    `find_packages()` or `packages = find:`; the setting `packages-need-init` says so for
    other builds), it reports an import through a folder without `__init__.py` inside a
    regular package: Python imports it from the source tree as a namespace package, and
    the installed distribution lacks it.

    It also reports a third-party module that the project's declared dependencies do not
    provide (deptry's DEP001): not the standard library's, not the project's own, and
    provided by no distribution that `pyproject.toml` (PEP 621 dependencies and extras,
    PEP 735 groups, Poetry, PDM, uv and Hatch tables), `requirements*.txt` or `setup.cfg`
    declare at or above the file, in any group. A distribution provides the module of its
    name (`directus-sdk-py` -> `directus_sdk_py`), the modules a table of known names gives
    (`pyyaml` -> `yaml`, `python-jose` -> `jose`), the namespace or host its name starts
    with (`google-cloud-storage` -> `google`), and the modules of the distributions it is
    known to require (`fastapi` brings `starlette`). Nothing is imported or installed to
    find out. This half stays silent where the declarations are not all known (a
    `setup.py`, `dynamic` dependencies, an editable or URL requirement, no dependency file
    at all), in tests, docs, examples and `setup.py`/`noxfile.py`, for imports under `if`
    (a setting, a Python version or a platform), and for modules found beside the file.
    The setting `dependency-modules` adds modules a deployment provides.

    ## Why is this bad?
    The import fails when it runs, and with it everything that imports the module:

    ```
    ModuleNotFoundError: No module named 'app.framework'
    ImportError: cannot import name 'PartnerService' from 'app.services' (app/services/__init__.py)
    ModuleNotFoundError: No module named 'directus_sdk_py'
    ModuleNotFoundError: No module named 'app.utils'  # installed from a wheel without app/utils
    ```

    A module that only another distribution's requirements install works until that
    distribution stops requiring it; one that nothing installs fails on the first fresh
    install.

    ## Example
    ```python
    from app.framework.mixins import AuditableMixin  # app/framework/ has no mixins.py
    from app.models import PartnerSchema  # app/models defines no PartnerSchema
    ```

    ## Use instead
    Import the module and name where they are defined (or create them), and declare the
    distribution of every third-party module the code imports:
    ```python
    from app.framework.base import CompanyBaseModel
    from app.schemas.partner import PartnerSchema
    ```
    ```toml
    [project]
    dependencies = ["directus-sdk-py>=1.0"]
    ```

    ## Fix safety
    There is no fix: only the author knows where the module or name should come from.
    """

    code = "PF303"
    function_local = True  # see Rule.function_local
    name = "unresolved-import"
    summary = "Import of a project module or name that does not exist"
    exact_on_ast_tree = True

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
        # Third-party modules the declared dependencies provide: by name, through the table,
        # a namespace, an extra, a requirement of a declared one; a module beside the file;
        # optional and conditional imports.
        Valid("""
            import sys

            import sqlalchemy_utils
            import yaml
            from cryptography.fernet import Fernet
            from google.cloud import storage
            from jose import jwt
            from starlette.requests import Request

            import helpers

            try:
                import ujson as json
            except ImportError:
                import json

            if sys.platform == "win32":
                import winloop
        """, files={
            "pyproject.toml": _PYPROJECT.format('"fastapi>=0.110", "pyyaml", "sqlalchemy-utils", '
                                                '"google-cloud-storage", "python-jose[cryptography]"'),
            "helpers.py": "",
        }, path="main.py"),
        # Tests import what their tools install; a dependency group counts; `setup.py`
        # declarations are code, so nothing is known.
        Valid("""
            import pytest
            import respx
        """, files={"pyproject.toml": _PYPROJECT.format('"httpx"') + '[dependency-groups]\ndev = ["pytest"]\n'},
            path="tests/test_client.py"),
        # A folder without `__init__.py` where the build packages it anyway (Hatch, or
        # setuptools' `find_namespace_packages()`), or the top-level folder itself.
        Valid("""
            from app.utils.money import parse_amount
            from scripts.seed import seed
        """, files={**_NAMESPACE_FOLDER, "setup.py": "from setuptools import setup, find_namespace_packages\n"
                    "setup(packages=find_namespace_packages())\n", "scripts/seed.py": "def seed():\n    pass\n"},
            path="app/main.py"),
        Valid("""
            from app.utils.money import parse_amount
        """, files={**_NAMESPACE_FOLDER, "pyproject.toml": _PYPROJECT.format("")}, path="app/main.py"),
        Valid("""
            import directus_sdk_py
        """, files={"setup.py": "from setuptools import setup\nsetup(install_requires=open('req.in').read().split())\n",
                    "requirements.txt": "httpx\n"}, path="client.py"),
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
        # The guide's Directus SDK, declared nowhere (and a module only a requirement of a
        # declared distribution happens to install).
        Invalid("""
            import httpx
            from directus_sdk_py import DirectusClient
        """, files={"pyproject.toml": _PYPROJECT.format('"fastapi", "httpx"')}, path="app/directus.py", line=2,
            message="`directus_sdk_py` is imported, but no declared dependency provides it"),
        Invalid("""
            import redis
            from markdown_it import MarkdownIt
        """, files={"requirements.txt": "rich>=13\n", "requirements-dev.txt": "pytest\n"}, path="worker.py",
            line=1, count=1, message="`redis` is imported"),
        # A folder without `__init__.py` inside a regular package, built with find_packages().
        Invalid("""
            from app.utils.money import parse_amount
        """, files={**_NAMESPACE_FOLDER, "setup.py": "from setuptools import setup, find_packages\n"
                    "setup(packages=find_packages())\n"}, path="app/main.py", line=1,
            message="the folder `app/utils` has no `__init__.py` inside the regular package `app`"),
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
        self._ifs = 0  # enclosing `if` blocks: a third-party import there is optional (a setting, a platform)
        provided = ctx.settings.dependency_modules if ctx.settings is not None else None
        # The modules the declared dependencies provide; None: the third-party half is off here.
        self._provided = None if provided is None or self._undeclared_exempt() else frozenset(provided)

    def _undeclared_exempt(self) -> bool:
        return self.ctx.is_test_module or os.path.basename(self.ctx.path) in _UNDECLARED_EXEMPT_FILES

    # -- where an import failing is expected ----------------------------------------------

    def visit_Try(self, node: cst.Try) -> None:
        if any(_catches_import_error(h.type) for h in node.handlers):
            self._guards.append(node)

    def visit_If(self, node: cst.If) -> None:
        self._ifs += 1
        if names.is_type_checking_test(node.test) or self._conditional(node.test):
            self._guards.append(node)

    def _conditional(self, test: cst.BaseExpression) -> bool:
        """A test of the Python version or the platform (for one Python or one system)."""
        return any(self.ctx.qualified_name(n) in _CONDITIONS for n in self.ctx.node_fact(_attributes, test))

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
        self._ifs -= 1
        self._leave(node)

    def leave_With(self, node: cst.With) -> None:
        self._leave(node)

    # -- imports --------------------------------------------------------------------------

    def visit_Import(self, node: cst.Import) -> None:
        if self._skip or self._guards:
            return
        for alias in node.names:
            module = names.dotted(alias.name)
            found = self.ctx.index.find_all(module) if module else []
            if module and not found:
                problem = self._missing_module(module) or self._undeclared(module)
                if problem:
                    self.ctx.report(alias, problem)
            elif found:
                self._check_namespace_folder(alias, found[0])

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
                if summary.root and not self.ctx.index.file_on_disk(os.path.join(summary.root, "__init__.py")):
                    self.ctx.report(node, f"Relative import beyond the top-level package `{package[0]}`: "
                                          "`ImportError: attempted relative import beyond top-level package`")
                return
        module = names.absolute_module(
            level, names.dotted(node.module) if node.module else None, summary.name, summary.is_package
        )
        if not module:
            return
        found = self.ctx.index.find_all(module)
        if not found:
            problem = self._missing_module(module) or (None if level else self._undeclared(module))
            if problem:
                self.ctx.report(node, problem)
            return
        self._check_namespace_folder(node, found[0])
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
            if self._beside_an_ancestor(parts):  # (asked last: each answer is recorded)
                return None
            missing = ".".join(parts[: cut + 1])
            parent = ".".join(parts[:cut])
            return f"`ModuleNotFoundError: No module named '{missing}'`: the package `{parent}` has no module or package `{child}`"
        return None

    def _check_namespace_folder(self, node: cst.CSTNode, target: ModuleSummary) -> None:
        """Reports an import through a folder without ``__init__.py`` inside a regular
        package, where the build packages only regular packages."""
        if not (self.ctx.settings is not None and self.ctx.settings.packages_need_init):
            return
        parts = target.name.split(".")
        folders = parts if target.is_package else parts[:-1]
        path = target.root
        for depth, part in enumerate(folders):
            parent, path = path, os.path.join(path, part)
            listing = self.ctx.index.listing(path)
            if listing is None or "__init__" in listing:
                continue
            if depth and "__init__" in (self.ctx.index.listing(parent) or ()):
                package, folder = ".".join(folders[:depth]), ".".join(folders[: depth + 1])
                self.ctx.report(node, (
                    f"the folder `{os.path.relpath(path, target.root)}` has no `__init__.py` inside the regular package "
                    f"`{package}`: it imports from the source tree, but `find_packages()` leaves it out of the built "
                    f"distribution (`ModuleNotFoundError: No module named '{folder}'` once installed)"
                ))
            return

    def _undeclared(self, module: str) -> str | None:
        """Why ``module`` (not the project's) would not import where only the declared
        dependencies are installed; None when they provide it, or it may be local."""
        top = module.split(".")[0]
        if self._provided is None or self._ifs or top.lower() in self._provided or top in sys.stdlib_module_names:
            return None
        if top == "__future__" or self.ctx.index.find_all(top) or self._local(top):
            return None
        return (
            f"`{top}` is imported, but no declared dependency provides it: `ModuleNotFoundError: No module "
            f"named '{top}'` unless another package happens to install it; declare its distribution"
        )

    def _local(self, top: str) -> bool:
        """A module or package ``top`` beside the file, in its source root, or in a folder
        between them (`python scripts/run.py` imports from `scripts/`); uncertain counts."""
        folder = _folder_of(self.ctx.summary)
        root = os.path.abspath(self.ctx.summary.root or folder)
        while True:
            listing = self.ctx.index.listing(folder)
            if listing is None or top in listing:
                return True
            parent = os.path.dirname(folder)
            if folder == root or parent == folder or not folder.startswith(root):
                return False
            folder = parent

    def _beside_an_ancestor(self, parts: list[str]) -> bool:
        """Whether the module's file or folder exists under the importing file's root or an
        ancestor of it: another tree's package of the same name (a second project, an
        example) is not the one this file imports (pytest and scripts put their own folders
        on `sys.path`)."""
        folder = _folder_of(self.ctx.summary)
        for _ in range(_MAX_ANCESTORS):
            target = os.path.join(folder, *parts)
            if self.ctx.index.module_on_disk(target):
                return True
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return False

    def _has_name(self, summary: ModuleSummary, name: str) -> bool:
        """Whether ``from <summary's module> import name`` may succeed."""
        if self.ctx.index.exports(summary, name):
            return True
        if summary.is_package:
            submodule = f"{summary.name}.{name}" if summary.name else name
            return bool(self.ctx.index.find_all(submodule)) or self._on_disk(summary, name) is not False
        return False

    def _on_disk(self, package: ModuleSummary, child: str) -> bool | None:
        """Whether ``package``'s folder holds a module, package or extension ``child`` (or
        one generated at build time); None when the folder cannot be read."""
        if child.endswith(_GENERATED_SUFFIXES):
            return True
        folder = _folder_of(package)
        listing = self.ctx.index.listing(folder)
        if listing is None:
            return None
        if child in listing:
            return True
        return self.ctx.index.generated_at_build(os.path.join(folder, child))


def _folder_of(summary: ModuleSummary) -> str:
    """The folder holding a module's file, from its root and name (its path may be relative
    to wherever the run started)."""
    parts = summary.name.split(".") if summary.name else []
    return os.path.abspath(os.path.join(summary.root, *(parts if summary.is_package else parts[:-1])))


def _catches_import_error(kind: cst.BaseExpression | None) -> bool:
    """A bare `except:` or one naming ImportError (or a base of it), alone or in a tuple."""
    if kind is None:
        return True
    if isinstance(kind, cst.Tuple):
        return any(_catches_import_error(e.value) for e in kind.elements)
    return names.last_name(kind) in _IMPORT_ERRORS if names.dotted(kind) else False


def _attributes(test: cst.BaseExpression) -> tuple[cst.Attribute, ...]:
    """The attributes an ``if`` test reads (kept while its statement is unchanged)."""
    return tuple(n for n in iter_nodes(test) if type(n) is cst.Attribute)
