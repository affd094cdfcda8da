"""PF102: a credential written into the source as a string literal."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core import names
from pitfalls.core.walker import iter_nodes
from pitfalls.rules._secrets import SecretOptions, words
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Valid

# Values that stand for a secret rather than being one: templates, and regular expressions
# (a lexer's `token` patterns).
_TEMPLATE = re.compile(r"<[^<>]+>|\{[^{}]*\}|%\(\w+\)s|%s|^\$[A-Za-z_]\w*$|\\[wdsWDSb]|\[\^|\(\?[:=!P<]")
_PLACEHOLDER_WORDS = frozenset(
    {"your", "here", "changeme", "changethis", "change", "replace", "placeholder", "example",
     "dummy", "fake", "sample", "todo", "fixme", "redacted", "masked", "hidden", "insert", "enter",
     "xxx", "none", "null", "undefined", "unset", "notset"}
)
_SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "pass", "secret", "token", "credential",
     "credentials", "apikey"}
)
_SECRET_VOCABULARY = _SECRET_WORDS | {
    "api", "key", "access", "refresh", "private", "auth", "authorization", "bearer", "client"
}
# An identifier, slug, dotted event or route name made of words: `user.password_changed`,
# `X-API-Key` (not a JWT's random mixed case).
_PART = r"(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*|[A-Z][a-z0-9]+)"
_IDENTIFIER = re.compile(rf"/?{_PART}(?:[._:/-]{_PART})+/?")
# Credentials that give themselves away whatever they are assigned to.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:([^@/\s]+)@")
_AUTHORIZATION = re.compile(r"(?:Bearer|Basic|Token)\s+(\S{8,})", re.IGNORECASE)
_MAYBE_EMBEDDED = re.compile(r"://|bearer|basic|token", re.IGNORECASE)
# Keywords, keys and names whose value is documentation, not configuration.
_DOC_NAMES = frozenset(
    {"example", "examples", "openapi_examples", "json_schema_extra", "schema_extra", "description",
     "help", "title"}
)


def is_placeholder(value: str, name: str = "") -> bool:
    """A value that is not a credential: empty, a mask, a template, prose, a placeholder,
    the name of the secret itself, or an identifier such as an event or enum value."""
    value = value.strip()
    if not value or len(set(value)) == 1 or _TEMPLATE.search(value):
        return True
    parts = words(value)
    if not parts or not _PLACEHOLDER_WORDS.isdisjoint(parts):
        return True
    spaced = len(value.split())
    if spaced > 2 or (spaced == 2 and not _SECRET_WORDS.isdisjoint(parts)):
        return True  # a message or label: "Password is too short", "Invalid token"
    lettered = [p for p in parts if not p.isdigit()]
    if lettered and (lettered == words(name) or _SECRET_VOCABULARY.issuperset(lettered)):
        return True
    return _IDENTIFIER.fullmatch(value) is not None and (
        any(sep in value for sep in ".:/") or value.isupper() or not _SECRET_VOCABULARY.isdisjoint(parts)
    )


def embedded_credential(value: str) -> str | None:
    """What kind of credential a value carries whatever it is called, if any."""
    if "://" in value and "@" in value and len(value.split()) == 1:  # a URL, not text quoting one
        match = _URL_PASSWORD.search(value)
        if match and not is_placeholder(match.group(1)):
            return "password in a connection URL"
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match and not is_placeholder(match.group(1)):
        return "token in an `Authorization` value"
    return None


class HardcodedCredential(Rule):
    """
    ## What it does
    Checks for a non-empty string literal assigned to a name, attribute, keyword argument,
    parameter default, subscript or dict key that names a secret (`password`, `passwd`,
    `secret`, `token`, `api_key`, `SECRET_KEY`, `client_secret`, `credentials`…), and for a
    literal connection URL with a password (`scheme://user:password@host`) or a literal
    `Bearer`/`Basic` authorization value, whatever they are assigned to.

    A name is judged on its word parts: it names a secret when it *ends* in a secret word,
    so `password_reset_url`, `token_type`, `token_count`, `max_tokens`, `tokenizer`,
    `secret_santa`, `hashed_password` and `USER_PASSWORD_CHANGED` are not secrets.
    `[tool.pitfalls.secrets] extra-names` adds words (e.g. `["pin", "otp"]`).

    These values are not credentials and are not reported: an empty string, a mask
    (`"****"`), a template (`"<your-token>"`, `"{password}"`, `"${DB_PASSWORD}"`), a regular
    expression, a message or label (three words or more, or two with a secret word:
    `"Invalid token"`), a placeholder word (`"changeme"`, `"changethis"`,
    `"your-secret-key-here"`, `"dummy"`), the secret's own name (`"password"`, `"api_key"`,
    `"password123"`), and identifiers such as event, enum, route or environment variable
    names (`"user.password_changed"`, `"refresh_token"`, `"/reset-password"`, `"X-API-Key"`,
    `"DB_PASSWORD"`). A URL's password is reported unless it is such a placeholder
    (`postgresql://user:password@localhost/db` is documentation, not a credential).
    A two-word value without a secret word (`SECRET_KEY = "Hello FastAPI"`) is reported.

    Also not reported: values read at run time (`os.environ[...]`, `os.getenv(...)`,
    `Field(default_factory=...)`), documentation (`examples=`, `description=`,
    `json_schema_extra`, `schema_extra`, OpenAPI examples), a `token` in a module that
    imports a lexer or tokenizer (`pygments`, `tokenize`, `transformers`…), and test files
    (`test_*.py`, `*_test.py`, `conftest.py`, anything under `tests/`) unless
    `[tool.pitfalls.secrets] check-tests = true`.

    ## Why is this bad?
    A credential in the source is in every clone, backup, CI log and container image of the
    repository, and changing it means a code change and a deploy. The Directus guide keeps
    `DIRECTUS_API_AGENT_PASSWORD="SecureApiPassword123!"` in `.env` for that reason; copied
    into the code it leaks, and when the real password differs it fails as:

    ```
    DirectusAuthenticationError: Invalid API Agent credentials
    HTTP 401: Unauthorized
    ```

    ## Example
    ```python
    import requests

    DIRECTUS_API_AGENT_PASSWORD = "SecureApiPassword123!"

    auth_response = requests.post("http://localhost:8055/auth/login", json={
        "email": "api-agent@tvo.local.nl",
        "password": DIRECTUS_API_AGENT_PASSWORD,
    }, timeout=10)
    ```

    ## Use instead
    ```python
    import os

    import requests

    DIRECTUS_API_AGENT_PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
    ```

    ## Fix safety
    The fix replaces the literal with `os.environ["NAME"]` (`NAME` is the target's name in
    upper case) and adds `import os` when the module does not import it. It is unsafe: the
    program now raises `KeyError` until the variable is set in its environment. There is no
    fix for a literal that is not assigned to a name (a URL passed positionally) nor for an
    assignment to `os.environ[...]` itself.
    """

    code = "PF102"
    name = "hardcoded-credential"
    summary = "Credential written as a string literal"
    fix_applicability = Applicability.UNSAFE

    VALID = [
        Valid("""
            import os

            DIRECTUS_API_AGENT_PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
            SECRET_KEY = os.getenv("SECRET_KEY", "")
        """),
        # Event and enum values, limits: names that merely mention a secret word.
        Valid("""
            from enum import Enum

            USER_PASSWORD_CHANGED = "user.password_changed"
            TOKEN_REFRESH = "token_refresh"
            RESET_LIMIT = "3/5minutes"
            PASSWORD_RESET_URL = "https://example.com/reset"

            class GrantType(str, Enum):
                PASSWORD = "password"
                REFRESH_TOKEN = "refresh_token"

            class AuthError(str, Enum):
                INVALID_TOKEN = "Invalid or expired token"
                WRONG_PASSWORD = "wrong_password"
        """),
        # FastAPI's security helpers: token types, header and route names.
        Valid("""
            from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
            from pydantic import BaseModel

            API_KEY_NAME = "X-API-Key"
            api_key_header = APIKeyHeader(name="Authorization")
            oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token")
            ACCESS_TOKEN_EXPIRE_MINUTES = 30
            FORGOT_PASSWORD_ROUTE = "/forgot-password"

            class Token(BaseModel):
                access_token: str
                token_type: str = "bearer"

            def login_response(token: str) -> dict:
                return {"access_token": token, "token_type": "bearer"}
        """),
        # Settings read from the environment; placeholders and field names.
        Valid("""
            import uuid
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_token: str = Field(default_factory=lambda: uuid.uuid4().hex)
                api_agent_password: str = ""
                secret_key: str = "<your-secret-key>"
                smtp_password: str = "changeme"
                jwt_secret: str = "${JWT_SECRET}"
                db_password_env: str = "DB_PASSWORD"

            form = {"username": "username", "password": "password"}
            DATABASE_URL = "postgresql+asyncpg://user:password@localhost:5432/dbname"
        """),
        # Look-alike names: counts, tokenizers, hashes, resets.
        Valid("""
            max_tokens = "4096"
            tokenizer = "bert-base-uncased"
            eos_token = "</s>"
            hashed_password = "$2b$12$KIXQJH6cG1hZ6QkO6e7bNu"
            password_reset_url = "https://app.example.com/reset?token="
            secret_santa = "Alice"
            token_count = "12"
        """),
        # Test files are skipped by default.
        Valid("""
            def test_login(client):
                response = client.post("/auth/login", json={"password": "SecureApiPassword123!"})
                assert response.status_code == 200
        """, path="tests/test_auth.py"),
        Valid("""
            from pydantic import BaseModel

            class LoginForm(BaseModel):
                password: str
                confirm_password: str

            def login(password: str = "", api_key: str | None = None) -> None:
                print("Password should not be printed")

            ERRORS = {"password": "Password is too short", "token": "Could not validate credentials"}
        """),
        # OpenAPI examples and descriptions are documentation.
        Valid("""
            from fastapi import Body
            from pydantic import BaseModel, Field

            class UserCreate(BaseModel):
                email: str = Field(..., examples=["user@example.com"])
                password: str = Field(..., min_length=8, description="At least 8 characters")

                model_config = {
                    "json_schema_extra": {"examples": [{"email": "a@b.c", "password": "Str0ngP@ss!"}]}
                }

            def create(user: UserCreate = Body(openapi_examples={"ok": {"value": {"password": "Str0ngP@ss!"}}})):
                ...
        """),
        # A lexer's tokens are patterns, not credentials.
        Valid("""
            from pygments.lexer import RegexLexer
            from pygments.token import Name

            jsonnet_token = r"[^\\W\\d]\\w*"
            string_token = "x9Yq2"
        """),
    ]
    INVALID = [
        Invalid("""
            DIRECTUS_API_AGENT_EMAIL = "api-agent@tvo.local.nl"
            DIRECTUS_API_AGENT_PASSWORD = "SecureApiPassword123!"
        """, line=2, message="DIRECTUS_API_AGENT_PASSWORD", fixed="""
            import os
            DIRECTUS_API_AGENT_EMAIL = "api-agent@tvo.local.nl"
            DIRECTUS_API_AGENT_PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]
        """),
        Invalid('''
            """Check the Directus login."""
            from __future__ import annotations

            import requests

            auth_response = requests.post("http://localhost:8055/auth/login", json={
                "email": "api-agent@tvo.local.nl",
                "password": "SecureApiPassword123!"
            }, timeout=10)
        ''', line=8, fixed='''
            """Check the Directus login."""
            from __future__ import annotations

            import os
            import requests

            auth_response = requests.post("http://localhost:8055/auth/login", json={
                "email": "api-agent@tvo.local.nl",
                "password": os.environ["PASSWORD"]
            }, timeout=10)
        '''),
        Invalid("""
            import os
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_url: str = "http://localhost:8055"
                directus_token: str = "k7Qp2Zr9XbT4mW1v"
                secret_key: str = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"
                jwt_secret: str = "Hello FastAPI"
        """, count=3, fixed="""
            import os
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_url: str = "http://localhost:8055"
                directus_token: str = os.environ["DIRECTUS_TOKEN"]
                secret_key: str = os.environ["SECRET_KEY"]
                jwt_secret: str = os.environ["JWT_SECRET"]
        """),
        Invalid("""
            import os
            from directus_sdk_py import DirectusClient

            class Directus:
                def __init__(self) -> None:
                    self.apiKey = "sk_live_51HqLyjWDarjtT1zdp7dc"
                    self.client = DirectusClient(url="http://localhost:8055", token="AbC123xYz789QwE456")
        """, count=2, fixed="""
            import os
            from directus_sdk_py import DirectusClient

            class Directus:
                def __init__(self) -> None:
                    self.apiKey = os.environ["API_KEY"]
                    self.client = DirectusClient(url="http://localhost:8055", token=os.environ["TOKEN"])
        """),
        Invalid("""
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://tvo:Xk9#mP2vL@db:5432/tvo")
        """, line=3, message="connection URL"),
        Invalid("""
            import httpx

            HEADERS = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}
        """, line=3, message="Authorization"),
        Invalid("""
            def connect(host: str, db_pass: str = "hunter2") -> None:
                ...
        """, line=1, fixed="""
            import os
            def connect(host: str, db_pass: str = os.environ["DB_PASS"]) -> None:
                ...
        """),
        Invalid("""
            ADMIN_PIN = "4921"
        """, line=1, config={"secrets": {"extra-names": ["pin"]}}),
        Invalid("""
            def test_login(client):
                client.post("/auth/login", json={"password": "SecureApiPassword123!"})
        """, path="tests/test_auth.py", line=2, config={"secrets": {"check-tests": True}}),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.options = SecretOptions(ctx.settings, ctx.path, ctx.summary)
        self.done: set[int] = set()  # literals reported, or inside documentation

    def visit_Assign(self, node: cst.Assign) -> None:
        literal = _literal(node.value, through_field=True)
        for target in node.targets:
            name, fixable = _target(target.target)
            if name in _DOC_NAMES:
                self._skip_docs(node.value)
            elif literal is not None:
                self._check(literal, name, fixable)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            name, fixable = _target(node.target)
            if name in _DOC_NAMES:
                self._skip_docs(node.value)
            else:
                literal = _literal(node.value, through_field=True)
                if literal is not None:
                    self._check(literal, name, fixable)

    def visit_Param(self, node: cst.Param) -> None:
        literal = _literal(node.default)
        if literal is not None:
            self._check(literal, node.name.value, True)

    def visit_Arg(self, node: cst.Arg) -> None:
        keyword = node.keyword.value if node.keyword is not None else None
        if keyword in _DOC_NAMES:
            self._skip_docs(node.value)
        else:
            literal = _literal(node.value)
            if literal is not None:
                self._check(literal, keyword, True)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = node.key
        if isinstance(key, cst.SimpleString) and key.value[1:-1] in _DOC_NAMES:
            self._skip_docs(node.value)
        else:
            literal = _literal(node.value)
            if literal is not None:
                self._check(literal, names.string_value(key), True)

    def _skip_docs(self, value: cst.BaseExpression) -> None:
        """Documentation (OpenAPI examples, descriptions) holds example credentials."""
        self.done.update(
            id(n) for n in iter_nodes(value) if isinstance(n, (cst.SimpleString, cst.ConcatenatedString))
        )

    def _check(self, literal: cst.BaseExpression, name: str | None, fixable: bool) -> None:
        if self.options.skip_file or id(literal) in self.done:
            return
        secret_name = bool(name) and self.options.is_secret(name)
        if not secret_name and type(literal) is cst.SimpleString and not _MAYBE_EMBEDDED.search(literal.value):
            return  # cheap: most strings are neither
        value = names.string_value(literal)
        if not value:
            return
        if secret_name and not is_placeholder(value, name):
            message = f"Hard-coded credential assigned to `{name}`"
        else:
            kind = embedded_credential(value)
            if kind is None:
                return
            message = f"Hard-coded {kind}"
        self.done.add(id(literal))
        fix = None
        if name and fixable:
            env = _env_name(name)
            edits = [NodeEdit(literal, f'os.environ["{env}"]')]
            if self.ctx.summary.bindings.get("os") != "os":
                edits.append(_import_os(self.ctx.module))
            fix = self.ctx.fix(f'Read it from `os.environ["{env}"]`', *edits)
        self.ctx.report(literal, f"{message}: read it from the environment", fix=fix)


def _literal(value: cst.BaseExpression | None, through_field: bool = False) -> cst.BaseExpression | None:
    """The string literal a value is, or (for assignments) the default of a ``Field(...)``.

    A concatenation of more than a few literals is text (and evaluating a long one
    recurses once per part), not a credential."""
    kind = type(value)
    if kind is cst.SimpleString:
        return value
    if kind is cst.ConcatenatedString:
        right = value.right
        for _ in range(3):
            if type(right) is not cst.ConcatenatedString:
                return value
            right = right.right
        return None
    if through_field and kind is cst.Call and (names.dotted(value.func) or "").endswith("Field"):
        for arg in value.args:
            if arg.keyword is None or arg.keyword.value == "default":
                return _literal(arg.value)
    return None


def _target(target: cst.BaseExpression) -> tuple[str | None, bool]:
    """The name an assignment target gives its value, and whether the fix may rewrite it."""
    if isinstance(target, cst.Name):
        return target.value, True
    if isinstance(target, cst.Attribute):
        return target.attr.value, True
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index):
            environ = (names.dotted(target.value) or "").endswith("environ")
            return names.string_value(index.value), not environ
    return None, False


def _env_name(name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"\W+", "_", snake).strip("_").upper()


def _import_os(module: cst.Module) -> NodeEdit:
    """Insert ``import os`` before the first statement after the docstring and
    ``from __future__`` imports."""
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
            small = stmt.body[0]
            if index == 0 and isinstance(small, cst.Expr) and names.string_value(small.value) is not None:
                continue
            if isinstance(small, cst.ImportFrom) and names.dotted(small.module) == "__future__":
                continue
        decorators = getattr(stmt, "decorators", ())
        return NodeEdit(decorators[0] if decorators else stmt, "import os\n", mode="before")
    raise AssertionError("a reported literal is in a statement after the docstring")
