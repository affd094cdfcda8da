"""Checking a whole project: discovery, the index, parallel workers and the cache.

Two phases over the same parsed trees. Phase 1 reads, parses and summarises every changed
file; the summaries make the project index. Phase 2 runs the rules, with the index, on every
file whose result is not already cached. Files are split across worker processes that keep
their parsed trees between the phases, so each file is parsed once.

A cached result is reused only when the file is unchanged and every module summary it
consulted (and every module it looked up and did not find) is as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import libcst as cst

from pitfalls import __version__
from pitfalls.analysis import FileOutcome, ParseFailure, check_module, decode, parse, parse_error
from pitfalls.config import ProjectConfig
from pitfalls.diagnostics import Diagnostic
from pitfalls.discovery import discover
from pitfalls.index import IndexView, ModuleSummary, ProjectIndex, module_name_for, summarize
from pitfalls.rules import ALL_RULES, RULES_BY_CODE
from pitfalls.rules.base import Rule

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


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def display_path(path: Path, base: Path | None = None) -> str:
    base = base or Path.cwd()
    try:
        return os.path.relpath(path, base) if path.is_relative_to(base.resolve()) else str(path)
    except ValueError:
        return str(path)


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


@lru_cache(maxsize=4096)
def _module_name(path: str, roots: tuple[str, ...]) -> tuple[str, str, bool]:
    name, root, is_package = module_name_for(Path(path), [Path(r) for r in roots])
    return name, str(root), is_package


class Analyzer:
    """Holds parsed trees between the phases. One per worker process."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self.trees: dict[str, tuple[str, cst.Module, ModuleSummary]] = {}
        self.index = ProjectIndex()

    def summarize(self, items: list[tuple[str, str]]) -> list[_Phase1]:
        out = []
        for path, display in items:
            out.append(self._summarize_one(path, display))
        return out

    def _summarize_one(self, path: str, display: str) -> _Phase1:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            failure = parse_error(display, f"cannot read file: {exc.strerror or exc}")
            return _Phase1(path, None, None, None, failure)
        digest = content_hash(data)
        try:
            source = decode(display, data)
            module = parse(display, source)
        except ParseFailure as exc:
            return _Phase1(path, digest, None, None, exc.diagnostic)
        name, root, is_package = _module_name(path, self.roots)
        error = None
        try:
            summary = summarize(module, name=name, path=path, root=root, is_package=is_package)
        except Exception as exc:  # a summariser bug must not lose the rest of the project
            error = f"cannot summarise {display}: {type(exc).__name__}: {exc}"
            summary = summarize(cst.Module(body=()), name=name, path=path, root=root, is_package=is_package)
        self.trees[path] = (source, module, summary)
        return _Phase1(path, digest, summary, summary.fingerprint(), None, error)

    def set_index(self, index: ProjectIndex) -> None:
        self.index = index

    def check(self, items: list[tuple[str, str, list[str]]], settings: Any) -> list[tuple[str, FileOutcome]]:
        out = []
        for path, display, codes in items:
            if path not in self.trees:
                phase1 = self._summarize_one(path, display)
                if phase1.failure is not None:
                    out.append((path, FileOutcome([phase1.failure])))
                    continue
            source, module, summary = self.trees.pop(path)
            rules = [RULES_BY_CODE[c] for c in codes if c != "PF000"]
            view = IndexView(self.index, summary.root)
            outcome = check_module(
                path=display, source=source, module=module, summary=summary,
                index=view, rules=rules, settings=settings,
            )
            out.append((path, outcome))
        return out


def _worker_main(conn: Any, roots: tuple[str, ...]) -> None:
    analyzer = Analyzer(roots)
    while True:
        message = conn.recv()
        command, args = message
        if command == "stop":
            conn.close()
            return
        conn.send(getattr(analyzer, command)(*args))


class _Pool:
    """A fixed set of worker processes, each keeping the trees it parsed."""

    def __init__(self, size: int, roots: tuple[str, ...]) -> None:
        self.local = Analyzer(roots) if size <= 1 else None
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        if self.local is None:
            context = multiprocessing.get_context("fork")
            for _ in range(size):
                parent, child = context.Pipe()
                proc = context.Process(target=_worker_main, args=(child, roots), daemon=True)
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


