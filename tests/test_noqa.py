"""The way onto a legacy codebase: ``--add-noqa``, where a ``# noqa`` goes on lines that
cannot hold a comment, file-level ``# pitfalls: noqa``, and PF001 (unused ``# noqa``).

The CLI runs in-process (``main([...])``) on projects in a temp folder; one end-to-end case
runs it as a subprocess on a copy of the demo backend.
"""

from __future__ import annotations

import py_compile
import shutil
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import REPO, add_rules, unpack_ecosystem
from pitfalls.cli import add_noqa as add_noqa_module
from pitfalls.cli.main import main
from pitfalls.core.check import parse_file
from pitfalls.core.noqa import NOQA, NoqaComments, SegmentTokens
from pitfalls.core.positions import Positions
from pitfalls.core.source import ParseFailure, decode, parse
from pitfalls.core.rule import Rule
from pitfalls.project import run as engine
from pitfalls.project.config import ConfigResolver
from test_cli import findings

LEGACY = '''\
import requests


def fetch(url):
    a = requests.get(url)  # noqa: E501
    b = requests.get(url)  # type: ignore
    c = requests.get(url)  # noqa
    d = requests.get("https://example.com/#noqa")
    e = requests.post(url, data="""
partner""")
    f = requests.get(url) \\
        .json()
    return a, b, c, d, e, f


async def handler(url):
    return requests.get(url)  # noqa: PF103
'''

SILENCED = '''\
import requests


def fetch(url):
    a = requests.get(url)  # noqa: E501, PF103
    b = requests.get(url)  # type: ignore  # noqa: PF103
    c = requests.get(url)  # noqa
    d = requests.get("https://example.com/#noqa")  # noqa: PF103
    e = requests.post(url, data="""
partner""")  # noqa: PF103
    f = requests.get(url) \\
        .json()  # noqa: PF103
    return a, b, c, d, e, f


async def handler(url):
    return requests.get(url)  # noqa: PF103, PF404
'''


def check(root: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", str(root), "--no-cache", "--jobs", "1", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_add_noqa_silences_every_finding_and_keeps_what_is_there(project, capsys) -> None:
    root = project({"app.py": LEGACY})
    code, out, _ = check(root, capsys)
    assert code == 1 and len(findings(out)) == 6

    assert check(root, capsys, "--add-noqa") == (0, "", "Added 6 noqa directives.\n")
    assert (root / "app.py").read_text() == SILENCED
    # Nothing left, PF001 included: every code added silences a finding.
    assert check(root, capsys) == (0, "All checks passed!\n", "")
    assert check(root, capsys, "--add-noqa") == (0, "", "Added 0 noqa directives.\n")
    assert (root / "app.py").read_text() == SILENCED


def test_add_noqa_keeps_line_endings_and_encoding(project, capsys) -> None:
    root = project({})
    crlf = "import requests\r\nrequests.get(url)\r\nx = 1\r\n"
    (root / "crlf.py").write_bytes(crlf.encode())
    latin1 = "# -*- coding: latin-1 -*-\nimport requests\nrequests.get('caf\u00e9')\n"
    (root / "latin1.py").write_bytes(latin1.encode("latin-1"))

    assert check(root, capsys, "--add-noqa") == (0, "", "Added 2 noqa directives.\n")
    assert (root / "crlf.py").read_bytes() == b"import requests\r\nrequests.get(url)  # noqa: PF103\r\nx = 1\r\n"
    assert (root / "latin1.py").read_bytes() == latin1.replace("')", "')  # noqa: PF103").encode("latin-1")


def test_add_noqa_leaves_a_file_changed_since_the_check(project, capsys) -> None:
    root = project({"a.py": "import requests\nrequests.get(url)\n", "b.py": "import requests\nrequests.get(url)\n"})
    result = engine.check_files(sorted(root.glob("*.py")), ConfigResolver(root=root), use_cache=False, jobs=1)
    (root / "a.py").write_text("import requests\nrequests.get(url)  # edited meanwhile\n")

    assert add_noqa_module.add_noqa(result) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"pitfalls: error: {result.displays[str(root / 'a.py')]}: file changed while pitfalls "
                   "was running; no noqa added", "Added 1 noqa directive."]
    assert (root / "a.py").read_text() == "import requests\nrequests.get(url)  # edited meanwhile\n"
    assert (root / "b.py").read_text() == "import requests\nrequests.get(url)  # noqa: PF103\n"


