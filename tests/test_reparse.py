"""An edit re-parsed in place (pitfalls.core.reparse) gives what a full parse gives: the
same tree, the same diagnostics. The thousand random edits below walk the example
projects' modules through typing, deleting, pasting and breaking the syntax, and compare
the editor's path with a full check each time."""

from __future__ import annotations

import __future__
import random
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider
from pitfalls.core.check import FileOutcome, ParsedFile, check_text, parse_file
from pitfalls.core.positions import Positions, spliced_in_class
from pitfalls.core.reparse import common_prefix, common_suffix, future_imports, reparse
from pitfalls.core.source import ParseFailure
from pitfalls.core.summary import summarize
from pitfalls.core.walker import iter_nodes
from pitfalls.project.config import ConfigResolver
from pitfalls.project.run import rules_for
from pitfalls.project.workspace import Workspace

from conftest import unpack_ecosystem

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo"


def _spliced(source: str, new_source: str) -> cst.Module | None:
    module = cst.parse_module(source)
    splice = reparse(module, source, Positions(module, source), new_source)
    return None if splice is None else splice.module


def test_common_prefix_and_suffix() -> None:
    assert common_prefix("abcdef", "abcxef") == 3
    assert common_prefix("abc", "abc") == 3
    assert common_prefix("", "abc") == 0
    # The suffix never overlaps the prefix: "aa" -> "aaa" inserts one "a".
    assert common_suffix("aa", "aaa", 2 - common_prefix("aa", "aaa")) == 0
    assert common_suffix("xbcd", "ybcd", 4) == 3


SPLICED = {
    "an edit inside a function": ("def f():\n    return 1\n\n\ndef g():\n    pass\n", "def f():\n    return 12\n\n\ndef g():\n    pass\n"),
    "a new statement between two": ("import a\n\nx = 1\n\ny = 2\n", "import a\n\nx = 1\nz = 3\n\ny = 2\n"),
    "a statement deleted": ("a = 1\nb = 2\nc = 3\n", "a = 1\nc = 3\n"),
    "a comment typed above a def": ("x = 1\n\n\ndef f():\n    pass\n", "x = 1\n\n# why\ndef f():\n    pass\n"),
    "the header comment edited": ("# one\n\nimport a\nimport b\n", "# one two\n\nimport a\nimport b\n"),
    "the footer edited": ("x = 1\ny = 2\n# end\n", "x = 1\ny = 2\n# the end\n"),
    "a method's body, tab-indented": ("class C:\n\tdef m(self):\n\t\treturn 1\n\nz = 0\n", "class C:\n\tdef m(self):\n\t\treturn 2\n\nz = 0\n"),
    "windows line endings": ("a = 1\r\nif a:\r\n    b = 2\r\nc = 3\r\n", "a = 1\r\nif a:\r\n    b = 22\r\nc = 3\r\n"),
    "no final newline": ("a = 1\nb = 2", "a = 1\nb = 23"),
}


@pytest.mark.parametrize("name", SPLICED)
def test_splices_equal_a_full_parse(name: str) -> None:
    source, new_source = SPLICED[name]
    spliced = _spliced(source, new_source)
    assert spliced is not None, name
    assert spliced.code == new_source
    assert spliced.deep_equals(cst.parse_module(new_source))


