"""Fixit-style: every rule's own VALID and INVALID examples, run through the real engine.

Each example becomes a small project on disk (its extra ``files`` included), checked with
only that rule enabled (and those its ``config`` selects). INVALID examples must report
(at ``line``, ``count`` times, with ``message``); applying every fix must give ``fixed``,
parse, and clear the report.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from conftest import write_project
from pitfalls.core.fixes import fix_until_stable
from pitfalls.core.rule import Example, Rule
from pitfalls.core.settings import parse_settings
from pitfalls.project.config import ConfigResolver, ProjectConfig
from pitfalls.project.run import check_files
from pitfalls.project.workspace import Workspace
from pitfalls.rules import ALL_RULES
from pitfalls.sources.load import load_schemas

EXAMPLE_DATABASE = "example.sqlite"


def create_database(path: Path, ddl: str) -> None:
    """A fresh SQLite file holding ``ddl``'s tables (a fix round reuses the project folder)."""
    path.unlink(missing_ok=True)
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(ddl)


def _cases(kind: str) -> list:
    cases = []
    for rule in ALL_RULES:
        for i, example in enumerate(getattr(rule, kind)):
            cases.append(pytest.param(rule, example, id=f"{rule.code}-{kind.lower()}-{i}"))
    return cases


def example_project(rule: type[Rule], example: Example, root: Path, code: str | None = None) -> ConfigResolver:
    """The example's project written to ``root`` (its file holding ``code``, default the
    example's), and its configuration: the rule, and any the example selects beside it."""
    files = {**example.files, example.path: code if code is not None else example.code}
    write_project(root, files)
    # The rule, and any the example selects beside it (PF001 judges their `# noqa` codes).
    table = {**example.config, "select": [rule.code, *example.config.get("select", [])]}
    if example.database is not None:
        table["database"] = {"url": f"sqlite:///{EXAMPLE_DATABASE}"}  # relative: to the project root
    config = ProjectConfig(parse_settings(table), root.resolve(), None)
    if example.database is not None:
        create_database(root / EXAMPLE_DATABASE, example.database)
    # Not the environment's: a PITFALLS_DATABASE_URL of the machine must not reach the examples.
    loaded = load_schemas(config, env={})
    if example.database is not None:
        assert loaded.warnings == [] and loaded.schemas.database is not None, loaded.warnings
    config.schemas = loaded.schemas
    return ConfigResolver(fixed=config)


def run_example(rule: type[Rule], example: Example, root: Path, code: str | None = None, *, editor: list | None = None):
    """What a run finds in the example's file; with ``editor``, a list, what the editor's
    check of the file finds too (on libcst's tree, where the run's may be made from ast)."""
    resolver = example_project(rule, example, root, code)
    paths = sorted(p for p in root.rglob("*.py"))
    result = check_files(paths, resolver, use_cache=False, jobs=1, base=root, keep_index=editor is not None)
    assert result.errors == [], "a rule failed: a broken rule would pass every VALID example"
    target = (root / example.path).resolve()
    if editor is not None:
        workspace = Workspace(resolver, root, use_cache=False)
        workspace.index = result.index
        outcome = workspace.check(str(target), target.read_text(encoding="utf-8"), edited=False)
        editor += [dataclasses.replace(d, path=str(Path(example.path))) for d in outcome.diagnostics if d.code == rule.code]
    return [d for d in result.diagnostics if d.path == str(Path(example.path)) and d.code == rule.code], target


@pytest.mark.parametrize(("rule", "example"), _cases("VALID"))
def test_valid(rule: type[Rule], example: Example, tmp_path: Path) -> None:
    found, _ = run_example(rule, example, tmp_path)
    assert found == [], f"{rule.code} must stay silent, reported: {[d.message for d in found]}"


@pytest.mark.parametrize(("rule", "example"), _cases("INVALID"))
def test_invalid(rule: type[Rule], example: Example, tmp_path: Path) -> None:
    editor: list = []
    found, target = run_example(rule, example, tmp_path, editor=editor)
    assert found, f"{rule.code} must report on:\n{example.code}"
    assert found == editor, "a run (on the tree made from ast) and the editor (on libcst's) disagree"
    if example.count is not None:
        assert len(found) == example.count, [d.message for d in found]
    if example.line is not None:
        assert {d.start.line for d in found} == {example.line}, [(d.start.line, d.message) for d in found]
    if example.message is not None:
        assert all(example.message in d.message for d in found), [d.message for d in found]
    fixable = [d for d in found if d.fix is not None]
    if example.fixed is not None:
        assert fixable, f"{rule.code} reported no fix"
        assert all(d.fix.applicability == rule.fix_applicability for d in fixable)
        # Round after round, as the CLI's --fix does (fixes that overlap wait for the next).
        def check(text: str) -> list:
            again, _ = run_example(rule, example, tmp_path, code=text)
            return [d for d in again if d.fix is not None]

        fixed = fix_until_stable({example.path: fixable}, lambda _: example.code, lambda changed: {
            example.path: check(changed[example.path])
        }, unsafe=True)
        assert example.path not in fixed.refused, "a fix round made code that does not parse"
        assert fixed.texts.get(example.path, example.code) == example.fixed
