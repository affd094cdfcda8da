"""The engine's output: diagnostics, fixes and text edits.

Plain frozen dataclasses so that results pickle cheaply between worker processes and
serialise to the cache as JSON. Positions are 1-based lines and 0-based columns counted
in Unicode code points (libcst's convention); output layers convert at the edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, enum.Enum):
    """Ruff's meaning: a safe fix never changes behaviour in a way the user could not expect."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 1-based
    column: int  # 0-based, in code points


@dataclass(frozen=True)
class Edit:
    """Replace the text between ``start`` and ``end`` with ``content``."""

    start: Position
    end: Position
    content: str

    def to_json(self) -> dict[str, Any]:
        return {
            "start": [self.start.line, self.start.column],
            "end": [self.end.line, self.end.column],
            "content": self.content,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Edit:
        return cls(Position(*data["start"]), Position(*data["end"]), data["content"])


@dataclass(frozen=True)
class Fix:
    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "applicability": self.applicability.value,
            "edits": [e.to_json() for e in self.edits],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        return cls(
            data["message"],
            tuple(Edit.from_json(e) for e in data["edits"]),
            Applicability(data["applicability"]),
        )


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    path: str
    start: Position
    end: Position
    severity: Severity
    fix: Fix | None = None
    # Free-form facts a client may need later (e.g. the language server's code actions).
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.start.line, self.start.column, self.code)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "start": [self.start.line, self.start.column],
            "end": [self.end.line, self.end.column],
            "severity": self.severity.value,
            "fix": self.fix.to_json() if self.fix else None,
            "data": self.data,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(
            code=data["code"],
            message=data["message"],
            path=data["path"],
            start=Position(*data["start"]),
            end=Position(*data["end"]),
            severity=Severity(data["severity"]),
            fix=Fix.from_json(data["fix"]) if data["fix"] else None,
            data=data.get("data") or {},
        )
