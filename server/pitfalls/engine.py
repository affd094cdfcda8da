"""Checking a whole project: discovery, the index, parallel workers and the cache.

Two phases over the same parsed trees. Phase 1 reads, parses and summarises every changed
file; the summaries make the project index. Phase 2 runs the rules, with the index, on every
file whose result is not already cached. Files are split across worker processes that keep
their parsed trees between the phases, so each file is parsed once.

The index covers the whole project (every file under the pyproject.toml that configures
it), even when only some files are checked, as pre-commit does: a rule in one file must
see the classes of the others. A cached result is reused only when the file is unchanged
and every module summary it consulted (and every module it looked up and did not find) is
as it was; a cached summary only when the file and its module name are unchanged.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import multiprocessing
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import libcst as cst

from pitfalls import __version__
from pitfalls.analysis import FileOutcome, ParseFailure, check_module, decode, parse, parse_error
from pitfalls.config import ProjectConfig
from pitfalls.diagnostics import Diagnostic
from pitfalls.discovery import DiscoveryError, discover
from pitfalls.fixes import replace_file
from pitfalls.index import IndexView, ModuleNamer, ModuleSummary, ProjectIndex, summarize
from pitfalls.rules import ALL_RULES, RULES_BY_CODE
from pitfalls.rules.base import Rule
from pitfalls.schemas import Schemas, load_schemas

# Below this much source, worker processes cost more than they save.
PARALLEL_THRESHOLD_BYTES = 400_000


class EngineError(Exception):
    """The check could not complete (not a finding): the CLI reports it in one line."""


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
    # path -> what its result read (summaries, failed lookups, constant searches)
    dependencies: dict[str, dict[str, str]] = field(default_factory=dict)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def display_path(path: Path, base: Path | None = None) -> str:
    """Relative to ``base`` (the working directory) when below it, else absolute."""
    base_text = os.path.abspath(base or Path.cwd())
    full = os.path.abspath(path)
    if full.startswith(base_text + os.sep):
        return os.path.relpath(full, base_text)
    return full


# ---------------------------------------------------------------------------------------
# Per-file work, done in a worker process (or in-process for small projects)


@dataclass
class _Phase1:
    path: str
    hash: str | None
    summary: ModuleSummary | None
    fingerprint: str | None
    failure: Diagnostic | None  # PF000: unreadable or unparsable
    error: str | None = None  # an internal failure to summarise (the file is still checked)


@dataclass(frozen=True)
class _FileTask:
    path: str
    display: str
    module: str
    root: str
    is_package: bool


class Analyzer:
    """Holds parsed trees between the phases. One per worker process."""

    def __init__(self) -> None:
        self.trees: dict[str, tuple[str, cst.Module, ModuleSummary]] = {}
        self.index = ProjectIndex()

    def summarize(self, tasks: list[_FileTask]) -> list[_Phase1]:
        return [self._summarize_one(task) for task in tasks]

    def _summarize_one(self, task: _FileTask) -> _Phase1:
        try:
            data = Path(task.path).read_bytes()
        except OSError as exc:
            failure = parse_error(task.display, f"cannot read file: {exc.strerror or exc}")
            return _Phase1(task.path, None, None, None, failure)
        digest = content_hash(data)
        try:
            source = decode(task.display, data)
            module = parse(task.display, source)
        except ParseFailure as exc:
            return _Phase1(task.path, digest, None, None, exc.diagnostic)
        where = {"name": task.module, "path": task.path, "root": task.root, "is_package": task.is_package}
        error = None
        try:
            summary = summarize(module, **where)
        except Exception as exc:  # a summariser bug must not lose the rest of the project
            error = f"cannot summarise {task.display}: {type(exc).__name__}: {exc}"
            summary = summarize(cst.Module(body=()), **where)
        self.trees[task.path] = (source, module, summary)
        return _Phase1(task.path, digest, summary, summary.fingerprint(), None, error)

    def _parse_again(self, task: _FileTask, summary: ModuleSummary) -> _Phase1:
        """Parse a file whose summary is cached and current: only its results are stale."""
        try:
            data = Path(task.path).read_bytes()
            source = decode(task.display, data)
            module = parse(task.display, source)
        except OSError as exc:
            return _Phase1(task.path, None, None, None, parse_error(task.display, f"cannot read file: {exc.strerror or exc}"))
        except ParseFailure as exc:
            return _Phase1(task.path, content_hash(data), None, None, exc.diagnostic)
        self.trees[task.path] = (source, module, summary)
        return _Phase1(task.path, content_hash(data), summary, self.index.fingerprints[task.path], None)

    def set_index(self, index: ProjectIndex) -> None:
        self.index = index

    def check(
        self, items: list[tuple[_FileTask, list[str]]], settings: Any, schemas: Schemas
    ) -> list[tuple[str, _Phase1 | None, FileOutcome]]:
        """Run the rules; files not parsed in phase 1 (cached summary, stale results) are
        parsed now, and their fresh phase-1 facts returned with the outcome."""
        out = []
        for task, codes in items:
            fresh = None
            if task.path not in self.trees:
                cached = self.index.by_path.get(task.path)
                fresh = self._parse_again(task, cached) if cached else self._summarize_one(task)
                if fresh.failure is not None:
                    out.append((task.path, fresh, FileOutcome([fresh.failure])))
                    continue
            source, module, summary = self.trees.pop(task.path)
            rules = [RULES_BY_CODE[c] for c in codes if c != "PF000"]
            outcome = check_module(
                path=task.display, source=source, module=module, summary=summary,
                index=IndexView(self.index, summary.root), rules=rules, settings=settings, schemas=schemas,
            )
            out.append((task.path, fresh, outcome))
        return out


def _worker_main(conn: Any) -> None:
    # A worker holds many parsed trees and makes no reference cycles worth collecting:
    # the cyclic collector would only rescan the trees, over and over (about a third of
    # the parse time).
    gc.disable()
    analyzer = Analyzer()
    while True:
        command, args = conn.recv()
        if command == "stop":
            conn.close()
            return
        conn.send(getattr(analyzer, command)(*args))


class _Pool:
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

    def map(self, command: str, batches: list[tuple[Any, ...]]) -> list[Any]:
        """Run ``command`` with one argument tuple per worker; results in worker order."""
        if self.local is not None:
            return [getattr(self.local, command)(*batches[0])]
        try:
            for conn, args in zip(self.conns, batches):
                conn.send((command, args))
            return [conn.recv() for conn in self.conns]
        except (EOFError, BrokenPipeError, ConnectionResetError) as exc:
            raise EngineError(f"a worker process died ({type(exc).__name__}); rerun with --jobs 1") from None

    def close(self) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop", ()))
            except (BrokenPipeError, OSError):
                pass
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()


def _split(paths: list[str], sizes: dict[str, int], parts: int) -> list[list[str]]:
    """Balance files over workers by size, biggest first."""
    buckets: list[list[str]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for path in sorted(paths, key=lambda p: -sizes.get(p, 0)):
        i = loads.index(min(loads))
        buckets[i].append(path)
        loads[i] += sizes.get(path, 0) + 1
    return buckets


# ---------------------------------------------------------------------------------------
# The cache


def _engine_fingerprint() -> str:
    """Changes whenever pitfalls' own code does (a rule added or edited), not only its version."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


