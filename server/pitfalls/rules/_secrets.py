"""What names a secret, shared by the credential rules (PF102, PF104).

A name is judged on its word parts (``DIRECTUS_API_AGENT_PASSWORD``, ``apiKey`` and
``client-secret`` split on case changes, digits and separators): it names a secret when it
*ends* in a secret term (``password``, ``api key``…), as English compounds name what they
are by their last word. So ``password_reset_url``, ``token_type``, ``token_count``,
``secret_santa`` and ``TOKEN_REFRESH`` are not secrets, nor are ``tokenizer`` or
``max_tokens`` (other words), nor ``hashed_password``, ``invalid_token`` or ``eos_token``
(a qualifier that makes it something else), nor ``fake_wallet_secret`` or
``TEST_PASSWORD`` (a name that says the value is not a real one).

Of the secrets, the keys an application signs, encrypts or verifies with itself
(``SECRET_KEY``, ``JWT_SECRET``, ``*_SIGNING_KEY``, ``*_ENCRYPTION_KEY``) are told apart: it
is their holder, so a default it falls back to lets anyone who reads the source forge
what it signs, whatever the value looks like.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pitfalls.core import names
from pitfalls.core.summary import ModuleSummary

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Word sequences a secret's name ends with.
_TERMS = (
    ("password",), ("passwd",), ("passphrase",), ("pwd",), ("secret",), ("token",),
    ("credential",), ("credentials",), ("apikey",), ("authorization",),
    *((qualifier, "key") for qualifier in (
        "api", "secret", "private", "access", "signing", "encryption", "auth", "master",
    )),
    *((owner, "pass") for owner in ("db", "user", "admin", "root", "smtp", "mail", "email", "login")),
)
# Words that may follow the term without changing what the name holds (`password_confirm`).
_NEUTRAL_SUFFIXES = frozenset(
    {"value", "str", "string", "plain", "plaintext", "raw", "cleartext", "confirm", "confirmation",
     "again", "repeat", "retype"}
)
# A qualifier before the term that makes the name mean something else than the secret.
_NOT_THE_SECRET = frozenset(
    {"max", "min", "num", "n", "count", "hashed", "invalid", "missing", "expired", "wrong",
     "incorrect", "bad", "no", "empty", "reset", "forgot", "change", "update", "verify",
     "check", "validate", "require", "required", "show", "has", "is", "use"}
)
# A qualifier anywhere before the term that says the value is not a real secret.
_NOT_REAL = frozenset({"fake", "dummy", "mock", "stub", "example", "sample", "demo", "test", "testing"})
# Word pairs a key the application signs, encrypts or verifies with ends with.
_OWN_KEYS = frozenset(
    {("secret", "key"), ("signing", "key"), ("signing", "secret"), ("encryption", "key"), ("jwt", "secret"),
     ("jwt", "key"), ("session", "secret"), ("cookie", "secret"), ("hmac", "key"), ("hmac", "secret")}
)
_NOT_AN_AUTH_TOKEN = frozenset(
    {"page", "next", "prev", "previous", "continuation", "cancel", "cancellation", "resume",
     "sync", "bos", "eos", "pad", "unk", "sep", "cls", "mask", "start", "end", "stop", "special"}
)
# `pwd` alone is as often the working directory (or the `pwd` module) as a password.
_NOT_A_PASSWORD = frozenset({"cur", "current", "old", "work", "working"})

# In a module that imports one of these, a `token` is a lexical token.
_LEXING_PACKAGES = frozenset(
    {"token", "tokenize", "lib2to3", "pygments", "ply", "lark", "parso", "nltk", "spacy",
     "transformers", "tokenizers", "tiktoken", "sentencepiece"}
)


def words(name: str) -> list[str]:
    """Lower-case word parts of an identifier or phrase."""
    return [w.lower() for w in _WORD.findall(name)]


@lru_cache(maxsize=4096)
def is_secret_name(name: str, extra: tuple[tuple[str, ...], ...] = (), lexical: bool = False) -> bool:
    """Whether an identifier (or a string key such as ``"api-key"``) names a secret;
    ``lexical``: a ``token`` is a lexer's or tokenizer's, not a credential."""
    parts = tuple(words(name))
    end = len(parts)
    while end and (parts[end - 1] in _NEUTRAL_SUFFIXES or parts[end - 1].isdigit()):
        end -= 1
    for term in (*_TERMS, *extra):
        start = end - len(term)
        if start < 0 or parts[start:end] != term:
            continue
        before = parts[start - 1] if start else None
        if before in _NOT_THE_SECRET or not _NOT_REAL.isdisjoint(parts[:start]):
            return False
        if term == ("token",) and (lexical or before in _NOT_AN_AUTH_TOKEN):
            return False
        return term != ("pwd",) or (before is not None and before not in _NOT_A_PASSWORD)
    return False


def is_signing_key_name(name: str) -> bool:
    """Whether a secret's name says the application signs or encrypts with it (``SECRET_KEY``,
    ``jwt_secret``, ``SESSION_SECRET``, ``DATA_ENCRYPTION_KEY``); ``is_secret_name`` first."""
    parts = words(name)
    while parts and (parts[-1] in _NEUTRAL_SUFFIXES or parts[-1].isdigit()):
        parts.pop()
    return tuple(parts[-2:]) in _OWN_KEYS


class SecretOptions:
    """``[tool.pitfalls.secrets]`` as the rules use it (``settings`` may be None: defaults)."""

    def __init__(self, settings: Any, path: str, summary: ModuleSummary) -> None:
        options = getattr(settings, "secrets", None)
        self.extra = tuple(
            tuple(words(name)) for name in getattr(options, "extra_names", ()) if words(name)
        )
        self.skip_file = names.is_test_path(path) and not getattr(options, "check_tests", False)
        self.lexical = any(i.module.partition(".")[0] in _LEXING_PACKAGES for i in summary.imports)

    def is_secret(self, name: str) -> bool:
        return is_secret_name(name, self.extra, self.lexical)

    def is_signing_key(self, name: str) -> bool:
        return self.is_secret(name) and is_signing_key_name(name)