def test_an_edit_generates_the_code_of_what_it_parsed_and_what_is_asked_alone() -> None:
    """Where each statement's text starts and ends comes from CPython's tree of the text
    at the first parse, then from the edits: an edit generates the code of the statement
    it re-parsed, and positions asked for then, of their statement (not of the whole file,
    which a first keystroke after opening a long file used to pay for)."""
    source = "".join(f"def f{i}(x):\n    return requests.get(x)\n\n\n" for i in range(50))
    where = {"name": "m", "edited": True}
    before = parse_file("m.py", source, **where)
    before.positions.range(before.module.body[10].body.body[0].body[0].value)  # a finding's
    new_source = source.replace("def f40(x):\n    return requests.get(x)", "def f40(x):\n    return requests.get(x, 1)")
    after = parse_file("m.py", new_source, **where, previous=before)
    assert after.module.body[0] is before.module.body[0]  # re-parsed in place
    call = after.module.body[45].body.body[0].body[0].value
    expected = MetadataWrapper(cst.parse_module(new_source)).resolve(PositionProvider)
    span = next(span for node, span in expected.items() if isinstance(node, cst.Call) and span.start.line == 182)
    start, end = after.positions.range(call)
    assert (start.line, start.column, end.line, end.column) == (span.start.line, span.start.column, span.end.line, span.end.column)
    assert len(after.positions._pieces) <= 3  # f10's (kept), f40's (re-parsed), f45's (asked)


def test_unchanged_statements_keep_their_nodes() -> None:
    source = "a = 1\n\n\ndef f():\n    return 1\n\n\nb = 2\n"
    module = cst.parse_module(source)
    splice = reparse(module, source, Positions(module, source), source.replace("return 1", "return 10"))
    assert splice is not None
    spliced = splice.module
    assert spliced.body[0] is module.body[0] and spliced.body[2] is module.body[2]
    assert spliced.body[1] is not module.body[1]
    assert splice.piece == "\n\ndef f():\n    return 10\n"  # the statement re-parsed, with its leading lines


SERVICE = """\
import requests


class Service:
    timeout = 5

    def fetch(self, url) -> requests.Response:
        return requests.get(url, timeout=self.timeout)

    # Why it retries.
    @staticmethod
    def retry(n):
        return [n] * 3

    async def close(self):
        pass
"""


# (the text replaced, its replacement, the statement of the class's block edited)
METHOD_EDITS = {
    "a method between two": ("[n] * 3", "[n] * 34", 2),
    "the last method": ("        pass\n", "        return 1\n", 3),  # (its end is the class's: positions move)
    "the last method, to a comment": ("        pass\n", "        pass  # done\n", 3),
    "the first statement": ("timeout = 5", "timeout = 50", 0),  # (the block's start moves)
    "the first statement's leading line": ("class Service:\n", "class Service:\n    # why\n", 0),
}


@pytest.mark.parametrize("edit", METHOD_EDITS)
@pytest.mark.parametrize("alone", [False, True], ids=["after an import", "alone in its file"])
def test_an_edit_inside_a_method_parses_that_method_alone(alone: bool, edit: str) -> None:
    """Its class keeps its other statements (their nodes), their spans and their summaries;
    the tree, the positions of every node and the summary are a full parse's."""
    where = {"name": "app.m", "root": "/p", "is_package": False}
    source = SERVICE.replace("import requests\n\n\n", "") if alone else SERVICE
    before = parse_file("/p/app/m.py", source, edited=True, **where)
    assert before.positions.range(before.module)  # as the editor has them: computed
    replaced, replacement, edited = METHOD_EDITS[edit]
    text = source.replace(replaced, replacement)
    after = parse_file("/p/app/m.py", text, previous=before, edited=True, **where)
    old, new = before.module.body[-1], after.module.body[-1]
    assert new is not old and after.module.body[:-1] == before.module.body[:-1]
    assert after.earlier is not None or "positions" in vars(after)  # the class's spans made from the last ones
    kept = [a is b for a, b in zip(old.body.body, new.body.body)]
    assert kept == [i != edited for i in range(4)]
    full = _same_as_a_full_parse(after, text)
    assert after.summary == summarize(full, path="/p/app/m.py", **where)
    methods = [after.summary.classes["Service"].methods[m] is before.summary.classes["Service"].methods[m] for m in ("fetch", "retry", "close")]
    assert methods == [i != edited for i in (1, 2, 3)]


