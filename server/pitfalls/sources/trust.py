"""Which servers may receive the user's credentials.

A checked repository is untrusted: its ``[tool.pitfalls]`` may name any Directus or
database URL, and the user's ``DIRECTUS_TOKEN``, ``DIRECTUS_PASSWORD`` or ``PGPASSWORD``
would go there. So a URL the repository names is contacted only once the user approved
that exact URL (``pitfalls approve URL``), in a list kept in the user's own configuration
folder, outside any repository. URLs the user names (the command line, the environment,
the editor's settings) need no approval; SQLite files send no credentials.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

APPROVALS_ENV = "PITFALLS_APPROVALS"  # where the list lives (tests, unusual setups)


def approvals_file() -> Path:
    """``$XDG_CONFIG_HOME/pitfalls/approved-urls`` (``~/.config/...`` by default)."""
    explicit = os.environ.get(APPROVALS_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "pitfalls" / "approved-urls"


def normalise(url: str) -> str:
    """The URL as approved: no user or password in it (an approval is for a server, not a
    login), scheme and host in lower case, no trailing slash. ValueError if it is no URL."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme.lower(), netloc, parts.path.rstrip("/"), parts.query, ""))


def sends_no_credentials(url: str) -> bool:
    return url.strip().lower().startswith("sqlite")


def is_approved(url: str) -> bool:
    try:
        lines = approvals_file().read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    try:
        return normalise(url) in {line.strip() for line in lines}
    except ValueError:  # not a URL: nothing to contact
        return False


def approve(url: str) -> Path:
    """Add ``url`` to the user's list (created private to the user); the file's path."""
    normalise(url)  # ValueError before anything is written
    target = approvals_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not is_approved(url):
        with open(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as out:
            out.write(normalise(url) + "\n")
    return target


def may_contact(url: str, named_by_repository: bool) -> bool:
    """Whether credentials may go to ``url``."""
    return not named_by_repository or sends_no_credentials(url) or is_approved(url)


def refusal(url: str, what: str, source: object) -> str:
    """The one-line warning when the repository names a server the user has not approved."""
    shown = normalise(url)
    return (
        f"{source} names the {what} {shown}: pitfalls sends your credentials only to servers you "
        f"name or approve; to approve this one: pitfalls approve {shown}"
    )