class Cache:
    """``.pitfalls_cache/<version>/<settings>.json`` beside the project's pyproject.toml."""

    def __init__(self, config: ProjectConfig, enabled: bool) -> None:
        self.enabled = enabled
        folder = config.root / ".pitfalls_cache"
        self.folder = folder
        self.file = folder / __version__ / f"{config.settings.fingerprint()}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        if enabled:
            try:
                data = json.loads(self.file.read_text(encoding="utf-8"))
                if data.get("version") == __version__:
                    self.entries = data["files"]
            except (OSError, ValueError, KeyError, TypeError):
                self.entries = {}

    def save(self, entries: dict[str, dict[str, Any]]) -> None:
        if not self.enabled:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by pitfalls\n*\n", encoding="utf-8")
            payload = json.dumps({"version": __version__, "files": entries}, separators=(",", ":"))
            fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, self.file)
        except OSError:
            pass  # a read-only checkout still gets its results, just not cached


# ---------------------------------------------------------------------------------------
# The project check


def enabled_rules(config: ProjectConfig, path: Path) -> list[str]:
    codes = config.enabled_codes([r.code for r in ALL_RULES], path)
    return sorted(codes)


def check_paths(
    paths: Iterable[Path],
    config: ProjectConfig,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
) -> CheckResult:
    files = discover(list(paths), config)
    return check_files(files, config, use_cache=use_cache, jobs=jobs, base=base)