def _same_as_a_full_parse(parsed: ParsedFile, text: str) -> cst.Module:
    """The full parse of ``text``, which ``parsed``'s tree equals, with every node where
    libcst's PositionProvider puts it."""
    full = cst.parse_module(text)
    assert parsed.module.deep_equals(full) and parsed.module.code == text
    expected = MetadataWrapper(full, unsafe_skip_copy=True).resolve(PositionProvider)
    for mine, theirs in zip(iter_nodes(parsed.module, tokens=True), iter_nodes(full, tokens=True)):
        start, end = parsed.positions.range(mine)
        span = expected[theirs]
        assert (start.line, start.column, end.line, end.column) == (
            span.start.line, span.start.column, span.end.line, span.end.column,
        ), type(mine).__name__
    return full


def test_edits_in_a_row_inside_a_class_keep_every_position() -> None:
    """Each edit moves the spans the one before made (a class's spans are kept per
    statement of its block after its first edit)."""
    text = SERVICE
    parsed = parse_file("/p/app/m.py", text, name="app.m", edited=True)
    for replaced, replacement in [
        ("[n] * 3", "[n] * 34"), ("        pass\n", "        return 1\n"), ("timeout = 5", "timeout = 50"),
        ("return 1\n", "return 1  # done\n"), ("class Service:\n", "class Service:\n    # why\n"), ("* 34", "* 3"),
    ]:
        parsed.positions  # (as the editor has them)
        assert replaced in text
        text = text.replace(replaced, replacement, 1)
        edited = parse_file("/p/app/m.py", text, name="app.m", edited=True, previous=parsed)
        assert edited.module.body[0] is parsed.module.body[0]  # the class re-parsed in part
        _same_as_a_full_parse(edited, text)
        parsed = edited


FULL_PARSE = {
    # The first indented block sets the file's default indent: changing it changes how
    # every other block is represented.
    "the first block's indent changes": ("if a:\n    x = 1\nif b:\n    y = 2\n", "if a:\n  x = 1\nif b:\n    y = 2\n"),
    "the first block is removed": ("if a:\n  x = 1\nif b:\n    y = 2\n", "x = 1\nif b:\n    y = 2\n"),
    "the first line ending changes": ("a = 1\nb = 2\nc = 3\n", "a = 1\r\nb = 2\nc = 3\n"),
    "a form feed": ("a = 1\nb = 2\n", "a = 1\n\x0cb = 2\n"),
    "an indented line typed after a block": ("def f():\n    pass\nx = 1\n", "def f():\n    pass\n    y = 2\nx = 1\n"),
    "everything deleted": ("a = 1\n", ""),
    # Typed right before a statement's first token: the deeper line closes the block above.
    "an indented comment typed before a class": (
        "class A:\n    def f(self):\n        return 1\n\n\nclass B:\n    pass\n",
        "class A:\n    def f(self):\n        return 1\n\n\n        # why\nclass B:\n    pass\n",
    ),
    # In a class's last statement: the text typed ends the class, or lies around its end.
    "a statement typed at column 0 in a class's last method": (
        "class A:\n    x = 0\n\n    def f(self):\n        a = 1\n        return a\n",
        "class A:\n    x = 0\n\n    def f(self):\n        a = 1\nb = 2\ndef g():\n        return a\n",
    ),
    "a deeper comment typed after a class's last method": (
        "class A:\n    x = 0\n\n    def f(self):\n        return 1\n\n\ny = 2\n",
        "class A:\n    x = 0\n\n    def f(self):\n        return 1\n            # why\n\n\ny = 2\n",
    ),
    # A backslash alone on a line, which libcst's code leaves out: offsets into the
    # class's code are not offsets into its text.
    "an edit in a class libcst does not give back": (
        "class A:\n    x = 1\n    \\\n    y = 3\n\n    def f(self):\n        return 1\n",
        "class A:\n    x = 1\n    \\\n    y = 3\n\n    def f(self):\n        return 12\n",
    ),
    "an indented comment typed before a method": (
        "class A:\n    x = 0\n\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n\n    y = 2\n",
        "class A:\n    x = 0\n\n    def f(self):\n        return 1\n\n            # why\n    def g(self):\n        pass\n\n    y = 2\n",
    ),
}