def test_add_noqa_with_fix_is_a_usage_error(project, capsys) -> None:
    root = project({"a.py": "import requests\nrequests.get(url)\n"})
    code, out, err = check(root, capsys, "--add-noqa", "--fix")
    assert (code, out) == (2, "")
    assert err == "pitfalls: error: --add-noqa silences the findings as they are; use it without --fix or --diff\n"
    assert (root / "a.py").read_text() == "import requests\nrequests.get(url)\n"


def test_add_noqa_end_to_end_on_the_demo(tmp_path: Path, cli) -> None:
    root = tmp_path / "demo"
    shutil.copytree(REPO / "examples" / "demo", root)
    before = findings(cli("check", ".", "--no-cache", cwd=root).stdout)
    assert len(before) > 20

    proc = cli("check", ".", "--add-noqa", "--no-cache", cwd=root)
    assert proc.returncode == 0 and proc.stdout == ""
    assert proc.stderr.startswith("Added ") and proc.stderr.endswith(" noqa directives.\n")

    after = cli("check", ".", "--no-cache", cwd=root)
    # Only the file that does not parse is left: it takes no comment.
    assert [(path, code) for path, _, _, code in findings(after.stdout)] == [("app/routers/reports.py", "PF000")]
    for path in root.rglob("*.py"):
        if path.name != "reports.py":
            py_compile.compile(str(path), doraise=True, cfile=str(tmp_path / "compiled.pyc"))


# ---------------------------------------------------------------------------------------
# File-level exemption


ASYNC_FETCH = "import requests\n\n\nasync def fetch(url):\n    return requests.get(url)\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("# pitfalls: noqa\n", []),
        ("#pitfalls:noqa: PF103\n", ["PF404"]),
        ("# Pitfalls: NOQA: pf103, PF404 -- generated client\n", []),
        # Not on a line of its own, a bad code list, inside a string: no exemption.
        ("x = 1  # pitfalls: noqa\n", ["PF103", "PF404"]),
        ("# pitfalls: noqa: all\n", ["PF103", "PF404"]),
        ('"""\n# pitfalls: noqa\n"""\n', ["PF103", "PF404"]),
    ],
    ids=["all", "one-code", "codes-and-reason", "after-code", "bad-codes", "in-docstring"],
)
def test_file_level_noqa(project, capsys, header: str, expected: list[str]) -> None:
    root = project({"client.py": header + ASYNC_FETCH})
    _, out, _ = check(root, capsys)
    assert sorted(code for *_, code in findings(out)) == expected


def test_file_level_noqa_anywhere_in_the_file(project, capsys) -> None:
    root = project({"client.py": ASYNC_FETCH + "\n    # pitfalls: noqa\n"})
    assert check(root, capsys) == (0, "All checks passed!\n", "")


# ---------------------------------------------------------------------------------------
# PF001: which codes it may judge


def test_unused_noqa_only_judges_rules_that_ran(project, capsys) -> None:
    root = project({
        "app.py": "import requests\n\nrequests.get(url, timeout=5)  # noqa: PF103\nx = 1  # noqa: E501, PF10\n",
        "pyproject.toml": '[tool.pitfalls]\nper-file-ignores = { "other.py" = ["PF103"] }\n',
    })
    (root / "other.py").write_text((root / "app.py").read_text())
    _, out, _ = check(root, capsys, "--select", "PF001")
    assert named(out) == [("app.py", 4, 8, "PF001"), ("other.py", 4, 8, "PF001")]
    assert "PF001 [*] Unused `noqa` directive (unknown: `PF10`)" in out
    # PF103 ran on app.py only: other.py ignores it.
    _, out, _ = check(root, capsys, "--select", "PF001,PF103")
    assert named(out) == [("app.py", 3, 31, "PF001"), ("app.py", 4, 8, "PF001"), ("other.py", 4, 8, "PF001")]


