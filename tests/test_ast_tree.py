"""The tree made from CPython's ast (``core.ast_tree``) is libcst's, as the rules walk it,
on written cases of what the two parsers shape differently (every file of the ecosystem
projects: ``test_summary_ast``); a run that checks its files on it finds what the editor
finds on libcst's trees, file by file, places and fixes included."""

from __future__ import annotations

import ast
import dataclasses
import textwrap
from pathlib import Path

import pytest
from conftest import unpack_ecosystem
from pitfalls.core.ast_tree import Unconvertible, module_from_ast
from pitfalls.core.check import check_parsed, check_text, parse_from_ast
from pitfalls.core.diagnostics import Position
from pitfalls.core.fixes import apply_fixes
from pitfalls.core.index import ProjectIndex
from pitfalls.core.source import parse_module, parse_quietly
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.run import check_files
from pitfalls.project.workspace import Workspace
from pitfalls.rules import RULES_BY_CODE
from test_summary_ast import placed_alike, walked

CASES = {
    "definitions, their names placed after their keywords": """
        @decorator
        async   def  fetch(url):
            return url
        class  Model(Base):
            def save(self): pass
        def free(): return "café"
    """,
    "match statements, with patterns of every kind": """
        match command.split():
            case [action]:
                pass
            case [action, obj, *_] if obj:
                pass
            case (first, *rest):
                pass
            case (a), b:
                pass
            case ((a, b), c) | [(a, b), c]:
                pass
            case {"x": 1, "y": [y1, y2], **others}:
                pass
            case Point(0, y=0) | Point(x=1) as p:
                pass
            case -1 | 1.5 | 2j | -1 + 2j | "s" "t" | b"b" | None | True | Color.RED:
                pass
            case ([inner]) as outer:
                pass
            case {**rest}: pass
            case [] | (): pass
            case _:
                pass
        match a, b:
            case x, y: z = x
    """,
    "statements sharing a line, and suites after a colon": """
        import a; import b as c; x = 1
        if x: y = 2; z = 3
        elif x > 1: pass
        else: del a, b
        class K: pass
        def f(): return 1
        while x: break
        else: x = 2
        for i in x: continue
        else: pass
    """,
    "elif against else: if": """
        if a:
            pass
        elif b:
            pass
        else:
            if c:
                pass
        if d:
            pass
        else:
            if e:
                pass
            f()
    """,
    "parameters of every kind": """
        def f(a, b=1, /, c=2, *args: int, d, e=3, **kw) -> "R": ...
        def g(*, key): ...
        async def h(x: list[int] = [], *rest): ...
        lam = lambda a, /, b=1, *c, d, **e: (a, b)
    """,
    "arguments in the order written": """
        f(*a, key=1, *b)
        f(a, *b, c=1, **d)
        f(x=1, *y)
        g(**a, b=1)
        class C(Base, *bases, metaclass=M, **options): pass
    """,
    "literals": """
        s = "a" 'b' \"\"\"c\"\"\" r"\\d"
        data = b"x" rb'y'
        t = f"{a!r:>{width}} and {b}" "tail" f'{c}'
        v = ('''a''' '''b''', "it's" 'x'
             # between
             f"{d['k']}" rf"\\d{e}")
        w = f"{a}\\n\\t{b:>{w}.{p}f}\\\\ {{x}}\\x41", f'''{c!r}
        line\\''''
        n = (1, 0x1F, 1_000, 1.5, 2e10, 3j, -4, ..., None, True)
        u = "é", "\\N{BULLET}", "\\u00e9"
    """,
    "compound statements": """
        async def main():
            async with a() as x, b() as (y, z):
                async for i in y:
                    await z
            try:
                pass
            except* ValueError as exc:
                raise RuntimeError() from exc
            try:
                pass
            except (A, B):
                pass
            except C as c:
                pass
            else:
                pass
            finally:
                pass
            with (open(p) as f, open(q)):
                pass
        @decorator
        @other.one(arg)
        class D(E):
            @property
            def p(self): return self._p
    """,
    "expressions": """
        x = [a for a in b if a async for c in d] + {k: v for k, v in e} | {s for s in t}
        y = (g for g in h)
        z = a if b else c
        w = not a and b or c and not d
        v = a < b <= c is not d not in e
        u = x[1:2, ::3, a][-1][...]
        t = x[(1, 2)]
        (n := 10)
        global_value = -a ** ~b @ c // d % e << f >> g & h ^ i
        yield_values = lambda: (yield)
        star, *rest = items
        del x[0], y.z
        assert a, "message"
    """,
    "scopes": """
        def outer():
            x = 1
            def inner():
                nonlocal x
                global y
                x += 1
                y -= 2
            return inner
    """,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_tree_is_libcst_s_as_the_rules_walk_it(case: str) -> None:
    """The same nodes, and those the tree made from ast places, where libcst places them."""
    source = textwrap.dedent(CASES[case]).lstrip("\n")
    converted, places = module_from_ast(parse_quietly(source), source)
    module = parse_module(source)
    assert walked(converted) == walked(module)
    misplaced: list[str] = []
    assert placed_alike(converted, places, module, source, misplaced, case) > 0 and misplaced == []


def test_what_the_conversion_does_not_build_is_parsed_by_libcst() -> None:
    """Code Python refuses (its PF000 comes from libcst's path); code nested deeper than
    pitfalls analyses."""
    # ast: `{c=}` as text and a value; braces of an escape; names normalized
    for source in ("t = f'{c=}'\n", "t = f'\\N{BULLET} {c}'\n", "café = 1\n"):
        with pytest.raises(Unconvertible):
            module_from_ast(parse_quietly(source), source)
    generic = parse_quietly("class C:\n    def f(self): pass\n")
    generic.body[0].body[0].type_params = [ast.Name("T")]  # `def f[T]` as Python 3.12 parses it
    with pytest.raises(Unconvertible):
        module_from_ast(generic, "class C:\n    def f[T](self): pass\n")
    for source in ("return 1\n", "def f(:\n", "x = f" + "()" * 1500 + "\n"):
        assert parse_from_ast("m.py", source, name="m") is None
    assert parse_from_ast("m.py", "x = 1\n", name="m").from_ast


ON_AST_TREE = """
from pydantic import BaseModel
import requests
from os.path import *  # PF302


class Item(BaseModel):
    name: str


def dump(item: Item) -> dict:
    return item.dict()  # PF401, its rename placed from ast


def fetch(url: str) -> bytes:
    return requests.get(url).content  # PF103, whose fix is made from the call's text


def where(name: str) -> str:
    return join("/tmp", name)
"""


def test_reports_of_rules_that_read_no_formatting_are_final_on_the_tree_made_from_ast() -> None:
    """PF401's and PF103's reports and fixes are placed from ast, as libcst's check places
    them; PF302 (it does not say it reads no formatting) is named to run again on libcst's
    tree, with the other rules that reported; a rule that read code as written too."""
    source = ON_AST_TREE.lstrip("\n")
    rules = [RULES_BY_CODE["PF401"], RULES_BY_CODE["PF103"], RULES_BY_CODE["PF302"]]
    expected = check_text("m.py", source, rules, name="m").diagnostics
    assert {d.code for d in expected} == {"PF401", "PF103", "PF302"}

    parsed = parse_from_ast("m.py", source, name="m")
    assert check_parsed(parsed, ProjectIndex([parsed.summary]), rules).again == {"PF401", "PF103", "PF302"}
    parsed = parse_from_ast("m.py", source, name="m")
    outcome = check_parsed(parsed, ProjectIndex([parsed.summary]), rules[:2])
    assert outcome.again == frozenset() and outcome.diagnostics == [d for d in expected if d.code != "PF302"]
    assert all(d.fix is not None for d in outcome.diagnostics)

    # `item.__fields__` -> `type(item).model_fields`: the fix holds `item` as written
    edited = source.replace("item.dict()", "item.__fields__")
    parsed = parse_from_ast("m.py", edited, name="m")
    assert check_parsed(parsed, ProjectIndex([parsed.summary]), rules[:1]).again == {"PF401"}
    assert [d.code for d in check_text("m.py", edited, rules[:1], name="m").diagnostics] == ["PF401"]


def test_a_fix_made_from_the_text_keeps_the_file_s_newlines_on_both_trees() -> None:
    """PF103's timeout in a CRLF file, on its own line as the other arguments are: the
    same on the tree made from ast as on libcst's, with the file's newline."""
    source = "import requests\r\n\r\ndef get(url):\r\n    return requests.get(\r\n        url,\r\n    )\r\n"
    rules = [RULES_BY_CODE["PF103"]]
    expected = check_text("m.py", source, rules, name="m").diagnostics
    parsed = parse_from_ast("m.py", source, name="m")
    outcome = check_parsed(parsed, ProjectIndex([parsed.summary]), rules)
    assert outcome.again == frozenset() and outcome.diagnostics == expected
    fixed = apply_fixes(source, expected, unsafe=True).text
    assert fixed == source.replace("url,", "url,\r\n        timeout=10,")


def test_a_fix_that_moves_lines_ends_at_the_text_s_end_without_a_final_newline() -> None:
    """PF301's import on a last line without a newline: the edit ends where the text does
    (not on a line after it), the same on both trees, and the fix gives working code."""
    source = "def make():\n    return b.B()\n\nimport b"
    other = parse_from_ast("b.py", "import a\n\n\nclass B:\n    pass\n", name="b")
    rules = [RULES_BY_CODE["PF301"]]
    parsed = parse_from_ast("a.py", source, name="a")
    index = ProjectIndex([parsed.summary, other.summary])
    outcome = check_parsed(parsed, index, rules)
    expected = check_text("a.py", source, rules, name="a", index=index).diagnostics
    assert outcome.again == frozenset() and outcome.diagnostics == expected
    assert max(e.end for e in expected[0].fix.edits) == Position(4, len("import b"))
    assert apply_fixes(source, expected, unsafe=True).text == "def make():\n    import b\n    return b.B()\n\n"


@pytest.mark.parametrize("project", ["fief", "dispatch"])
def test_a_run_finds_what_the_editor_finds_file_by_file(project: str, tmp_path: Path) -> None:
    """An ecosystem project checked in one run (each file on the tree made from ast, the
    reports of rules that read formatting again on libcst's), against the editor's checks
    of its files on libcst's trees: the same diagnostics, places and fixes included
    (dispatch: 156 of PF401's renames and 24 of PF301's moves made on the tree from ast,
    PF103's timeouts on libcst's)."""
    unpack_ecosystem(tmp_path, project)
    config = ConfigResolver(root=tmp_path)
    files = discover([tmp_path], config)
    run = check_files(files, config, use_cache=False, jobs=1, base=tmp_path, keep_index=True)
    workspace = Workspace(config, tmp_path, use_cache=False)
    workspace.index = run.index
    by_file = []
    for path in files:
        outcome = workspace.check(str(path), path.read_text(encoding="utf-8"), edited=False)
        by_file += [dataclasses.replace(d, path=str(path.relative_to(tmp_path))) for d in outcome.diagnostics]
    assert len(run.diagnostics) > 10
    key = lambda d: (d.path, d.start.line, d.start.column, d.code, d.message)  # noqa: E731
    assert sorted(run.diagnostics, key=key) == sorted(by_file, key=key)
