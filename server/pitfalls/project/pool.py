"""Worker processes that parse each file once and keep the tree between the two phases.

Phase 1 (:class:`Summarise`) reads, parses and summarises files; phase 2 (:class:`Check`)
runs the rules on them against the project index, which comes with it. A worker's
:class:`~pitfalls.project.analyzer.Analyzer` holds the trees it parsed, so the parent sends
each file's work to the worker that parsed it. Small runs use one in-process analyzer with
the same messages. The analyzer (the engine, libcst, the rules) is loaded with the first
pool: a run whose results all come from the cache never starts one.
"""

from __future__ import annotations

import pickle
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator

from pitfalls import rules as catalog
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import ProjectIndex
from pitfalls.core.schema import Schemas
from pitfalls.core.settings import Settings
from pitfalls.core.summary_data import ModuleSummary

if TYPE_CHECKING:
    from pitfalls.core.check import FileOutcome
    from pitfalls.core.rule import Rule


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


# A file to check with its rules, settings and schemas (each from its own configuration).
CheckItem = tuple[FileTask, "list[type[Rule]]", Settings, Schemas]


@dataclass(frozen=True)
class Check:
    items: list[CheckItem]
    # The project index: as it is in this process, pickled once for every worker (see
    # :meth:`Pool.shared`).
    index: ProjectIndex | bytes


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Progress:
    """From a worker between answers: it finished ``done`` more files of its message."""

    done: int


Message = Summarise | Check | Stop
# Called with each number of files a message finished, as they finish (for a progress bar).
Tick = Callable[[int], None]
# A worker reports progress at most this often: a pipe message per file would cost more.
# The language server runs an edit's check at these reports while a scan is on (every
# 0.2 s, an edit on dispatch waited 0.16 s for its diagnostics as a median; now 0.06 s).
PROGRESS_INTERVAL_SECONDS = 0.05
# libcst's trees take about fifty times the memory of their source. The workers together
# keep those of this much source between the phases (the first files each parses, the
# largest: the costliest come first); past that a worker summarises a file from CPython's
# tree, and libcst parses it when it is checked: a project of a million lines and more
# costs some CPU more (a third of a parse per file past the budget) instead of memory
# without bound (30 MB of source kept 1.5 GB of trees).
KEPT_SOURCE_CHARS = 32_000_000


def no_tick(done: int) -> None:
    pass


class Pool:
    """A fixed set of worker processes, each keeping the trees it parsed."""

    def __init__(self, size: int) -> None:
        from pitfalls.project.analyzer import Analyzer, worker_main  # the engine, with the first pool

        catalog.load()  # here, before the workers fork: they share the rules' modules
        self.local = Analyzer(KEPT_SOURCE_CHARS) if size <= 1 else None
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        if self.local is None:
            import multiprocessing  # only with workers: a warm run starts none

            context = multiprocessing.get_context("fork")
            for _ in range(size):
                parent, child = context.Pipe()
                proc = context.Process(
                    target=worker_main, args=(child, KEPT_SOURCE_CHARS // size, [*self.conns, parent]), daemon=True
                )
                proc.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(proc)

    @property
    def size(self) -> int:
        return 1 if self.local is not None else len(self.conns)

    def shared(self, value: ProjectIndex) -> ProjectIndex | bytes:
        """``value`` as every worker gets it: pickled once for all of them, not once per
        message (the index is megabytes); as it is, in this process."""
        if self.local is not None:
            return value
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def stream(
        self, tasks: list[tuple[FileTask, int]], message: Callable[[list[FileTask]], Message], tick: Tick = no_tick,
        meanwhile: Callable[[], None] | None = None,
    ) -> list[list[Any]]:
        """Hand ``tasks`` (each with its cost: a file's size) out in chunks
        (``message(chunk)``), each worker taking the next one as it answers the last, and the
        chunks shrinking as the work runs out (guided scheduling: a chunk is a share of the
        cost left): the workers finish together however unevenly the costs were guessed,
        which a split fixed in advance cannot promise. Each worker's answers, in worker order.
        ``meanwhile`` runs here once the first chunks are out: this process's own work,
        done while the workers do theirs. ``tick`` hears of every task finished, once."""
        if self.local is not None:
            if meanwhile is not None:
                meanwhile()
            return [self.local.handle(message([task for task, _ in tasks]), tick) if tasks else []]
        pending = sorted(tasks, key=lambda task: task[1])  # taken from the end: the costliest first
        left = sum(cost for _, cost in pending)
        least = left / 256  # a chunk's least cost: the tail's many small files are not one round trip each
        answers: list[list[Any]] = [[] for _ in self.conns]
        handed: dict[int, int] = {}  # worker -> tasks in the chunk it is working on

        def hand(worker: int) -> None:
            nonlocal left
            share, chunk = max(left / (2 * len(self.conns)), least), []
            while pending and (not chunk or share > 0):
                task, cost = pending.pop()
                chunk.append(task)
                share -= cost
                left -= cost
            self.conns[worker].send(message(chunk))
            handed[worker] = len(chunk)

        with _worker_faults():
            for worker in range(len(self.conns)):
                if pending:
                    hand(worker)
            if meanwhile is not None:
                meanwhile()
            for worker, answer, reported in self._answers(handed, tick):
                answers[worker].extend(answer)
                tick(handed.pop(worker) - reported)
                if pending:
                    hand(worker)
        return answers

    def map(self, messages: list[Message | None], tick: Tick = no_tick) -> list[Any]:
        """Send one message per worker (None: that worker has nothing to do); their answers
        in worker order (None for an idle worker). ``tick`` hears of files finished as
        workers report them, every file once."""
        if self.local is not None:
            return [None if messages[0] is None else self.local.handle(messages[0], tick)]
        answers: list[Any] = [None] * len(self.conns)
        busy = {worker for worker, message in enumerate(messages) if message is not None}
        with _worker_faults():
            for worker in busy:
                self.conns[worker].send(messages[worker])
            for worker, answer, reported in self._answers(busy, tick):
                answers[worker] = answer
                busy.remove(worker)
                if isinstance(answer, list) and len(answer) > reported:
                    tick(len(answer) - reported)
        return answers

    def _answers(self, busy: Collection[int], tick: Tick) -> Iterator[tuple[int, Any, int]]:
        """Each answer of the ``busy`` workers as it comes (the caller takes a worker out of
        ``busy`` once it has nothing more to say), with how many of its files the worker
        reported finished before it (their progress goes to ``tick`` as it comes)."""
        from multiprocessing.connection import wait

        reported = [0] * len(self.conns)
        while busy:
            for conn in wait([self.conns[worker] for worker in busy]):
                worker = self.conns.index(conn)
                answer = conn.recv()
                if isinstance(answer, Progress):
                    reported[worker] += answer.done
                    tick(answer.done)
                    continue
                yield worker, answer, reported[worker]
                reported[worker] = 0

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


@contextmanager
def _worker_faults() -> Iterator[None]:
    """A worker that died mid-run, as one line for the user."""
    try:
        yield
    except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
        raise EngineError(f"a worker process died ({type(exc).__name__}); rerun with --jobs 1") from None


def split(paths: list[str], sizes: dict[str, int], parts: int) -> list[list[str]]:
    """Balance files over workers by size, biggest first."""
    buckets: list[list[str]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for path in sorted(paths, key=lambda p: -sizes.get(p, 0)):
        i = loads.index(min(loads))
        buckets[i].append(path)
        loads[i] += sizes.get(path, 0) + 1
    return buckets
