"""The in-memory workspace the language server uses: scan once, then update per edit."""

from __future__ import annotations

from pathlib import Path

from conftest import write_project
from pitfalls.project.config import ConfigResolver
from pitfalls.project.workspace import Workspace

BASE_MODEL = "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n"
PLAIN = "class Base:\n    pass\n"
SCHEMAS = "from app.base import Base\n\n\nclass Article(Base):\n    title: str\n"
ROUTES = "from app.schemas import Article\n\n\ndef show():\n    return Article(title='x').dict()\n"


def _workspace(root: Path) -> Workspace:
    write_project(
        root,
        {
            "pyproject.toml": "[tool.pitfalls]\n",
            "app/__init__.py": "",
            "app/base.py": BASE_MODEL,
            "app/schemas.py": SCHEMAS,
            "app/routes.py": ROUTES,
        },
    )
    return Workspace(ConfigResolver(root=root), root, use_cache=False)


def codes(outcome) -> list[tuple[str, int]]:
    return [(d.code, d.start.line) for d in outcome.diagnostics]


def test_scan_reports_every_file_and_keeps_the_index(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    found = ws.scan()
    routes = str(tmp_path / "app/routes.py")
    assert [(d.code, d.start.line) for d in found[routes]] == [("PF401", 5)]
    assert {Path(p).name for p in ws.index.by_path} == {"__init__.py", "base.py", "schemas.py", "routes.py"}


def test_the_scan_alone_knows_which_closed_files_read_a_module(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    ws.scan()  # no file checked one by one yet
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    assert routes in ws.update(base, PLAIN)


def test_an_unsaved_edit_in_one_file_changes_another_files_results(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    ws.scan()
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    assert codes(ws.check(routes, ROUTES)) == [("PF401", 5)]
    affected = ws.update(base, PLAIN)  # the buffer, not the disk
    assert routes in affected
    assert codes(ws.check(routes, ROUTES)) == []
    assert ws.update(base, PLAIN) == set()  # nothing changed the second time
    assert routes in ws.update(base, BASE_MODEL)
    assert codes(ws.check(routes, ROUTES)) == [("PF401", 5)]


def test_a_half_typed_buffer_keeps_the_last_good_summary(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    ws.scan()
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    ws.check(routes, ROUTES)
    broken = BASE_MODEL + "\ndef half(:\n"
    assert codes(ws.check(base, broken)) == [("PF000", 7)]
    assert ws.update(base, broken) == set()
    assert codes(ws.check(routes, ROUTES)) == [("PF401", 5)]


def test_edits_affect_the_results_that_read_what_they_changed(tmp_path: Path) -> None:
    # routes.py reads only class `Base` of base.py (resolving its models' bases to it).
    ws = _workspace(tmp_path)
    ws.scan()
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    ws.check(routes, ROUTES)
    with_helper = BASE_MODEL + "\n\ndef helper():\n    return 1\n"
    assert routes not in ws.update(base, with_helper)  # a new function: not read
    assert ws.update(base, with_helper.replace("return 1", "return 1 + 1")) == set()  # a body edit: no summary change
    assert routes in ws.update(base, with_helper.replace("    pass\n", "    kind: str = 'a'\n"))  # the class


def test_removing_a_module_affects_its_readers(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    ws.scan()
    routes, schemas = str(tmp_path / "app/routes.py"), str(tmp_path / "app/schemas.py")
    ws.check(routes, ROUTES)
    assert ws.remove(schemas) == {routes}
    assert codes(ws.check(routes, ROUTES)) == []


def test_a_module_added_in_the_editor_reaches_results_that_read_every_module(tmp_path: Path) -> None:
    # PF208 spares `svc.create()` once some project subclass of `Service` defines `create`.
    ws = _workspace(tmp_path)
    write_project(tmp_path, {"app/service.py": "class Service:\n    pass\n"})
    ws.scan()
    use, special = str(tmp_path / "app/use.py"), str(tmp_path / "app/special.py")
    uses = "from app.service import Service\n\n\ndef go(svc: Service):\n    return svc.create()\n"
    assert codes(ws.check(use, uses)) == [("PF208", 5)]
    subclass = "from app.service import Service\n\n\nclass Special(Service):\n    def create(self):\n        return 2\n"
    assert use in ws.update(special, subclass)  # a new module nothing looked up by name
    assert codes(ws.check(use, uses)) == []
    assert use in ws.remove(special)
    assert codes(ws.check(use, uses)) == [("PF208", 5)]


def test_a_file_checked_once_keeps_nothing_for_a_next_edit(tmp_path: Path) -> None:
    """A closed file re-checked (or stdin) gets the same results as a buffer, without the
    walks and summaries kept to re-check a buffer's next edit in place."""
    ws = _workspace(tmp_path)
    ws.scan()
    routes = str(tmp_path / "app/routes.py")
    once = ws.check(routes, ROUTES, edited=False)
    kept = ws._parsed[routes].parsed
    assert kept is not None and kept.walks is None and kept.statements is None
    ws.forget(routes)
    assert ws.check(routes, ROUTES).diagnostics == once.diagnostics
    assert ws._parsed[routes].parsed.walks is not None  # a buffer's


def test_a_buffer_keeps_its_view_of_the_index_while_no_summary_changes(tmp_path: Path) -> None:
    """Typing in a function body changes no summary: the next keystroke asks the view the
    last one made (what it worked out of the index stays). Another module's change makes a
    new one, which sees it."""
    ws = _workspace(tmp_path)
    ws.scan()
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    assert codes(ws.check(routes, ROUTES)) == [("PF401", 5)]
    view = ws._parsed[routes].parsed.view
    typed = ROUTES.replace("title='x'", "title='xy'")
    assert codes(ws.check(routes, typed)) == [("PF401", 5)]
    assert ws._parsed[routes].parsed.view is view
    assert routes in ws.update(base, PLAIN)
    assert codes(ws.check(routes, typed.replace("'xy'", "'xyz'"))) == []
    assert ws._parsed[routes].parsed.view is not view
    old = ws.index
    ws.scan()  # a new index: the buffer's view of the old one goes (it would keep it in memory)
    assert ws.index is not old and ws._parsed[routes].parsed.view is None


def test_the_index_only_then_the_scan_give_one_index_and_take_the_summaries_they_share(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    ws.use_cache = True  # the scan finds the summaries the index step cached
    routes, base = str(tmp_path / "app/routes.py"), str(tmp_path / "app/base.py")
    ws.index_only(ws.files())
    first = dict(ws.index.by_path)
    assert set(first) == {str(p) for p in (tmp_path / "app").glob("*.py")}
    # The file changes on disk in between: its summary is new, the others are the same objects.
    (tmp_path / "app/base.py").write_text(PLAIN, encoding="utf-8")
    found = ws.scan()
    assert found[routes] == []  # base.py is read as it is now: Article is no pydantic model
    assert ws.index.by_path[base] is not first[base] and ws.index.by_path[base].classes["Base"].bases == []
    assert all(ws.index.by_path[p] is first[p] for p in first if p != base)
    # A scan without a cache (nor a known index) builds the same index.
    fresh = Workspace(ConfigResolver(root=tmp_path), tmp_path, use_cache=False)
    fresh.scan()
    assert fresh.index.fingerprints == ws.index.fingerprints


def test_a_buffer_checked_between_the_files_of_a_scan_sees_the_index_the_scan_replaces(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    routes = str(tmp_path / "app/routes.py")
    ws.index_only(ws.files())
    seen = []

    def between(step: str, done: int, total: int) -> None:  # where the language server checks an open document mid-scan
        seen.append(codes(ws.check(routes, ROUTES.replace("def show", "\n\ndef show"))))

    found = ws.scan(progress=between)
    assert len(seen) == 2 * len(ws.files())  # after each file read and each checked (in process, no cache)
    assert seen[0] == [("PF401", 7)]  # the buffer's text, against the index step's index
    assert [(d.code, d.start.line) for d in found[routes]] == [("PF401", 5)]  # the disk's


def test_a_detached_check_of_the_buffer_or_a_fix_of_it_is_a_fresh_checks(tmp_path: Path) -> None:
    """Fix rounds check texts detached from the index: the buffer's own text on its tree,
    a fixed text spliced into it; both give what a check of a fresh parse gives, and the
    index keeps the buffer's summary."""
    from pitfalls.core.check import check_text
    from pitfalls.project.run import rules_for

    ws = _workspace(tmp_path)
    ws.scan()
    routes = str(tmp_path / "app/routes.py")
    buffer = ROUTES + "\n\ndef more():\n    return Article(title='y').json()\n"
    ws.check(routes, buffer)
    fingerprint = ws.index.fingerprints[routes]
    fixed = buffer.replace(".dict()", ".model_dump()")  # the first statement kept, the last spliced

    def fresh(text: str) -> list[tuple[str, int]]:
        name, root, is_package = ws.config.module_name(routes)
        return codes(check_text(
            routes, text, rules_for(ws.config, routes), name=name, root=root, is_package=is_package, index=ws.index,
            settings=ws.config.settings_for(routes), schemas=ws.config.schemas_for(routes),
        ))

    assert codes(ws.check_detached(routes, buffer)) == fresh(buffer) == [("PF401", 5), ("PF401", 9)]
    assert codes(ws.check_detached(routes, fixed)) == fresh(fixed) == [("PF401", 9)]
    assert codes(ws.check_detached(routes, "def broken(:\n")) == [("PF000", 1)]
    assert ws.index.fingerprints[routes] == fingerprint and ws.fix_all(routes, buffer) == fixed.replace(".json()", ".model_dump_json()")
