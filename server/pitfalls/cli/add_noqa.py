"""``pitfalls check --add-noqa``: a ``# noqa: PFnnn`` for every current finding, in place.

The way onto a legacy codebase: silence what is there today, so that only new code is
held to the rules. The text work is :func:`pitfalls.core.noqa.add_noqa`; this reads and
writes the files, each only if it still holds the text that was checked, atomically and
in its own encoding and line endings.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pitfalls.core import noqa
from pitfalls.core.fixes import still_parses
from pitfalls.core.source import decode, source_encoding
from pitfalls.project.files import FixError, content_hash, write_atomically
from pitfalls.project.run import CheckResult


def add_noqa(result: CheckResult) -> int:
    """Add the comments for ``result``'s findings; 1 when a file could not take them."""
    paths = {display: path for path, display in result.displays.items()}
    findings: dict[str, list[tuple[int, str]]] = {}
    for d in result.diagnostics:
        if d.code != "PF000" and d.path in paths:  # a file that does not parse takes no comment
            findings.setdefault(paths[d.path], []).append((d.start.line, d.code))
    added = 0
    failures = []
    for path, found in sorted(findings.items()):
        try:
            added += _add_to_file(path, result.hashes.get(path), found)
        except FixError as exc:
            failures.append(f"{result.displays[path]}: {exc}")
    for message in result.errors:
        print(f"pitfalls: internal error: {message}", file=sys.stderr)
    for message in failures:
        print(f"pitfalls: error: {message}", file=sys.stderr)
    print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
    return 1 if failures else 0


def _add_to_file(path: str, checked: str | None, findings: list[tuple[int, str]]) -> int:
    try:
        original = Path(path).read_bytes()
    except OSError as exc:
        raise FixError(f"cannot read file: {exc.strerror or exc}") from None
    if content_hash(original) != checked:
        raise FixError("file changed while pitfalls was running; no noqa added")
    before = decode(path, original)
    text, added = noqa.add_noqa(before, findings)
    if not added:
        return 0
    if not still_parses(text, before):  # the tokenizer and the parser disagree about the file
        raise FixError("the comments would not parse; file left unchanged")
    write_atomically(Path(path), original, text, source_encoding(original))
    return added