@pytest.mark.parametrize("name", FULL_PARSE)
def test_full_parse_where_a_splice_would_differ(name: str) -> None:
    source, new_source = FULL_PARSE[name]
    spliced = _spliced(source, new_source)
    # A splice is allowed only when it is exact.
    assert spliced is None or spliced.deep_equals(cst.parse_module(new_source)), name


def test_an_indented_line_after_a_block_joins_the_block() -> None:
    source, new_source = FULL_PARSE["an indented line typed after a block"]
    spliced = _spliced(source, new_source)
    full = cst.parse_module(new_source)
    assert spliced is None or spliced.deep_equals(full)
    assert len(full.body) == 2


# -- a thousand random edits -------------------------------------------------------------

PIECES = ["a", "x", "1", "_", " ", "    ", "\t", "\n", "\n\n", "(", ")", "[", "]", ":", ",", ".", "#", "'", '"', "\\",
          "=", "def ", "class ", "if x:", "return ", "await ", "import os\n", "    pass\n", "\r\n"]


def _random_edit(rng: random.Random, text: str) -> str:
    """One edit a person might make: type, delete, paste or move a line, indent."""
    kind = rng.random()
    at = rng.randrange(len(text) + 1)
    lines = text.splitlines(keepends=True)
    if kind < 0.3:  # typing inside a word or a number
        while 0 < at and not text[at - 1].isalnum():
            at -= 1
        return text[:at] + rng.choice("abcxyz_019") + text[at:]
    if kind < 0.55 or not lines:
        return text[:at] + rng.choice(PIECES) + text[at:]
    if kind < 0.7:
        return text[:at] + text[at + rng.randint(1, 6) :]
    line = rng.randrange(len(lines))
    if kind < 0.8:
        lines.insert(rng.randrange(len(lines) + 1), lines[line])  # paste a copy of a line
    elif kind < 0.9:
        del lines[line]
    elif kind < 0.95:
        lines[line] = "    " + lines[line]
    else:
        lines[line] = lines[line][4:] if lines[line].startswith("    ") else lines[line].lstrip()
    return "".join(lines)


def _sample_files() -> list[Path]:
    """The demo project's modules (it has findings) and the clean one's: fixtures that
    change rarely, so the walk below stays the same walk."""
    files = [*sorted((DEMO / "app").rglob("*.py")), *sorted((REPO / "examples" / "clean" / "app").rglob("*.py"))]
    return [p for p in files if p.stat().st_size > 600]


def full_check(workspace: Workspace, path: str, text: str) -> FileOutcome:
    """``text`` parsed afresh and checked against the workspace's index: nothing kept from
    an earlier text (tree, positions, walks, node facts, noqa tokens)."""
    config = workspace.config
    name, root, is_package = config.module_name(path)
    return check_text(
        path, text, rules_for(config, path), name=name, root=root, is_package=is_package, index=workspace.index,
        settings=config.settings_for(path), schemas=config.schemas_for(path),
    )


