"""PF104: a secret passed to `print` or a logger."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._secrets import SecretOptions
from pitfalls.rules.api import Invalid, Rule, RuleContext, Severity, Valid

_PRINTERS = frozenset(
    {"builtins.print", "pprint.pprint", "pprint.pp", "rich.print", "click.echo", "click.secho",
     "typer.echo", "typer.secho"}
)
_PRINTER_NAMES = frozenset(name.rpartition(".")[2] for name in _PRINTERS)
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "trace",
     "success"}
)
_LOGGER_FACTORIES = ("getLogger", "get_logger", "getChild", "bind")
# Keywords that do not end up in the output.
_NOT_OUTPUT = frozenset({"sep", "end", "file", "flush", "exc_info", "stack_info", "stacklevel"})
# Calls whose result shows their arguments (or, for methods, the object they are called on).
_SHOWING_FUNCTIONS = frozenset(
    {"str", "repr", "ascii", "format", "bytes", "dumps", "b64encode", "urlsafe_b64encode", "quote",
     "quote_plus", "urlencode", "dict", "list", "tuple"}
)
_SHOWING_METHODS = frozenset(
    {"format", "format_map", "join", "strip", "lstrip", "rstrip", "decode", "encode", "upper",
     "lower", "casefold", "title", "replace", "removeprefix", "removesuffix", "split", "partition",
     "zfill", "ljust", "rjust", "center", "get_secret_value"}
)
_LOOKUPS = frozenset({"get", "getenv", "pop"})
_SECRET_TYPES = ("SecretStr", "SecretBytes")
# Text that hands the value to the reader: "Please provide this token on /first_install",
# "Your new API key: ...", "Save this password, it will not be shown again".
_HANDED_OVER = re.compile(
    r"\b(?:provide|enter|use|paste|copy|submit|save|store|keep)\s+(?:this|these|the\s+following)\b"
    r"|\byour\s+(?:\w+\s+){0,2}?(?:token|password|passphrase|secret|key|credentials?)\s*(?::|is\b)",
    re.IGNORECASE,
)
# ... unless the text says the program could not: "Failed to use this token: %s".
_NEGATED = re.compile(
    r"\b(?:not|cannot|can't|couldn't|unable\s+to|failed\s+to|fails\s+to)\s+(?:\w+\s+)?$", re.IGNORECASE
)


class SecretLogged(Rule):
    """
    ## What it does
    Checks for `print(...)` (and `pprint`, `rich.print`, `click.echo`, `typer.echo`) and
    logging calls (`logging.info/debug/warning/error/exception/critical/log`, and the same
    methods of a logger: `logging.getLogger(...)`/`structlog.get_logger()` or a name
    assigned from one, or an object called `logger`, `log`, `_logger`, `LOGGER`,
    `self.logger`, `audit_logger`…)
    whose arguments show a secret-named value (`config.api_agent_password`,
    `settings.DIRECTUS_TOKEN`, `os.environ["DB_PASSWORD"]`, `data["password"]`), also
    inside an f-string, `%`/`.format()` arguments, a dict or keyword argument named like a
    secret (`logger.info("login", password=pw)`), or a variable built from one.

    Not reported: values that are not secrets (`config.api_agent_email`,
    `password_reset_url`, `token_type`, `max_tokens`), string literals that merely mention
    the word (`print("Password should not be printed")`), values *derived* in a way that
    does not reveal the secret (`len(token)`, `bool(password)`, `token is None`,
    comparisons, `not token`, a slice such as `api_key[-4:]`, a hash, or any other
    function's result), and pydantic `SecretStr`/`SecretBytes` fields, which print as
    `**********` (their `.get_secret_value()` is reported). A `token` in a module that
    imports a lexer or tokenizer (`pygments`, `tokenize`, `transformers`…) is a word, not a
    credential, and a name that says its value is not real (`fake_token`, `test_password`)
    is not a secret. Test files are skipped unless `[tool.pitfalls.secrets] check-tests =
    true`; `extra-names` adds secret words.

    Nor is output whose own text hands the secret to the reader: `"Please provide this
    token on /first_install"`, `"Your new API key: {key}"`, `"Save this password, it is not
    shown again"`. Showing a first-run token or a key just created to the person running
    the program is what that output is for.

    ## Why is this bad?
    Terminal output and logs are copied to log aggregators, CI logs, bug reports and
    screenshots, where anyone with access to them reads the secret. The Directus guide's
    debugging snippet prints the URL and the email and warns:

    ```
    # Password should not be printed for security
    ```

    ## Example
    ```python
    from src_v2.config.directus_config import directus_config

    print(f"URL: {directus_config.url}")
    print(f"Password: {directus_config.api_agent_password}")
    ```

    ## Use instead
    ```python
    from src_v2.config.directus_config import directus_config

    print(f"URL: {directus_config.url}")
    print(f"Password set: {bool(directus_config.api_agent_password)}")
    ```

    ## Fix safety
    There is no automatic fix: what to show instead (nothing, a length, a masked suffix)
    is the author's choice.
    """

    code = "PF104"
    function_local = True  # see Rule.function_local
    name = "secret-logged"
    summary = "Secret printed or logged"
    exact_on_ast_tree = True
    severity = Severity.ERROR

    VALID = [
        Valid("""
            from src_v2.config.directus_config import directus_config

            print(f"URL: {directus_config.url}")
            print(f"Email: {directus_config.api_agent_email}")
            # Password should not be printed for security
            print("Password should not be printed")
        """),
        # Derived values that do not reveal the secret.
        Valid("""
            import logging

            logger = logging.getLogger(__name__)

            def check(token: str | None, password: str, api_key: str) -> None:
                logger.info("Token present: %s", token is not None)
                logger.debug("Password length: %d", len(password))
                logger.info(f"Has API key: {bool(api_key)}, ends with {api_key[-4:]}")
                print("Password:", "*" * len(password))
                logger.warning("Token expired for user %s", user_id)
                logger.error("Invalid token")
        """),
        # Names that mention a secret word without being one.
        Valid("""
            import logging

            log = logging.getLogger("auth")

            def report(settings, user, tokenizer) -> None:
                print(f"Reset link: {settings.password_reset_url}")
                log.info("token_type=%s max_tokens=%d", settings.token_type, settings.max_tokens)
                print(tokenizer, tokenizer.eos_token, user.hashed_password)
                log.info("Using secret %s", settings.secret_name)
        """),
        # pydantic SecretStr prints as '**********'.
        Valid("""
            from pydantic import SecretStr
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_token: SecretStr
                api_agent_password: SecretStr

            settings = Settings()
            print(f"Token: {settings.directus_token}")

            def login(password: SecretStr) -> None:
                print(password)
        """),
        # Not output calls, and tests.
        Valid("""
            import math

            def score(token: str, password: str) -> float:
                verify(password)
                return math.log(len(token))
        """),
        Valid("""
            def test_login(token):
                print(token)
        """, path="tests/test_auth.py"),
        # Output that delivers the secret to the operator on purpose.
        Valid("""
            from loguru import logger

            def log_server_info(settings) -> None:
                if settings.first_install_token:
                    logger.success(
                        f"FIRST_INSTALL_TOKEN: `{settings.first_install_token}`. "
                        "Please provide this token on /first_install."
                    )

            def create_key(store) -> None:
                api_key = store.new_key()
                print(f"Your new API key: {api_key}")
        """),
        # A tokenizer's tokens.
        Valid("""
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
            for token in tokenizer.tokenize("Hello world"):
                print(token)
            print(tokenizer.pad_token, len(tokenizer))
        """),
    ]
    INVALID = [
        Invalid("""
            from src_v2.config.directus_config import directus_config

            print(f"URL: {directus_config.url}")
            print(f"Password: {directus_config.api_agent_password}")
        """, line=4, message="directus_config.api_agent_password"),
        Invalid("""
            import logging
            import os

            logger = logging.getLogger(__name__)

            def connect(settings) -> None:
                logger.info("Connecting with token %s", settings.DIRECTUS_TOKEN)
                logging.debug("DB password: " + os.environ["DB_PASSWORD"])
                logger.info("login", password=settings.pw)
        """, count=3),
        Invalid("""
            class DirectusClient:
                def authenticate(self, email: str, password: str) -> None:
                    payload = {"email": email, "password": password}
                    self.logger.debug("Auth payload: {}".format(payload))
        """, line=4, message="logged"),
        Invalid("""
            import structlog
            from pydantic import SecretStr
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                api_key: SecretStr

            audit = structlog.get_logger()
            settings = Settings()
            audit.warning("key=%s", settings.api_key.get_secret_value())
        """, line=10),
        Invalid("""
            def test_login(token):
                print(token)
        """, path="tests/test_auth.py", line=2, config={"secrets": {"check-tests": True}}),
        Invalid("""
            def verify(otp: str) -> None:
                print("OTP", otp)
        """, line=2, config={"secrets": {"extra-names": ["otp"]}}),
        # The same startup log without telling the reader what the token is for.
        Invalid("""
            from loguru import logger

            def log_server_info(settings) -> None:
                logger.success(f"FIRST_INSTALL_TOKEN: `{settings.first_install_token}`")
                logger.info("Use the admin UI to log in, token=%s", settings.admin_token)
                logger.error("Failed to use this token: %s", settings.admin_token)
        """, count=3),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.options = SecretOptions(ctx.settings, ctx.path, ctx.summary)

    def visit_Call(self, node: cst.Call) -> None:
        if self.options.skip_file:
            return
        verb = self._output_verb(node.func)
        if verb is None:
            return
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword in _NOT_OUTPUT:
                continue
            shown = self._shown_secret(arg.value)
            if shown is None and keyword is not None and self.options.is_secret(keyword):
                shown = _carried(arg.value)
            if shown is not None:
                if _hands_over(node):
                    return
                self.ctx.report(
                    node,
                    f"`{names.dotted(shown) or self.ctx.code_for(shown)}` is {verb}: keep secrets out of output and logs",
                )
                return

    def _output_verb(self, func: cst.BaseExpression) -> str | None:
        """"printed" for a print-like call, "logged" for a logging call, else None."""
        if type(func) is cst.Name:
            last = func.value
        elif isinstance(func, cst.Attribute):
            last = func.attr.value
            if last in _LOG_METHODS and self._is_logger(func.value):
                return "logged"
        else:
            return None
        if last in _PRINTER_NAMES and self.ctx.qualified_name(func) in _PRINTERS:
            return "printed"
        return None

    def _is_logger(self, expr: cst.BaseExpression) -> bool:
        """The `logging` module, a logger-named object, or one made by a logger factory."""
        dotted = names.dotted(expr)
        if dotted == "logging":
            return self.ctx.qualified_name(expr) == "logging"
        if dotted is not None:
            last = dotted.rpartition(".")[2].lstrip("_").lower()
            if last == "log" or last.endswith("logger"):
                return True
            expr = self.ctx.value_of(dotted) if isinstance(expr, cst.Name) else None
        return isinstance(expr, cst.Call) and (names.dotted(expr.func) or "").endswith(_LOGGER_FACTORIES)

    def _shown_secret(self, expr: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression | None:
        """The secret-named expression whose value ``expr`` shows, if any."""
        if depth > 8:
            return None
        if isinstance(expr, cst.Name):
            if self.options.is_secret(expr.value):
                return None if self._is_secret_type(expr) else expr
            value = self.ctx.value_of(expr.value)
            return self._shown_secret(value, depth + 3) if value is not None and value is not expr else None
        if isinstance(expr, cst.Attribute):
            if self.options.is_secret(expr.attr.value) and not self._is_secret_type(expr):
                return expr
            return None
        if isinstance(expr, cst.Subscript):
            key = _string_key(expr)
            return expr if key is not None and self.options.is_secret(key) else None
        if isinstance(expr, cst.Call):
            return self._shown_by_call(expr, depth)
        if isinstance(expr, cst.FormattedString):
            return self._first(
                [p.expression for p in expr.parts if isinstance(p, cst.FormattedStringExpression)], depth
            )
        if isinstance(expr, (cst.BinaryOperation, cst.BooleanOperation, cst.ConcatenatedString)):
            return self._first([expr.left, expr.right], depth)
        if isinstance(expr, cst.IfExp):
            return self._first([expr.body, expr.orelse], depth)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return self._first([e.value for e in expr.elements], depth)
        if isinstance(expr, cst.Dict):
            for element in expr.elements:
                shown = self._shown_secret(element.value, depth + 1)
                if shown is None and isinstance(element, cst.DictElement):
                    key = names.string_value(element.key)
                    if key is not None and self.options.is_secret(key):
                        shown = _carried(element.value)
                if shown is not None:
                    return shown
            return None
        if isinstance(expr, cst.Await):
            return self._shown_secret(expr.expression, depth + 1)
        return None  # comparisons, `not x`, literals, lambdas...

    def _shown_by_call(self, call: cst.Call, depth: int) -> cst.BaseExpression | None:
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "get_secret_value":
                return func.value if self._names_secret(func.value) else None
            if method in _SHOWING_METHODS:
                return self._first([func.value, *(a.value for a in call.args)], depth)
            if method in _LOOKUPS:  # os.environ.get("DB_PASSWORD"), data.get("token")
                return _secret_lookup(call, self.options)
        elif isinstance(func, cst.Name) and func.value == "getenv":
            return _secret_lookup(call, self.options)
        last = names.dotted(func)
        if last is not None and last.rpartition(".")[2] in _SHOWING_FUNCTIONS:
            return self._first([a.value for a in call.args], depth)
        return None

    def _first(self, exprs: list[cst.BaseExpression], depth: int) -> cst.BaseExpression | None:
        for expr in exprs:
            shown = self._shown_secret(expr, depth + 1)
            if shown is not None:
                return shown
        return None

    def _names_secret(self, expr: cst.BaseExpression) -> bool:
        last = names.dotted(expr)
        return last is not None and self.options.is_secret(last.rpartition(".")[2])

    def _is_secret_type(self, expr: cst.Name | cst.Attribute) -> bool:
        """A pydantic ``SecretStr``/``SecretBytes`` (it prints masked)."""
        if isinstance(expr, cst.Name):
            annotation = self.ctx.annotation_of(expr.value)
            found = names.names_in_annotation(annotation) if annotation is not None else []
        else:
            owner = self.ctx.class_of_instance(expr.value)
            field = self.ctx.index.find_field(owner, expr.attr.value) if owner else None
            found = field.annotation_names if field else []
        return any(name.endswith(_SECRET_TYPES) for name in found)


def _hands_over(call: cst.Call) -> bool:
    """Whether the call's own text tells the reader to use the value it shows: output that
    delivers a secret to the person running the program on purpose (a first-run token, a
    key just created)."""
    text: list[str] = []
    stack: list[cst.BaseExpression] = [arg.value for arg in reversed(call.args)]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleString):
            text.append(names.string_value(node) or "")
        elif isinstance(node, cst.FormattedString):
            text.extend(part.value for part in node.parts if isinstance(part, cst.FormattedStringText))
        elif isinstance(node, (cst.ConcatenatedString, cst.BinaryOperation)):
            stack.extend((node.right, node.left))
    joined = " ".join(text)
    return any(_NEGATED.search(joined, 0, found.start()) is None for found in _HANDED_OVER.finditer(joined))


def _carried(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """A value shown under a secret's name (``password=pw``): a variable or attribute, not
    a literal or a derived value."""
    if isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"):
        return None
    return expr if isinstance(expr, (cst.Name, cst.Attribute)) else None


def _string_key(expr: cst.Subscript) -> str | None:
    if len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        return names.string_value(expr.slice[0].slice.value)
    return None


def _secret_lookup(call: cst.Call, options: SecretOptions) -> cst.Call | None:
    key = names.string_value(call.args[0].value) if call.args else None
    return call if key is not None and options.is_secret(key) else None
