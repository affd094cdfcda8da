"""Worker processes that parse each file once and keep the tree between the two phases.

Phase 1 (:class:`Summarise`) reads, parses and summarises files; phase 2 (:class:`Check`)
runs the rules on them against the project index (:class:`SetIndex`). A worker holds the
trees it parsed, so the parent sends each file's work to the worker that parsed it. Small
runs use one in-process :class:`Analyzer` with the same messages.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable

from pitfalls.core.check import FileOutcome, ParsedFile, check_parsed, parse_file
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import ProjectIndex
from pitfalls.core.rule import Rule
from pitfalls.core.schema import Schemas
from pitfalls.core.settings import Settings
from pitfalls.core.source import ParseFailure, decode, parse_error
from pitfalls.core.summary import ModuleSummary
from pitfalls.core.summary_ast import summarize_source
from pitfalls.project.files import UnreadableFile, content_hash, read_bounded


class EngineError(Exception):
    """The check could not complete (not a finding): the CLI reports it in one line."""


@dataclass(frozen=True)
class FileTask:
    path: str
    display: str
    module: str
    root: str
    is_package: bool
    max_file_mb: float
    python: tuple[int, int] | None = None  # the oldest Python the project admits
    checked: bool = True  # its rules may run (else it is only summarised, for the index)


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


# A file to check with its rules, settings and schemas (each from its own configuration).
CheckItem = tuple[FileTask, list[type[Rule]], Settings, Schemas]


@dataclass(frozen=True)
class Check:
    items: list[CheckItem]


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Progress:
    """From a worker between answers: it finished ``done`` more files of its message."""

    done: int


Message = Summarise | SetIndex | Check | Stop
# Called with each number of files a message finished, as they finish (for a progress bar).
Tick = Callable[[int], None]
# A worker reports progress at most this often: a pipe message per file would cost more.
PROGRESS_INTERVAL_SECONDS = 0.2


def _no_tick(done: int) -> None:
    pass


class Analyzer:
    """Holds parsed trees between the phases. One per worker process."""

    def __init__(self) -> None:
        self.trees: dict[str, ParsedFile] = {}
        self.index = ProjectIndex()

    def handle(self, message: Message, tick: Tick = _no_tick) -> Any:
        """The answer to ``message``; ``tick(1)`` after each file."""
        match message:
            case Summarise(tasks):
                return [self._after(self._summarise(task), tick) for task in tasks]
            case SetIndex(index):
                self.index = index
                return None
            case Check(items):
                return [self._after(self._check(*item), tick) for item in items]
        raise TypeError(f"unknown message {message!r}")

    @staticmethod
    def _after(answer: Any, tick: Tick) -> Any:
        tick(1)
        return answer

    def _summarise(self, task: FileTask, cached: ModuleSummary | None = None) -> Summarised:
        """Parse the file; summarise it, unless its summary is ``cached`` and current."""
        try:
            data = read_bounded(task.path, task.max_file_mb)
        except UnreadableFile as exc:
            return Summarised(task.path, None, None, None, parse_error(task.display, str(exc)))
        digest = content_hash(data)
        try:
            source = decode(task.display, data)
            # A file only summarised: from CPython's ast, the same summary at about a fifth
            # of libcst's cost, and no tree kept (libcst still decides what ast cannot).
            if not task.checked:
                where = {"name": task.module, "path": task.path, "root": task.root, "is_package": task.is_package}
                summary = summarize_source(source, display=task.display, **where)
                if summary is not None:
                    return Summarised(task.path, digest, summary, summary.fingerprint(), None)
            parsed = parse_file(
                task.path, source, name=task.module, root=task.root,
                is_package=task.is_package, display=task.display, summary=cached, python=task.python,
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
    pending = 0
    last = time.monotonic()

    def tick(done: int) -> None:
        nonlocal pending, last
        pending += done
        if time.monotonic() - last >= PROGRESS_INTERVAL_SECONDS:
            conn.send(Progress(pending))
            pending, last = 0, time.monotonic()

    while True:
        message = conn.recv()
        if isinstance(message, Stop):
            conn.close()
            return
        answer = analyzer.handle(message, tick)
        pending = 0  # the parent counts the answer's files itself
        conn.send(answer)


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

    def map(self, messages: list[Message], tick: Tick = _no_tick) -> list[Any]:
        """Send one message per worker; their answers in worker order. ``tick`` hears of
        files finished as workers report them, every file once."""
        if self.local is not None:
            return [self.local.handle(messages[0], tick)]
        answers: dict[int, Any] = {}
        reported = [0] * len(self.conns)
        try:
            for conn, message in zip(self.conns, messages):
                conn.send(message)
            while len(answers) < len(self.conns):
                for conn in wait([c for i, c in enumerate(self.conns) if i not in answers]):
                    worker = self.conns.index(conn)
                    answer = conn.recv()
                    if isinstance(answer, Progress):
                        reported[worker] += answer.done
                        tick(answer.done)
                        continue
                    answers[worker] = answer
                    if isinstance(answer, list) and len(answer) > reported[worker]:
                        tick(len(answer) - reported[worker])
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            raise EngineError(f"a worker process died ({type(exc).__name__}); rerun with --jobs 1") from None
        return [answers[i] for i in range(len(self.conns))]

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
