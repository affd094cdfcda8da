"""Which top-level modules declared distributions provide (for PF303's third-party half).

Nothing is imported or installed: the checked project's environment is not ours to read.
A distribution provides the module of its own name (``sqlalchemy-utils`` ->
``sqlalchemy_utils``), the modules this table names where they differ, the modules of the
distributions it is known to require (``fastapi`` brings ``starlette`` and ``pydantic``:
importing them never fails where ``fastapi`` is installed), the namespace or host its name
starts with (``google-cloud-storage`` -> ``google``, ``pyln-client`` -> ``pyln``), and, for
extras, the modules the extra is named after (``dramatiq[redis]`` -> ``redis``) or this
table lists.

The table covers the FastAPI / SQLAlchemy / pydantic stack and the well-known names that
differ from their distribution's; a module it does not know is reported only when no
declared name matches it, so a gap in the table can only make the rule report a module
whose distribution is named differently. Extend it when real code shows one.
"""

from __future__ import annotations

import functools
import re

# Distribution (PEP 503 name) -> its top-level modules, where they are not its own name.
MODULES: dict[str, tuple[str, ...]] = {
    "argon2-cffi": ("argon2",), "attrs": ("attr", "attrs"), "beautifulsoup4": ("bs4",),
    "discord-py": ("discord",), "dnspython": ("dns",), "google-api-python-client": ("googleapiclient",),
    "grpcio": ("grpc",), "grpcio-tools": ("grpc_tools",), "lark-parser": ("lark",), "markdown-it-py": ("markdown_it",),
    "msgpack-python": ("msgpack",), "mysqlclient": ("MySQLdb",), "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",), "pillow": ("PIL",), "protobuf": ("google",), "psycopg-binary": ("psycopg",),
    "psycopg2-binary": ("psycopg2",), "pyasn1-modules": ("pyasn1_modules",), "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",), "pygithub": ("github",), "pyhumps": ("humps",), "pyjwt": ("jwt",),
    "pymongo": ("pymongo", "bson", "gridfs"), "pymupdf": ("fitz", "pymupdf"), "pynacl": ("nacl",),
    "pyopenssl": ("OpenSSL",), "pyserial": ("serial",), "pysocks": ("socks",), "python-dateutil": ("dateutil",),
    "python-dotenv": ("dotenv",), "python-gitlab": ("gitlab",), "python-jose": ("jose",),
    "python-json-logger": ("pythonjsonlogger",), "python-keycloak": ("keycloak",), "python-ldap": ("ldap",),
    "python-levenshtein": ("Levenshtein",), "python-magic": ("magic",), "python-multipart": ("multipart", "python_multipart"),
    "python-slugify": ("slugify",), "python-socketio": ("socketio",), "python-telegram-bot": ("telegram",),
    "python-ulid": ("ulid",), "pyyaml": ("yaml",), "pyzmq": ("zmq",), "ruamel-yaml": ("ruamel",),
    "scikit-learn": ("sklearn",), "setuptools": ("setuptools", "pkg_resources"), "text-unidecode": ("text_unidecode",),
    "ulid-py": ("ulid",), "pydantic-to-typescript": ("pydantic2ts",), "pydantic-to-typescript2": ("pydantic2ts",), "websocket-client": ("websocket",), "djangorestframework": ("rest_framework",),
    "atlassian-python-api": ("atlassian",), "ingredient-parser-nlp": ("ingredient_parser",),
}

