"""The work of one worker process (or of a small run's own process): parse, summarise
and check files, keeping each parsed tree between the two phases (see
:mod:`pitfalls.project.pool` for the messages)."""

from __future__ import annotations

import dataclasses
import gc
import pickle
import time
from typing import Any, Iterable

from pitfalls.core.check import FileOutcome, ParsedFile, check_parsed, parse_file, parse_from_ast
from pitfalls.core.index import ProjectIndex
from pitfalls.core.rule import Rule
from pitfalls.core.schema import Schemas
from pitfalls.core.settings import Settings
from pitfalls.core.source import ParseFailure, decode, parse_error
from pitfalls.core.summary_ast import summarize_source
from pitfalls.core.summary_data import ModuleSummary
from pitfalls.project.files import UnreadableFile, content_hash, read_bounded
from pitfalls.project.pool import (
    PROGRESS_INTERVAL_SECONDS, Check, Checked, FileTask, Message, Progress, Stop, Summarise, Summarised,
    Tick, no_tick,
)


class Analyzer:
    """Holds parsed trees between the phases, those of up to ``budget`` characters of
    source (see :data:`~pitfalls.project.pool.KEPT_SOURCE_CHARS`). One per worker process."""

    def __init__(self, budget: int) -> None:
        self.trees: dict[str, ParsedFile] = {}
        self.index = ProjectIndex()
        self.budget = budget
        self.kept = 0  # characters of source whose trees are held

    def handle(self, message: Message, tick: Tick = no_tick) -> Any:
        """The answer to ``message``; ``tick(1)`` after each file."""
        match message:
            case Summarise(tasks):
                return [self._after(self._summarise(task, within_budget=True), tick) for task in tasks]
            case Check(items, index):
                self.index = pickle.loads(index) if isinstance(index, bytes) else index
                return [self._after(self._check(*item), tick) for item in items]
        raise TypeError(f"unknown message {message!r}")

    @staticmethod
    def _after(answer: Any, tick: Tick) -> Any:
        tick(1)
        return answer

    def _summarise(self, task: FileTask, cached: ModuleSummary | None = None, *, within_budget: bool = False) -> Summarised:
        """Parse the file; summarise it, unless its summary is ``cached`` and current. Its
        tree is kept for the check; with ``within_budget``, once the budget is spent, the
        file is summarised from CPython's tree instead (parsed by libcst when checked)."""
        known = None if cached is None else (cached, self.index.fingerprints[task.path])
        summarised, parsed = summarise_file(task, known, tree=not within_budget or self.kept < self.budget)
        if parsed is not None:
            self.trees[task.path] = parsed
            self.kept += len(parsed.source)
        return summarised

    def _check(self, task: FileTask, rules: list[type[Rule]], settings: Settings, schemas: Schemas) -> Checked:
        """Run the rules; a file not parsed in phase 1 (its summary was cached, its results
        stale) is parsed now, and its phase-1 facts returned with the outcome."""
        late = None
        if task.path not in self.trees:
            cached = self.index.by_path.get(task.path)
            late = self._summarise(task, cached)
            if late.failure is not None:
                return Checked(task.path, late, FileOutcome([late.failure]))
            if cached is not None:  # the parent's cache entry holds it: no copy goes back
                late = dataclasses.replace(late, summary=None)
        parsed = self.trees.pop(task.path)
        self.kept -= len(parsed.source)
        outcome = check_parsed(parsed, self.index, rules, settings=settings, schemas=schemas, display=task.display)
        if outcome.again:  # reports on CPython's tree that libcst's decides (see check_parsed)
            try:
                parsed = _parse(task, parsed.source, parsed.summary)
            except ParseFailure as exc:
                return Checked(task.path, late, FileOutcome([exc.diagnostic]))
            outcome = check_parsed(
                parsed, self.index, rules, settings=settings, schemas=schemas, display=task.display, only=outcome.again
            )
        return Checked(task.path, late, outcome)


def summarise_file(
    task: FileTask, cached: tuple[ModuleSummary, str] | None = None, *, tree: bool = True
) -> tuple[Summarised, ParsedFile | None]:
    """Read and summarise the file (its summary and fingerprint are ``cached``, when
    current), with the tree its rules will walk: none without ``tree``, or for a file only
    summarised (unless CPython's tree cannot say, and libcst's is parsed)."""
    try:
        data = read_bounded(task.path, task.max_file_mb)
    except UnreadableFile as exc:
        return Summarised(task.path, None, None, None, parse_error(task.display, str(exc))), None
    digest = content_hash(data)
    try:
        source = decode(task.display, data)
        # A file only summarised: from CPython's ast, the same summary at about a fifth
        # of libcst's cost, and no tree kept (libcst still decides what ast cannot).
        if not task.checked or not tree:
            where = {"name": task.module, "path": task.path, "root": task.root, "is_package": task.is_package}
            summary = summarize_source(source, display=task.display, **where)
            if summary is not None:
                return Summarised(task.path, digest, summary, summary.fingerprint(), None), None
        summary = None if cached is None else cached[0]
        # A file checked: its rules walk CPython's tree made into libcst's node classes, at a
        # third of libcst's parse; those that find anything walk libcst's (see _check).
        parsed = parse_from_ast(
            task.path, source, name=task.module, root=task.root, is_package=task.is_package, display=task.display,
            summary=summary, python=task.python,
        ) or _parse(task, source, summary)
    except ParseFailure as exc:
        return Summarised(task.path, digest, None, None, exc.diagnostic), None
    fingerprint = cached[1] if cached is not None else parsed.summary.fingerprint()
    return Summarised(task.path, digest, parsed.summary, fingerprint, None, parsed.error), parsed


def _parse(task: FileTask, source: str, summary: ModuleSummary | None) -> ParsedFile:
    return parse_file(
        task.path, source, name=task.module, root=task.root, is_package=task.is_package, display=task.display,
        summary=summary, python=task.python,
    )


def worker_main(conn: Any, budget: int, inherited: Iterable[Any] = ()) -> None:
    """A worker's life: answer the parent's messages until Stop, or until the parent is
    gone (killed mid-run: its end of the pipe closes). ``budget``: see :class:`Analyzer`.
    ``inherited``: the parent's ends of the pipes, which the fork copied here; kept open,
    they would hide that."""
    for other in inherited:
        other.close()
    # A worker holds many parsed trees and makes no reference cycles worth collecting:
    # the cyclic collector would only rescan the trees, over and over (about a third of
    # the parse time).
    gc.disable()
    analyzer = Analyzer(budget)
    pending = 0
    last = time.monotonic()

    def tick(done: int) -> None:
        nonlocal pending, last
        pending += done
        if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS:
            conn.send(Progress(pending))
            pending, last = 0, time.monotonic()

    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent is gone: nobody waits for an answer
            return
        if isinstance(message, Stop):
            conn.close()
            return
        answer = analyzer.handle(message, tick)
        pending = 0  # the parent counts the answer's files itself
        conn.send(answer)
