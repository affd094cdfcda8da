"""The engine's results as LSP objects: diagnostics, and fixes as text edits.

A published diagnostic carries in ``data`` what a code action needs later (the fix, the
line, the text's digest and version), so an action is only offered for the text it was
made for.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from pitfalls.core.diagnostics import Diagnostic, Fix, Severity
from pitfalls.core.noqa import NoqaComments
from pitfalls.core.source import lines_with_ends
from pitfalls.lsp.text import Text, digest

SOURCE = "pitfalls"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@dataclass
class Checked:
    """One check's result, converted for publishing (in the engine thread)."""

    text: Text
    digest: str
    diagnostics: list[Diagnostic]
    lsp: list[types.Diagnostic]
    affected: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def to_lsp(d: Diagnostic, text: Text, version: int | None, text_digest: str) -> types.Diagnostic:
    data: dict[str, Any] = {
        "version": version,
        "hash": text_digest,
        "line": d.start.line,
        "fix": d.fix.to_json() if d.fix else None,
    }
    if d.data:
        data["rule"] = d.data
    return types.Diagnostic(
        range=text.range((d.start.line, d.start.column), (d.end.line, d.end.column)),
        message=d.message,
        severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
        code=d.code,
        source=SOURCE,
        data=data,
    )


def converted(source: str, encoding: str, diagnostics: list[Diagnostic], version: int | None, **kw: Any) -> Checked:
    text = Text(source, encoding)
    text_digest = digest(source)
    diagnostics = sorted(diagnostics, key=lambda d: (d.start, d.end, d.code))
    lsp = [to_lsp(d, text, version, text_digest) for d in diagnostics]
    return Checked(text, text_digest, diagnostics, lsp, **kw)


def empty(encoding: str, **kw: Any) -> Checked:
    """Nothing to show (and no text kept)."""
    return Checked(Text("", encoding), "", [], [], **kw)


def fix_edits(fix: dict[str, Any], text: Text) -> list[types.TextEdit]:
    parsed = Fix.from_json(fix)
    return [
        types.TextEdit(range=text.range((e.start.line, e.start.column), (e.end.line, e.end.column)), new_text=e.content)
        for e in parsed.edits
    ]


def diff_edits(text: Text, new: str) -> list[types.TextEdit]:
    """Line-granular edits turning ``text`` into ``new`` (all relative to ``text``)."""
    old_lines = lines_with_ends(text.source)
    new_lines = lines_with_ends(new)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        start = text.position(i1, 0) if i1 < len(text.starts) else text.position(len(text.starts), 0)
        end = text.position(i2, 0) if i2 < len(text.starts) else text.position(len(text.starts), 0)
        edits.append(types.TextEdit(range=types.Range(start=start, end=end), new_text="".join(new_lines[j1:j2])))
    return edits


def noqa_edit(text: Text, comments: NoqaComments, line1: int, code: str) -> types.TextEdit | None:
    """The edit that silences ``code`` reported on line ``line1`` (``comments``: the
    text's), on the line its ``# noqa`` goes on; None where no comment can go."""
    found = comments.insertion(line1, [code])
    if found is None:
        return None
    line, start, end, new_text = found
    return types.TextEdit(range=text.range((line, start), (line, end)), new_text=new_text)
