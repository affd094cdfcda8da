"""pitfalls.core.positions agrees with libcst's PositionProvider on every node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from pitfalls.core.positions import Positions

TRICKY = [
    "x = 1\r\ny = (\r\n    2,\r\n)\r\n",
    "def f(a, *, b=1) -> 'T':\n\treturn a  # tab\n",
    "s = 'héllo' + \"🙂\"; t = f'{s!r:>10}'\n",
    "@dec\nclass C(B, metaclass=M):\n    '''doc'''\n    x: int = 1\n\n\n    async def m(self):\n        async with a as b, c:\n            await b\n",
    "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\ntry:\n    1/0\nexcept (E, F) as e:\n    raise\nfinally:\n    del x\n",
    "match p:\n    case [1, *rest] if rest:\n        pass\n    case {'k': v, **kw}:\n        pass\n",
    "lambda x, /, y=2: (x, y)\n[a for a in b if a]\n{k: v for k, v in d}\nprint(*a, **k)\n",
    "x = 1",  # no trailing newline
    # Statements placed by the lines CPython gives them: semicolons, decorators (one
    # with `@` alone on its line), comments above, in and after blocks.
    "# header\n\na = 1; b = 2\n# c\n\n@dec\n# between\n@other(\n  1)\ndef f():\n    pass\n    # footer\n\n# lead\nx = 1\n",
    "@\\\ndec\ndef f():\n    pass\ny = [\n    1,\n]  # trailing\n",
    # A blank line continued by a backslash: libcst keeps the two lines as one leading line.
    "def f():\n    return 1\n\\\n\n@d\ndef g():\n    return get(x)\n",
]


def _assert_same(source: str) -> int:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Positions(module, source)
    for node, span in expected.items():
        start, end = ours.range(node)
        assert (start.line, start.column, end.line, end.column) == (
            span.start.line, span.start.column, span.end.line, span.end.column,
        ), (type(node).__name__, source)
    return len(expected)


@pytest.mark.parametrize("source", TRICKY)
def test_tricky_sources(source: str) -> None:
    assert _assert_same(source) > 0


def test_pitfalls_own_sources() -> None:
    package = Path(__file__).resolve().parents[1] / "server" / "pitfalls"
    checked = sum(_assert_same(p.read_text(encoding="utf-8")) for p in sorted(package.rglob("*.py"))[:25])
    assert checked > 10_000


def test_form_feeds_libcst_drops_still_count() -> None:
    """libcst's code generation drops a form feed at the start of a line (so its own
    PositionProvider is off by one after it); positions here are the source's."""
    source = "s = 1\n\x0cimport requests\nrequests.get(u)\n"
    module = cst.parse_module(source)
    call = module.body[2].body[0].value
    start, end = Positions(module, source).range(call)
    assert (start.line, start.column, end.line, end.column) == (3, 0, 3, 15)
    assert source.split("\n")[2][start.column:end.column] == "requests.get(u)"


def test_only_the_statements_asked_about_are_generated() -> None:
    """Positions of a file with one finding cost that statement's code generation (plus
    a walk to find it), not the whole module's."""
    source = "".join(f"def f{i}(x):\n    return requests.get(x)\n\n\n" for i in range(50))
    module = cst.parse_module(source)
    call = module.body[30].body.body[0].body[0].value
    positions = Positions(module, source)
    start, end = positions.range(call)
    assert (start.line, start.column, end.line, end.column) == (122, 11, 122, 26)
    assert len(positions._pieces) == 1


def test_whitespace_of_a_statement_costs_that_statement_alone() -> None:
    """A node the syntactic walk skips (a line's trailing whitespace, which fixes edit)
    is found by a walk of the tokens too, not by generating every statement's code."""
    source = "".join(f"def f{i}(x):\n    return requests.get(x)  # {i}\n\n\n" for i in range(50))
    module = cst.parse_module(source)
    line = module.body[30].body.body[0]
    positions = Positions(module, source)
    start, end = positions.range(line.trailing_whitespace)
    assert (start.line, start.column, end.line, end.column) == (122, 26, 123, 0)
    assert len(positions._pieces) == 1


@pytest.mark.parametrize("source", TRICKY)
def test_a_wrong_statement_hint_changes_nothing(source: str) -> None:
    """``range(node, near)`` looks in ``near`` first; a node elsewhere is still found."""
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    for near in {id(s): s for s in (module.body[0], module.body[-1])}.values():
        positions = Positions(module, source)
        for node, span in expected.items():
            start, end = positions.range(node, near)
            assert (start.line, start.column, end.line, end.column) == (
                span.start.line, span.start.column, span.end.line, span.end.column,
            ), (type(node).__name__, source)
