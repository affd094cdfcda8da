"""An editor's buffer keeps the function-local rules' reports of the top-level functions an
edit left alone (core/kept_reports.py), and walks them again whenever what those reports
follow from may have changed. Each case checks a buffer edit by edit, counts in which
functions the rules were called, and compares the diagnostics with a full check."""

from __future__ import annotations

import random
from pathlib import Path
from typing import ClassVar

import libcst as cst
import pytest
from pitfalls.core.check import ParsedFile, check_parsed, check_text, parse_file
from pitfalls.core.context import NodeEdit, RuleContext
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import ProjectIndex
from pitfalls.core.rule import Rule
from pitfalls.core.walker import iter_nodes
from pitfalls.project.config import ConfigResolver
from pitfalls.project.workspace import Workspace
from test_reparse import _random_edit, full_check

from conftest import unpack_ecosystem

PATH = "/p/app/m.py"


def _markers(ctx: RuleContext) -> int:
    """A fact of the whole file: how many `marker()` calls it has, in any function."""
    calls = [n for n in iter_nodes(ctx.module) if isinstance(n, cst.Call) and isinstance(n.func, cst.Name)]
    return sum(1 for call in calls if call.func.value == "marker")  # type: ignore[attr-defined]


class _Noting(Rule):
    """A test rule that notes in which top-level function each of its calls was."""

    name = "noting"
    summary = "test rule"
    called: ClassVar[list[str]] = []

    def note(self) -> None:
        type(self).called.append(self.ctx.statement.name.value)  # type: ignore[union-attr]


class _Counting(_Noting):
    """Reports each `flag()` call, with the file's marker count."""

    code = "PF990"

    def visit_Call(self, node: cst.Call) -> None:
        self.note()
        if isinstance(node.func, cst.Name) and node.func.value == "flag":
            self.ctx.report(node, f"flag ({self.ctx.fact(_markers)} markers)")


class Local(_Counting):
    function_local = True
    called: ClassVar[list[str]] = []


class Other(_Counting):
    code = "PF991"
    called: ClassVar[list[str]] = []


