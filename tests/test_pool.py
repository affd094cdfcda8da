"""The worker pool: files handed out in chunks by cost, every one answered once, and a
worker that dies reported in one line."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pitfalls.project.pool import EngineError, FileTask, Pool, Summarise


def tasks_of(tmp_path: Path, sizes: list[int]) -> list[tuple[FileTask, int]]:
    tasks = []
    for i, lines in enumerate(sizes):
        path = tmp_path / f"m{i}.py"
        path.write_text("".join(f"x{j} = {j}\n" for j in range(lines)))
        tasks.append((FileTask(str(path), path.name, path.stem, str(tmp_path), False, 1.0), path.stat().st_size))
    return tasks


def test_every_file_is_summarised_once_by_the_worker_that_parsed_it(tmp_path: Path) -> None:
    # One big file and many small ones: the chunks shrink as the work runs out.
    tasks = tasks_of(tmp_path, [400] + [3] * 60)
    ticks: list[int] = []
    meanwhile: list[int] = []
    pool = Pool(2)
    try:
        answers = pool.stream(tasks, Summarise, ticks.append, meanwhile=lambda: meanwhile.append(os.getpid()))
    finally:
        pool.close()
    paths = [item.path for answer in answers for item in answer]
    assert sorted(paths) == sorted(task.path for task, _ in tasks)
    assert all(item.summary is not None and item.failure is None for answer in answers for item in answer)
    assert sum(ticks) == len(tasks)
    assert meanwhile == [os.getpid()]  # once, in this process
    assert all(answers), "both workers had work"
    # The costliest file goes first, alone in its worker's first chunk of a share of the cost.
    assert answers[0][0].path == tasks[0][0].path


def test_one_process_runs_the_same_messages_in_place(tmp_path: Path) -> None:
    tasks = tasks_of(tmp_path, [5, 7])
    ticks: list[int] = []
    pool = Pool(1)
    answers = pool.stream(tasks, Summarise, ticks.append, meanwhile=lambda: ticks.append(0))
    assert [item.path for item in answers[0]] == [task.path for task, _ in tasks]
    assert sorted(ticks) == [0, 1, 1]


def test_a_worker_that_dies_is_one_line_not_a_hang(tmp_path: Path) -> None:
    tasks = tasks_of(tmp_path, [5] * 8)
    pool = Pool(2)
    try:
        pool.procs[0].kill()
        pool.procs[0].join()
        with pytest.raises(EngineError, match="a worker process died .*rerun with --jobs 1"):
            pool.stream(tasks, Summarise)
    finally:
        pool.close()


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    # A parent killed mid-run (an editor killing its language server) runs no clean-up: its
    # workers must see their pipe close and end, not wait forever holding its stdio open.
    script = (
        "import sys\n"
        "from pitfalls.project.pool import Pool\n"
        "pool = Pool(2)\n"
        "print(*(proc.pid for proc in pool.procs), flush=True)\n"
        "sys.stdin.read()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    workers = [int(pid) for pid in parent.stdout.readline().split()]  # type: ignore[union-attr]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 30  # a liveness bound, not a speed: they end at once
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
    parent.stdin.close()  # type: ignore[union-attr]
    parent.stdout.close()  # type: ignore[union-attr]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped by init, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_keeps_the_trees_its_budget_holds_and_parses_the_others_again(tmp_path: Path) -> None:
    """Past its budget of source, a worker summarises a file and drops its tree; checking
    it parses it again: the same outcome, and nothing held once every file is checked."""
    from pitfalls import rules as catalog
    from pitfalls.core.index import ProjectIndex
    from pitfalls.core.schema import Schemas
    from pitfalls.core.settings import Settings
    from pitfalls.project.analyzer import Analyzer
    from pitfalls.project.pool import Check

    texts = {
        "base.py": "class Base:\n    def __init__(self, name):\n        self.name = name\n\n    def label(self):\n        return self.name\n",
        "child.py": "from base import Base\n\n\nclass Child(Base):\n    def __init__(self):\n        self.size = 1\n",
        "client.py": "import requests\n\nrequests.get('https://example.com')\n",
    }
    tasks = []
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        tasks.append(FileTask(str(tmp_path / name), name, name[:-3], str(tmp_path), False, 1.0))
    rules = catalog.runnable(catalog.ALL_RULES)

    def run(budget: int) -> tuple[Analyzer, list[list[str]], list[str]]:
        analyzer = Analyzer(budget)
        summaries = [item.summary for item in analyzer.handle(Summarise(tasks))]
        kept = list(analyzer.trees)
        checked = analyzer.handle(Check([(task, rules, Settings(), Schemas()) for task in tasks], ProjectIndex(summaries)))
        return analyzer, [[f"{d.code}:{d.start.line}" for d in c.outcome.diagnostics] for c in checked], kept

    everything, expected, all_kept = run(10**9)
    some, found, kept = run(len(texts["base.py"]))
    assert kept == [tasks[0].path] and len(all_kept) == 3
    assert found == expected and ["PF201:5"] in expected and ["PF103:3"] in expected
    assert some.trees == {} and some.kept == 0 == everything.kept
