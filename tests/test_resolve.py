"""Reports to diagnostics in an editor's buffer: the places of the reports in statements an
edit kept are the last keystroke's, moved by the lines the edit added above them, and equal
to a full check's (the thousand random edits of test_reparse compare many more)."""

from __future__ import annotations

import textwrap

from pitfalls.core.check import ParsedFile, check_parsed, check_text, parse_file
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import ProjectIndex
from pitfalls.rules.pf102_hardcoded_credential import HardcodedCredential
from pitfalls.rules.pf103_http_call_without_timeout import HttpCallWithoutTimeout

RULES = [HttpCallWithoutTimeout, HardcodedCredential]

SOURCE = textwrap.dedent(
    """\
    import requests


    def helper():
        return 1


    def fetch(url):
        return requests.get(url)


    def connect():
        return login(password="hunter2-but-longer")
    """
)


def _checked(source: str, previous: ParsedFile | None = None) -> tuple[ParsedFile, list[Diagnostic]]:
    parsed = parse_file("m.py", source, name="m", edited=True, previous=previous)
    return parsed, check_parsed(parsed, ProjectIndex([parsed.summary]), RULES).diagnostics


def _full(source: str) -> list[Diagnostic]:
    return check_text("m.py", source, RULES, name="m").diagnostics


def test_reports_below_an_edit_that_adds_lines_move_with_their_fixes() -> None:
    first, found = _checked(SOURCE)
    assert [(d.code, d.start.line) for d in found] == [("PF103", 9), ("PF102", 13)]
    assert found[0].fix is not None and found[0].fix.edits[0].start.line == 9
    fetch = first.module.body[2]
    assert first.placements is not None and first.placements[fetch][0] == 6  # its leading blank lines'

    edited = SOURCE.replace("    return 1\n", "    x = 1\n    y = 2\n    return x + y\n")
    second, moved = _checked(edited, first)
    assert second.module.body[2] is fetch  # kept by the edit: its places were moved, not made again
    assert moved == _full(edited)
    assert [(d.code, d.start.line) for d in moved] == [("PF103", 11), ("PF102", 15)]
    assert moved[0].fix is not None and moved[0].fix.edits[0].start.line == 11
    line, places = second.placements[fetch]  # type: ignore[index]
    assert line == 8 and [start.line for start, _, _ in places.values()] == [11]


def test_an_edit_inside_a_statement_places_its_reports_afresh() -> None:
    first, _ = _checked(SOURCE)
    edited = SOURCE.replace("requests.get(url)", "requests.get(\n        url\n    )")
    second, found = _checked(edited, first)
    assert found == _full(edited)
    assert found[0].end.line == 11 and found[1].start.line == 15


def test_a_fix_that_edits_another_statement_is_placed_every_time() -> None:
    """PF102's fix adds ``import os`` above the first statement: an edit between the two
    statements moves them apart, so its place is not kept with the statement reported."""
    source = "import requests\n\n\ndef helper():\n    x = 1\n    return x\n\n\nDB_PASSWORD = 'hunter2-but-longer'\n"
    first, found = _checked(source)
    assert found[0].fix is not None and sorted(e.start.line for e in found[0].fix.edits) == [1, 9]
    constant = first.module.body[-1]
    assert first.placements is not None and not first.placements[constant][1]
    edited = source.replace("    x = 1\n", "    x = 1\n    y = 2\n")
    second, moved = _checked(edited, first)
    assert second.module.body[-1] is constant
    assert moved == _full(edited)
    assert moved[0].fix is not None and sorted(e.start.line for e in moved[0].fix.edits) == [1, 10]
