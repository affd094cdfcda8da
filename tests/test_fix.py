"""``--fix`` / ``--diff``: fixes are applied as the user asked, and no file is ever lost.

The round trips run the CLI as a subprocess on a project with fixable findings of several
rules in several files. The failure paths (a file changed mid-run, a failed write, a fix
that would not parse) are driven in-process, where they can be caused deterministically.
"""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import libcst as cst
import pytest
from conftest import add_rules
from pitfalls.cli import main as cli_module
from pitfalls.core.context import NodeEdit
from pitfalls.core.diagnostics import Applicability, Diagnostic, Edit, Fix, Position, Severity
from pitfalls.core.fixes import apply_fixes, still_parses
from pitfalls.core.rule import Rule
from pitfalls.project import run as engine
from pitfalls.project.config import ConfigResolver
from pitfalls.project.files import FixError, write_atomically

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _fix_diag(start: tuple[int, int], end: tuple[int, int], content: str, *, safe: bool = True, code: str = "PF401") -> Diagnostic:
    applicability = Applicability.SAFE if safe else Applicability.UNSAFE
    fix = Fix("fix it", (Edit(Position(*start), Position(*end), content),), applicability)
    return Diagnostic(code, "msg", "m.py", Position(*start), Position(*end), Severity.ERROR, fix)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "pitfalls-tmp" in p.name or p.name.startswith(".tmp"))


# ---------------------------------------------------------------------------------------
# apply_fixes / still_parses


def test_apply_fixes_respects_applicability_and_overlaps() -> None:
    text = "a = m.dict()\nb = n.dict()\n"
    safe = _fix_diag((1, 6), (1, 10), "model_dump")
    unsafe = _fix_diag((2, 6), (2, 10), "model_dump", safe=False)
    overlapping = _fix_diag((1, 4), (1, 12), "other()", code="PF402")

    only_safe = apply_fixes(text, [safe, unsafe], unsafe=False)
    assert only_safe.text == "a = m.model_dump()\nb = n.dict()\n"
    assert only_safe.fixed == [safe]

    both = apply_fixes(text, [unsafe, safe], unsafe=True)
    assert both.text == "a = m.model_dump()\nb = n.model_dump()\n"

    # Of two overlapping fixes, one is applied now and the other waits for the next round.
    first = apply_fixes(text, [safe, overlapping], unsafe=True)
    assert len(first.fixed) == 1
    assert first.text in ("a = m.model_dump()\nb = n.dict()\n", "a = other()\nb = n.dict()\n")

    # The same fix reported twice (two rules, one edit) is applied once.
    twice = apply_fixes(text, [safe, _fix_diag((1, 6), (1, 10), "model_dump", code="PF402")], unsafe=False)
    assert twice.text == "a = m.model_dump()\nb = n.dict()\n"


def test_apply_fixes_on_crlf_text_keeps_line_endings() -> None:
    text = "a = 1\r\nb = m.dict()\r\n"
    applied = apply_fixes(text, [_fix_diag((2, 6), (2, 10), "model_dump")], unsafe=False)
    assert applied.text == "a = 1\r\nb = m.model_dump()\r\n"


def test_fix_that_breaks_syntax_is_detected() -> None:
    text = "value = compute(1)\n"
    broken = apply_fixes(text, [_fix_diag((1, 8), (1, 18), "compute((1")], unsafe=False)
    assert broken.text == "value = compute((1\n"
    assert not still_parses(broken.text, text)
    assert still_parses(text, text)
    # CPython's verdict, which libcst alone would miss: `return` outside a function.
    assert not still_parses("return compute(1)\n", text)
    # Unless the text before did not compile either (a newer Python's grammar, say): libcst decides.
    assert still_parses("return compute(2)\n", "return compute(1)\n")
    assert not still_parses("return compute((2\n", "return compute(1)\n")


# ---------------------------------------------------------------------------------------
# write_atomically


