"""PF102: a credential written into the source as a string literal."""

from __future__ import annotations

import re

import libcst as cst

from pitfalls.core import names
from pitfalls.core.walker import iter_nodes, iter_statements
from pitfalls.rules._secrets import SecretOptions, words
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, PendingFix, Rule, RuleContext, Valid

# What a literal is, read from its text alone.
NOT_A_VALUE = "not a value"  # empty, a mask, a template, punctuation
PLACEHOLDER = "placeholder"  # stands for a secret, or is a word that is no secret
SECRET = "secret"  # looks like one

# Values that stand for a secret rather than being one: templates, and regular expressions
# (a lexer's `token` patterns).
_TEMPLATE = re.compile(r"<[^<>]+>|\{[^{}]*\}|%\(\w+\)s|%s|^\$[A-Za-z_]\w*$|\\[wdsWDSb]|\[\^|\(\?[:=!P<]")
_PLACEHOLDER_WORDS = frozenset(
    {"your", "here", "changeme", "changethis", "change", "replace", "placeholder", "example",
     "dummy", "fake", "sample", "todo", "fixme", "redacted", "masked", "hidden", "insert", "enter",
     "xxx", "none", "null", "undefined", "unset", "notset",
     # and the words of dummy values
     "test", "testing", "demo", "mock", "dev", "foo", "bar", "baz", "qux"}
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
# Letters only, one word or words joined by `.`, `_` or `-`: a sentinel (`"LDAP"`), a label
# (`"Password"`), a header value (`"true"`), a compound (`"MyPassword"`), a slug (`"xoxb-valid"`).
_LETTERS = re.compile(r"[^\W\d_]+(?:[._-][^\W\d_]+)*")
_DIGIT_RUNS = ("01234567890", "09876543210")
# Digits and symbols written for letters, to pass a password policy: `"!Ch4ng3Th1sP4ssW0rd!"`.
_LEET = str.maketrans("4310$5@7", "aeiossat")
# Credentials that give themselves away whatever they are assigned to.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:([^@/\s]+)@")
_AUTHORIZATION = re.compile(r"(?:Bearer|Basic|Token)\s+(\S{8,})", re.IGNORECASE)
_MAYBE_EMBEDDED = re.compile(r"://|bearer|basic|token", re.IGNORECASE)
# Keywords, keys and names whose value is documentation, not configuration.
_DOC_NAMES = frozenset(
    {"example", "examples", "openapi_examples", "json_schema_extra", "schema_extra", "description",
     "help", "title"}
)
# Identifiers joined by spaces (an OAuth `response_type` such as `"code id_token token"`):
# a list of names, not the name of a value.
_IDENTIFIER_LIST = re.compile(r"\w+(?:\s+\w+)+")

# Calls that sign, encrypt or verify with a key the application holds: (position, keyword)
# of the key. A placeholder there is the key the program really uses.
_SIGNING_CALLS = {
    "jwt.encode": (1, "key"), "jwt.decode": (1, "key"),
    "jose.jwt.encode": (1, "key"), "jose.jwt.decode": (1, "key"),
    "hmac.new": (0, "key"), "hmac.digest": (0, "key"),
    "cryptography.fernet.Fernet": (0, "key"),
    "starlette.middleware.sessions.SessionMiddleware": (1, "secret_key"),
    "fastapi_users.authentication.JWTStrategy": (0, "secret"),
    **{f"itsdangerous.{name}": (0, "secret_key") for name in (
        "Signer", "TimestampSigner", "Serializer", "TimedSerializer", "URLSafeSerializer",
        "URLSafeTimedSerializer",
    )},
}
# Environment look-ups with a default: (position of the default or None, and whether the
# fix may read `os.environ[...]` instead).
_LOOKUPS = {"os.getenv": (1, True), "os.environ.get": (1, True), "decouple.config": (1, False)}
# Objects called as `config("NAME", default=...)`.
_CONFIG_CLASSES = frozenset({"starlette.config.Config", "decouple.Config", "decouple.AutoConfig"})
_CALL_NAMES = frozenset(
    {q.rpartition(".")[2] for q in (*_SIGNING_CALLS, *_LOOKUPS)} | {"get", "add_middleware"}
)
_SETTINGS_BASES = frozenset(
    {"pydantic_settings.BaseSettings", "pydantic.BaseSettings", "pydantic.env_settings.BaseSettings",
     "pydantic_settings.main.BaseSettings"}
)


def value_shape(value: str, name: str = "") -> str:
    """What a literal's text is: ``NOT_A_VALUE``, a ``PLACEHOLDER`` (it stands for a
    secret or is a word, a sentinel, a label, an identifier, a number-only dummy) or what
    looks like a ``SECRET`` (letters mixed with digits or symbols, random letters, a PIN)."""
    value = value.strip()
    if not value or len(set(value)) == 1 or _TEMPLATE.search(value) or not words(value):
        return NOT_A_VALUE
    if is_placeholder(value, name) or is_placeholder(value.translate(_LEET), name):
        return PLACEHOLDER
    if _LETTERS.fullmatch(value) and not _random_letters(value):
        return PLACEHOLDER
    if value.isdigit() and (len(value) <= 3 or any(value in run for run in _DIGIT_RUNS)):
        return PLACEHOLDER
    return SECRET


def is_placeholder(value: str, name: str = "") -> bool:
    """A value that stands for a credential: prose, a placeholder, the name of the secret
    itself, or an identifier such as an event or enum value."""
    parts = words(value)
    if not _PLACEHOLDER_WORDS.isdisjoint(parts):
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


def _random_letters(value: str) -> bool:
    """Letters drawn at random rather than written: long, and mostly not in runs of four
    or more letters of one case (`kXqPzLmNwRtYbVcD`, not `ToTheMoonAndBack`)."""
    return len(value) >= 16 and 2 * sum(len(w) for w in words(value) if len(w) >= 4) < len(value)


def embedded_credential(value: str) -> str | None:
    """What kind of credential a value carries whatever it is called, if any."""
    if "://" in value and "@" in value and len(value.split()) == 1:  # a URL, not text quoting one
        match = _URL_PASSWORD.search(value)
        if match and value_shape(match.group(1)) == SECRET:
            return "password in a connection URL"
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match and value_shape(match.group(1)) == SECRET:
        return "token in an `Authorization` value"
    return None


class HardcodedCredential(Rule):
    """
    ## What it does
    Checks for a credential written into the source as a string literal:

    - a value that looks like a secret (letters mixed with digits or symbols, random-looking
      letters, a PIN) assigned to a name, attribute, keyword argument, parameter default,
      subscript or dict key that names a secret (`password`, `passwd`, `secret`, `token`,
      `api_key`, `SECRET_KEY`, `client_secret`, `credentials`…), or given as the default of
      an environment look-up of such a variable (`os.getenv("API_TOKEN", "…")`,
      `os.environ.get`, `decouple.config`, starlette's `Config`);
    - any value at all, placeholders included (`"your-secret-key-here"`, `"dev"`), that is
      the key of a signing call (`jwt.encode`/`jwt.decode`, `hmac.new`, `itsdangerous`
      serializers, `SessionMiddleware`'s `secret_key`, `Fernet`, fastapi-users'
      `JWTStrategy`), written there, held by a module constant or a parameter default, or
      given as an environment look-up's default; and any value that is the default (of a
      `BaseSettings` field or an environment look-up) of a key the application signs or
      encrypts with itself (`SECRET_KEY`, `JWT_SECRET`, `*_SIGNING_KEY`,
      `*_ENCRYPTION_KEY`, `SESSION_SECRET`). The program signs with that value whenever the
      variable is unset, so anyone who reads the source can forge what it signs;
    - a literal connection URL whose password looks like a secret
      (`scheme://user:Xk9#mP2vL@host`) or a literal `Bearer`/`Basic` authorization value,
      whatever they are assigned to.

    A name is judged on its word parts: it names a secret when it *ends* in a secret word,
    so `password_reset_url`, `token_type`, `token_count`, `max_tokens`, `tokenizer`,
    `secret_santa`, `hashed_password` and `USER_PASSWORD_CHANGED` are not secrets, nor is a
    name that says its value is not a real one (`fake_wallet_secret`, `TEST_PASSWORD`,
    `dummy_token`), nor a dict key that is a list of identifiers (the OAuth response type
    `"code id_token token"`). `[tool.pitfalls.secrets] extra-names` adds words (e.g.
    `["pin", "otp"]`).

    These values do not look like credentials and are not reported on a secret's name: an
    empty string, a mask (`"****"`), a template (`"<your-token>"`, `"{password}"`,
    `"${DB_PASSWORD}"`), a regular expression, a message or label (three words or more, or
    two with a secret word: `"Invalid token"`), a placeholder or dummy word (`"changeme"`,
    `"your-secret-key-here"`, `"dummy"`, `"test123"`, `"foo"`, also in digits and symbols:
    `"!Ch4ng3Th1sP4ssW0rd!"`), the secret's own name (`"password"`, `"api_key"`,
    `"password123"`), identifiers such as event, enum, route or environment variable names
    (`"user.password_changed"`, `"refresh_token"`, `"/reset-password"`, `"X-API-Key"`,
    `"DB_PASSWORD"`), a word or compound of letters only, which is a sentinel (`"password":
    "LDAP"` marking a user of an external identity provider), a label (`"Password"`), a
    header value (`"true"`), a documented default (`POSTGRES_PASSWORD: str = "mealie"`,
    `"MyPassword"`) or a slug (`"xoxb-valid"`), and a number-only dummy (`"123"`,
    `"123456"`). A two-word value without a secret word (`SECRET_KEY = "Hello FastAPI"`) is
    reported.

    Also not reported: values read at run time (`os.environ[...]`, `os.getenv("X")`,
    `Field(default_factory=...)`), constants typed `Literal[...]` (also in `Final[...]`: a
    type's values, such as a lexer's tokens), documentation (`examples=`, `description=`,
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

    A signing key's default is worse than a password's: a deployment that forgets the
    variable starts, and accepts any token signed with the key printed in the source.

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
    The fix is offered only where the variable the value belongs to is certain, and it is
    unsafe: the program fails until the variable is set.

    - A module constant named like an environment variable (`DIRECTUS_API_AGENT_PASSWORD =
      "…"`) reads `os.environ["DIRECTUS_API_AGENT_PASSWORD"]` (and `import os` is added),
      unless the module sets that variable itself (a script preparing the environment of
      what it imports).
    - `os.getenv("X", "…")` or `os.environ.get("X", "…")` assigned to a variable reads
      `os.environ["X"]`; `config("X", default="…")` loses its default.
    - A pydantic `BaseSettings` field loses its default (`secret_key: str`): the settings
      class reads the environment and its `.env` file itself, while `os.environ[...]` in the
      class body would run at import and raise `KeyError` even when `.env` holds the value.

    There is no fix elsewhere: a keyword argument, dict key, attribute, class attribute or
    parameter default would read a variable named after its key, a guess that can point
    the code at another program's or the application's own variable (a test configuration
    reading the production password); a parameter default would also be read at import.
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
        # OAuth response types as dict keys: identifier lists, and a word as the value.
        Valid("""
            from typing import Literal

            HYBRID_RESPONSE_TYPES = ["code id_token", "code token", "code id_token token"]
            DEFAULT_RESPONSE_MODE: dict[str, Literal["query", "fragment"]] = {
                "code": "query",
                "code id_token": "fragment",
                "code token": "fragment",
                "code id_token token": "fragment",
            }
        """),
        # Sentinels marking users of an external identity provider, labels, header values.
        Valid("""
            def create_ldap_user(db, attributes: dict) -> None:
                db.users.create({"username": attributes["uid"], "password": "LDAP", "auth_method": "ldap"})
                db.users.create({"username": attributes["sub"], "password": "OIDC", "auth_method": "oidc"})

            LABELS = {"password": "Passwort", "api_key": "Schluessel", "token": "Jeton"}
            CORS_HEADERS = {"Access-Control-Allow-Credentials": "true"}
        """),
        # Settings defaults the environment overrides: words, a documented first-run default.
        Valid("""
            import os

            from pydantic_settings import BaseSettings

            class PostgresProvider(BaseSettings):
                POSTGRES_USER: str = "mealie"
                POSTGRES_PASSWORD: str = "mealie"
                POSTGRES_SERVER: str = "postgres"

            class AppSettings(BaseSettings):
                _DEFAULT_EMAIL: str = "changeme@example.com"
                _DEFAULT_PASSWORD: str = "MyPassword"

            DB_PASSWORD = os.getenv("DB_PASSWORD", "postgres")
        """),
        # Dummy values: a docs script preparing the environment, a disabled client, a test
        # plugin, a fake wallet's seed.
        Valid("""
            import os

            from pydantic import BaseModel, Field
            from slack_bolt import App

            DISPATCH_JWT_SECRET = "test"
            DATABASE_CREDENTIALS = "bar:bar"
            DISPATCH_ENCRYPTION_KEY = "baz"
            os.environ["DISPATCH_JWT_SECRET"] = DISPATCH_JWT_SECRET

            app = App(token="xoxb-valid", request_verification_enabled=False, token_verification_enabled=False)

            class TestConversationPlugin:
                configuration = {"api_bot_token": "123"}

            class FakeWalletFundingSource(BaseModel):
                fake_wallet_secret: str = Field(default="ToTheMoon1")
        """),
        # A placeholder written in digits and symbols, as the default of a look-up.
        Valid("""
            from pydantic_settings import BaseSettings
            from starlette.config import Config

            config = Config(".env")

            class FirstUserSettings(BaseSettings):
                ADMIN_USERNAME: str = config("ADMIN_USERNAME", default="admin")
                ADMIN_PASSWORD: str = config("ADMIN_PASSWORD", default="!Ch4ng3Th1sP4ssW0rd!")
        """),
        # Lexical token constants, typed or not.
        Valid("""
            from typing import Final, Literal

            PK_TOKEN = "token"
            ASSIGN_TOKEN: Final = ":="
            INT_TOKEN: Final[Literal["INT_2"]] = "INT_2"
        """),
    ]
    INVALID = [
        # Tuple-unpacked credentials (reported, no fix: the variable would be a guess).
        Invalid("""
            DIRECTUS_EMAIL, DIRECTUS_PASSWORD = "agent@example.com", "Xk9#mQ2$vL7p"
        """, line=1, count=1),
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
        ''', line=8),
        Invalid("""
            import os
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_url: str = "http://localhost:8055"
                directus_token: str = "k7Qp2Zr9XbT4mW1v"
                secret_key: str = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"
                jwt_secret: str = "Hello FastAPI"
                session_secret: str = Field(default="change-me", description="Signs the session cookie")
        """, count=4, fixed="""
            import os
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                directus_url: str = "http://localhost:8055"
                directus_token: str
                secret_key: str
                jwt_secret: str
                session_secret: str = Field(description="Signs the session cookie")
        """),
        Invalid("""
            import os
            from directus_sdk_py import DirectusClient

            class Directus:
                def __init__(self) -> None:
                    self.apiKey = "sk_live_51HqLyjWDarjtT1zdp7dc"
                    self.client = DirectusClient(url="http://localhost:8055", token="AbC123xYz789QwE456")
        """, count=2),
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
        """, line=1),
        Invalid("""
            ADMIN_PIN = "4921"
        """, line=1, config={"secrets": {"extra-names": ["pin"]}}),
        Invalid("""
            def test_login(client):
                client.post("/auth/login", json={"password": "SecureApiPassword123!"})
        """, path="tests/test_auth.py", line=2, config={"secrets": {"check-tests": True}}),
        # Environment look-ups' defaults: a secret-looking one, and a signing key's.
        Invalid("""
            import os

            from decouple import config

            API_TOKEN = os.getenv("API_TOKEN", "tk_9f8e7d6c5b4a")
            SECRET_KEY = os.environ.get("SECRET_KEY", "dev-secret-key")
            JWT_SECRET = config("JWT_SECRET", default="supersecret")
        """, count=3, message="default for", fixed="""
            import os

            from decouple import config

            API_TOKEN = os.environ["API_TOKEN"]
            SECRET_KEY = os.environ["SECRET_KEY"]
            JWT_SECRET = config("JWT_SECRET")
        """),
        # Placeholders the code really signs with.
        Invalid("""
            import jwt

            SECRET_KEY = "your-secret-key-here"

            def create_token(data: dict) -> str:
                return jwt.encode(data, SECRET_KEY, algorithm="HS256")
        """, line=3, message="the key of `jwt.encode`", fixed="""
            import os
            import jwt

            SECRET_KEY = os.environ["SECRET_KEY"]

            def create_token(data: dict) -> str:
                return jwt.encode(data, SECRET_KEY, algorithm="HS256")
        """),
        Invalid("""
            import hmac

            from jose import jwt

            def read_token(token: str) -> dict:
                return jwt.decode(token, key="changeme", algorithms=["HS256"])

            def sign(body: bytes, key: str = "dev") -> str:
                return hmac.new(key.encode(), body, "sha256").hexdigest()
        """, count=2, message="key"),
        Invalid("""
            from fastapi import FastAPI
            from starlette.middleware.sessions import SessionMiddleware

            app = FastAPI()
            app.add_middleware(SessionMiddleware, secret_key="some-random-string")
        """, line=5, message="SessionMiddleware"),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.options = SecretOptions(ctx.settings, ctx.path, ctx.summary)
        self.done: set[int] = set()  # literals reported, or inside documentation
        self.constants: dict[int, str] = {}  # module-level `NAME = "literal"`: the literal's id -> NAME
        self.assigned_lookups: set[int] = set()  # `x = os.getenv(...)` outside a class body
        self.settings_classes: dict[int, bool] = {}
        self.provided: frozenset[str] | None = None

    # -- where literals are -------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            pairs = _unpacked(target.target, node.value)
            for name, value in pairs:
                # Unpacked: no fix (which variable the environment holds it in is a guess).
                self._assigned(name, value, None, fixable=pairs == [(target.target, node.value)])

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and not _is_literal_type(node.annotation.annotation):
            self._assigned(node.target, node.value, node)

    def _assigned(
        self, target: cst.BaseExpression, value: cst.BaseExpression, annotated: cst.AnnAssign | None, *, fixable: bool = True
    ) -> None:
        name = _target(target)
        if name in _DOC_NAMES:
            self._skip_docs(value)
            return
        if type(value) is cst.Call and self.ctx.class_body is None:
            self.assigned_lookups.add(id(value))
        literal = _literal(value, through_field=True)
        if literal is None:
            return
        if self._in_settings_class():
            # A field default: what the settings use when the environment does not say.
            field = annotated is not None and isinstance(target, cst.Name)
            self._check(literal, name, default=True, fix=(_drop_default, annotated, literal) if field else None)
        elif isinstance(target, cst.Name) and self.ctx.at_module_level:
            self.constants[id(literal)] = target.value
            self._check(literal, name, fix=(_read_environ, target.value, literal) if fixable else None)
        else:
            self._check(literal, name)

    def visit_Param(self, node: cst.Param) -> None:
        literal = _literal(node.default)
        if literal is not None:
            self._check(literal, node.name.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        keyword = node.keyword.value if node.keyword is not None else None
        if keyword in _DOC_NAMES:
            self._skip_docs(node.value)
        else:
            literal = _literal(node.value)
            if literal is not None:
                self._check(literal, keyword)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = names.string_value(node.key)
        if key in _DOC_NAMES:
            self._skip_docs(node.value)
            return
        literal = _literal(node.value)
        if literal is not None:
            self._check(literal, None if key is None or _IDENTIFIER_LIST.fullmatch(key) and "_" in key else key)

    def visit_Call(self, node: cst.Call) -> None:
        if self.options.skip_file:
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value not in _CALL_NAMES:
            return
        qualname = self.ctx.qualified_name(func)
        if qualname in _SIGNING_CALLS:
            self._signing_key(node, qualname, *_SIGNING_CALLS[qualname])
        elif isinstance(func, cst.Attribute) and func.attr.value == "add_middleware" and node.args:
            middleware = self.ctx.qualified_name(node.args[0].value)
            if middleware in _SIGNING_CALLS:  # add_middleware(SessionMiddleware, secret_key=...)
                self._signing_key(node, middleware, None, _SIGNING_CALLS[middleware][1])
        else:
            self._fallback(node, qualname)

    def _skip_docs(self, value: cst.BaseExpression) -> None:
        """Documentation (OpenAPI examples, descriptions) holds example credentials."""
        self.done.update(
            id(n) for n in iter_nodes(value) if isinstance(n, (cst.SimpleString, cst.ConcatenatedString))
        )

    # -- defaults of environment variables, and signing keys -----------------------------

    def _lookup(self, call: cst.Call, qualname: str | None) -> tuple[str, cst.Arg | None, bool] | None:
        """An environment look-up: the variable's name, the default's argument, and whether
        ``os.environ[...]`` reads the same variable."""
        if qualname in _LOOKUPS:
            position, environ = _LOOKUPS[qualname]
        elif type(call.func) is cst.Name and self._is_config_object(call.func.value):
            position, environ = None, False  # Config(".env")("NAME", cast, default)
        else:
            return None
        first = call.args[0] if call.args else None
        key = names.string_value(first.value) if first is not None and first.keyword is None else None
        return (key, _argument(call, position, "default"), environ) if key else None

    def _is_config_object(self, name: str) -> bool:
        value = self.ctx.value_of(name)
        return isinstance(value, cst.Call) and self.ctx.qualified_name(value.func) in _CONFIG_CLASSES

    def _fallback(self, call: cst.Call, qualname: str | None, signing: str | None = None) -> None:
        """``os.getenv("JWT_SECRET", "literal")``: the literal is what the program runs with
        whenever the variable is unset."""
        lookup = self._lookup(call, qualname)
        if lookup is None or lookup[1] is None:
            return
        key, default, environ = lookup
        literal = _literal(default.value)
        if literal is not None:
            fix = (_read_lookup, call, default, environ)
            self._check(literal, key, default=True, lookup=True, signing=signing, fix=fix)

    def _signing_key(self, call: cst.Call, func: str, position: int | None, keyword: str) -> None:
        """The key of ``jwt.encode(...)``, ``hmac.new(...)``…: a literal, a name holding one
        (a module constant, a parameter's default) or an environment look-up's default."""
        arg = _argument(call, position, keyword)
        if arg is None:
            return
        expr: cst.BaseExpression | None = _unwrap(arg.value)
        name = None
        if isinstance(expr, cst.Name):
            name = expr.value
            expr = self.ctx.value_of(name)
            if expr is None:
                param = self.ctx.parameter(name)
                expr = param.default if param is not None else None
            expr = _unwrap(expr) if expr is not None else None
        if isinstance(expr, cst.Call):
            self._fallback(expr, self.ctx.qualified_name(expr.func), signing=func)
            return
        literal = _literal(expr)
        if literal is not None:
            constant = self.constants.get(id(literal))
            self._check(literal, name, signing=func, fix=(_read_environ, constant, literal) if constant else None)

    # -- the check ------------------------------------------------------------------------

    def _check(
        self,
        literal: cst.BaseExpression,
        name: str | None,
        *,
        default: bool = False,
        lookup: bool = False,
        signing: str | None = None,
        fix: tuple | None = None,
    ) -> None:
        """Report ``literal`` given to ``name``: a value that looks like a secret; any value
        at all when it is the key of a signing call, or the default of a key the application
        signs with (``default``: a settings field's or an environment look-up's)."""
        if self.options.skip_file or id(literal) in self.done:
            return
        secret_name = bool(name) and self.options.is_secret(name)
        if not (secret_name or signing) and type(literal) is cst.SimpleString:
            if not _MAYBE_EMBEDDED.search(literal.value):
                return  # cheap: most strings are neither
        value = _text(literal)
        if not value:
            return
        shape = value_shape(value, name or "") if secret_name or signing else NOT_A_VALUE
        subject = f"default for `{name}`" if lookup else f"credential assigned to `{name}`"
        signing_default = default and shape == PLACEHOLDER and secret_name and self.options.is_signing_key(name)
        if signing is not None and shape != NOT_A_VALUE:
            key_of = f"the key of `{signing}`"
            message = f"Hard-coded {subject}, {key_of}" if name else f"Hard-coded key passed to `{signing}`"
        elif secret_name and (shape == SECRET or signing_default):
            message = f"Hard-coded {subject}"
        else:
            kind = embedded_credential(value)
            if kind is None:
                return
            message = f"Hard-coded {kind}"
        self.done.add(id(literal))
        pending = fix[0](self, *fix[1:]) if fix is not None else None
        self.ctx.report(literal, f"{message}: read it from the environment", fix=pending)

    def _in_settings_class(self) -> bool:
        """Directly in the body of a pydantic ``BaseSettings`` class."""
        classdef = self.ctx.class_body
        if classdef is None:
            return False
        known = self.settings_classes.get(id(classdef))
        if known is None:
            qualname = self.ctx.class_qualname(classdef)
            known = qualname is not None and self.ctx.index.is_subclass(qualname, _SETTINGS_BASES)
            self.settings_classes[id(classdef)] = known
        return known

    def _provides(self, variable: str) -> bool:
        """Whether the module sets the environment variable itself (a script preparing the
        environment of what it imports): reading it there would read nothing."""
        if self.provided is None:
            self.provided = frozenset(_environ_writes(self.ctx.module))
        return variable in self.provided or "*" in self.provided


# -- fixes: only where the variable the value belongs to is certain ---------------------------


def _read_environ(rule: HardcodedCredential, name: str, literal: cst.BaseExpression) -> PendingFix | None:
    """A module constant named like its environment variable (`DIRECTUS_API_AGENT_PASSWORD`)
    reads that variable; other names would be a guess (`token=` is not the `TOKEN` variable)."""
    if name != _env_name(name) or rule._provides(name):
        return None
    read = f'os.environ["{name}"]'
    return rule.ctx.fix(f"Read it from `{read}`", *_with_os(rule.ctx, NodeEdit(literal, read)))


def _read_lookup(rule: HardcodedCredential, call: cst.Call, default: cst.Arg, environ: bool) -> PendingFix | None:
    """``os.getenv("X", "literal")`` reads ``os.environ["X"]``; ``config("X", default=...)``
    loses its default (it then raises when the variable is unset)."""
    key = call.args[0].value
    if id(call) not in rule.assigned_lookups or rule._provides(names.string_value(key) or ""):
        return None
    if environ:
        read = f"os.environ[{rule.ctx.code_for(key)}]"
        return rule.ctx.fix(f"Read it from `{read}`", *_with_os(rule.ctx, NodeEdit(call, read)))
    return rule.ctx.fix("Remove the default", _drop_argument(call, default))


def _drop_default(rule: HardcodedCredential, stmt: cst.AnnAssign, literal: cst.BaseExpression) -> PendingFix:
    """A settings field without a default: the settings class reads the environment (and
    its `.env` file) itself; `os.environ[...]` in the class body would run at import."""
    value = stmt.value
    if value is literal:
        edit = NodeEdit.span((stmt.annotation, "end"), (value, "end"))
    else:  # Field(default="literal", ...)
        assert isinstance(value, cst.Call)
        edit = _drop_argument(value, next(arg for arg in value.args if arg.value is literal))
    return rule.ctx.fix("Remove the default: the settings read it from the environment", edit)


def _drop_argument(call: cst.Call, arg: cst.Arg) -> NodeEdit:
    """Delete one argument as text, keeping the call's layout (and its trailing comma)."""
    index = next(i for i, a in enumerate(call.args) if a is arg)
    if index + 1 < len(call.args):
        return NodeEdit.span((arg, "start"), (call.args[index + 1], "start"))
    if index:
        return NodeEdit.span((call.args[index - 1].value, "end"), (arg.value, "end"))
    return NodeEdit(arg, "")


def _with_os(ctx: RuleContext, edit: NodeEdit) -> list[NodeEdit]:
    if ctx.summary.bindings.get("os") == "os":
        return [edit]
    return [edit, _import_os(ctx.module)]


def _environ_writes(module: cst.Module) -> set[str]:
    """Variables the module's statements set: ``os.environ["X"] = ...``,
    ``os.environ.setdefault("X", ...)``; ``"*"`` for ``os.environ.update(...)`` or a computed key."""
    found: set[str] = set()
    for line in iter_statements(module):
        if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            continue
        for small in line.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    sub = target.target
                    if isinstance(sub, cst.Subscript) and (names.dotted(sub.value) or "").endswith("environ"):
                        found.add(_target(sub) or "*")
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if isinstance(func, cst.Attribute) and (names.dotted(func.value) or "").endswith("environ"):
                    if func.attr.value == "update":
                        found.add("*")
                    elif func.attr.value == "setdefault" and small.value.args:
                        found.add(names.string_value(small.value.args[0].value) or "*")
    return found


# -- reading the tree ---------------------------------------------------------------------------


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


def _text(literal: cst.BaseExpression) -> str | None:
    """A literal's value; a bytes literal's as Latin-1 text (`hmac.new(b"key", ...)`)."""
    value = names.evaluated(literal) if isinstance(literal, cst.SimpleString) else None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return names.string_value(literal)


def _unwrap(expr: cst.BaseExpression) -> cst.BaseExpression:
    """The text a key is made from: ``KEY.encode()``, ``bytes(KEY, "utf-8")``, ``str(KEY)``."""
    for _ in range(3):
        if not isinstance(expr, cst.Call):
            break
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value == "encode":
            expr = func.value
        elif isinstance(func, cst.Name) and func.value in ("bytes", "str") and expr.args:
            expr = expr.args[0].value
        else:
            break
    return expr


def _argument(call: cst.Call, position: int | None, keyword: str) -> cst.Arg | None:
    """The argument passed as ``keyword`` or at ``position`` (positionally)."""
    for index, arg in enumerate(call.args):
        if arg.keyword is not None:
            if arg.keyword.value == keyword:
                return arg
        elif arg.star:
            return None
        elif index == position:
            return arg
    return None


def _is_literal_type(annotation: cst.BaseExpression) -> bool:
    """``Literal[...]`` (also in ``Final[...]``): the value is one of a type's constants."""
    return any(name.rpartition(".")[2] == "Literal" for name in names.names_in_annotation(annotation))


def _target(target: cst.BaseExpression) -> str | None:
    """The name an assignment target gives its value."""
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    if isinstance(target, cst.Subscript) and len(target.slice) == 1:
        index = target.slice[0].slice
        if isinstance(index, cst.Index):
            return names.string_value(index.value)
    return None


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


def _unpacked(target: cst.BaseExpression, value: cst.BaseExpression) -> list[tuple[cst.BaseExpression, cst.BaseExpression]]:
    """(target, value) pairs of an assignment, tuple unpacking of a literal tuple included:
    ``user, password = "admin", "s3cr3t!9"``."""
    if type(target) in (cst.Tuple, cst.List) and type(value) in (cst.Tuple, cst.List):
        targets, values = target.elements, value.elements
        if len(targets) == len(values) and not any(isinstance(e, cst.StarredElement) for e in (*targets, *values)):
            return [pair for t, v in zip(targets, values) for pair in _unpacked(t.value, v.value)]
        return []
    return [(target, value)]
