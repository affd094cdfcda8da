"""``.pitfalls_cache``: reused when nothing it depends on changed, and only then.

Most tests call ``pitfalls.project.run.check_files`` in-process, where ``result.analysed`` (the
files whose rules ran) shows whether the cache was used; each run is compared with a run
without the cache, which is the ground truth. The cross-file case also runs the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from pitfalls.project.cache import _verified
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.project.run import CheckResult, check_files

BASE_MODEL = """\
from pydantic import BaseModel


class Base(BaseModel):
    pass
"""
BASE_PLAIN = """\
class Base:
    pass
"""
SCHEMAS = """\
from app.base import Base


class Article(Base):
    title: str
"""
ROUTES = """\
from app.schemas import Article


def show():
    return Article(title="x").dict()
"""
UTIL = """\
def double(value: int) -> int:
    return value * 2
"""


def run(root: Path, *, use_cache: bool = True) -> CheckResult:
    config = ConfigResolver(root=root)
    return check_files(discover([root], config), config, use_cache=use_cache, jobs=1, base=root)


def codes(result: CheckResult) -> list[tuple[str, str, int]]:
    return [(d.path, d.code, d.start.line) for d in result.diagnostics]


def assert_same_as_cold(root: Path, warm: CheckResult) -> None:
    cold = run(root, use_cache=False)
    assert warm.diagnostics == cold.diagnostics


def edit(path: Path, text: str) -> None:
    """Rewrite a file and make sure its mtime moves (coarse clocks can repeat one)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


ROUTES_PF401 = ("app/routes.py", "PF401", 5)


@pytest.fixture
def app(project) -> Path:
    return project(
        {
            "pyproject.toml": "[project]\nname = 'demo'\n",
            "app/__init__.py": "",
            "app/base.py": BASE_MODEL,
            "app/schemas.py": SCHEMAS,
            "app/routes.py": ROUTES,
            "app/util.py": UTIL,
        }
    )