class Cache:
    """``.pitfalls_cache/<version>/<settings+engine>.json`` beside the project's pyproject.toml.

    Entries are by absolute path: ``mtime_ns``, ``size``, ``hash``, ``module``/``root``,
    ``summary`` with its ``fp``, and ``results`` (``deps`` and ``diagnostics``) or None
    when the file was only summarised for the index.
    """

    def __init__(self, config: ProjectConfig, enabled: bool, schemas: Schemas) -> None:
        self.enabled = enabled
        self.folder = config.root / ".pitfalls_cache"
        rules = ",".join(f"{r.__module__}.{r.__qualname__}" for r in ALL_RULES)
        key = hashlib.blake2b(
            f"{config.settings.fingerprint()}{_engine_fingerprint()}{rules}{schemas.fingerprint()}".encode(),
            digest_size=8,
        )
        self.file = self.folder / __version__ / f"{key.hexdigest()}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        if enabled:
            try:
                data = json.loads(self.file.read_text(encoding="utf-8"))
                if data.get("version") == __version__ and isinstance(data.get("files"), dict):
                    self.entries = data["files"]
            except (OSError, ValueError):
                self.entries = {}

    def save(self, updates: dict[str, dict[str, Any]], checked: set[str]) -> None:
        """Store ``updates``; keep other files' entries unless this run saw them go."""
        if not self.enabled:
            return
        entries = {p: e for p, e in self.entries.items() if p not in checked and os.path.exists(p)}
        entries.update(updates)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by pitfalls\n*\n", encoding="utf-8")
            payload = json.dumps({"version": __version__, "files": entries}, separators=(",", ":"))
            replace_file(self.file, payload.encode("utf-8"))
        except OSError:
            pass  # a read-only checkout still gets its results, just not cached


