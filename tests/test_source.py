"""Parsing without libcst's per-node validation, with quicker node constructors: the same
trees, and every node made elsewhere still validated and built as its dataclass declares.
And where lines start, as Python counts them."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import subprocess
import sys
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


def quick_constructors() -> None:
    """Parse enough for the quicker node constructors to be installed (once per process)."""
    parse_module("x = 1\n" * (source.CONSTRUCTORS_PAY_OFF_CHARS // 6 + 1))
    assert cst.Name.__init__.__code__.co_filename == "<pitfalls: libcst node constructors>"


def test_trees_equal_those_of_libcst_untouched() -> None:
    """libcst in another interpreter, where pitfalls changed nothing, makes the same trees
    (sent back pickled: unpickling calls no constructor)."""
    quick_constructors()
    files = sorted(ENGINE.glob("*.py"))[:12]
    script = "import libcst, pickle, sys; sys.setrecursionlimit(10000); " + (
        "sys.stdout.buffer.write(pickle.dumps([libcst.parse_module(open(p, encoding='utf-8').read()) for p in sys.argv[1:]]))"
    )
    made = subprocess.run([sys.executable, "-c", script, *map(str, files)], capture_output=True, check=True).stdout
    theirs = pickle.loads(made)
    assert len(theirs) == len(files)
    for path, tree in zip(files, theirs):
        assert parse_module(path.read_text(encoding="utf-8")).deep_equals(tree), path


def test_node_constructors_take_what_the_dataclasses_declare() -> None:
    quick_constructors()
    node_types = [t for t in vars(cst).values() if isinstance(t, type) and issubclass(t, cst.CSTNode) and t is not cst.CSTNode]
    checked = 0
    for node_type in node_types:
        if not dataclasses.is_dataclass(node_type) or "__init__" not in vars(node_type):
            continue
        assert node_type.__init__.__code__.co_filename == "<pitfalls: libcst node constructors>", node_type
        assert node_type.__init__.__qualname__ == f"{node_type.__qualname__}.__init__"
        fields = [f for f in dataclasses.fields(node_type) if f.init]
        parameters = list(inspect.signature(node_type.__init__).parameters.values())[1:]
        assert [p.name for p in parameters] == [f.name for f in fields], node_type
        for parameter, f in zip(parameters, fields):
            if f.default is not dataclasses.MISSING:
                assert parameter.default is f.default, (node_type, f.name)
            elif f.default_factory is dataclasses.MISSING:
                assert parameter.default is inspect.Parameter.empty, (node_type, f.name)
        checked += 1
    assert checked > 150  # libcst 1.9 exports 173 node classes with a constructor of their own
    call, other = cst.Call(cst.Name("f")), cst.Call(func=cst.Name(value="f"))
    assert call.deep_equals(other) and call.whitespace_after_func.deep_equals(cst.SimpleWhitespace(""))
    assert call.whitespace_after_func is not other.whitespace_after_func  # a default factory's fresh value
    code = cst.Module([]).code_for_node
    assert code(dataclasses.replace(call, args=(cst.Arg(cst.Integer("1")),))) == code(call)[:-1] + "1)"


def test_the_parser_s_nodes_are_not_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(node: cst.Name) -> None:
        raise cst.CSTValidationError("validated")

    parse_module("")  # installs the hook before the check below replaces a node's checks
    monkeypatch.setattr(cst.Name, "_validate", refuse)
    assert isinstance(parse_module("x = y\n").body[0], cst.SimpleStatementLine)
    with pytest.raises(cst.CSTValidationError):
        cst.parse_module("x = y\n")


def test_default_whitespace_is_shared_only_by_nodes_made_from_ast() -> None:
    """A node made from CPython's tree takes the default whitespace made once; any other
    (a fix's, a parse's) its own, as libcst makes it: a node in two places of one libcst
    tree would have one position for both."""
    quick_constructors()
    with source.unvalidated(0, converting=True):
        converted = [cst.Call(cst.Name("f")) for _ in range(2)]
    assert converted[0].whitespace_after_func is converted[1].whitespace_after_func
    made = [cst.Call(cst.Name("f")) for _ in range(2)]
    assert made[0].whitespace_after_func is not made[1].whitespace_after_func
    with source.unvalidated(0):
        parsed = [cst.Call(cst.Name("f")) for _ in range(2)]
    assert parsed[0].whitespace_after_func is not parsed[1].whitespace_after_func


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
    assert list(source.line_starts(text)) == expected