def test_write_atomically_replaces_content_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_bytes(b"x = 1\n")
    target.chmod(0o640)
    write_atomically(target, b"x = 1\n", "x = 2\n")
    assert target.read_bytes() == b"x = 2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []
    write_atomically(target, b"x = 2\n", "x = 'caf\u00e9'\n", encoding="utf-8-sig")
    assert target.read_bytes() == b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n"
    data = target.read_bytes()
    write_atomically(target, data, "# coding: latin-1\nx = 'caf\u00e9'\n", encoding="latin-1")
    assert target.read_bytes() == b"# coding: latin-1\nx = 'caf\xe9'\n"


def test_write_atomically_refuses_text_the_encoding_cannot_hold(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_bytes(b"# coding: latin-1\nx = 1\n")
    with pytest.raises(FixError, match="encoding"):
        write_atomically(target, target.read_bytes(), "# coding: latin-1\nx = '\u20ac'\n", encoding="latin-1")
    assert target.read_bytes() == b"# coding: latin-1\nx = 1\n"
    assert _leftovers(tmp_path) == []


def test_write_atomically_refuses_a_file_changed_since_analysis(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_bytes(b"x = 'edited by the user meanwhile'\n")
    with pytest.raises(FixError, match="changed"):
        write_atomically(target, b"x = 1\n", "x = 2\n")
    assert target.read_bytes() == b"x = 'edited by the user meanwhile'\n"
    assert _leftovers(tmp_path) == []


def test_write_atomically_refuses_a_read_only_file(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_bytes(b"x = 1\n")
    target.chmod(0o444)
    with pytest.raises(FixError, match="read-only"):
        write_atomically(target, b"x = 1\n", "x = 2\n")
    assert target.read_bytes() == b"x = 1\n"


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_keeps_the_original_and_leaves_no_temp_file(tmp_path: Path, monkeypatch, failing: str) -> None:
    # Works as root too: the OS call itself fails, as on a full disk.
    target = tmp_path / "m.py"
    target.write_bytes(b"x = 1\n")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(f"pitfalls.project.files.os.{failing}", boom)
    with pytest.raises(FixError, match="cannot write file: No space left on device"):
        write_atomically(target, b"x = 1\n", "x = 2\n")
    assert target.read_bytes() == b"x = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


@pytest.mark.skipif(AS_ROOT, reason="root can write into a read-only folder")
def test_write_into_read_only_folder_keeps_the_original(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    target = folder / "m.py"
    target.write_bytes(b"x = 1\n")
    folder.chmod(0o555)
    try:
        with pytest.raises(FixError, match="cannot write file"):
            write_atomically(target, b"x = 1\n", "x = 2\n")
        assert target.read_bytes() == b"x = 1\n"
        assert sorted(p.name for p in folder.iterdir()) == ["m.py"]
    finally:
        folder.chmod(0o755)


# ---------------------------------------------------------------------------------------
# The CLI path with rules whose fixes are known: one breaks the syntax, one is sound.


class _BreaksSyntax(Rule):
    """Test rule: its fix of ``breakme()`` does not parse."""

    code = "PF990"
    name = "test-breaks-syntax"
    summary = "test rule with a broken fix"
    fix_applicability = Applicability.SAFE

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "breakme":
            self.ctx.report(node, "breakme() call", fix=self.ctx.fix("Break it", NodeEdit(node, "breakme((")))


class _Renames(Rule):
    """Test rule: ``renameme()`` becomes ``renamed()``."""

    code = "PF991"
    name = "test-renames"
    summary = "test rule with a sound fix"
    fix_applicability = Applicability.SAFE

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "renameme":
            self.ctx.report(node, "renameme() call", fix=self.ctx.fix("Rename", NodeEdit(node.func, "renamed")))


@pytest.fixture
def extra_rules(monkeypatch):
    add_rules(monkeypatch, _BreaksSyntax, _Renames)


def test_cli_refuses_a_fix_that_would_not_parse(project, monkeypatch, capsys, extra_rules) -> None:
    root = project({"bad.py": "x = breakme()\n", "good.py": "y = renameme()\n"})
    monkeypatch.chdir(root)

    code = cli_module.main(["check", ".", "--diff", "--no-cache", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert "bad.py: the fixed code would not parse; file left unchanged" in err
    assert "+y = renamed()" in out and "breakme((" not in out
    assert code == 1

    code = cli_module.main(["check", ".", "--fix", "--no-cache", "--jobs", "1"])
    out, err = capsys.readouterr()
    assert (root / "bad.py").read_text() == "x = breakme()\n"
    assert (root / "good.py").read_text() == "y = renamed()\n"
    assert "bad.py: the fixed code would not parse; file left unchanged" in err
    assert "bad.py:1:5: PF990 [*] breakme() call" in out
    assert "good.py" not in out
    assert code == 1


def test_fix_refuses_a_file_changed_after_the_check(project, monkeypatch, extra_rules) -> None:
    root = project({"good.py": "y = renameme()\n"})
    monkeypatch.chdir(root)
    run = lambda: engine.check_files([root / "good.py"], ConfigResolver(root=root), use_cache=False, jobs=1)  # noqa: E731
    result = run()
    (root / "good.py").write_text("y = renameme()  # edited meanwhile\n")
    after, failures = cli_module._fix(result, run, unsafe=False)
    assert failures == ["good.py: file changed while pitfalls was running; fixes not applied"]
    assert after is result
    assert (root / "good.py").read_text() == "y = renameme()  # edited meanwhile\n"


# ---------------------------------------------------------------------------------------
# Round trips through the CLI: PF401 and PF402 (safe fixes), PF102 and PF103 (unsafe
# fixes), PF403 (no fix), in several files.

SCHEMAS = """\
from pydantic import BaseModel


class Article(BaseModel):
    title: str
"""
ROUTES = """\
import requests
from pydantic import ValidationError

from app.schemas import Article


def show():
    article = Article(title="x")
    return article.dict()


def export():
    return Article(title="y").json(exclude_none=True)


def parse(data):
    try:
        return Article(**data)
    except ValidationError as e:
        return [err["loc"] for err in e.errors]


def fetch(url):
    return requests.get(url)
"""
SETTINGS = 'API_PASSWORD = "SecureApiPassword123!"\n'
DB = """\
def get(cursor, partner_id):
    cursor.execute("SELECT * FROM partners WHERE id = '%s'" % partner_id)
"""
REPORT = """\
from app.schemas import Article


def report():
    return Article(title="r").dict()
"""

LATIN1_REPORT = "# -*- coding: latin-1 -*-\n" + REPORT.replace('"r"', '"caf\u00e9"')


@pytest.fixture
def fixable(project) -> Path:
    root = project(
        {
            "app/__init__.py": "",
            "app/schemas.py": SCHEMAS,
            "app/routes.py": ROUTES,
            "app/settings.py": SETTINGS,
            "app/db.py": DB,
        }
    )
    # Line endings and a byte order mark must survive a fix.
    (root / "app" / "report_crlf.py").write_bytes(REPORT.replace("\n", "\r\n").encode())
    (root / "app" / "report_bom.py").write_bytes(b"\xef\xbb\xbf" + REPORT.encode())
    (root / "app" / "report_latin1.py").write_bytes(LATIN1_REPORT.encode("latin-1"))
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def _codes(stdout: str) -> list[str]:
    return [line.split(": ", 1)[1].split()[0] for line in stdout.splitlines() if line.startswith("app/")]


def test_diff_shows_fixes_and_writes_nothing(fixable: Path, cli) -> None:
    before = _snapshot(fixable)
    proc = cli("check", "--diff", "--no-cache", ".", cwd=fixable)
    assert proc.returncode == 1, proc.stderr
    assert _snapshot(fixable) == before
    out = proc.stdout
    assert "--- a/app/routes.py\n+++ b/app/routes.py\n" in out
    assert "-    return article.dict()\n+    return article.model_dump()\n" in out
    assert "+    return Article(title=\"y\").model_dump_json(exclude_none=True)\n" in out
    assert "+        return [err[\"loc\"] for err in e.errors()]\n" in out
    assert "--- a/app/report_crlf.py" in out and "--- a/app/report_bom.py" in out
    assert '-    return Article(title="caf\u00e9").dict()\n+    return Article(title="caf\u00e9").model_dump()\n' in out
    assert "timeout=10" not in out and "settings.py" not in out  # unsafe fixes need --unsafe-fixes
    assert "Would fix 6 errors." in proc.stderr

    proc = cli("check", "--diff", "--unsafe-fixes", "--no-cache", ".", cwd=fixable)
    assert _snapshot(fixable) == before
    assert "+    return requests.get(url, timeout=10)\n" in proc.stdout
    assert "--- a/app/settings.py" in proc.stdout
    assert "Would fix 8 errors." in proc.stderr


def test_fix_applies_safe_fixes_only(fixable: Path, cli) -> None:
    proc = cli("check", "--fix", ".", cwd=fixable)
    assert proc.returncode == 1, proc.stderr
    assert "Fixed 6 errors." in proc.stderr
    routes = (fixable / "app" / "routes.py").read_text()
    assert "article.model_dump()" in routes and "e.errors()" in routes
    assert "requests.get(url)\n" in routes  # the unsafe fix was not applied...
    assert sorted(_codes(proc.stdout)) == ["PF102", "PF103", "PF403"]  # ...and is still reported
    assert (fixable / "app" / "settings.py").read_text() == SETTINGS
    crlf = (fixable / "app" / "report_crlf.py").read_bytes()
    assert crlf == REPORT.replace(".dict()", ".model_dump()").replace("\n", "\r\n").encode()
    bom = (fixable / "app" / "report_bom.py").read_bytes()
    assert bom == b"\xef\xbb\xbf" + REPORT.replace(".dict()", ".model_dump()").encode()
    latin1 = (fixable / "app" / "report_latin1.py").read_bytes()
    assert latin1 == LATIN1_REPORT.replace(".dict()", ".model_dump()").encode("latin-1")
    # Nothing safe is left: a second --fix changes nothing.
    before = _snapshot(fixable)
    again = cli("check", "--fix", ".", cwd=fixable)
    assert _snapshot(fixable) == before
    assert "Fixed" not in again.stderr


def test_fix_with_unsafe_fixes_leaves_only_unfixable_findings(fixable: Path, cli) -> None:
    proc = cli("check", "--fix", "--unsafe-fixes", ".", cwd=fixable)
    assert proc.returncode == 1, proc.stderr
    assert "Fixed 8 errors." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout.splitlines()[0].startswith("app/db.py:2:5: PF403 ")
    assert _codes(proc.stdout) == ["PF403"]
    for rel, data in _snapshot(fixable).items():
        ast.parse(data, filename=rel)  # bytes: honours the BOM and coding declarations
    assert "requests.get(url, timeout=10)" in (fixable / "app" / "routes.py").read_text()
    assert "SecureApiPassword123!" not in (fixable / "app" / "settings.py").read_text()
    # A fresh check agrees: nothing fixable is left.
    check = cli("check", "--no-cache", "--unsafe-fixes", "--output-format", "json", ".", cwd=fixable)
    assert [(d["code"], d["fix"]) for d in json.loads(check.stdout)] == [("PF403", None)]


def test_read_only_file_is_reported_and_left_alone(fixable: Path, cli) -> None:
    report = fixable / "app" / "report_bom.py"
    original = report.read_bytes()
    report.chmod(0o444)
    proc = cli("check", "--fix", ".", cwd=fixable)
    assert proc.returncode == 1
    assert "pitfalls: error: app/report_bom.py: file is read-only; fixes not applied" in proc.stderr.splitlines()
    assert report.read_bytes() == original
    assert stat.S_IMODE(report.stat().st_mode) == 0o444
    assert "article.model_dump()" in (fixable / "app" / "routes.py").read_text()
    assert "app/report_bom.py:5:12: PF401 [*]" in proc.stdout
    assert "Fixed 5 errors." in proc.stderr