# ---------------------------------------------------------------------------------------
# The project check


def enabled_rules(config: ProjectConfig, path: Path) -> list[str]:
    return sorted(config.enabled_codes([r.code for r in ALL_RULES], path))


def project_files(config: ProjectConfig, targets: list[Path]) -> list[Path]:
    """Every file of the project the targets belong to: the folder of the pyproject.toml
    that configures them, or else the source roots of the packages the targets are in."""
    if config.source is not None:
        folders = [config.root]
    else:
        namer = ModuleNamer(config.source_roots())
        roots = {namer(t)[1] for t in targets if t.parent.joinpath("__init__.py").is_file()}
        folders = [Path(r) for r in sorted(roots)]
    if not folders:
        return targets
    try:
        everything = discover(folders, config)
    except DiscoveryError:
        return targets
    return list(dict.fromkeys([*targets, *everything]))


def check_paths(
    paths: Iterable[Path],
    config: ProjectConfig,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
    schemas: Schemas | None = None,
) -> CheckResult:
    targets = discover(list(paths), config)
    return check_files(
        targets, config, project=project_files(config, targets), use_cache=use_cache, jobs=jobs, base=base, schemas=schemas
    )


def check_files(
    targets: list[Path],
    config: ProjectConfig,
    *,
    project: list[Path] | None = None,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
    keep_index: bool = False,
    schemas: Schemas | None = None,
) -> CheckResult:
    """Check ``targets``; summarise ``project`` (default: the targets) for the index
    (returned with the result when ``keep_index``, for a long-lived process to update).
    ``schemas`` defaults to the configured sources, resolved here without their warnings."""
    if schemas is None:
        schemas = load_schemas(config).schemas
    cache = Cache(config, use_cache, schemas)
    namer = ModuleNamer(config.source_roots())
    files = [str(f) for f in dict.fromkeys([*targets, *(project or [])])]
    target_set = {str(t) for t in targets}
    tasks: dict[str, _FileTask] = {}
    stats: dict[str, os.stat_result | None] = {}
    for path in files:
        name, root, is_package = namer(path)
        tasks[path] = _FileTask(path, display_path(Path(path), base), name, root, is_package)
        try:
            stats[path] = os.stat(path)
        except OSError:
            stats[path] = None

    # A cached summary holds while the file (mtime and size) and its module name are unchanged.
    fresh: dict[str, dict[str, Any]] = {}
    changed: list[str] = []
    for path in files:
        entry, st, task = cache.entries.get(path), stats[path], tasks[path]
        if (
            entry and st and entry["mtime_ns"] == st.st_mtime_ns and entry["size"] == st.st_size
            and entry.get("module") in (task.module, None) and entry.get("root") in (task.root, None)
        ):
            fresh[path] = entry
        else:
            changed.append(path)

    sizes = {p: (st.st_size if st else 0) for p, st in stats.items()}
    workers = jobs or os.cpu_count() or 1
    if sum(sizes[p] for p in changed) < PARALLEL_THRESHOLD_BYTES:
        workers = 1
    pool: _Pool | None = None
    phase1: dict[str, _Phase1] = {}
    owner: dict[str, int] = {}
    new_entries: dict[str, dict[str, Any]] = {}
    diagnostics: list[Diagnostic] = []
    errors: list[str] = []
    to_check: list[str] = []
    index: ProjectIndex | None = None
    try:
        if changed:
            pool = _Pool(min(workers, len(changed)))
            batches = _split(changed, sizes, pool.size)
            results = pool.map("summarize", [([tasks[p] for p in batch],) for batch in batches])
            for worker, batch_result in enumerate(results):
                for item in batch_result:
                    phase1[item.path] = item
                    owner[item.path] = worker
                    if item.error:
                        errors.append(item.error)

        # Same content after all (only the mtime moved): the cached results may still hold.
        for path, item in phase1.items():
            entry = cache.entries.get(path)
            if entry and item.failure is None and item.hash == entry.get("hash") and entry.get("fp") == item.fingerprint:
                fresh[path] = {**entry, "mtime_ns": stats[path].st_mtime_ns if stats[path] else 0}

        fingerprints: dict[str, str] = {}
        module_names: set[str] = set()
        for path in files:
            item = phase1.get(path)
            entry = fresh.get(path)
            if entry is not None and entry.get("fp"):
                fingerprints[path] = entry["fp"]
                module_names.add(entry["module"])
            elif item is not None and item.summary is not None:
                fingerprints[path] = item.fingerprint  # type: ignore[assignment]
                module_names.add(item.summary.name)

        definers: dict[str, str] = {}

        def defining(constant: str) -> str:
            """Like ProjectIndex.defining, from cached and fresh summaries alike."""
            if constant not in definers:
                paths = [p for p, e in fresh.items() if e.get("summary") and constant in e["summary"]["constants"]]
                paths += [
                    p for p, item in phase1.items()
                    if p not in fresh and item.summary is not None and constant in item.summary.constants
                ]
                definers[constant] = ",".join(sorted(paths))
            return definers[constant]

        def results_hold(entry: dict[str, Any]) -> bool:
            results = entry.get("results")
            if results is None:
                return False
            for dep, fp in results["deps"].items():
                if dep.startswith("?"):
                    if dep[1:] in module_names:
                        return False
                elif dep.startswith("*"):
                    if defining(dep[1:]) != fp:
                        return False
                elif fingerprints.get(dep) != fp:
                    return False
            return True

        for path in files:
            entry, item, st = fresh.get(path), phase1.get(path), stats[path]
            is_target = path in target_set
            if entry is not None:
                if is_target and results_hold(entry):
                    new_entries[path] = entry
                    diagnostics.extend(_load_diagnostics(entry, tasks[path].display))
                elif is_target:
                    to_check.append(path)
                else:
                    new_entries[path] = entry if results_hold(entry) else {**entry, "results": None}
            elif item is not None and item.failure is not None:
                if is_target:
                    diagnostics.append(item.failure)
                if item.hash is not None and st is not None:
                    new_entries[path] = _entry(st, item.hash, tasks[path], None, None, ({}, [item.failure]))
            elif is_target:
                to_check.append(path)
            elif item is not None and item.summary is not None and st is not None and item.hash:
                new_entries[path] = _entry(st, item.hash, tasks[path], item.summary, item.fingerprint, None)

        if to_check:
            index = _build_index(fresh, phase1)
            if pool is None:
                pool = _Pool(1 if sum(sizes[p] for p in to_check) < PARALLEL_THRESHOLD_BYTES else workers)
            for i, bucket in enumerate(_split([p for p in to_check if p not in owner], sizes, pool.size)):
                for path in bucket:
                    owner[path] = i
            per_worker: list[list[tuple[_FileTask, list[str]]]] = [[] for _ in range(pool.size)]
            for path in to_check:
                per_worker[owner[path] % pool.size].append((tasks[path], enabled_rules(config, Path(path))))
            pool.map("set_index", [(index,)] * pool.size)
            for batch_result in pool.map("check", [(batch, config.settings, schemas) for batch in per_worker]):
                for path, late, outcome in batch_result:
                    diagnostics.extend(outcome.diagnostics)
                    errors.extend(outcome.errors)
                    item = phase1.get(path) or late
                    st = stats[path]
                    if item is not None:
                        phase1[path] = item
                        digest, summary, fp = item.hash, item.summary, item.fingerprint
                    else:
                        cached = fresh[path]
                        digest, summary, fp = cached["hash"], cached["summary"], cached["fp"]
                    if st is not None and digest is not None and not outcome.errors:
                        results = (outcome.consulted, outcome.diagnostics)
                        new_entries[path] = _entry(st, digest, tasks[path], summary, fp, results)
        cache.save(new_entries, set(files))
        if keep_index and index is None:
            index = _build_index(fresh, phase1)
    finally:
        if pool is not None:
            pool.close()

    hashes = {p: e["hash"] for p, e in new_entries.items() if p in target_set}
    hashes.update({p: item.hash for p, item in phase1.items() if item.hash and p in target_set})
    diagnostics.sort(key=Diagnostic.sort_key)
    displays = {p: tasks[p].display for p in files if p in target_set}
    dependencies = {
        p: e["results"]["deps"] for p, e in new_entries.items() if p in target_set and e.get("results")
    }
    return CheckResult(
        diagnostics, [Path(t) for t in targets], errors, len(to_check), hashes, displays, len(changed),
        index if keep_index else None, dependencies,
    )


