"""PF702: an environment flag read as truthy."""

from __future__ import annotations

import libcst as cst

from pitfalls.rules._environment import env_read, literal, truth_operands
from pitfalls.rules.api import Invalid, Rule, RuleContext, Severity, Valid

# Words that make a variable's name read as an on/off switch (split on `_`).
_FLAG_WORDS = frozenset({"ENABLED", "ENABLE", "DISABLED", "DISABLE", "DEBUG", "VERBOSE", "TESTING", "DRY", "FLAG"})
_FLAG_PREFIXES = frozenset({"USE", "SKIP", "ALLOW", "IS", "FORCE", "WITH", "WITHOUT"})
_FLAG_SUFFIXES = frozenset({"ON", "OFF"})
# Switches whose documented meaning is "set to anything" (no-color.org, Python's own PYTHON*).
_PRESENCE_SWITCHES = frozenset({"NO_COLOR", "FORCE_COLOR", "CI"})
_BOOLEAN_STRINGS = frozenset({"false", "0", "no", "off", "n", "f", "true", "1", "yes", "on", "y", "t"})


def reads_like_flag(name: str) -> bool:
    upper = name.upper()
    if upper in _PRESENCE_SWITCHES or upper.startswith("PYTHON"):
        return False
    words = [w for w in upper.split("_") if w]
    if not words:
        return False
    return (
        any(w in _FLAG_WORDS for w in words)
        or (len(words) > 1 and (words[0] in _FLAG_PREFIXES or words[-1] in _FLAG_SUFFIXES))
    )


def _boolean_default(default: cst.BaseExpression | None) -> bool:
    """`"false"`, `"0"`, `"true"`, `False`, `True`: a default that says the value is a flag."""
    if isinstance(default, cst.Name):
        return default.value in ("True", "False")
    value = literal(default)
    return value is not None and value.strip().lower() in _BOOLEAN_STRINGS