def test_warm_run_reuses_every_result(app: Path) -> None:
    cold = run(app)
    assert cold.analysed == 5
    assert ROUTES_PF401 in codes(cold)
    cache_files = list((app / ".pitfalls_cache").rglob("*.json"))
    assert len(cache_files) == 1
    assert (app / ".pitfalls_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    stored = cache_files[0].read_bytes()

    warm = run(app)
    assert warm.analysed == 0
    assert warm.diagnostics == cold.diagnostics
    assert cache_files[0].read_bytes() == stored


def test_a_project_moved_with_its_cache_stays_warm_and_right(app: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A project moved, or checked out at another path with its cache restored (as CI
    jobs are), reads its cache's paths as moved there: nothing is analysed again, and an
    edit after the move changes what a cold run finds, dependants included."""
    import shutil

    first = run(app)
    moved = tmp_path_factory.mktemp("elsewhere") / "checkout"
    shutil.move(str(app), str(moved))
    warm = run(moved)
    assert warm.analysed == 0 and warm.summarised == 0
    assert codes(warm) == codes(first) and ROUTES_PF401 in codes(warm)
    stored = next((moved / ".pitfalls_cache").rglob("*.json")).read_bytes()
    assert str(app).encode() not in stored  # written again where it is now
    edit(moved / "app" / "base.py", BASE_PLAIN)  # Article is no pydantic model now: no PF401
    after = run(moved)
    assert after.summarised == 1 and ROUTES_PF401 not in codes(after)
    assert_same_as_cold(moved, after)


def test_moved_paths() -> None:
    from pitfalls.project.cache import _Moved

    moved = _Moved(os.path.join(os.sep, "a", "proj"), os.path.join(os.sep, "b", "proj"))
    old, new = moved.old, moved.new
    assert moved.path(old) == new
    assert moved.path(os.path.join(old, "x.py")) == os.path.join(new, "x.py")
    joined = ",".join([os.path.join(old, "x.py"), os.path.join(old, "y.py")])
    assert moved.path(joined) == ",".join([os.path.join(new, "x.py"), os.path.join(new, "y.py")])
    for other in (old + "-other" + os.sep + "x.py", "app.models", "PF401"):
        assert moved.path(other) == other
    summary = json.dumps({"path": os.path.join(old, "x.py"), "root": old, "name": "x"})
    assert json.loads(moved.summary(summary)) == {"path": os.path.join(new, "x.py"), "root": new, "name": "x"}

    # Paths that are not ASCII, in a summary's text as msgspec spells it, and as the json
    # module does for a summary holding a lone surrogate (msgspec cannot write it).
    from pitfalls.core import json_text

    moved = _Moved(os.path.join(os.sep, "a", "prój"), os.path.join(os.sep, "b", "projé"))
    old, new = moved.old, moved.new
    for text in ("plain", "lone \udc80 surrogate"):
        summary = json_text.dumps({"path": os.path.join(old, "x.py"), "root": old, "text": text})
        assert json.loads(moved.summary(summary)) == {"path": os.path.join(new, "x.py"), "root": new, "text": text}


def test_summaries_msgspec_cannot_write_come_back_from_the_cache(project) -> None:
    """A module holding a lone surrogate (no UTF-8 has it) and text that is not ASCII: its
    summary, written and read through the cache, is the one a run without a cache makes."""
    root = project({
        "pyproject.toml": "[project]\nname = 'demo'\n",
        "app/__init__.py": "",
        "app/odd.py": 'ODD = "\\udc80"\nNAME = "café"\n\n\ndef make(a, b):\n    return a\n',
        "app/main.py": "from app.odd import make\n\nmake(1, 2)\n",
    })
    run(root)
    edit(root / "app" / "main.py", "from app.odd import make\n\nmake(1)\n")  # the index is built: odd's summary read
    warm = run(root)
    assert warm.analysed == 1 and warm.summarised == 1 and codes(warm) == [("app/main.py", "PF209", 3)]
    assert_same_as_cold(root, warm)


def test_a_warm_run_never_reads_the_summaries(app: Path) -> None:
    """They are the cache file's last line, checked and decoded only to build the index; a
    warm run builds none (here that line is not the one signed: reading it would fail)."""
    cold = run(app)
    [cache_file] = (app / ".pitfalls_cache").rglob("*.json")
    mac, main, summaries = cache_file.read_bytes().split(b"\n")
    assert json.loads(summaries).keys() == {str(p) for p in (app / "app").glob("*.py")}
    cache_file.write_bytes(b"\n".join([mac, main, b"not json"]))
    warm = run(app)
    assert warm.analysed == 0
    assert warm.diagnostics == cold.diagnostics


@pytest.mark.parametrize("forged", [b"not json", b"[]", b"{}"])
def test_summaries_other_than_the_signed_ones_start_the_run_again(app: Path, forged: bytes) -> None:
    """A run that builds the index finds the summaries line is not the one signed (not
    JSON, or someone else's: every module missing): it checks again without that cache,
    and the next run has a good one."""
    cold = run(app)
    [cache_file] = (app / ".pitfalls_cache").rglob("*.json")
    mac, main, _ = cache_file.read_bytes().split(b"\n")
    cache_file.write_bytes(b"\n".join([mac, main, forged]))
    edit(app / "app" / "util.py", UTIL + "\n")  # its result read nothing: only it is checked
    again = run(app)
    assert again.diagnostics == cold.diagnostics and again.analysed == 5
    assert run(app).analysed == 0


def test_touch_without_change_keeps_the_cache(app: Path) -> None:
    run(app)
    # Every file touched (a checkout, a cache restored in CI): the same bytes, nothing parsed.
    for path in (app / "app").glob("*.py"):
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    warm = run(app)
    assert (warm.analysed, warm.summarised) == (0, 0)
    assert ROUTES_PF401 in codes(warm)
    edit(app / "app" / "util.py", UTIL.replace("* 2", "* 3"))  # the same size, other bytes
    again = run(app)
    assert (again.analysed, again.summarised) == (1, 1)
    assert_same_as_cold(app, again)
    assert run(app).summarised == 0  # the new mtimes were recorded


def test_editing_a_file_reanalyses_it_but_not_unrelated_files(app: Path) -> None:
    run(app)
    edit(app / "app" / "util.py", UTIL + "\n\ndef triple(value: int) -> int:\n    return value * 3\n")
    warm = run(app)
    assert warm.analysed == 1
    assert_same_as_cold(app, warm)


def test_cross_file_invalidation(app: Path) -> None:
    first = run(app)
    assert ROUTES_PF401 in codes(first)

    # Only app/base.py changes: Article is no longer a pydantic model, so routes.py is clean.
    edit(app / "app" / "base.py", BASE_PLAIN)
    second = run(app)
    assert ROUTES_PF401 not in codes(second)
    assert 2 <= second.analysed < 5  # base.py and its dependants, not util.py
    assert_same_as_cold(app, second)
    # The dependants, re-checked with the summaries cached for them, keep those cached.
    [cache_file] = (app / ".pitfalls_cache").rglob("*.json")
    assert json.loads(cache_file.read_bytes().split(b"\n")[2]).keys() == {str(p) for p in (app / "app").glob("*.py")}
    assert run(app).analysed == 0

    edit(app / "app" / "base.py", BASE_MODEL)
    third = run(app)
    assert ROUTES_PF401 in codes(third)
    assert_same_as_cold(app, third)

    # Deleting the module a result depended on invalidates it too.
    (app / "app" / "base.py").unlink()
    fourth = run(app)
    assert ROUTES_PF401 not in codes(fourth)
    assert_same_as_cold(app, fourth)


def test_a_change_to_a_module_re_checks_the_results_that_read_the_part_changed(
    app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """schemas.py and routes.py read of base.py only class ``Base`` (and which module it
    is): a function added there re-checks base.py alone (and the next run takes their
    results as they are, decoding no summary); a change of ``Base`` re-checks them; a
    function renamed re-checks its importer, which finds the import broken."""
    from pitfalls.project.cache import Entry

    run(app)
    edit(app / "app" / "base.py", BASE_MODEL + "\n\ndef helper():\n    return 1\n")
    added = run(app)
    assert added.analysed == 1 and ROUTES_PF401 in codes(added)
    assert_same_as_cold(app, added)
    decoded: list[str] = []
    module_summary = Entry.module_summary
    monkeypatch.setattr(Entry, "module_summary", lambda self: decoded.append(self.module) or module_summary(self))
    assert run(app).analysed == 0 and decoded == []
    monkeypatch.undo()

    edit(app / "app" / "base.py", BASE_PLAIN + "\n\ndef helper():\n    return 1\n")  # Base is no model now
    changed = run(app)
    assert changed.analysed == 3 and ROUTES_PF401 not in codes(changed)
    assert_same_as_cold(app, changed)

    edit(app / "app" / "routes.py", ROUTES + "\n\nfrom app.util import double\n\ndouble(2)\n")
    run(app)
    edit(app / "app" / "util.py", UTIL.replace("def double", "def twice"))
    renamed = run(app)
    assert renamed.analysed == 2 and ("app/routes.py", "PF303", 8) in codes(renamed)
    assert_same_as_cold(app, renamed)


def test_warm_runs_after_edits_of_modules_many_read_give_what_cold_runs_give(tmp_path: Path) -> None:
    """On a real project (fief): the modules the most files import, edited as people edit
    them (a function added, renamed or given a required parameter, a class renamed or
    given a field): each warm run finds what a run without a cache finds, and a function
    added re-checks the module and the files that read all of it, not those that read parts."""
    import ast
    import re

    from conftest import unpack_ecosystem

    unpack_ecosystem(tmp_path, "fief")
    root = tmp_path / "fief"
    config = ConfigResolver(root=root)
    files = discover([root], config)

    def both() -> CheckResult:
        warm = check_files(files, config, jobs=1, base=root)
        assert warm.diagnostics == check_files(files, config, jobs=1, base=root, use_cache=False).diagnostics
        return warm

    check_files(files, config, jobs=1, base=root)  # fills the cache
    reads = check_files(files, config, jobs=1, base=root, use_cache=False).dependencies
    readers = {f: sum(str(f) in read.summaries or str(f) in read.parts for read in reads.values()) for f in files}
    for module in sorted(files, key=lambda f: (-readers[f], str(f)))[:2]:
        text = module.read_text(encoding="utf-8")
        tree = ast.parse(text)
        function = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
        klass = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.body[0].col_offset == 4), None)
        edits = [text + "\n\ndef pitfalls_added(value):\n    return value\n"]
        if function is not None:
            edits.append(re.sub(rf"def {function.name}\(", f"def {function.name}(pitfalls_required, ", text, count=1))
        if klass is not None:
            lines = text.splitlines(keepends=True)
            lines.insert(klass.body[0].lineno - 1, "    pitfalls_field: int = 0\n")
            edits += ["".join(lines), re.sub(rf"class {klass.name}\b", f"class {klass.name}Renamed", text, count=1)]
        for i, edited in enumerate(edits):
            edit(module, edited)  # (the last edit undone with it)
            warm = both()
            if i == 0:  # the dependants that read parts of it hold
                assert warm.analysed <= 1 + sum(str(module) in read.summaries for read in reads.values()) < readers[module]
        edit(module, text)
        both()


def test_a_new_module_resolves_a_failed_import(app: Path) -> None:
    routes = app / "app" / "routes.py"
    edit(routes, ROUTES.replace("from app.schemas import Article", "from app.articles import Article"))
    first = run(app)
    assert ROUTES_PF401 not in codes(first)  # app.articles does not exist yet

    (app / "app" / "articles.py").write_text(SCHEMAS, encoding="utf-8")
    second = run(app)
    assert ROUTES_PF401 in codes(second)
    assert_same_as_cold(app, second)


GENERATED = {
    "pyproject.toml": "[project]\nname = 'demo'\ndependencies = []\n\n[tool.pitfalls]\nextend-exclude = ['app/generated.py']\n",
    "app/__init__.py": "",
    "app/main.py": "from app.generated import VERSION\n\nprint(VERSION)\n",
}


def test_a_result_that_read_the_disk_holds_while_the_disk_answers_the_same(project, tmp_path_factory) -> None:
    """PF303 looks on disk for a module the index lacks (excluded from the check, as one
    generated at build time often is): the answer is part of what its cached result read.
    The module generated, or removed, the result is computed again, where the project is
    (its cache moved with it) too."""
    import shutil

    root = project(GENERATED)
    missing = [("app/main.py", "PF303", 1)]
    assert codes(run(root)) == missing
    assert codes(run(root)) == missing
    (root / "app" / "generated.py").write_text("VERSION = '1'\n", encoding="utf-8")
    generated = run(root)
    assert codes(generated) == [] and generated.analysed == 1
    assert codes(run(root)) == [] and run(root).analysed == 0

    moved = tmp_path_factory.mktemp("elsewhere") / "checkout"
    shutil.move(str(root), str(moved))
    assert run(moved).analysed == 0  # the paths it asked about, moved with it
    (moved / "app" / "generated.py").unlink()
    assert codes(run(moved)) == missing
    assert_same_as_cold(moved, run(moved))


PACKAGE_LESS = {
    "pyproject.toml": "",
    "app/schemas.py": "from pydantic import BaseModel\n\n\nclass Article(BaseModel):\n    title: str\n",
    "app/routes.py": ROUTES,
}


def test_a_new_package_marker_renames_cached_modules(project, cli) -> None:
    # Without app/__init__.py, app/schemas.py is the module `schemas`; adding the marker
    # makes it `app.schemas`, which routes.py imports. (A subprocess per run: see below.)
    root = project(PACKAGE_LESS)
    assert "PF401" not in cli("check", ".", cwd=root).stdout
    (root / "app" / "__init__.py").write_text("")
    assert "PF401" in cli("check", "--no-cache", ".", cwd=root).stdout
    assert "app/routes.py:5:12: PF401" in cli("check", ".", cwd=root).stdout


def test_module_names_are_not_remembered_between_checks_in_one_process(project) -> None:
    # A long-lived process (a language server, an editor plugin) checks again after the
    # user adds app/__init__.py: without the disk cache, the result must be a fresh one.
    root = project(PACKAGE_LESS)
    assert ROUTES_PF401 not in codes(run(root, use_cache=False))
    (root / "app" / "__init__.py").write_text("")
    assert ROUTES_PF401 in codes(run(root, use_cache=False))


def test_settings_change_uses_another_cache_entry(app: Path) -> None:
    run(app)
    (app / "pyproject.toml").write_text("[project]\nname = 'demo'\n[tool.pitfalls]\nignore = ['PF4']\n")
    other = run(app)
    assert other.analysed == 5
    assert ROUTES_PF401 not in codes(other)
    (app / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    back = run(app)
    assert back.analysed == 0  # the first settings' results are still there
    assert ROUTES_PF401 in codes(back)


def test_corrupt_cache_is_ignored(app: Path) -> None:
    cold = run(app)
    [cache_file] = (app / ".pitfalls_cache").rglob("*.json")
    cache_file.write_text('{"version": "0.1.0", "files": {"x": 1', encoding="utf-8")
    again = run(app)
    assert again.analysed == 5
    assert again.diagnostics == cold.diagnostics
    assert run(app).analysed == 0  # and rewritten


def test_cached_parse_errors_are_still_reported(app: Path) -> None:
    (app / "app" / "broken.py").write_text("def f(:\n")
    cold = run(app)
    warm = run(app)
    assert ("app/broken.py", "PF000", 1) in codes(warm)
    assert warm.diagnostics == cold.diagnostics
    assert warm.analysed == 0


def test_cli_cross_file_invalidation_and_no_cache(app: Path, cli) -> None:
    # PF401 only: on the plain base, PF208 rightly reports `.dict()` too.
    proc = cli("check", "--select", "PF401", ".", cwd=app)
    assert "app/routes.py:5:12: PF401" in proc.stdout
    assert (app / ".pitfalls_cache").is_dir()
    edit(app / "app" / "base.py", BASE_PLAIN)
    proc = cli("check", "--select", "PF401", ".", cwd=app)
    assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n")
    edit(app / "app" / "base.py", BASE_MODEL)
    proc = cli("check", "--select", "PF401", ".", cwd=app)
    assert proc.returncode == 1 and "app/routes.py:5:12: PF401" in proc.stdout


def test_no_cache_writes_nothing(app: Path, cli) -> None:
    proc = cli("check", "--no-cache", ".", cwd=app)
    assert proc.returncode == 1 and "app/routes.py:5:12: PF401" in proc.stdout
    assert not (app / ".pitfalls_cache").exists()
    assert sorted(p.name for p in app.iterdir()) == ["app", "pyproject.toml"]


def test_checking_one_file_keeps_the_rest_of_the_cache(app: Path) -> None:
    run(app)
    config = ConfigResolver(root=app)
    check_files([app / "app" / "util.py"], config, use_cache=True, jobs=1, base=app)
    assert run(app).analysed == 0


def test_a_new_rule_runs_on_cached_files(app: Path, monkeypatch) -> None:
    import libcst as cst
    from pitfalls.core.rule import Rule
    from conftest import add_rules

    class ReportsDouble(Rule):
        """Test rule: reports every function named ``double``."""

        code = "PF989"
        name = "test-reports-double"
        summary = "test rule"

        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            if node.name.value == "double":
                self.ctx.report(node, "double")

    run(app)
    add_rules(monkeypatch, ReportsDouble)
    assert ("app/util.py", "PF989", 1) in codes(run(app, use_cache=False))
    assert ("app/util.py", "PF989", 1) in codes(run(app))


# The CLI in a subprocess, printing what it loaded of the engine: libcst and the rule modules.
LOADED_PROBE = """
import sys
from pitfalls.cli.main import main

code = main(sys.argv[1:])
engine = sorted(m for m in sys.modules if m == "libcst" or m.startswith("pitfalls.rules.pf"))
print("loaded:", "libcst" in engine, len(engine) - ("libcst" in engine), file=sys.stderr)
sys.exit(code)
"""


def test_a_warm_run_loads_neither_libcst_nor_the_rules(app: Path) -> None:
    """A run whose results all come from the cache answers without the engine: importing
    libcst and the rules was most of its time."""
    import subprocess
    import sys

    def loaded() -> tuple[str, str]:
        proc = subprocess.run(
            [sys.executable, "-c", LOADED_PROBE, "check", ".", "--output-format", "json"],
            cwd=app, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 1, proc.stderr  # routes.py's PF401
        return proc.stdout, proc.stderr.strip().splitlines()[-1]

    cold_report, cold = loaded()
    warm_report, warm = loaded()
    assert cold.startswith("loaded: True ") and cold != "loaded: True 0"
    assert warm == "loaded: False 0"
    assert warm_report == cold_report and '"PF401"' in warm_report


def test_a_new_requires_python_rechecks_what_it_parses_differently(project) -> None:
    """The oldest Python a project admits decides which grammar parses its files (a 3.12
    `type` alias is refused under 3.10, left to libcst's newer grammar under 3.12): cached
    results of the old floor do not hold."""
    root = project({"pyproject.toml": "[project]\nname = 'x'\nrequires-python = '>=3.10'\n", "app/m.py": "type Alias = int\n"})
    if sys.version_info >= (3, 12):
        pytest.skip("this Python parses `type` aliases itself")
    assert [d.code for d in run(root).diagnostics] == ["PF000"]
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\nrequires-python = '>=3.12'\n")
    warm = run(root)
    assert warm.diagnostics == [] and warm.analysed == 1
    assert_same_as_cold(root, warm)


# The CLI in a subprocess, printing whether it imported pydantic (it validates tables) and
# packaging (it reads requirements).
PYDANTIC_PROBE = """
import sys
from pitfalls.cli.main import main

code = main(sys.argv[1:])
print("pydantic:", "pydantic" in sys.modules, "packaging:", "packaging" in sys.modules, file=sys.stderr)
sys.exit(code)
"""
RICH_TABLE = """\
[project]
name = "demo"
requires-python = ">=3.10"
dependencies = ["pydantic>=2,<3", "requests[socks]>=2"]
[tool.pitfalls]
select = ["PF1", "PF4"]
per-file-ignores = {"tests/*" = ["PF102"], "app/legacy.py" = ["PF4"]}
environment = ["APP_ENV"]
dependency-modules = ["requests"]
max-file-size = 2
[tool.pitfalls.framework]
mixin-order = ["A", "B"]
[tool.pitfalls.directus]
timeout = 3
models = {Article = "articles"}
"""


def test_a_warm_run_validates_no_table_again(app: Path, tmp_path: Path) -> None:
    """Importing pydantic was half of a warm run, and packaging a tenth: a table validated
    before, and what dependency files said, are remembered (signed, beside the cache key),
    with the same settings and so the same report."""
    import subprocess

    (app / "pyproject.toml").write_text(RICH_TABLE, encoding="utf-8")
    (app / "requirements-dev.txt").write_text("pytest>=8\nfastapi>=0.110  # the API\n", encoding="utf-8")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "user-cache")}

    def probe(*extra: str) -> tuple[str, str]:
        proc = subprocess.run(
            [sys.executable, "-c", PYDANTIC_PROBE, "check", ".", "--output-format", "json", *extra],
            cwd=app, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, env=env,
        )
        assert proc.returncode == 1, proc.stderr  # routes.py's PF401
        return proc.stdout, proc.stderr.strip().splitlines()[-1]

    uncached_report, uncached = probe("--no-cache")
    assert uncached == "pydantic: True packaging: True"
    assert not [p.name for p in (tmp_path / "user-cache/pitfalls").glob("*.json")]
    cold_report, cold = probe()
    warm_report, warm = probe()
    assert (cold, warm) == ("pydantic: True packaging: True", "pydantic: False packaging: False")
    assert warm_report == cold_report == uncached_report and '"PF401"' in warm_report


def test_no_table_gives_the_defaults_validation_gives_without_pydantic(tmp_path: Path) -> None:
    """A project without ``[tool.pitfalls]`` gets the settings pydantic gives for no keys,
    types and fingerprint included, and a run on it never imports pydantic (a tenth of a
    second of every run without a cache, as pre-commit's on a fresh clone)."""
    from pydantic import TypeAdapter

    from pitfalls.core.settings import Settings, parse_settings

    validated = TypeAdapter(Settings).validate_python({})
    assert parse_settings({}) == validated and repr(parse_settings({})) == repr(validated)
    assert parse_settings({}).fingerprint() == validated.fingerprint()
    (tmp_path / "app.py").write_text("import requests\n\nrequests.get('https://example.com')\n", encoding="utf-8")
    script = (
        "import sys\nfrom pitfalls.cli.main import main\n"
        "code = main(['check', '--no-cache', '--output-format', 'json', '.'])\n"
        "print(code, 'pydantic' in sys.modules, file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    assert '"PF103"' in proc.stdout and proc.stderr.splitlines()[-1] == "1 False", proc.stderr


def test_known_tables_give_the_settings_validation_gives(tmp_path: Path) -> None:
    """Remembered settings equal validated ones, types included (tuples stay tuples, floats
    floats); a bad table raises every time; a file this user did not sign is ignored."""
    import tomllib

    from pitfalls.core.settings import ConfigError, parse_settings
    from pitfalls.project.cache import KnownTables

    file = tmp_path / "settings.json"
    for table in ({}, {"max-file-size": 2}):  # the defaults too
        expected = parse_settings(table)
        KnownTables(file).parse(table)
        # Remembered, the same fingerprint (the cache file's name): 3 == 3.0, but not as JSON.
        assert KnownTables(file).parse(table).fingerprint() == expected.fingerprint()
    table = tomllib.loads(RICH_TABLE)["tool"]["pitfalls"]
    expected = parse_settings(table)
    first, again = KnownTables(file).parse(table), KnownTables(file).parse(table)
    assert first == again == expected and again.fingerprint() == expected.fingerprint()
    assert type(again.environment) is tuple and type(again.directus.timeout) is float
    assert list(again.per_file_ignores) == list(expected.per_file_ignores)
    assert file.exists()

    bad = {"select": ["XYZ"]}
    for _ in range(2):
        with pytest.raises(ConfigError, match="bad value for 'select'"):
            KnownTables(file).parse(bad)

    signed = file.read_bytes()
    known = json.loads(_verified(signed))
    forged = {key: {**value, "select": ["PF9"]} for key, value in known.items()}
    file.write_bytes(signed.split(b"\n", 1)[0] + b"\n" + json.dumps(forged).encode())
    assert KnownTables(file).parse(table) == expected


def test_known_tables_keep_the_newest(tmp_path: Path, monkeypatch) -> None:
    from pitfalls.project.cache import KnownTables

    monkeypatch.setattr(KnownTables, "MAX_TABLES", 3)
    file = tmp_path / "settings.json"
    for size in range(1, 6):
        KnownTables(file).parse({"max-file-size": size})
    assert len(json.loads(_verified(file.read_bytes()))) == 3


DEPENDENCY_FILES = {
    "pyproject.toml": (
        '[project]\nname = "svc"\nrequires-python = ">=3.9,<4"\ndependencies = ["fastapi<0.100", "SQLAlchemy[asyncio]>=2"]\n'
        '[tool.poetry.group.dev.dependencies]\npytest = "^8"\n'
    ),
    "requirements-dev.txt": "httpx>=0.27  # tests\n-e ./vendored\n",
    "setup.cfg": "[options]\npackages = find:\ninstall_requires =\n    redis>=5\n",
}


def _declarations(folder: Path, store) -> tuple[object, object]:
    from pitfalls.project.dependencies import FolderDeclarations

    declarations = FolderDeclarations(store)
    return declarations.own(folder), declarations.python_floor(str(folder), folder)


def test_known_facts_give_what_reading_the_files_gives(project, tmp_path: Path) -> None:
    """What dependency files say, remembered by their content: the same answers as
    reading them, a changed file read again, and a file this user did not sign (or an
    answer of the wrong shape) ignored."""
    from pitfalls.project.cache import KnownFacts, _signed

    folder = project(DEPENDENCY_FILES)
    file = tmp_path / "facts.json"
    expected = _declarations(folder, None)
    assert expected[0].pydantic == 1 and expected[0].complete is False and expected[0].drops_namespace_folders
    assert {"fastapi", "sqlalchemy[asyncio]", "pytest", "httpx", "redis"} <= expected[0].everything
    assert expected[1] == (3, 9)

    store = KnownFacts(file)
    assert _declarations(folder, store) == expected and not file.exists()  # written once, by save()
    store.save()
    assert _declarations(folder, KnownFacts(file)) == expected

    signed = file.read_bytes()
    known = json.loads(_verified(signed))
    assert sorted(map(type, known.values()), key=str) == [dict, list]
    wrong = {key: {**value, "pydantic": 2} if isinstance(value, dict) else [3, 12] for key, value in known.items()}
    file.write_bytes(signed.split(b"\n", 1)[0] + b"\n" + json.dumps(wrong).encode())
    assert _declarations(folder, KnownFacts(file)) == expected  # not signed by this user
    file.write_bytes(_signed(json.dumps({key: {"everything": 5} if isinstance(value, dict) else ["3", 9] for key, value in known.items()}).encode()))
    assert _declarations(folder, KnownFacts(file)) == expected  # signed, but not what pitfalls writes

    edit(folder / "pyproject.toml", DEPENDENCY_FILES["pyproject.toml"].replace("fastapi<0.100", "pydantic>=2").replace(">=3.9", ">=3.11"))
    changed = _declarations(folder, KnownFacts(file))
    assert changed == _declarations(folder, None) and changed[0].pydantic == 2 and changed[1] == (3, 11)


# PF208 leaves an attribute alone when some project subclass of the annotated class has it:
# a question about every module, which a module added anywhere can answer differently.
SERVICE = "class Service:\n    def run(self):\n        return 1\n"
USES_SERVICE = "from app.service import Service\n\n\ndef go(svc: Service):\n    return svc.create()\n"
SUBCLASS = "from app.service import Service\n\n\nclass Special(Service):\n    def create(self):\n        return 2\n"
USE_PF208 = ("app/use.py", "PF208", 5)


def test_a_new_module_changes_results_that_read_every_module(project) -> None:
    files = {"pyproject.toml": "[tool.pitfalls]\n", "app/__init__.py": "", "app/service.py": SERVICE, "app/use.py": USES_SERVICE}
    files.update({f"app/m{i}.py": f"VALUE_{i} = {i}\n" for i in range(20)})  # one target is then a lazy run
    root = project(files)
    special = root / "app" / "special.py"
    assert USE_PF208 in codes(run(root))

    special.write_text(SUBCLASS, encoding="utf-8")
    whole = run(root)
    assert USE_PF208 not in codes(whole)
    assert_same_as_cold(root, whole)

    special.unlink()
    assert USE_PF208 in codes(run(root))

    # Again, as pre-commit checks one file: with a lazy index.
    special.write_text(SUBCLASS, encoding="utf-8")
    config = ConfigResolver(root=root)
    alone = check_files([root / "app" / "use.py"], config, project=discover([root], config), jobs=1, base=root)
    assert alone.diagnostics == [] and alone.analysed == 1


def test_a_bounded_read_reserves_the_files_size_not_the_limit(tmp_path: Path) -> None:
    # The cache is read with a 1 GB limit: a read of "up to the limit" would reserve 1 GB.
    small = tmp_path / "small.py"
    small.write_bytes(b"x = 1\n" * 100)
    tracemalloc.start()
    try:
        data = read_bounded(small, 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data == small.read_bytes()
    assert peak < 100_000
    # The limit itself holds to the byte.
    exact = tmp_path / "exact.py"
    exact.write_bytes(b"#" * 1000)
    assert read_bounded(exact, 0.001) == exact.read_bytes()
    exact.write_bytes(b"#" * 1001)
    with pytest.raises(UnreadableFile, match="over max-file-size"):
        read_bounded(exact, 0.001)