def test_a_thousand_random_edits_equal_a_full_check() -> None:
    """Each edit goes through the editor's path (Workspace.check: the tree re-parsed in
    place from the last one that parsed, positions reused) and through a full parse and
    check of the same text against the same index; trees and diagnostics must agree."""
    rng = random.Random(20261203)
    workspace = Workspace(ConfigResolver(root=DEMO), DEMO, use_cache=False)
    workspace.scan()
    files = _sample_files()
    assert len(files) >= 10
    edits = spliced = in_class = at_class_end = findings = parsing = 0
    while edits < 1000:
        path = str(rng.choice(files))
        original = Path(path).read_text(encoding="utf-8")
        text = good = original
        workspace.check(path, text)
        for _ in range(rng.randint(5, 25)):
            if text != good and rng.random() < 0.9:
                text = good  # the typo undone
            text = _random_edit(rng, text) if rng.random() < 0.9 else original
            previous = workspace._parsed[path].parsed or workspace._parsed[path].last_good
            outcome = workspace.check(path, text)
            full = full_check(workspace, path, text)
            assert outcome.diagnostics == full.diagnostics, (path, edits)
            findings += len(outcome.diagnostics)
            edits += 1
            mine = workspace._parsed[path].parsed
            if mine is None:
                continue
            good = text
            parsing += 1
            name, root, is_package = workspace.config.module_name(path)
            assert mine.summary == summarize(mine.module, name=name, path=path, root=root, is_package=is_package), (path, edits)
            assert mine.fingerprint in (None, mine.summary.fingerprint()), (path, edits)
            old = previous.module.body if previous is not None and mine.module is not previous.module else ()
            new = mine.module.body
            if old and new and (old[0] is new[0] or old[-1] is new[-1]):
                spliced += 1
                inside = [(a, b) for a, b in zip(old, new) if a is not b and spliced_in_class(a, b)]
                in_class += bool(inside)
                at_class_end += any(a.body.body[-1] is not b.body.body[-1] for a, b in inside)
                try:
                    whole = parse_file(path, text, name="m")
                except ParseFailure:  # libcst refuses what the splice accepted: never
                    pytest.fail(f"a splice accepted text a full parse refuses ({path}, edit {edits})")
                assert mine.module.deep_equals(whole.module), (path, edits)
        workspace.check(path, original)
    # The comparison means something only if most edits parsed, most of those were
    # spliced, and the checks found things.
    print(f"{edits} edits, {parsing} parsed, {spliced} spliced ({in_class} inside a class, {at_class_end} at its end), "
          f"{findings} findings")
    assert parsing > 600 and spliced > parsing * 0.6, (parsing, spliced)
    assert in_class > 50 and at_class_end > 10, (in_class, at_class_end)
    assert findings > 500, findings


def _reparsed_as_a_full_parse(path: Path, text: str, parsed: ParsedFile, at: int) -> tuple[ParsedFile, cst.Module] | None:
    """``text`` (``parsed``'s text edited at ``at``) parsed as the editor does, and as a full
    parse does, after asserting the two trees are equal; None when Python refuses it."""
    try:
        edited = parse_file(str(path), text, name="m", edited=True, previous=parsed)
    except ParseFailure:
        return None
    full = cst.parse_module(text)
    assert edited.module.deep_equals(full), (path, at)
    return edited, full


# What is typed into real classes, besides single characters: lines, a method, a comment.
CLASS_PIECES = ["x", "1", "_", " ", "(", ":", ",", "#", '"', "\\", "\n", "\n    # note\n", "\n        y = 2\n",
                "\n    def z(self):\n        pass\n", "\n# top\n", "pass", "\n    "]