def check_files(
    files: list[Path],
    config: ProjectConfig,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    base: Path | None = None,
) -> CheckResult:
    cache = Cache(config, use_cache)
    displays = {str(f): display_path(f, base) for f in files}
    stats: dict[str, os.stat_result | None] = {}
    for f in files:
        try:
            stats[str(f)] = f.stat()
        except OSError:
            stats[str(f)] = None

    # Which files' summaries can come from the cache (same mtime and size: unchanged).
    fresh: dict[str, dict[str, Any]] = {}
    changed: list[str] = []
    for path in displays:
        entry = cache.entries.get(path)
        st = stats[path]
        if entry and st and entry["mtime_ns"] == st.st_mtime_ns and entry["size"] == st.st_size:
            fresh[path] = entry
        else:
            changed.append(path)

    sizes = {p: (st.st_size if st else 0) for p, st in stats.items()}
    total = sum(sizes[p] for p in changed)
    workers = 1 if total < PARALLEL_THRESHOLD_BYTES else max(1, min(jobs or os.cpu_count() or 1, len(changed)))
    if jobs == 1:
        workers = 1
    roots = tuple(str(r) for r in config.source_roots())

    pool: _Pool | None = None
    try:
        phase1: dict[str, _Phase1] = {}
        owner: dict[str, int] = {}
        if changed:
            pool = _Pool(workers, roots)
            batches = _split(changed, sizes, pool.size)
            results = pool.map("summarize", [([(p, displays[p]) for p in b],) for b in batches])
            for worker, batch_result in enumerate(results):
                for item in batch_result:
                    phase1[item.path] = item
                    owner[item.path] = worker

        # A changed mtime with unchanged content keeps the cached results.
        for path, item in list(phase1.items()):
            entry = cache.entries.get(path)
            if entry and item.hash == entry.get("hash") and item.failure is None and entry.get("fp") == item.fingerprint:
                fresh[path] = {**entry, "mtime_ns": stats[path].st_mtime_ns if stats[path] else 0}

        fingerprints: dict[str, str] = {}
        names: set[str] = set()
        for path, entry in fresh.items():
            if entry.get("fp"):
                fingerprints[path] = entry["fp"]
                names.add(entry["module"])
        for path, item in phase1.items():
            if item.summary is not None and path not in fresh:
                fingerprints[path] = item.fingerprint  # type: ignore[assignment]
                names.add(item.summary.name)

        def still_valid(entry: dict[str, Any]) -> bool:
            for dep, fp in entry["deps"].items():
                if dep.startswith("?"):
                    if dep[1:] in names:
                        return False
                elif fingerprints.get(dep) != fp:
                    return False
            return True

        diagnostics: list[Diagnostic] = []
        to_check: list[str] = []
        new_entries: dict[str, dict[str, Any]] = {}
        for path in displays:
            entry = fresh.get(path)
            if entry is not None and still_valid(entry):
                new_entries[path] = entry
                diagnostics.extend(_load_diagnostics(entry, displays[path]))
            elif path in phase1 and phase1[path].failure is not None:
                item = phase1[path]
                diagnostics.append(item.failure)  # type: ignore[arg-type]
                if item.hash is not None and stats[path] is not None:
                    new_entries[path] = _entry(stats[path], item.hash, None, None, {}, [item.failure])
            else:
                to_check.append(path)

        errors: list[str] = [item.error for item in phase1.values() if item.error]
        if to_check:
            index = _build_index(fresh, phase1, fingerprints)
            if pool is None:
                pool = _Pool(1 if sum(sizes[p] for p in to_check) < PARALLEL_THRESHOLD_BYTES else workers, roots)
            per_worker: list[list[tuple[str, str, list[str]]]] = [[] for _ in range(pool.size)]
            spill = _split([p for p in to_check if p not in owner], sizes, pool.size)
            for i, bucket in enumerate(spill):
                for p in bucket:
                    owner[p] = i
            for path in to_check:
                per_worker[owner[path] % pool.size].append(
                    (path, displays[path], enabled_rules(config, Path(path)))
                )
            pool.map("set_index", [(index,)] * pool.size)
            results = pool.map("check", [(batch, config.settings) for batch in per_worker])
            for batch_result in results:
                for path, outcome in batch_result:
                    diagnostics.extend(outcome.diagnostics)
                    errors.extend(outcome.errors)
                    item = phase1.get(path)
                    st = stats[path]
                    entry = fresh.get(path)
                    digest = item.hash if item else (entry or {}).get("hash")
                    summary = item.summary if item and item.summary else None
                    fp = item.fingerprint if item else (entry or {}).get("fp")
                    summary_json = summary.to_json() if summary else (entry or {}).get("summary")
                    if st is not None and digest is not None and not outcome.errors:
                        new_entries[path] = _entry(st, digest, summary_json, fp, outcome.consulted, outcome.diagnostics)
        cache.save(new_entries)
    finally:
        if pool is not None:
            pool.close()

    hashes = {p: e["hash"] for p, e in new_entries.items()}
    hashes.update({p: item.hash for p, item in phase1.items() if item.hash})
    diagnostics.sort(key=Diagnostic.sort_key)
    return CheckResult(diagnostics, files, errors, len(to_check), hashes, displays)


def _entry(
    st: os.stat_result,
    digest: str,
    summary: dict[str, Any] | None,
    fp: str | None,
    deps: dict[str, str],
    diagnostics: list[Diagnostic],
) -> dict[str, Any]:
    return {
        "mtime_ns": st.st_mtime_ns,
        "size": st.st_size,
        "hash": digest,
        "module": summary["name"] if summary else None,
        "summary": summary,
        "fp": fp,
        "deps": deps,
        "diagnostics": [dataclasses.replace(d, path="").to_json() for d in diagnostics],
    }


def _load_diagnostics(entry: dict[str, Any], display: str) -> list[Diagnostic]:
    return [dataclasses.replace(Diagnostic.from_json(d), path=display) for d in entry["diagnostics"]]


def _build_index(
    fresh: dict[str, dict[str, Any]], phase1: dict[str, _Phase1], fingerprints: dict[str, str]
) -> ProjectIndex:
    index = ProjectIndex()
    for path, entry in fresh.items():
        if entry.get("summary") and path not in phase1:
            index.add(ModuleSummary.from_json(entry["summary"]), fingerprints[path])
    for path, item in phase1.items():
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
        index=IndexView(index, root), rules=selected, settings=settings,
    )