def named(out: str) -> list[tuple[str, int, int, str]]:
    return [(Path(path).name, row, column, code) for path, row, column, code in findings(out)]


class _Crashes(Rule):
    """Test rule: fails on every call, so it never runs to the end."""

    code = "PF992"
    name = "test-crashes"
    summary = "test rule that crashes"

    def visit_Call(self, node: cst.Call) -> None:
        raise RuntimeError("boom")


def test_unused_noqa_says_nothing_of_a_rule_that_crashed(project, capsys, monkeypatch) -> None:
    add_rules(monkeypatch, _Crashes)
    root = project({"app.py": "print(1)  # noqa: PF992\nx = 1  # noqa: PF992\n"})
    code, out, err = check(root, capsys)
    assert (code, out) == (0, "All checks passed!\n")
    assert "PF992 failed on" in err


def test_a_rule_without_its_schema_does_not_run_nor_judge_its_noqa(project, capsys) -> None:
    """PF505 can say nothing without a Directus schema: it does not run, and a `# noqa:
    PF505` is not called unused there; with a snapshot it runs, and the same comment is."""
    from pitfalls.rules._directus import example_files

    app = 'async def load(directus):\n    return await directus.items("articles").read_many()  # noqa: PF505\n'
    root = project({"app.py": app})
    assert check(root, capsys, "--select", "PF001,PF505")[:2] == (0, "All checks passed!\n")
    for name, text in example_files({"articles": ["id", "title"]}).items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.pitfalls.directus]\nsnapshot = "snap.json"\n', encoding="utf-8")
    _, out, _ = check(root, capsys, "--select", "PF001,PF505")
    assert named(out) == [("app.py", 2, 58, "PF001")]


# -- where a `# noqa` goes, found statement by statement --------------------------------------

TOKENS = {
    "strings and continuations": LEGACY + SILENCED,
    "header, decorators, comments between statements": (
        "#!/usr/bin/env python\n# pitfalls: noqa: PF101\n\"\"\"Doc # noqa\"\"\"\n\n\n@decorate(\n    '''\n# noqa\n''')\n"
        "class A:  # noqa: PF201\n    x = '# noqa'  # noqa: PF102\n\n    # between\n    def f(self):\n        return (1,\n"
        "                # noqa: PF103\n                2)\n# trailing comment\nx = 1 \\\n    + 2  # noqa\n"
    ),
    "no final newline, CRLF and lone CR": "a = 1  # noqa\r\nb = '''x\r\n# noqa'''\rc = 2  # noqa: PF101",
    "form feed": "a = 1\n\x0c\ndef f():\n    return 1  # noqa: PF101\n",
    "f-strings": "x = f'{1}#{2}'  # noqa: PF103\ny = f'''\n{x}  # noqa\n'''  # noqa: PF104\n",
}


def assert_scans_agree(
    source: str, module: cst.Module, positions: Positions, known: dict[str, SegmentTokens] | None = None
) -> bool:
    """Statement by statement (as a check does; with ``known``, the segments an earlier
    text tokenized too) and whole: the same answer for every line; whether the text's
    lines were answered without tokenizing the whole text."""
    whole = NoqaComments(source)
    for split in (NoqaComments(source, positions.statement_lines), NoqaComments(source, positions.statement_lines, known)):
        lines = range(1, len(whole.lines) + 1)
        for line1 in lines:
            assert split.target(line1) == whole.target(line1), line1
            assert split.directives(line1) == whole.directives(line1), line1
            assert split.insertion(line1, ["PF101"]) == whole.insertion(line1, ["PF101"]), line1
            for code in ("PF101", "PF103"):
                expected = _silenced_by_tokens(whole, line1, code)
                assert split.silenced_at(line1, code) == whole.silenced_at(line1, code) == expected
        assert split.exempts("PF101") == whole.exempts("PF101") and split.exempts("PF102") == whole.exempts("PF102")
        in_parts = "_scan" not in vars(split)
        for line1 in (-1, 0, len(whole.lines) + 1):
            assert split.target(line1) == whole.target(line1) and split.directives(line1) == whole.directives(line1)
    return in_parts