def test_random_edits_inside_real_classes_equal_a_full_parse(tmp_path: Path) -> None:
    """Edits in the classes of a real project (models, services, tables), most in their
    first or last statement, some in files with Windows line endings: the tree is a full
    parse's, every node is where positions computed afresh put it, the summary is the
    same; and most of those edits were re-parsed inside their class."""
    unpack_ecosystem(tmp_path, "fief")
    rng = random.Random(20261206)
    files = sorted(tmp_path.rglob("*.py"))
    counts = {"start": 0, "end": 0, "between": 0, "edits": 0}
    for path in rng.sample(files, 80):
        source = path.read_text(encoding="utf-8")
        source = source.replace("\n", "\r\n") if rng.random() < 0.25 else source
        parsed = parse_file(str(path), source, name="m", edited=True)
        for _ in range(8):
            classes = [s for s in parsed.module.body if type(s) is cst.ClassDef and type(s.body) is cst.IndentedBlock]
            if not classes:
                break
            cls = rng.choice(classes)
            base, spans = parsed.positions.spans_of(cls)
            statement = rng.choice([cls.body.body[0], cls.body.body[-1], rng.choice(cls.body.body)])
            start, end = spans[statement]
            at = base + rng.randint(start, max(start, end - 1))
            text = source[:at] + rng.choice(CLASS_PIECES) + source[at:]
            found = _reparsed_as_a_full_parse(path, text, parsed, at)
            if found is None:
                continue
            edited, full = found
            counts["edits"] += 1
            fresh = Positions(edited.module, text)
            for node in iter_nodes(edited.module, tokens=True):
                assert edited.positions.range(node) == fresh.range(node), (path, at, type(node).__name__)
            assert edited.summary == summarize(full, path=str(path), name="m", root="", is_package=False), (path, at)
            old, new = parsed.module.body, edited.module.body
            changed = [(a, b) for a, b in zip(old, new) if a is not b]
            if len(old) == len(new) and len(changed) == 1 and spliced_in_class(*changed[0]):
                a, b = changed[0]
                inner, earlier = b.body.body, a.body.body
                counts["start" if inner[0] is not earlier[0] else "end" if inner[-1] is not earlier[-1] else "between"] += 1
            source, parsed = text, edited
    print(counts)
    assert counts["start"] > 50 and counts["end"] > 30 and counts["between"] > 8, counts


# What is typed anywhere in a module: characters, a backslash alone on a line, lines, a def.
MODULE_PIECES = ["x", "1", " ", "(", ")", ":", "#", "'", "\\", "\n\\\n", "\n", "\n\n", "\n# note\n", "@d\n",
                 "\n    y = 2\n", "\ndef z():\n    pass\n", "pass"]


def _generated_extents(module: cst.Module, text: str) -> list[tuple[int, int, int]]:
    """Each statement's extents as the code generated for every statement gives them."""
    positions = Positions(module, text)
    return [
        (base, base + positions.spans_of(stmt)[1][stmt][0], base + positions._piece(stmt).length)
        for stmt, base in positions._base.items()
    ]


def test_random_edits_anywhere_in_real_files_place_nodes_without_generating_every_statement(tmp_path: Path) -> None:
    """Edits at random places of a real project's modules (between statements, in
    decorators, a backslash alone on a line), positions asked for a few nodes between
    them as findings would: the tree is a full parse's, where each statement starts and
    ends is what generating every statement's code gives, the nodes asked for are where
    positions computed afresh put them; and an edit generates the code of a few
    statements, not of the whole module."""
    unpack_ecosystem(tmp_path, "mealie")
    rng = random.Random(20261207)
    files = [p for p in sorted(tmp_path.rglob("*.py")) if p.stat().st_size > 2000]
    counts = {"edits": 0, "spliced": 0, "generated": 0, "statements": 0, "nodes": 0}
    for path in rng.sample(files, 40):
        source = path.read_text(encoding="utf-8")
        parsed = parse_file(str(path), source, name="m", edited=True)
        for _ in range(8):
            nodes = list(iter_nodes(parsed.module))
            for node in rng.sample(nodes, min(3, len(nodes))):
                parsed.positions.range(node)
            at = rng.randint(0, len(source))
            text = source[:at] + rng.choice(MODULE_PIECES) + source[at:]
            before = len(parsed.positions._pieces)
            found = _reparsed_as_a_full_parse(path, text, parsed, at)
            if found is None:
                continue
            edited, full = found
            counts["edits"] += 1
            old, new = parsed.module.body, edited.module.body
            if old and new and (old[0] is new[0] or old[-1] is new[-1]):
                counts["spliced"] += 1
                earlier = parsed.positions._pieces  # (those the re-parse generated included)
                counts["generated"] += len(earlier) - before
                counts["generated"] += sum(earlier.get(s) is not p for s, p in edited.positions._pieces.items())
                counts["statements"] += len(new)
            if full.code == text:
                assert edited.positions.statement_extents() == _generated_extents(full, text), (path, at)
            fresh, sample = Positions(full, text), list(iter_nodes(edited.module, tokens=True))
            twins = list(iter_nodes(full, tokens=True))
            for i in rng.sample(range(len(sample)), min(30, len(sample))):
                try:
                    expected = fresh.range(twins[i])
                except KeyError:
                    continue  # a token libcst's code never writes (`**` missing in a `match` mapping)
                assert edited.positions.range(sample[i]) == expected, (path, at, type(sample[i]).__name__)
                counts["nodes"] += 1
            source, parsed = text, edited
    print(counts)
    assert counts["spliced"] > 100 and counts["nodes"] > 3000, counts
    # An edit generates the code of the statements it re-parsed (one or two), not of all.
    assert counts["generated"] < 2 * counts["spliced"] and counts["statements"] > 10 * counts["spliced"], counts


