"""Applying fixes to text, round after round until nothing changes.

Edits of different fixes never overlap in one round: a fix that collides with one already
taken waits for the next round (after a re-check), as in Ruff. A fixed text that no longer
parses (compiles) is refused. Writing files is :mod:`pitfalls.project.files`' job.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Callable

from pitfalls.core.diagnostics import Applicability, Diagnostic, Edit, Fix
from pitfalls.core.source import NEWLINE, line_starts, lines_with_ends, parse_module, python_refuses


def offset(starts: Sequence[int], text: str, line: int, column: int) -> int:
    if line - 1 >= len(starts):
        return len(text)
    return min(starts[line - 1] + column, len(text))


def fix_allowed(fix: Fix | None, unsafe: bool) -> bool:
    return fix is not None and (unsafe or fix.applicability is Applicability.SAFE)


@dataclass
class Applied:
    text: str
    fixed: list[Diagnostic]


def apply_fixes(text: str, diagnostics: list[Diagnostic], *, unsafe: bool) -> Applied:
    """Apply every allowed, non-overlapping fix; fixes are all-or-nothing."""
    starts = line_starts(text)
    taken: list[tuple[int, int]] = []
    chosen: list[tuple[int, int, str]] = []
    fixed: list[Diagnostic] = []
    candidates = [d for d in diagnostics if fix_allowed(d.fix, unsafe) and d.fix and d.fix.edits]
    candidates.sort(key=lambda d: (d.fix.edits[0].start, d.code))  # type: ignore[union-attr]
    seen_fixes: set[tuple[Edit, ...]] = set()
    for diagnostic in candidates:
        assert diagnostic.fix is not None
        if diagnostic.fix.edits in seen_fixes:  # the same fix reported twice
            fixed.append(diagnostic)
            continue
        spans = [
            (offset(starts, text, e.start.line, e.start.column), offset(starts, text, e.end.line, e.end.column), e.content)
            for e in diagnostic.fix.edits
        ]
        if any(_overlaps(s, e, taken) for s, e, _ in spans):
            continue
        taken.extend((s, e) for s, e, _ in spans)
        chosen.extend(spans)
        seen_fixes.add(diagnostic.fix.edits)
        fixed.append(diagnostic)
    out = text
    newline = NEWLINE.search(text)
    if newline is not None and newline.group() != "\n":  # a CRLF or CR file keeps its style
        chosen = [(s, e, NEWLINE.sub(newline.group(), content)) for s, e, content in chosen]
    for start, end, content in sorted(chosen, key=lambda s: (s[0], s[1]), reverse=True):
        out = out[:start] + content + out[end:]
    return Applied(out, fixed)


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    for s, e in taken:
        if start < e and s < end:
            return True
        if start == end == s == e:  # two insertions at one point: order would be arbitrary
            return True
    return False


def still_parses(text: str, before: str) -> bool:
    """Whether ``text``, an edit of ``before``, still parses: CPython compiles it (never
    runs it; a twentieth of a libcst parse, and what importing it needs). Where CPython
    did not compile ``before`` either (a newer Python's grammar), libcst decides, as the
    check does."""
    if python_refuses("", text) is None:
        return True
    if python_refuses("", before) is None:
        return False
    try:
        parse_module(text)  # (libcst is imported there: printing a report never parses)
    except Exception:
        return False
    return True


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            lines_with_ends(before),
            lines_with_ends(after),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


# A fix that keeps producing new fixes is cut off here.
MAX_FIX_ROUNDS = 10


@dataclass
class Fixed:
    texts: dict[str, str]  # path -> its text after the last round, for the paths that changed
    counts: dict[str, int]  # path -> fixes applied over all rounds
    refused: set[str]  # paths whose next round would not parse: their last good text is kept


def fix_until_stable(
    diagnostics: dict[str, list[Diagnostic]],
    read: Callable[[str], str | None],
    recheck: Callable[[dict[str, str]], dict[str, list[Diagnostic]]],
    *,
    unsafe: bool,
) -> Fixed:
    """Fix texts round by round until no fix applies: each round applies every text's
    fixes that do not overlap, then ``recheck`` gets the texts that changed and answers
    with the diagnostics of every text to go on fixing (in a project, others' too: a fix
    in one file may settle a finding in another); a path it leaves out is done. ``read``
    gives a text the first time it is fixed (None: leave it). The CLI's ``--fix`` and
    ``--diff`` and the editor's fix-all all come through here."""
    texts: dict[str, str] = {}
    counts: dict[str, int] = {}
    refused: set[str] = set()
    for _ in range(MAX_FIX_ROUNDS):
        changed = {}
        for path, found in diagnostics.items():
            text = texts[path] if path in texts else None if path in refused else read(path)
            if text is None:
                continue
            applied = apply_fixes(text, found, unsafe=unsafe)
            if not applied.fixed or applied.text == text:
                continue
            if not still_parses(applied.text, text):
                refused.add(path)
                continue
            changed[path] = applied.text
            counts[path] = counts.get(path, 0) + len(applied.fixed)
        if not changed:
            break
        texts.update(changed)
        diagnostics = {p: d for p, d in recheck(changed).items() if p not in refused}
    return Fixed(texts, counts, refused)


def fix_text(path: str, text: str, check: Callable[[str], list[Diagnostic]], *, unsafe: bool) -> str:
    """One text fixed until stable, ``check`` giving its diagnostics after each round."""
    fixed = fix_until_stable(
        {path: check(text)}, lambda _: text, lambda changed: {p: check(t) for p, t in changed.items()}, unsafe=unsafe
    )
    return fixed.texts.get(path, text)
