"""Checking a project from disk: plan, summarise, build the index, check, save.

Two phases over the same parsed trees. Phase 1 reads, parses and summarises every changed
file; the summaries make the project index, and project-wide facts (the import cycles) are
computed from it once. Phase 2 runs the rules, with the index, on every file whose result
is not already cached. Worker processes take phase 1's files in chunks as they finish the
last (see :meth:`~pitfalls.project.pool.Pool.stream`) and keep their parsed trees, so each
file is parsed once and checked in phase 2 by the worker that parsed it.

Each file is checked with its own configuration (see
:class:`~pitfalls.project.config.ConfigResolver`), but the index covers the whole project
(every file under the outermost configuration above the files checked: every service of a
repository), even when only some files are checked, as pre-commit does: a rule in one file
must see the classes of the others. A cached result is reused only when the file is
unchanged and everything its :class:`~pitfalls.core.dependencies.Dependencies` record is as it
was; a cached summary only when the file and its module name are unchanged.

Schema sources are the caller's business: they come in as data (each configuration's
``schemas``), and nothing here reaches the network.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.dependencies import Dependencies, disk_now
from pitfalls.core.index import ProjectIndex, modules_key
from pitfalls.core.lazy_index import LazyIndex, spells
from pitfalls.core.summary_data import ModuleSummary
from pitfalls.project.cache import Cache, CorruptCache, Cycles, Entry, index_key
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import DiscoveryError, discover
from pitfalls.project.files import UnreadableFile, content_hash, display_path, read_bounded
from pitfalls.project.gitignore import GitIgnore
from pitfalls.project.pool import Check, CheckItem, EngineError, FileTask, Pool, Summarise, Summarised, Tick, split
from pitfalls import rules as catalog

if TYPE_CHECKING:
    from pitfalls.core.rule import Rule

__all__ = ["CheckResult", "EngineError", "check_files", "check_paths", "project_files", "rules_for"]

# Below this much source, worker processes cost more than they save.
PARALLEL_THRESHOLD_BYTES = 400_000
# A run whose targets are at most this part of the project's files (and small enough to be
# checked in this process) summarises only the modules their checks need (a lazy index).
LAZY_SHARE = 0.1

# Hears how far a run is: (step, files done, files in the step), for a progress display.
Progress = Callable[[str, int, int], None]


@dataclass
class CheckResult:
    diagnostics: list[Diagnostic]
    files: list[Path]
    errors: list[str] = field(default_factory=list)
    analysed: int = 0  # files whose rules ran (the rest came from the cache)
    hashes: dict[str, str] = field(default_factory=dict)  # path -> hash of the text analysed
    displays: dict[str, str] = field(default_factory=dict)  # path -> path as reported
    summarised: int = 0  # files read and summarised anew (the rest of the index was cached)
    index: ProjectIndex | None = None  # the whole project's index, when asked for
    dependencies: dict[str, Dependencies] = field(default_factory=dict)  # path -> what its result read


def rules_for(config: ConfigResolver, path: Path | str) -> list[type[Rule]]:
    """The rules that run on ``path``: selected and not ignored for it."""
    codes = config.enabled_codes(list(catalog.CODES), Path(path))
    settings = config.settings_for(path)
    return [r for r in catalog.runnable(catalog.ALL_RULES) if r.code in codes and r.applies(settings)]


def project_files(config: ConfigResolver, targets: list[Path], walked: Iterable[Path] = ()) -> list[Path]:
    """Every file of the projects the targets belong to: the folder of the outermost
    configuration above each (see :meth:`ConfigResolver.scope`), or else the source roots of
    the packages it is in. ``walked``: folders the targets were discovered in (a folder
    walked already is not walked again)."""
    roots: set[str] = set()
    for target in targets:
        scope = config.scope(target)
        if scope is not None:
            roots.add(str(scope))
            continue
        name, root, is_package = config.module_name(target)
        if is_package or "." in name:
            roots.add(root)
    folders = [Path(r) for r in sorted(roots)]
    if not folders or roots <= {os.path.abspath(folder) for folder in walked}:
        return targets
    try:
        everything = discover(folders, config)
    except DiscoveryError:
        return targets
    return list(dict.fromkeys([*targets, *everything]))


def _cache_root(config: ConfigResolver, files: list[str]) -> Path:
    """Where a run's cache lives: the folder of its project (the one folder holding every
    project the files belong to)."""
    roots = {str(config.scope(f) or config.config_for(f).root) for f in files}
    return Path(os.path.commonpath(sorted(roots))) if roots else config.root


def check_paths(
    paths: Iterable[Path],
    config: ConfigResolver,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
) -> CheckResult:
    paths = list(paths)
    targets = discover(paths, config)
    project = project_files(config, targets, [p for p in paths if p.is_dir()])
    return check_files(targets, config, project=project, use_cache=use_cache, jobs=jobs, base=base)


def check_files(
    targets: list[Path],
    config: ConfigResolver,
    *,
    project: list[Path] | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
    keep_index: bool = False,
    progress: Progress | None = None,
    known: ProjectIndex | None = None,
) -> CheckResult:
    """Check ``targets``; summarise ``project`` (default: the targets) for the index
    (returned with the result when ``keep_index``, for a long-lived process to update).
    Each file is checked against its configuration's ``schemas`` (resolved by the caller).
    ``progress`` hears of every file read and every file checked. ``known``: the index a
    long-lived process holds, whose summaries the new index takes where the cache has the
    same (by fingerprint), instead of decoding them again."""
    run = _Run(targets, project or [], config, use_cache, jobs, base, progress, known)
    try:
        with _without_cycle_collection():
            run.plan()
            run.lazy = not keep_index and run.few_targets()
            run.summarise()
            run.triage()
            run.check()
            run.save()
            return run.result(keep_index)
    except CorruptCache:
        # Its summaries are not the ones its first line signed: the run starts again
        # without that cache (and writes a new one, if it could remove this one).
        try:
            run.cache.file.unlink()
        except OSError:
            use_cache = False
        return check_files(
            targets, config, project=project, use_cache=use_cache, jobs=jobs, base=base, keep_index=keep_index,
            progress=progress, known=known,
        )
    finally:
        if run.pool is not None:
            run.pool.close()


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """A run allocates millions of objects (trees, summaries, the index) and frees nearly
    all of them by reference counting: the cyclic collector would only rescan them, over
    and over (a quarter of the CPU of a run in this process, as small runs are). Worker
    processes never collect; here the collector is back on when the run ends and takes
    the few cycles it left."""
    enabled = gc.isenabled()  # off already: the language server collects on its own schedule
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Run:
    """One project check, step by step; each step's output is the next one's input."""

    def __init__(
        self, targets: list[Path], project: list[Path], config: ConfigResolver,
        use_cache: bool, jobs: int | None, base: Path | None, progress: Progress | None,
        known: ProjectIndex | None = None,
    ) -> None:
        self.config = config
        self.known = known
        self.files = [str(f) for f in dict.fromkeys([*targets, *project])]
        # One cache file per set of settings: toggling an option back finds its results.
        configured = ",".join(sorted({c.settings.fingerprint() for c in {config.config_for(f) for f in self.files}}))
        self.cache = Cache(_cache_root(config, self.files), configured, use_cache, catalog.CODES)
        self.targets = [Path(t) for t in targets]
        self.target_set = {str(t) for t in targets}
        self.jobs = jobs or os.cpu_count() or 1
        self.base = base
        self.pool: Pool | None = None
        self.tasks: dict[str, FileTask] = {}
        self.stats: dict[str, os.stat_result | None] = {}
        self.sizes: dict[str, int] = {}
        self.fresh: dict[str, Entry] = {}  # cached summary still valid
        self.changed: list[str] = []  # to read and summarise
        self.phase1: dict[str, Summarised] = {}
        self.owner: dict[str, int] = {}  # path -> worker holding its tree
        self.entries: dict[str, Entry] = {}  # what the cache will hold
        self._check_items: dict[str, CheckItem] = {}
        self.reads: dict[str, Dependencies] = {}  # without a cache: what each new result read
        self.diagnostics: list[Diagnostic] = []
        self.errors: list[str] = []
        self.to_check: list[str] = []
        self.index: ProjectIndex | None = None
        self.cycles: Cycles | None = None
        self.progress = progress
        self.lazy = False  # the index summarises a module only when a check needs it
        self.loaded = 0  # files a lazy index read and summarised
        self._texts: dict[str, bytes | None] = {}  # path -> its bytes, for a lazy index's text search

    def _ticker(self, step: str, total: int) -> Tick:
        """Counts a step's files for ``progress``."""
        done = 0

        def tick(count: int) -> None:
            nonlocal done
            done += count
            if self.progress is not None:
                self.progress(step, done, total)

        return tick

    # -- plan: stat every file; a cached summary holds while the file and its name do --

    def plan(self) -> None:
        base = os.path.abspath(self.base or os.getcwd())
        for path in self.files:
            name, root, is_package = self.config.module_name(path)
            config = self.config.config_for(path)
            self.tasks[path] = FileTask(
                path, display_path(path, base), name, root, is_package,
                config.settings.max_file_size, config.python_floor(path), path in self.target_set,
            )
            try:
                self.stats[path] = os.stat(path)
            except OSError:
                self.stats[path] = None
            st = self.stats[path]
            self.sizes[path] = st.st_size if st else 0
            entry, task = self.cache.entries.get(path), self.tasks[path]
            if entry and st and entry.size == st.st_size and entry.module == task.module and entry.root == task.root:
                if entry.mtime_ns == st.st_mtime_ns:
                    self.fresh[path] = entry
                    continue
                if self._same_bytes(task, entry):  # touched, checked out again, a cache restored in CI
                    self.fresh[path] = dataclasses.replace(entry, mtime_ns=st.st_mtime_ns)
                    continue
            self.changed.append(path)

    @staticmethod
    def _same_bytes(task: FileTask, entry: Entry) -> bool:
        """Whether the file still holds the bytes ``entry`` was made from, though its mtime
        moved: reading and hashing it costs a hundredth of parsing it."""
        try:
            return content_hash(read_bounded(task.path, task.max_file_mb)) == entry.hash
        except UnreadableFile:
            return False

    def _workers(self, paths: list[str]) -> int:
        return 1 if sum(self.sizes[p] for p in paths) < PARALLEL_THRESHOLD_BYTES else self.jobs

    def few_targets(self) -> bool:
        """Whether the targets are few enough for a lazy index (see :data:`LAZY_SHARE`)."""
        return len(self.target_set) <= LAZY_SHARE * len(self.files) and self._workers(list(self.target_set)) == 1

    # -- summarise: phase 1 over the changed files ----------------------------------------

    def summarise(self) -> None:
        if self.lazy:
            self.changed = [p for p in self.changed if p in self.target_set]  # the rest when needed
        if not self.changed:
            return
        self.pool = Pool(min(self._workers(self.changed), len(self.changed)))
        answers = self.pool.stream(
            [(self.tasks[p], self.sizes[p]) for p in self.changed], Summarise, self._ticker("Reading", len(self.changed)),
            meanwhile=self._prepare_checks,
        )
        for worker, answer in enumerate(answers):
            for item in answer:
                self.phase1[item.path] = item
                self.owner[item.path] = worker
                if item.error:
                    self.errors.append(item.error)

    # -- triage: which cached results still hold --------------------------------------

    def _fingerprints(self) -> dict[str, str]:
        """Every summary's fingerprint as the index will hold it, by path."""
        found = {}
        for path in self.files:
            entry, item = self.fresh.get(path), self.phase1.get(path)
            if entry is not None and entry.fp:
                found[path] = entry.fp
            elif item is not None and item.summary is not None and item.fingerprint:
                found[path] = item.fingerprint
        return found

    def _constants(self, path: str) -> Iterable[str]:
        """The names of the constants ``path``'s summary holds."""
        item = self.phase1.get(path)
        if path in self.fresh or item is None:
            entry = self.fresh.get(path)
            return entry.constants if entry else ()
        return item.summary.constants if item.summary else ()

    def build_index(self) -> ProjectIndex:
        if self.index is None and self.lazy:
            modules = {path: (self.tasks[path].module, self.tasks[path].is_package) for path in self.files}
            self.index = LazyIndex(modules, self._load, self._mentions)
            self.index.ignored_by_git = self._git_ignored
            for path in self.files:
                if path in self.target_set:
                    self.index.ensure(path)  # the files checked are in it, as in the whole index
        if self.index is None:
            self.index = ProjectIndex()
            self.index.ignored_by_git = self._git_ignored
            for path, entry in self.fresh.items():
                summary = (self._known(path, entry) or entry.module_summary()) if path not in self.phase1 else None
                if summary is not None:
                    self.index.add(summary, entry.fp)
            for item in self.phase1.values():
                if item.summary is not None:
                    self.index.add(item.summary, item.fingerprint)
        return self.index

    def _known(self, path: str, entry: Entry) -> ModuleSummary | None:
        """The summary the known index holds for ``path``, if it is the one cached."""
        known = self.known
        if known is None or not entry.fp or known.fingerprints.get(path) != entry.fp:
            return None
        return known.by_path.get(path)

    def _load(self, path: str) -> tuple[ModuleSummary, str | None] | None:
        """A lazy index's module, as the whole index takes it (see :meth:`build_index`):
        from this run's phase 1, else the cache, else summarised now."""
        item, entry = self.phase1.get(path), self.fresh.get(path)
        if item is None and entry is not None:
            summary = entry.module_summary()
            return None if summary is None else (summary, entry.fp)
        if item is None:
            from pitfalls.project.analyzer import summarise_file  # the engine, loaded with the pool

            item = self.phase1[path] = summarise_file(self.tasks[path])[0]
            self.loaded += 1
            if item.error:
                self.errors.append(item.error)
        return None if item.summary is None else (item.summary, item.fingerprint)

    def _mentions(self, path: str, name: str) -> bool:
        """Whether the file may spell ``name`` (a lazy index's text search)."""
        if path not in self._texts:
            try:
                self._texts[path] = read_bounded(path, self.tasks[path].max_file_mb)
            except UnreadableFile:
                self._texts[path] = None
        data = self._texts[path]
        return data is not None and spells(data, name)

    def _cycle_fingerprints(self, fingerprints: dict[str, str]) -> dict[str, str]:
        """The project phase: import cycles from the cache when the index is as it was,
        else computed once from the index (built for it)."""
        key = index_key(fingerprints)
        if self.cache.cycles is not None and self.cache.cycles.key == key:
            self.cycles = self.cache.cycles
        else:
            self.cycles = Cycles(key, self.build_index().import_graph().fingerprints())
        return self.cycles.fingerprints

    def triage(self) -> None:
        holds = self._lazy_judge() if self.lazy and not self._whole_index_known() else self._judge()
        for path in self.files:
            entry, item, task = self.fresh.get(path), self.phase1.get(path), self.tasks[path]
            is_target = path in self.target_set
            if entry is not None:
                if is_target and holds(path, entry):
                    self.entries[path] = entry
                    self.diagnostics.extend(entry.results.load(task.display))  # type: ignore[union-attr]
                elif is_target:
                    self.to_check.append(path)
                elif self.lazy or (self.config.config_for(path).schemas is None and entry.results is not None):
                    # Its results are not judged now (a lazy index does not know all it
                    # may have read; its schemas were not loaded for this run: another
                    # service's), and are when it is checked.
                    self.entries[path] = entry
                else:
                    self.entries[path] = entry if holds(path, entry) else dataclasses.replace(entry, results=None)
            elif item is not None and item.failure is not None and is_target:
                self.diagnostics.append(item.failure)
                self._keep_summary(path)
            elif is_target:
                self.to_check.append(path)
            elif not self.lazy:
                self._keep_summary(path)
        if self.to_check and self.cycles is None and not self.lazy:
            self._cycle_fingerprints(self._fingerprints())  # fresh results record them too

    def _keep_summary(self, path: str) -> None:
        """The cache entry of a file read this run and not checked: its summary, or the
        PF000 that stopped it."""
        item, st, task = self.phase1.get(path), self.stats[path], self.tasks[path]
        if item is None or item.hash is None or st is None or not self.cache.enabled:
            return
        if item.failure is not None:
            results = (Dependencies(), [item.failure], self.config.fingerprint_for(path))
            self.entries[path] = Entry.make(st, item.hash, task.module, task.root, None, None, results)
        elif item.summary is not None:
            self.entries[path] = Entry.make(st, item.hash, task.module, task.root, item.summary, item.fingerprint, None)

    def _judge(self) -> Callable[[str, Entry], bool]:
        """Whether a cached result holds, judged from the summaries' fingerprints (the index
        is built only for the import cycles, and only when a result read them)."""
        fingerprints = self._fingerprints()
        names = {entry.module for entry in self.fresh.values() if entry.fp}
        names.update(item.summary.name for item in self.phase1.values() if item.summary is not None)
        definers: dict[str, str] = {}
        cycles: dict[str, str] | None = None
        modules = modules_key(fingerprints)

        def defining(constant: str) -> str:
            if constant not in definers:
                paths = []
                for path in fingerprints:
                    if constant in self._constants(path):
                        paths.append(path)
                definers[constant] = ",".join(sorted(paths))
            return definers[constant]

        def holds(path: str, entry: Entry) -> bool:
            nonlocal cycles
            if entry.results is None or entry.results.settings != self.config.fingerprint_for(path):
                return False
            read = entry.results.read
            if any(fingerprints.get(dep) != fp for dep, fp in read.summaries.items()) or not read.disk_holds(self._disk_answer):
                return False
            if not read.parts_hold(fingerprints.get, self._summary_now):
                return False
            if not read.missing.isdisjoint(names):
                return False
            if read.every is not None and read.every != modules:
                return False
            if any(defining(name) != paths for name, paths in read.constants.items()):
                return False
            if read.cycle is not None:
                if cycles is None:
                    cycles = self._cycle_fingerprints(fingerprints)
                if cycles.get(path, "") != read.cycle:
                    return False
            return True

        return holds

    def _summary_now(self, path: str) -> ModuleSummary | None:
        """``path``'s summary as the index will hold it (decoded from the cache if need be)."""
        item, entry = self.phase1.get(path), self.fresh.get(path)
        if item is not None:
            return item.summary
        return entry.module_summary() if entry is not None else None

    @functools.cached_property
    def _disk_answer(self) -> Callable[[str, str], str]:
        """What the disk says now (see ``disk_answer``), asked once per run."""
        return disk_now(self._git_ignored)

    @functools.cached_property
    def _git_ignored(self) -> Callable[..., bool]:
        return GitIgnore().ignored

    def _whole_index_known(self) -> bool:
        """Whether a lazy run knows what the whole index would be without decoding it:
        every file is fresh in the cache or was read this run (its fingerprint is known),
        and the cache holds the import cycles of that index. Pre-commit on files whose
        results are cached then judges them as a whole run does, from fingerprints."""
        if any(path not in self.fresh and path not in self.phase1 for path in self.files):
            return False
        return self.cache.cycles is not None and self.cache.cycles.key == index_key(self._fingerprints())

    def _lazy_judge(self) -> Callable[[str, Entry], bool]:
        """Whether a cached result holds, judged by asking the lazy index what it read."""
        index = self.build_index()

        def holds(path: str, entry: Entry) -> bool:
            if entry.results is None or entry.results.settings != self.config.fingerprint_for(path):
                return False
            read = entry.results.read
            return (
                read.disk_holds(self._disk_answer)
                and all(index.fingerprint_of(dep) == fp for dep, fp in read.summaries.items())
                and read.parts_hold(index.fingerprint_of, index.by_path.get)
                and not any(index.modules(name) for name in read.missing)
                and all(",".join(sorted(index.defining(name))) == paths for name, paths in read.constants.items())
                and (read.cycle is None or index.graph_for(path).fingerprint(path) == read.cycle)
                and (read.every is None or index.modules_key() == read.every)
            )

        return holds

    # -- check: phase 2 on the files whose results do not hold ---------------------------

    def check(self) -> None:
        if not self.to_check:
            return
        index = self.build_index()
        if not self.lazy:
            index.import_graph()  # once, here, before the index goes to the workers
        wanted = self._workers(self.to_check)
        if self.pool is not None and self.pool.size < wanted and self.pool.local is not None:
            # Phase 1 read few files, here; phase 2 checks many (their dependants): workers
            # check them, and parse again the few whose trees this process held.
            self.pool.close()
            self.pool = None
            self.owner.clear()
        if self.pool is None:
            self.pool = Pool(wanted)
        for i, bucket in enumerate(split([p for p in self.to_check if p not in self.owner], self.sizes, self.pool.size)):
            for path in bucket:
                self.owner[path] = i
        per_worker: list[list[CheckItem]] = [[] for _ in range(self.pool.size)]
        for path in self.to_check:
            per_worker[self.owner[path] % self.pool.size].append(self._check_item(path))
        shared = self.pool.shared(index)  # only the workers with files to check get it
        messages = [Check(items, shared) if items else None for items in per_worker]
        answers = self.pool.map(messages, self._ticker("Checking", len(self.to_check)))
        for answer in answers:
            for checked in answer or ():
                self._take(checked.path, checked.late, checked.outcome)

    def _check_item(self, path: str) -> CheckItem:
        """What ``path`` is checked with: its rules, settings and schemas."""
        item = self._check_items.get(path)
        if item is None:
            config = self.config
            item = (self.tasks[path], rules_for(config, path), config.settings_for(path), config.schemas_for(path))
            self._check_items[path] = item
        return item

    def _prepare_checks(self) -> None:
        """The check items of the targets being parsed (a changed file is checked), found
        while the workers parse (this process waits); the others' when they are checked."""
        for path in self.changed:
            if path in self.target_set:
                self._check_item(path)

    def _take(self, path: str, late: Summarised | None, outcome) -> None:
        self.diagnostics.extend(outcome.diagnostics)
        self.errors.extend(outcome.errors)
        item = self.phase1.get(path) or late
        st, task = self.stats[path], self.tasks[path]
        if item is not None:
            self.phase1[path] = item
            digest, summary, fp = item.hash, item.summary, item.fingerprint
            if summary is None and item.failure is None:  # parsed in phase 2, its summary cached
                summary = self.fresh.get(path)
        else:
            cached = self.fresh[path]
            digest, summary, fp = cached.hash, cached, cached.fp
        if st is None or digest is None or outcome.errors:
            return
        if self.cache.enabled:
            results = (outcome.read, outcome.diagnostics, self.config.fingerprint_for(path))
            self.entries[path] = Entry.make(st, digest, task.module, task.root, summary, fp, results)
        else:  # nothing is saved: only what the result read, for a caller that keeps the index
            self.reads[path] = outcome.read

    # -- save and report ------------------------------------------------------------------

    def save(self) -> None:
        if self.lazy:
            for path in self.phase1.keys() - self.entries.keys() - self.target_set:
                self._keep_summary(path)  # read for the lazy index
        self.cache.save(self.entries, set(self.files), self.cycles or self.cache.cycles)

    def result(self, keep_index: bool) -> CheckResult:
        targets = self.target_set
        hashes = {p: e.hash for p, e in self.entries.items() if p in targets}
        hashes.update({p: item.hash for p, item in self.phase1.items() if item.hash and p in targets})
        self.diagnostics.sort(key=Diagnostic.sort_key)
        displays = {p: self.tasks[p].display for p in self.files if p in targets}
        dependencies = {p: e.results.read for p, e in self.entries.items() if p in targets and e.results}
        dependencies.update(self.reads)
        return CheckResult(
            self.diagnostics, self.targets, self.errors, len(self.to_check), hashes, displays, len(self.changed) + self.loaded,
            self.build_index() if keep_index else None, dependencies,
        )
