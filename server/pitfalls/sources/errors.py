"""The one error of every schema source."""

from __future__ import annotations


class SchemaSourceError(Exception):
    """A schema source that cannot be used: one line, safe to print. ``cause`` says what
    went wrong, ``remedy`` (when known) what to do about it; the message holds both."""

    def __init__(self, cause: str, remedy: str = "") -> None:
        super().__init__(f"{cause}; {remedy}" if remedy else cause)
        self.cause = cause
        self.remedy = remedy