def _silenced_by_tokens(comments: NoqaComments, line1: int, code: str) -> int | None:
    """``silenced_at`` as the tokens alone decide it."""
    target = comments.target(line1)
    return target if target is not None and any(d.covers(code) for d in comments.directives(target)) else None


@pytest.mark.parametrize("case", TOKENS)
def test_a_noqa_is_found_statement_by_statement_as_in_the_whole_text(case: str) -> None:
    source = TOKENS[case]
    module = cst.parse_module(source)
    assert assert_scans_agree(source, module, Positions(module, source)) or case == "form feed"
    # An edit re-parsed in place: the statements' starts come from the kept spans.
    before = parse_file("m.py", source, name="m")
    earlier = NoqaComments(source, before.positions.statement_lines)
    for line1 in range(1, len(earlier.lines) + 1):
        earlier.directives(line1)
    edited = source.replace("return", "return  0 or", 1) if "return" in source else source + "z = 3\n"
    after = parse_file("m.py", edited, name="m", previous=before, edited=True)
    assert_scans_agree(edited, after.module, after.positions, earlier.tokenized)


def test_an_edit_tokenizes_again_only_the_statements_it_changed() -> None:
    """The next text of a buffer takes the tokens of the statements whose text it kept,
    wherever they moved; only the edited ones are tokenized again."""
    source = TOKENS["header, decorators, comments between statements"]
    before = parse_file("m.py", source, name="m", edited=True)
    earlier = NoqaComments(source, before.positions.statement_lines)
    for line1 in range(1, len(earlier.lines) + 1):
        earlier.directives(line1)
    edited = source.replace("return (1,", "return (\n                10,")  # the statements after it move a line down
    after = parse_file("m.py", edited, name="m", previous=before, edited=True)
    later = NoqaComments(edited, after.positions.statement_lines, earlier.tokenized)
    for line1 in range(1, len(later.lines) + 1):
        later.directives(line1)
    taken = {text for text, tokens in later.tokenized.items() if earlier.tokenized.get(text) is tokens}
    assert taken and len(taken) == len(later.tokenized) - 1  # all but the class the edit changed
    assert all("10," not in text for text in taken)
    assert_scans_agree(edited, after.module, after.positions, earlier.tokenized)


def test_a_noqa_is_found_statement_by_statement_in_the_ecosystem_projects(tmp_path: Path) -> None:
    unpack_ecosystem(tmp_path)
    compared = split = 0
    for path in sorted(tmp_path.rglob("*.py")):
        source = decode(str(path), path.read_bytes())
        if "noqa" not in source.lower():
            continue
        try:
            module = parse(str(path), source)
        except ParseFailure:
            continue
        split += assert_scans_agree(source, module, Positions(module, source))
        compared += 1
    assert compared > 100 and split > compared * 0.9


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["x = 1", "#", " ", "noqa", "NoQA", ": PF101", "'", "\n", "\r\n", "\r", "\x0c", "\u2028"]), max_size=30))
def test_the_lines_holding_a_noqa_are_found_without_searching_every_line(pieces: list[str]) -> None:
    """PF001 and the noqa placement look only at the lines that say noqa: the same lines as
    searching each line (lines end at \\n, \\r\\n and \\r only)."""
    comments = NoqaComments("".join(pieces))
    assert comments.noqa_lines == [i for i, line in enumerate(comments.lines, start=1) if NOQA.search(line)]
