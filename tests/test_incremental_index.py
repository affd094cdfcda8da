"""A large project: an edit to one module updates the import-cycle findings it affects,
without summarising any other module again (their summaries come from the cache)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pitfalls.core.settings import parse_settings
from pitfalls.project.config import ConfigResolver, ProjectConfig
from pitfalls.project.run import check_files

CYCLES, SIZE = 100, 10  # 1,000 modules: 100 import cycles of 10 modules each


def _module(cycle: int, i: int, closes: bool = True) -> str:
    nxt = (i + 1) % SIZE
    lines = [f'"""Module {i} of cycle {cycle}."""', ""]
    if nxt != 0 or closes:
        lines.append(f"from app.c{cycle} import m{nxt}")
    lines += ["", "", f"def f{i}():", f"    return {i}", ""]
    return "\n".join(lines)


def _project(root: Path) -> list[Path]:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    for c in range(CYCLES):
        package = root / "app" / f"c{c}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        for i in range(SIZE):
            (package / f"m{i}.py").write_text(_module(c, i))
    return sorted(root.rglob("*.py"))


def test_an_edit_updates_cycles_without_resummarising_the_project(tmp_path: Path) -> None:
    files = _project(tmp_path)
    assert len(files) > 1_000
    config = ConfigResolver(fixed=ProjectConfig(parse_settings({"select": ["PF301"]}), tmp_path, None))

    cold = check_files(files, config, jobs=2)
    assert cold.summarised == len(files)
    per_cycle = Counter(Path(d.path).parent.name for d in cold.diagnostics)
    assert per_cycle == {f"c{c}": SIZE for c in range(CYCLES)}
    assert "app.c7.m3 -> app.c7.m4" in next(d.message for d in cold.diagnostics if "/c7/m3.py" in d.path)

    # Break cycle 7 by editing one module: only that module is summarised again.
    (tmp_path / "app" / "c7" / "m9.py").write_text(_module(7, 9, closes=False))
    warm = check_files(files, config, jobs=2)
    assert warm.summarised == 1
    assert warm.analysed <= SIZE  # the modules whose findings read the edited module
    per_cycle = Counter(Path(d.path).parent.name for d in warm.diagnostics)
    assert "c7" not in per_cycle
    assert per_cycle == {f"c{c}": SIZE for c in range(CYCLES) if c != 7}

    # Close it again: the findings come back, still from one summary.
    (tmp_path / "app" / "c7" / "m9.py").write_text(_module(7, 9))
    again = check_files(files, config, jobs=2)
    assert again.summarised == 1
    assert Counter(Path(d.path).parent.name for d in again.diagnostics)["c7"] == SIZE