def _entry(
    st: os.stat_result,
    digest: str,
    task: _FileTask,
    summary: ModuleSummary | dict[str, Any] | None,
    fp: str | None,
    results: tuple[dict[str, str], list[Diagnostic]] | None,
) -> dict[str, Any]:
    return {
        "mtime_ns": st.st_mtime_ns,
        "size": st.st_size,
        "hash": digest,
        "module": task.module,
        "root": task.root,
        "summary": summary.to_json() if isinstance(summary, ModuleSummary) else summary,
        "fp": fp,
        "results": None
        if results is None
        else {
            "deps": results[0],
            "diagnostics": [dataclasses.replace(d, path="").to_json() for d in results[1]],
        },
    }


def _load_diagnostics(entry: dict[str, Any], display: str) -> list[Diagnostic]:
    return [dataclasses.replace(Diagnostic.from_json(d), path=display) for d in entry["results"]["diagnostics"]]


def _build_index(fresh: dict[str, dict[str, Any]], phase1: dict[str, _Phase1]) -> ProjectIndex:
    index = ProjectIndex()
    for path, entry in fresh.items():
        if entry.get("summary") and path not in phase1:
            index.add(ModuleSummary.from_json(entry["summary"]), entry["fp"])
    for item in phase1.values():
        if item.summary is not None:
            index.add(item.summary, item.fingerprint)
    return index


def check_source(
    source: str,
    *,
    path: str = "example.py",
    index: ProjectIndex | None = None,
    rules: list[type[Rule]] | None = None,
    settings: Any = None,
    schemas: Schemas | None = None,
    module_name: str | None = None,
    root: str = "",
) -> FileOutcome:
    """Check one in-memory buffer against an index (the language server's entry point)."""
    try:
        module = parse(path, source)
    except ParseFailure as exc:
        return FileOutcome([exc.diagnostic])
    name = module_name if module_name is not None else Path(path).stem
    is_package = Path(path).name == "__init__.py"
    summary = summarize(module, name=name, path=path, root=root, is_package=is_package)
    index = index or ProjectIndex()
    index.add(summary)
    selected = rules if rules is not None else list(ALL_RULES)
    return check_module(
        path=path, source=source, module=module, summary=summary,
        index=IndexView(index, root), rules=selected, settings=settings, schemas=schemas or Schemas(),
    )
