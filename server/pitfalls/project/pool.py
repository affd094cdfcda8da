"""Worker processes that parse each file once and keep the tree between the two phases.

Phase 1 (:class:`Summarise`) reads, parses and summarises files; phase 2 (:class:`Check`)
runs the rules on them against the project index (:class:`SetIndex`). A worker holds the
trees it parsed, so the parent sends each file's work to the worker that parsed it. Small
runs use one in-process :class:`Analyzer` with the same messages.
"""

from __future__ import annotations

import gc
import multiprocessing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pitfalls.core.check import FileOutcome, ParsedFile, check_parsed, parse_file
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import ProjectIndex
from pitfalls.core.rule import Rule
from pitfalls.core.schema import Schemas
from pitfalls.core.settings import Settings
from pitfalls.core.source import ParseFailure, decode, parse_error
from pitfalls.core.summary import ModuleSummary
from pitfalls.project.files import content_hash


class EngineError(Exception):
    """The check could not complete (not a finding): the CLI reports it in one line."""


@dataclass(frozen=True)
class FileTask:
    path: str
    display: str
    module: str
    root: str
    is_package: bool


@dataclass
class Summarised:
    """A file after phase 1: its hash and summary, or the PF000 that stops it."""

    path: str
    hash: str | None
    summary: ModuleSummary | None
    fingerprint: str | None
    failure: Diagnostic | None  # PF000: unreadable or unparsable
    error: str | None = None  # an internal failure to summarise (the file is still checked)


@dataclass
class Checked:
    path: str
    late: Summarised | None  # phase-1 facts of a file first parsed in phase 2
    outcome: FileOutcome


@dataclass(frozen=True)
class Summarise:
    tasks: list[FileTask]


@dataclass(frozen=True)
class SetIndex:
    index: ProjectIndex


@dataclass(frozen=True)
class Check:
    items: list[tuple[FileTask, list[type[Rule]], Settings]]  # each file with its rules and settings
    schemas: Schemas


@dataclass(frozen=True)
class Stop:
    pass


Message = Summarise | SetIndex | Check | Stop


class Analyzer:
    """Holds parsed trees between the phases. One per worker process."""

    def __init__(self) -> None:
        self.trees: dict[str, ParsedFile] = {}
        self.index = ProjectIndex()

    def handle(self, message: Message) -> Any:
        match message:
            case Summarise(tasks):
                return [self._summarise(task) for task in tasks]
            case SetIndex(index):
                self.index = index
                return None
            case Check(items, schemas):
                return [self._check(task, rules, settings, schemas) for task, rules, settings in items]
        raise TypeError(f"unknown message {message!r}")

    def _summarise(self, task: FileTask, cached: ModuleSummary | None = None) -> Summarised:
        """Parse the file; summarise it, unless its summary is ``cached`` and current."""
        try:
            data = Path(task.path).read_bytes()
        except OSError as exc:
            failure = parse_error(task.display, f"cannot read file: {exc.strerror or exc}")
            return Summarised(task.path, None, None, None, failure)
        digest = content_hash(data)
        try:
            parsed = parse_file(
                task.path, decode(task.display, data), name=task.module, root=task.root,
                is_package=task.is_package, display=task.display, summary=cached,
            )
        except ParseFailure as exc:
            return Summarised(task.path, digest, None, None, exc.diagnostic)
        self.trees[task.path] = parsed
        fingerprint = self.index.fingerprints[task.path] if cached is not None else parsed.summary.fingerprint()
        return Summarised(task.path, digest, parsed.summary, fingerprint, None, parsed.error)

    def _check(self, task: FileTask, rules: list[type[Rule]], settings: Settings, schemas: Schemas) -> Checked:
        """Run the rules; a file not parsed in phase 1 (its summary was cached, its results
        stale) is parsed now, and its phase-1 facts returned with the outcome."""
        late = None
        if task.path not in self.trees:
            late = self._summarise(task, self.index.by_path.get(task.path))
            if late.failure is not None:
                return Checked(task.path, late, FileOutcome([late.failure]))
        parsed = self.trees.pop(task.path)
        outcome = check_parsed(parsed, self.index, rules, settings=settings, schemas=schemas, display=task.display)
        return Checked(task.path, late, outcome)


def _worker_main(conn: Any) -> None:
    # A worker holds many parsed trees and makes no reference cycles worth collecting:
    # the cyclic collector would only rescan the trees, over and over (about a third of
    # the parse time).
    gc.disable()
    analyzer = Analyzer()
    while True:
        message = conn.recv()
        if isinstance(message, Stop):
            conn.close()
            return
        conn.send(analyzer.handle(message))


class Pool:
    """A fixed set of worker processes, each keeping the trees it parsed."""

    def __init__(self, size: int) -> None:
        self.local = Analyzer() if size <= 1 else None
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        if self.local is None:
            context = multiprocessing.get_context("fork")
            for _ in range(size):
                parent, child = context.Pipe()
                proc = context.Process(target=_worker_main, args=(child,), daemon=True)
                proc.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(proc)

    @property
    def size(self) -> int:
        return 1 if self.local is not None else len(self.conns)

    def map(self, messages: list[Message]) -> list[Any]:
        """Send one message per worker; their answers in worker order."""
        if self.local is not None:
            return [self.local.handle(messages[0])]
        try:
            for conn, message in zip(self.conns, messages):
                conn.send(message)
            return [conn.recv() for conn in self.conns]
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            raise EngineError(f"a worker process died ({type(exc).__name__}); rerun with --jobs 1") from None

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(Stop())
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def split(paths: list[str], sizes: dict[str, int], parts: int) -> list[list[str]]:
    """Balance files over workers by size, biggest first."""
    buckets: list[list[str]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for path in sorted(paths, key=lambda p: -sizes.get(p, 0)):
        i = loads.index(min(loads))
        buckets[i].append(path)
        loads[i] += sizes.get(path, 0) + 1
    return buckets