class EnvFlagTruthy(Rule):
    """
    ## What it does
    Checks for environment variables used directly as a truth value: `bool(os.getenv(...))`,
    `if os.getenv("AUDIT_ENABLED"):`, `not os.environ.get(...)`, a variable assigned from
    one and then tested, in `if`, `while`, `assert`, conditional expressions and
    comprehension conditions (through `and`, `or` and `not`).

    It reports a variable whose name reads like a switch (`*_ENABLED`, `ENABLE_*`,
    `DISABLE_*`, `DEBUG`, `VERBOSE`, `TESTING`, `DRY_RUN`, `USE_*`, `SKIP_*`, `ALLOW_*`,
    `IS_*`, `FORCE_*`, `*_ON`, `*_OFF`), or whose default is a boolean or a boolean string
    (`os.getenv("X", "false")`, `os.getenv("X", False)`), whatever its name. Other names are
    left alone: `if os.getenv("DATABASE_URL"):` asks whether a value is there, which is
    what a truth test answers; and so are the switches documented as "set to anything"
    (`NO_COLOR`, `FORCE_COLOR`, `CI`, Python's own `PYTHON*`). The ecosystem projects
    compare their flags (`os.getenv("TESTING", "False").lower() in ["true", "1"]`,
    `os.environ.get("GENERATE_MIGRATION") == "1"`) and test presence only for values,
    which is the line this rule draws.

    ## Why is this bad?
    Environment variables are strings, and every non-empty string is true: `AUDIT_ENABLED=false`,
    `DEBUG=0` and `USE_REDIS=no` all switch the feature *on*. Nothing fails: the guide's
    "audit and event publishing that silently do nothing" (or that silently run) starts
    here, and the only symptom is a setting that seems to be ignored.

    ## Example
    ```python
    import os

    AUDIT_ENABLED = bool(os.getenv("AUDIT_ENABLED", "false"))
    ```

    ## Use instead
    ```python
    import os

    AUDIT_ENABLED = os.getenv("AUDIT_ENABLED", "false").lower() in ("1", "true", "yes")
    ```
    Or a pydantic-settings field `audit_enabled: bool = False`, which parses `"false"`
    and `"0"` as false.

    ## Fix safety
    There is no automatic fix: which spellings mean "on" is the project's choice.
    """

    code = "PF702"
    function_local = True  # see Rule.function_local
    name = "env-flag-truthy"
    summary = "Environment flag used as a truth value: `\"false\"` counts as true"
    exact_on_ast_tree = True
    severity = Severity.WARNING

    VALID = [
        # Compared, parsed, or tested for presence: each says what "on" means.
        Valid("""
            import os

            PRODUCTION = os.getenv("PRODUCTION", "True").lower() in ["true", "1"]
            GENERATE_MIGRATION = os.environ.get("GENERATE_MIGRATION") == "1"
            DEBUG = os.getenv("DEBUG") is not None and os.getenv("DEBUG") != "0"


            def audit_enabled() -> bool:
                if os.getenv("AUDIT_ENABLED") is None:
                    return False
                return os.getenv("AUDIT_ENABLED", "").strip().lower() in ("1", "true", "yes")
        """),
        # Values, not switches: presence is the question; defaults that are values.
        Valid("""
            import os
            from os import environ

            DATABASE_URL = os.getenv("DATABASE_URL") or "sqlite:///./app.db"
            DEBUG_LEVEL = os.getenv("LOG_LEVEL") or "INFO"

            if os.getenv("DATABASE_URL"):
                print("using", os.environ["DATABASE_URL"])
            if not environ.get("REDIS_URL"):
                raise RuntimeError("REDIS_URL is not set")
            token = os.getenv("DIRECTUS_TOKEN")
            if token:
                print("authenticating")
        """),
        # Switches documented as "set to anything", and a flag passed on as a string.
        Valid("""
            import os

            color = not os.getenv("NO_COLOR")
            if os.environ.get("CI") or os.getenv("PYTHONDONTWRITEBYTECODE"):
                print("batch mode")
            flags = {"debug": os.getenv("DEBUG", "false")}
        """),
    ]
    INVALID = [
        # The guide's audit switch: `AUDIT_ENABLED=false` turns it on.
        Invalid("""
            import os


            class AuditService:
                def log(self, entry: dict) -> None:
                    if os.getenv("AUDIT_ENABLED"):
                        self._write(entry)
        """, line=6, message='"false"'),
        # A boolean default in a truth test: always true once set, whatever the name.
        Invalid("""
            import os

            PUBLISH = bool(os.getenv("PUBLISH_EVENTS", "false"))
            cache = os.environ.get("CACHE", False) and "redis"
            if not cache:
                pass
        """, count=1, line=3),
        # Through a variable, `not`, `and`/`or`, a comprehension and `from os import getenv`.
        Invalid("""
            import os
            from os import getenv

            debug = getenv("DEBUG")
            if debug and os.getenv("VERBOSE"):
                print("debugging")
            while not os.environ.get("SKIP_MIGRATIONS"):
                break
            plugins = [p for p in ["a", "b"] if os.getenv("USE_PLUGINS")]
            mode = "dry" if os.getenv("DRY_RUN") else "live"
        """, count=5),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._seen: set[int] = set()
        self._walked: set[int] = set()  # ids of the `and`/`or`/`not` nodes already tested through

    def visit_If(self, node: cst.If) -> None:
        self._tested(node.test)

    def visit_While(self, node: cst.While) -> None:
        self._tested(node.test)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._tested(node.test)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._tested(node.test)

    def visit_CompIf(self, node: cst.CompIf) -> None:
        self._tested(node.test)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not) and id(node) not in self._walked:
            self._tested(node.expression)

    def visit_Call(self, node: cst.Call) -> None:
        if (
            len(node.args) == 1 and node.args[0].keyword is None and not node.args[0].star
            and self.ctx.qualified_name(node.func) == "builtins.bool"
        ):
            self._tested(node.args[0].value)

    def _tested(self, test: cst.BaseExpression) -> None:
        for operand in truth_operands(test, self._walked):
            if id(operand) in self._seen:
                continue
            self._seen.add(id(operand))
            value = self.ctx.value_of(operand.value) if isinstance(operand, cst.Name) else operand
            read = env_read(self.ctx, value) if value is not None else None
            if read is None or not (_boolean_default(read.default) or reads_like_flag(read.name)):
                continue
            self.ctx.report(
                operand,
                f"`{read.name}` is a string here, and any non-empty one is true: \"false\" and \"0\" "
                f"switch it on; compare it (`.lower() in (\"1\", \"true\", \"yes\")`)",
            )
