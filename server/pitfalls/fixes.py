"""Applying fixes to text, and writing fixed files without ever losing one.

Edits of different fixes never overlap in one round: a fix that collides with one already
taken waits for the next round (after a re-check), as in Ruff. A fixed text that no longer
parses is refused and the file is kept as it was. Files are replaced atomically, and only
when their content is still what was analysed.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from pitfalls.diagnostics import Applicability, Diagnostic, Edit, Fix

_NEWLINE = re.compile(r"\r\n?|\n")


class FixError(Exception):
    """A file that could not be fixed; the message says why, the file is unchanged."""


def line_starts(text: str) -> list[int]:
    """Offsets where each line starts, with Python's (and libcst's) idea of a newline."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


def offset(starts: list[int], text: str, line: int, column: int) -> int:
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


def still_parses(text: str) -> bool:
    try:
        cst.parse_module(text)
    except Exception:
        return False
    return True


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            _keepends(before),
            _keepends(after),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )


def _keepends(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not at form feeds)."""
    lines = [m.group(0) for m in re.finditer(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+$", text)]
    return lines


def write_atomically(path: Path, original: bytes, new_text: str, encoding: str = "utf-8") -> None:
    """Replace ``path`` with ``new_text`` if it still holds ``original``; never half-write."""
    try:
        st = path.stat()
    except OSError as exc:
        raise FixError(f"cannot read file: {exc.strerror or exc}") from None
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise FixError("file is read-only; fixes not applied")
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise FixError(f"cannot read file: {exc.strerror or exc}") from None
    if current != original:
        raise FixError("file changed while pitfalls was running; fixes not applied")
    try:
        data = new_text.encode(encoding)
    except UnicodeEncodeError:
        raise FixError(f"the fixed code cannot be written in the file's encoding ({encoding})") from None
    try:
        replace_file(path, data, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise FixError(f"cannot write file: {exc.strerror or exc}") from None


def replace_file(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``:
    readers see the old file or the new one, never half of one; no temp file is left."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".pitfalls-tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
