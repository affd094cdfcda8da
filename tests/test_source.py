"""Parsing without libcst's per-node validation: the same trees, and every node made
elsewhere still validated. And where lines start, as Python counts them."""

from __future__ import annotations

import threading
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pitfalls.core import source
from pitfalls.core.source import parse_module

ENGINE = Path(__file__).resolve().parent.parent / "server" / "pitfalls" / "core"


def test_trees_equal_libcsts_validated_parse() -> None:
    files = sorted(ENGINE.glob("*.py"))
    assert len(files) > 20
    for path in files:
        text = path.read_text(encoding="utf-8")
        tree = parse_module(text)
        assert tree.deep_equals(cst.parse_module(text)), path
        assert tree.code == text


def test_the_parser_s_nodes_are_not_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(node: cst.Name) -> None:
        raise cst.CSTValidationError("validated")

    parse_module("")  # installs the hook before the check below replaces a node's checks
    monkeypatch.setattr(cst.Name, "_validate", refuse)
    assert isinstance(parse_module("x = y\n").body[0], cst.SimpleStatementLine)
    with pytest.raises(cst.CSTValidationError):
        cst.parse_module("x = y\n")


def test_nodes_made_outside_a_parse_are_still_validated() -> None:
    parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("1x")
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("x = (\n")
    with pytest.raises(cst.CSTValidationError):  # a failed parse leaves validation on
        cst.Name("1x")


def test_another_thread_s_nodes_are_validated_during_a_parse() -> None:
    parse_module("")
    failures: list[BaseException] = []

    def make() -> None:
        try:
            cst.Name("1x")
        except cst.CSTValidationError as exc:
            failures.append(exc)

    source._parsing.active = True  # as in the middle of a parse in this thread
    try:
        other = threading.Thread(target=make)
        other.start()
        other.join()
    finally:
        source._parsing.active = False
    assert len(failures) == 1


@given(st.lists(st.sampled_from(["a", "é", "\n", "\r", "\r\n", "\x0c", "\u2028", "  "]), max_size=30).map("".join))
@settings(max_examples=300, deadline=None)
def test_line_starts_are_where_python_starts_a_line(text: str) -> None:
    # Only \n, \r\n and \r end a line (not a form feed, not U+2028), whichever way is taken.
    expected = [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n" or (ch == "\r" and text[i + 1 : i + 2] != "\n"))]
    assert source.line_starts(text) == expected