# (a text, an edit of it that leaves its class statement as it was, but not what it means)
RESUMMARISED = {
    "its base imported from elsewhere": (
        "from a import Base\n\n\nclass C(Base):\n    x: int = 1\n",
        "from b import Base\n\n\nclass C(Base):\n    x: int = 1\n",
    ),
    "a TypeVar defined above it": (
        "from typing import Generic\nT = 1\n\n\nclass C(Generic[T]):\n    x: int = 1\n",
        "from typing import Generic, TypeVar\nT = TypeVar('T')\n\n\nclass C(Generic[T]):\n    x: int = 1\n",
    ),
    "the annotation's class defined above it": (
        "class Modle:\n    pass\n\n\ndef f() -> Model:\n    return g()\n",
        "class Model:\n    pass\n\n\ndef f() -> Model:\n    return g()\n",
    ),
}


@pytest.mark.parametrize("name", sorted(RESUMMARISED))
def test_an_unchanged_statement_is_summarised_again_when_what_it_names_changed(name: str) -> None:
    """An edit's summary reuses what an unchanged class or function statement added only
    while every name it resolved resolves the same way."""
    source, new_source = RESUMMARISED[name]
    where = {"name": "app.m", "root": "/p", "is_package": False}
    previous = parse_file("/p/app/m.py", source, edited=True, **where)
    edited = parse_file("/p/app/m.py", new_source, previous=previous, edited=True, **where)
    assert edited.module.body[-1] is previous.module.body[-1]  # spliced: the statement kept
    assert edited.summary == summarize(cst.parse_module(new_source), path="/p/app/m.py", **where)
    assert edited.summary != previous.summary
    assert edited.fingerprint == edited.summary.fingerprint() != previous.fingerprint


def test_no_splice_where_libcst_does_not_give_the_text_back() -> None:
    """libcst drops a form feed at the start of a line, so offsets into its code and into
    the text differ from there on: such a text is always parsed whole."""
    source = "a = 1\n\x0cb = 2\nc = 3\n"
    module = cst.parse_module(source)
    assert module.code != source
    assert Positions(module, source).statement_extents() is None or "\x0c" in source
    assert reparse(module, source, Positions(module, source), source.replace("c = 3", "c = 4")) is None