# Distribution -> the distributions it requires (those every installation brings).
REQUIRES: dict[str, tuple[str, ...]] = {
    "fastapi": ("starlette", "pydantic", "typing-extensions"),
    "starlette": ("anyio", "typing-extensions"),
    "pydantic": ("pydantic-core", "typing-extensions", "annotated-types", "typing-inspection"),
    "pydantic-settings": ("pydantic", "python-dotenv", "typing-inspection"),
    "pydantic-extra-types": ("pydantic",),
    "sqlmodel": ("sqlalchemy", "pydantic"),
    "sqlalchemy": ("typing-extensions",),
    "alembic": ("sqlalchemy", "mako", "typing-extensions"),
    "sqladmin": ("starlette", "sqlalchemy", "wtforms", "jinja2", "python-multipart"),
    "sqlalchemy-utils": ("sqlalchemy",),
    "uvicorn": ("click", "h11"),
    "gunicorn": ("packaging",),
    "httpx": ("httpcore", "anyio", "certifi", "idna"),
    "httpcore": ("h11", "certifi"),
    "anyio": ("idna", "sniffio"),
    "requests": ("urllib3", "certifi", "idna", "charset-normalizer"),
    "jinja2": ("markupsafe",),
    "mako": ("markupsafe",),
    "wtforms": ("markupsafe",),
    "flask": ("werkzeug", "jinja2", "itsdangerous", "click", "blinker"),
    "celery": ("kombu", "billiard", "vine", "click", "python-dateutil"),
    "kombu": ("amqp", "vine"),
    "dramatiq": ("prometheus-client",),
    "aiohttp": ("yarl", "multidict", "aiosignal", "frozenlist", "attrs", "aiohappyeyeballs"),
    "typer": ("click", "rich", "typing-extensions", "shellingham"),
    "rich": ("pygments", "markdown-it-py"),
    "boto3": ("botocore", "s3transfer", "jmespath"),
    "botocore": ("urllib3", "python-dateutil", "jmespath"),
    "pandas": ("numpy", "python-dateutil", "pytz", "tzdata"),
    "python-jose": ("ecdsa", "rsa", "pyasn1"),
    "email-validator": ("dnspython", "idna"),
    "pytest": ("iniconfig", "packaging", "pluggy"),
    "pytest-asyncio": ("pytest",),
    "pytest-cov": ("pytest", "coverage"),
    "pytest-mock": ("pytest",),
    "fastapi-users": ("fastapi", "pwdlib", "pyjwt", "python-multipart", "email-validator"),
    "fastapi-users-db-sqlalchemy": ("fastapi-users", "sqlalchemy"),
    "sentry-sdk": ("urllib3", "certifi"),
    "google-auth": ("cachetools", "pyasn1-modules", "rsa"),
    "psycopg": ("typing-extensions",),
    "asyncpg": (), "redis": (), "arq": ("redis", "click"),
    "httpx-oauth": ("httpx",),
    "pwdlib": (),
    "itsdangerous": (),
    "apscheduler": ("tzlocal",),
    "slack-bolt": ("slack-sdk",),
    "jsonschema": ("attrs", "referencing", "rpds-py", "jsonschema-specifications"),
    "openai": ("httpx", "pydantic", "anyio", "distro", "jiter", "sniffio", "tqdm", "typing-extensions"),
    "tenacity": (),
}

# Distribution[extra] -> the distributions the extra adds (besides one named like the extra).
EXTRAS: dict[tuple[str, str], tuple[str, ...]] = {
    ("fastapi", "standard"): ("uvicorn", "fastapi-cli", "httpx", "jinja2", "python-multipart", "email-validator"),
    ("fastapi", "all"): ("uvicorn", "httpx", "jinja2", "python-multipart", "itsdangerous", "pyyaml", "ujson", "orjson", "email-validator", "pydantic-settings", "pydantic-extra-types"),
    ("uvicorn", "standard"): ("uvloop", "httptools", "websockets", "watchfiles", "python-dotenv", "pyyaml"),
    ("pydantic", "email"): ("email-validator",),
    ("sqlalchemy", "asyncio"): ("greenlet",),
    ("passlib", "bcrypt"): ("bcrypt",),
    ("python-jose", "cryptography"): ("cryptography",),
    ("pwdlib", "argon2"): ("argon2-cffi",),
    ("psycopg", "binary"): ("psycopg-binary",),
    ("coverage", "toml"): ("tomli",),
}


def normal(name: str) -> str:
    """PEP 503's normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=64)
def provided_modules(requirements: frozenset[str]) -> frozenset[str]:
    """The top-level module names (lower case) that installing ``requirements`` (normalised
    names, ``name[extra]`` for extras) makes importable, as far as this table knows
    (remembered: every folder under one dependency file asks the same)."""
    seen: set[str] = set()
    pending = list(requirements)
    while pending:
        entry = pending.pop()
        if entry in seen:
            continue
        seen.add(entry)
        name, _, extra = entry.partition("[")
        if extra:
            extra = normal(extra.rstrip("]"))
            pending += [extra, *EXTRAS.get((name, extra), ())]
        pending += REQUIRES.get(name, ())
    modules: set[str] = set()
    for entry in seen:
        name = entry.partition("[")[0]
        modules.add(name.replace("-", "_"))
        modules.update(m.lower() for m in MODULES.get(name, ()))
        # `google-cloud-storage` -> `google`, `pyln-client` -> `pyln`: a namespace package,
        # or the host a plugin distribution requires (`sqlalchemy-utils` -> `sqlalchemy`).
        modules.add(name.split("-")[0])
    return frozenset(modules)
