"""PF701: an environment variable the project defines nowhere."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from pitfalls.rules._environment import env_read, environ_item, literal, truth_operands
from pitfalls.rules.api import Invalid, Rule, RuleContext, Severity, Valid

_SETTINGS_BASES = frozenset({
    "pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings",
    "pydantic.BaseSettings", "pydantic.env_settings.BaseSettings", "pydantic.v1.BaseSettings",
})
_FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field", "pydantic.v1.Field"})
# Configuration keys that do not change where a field's value comes from.
_HARMLESS_CONFIG = frozenset({
    "env_prefix", "case_sensitive", "env_file", "env_file_encoding", "env_nested_delimiter", "extra",
    "validate_default", "validate_assignment", "frozen", "arbitrary_types_allowed", "use_enum_values",
    "env_ignore_empty", "populate_by_name", "allow_population_by_field_name", "str_strip_whitespace",
    "protected_namespaces", "title", "env_parse_none_str", "env_parse_enums", "anystr_strip_whitespace",
})
# Variables the platform sets: the shell, CI runners, container and serverless platforms.
_PLATFORM = frozenset({
    "HOME", "PATH", "USER", "USERNAME", "LOGNAME", "SHELL", "PWD", "LANG", "LANGUAGE", "TERM", "TZ",
    "TMPDIR", "TEMP", "TMP", "HOSTNAME", "EDITOR", "VISUAL", "PAGER", "DISPLAY", "COLUMNS", "LINES",
    "CI", "PORT", "VIRTUAL_ENV", "APPDATA", "LOCALAPPDATA", "USERPROFILE", "SYSTEMROOT", "COMSPEC",
    "NO_COLOR", "FORCE_COLOR", "DYNO", "K_SERVICE", "K_REVISION", "SUDO_USER", "PYTEST_CURRENT_TEST",
})
_PLATFORM_PREFIXES = ("GITHUB_", "RUNNER_", "GITLAB_", "CI_", "KUBERNETES_", "PYTHON", "XDG_", "LC_",
                      "CONDA_", "AWS_LAMBDA_", "SSH_", "TERM_", "WSL_")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_DOTENV_FILE = re.compile(r"(^|/)(\.env(\..*)?|[^/]*\.env)$")


@dataclass
class _Read:
    node: cst.CSTNode
    name: str
    assigned_to: str | None = None  # the name a no-default `getenv` was assigned to


class EnvVarDefinedNowhere(Rule):
    """
    ## What it does
    Checks for environment variables the code needs (`os.environ["X"]`, `os.getenv("X")`
    and `os.environ.get("X")` without a default whose result is used as a value, fields
    without a default of a pydantic-settings `BaseSettings` class the module instantiates
    without arguments) that none of the project's environment files defines: `.env`,
    `.env.example` and the other `.env*`/`*.env` files, docker-compose files (and the
    files their `env_file:` names), Dockerfiles, CI files (`.github/workflows/*.yml`,
    `.gitlab-ci.yml`) and Kubernetes/Helm YAML, anywhere in the repository. The message
    names the closest defined names: usually the variable is there, spelled differently.

    A settings field's variable is its name with the class's `env_prefix`
    (`model_config = SettingsConfigDict(env_prefix=...)` or `class Config:`), or its
    `alias`/`validation_alias`/`env`; compared without case unless `case_sensitive=True`,
    as pydantic-settings does, and a nested field counts as defined by any
    `NAME<env_nested_delimiter>...` variable.

    It stays silent when the repository has none of those files (then "defined nowhere"
    says nothing: the variables come from somewhere the analysis cannot see), for
    variables the platform sets (`HOME`, `PATH`, `PORT`, `CI`, `GITHUB_*`, ...), for a
    variable the module also reads with a default, tests for (`"X" in os.environ`,
    `os.getenv("X") is None`, `if os.getenv("X"):`) or sets, for reads inside a `try` that
    catches `KeyError`, for settings classes whose configuration it cannot read (other
    sources, `secrets_dir`, validators that fill values, class keywords, an `env_file`
    that is not an env file), and in tests and command-line scripts, whose variables are
    the caller's to export. Variables the deployment sets outside the repository go in
    `environment = ["NAME", ...]` under `[tool.pitfalls]`.

    ## Why is this bad?
    The value never arrives: `KeyError: 'DIRECTUS_AGENT_PASSWORD'` at start-up, a
    pydantic `ValidationError: 1 validation error for Settings ... Field required`, or,
    with `getenv`, `None` passed on until a login fails with "Invalid user credentials"
    far from the cause. The guide's credentials "that never load from the environment"
    are usually a name that differs between the code and the `.env` file.

    ## Example
    ```python
    import os

    password = os.environ["DIRECTUS_AGENT_PASSWORD"]  # .env has DIRECTUS_API_AGENT_PASSWORD
    ```

    ## Use instead
    ```python
    import os

    password = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
    ```

    ## Fix safety
    There is no automatic fix: either side of the mismatch may be the one to change.
    """

    code = "PF701"
    name = "env-var-defined-nowhere"
    summary = "Environment variable that no `.env`, compose, Docker or CI file defines"
    severity = Severity.WARNING

    _ENV = {".env.example": "DIRECTUS_URL=http://localhost:8055\nDIRECTUS_API_AGENT_PASSWORD=\n# REDIS_URL=redis://localhost\n"}

    VALID = [
        # Defined in `.env.example` (a commented-out line documents it too), read with a
        # default, tested for, or set by the module; platform variables.
        Valid("""
            import os

            DIRECTUS_URL = os.environ["DIRECTUS_URL"]
            PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
            REDIS_URL = os.getenv("REDIS_URL")
            TIMEOUT = float(os.getenv("DIRECTUS_TIMEOUT", "10"))
            SENTRY_DSN = os.getenv("SENTRY_DSN")
            if SENTRY_DSN:
                print("sentry on")
            if os.getenv("STATSD_HOST") is not None:
                print(os.environ["STATSD_HOST"])
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
            print(os.environ["OAUTHLIB_INSECURE_TRANSPORT"], os.environ["HOME"], os.getenv("GITHUB_SHA"))
            try:
                BUILD = os.environ["APP_BUILD"]
            except KeyError:
                BUILD = "dev"
        """, files=_ENV, path="app/config.py"),
        # No env file, compose or CI file at all: nothing to compare with.
        Valid("""
            import os

            DIRECTUS_URL = os.environ["DIRECTUS_URL"]
        """, path="app/config.py"),
        # A compose file's `environment:` list, and the file its `env_file:` names.
        Valid("""
            import os

            print(os.environ["REDIS_URL"], os.environ["AUDIT_ENABLED"])
        """, files={
            "docker-compose.yml": "services:\n  api:\n    env_file:\n      - config/api.conf\n"
                                  "    environment:\n      - REDIS_URL=redis://redis:6379\n",
            "config/api.conf": "AUDIT_ENABLED=true\n",
        }, path="app/events.py"),
        # Settings: prefix, case-insensitive, aliases, defaults; instantiated elsewhere (or with
        # arguments), another source, and tests.
        Valid("""
            from pydantic import Field
            from pydantic_settings import BaseSettings, SettingsConfigDict


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="directus_", env_file=".env")

                url: str
                password: str = Field(alias="DIRECTUS_API_AGENT_PASSWORD")
                token: str | None = None
                timeout: float = Field(10.0)


            class Secrets(BaseSettings):
                model_config = SettingsConfigDict(secrets_dir="/run/secrets")

                api_key: str


            class Mailer(BaseSettings):
                smtp_host: str


            settings = Settings()
            secrets = Secrets()
            mailer = Mailer(smtp_host="localhost")
        """, files={".env": "DIRECTUS_URL=http://localhost:8055\nDIRECTUS_API_AGENT_PASSWORD=x\n"},
            path="app/settings.py"),
        Valid("""
            import os

            def test_login():
                assert os.environ["DIRECTUS_TEST_TOKEN"]
        """, files=_ENV, path="tests/test_login.py"),
    ]
    INVALID = [
        # The guide's mismatch: the code's name is not the one `.env.example` defines.
        Invalid("""
            import os

            DIRECTUS_URL = os.environ["DIRECTUS_URL"]
            PASSWORD = os.environ["DIRECTUS_AGENT_PASSWORD"]
        """, files=_ENV, path="app/config.py", line=4, message="DIRECTUS_API_AGENT_PASSWORD"),
        # `getenv` without a default whose value is used; a Dockerfile and CI file define others.
        Invalid("""
            from os import environ, getenv

            import httpx

            client = httpx.Client(base_url=getenv("DIRECTUS_URL"), timeout=10)
            token = environ.get("DIRECTUS_STATIC_TOKEN")
            client.headers["Authorization"] = f"Bearer {token}"
        """, files={
            "Dockerfile": "FROM python:3.12\nENV DIRECTUS_URL=http://directus:8055\n",
            ".github/workflows/ci.yml": "jobs:\n  test:\n    env:\n      DIRECTUS_TOKEN: ${{ secrets.TOKEN }}\n",
        }, path="app/client.py", line=6, message="DIRECTUS_TOKEN"),
        # A settings field with the class's prefix, and one through its alias.
        Invalid("""
            from pydantic import Field
            from pydantic_settings import BaseSettings, SettingsConfigDict


            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="DIRECTUS_")

                url: str
                agent_password: str
                redis: str = Field(validation_alias="REDIS_DSN")


            settings = Settings()
        """, files=_ENV, path="app/settings.py", count=2, message="environment variable"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._reads: list[_Read] = []
        self._handled: set[str] = set()  # variables read with a default, tested for, or set
        self._tested: set[int] = set()  # ids of expressions whose truth or identity is tested
        self._walked: set[int] = set()  # ids of the `and`/`or`/`not` nodes already tested through
        self._tested_names: set[str] = set()
        self._assigned: dict[int, str] = {}  # ids of values assigned to a plain name -> the name
        self._stores: set[int] = set()  # ids of `os.environ[...]` assigned or deleted
        self._guarded: set[int] = set()  # ids of `try` bodies that catch KeyError
        self._in_guard = 0
        self._settings: list[tuple[cst.ClassDef, list[tuple[cst.CSTNode, str, list[str]]], bool, str]] = []
        self._instantiated: set[str] = set()  # classes called without arguments

    @classmethod
    def applies(cls, settings: Any) -> bool:
        """Only where the repository's files define an environment to compare with: the
        rule is not even walked elsewhere (a keystroke's check skips its handlers)."""
        return getattr(settings, "environment", None) is not None

    @property
    def _active(self) -> bool:
        return self.applies(self.ctx.settings)

    # -- what the module needs, handles and sets -------------------------------------------

    def visit_Try(self, node: cst.Try) -> None:
        if any(_catches_key_error(self.ctx, h.type) for h in node.handlers):
            self._guarded.add(id(node.body))

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._in_guard += id(node) in self._guarded

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._in_guard -= id(original_node) in self._guarded

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._store(target.target)
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._assigned[id(node.value)] = node.targets[0].target.value

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._store(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._store(node.target)

    def _store(self, target: cst.BaseExpression) -> None:
        elements = target.elements if type(target) in (cst.Tuple, cst.List) else []
        for element in elements:
            self._store(element.value)
        if type(target) is cst.Subscript:
            name = environ_item(self.ctx, target)
            if name is not None:
                self._stores.add(id(target))
                self._handled.add(name)

    def visit_If(self, node: cst.If) -> None:
        self._test(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._test(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._test(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._test(node.test)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        if id(node) not in self._walked:
            self._test(node)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not) and id(node) not in self._walked:
            self._test(node.expression)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._test(node.left)
        for target in node.comparisons:
            self._test(target.comparator)
            if isinstance(target.operator, (cst.In, cst.NotIn)) and self.ctx.qualified_name(target.comparator) == "os.environ":
                name = literal(node.left)
                if name is not None:
                    self._handled.add(name)

    def _test(self, expr: cst.BaseExpression) -> None:
        for operand in truth_operands(expr, self._walked):
            self._tested.add(id(operand))
            if isinstance(operand, cst.Name):
                self._tested_names.add(operand.value)

    def visit_Call(self, node: cst.Call) -> None:
        if type(node.func) is cst.Name and all(a.keyword is not None and a.keyword.value.startswith("_") for a in node.args):
            self._instantiated.add(node.func.value)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("setenv", "setdefault", "putenv", "delenv"):
            name = literal(node.args[0].value) if node.args else None
            if name is not None:
                self._handled.add(name)
        if node.func.__class__ is cst.Name and node.func.value == "bool" and node.args:
            self._test(node.args[0].value)
        read = env_read(self.ctx, node)
        if read is None:
            return
        if read.default is not None:
            self._handled.add(read.name)
        elif id(node) in self._tested:
            self._handled.add(read.name)
        elif not self._in_guard:
            self._reads.append(_Read(node, read.name, self._assigned.get(id(node))))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if id(node) in self._stores or self._in_guard:
            return
        name = environ_item(self.ctx, node)
        if name is not None:
            self._reads.append(_Read(node, name))

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if len(node.bases) != 1 or node.keywords:
            return
        if self.ctx.qualified_name(node.bases[0].value) not in _SETTINGS_BASES:
            return
        understood = _settings_fields(self.ctx, node)
        if understood is not None:
            fields, case_sensitive, delimiter = understood
            self._settings.append((node, fields, case_sensitive, delimiter))

    # -- the verdict ----------------------------------------------------------------------

    def finish(self) -> None:
        if not self._active or self.ctx.is_test_module or self.ctx.is_script:
            return
        defined = set(self.ctx.settings.environment)
        candidates = sorted(n for n in defined if _ENV_NAME.match(n))
        for read in self._reads:
            name = read.name
            if name in defined or name in self._handled or _platform(name):
                continue
            if read.assigned_to is not None and read.assigned_to in self._tested_names:
                continue
            self._report(read.node, f"environment variable `{name}` is defined", name, candidates)
        lowered = {n.lower() for n in defined}
        for node, fields, case_sensitive, delimiter in self._settings:
            if node.name.value not in self._instantiated:
                continue
            pool = defined if case_sensitive else lowered
            for field, label, variables in fields:
                wanted = variables if case_sensitive else [v.lower() for v in variables]
                if any(w in pool or _platform(w.upper()) for w in wanted):
                    continue
                if delimiter and any(d.startswith(w + delimiter) for w in wanted for d in pool):
                    continue
                what = f"`{label}` of `{node.name.value}` reads the environment variable `{variables[0]}`, defined"
                self._report(field, what, variables[0], candidates)

    def _report(self, node: cst.CSTNode, what: str, name: str, candidates: list[str]) -> None:
        close = difflib.get_close_matches(name.upper(), candidates, n=3, cutoff=0.75)
        hint = f"; did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
        self.ctx.report(
            node, f"{what} in no .env, compose, Docker or CI file of the project{hint}",
        )


def _platform(name: str) -> bool:
    return name in _PLATFORM or name.startswith(_PLATFORM_PREFIXES)


def _catches_key_error(ctx: RuleContext, handler: cst.BaseExpression | None) -> bool:
    if handler is None:
        return True
    types = [e.value for e in handler.elements] if isinstance(handler, cst.Tuple) else [handler]
    return any(
        ctx.qualified_name(t) in ("builtins.KeyError", "builtins.LookupError", "builtins.Exception", "builtins.BaseException")
        for t in types
    )


def _settings_fields(
    ctx: RuleContext, node: cst.ClassDef
) -> tuple[list[tuple[cst.CSTNode, str, list[str]]], bool, str] | None:
    """The required fields of a settings class, each with the variables it reads, plus
    whether names are case-sensitive and the nested delimiter; None when the class's
    configuration is not one this rule can read."""
    config: dict[str, object] = {}
    fields: list[tuple[cst.AnnAssign, str, list[str] | None]] = []
    for statement in node.body.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Config":
            found = _config_class(statement)
            if found is None:
                return None
            config.update(found)
            continue
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            decorators = {cst.Module([]).code_for_node(d.decorator).split("(")[0].rsplit(".", 1)[-1] for d in getattr(statement, "decorators", ())}
            if statement.name.value.startswith(("settings_customise_sources", "customise_sources")) or decorators & {
                "model_validator", "root_validator",
            }:
                return None
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign) and any(
                isinstance(t.target, cst.Name) and t.target.value == "model_config" for t in small.targets
            ):
                found = _config_call(small.value)
                if found is None:
                    return None
                config.update(found)
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                annotation = cst.Module([]).code_for_node(small.annotation.annotation)
                if "ClassVar" in annotation or small.target.value.startswith("_"):
                    continue
                variables = _field_variables(ctx, small.value)
                if variables is not False:
                    fields.append((small, small.target.value, variables))  # type: ignore[arg-type]
    if any(key not in _HARMLESS_CONFIG for key in config):
        return None
    env_files = config.get("env_file")
    files = env_files if isinstance(env_files, (list, tuple)) else [env_files] if env_files is not None else []
    if any(not isinstance(f, str) or not _DOTENV_FILE.search(f) for f in files):
        return None
    prefix = config.get("env_prefix", "")
    delimiter = config.get("env_nested_delimiter") or ""
    if not isinstance(prefix, str) or not isinstance(delimiter, str):
        return None
    case_sensitive = config.get("case_sensitive") is True
    out = []
    for statement, label, variables in fields:
        out.append((statement.target, label, variables or [f"{prefix}{label}"]))
    return out, case_sensitive, delimiter


def _field_variables(ctx: RuleContext, value: cst.BaseExpression | None) -> list[str] | None | bool:
    """The aliases a required field is read under (None: its own name), or False when
    the field has a default or its aliases are not literal."""
    if value is None:
        return None
    if not isinstance(value, cst.Call) or ctx.qualified_name(value.func) not in _FIELD:
        return False
    positional = [a for a in value.args if a.keyword is None]
    if positional and not isinstance(positional[0].value, cst.Ellipsis):
        return False
    keywords = {a.keyword.value: a.value for a in value.args if a.keyword is not None}
    if "default" in keywords or "default_factory" in keywords or any(a.star for a in value.args):
        return False
    for key in ("validation_alias", "alias", "env"):
        if key in keywords:
            found = _strings(keywords[key])
            return found if found else False
    return None


def _strings(expr: cst.BaseExpression) -> list[str]:
    """A literal string, or the literal strings of a list/tuple or `AliasChoices(...)`."""
    single = literal(expr)
    if single is not None:
        return [single]
    if isinstance(expr, (cst.List, cst.Tuple)):
        items = [literal(e.value) for e in expr.elements]
    elif isinstance(expr, cst.Call) and isinstance(expr.func, (cst.Name, cst.Attribute)) and cst.Module([]).code_for_node(expr.func).endswith("AliasChoices"):
        items = [literal(a.value) for a in expr.args]
    else:
        return []
    return [i for i in items if i is not None] if all(i is not None for i in items) else []


def _value(expr: cst.BaseExpression) -> object:
    """A literal's value: strings, booleans, lists/tuples of strings; a marker otherwise."""
    text = literal(expr)
    if text is not None:
        return text
    if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.value]
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [literal(e.value) for e in expr.elements]
    return _UNKNOWN


_UNKNOWN = object()


def _config_call(expr: cst.BaseExpression) -> dict[str, object] | None:
    """``SettingsConfigDict(...)``, ``ConfigDict(...)``, ``dict(...)`` or a dict literal
    of literal values; None otherwise."""
    found: dict[str, object] = {}
    if isinstance(expr, cst.Call) and all(a.keyword is not None for a in expr.args):
        for arg in expr.args:
            found[arg.keyword.value] = _value(arg.value)  # type: ignore[union-attr]
    elif isinstance(expr, cst.Dict):
        for element in expr.elements:
            key = literal(element.key) if isinstance(element, cst.DictElement) else None
            if key is None:
                return None
            found[key] = _value(element.value)
    else:
        return None
    return None if any(v is _UNKNOWN for v in found.values()) else found


def _config_class(node: cst.ClassDef) -> dict[str, object] | None:
    """A pydantic 1 ``class Config:``'s literal settings; None when anything else is there."""
    found: dict[str, object] = {}
    for statement in node.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            return None
        for small in statement.body:
            if isinstance(small, cst.Expr):
                continue  # a docstring
            if not (isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name)):
                return None
            value = _value(small.value)
            if value is _UNKNOWN:
                return None
            found[small.targets[0].target.value] = value
    return found