class FixesAtTheTop(_Noting):
    """Reports `far()` with a fix that inserts a line before the module's first statement."""

    code = "PF992"
    function_local = True
    called: ClassVar[list[str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.note()
        if isinstance(node.func, cst.Name) and node.func.value == "far":
            first = self.ctx.module.body[0]
            self.ctx.report(node, "far", fix=self.ctx.fix("insert", NodeEdit(first, "import far\n", mode="before")))


class Prunes(_Noting):
    """Does not look inside `with` blocks, nor lets the other rules look."""

    code = "PF993"
    function_local = True
    called: ClassVar[list[str]] = []

    def visit_With(self, node: cst.With) -> bool:
        self.note()
        return False


TEXT = """\
import os


def a():
    flag()
    return 1


def b(x):
    flag()
    return x


def c():
    flag()
    return b(2)


def d():
    return 4
"""


def _check(
    rules: list[type[Rule]], text: str, previous: ParsedFile | None, index: ProjectIndex
) -> tuple[ParsedFile, list[Diagnostic]]:
    """``text`` checked as an editor's buffer after ``previous``, against ``index`` (which
    takes its summary, as the editor's does); each rule's ``called`` tells where that check
    called it. Compared with a full check."""
    full = check_text(PATH, text, rules, name="app.m", root="/p").diagnostics
    for rule in rules:
        rule.called.clear()  # type: ignore[attr-defined]
    parsed = parse_file(PATH, text, name="app.m", root="/p", edited=True, previous=previous)
    index.add(parsed.summary)
    found = check_parsed(parsed, index, rules).diagnostics
    assert found == full
    return parsed, found


def _edited(rules: list[type[Rule]], old: str, new: str, text: str = TEXT) -> list[Diagnostic]:
    index = ProjectIndex()
    parsed, _ = _check(rules, text, None, index)
    assert old in text
    _, found = _check(rules, text.replace(old, new), parsed, index)
    return found


EDIT_D = ("    return 4", "    y = 4\n    return y")  # in a function no other mentions


def test_an_edit_in_a_function_body_keeps_the_other_functions_reports() -> None:
    found = _edited([Local, Other], *EDIT_D)
    assert Local.called == []  # a's, b's and c's reports kept: not called there
    assert Other.called == ["a", "b", "c", "c"]  # not function-local: called everywhere
    assert [d.code for d in found].count("PF990") == 3


def test_a_function_that_mentions_the_edited_one_is_walked_again() -> None:
    _edited([Local], "def b(x):\n    flag()", "def b(x):\n    flag()\n    print(x)")
    assert Local.called == ["b", "b", "c", "c"]  # c calls b


def test_a_change_of_a_functions_summary_walks_the_functions_that_use_it_again() -> None:
    _edited([Local], "def b(x):", "def b(x, y=1):")  # b's entry in the summary changed
    assert Local.called == ["b", "c", "c"]


def test_a_summary_change_beyond_the_replaced_entries_walks_every_function_again() -> None:
    _edited([Local], "def b(x):\n", "def b(x):\n    import json\n")  # the module's imports changed
    assert Local.called == ["a", "b", "c", "c"]


CLASSES = """\
class Model:
    size = 1


class Sub(Model):
    pass


def make(m: Sub):
    flag()
    return m


def other():
    flag()
    return make(Sub())


def alone():
    flag()
"""


def test_a_change_of_a_class_walks_what_leads_to_it_again() -> None:
    _edited([Local], "size = 1", "size = 2", CLASSES)  # Sub uses Model, make uses Sub, other uses make
    assert Local.called == ["make", "other", "other", "other"]


def test_an_edited_method_that_declares_global_walks_every_function_again() -> None:
    text = CLASSES.replace("    size = 1\n", "    size = 1\n\n    def grow(self):\n        global LIMIT\n        LIMIT = 1\n")
    _edited([Local], "LIMIT = 1", "LIMIT = 2", text)
    assert Local.called == ["make", "other", "other", "other", "alone"]


def test_a_module_level_statement_that_uses_a_replaced_name_walks_every_function_again() -> None:
    _edited([Local], "size = 1", "size = 2", CLASSES + "ALIAS = Model\n")
    assert Local.called == ["make", "other", "other", "other", "alone"]


@pytest.mark.parametrize(
    "importing", ["from app.m import b", "import app.m", "from app import m", "import app", "import app.m.sub"]
)
def test_a_summary_change_walks_every_function_again_when_another_module_imports_this_one(importing: str) -> None:
    index = ProjectIndex()
    index.add(parse_file("/p/app/other.py", importing + "\n", name="app.other", root="/p").summary)
    parsed, _ = _check([Local], TEXT, None, index)
    _check([Local], TEXT.replace("def b(x):", "def b(x, y=1):"), parsed, index)
    assert Local.called == ["a", "b", "c", "c"]


def test_modules_that_import_others_do_not_stop_a_summary_change_from_keeping_reports() -> None:
    index = ProjectIndex()
    index.add(parse_file("/p/app/other.py", "import os\nfrom app import helpers\n", name="app.other", root="/p").summary)
    parsed, _ = _check([Local], TEXT, None, index)
    _check([Local], TEXT.replace("def b(x):", "def b(x, y=1):"), parsed, index)
    assert Local.called == ["b", "c", "c"]


def test_a_change_of_another_module_walks_every_function_again() -> None:
    index = ProjectIndex()
    index.add(parse_file("/p/app/other.py", "X = 1\n", name="app.other", root="/p").summary)
    parsed, _ = _check([Local], TEXT, None, index)
    index.add(parse_file("/p/app/other.py", "X = 1\nY = 2\n", name="app.other", root="/p").summary)
    _check([Local], TEXT.replace(*EDIT_D), parsed, index)
    assert Local.called == ["a", "b", "c", "c"]


def test_a_module_level_edit_walks_every_function_again() -> None:
    _edited([Local], "import os\n", "import os\nLIMIT = 3\n")
    assert Local.called == ["a", "b", "c", "c"]


def test_an_edited_function_that_declares_global_walks_every_function_again() -> None:
    text = TEXT.replace("    return 4", "    global LIMIT\n    LIMIT = 5\n    return 4")
    _edited([Local], "LIMIT = 5", "LIMIT = 6", text)  # what LIMIT holds at module level may change
    assert Local.called == ["a", "b", "c", "c"]


def test_a_fact_that_changed_walks_the_functions_that_read_it_again() -> None:
    found = _edited([Local], "    flag()\n    return x", "    flag()\n    marker()\n    return x")
    assert Local.called == ["a", "b", "b", "c", "c"]
    assert {d.message for d in found} == {"flag (1 markers)"}


def test_a_report_placed_outside_its_function_is_not_kept() -> None:
    text = TEXT.replace("def a():\n    flag()", "def a():\n    far()")
    found = _edited([FixesAtTheTop], *EDIT_D, text)
    assert FixesAtTheTop.called == ["a"]  # a's fix edits the module's first statement
    assert [d.code for d in found] == ["PF992"]


def test_a_function_where_a_rule_pruned_is_not_kept() -> None:
    text = TEXT.replace("def a():\n    flag()", "def a():\n    with open(os.devnull):\n        flag()")
    _edited([Prunes, Local], *EDIT_D, text)
    assert Prunes.called == ["a"]  # a walked again: without Prunes, Local would see the call it hid
    assert Local.called == []


def test_random_edits_of_real_files_equal_a_full_check(tmp_path: Path) -> None:
    """Typing in the bodies of a real project's largest modules, and edits anywhere (see
    test_reparse), each checked as a buffer and afresh against the same index: the same
    diagnostics every time, while most functions' reports were kept (their entry is the
    same object as before the edit)."""
    unpack_ecosystem(tmp_path, "dispatch")
    workspace = Workspace(ConfigResolver(root=tmp_path), tmp_path, use_cache=False)
    files = sorted(tmp_path.rglob("*.py"), key=lambda p: (-p.stat().st_size, str(p)))
    workspace.index_only(files, None)
    rng = random.Random(20261207)
    kept = walked = 0
    for path in files[:6]:
        good = original = path.read_text(encoding="utf-8")
        workspace.check(str(path), good)
        for _ in range(15):
            lines = good.splitlines(keepends=True)
            body = [i for i, line in enumerate(lines) if line.startswith("        ") and line.rstrip()[-1:].isalnum()]
            if body and rng.random() < 0.6:
                i = rng.choice(body)
                lines[i] = lines[i].rstrip("\n") + rng.choice([" or 0", " and x", "  # typed", "1"]) + "\n"
                text = "".join(lines)
            else:
                text = _random_edit(rng, good)
            before = dict(getattr(workspace._parsed[str(path)].parsed, "kept_reports", None) or {})
            found = workspace.check(str(path), text).diagnostics
            assert found == full_check(workspace, str(path), text).diagnostics, (path, text == good)
            parsed = workspace._parsed[str(path)].parsed
            if parsed is not None:
                good = text
                now = parsed.kept_reports or {}
                kept += sum(1 for function, made in now.items() if before.get(function) is made)
                walked += sum(1 for function, made in now.items() if before.get(function) is not made)
        workspace.check(str(path), original)
    assert kept > 2 * walked > 0, (kept, walked)