# (a text CPython compiles, an edit of it): the edited statements compile on their own, but
# the whole text does not, or it does only where they compile.
VERDICTS = {
    "global after assignment": ("y = 1\n\n\nglobal x\n", "x = 1\n\n\nglobal x\n"),
    "future import no longer first": (
        "from __future__ import annotations\n\ny = 2\n", "x = 0\nfrom __future__ import annotations\n\ny = 2\n"
    ),
    "docstring no longer a docstring": (
        '"""Doc."""\nfrom __future__ import annotations\n\ny = 2\n',
        'x = """Doc."""\nfrom __future__ import annotations\n\ny = 2\n',
    ),
    # Compiles alone, not under `annotations`: a named expression in an annotation.
    "an edit under a future import": (
        "from __future__ import annotations\n\ndef f(x: int):\n    pass\n",
        "from __future__ import annotations\n\ndef f(x: (y := 1)):\n    pass\n",
    ),
    "an edit in a class under a future import": (
        "from __future__ import annotations\n\nclass C:\n    def f(self, x: int):\n        pass\n",
        "from __future__ import annotations\n\nclass C:\n    def f(self, x: (y := 1)):\n        pass\n",
    ),
    "a future import typed below a statement": (
        "x = 1\n\n\nfrom os import annotations\n", "x = 1\n\n\nfrom __future__ import annotations\n"
    ),
    "a global word that is not a statement": ("global_x = 1\n\n\ny = 2\n", "global_x = 1\n\n\ny = 3\n"),
    "return outside a function": ("def f():\n    return 1\n\n\ny = 2\n", "def f():\n    return 1\n\n\nreturn 2\n"),
    "an edit that compiles": ("def f():\n    return 1\n\n\ny = 2\n", "def f():\n    return 10\n\n\ny = 2\n"),
    # CPython compiles it, pitfalls does not analyse it: the edited statement alone says so.
    "an edit nesting too deeply": ("def f():\n    return 1\n\n\ny = 2\n", "def f():\n    return 1\n\n\ny = a" + "[0]" * 2000 + "\n"),
}


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_an_edit_gets_cpythons_verdict_on_the_whole_text(name: str) -> None:
    """Only the re-parsed statements are compiled (under the module's `__future__`
    features) when no `global` statement can tie one statement's verdict to another's;
    the verdict is a full parse's."""
    source, new_source = VERDICTS[name]
    where = {"name": "m", "display": "m.py"}
    previous = parse_file("m.py", source, **where)

    def verdict(**extra: object) -> object:
        try:
            return parse_file("m.py", new_source, **where, **extra).module.code
        except ParseFailure as exc:
            return exc.diagnostic

    assert verdict(previous=previous) == verdict()


@pytest.mark.parametrize(
    ("source", "futures"),
    [
        ("x = 1\n", (0, 0)),
        ('"""Doc."""\nx = 1\n', (0, 0)),
        ("from __future__ import annotations\nx = 1\n", (1, __future__.annotations.compiler_flag)),
        (
            '"""Doc."""\nfrom __future__ import annotations\nfrom __future__ import generator_stop, division\nx = 1\n',
            (3, sum(getattr(__future__, name).compiler_flag for name in ("annotations", "generator_stop", "division"))),
        ),
        # A comment or a string naming it is no import.
        ("# from __future__ import annotations\nx = '__future__'\n", (0, 0)),
    ],
)
def test_future_imports_are_the_leading_ones(source: str, futures: tuple[int, int]) -> None:
    assert future_imports(cst.parse_module(source)) == futures


def test_an_edit_below_future_imports_compiles_only_its_statement_under_their_flags() -> None:
    """What ``accept`` (CPython's verdict) is asked: the re-parsed statement alone, with
    the flags the module's future imports set; an edit of the imports is parsed whole."""
    source = "from __future__ import annotations\n\n\ndef f():\n    return 1\n\n\ny = 2\n"
    module = cst.parse_module(source)
    asked: list[tuple[str, int]] = []

    def accept(text: str, flags: int) -> bool:
        asked.append((text, flags))
        return True

    splice = reparse(module, source, Positions(module, source), source.replace("return 1", "return 10"), accept)
    assert splice is not None and splice.module.code == source.replace("return 1", "return 10")
    assert asked == [("\n\ndef f():\n    return 10\n", __future__.annotations.compiler_flag)]
    asked.clear()
    edited = source.replace("annotations", "annotations, division")
    assert reparse(module, source, Positions(module, source), edited, accept) is None
    assert asked == []
