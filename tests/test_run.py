"""``check_files`` leaves the cyclic garbage collector as it found it, and leaves it nothing.

A run turns the collector off while it works (it would only rescan the trees and summaries
it allocates) and back on when it ends; a caller that manages collections itself (the
language server) keeps it off. So a checked file must be freed by reference counting alone:
a reference cycle through its rules would keep its whole tree until the collector ran.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pitfalls import rules as catalog
from pitfalls.core.check import check_text
from pitfalls.core.context import RuleContext
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.run import check_files

from conftest import unpack_ecosystem


def collector_states(root: Path) -> list[bool]:
    """Whether the collector was on each time the run reported progress."""
    seen: list[bool] = []
    config = ConfigResolver(root=root)
    result = check_files(
        discover([root], config), config, use_cache=False, jobs=1,
        progress=lambda step, done, total: seen.append(gc.isenabled()),
    )
    assert [d.code for d in result.diagnostics] == ["PF103"]
    return seen


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_off_during_a_run_and_as_it_was_after(tmp_path: Path, enabled: bool) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    (tmp_path / "client.py").write_text("import requests\n\nrequests.get('https://example.com')\n", encoding="utf-8")
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        seen = collector_states(tmp_path)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen and not any(seen)


def test_a_checked_file_leaves_nothing_for_the_cyclic_collector() -> None:
    """Rules whose helpers call back into them (PF105, PF403, PF404) and facts that keep
    their context (``Clients``) make cycles; the check breaks them when it is done."""
    source = (
        "import asyncio, subprocess, requests\n\n\n"
        "async def handler(db, name):\n"
        "    requests.get('https://example.com')\n"
        "    subprocess.run(f'ls {name}', shell=True)\n"
        "    db.execute(f'SELECT * FROM t WHERE name = {name}')\n"
    )
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        outcome = check_text("/p/app.py", source, list(catalog.load()), name="app")
        left = [o for o in gc.get_objects() if isinstance(o, RuleContext)]
    finally:
        if was:
            gc.enable()
    assert {"PF103", "PF404", "PF105", "PF403"} <= {d.code for d in outcome.diagnostics}
    assert left == []


def test_trees_past_the_workers_budget_are_parsed_again_with_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers keep the trees of only so much source between the phases (libcst's trees
    take fifty times its memory); the others are parsed again when checked. Nothing kept,
    or some: the findings a run keeping every tree gives."""
    from pitfalls.project import pool

    unpack_ecosystem(tmp_path, "fief")
    root = tmp_path / "fief"
    config = ConfigResolver(root=root)
    files = discover([root], config)

    def findings() -> list[tuple[str, int, str]]:
        result = check_files(files, config, use_cache=False, jobs=2)
        assert not result.errors
        return sorted((d.path, d.start.line, d.code) for d in result.diagnostics)

    everything = findings()
    assert len({path for path, _, _ in everything}) > 5
    for kept in (0, 250_000):  # none kept, some
        monkeypatch.setattr(pool, "KEPT_SOURCE_CHARS", kept)
        assert findings() == everything, kept


def test_a_change_many_files_read_is_checked_by_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One module changed, read by many: phase 1 reads it in this process, and phase 2
    checks its dependants in worker processes (it was all in this process), with the
    findings a run without a cache gives."""
    from pitfalls.project import pool

    padding = '"""' + "A module padded past the size worth a worker process. " * 150 + '"""\n'
    (tmp_path / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    core = tmp_path / "app" / "core.py"
    core.write_text("def helper(x):\n    return x\n", encoding="utf-8")
    for i in range(60):
        text = f"{padding}from app.core import helper\n\nhelper(x={i})\n"
        (tmp_path / "app" / f"m{i}.py").write_text(text, encoding="utf-8")
    config = ConfigResolver(root=tmp_path)
    files = discover([tmp_path], config)
    assert check_files(files, config, jobs=2).diagnostics == []

    sizes: list[int] = []
    start = pool.Pool.__init__

    def counted(self: pool.Pool, size: int) -> None:
        sizes.append(size)
        start(self, size)

    monkeypatch.setattr(pool.Pool, "__init__", counted)
    core.write_text("def helper(y):\n    return y\n", encoding="utf-8")
    warm = check_files(files, config, jobs=2)
    assert sizes == [1, 2]
    assert [d.code for d in warm.diagnostics] == ["PF209"] * 60
    assert warm.diagnostics == check_files(files, config, jobs=2, use_cache=False).diagnostics
