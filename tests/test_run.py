"""``check_files`` leaves the cyclic garbage collector as it found it.

A run turns the collector off while it works (it would only rescan the trees and summaries
it allocates) and back on when it ends; a caller that manages collections itself (the
language server) keeps it off.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import discover
from pitfalls.project.run import check_files


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
