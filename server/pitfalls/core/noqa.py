"""``# noqa`` comments: the one parser behind suppression, the editor's noqa action and hover.

``# noqa`` alone silences every code on its line; ``# noqa: PF101, PF404`` those codes.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)
_CODE = re.compile(r"[A-Za-z]+[0-9]+")


@dataclass(frozen=True)
class Directive:
    """One ``# noqa`` comment on a line: ``codes`` None for a bare one (every code)."""

    codes: frozenset[str] | None
    codes_start: int  # column where the code list starts (the comment's end when bare)
    codes_end: int

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


def directives(line: str) -> list[Directive]:
    if "#" not in line:
        return []
    found = []
    for match in NOQA.finditer(line):
        if match.group("codes") is None:
            found.append(Directive(None, match.end(), match.end()))
        else:
            codes = frozenset(c.group(0).upper() for c in _CODE.finditer(match.group("codes")))
            found.append(Directive(codes, match.start("codes"), match.end("codes")))
    return found


def suppresses(line: str, code: str) -> bool:
    """Whether a ``# noqa`` on ``line`` silences ``code``."""
    return any(d.covers(code) for d in directives(line))


def code_spans(line: str) -> list[tuple[int, int, str]]:
    """(start, end, CODE) of every code named in the line's ``# noqa:`` lists (for hover)."""
    spans = []
    for match in NOQA.finditer(line):
        if match.group("codes") is None:
            continue
        base = match.start("codes")
        for code in _CODE.finditer(match.group("codes")):
            spans.append((base + code.start(), base + code.end(), code.group(0).upper()))
    return spans


def insertion(source: str, lines: list[str], line1: int, code: str) -> tuple[int, int, str] | None:
    """How to make line ``line1`` (1-based) silence ``code``: replace columns (start, end)
    of it with the text. None when it already does, or when a comment cannot go there
    (a line continued by a backslash, or ending inside a multi-line string)."""
    if not 1 <= line1 <= len(lines):
        return None
    line = lines[line1 - 1]
    if line.rstrip().endswith("\\") or _line_ends_in_string(source, line1) is not False:
        return None
    found = directives(line)
    if any(d.covers(code) for d in found):
        return None
    if found:
        at = found[0].codes_end
        return at, at, f", {code}"
    stripped = len(line.rstrip())
    return stripped, len(line), f"  # noqa: {code}"


def _line_ends_in_string(source: str, line1: int) -> bool | None:
    """Whether line ``line1`` ends inside a multi-line string (a comment there would be
    part of the string); None when the source cannot be tokenized that far."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.start[0] > line1:
                return False
            if tok.type == tokenize.STRING and tok.start[0] <= line1 < tok.end[0]:
                return True
    except (tokenize.TokenError, SyntaxError):
        return None
    return False
