"""Benchmark `pitfalls check` against a bare libcst parse of the same files.

    .venv/bin/python bench/cli.py FOLDER [--changed FILE] [--repeat N] [--jobs N] [--baseline DIR] [--keep]
    .venv/bin/python bench/cli.py --ecosystem dispatch [--shared ../shared] [...]

FOLDER (or the ecosystem project NAME, unpacked from `SHARED/ecosystem/NAME.tar.xz`) is
copied to a temporary folder first, so the benchmark never writes a cache (or anything
else) into your tree. In that copy it measures:

- bare parse: CPU time of `libcst.parse_module` over every file, in this one process
  (files are read and decoded first; only parsing is timed, with `time.process_time`);
- cold: `pitfalls check COPY --no-cache --exit-zero --output-format json` as a
  subprocess: its CPU time (user + sys of the child and the worker processes it waits
  for, from `getrusage(RUSAGE_CHILDREN)` deltas) and its wall time;
- pre-commit on a fresh clone: CPU time of `pitfalls check --force-exclude FILE` (the
  hook's entry) for one changed file (`--changed`, relative to FOLDER; default: the file
  of median size), run from the copy's top with no `.pitfalls_cache/` anywhere (it still
  reads the whole project for the index, and writes a cache);
- warm: wall time of `pitfalls check COPY --exit-zero --output-format json` after one
  run has filled `.pitfalls_cache/`; and the same after every file's mtime moved, its
  bytes not (a checkout of another branch and back, a cache restored in CI: no target);
  the pre-commit run with that cache (its file unchanged: results the editor's server or
  an earlier run left), and with its file edited (a comment added: why the hook runs);
  and a warm run after a function was added to the module the most
  files import (what a change to a project's models or database module costs: no target);

and prints each against the bare parse of the whole project with the targets: cold CPU
<= 1.2x, cold wall (all cores) <= 1.2x, pre-commit CPU <= 0.15x, warm wall <= 0.05x.
`--repeat N` measures each in N rounds, each round right after a bare parse of its own,
and prints the median round by its ratio to the parse of the same round (a machine whose
speed drifts from one minute to the next would otherwise pair a parse timed in a fast
minute with checks timed in a slow one, or the reverse); the bare parse's row shows how
far its rounds drifted. `--baseline DIR` (a folder holding another
`pitfalls` package, e.g. the `server/` of `git worktree add CHECKOUT REV`, as in
`bench/import_graph.py`) measures that one too, on its own copy of the files, each run right
after the same run of this tree, and prints both side by side: on a machine whose speed
drifts, ratios from separate benchmark runs do not compare.
Use a folder big enough (some MB of source) that the CLI's start-up (a few tenths of a
second) does not dominate, on an otherwise idle machine (the load average is shown).

The files are the ones `pitfalls check` itself would pick (its own discovery). The
copy's settings are its own `pyproject.toml` if FOLDER has one at its top, else the
defaults (settings from a pyproject.toml above FOLDER are not applied).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Callable

import libcst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ecosystem import unpack  # noqa: E402

from pitfalls import __version__  # noqa: E402
from pitfalls.project.config import ConfigResolver, find_pyproject  # noqa: E402
from pitfalls.project.discovery import discover  # noqa: E402

TARGET_COLD_CPU = 1.2
TARGET_COLD_WALL = 1.2
TARGET_PRECOMMIT_CPU = 0.15
TARGET_WARM_WALL = 0.05
# Appended to the module the most files import: a new function, which only a file calling
# it could read (none does).
ADDED_FUNCTION = b"\n\ndef pitfalls_bench_added(value):\n    return value\n"


@dataclass
class Run:
    cpu: float
    wall: float
    findings: int


def copy_tree(folder: Path, dest_parent: Path) -> Path:
    """Copy FOLDER (without caches and bytecode) to ``dest_parent/tree``.

    If the copy has no pyproject.toml of its own, an empty ``[tool.pitfalls]`` one is
    written beside it (in ``dest_parent``), so no config file outside the temporary folder
    is found and the cache lands in the temporary folder too.
    """
    dest = dest_parent / "tree"
    shutil.copytree(
        folder,
        dest,
        symlinks=True,
        ignore=shutil.ignore_patterns(".pitfalls_cache", "__pycache__", "*.pyc", ".git"),
    )
    if not (dest / "pyproject.toml").is_file():
        (dest_parent / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    return dest


def read_sources(files: list[Path]) -> tuple[list[str], int, int]:
    """The decodable sources, their total lines and bytes."""
    sources: list[str] = []
    lines = size = 0
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        size += len(data)
        lines += data.count(b"\n")
        if b"\x00" in data:
            continue
        try:
            sources.append(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            continue
    return sources, lines, size


def bare_parse(sources: list[str]) -> tuple[float, int]:
    """CPU seconds to parse every source once in this process, and how many failed."""
    failed = 0
    start = time.process_time()
    for source in sources:
        try:
            libcst.parse_module(source)
        except (libcst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
            failed += 1
    return time.process_time() - start, failed


# pitfalls' own bytecode, as an installed tool has it (pip compiles it at install time),
# kept outside the source tree; filled by a first run before anything is measured.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass
class Variant:
    """A pitfalls to measure: this tree's, or a baseline's (first on PYTHONPATH), with its
    own copy of the files (each writes its own cache)."""

    name: str
    env: dict[str, str]
    tree: Path
    package: Path


def run_pitfalls(target: Path | str, *extra: str, jobs: int | None, cwd: Path, env: dict[str, str]) -> Run:
    """One `pitfalls check TARGET` subprocess; CPU includes the worker processes it joins."""
    cmd = [sys.executable, "-m", "pitfalls", "check", str(target), "--exit-zero", "--output-format", "json", *extra]
    if jobs is not None:
        cmd += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench: `{' '.join(cmd)}` exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        findings = len(json.loads(proc.stdout))
    except ValueError:
        findings = -1
    return Run(cpu, wall, findings)


def precommit(tree: Path, changed: str, jobs: int | None, env: dict[str, str]) -> Run:
    """The hook's `pitfalls check --force-exclude CHANGED` from the top of the copy, as
    pre-commit runs it on a fresh clone: no cache folder anywhere (it writes one, removed
    again here)."""
    for cache in tree.parent.rglob(".pitfalls_cache"):
        shutil.rmtree(cache)
    try:
        return run_pitfalls(changed, "--force-exclude", jobs=jobs, cwd=tree, env=env)
    finally:
        for cache in tree.parent.rglob(".pitfalls_cache"):
            shutil.rmtree(cache)


def touched(variant: Variant, jobs: int | None) -> Run:
    """A warm run after every file's mtime moved and its bytes did not."""
    now = time.time_ns()
    for path in variant.tree.rglob("*.py"):
        os.utime(path, ns=(now, now))
    return run_pitfalls(variant.tree, jobs=jobs, cwd=variant.tree.parent, env=variant.env)


def most_imported(files: list[Path], tree: Path) -> tuple[Path, int]:
    """The module the most other files import (by absolute name), and how many do."""
    config = ConfigResolver(root=tree)
    by_name = {config.module_name(str(f))[0]: f for f in files}
    importers: dict[Path, set[Path]] = {}
    for f in files:
        try:
            tree_of = ast.parse(f.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree_of):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            for name in names:
                target = by_name.get(name)
                if target is not None and target != f:
                    importers.setdefault(target, set()).add(f)
    if not importers:
        return median_file(files), 0
    target = max(importers, key=lambda t: (len(importers[t]), str(t)))
    return target, len(importers[target])


def after_edit(variant: Variant, module: str, added: bytes, jobs: int | None, *, hook: bool) -> Run:
    """A warm run after ``added`` was appended to ``module``: of the whole project, or
    (``hook``) of that file alone as pre-commit runs it; the module restored and the cache
    filled again after it (not measured)."""
    path = variant.tree / module

    def run() -> Run:
        if hook:
            return run_pitfalls(module, "--force-exclude", jobs=jobs, cwd=variant.tree, env=variant.env)
        return run_pitfalls(variant.tree, jobs=jobs, cwd=variant.tree.parent, env=variant.env)

    original = path.read_bytes()
    try:
        path.write_bytes(original + added)
        return run()
    finally:
        path.write_bytes(original)
        run()


def median_file(files: list[Path]) -> Path:
    """The file of median size: a typical change."""
    return sorted(files, key=lambda f: (f.stat().st_size, str(f)))[len(files) // 2]


def code_digest(package: Path) -> str:
    """A digest of pitfalls' own sources: they key its cache, so a change mid-run spoils it."""
    digest = hashlib.blake2b(digest_size=8)
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _median_low(items: list[tuple[float, float]]) -> tuple[float, float]:
    return items[(len(items) - 1) // 2]


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--ecosystem", metavar="NAME", help="the ecosystem project NAME instead of a FOLDER (e.g. dispatch)")
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared",
        help="the folder holding ecosystem/NAME.tar.xz (default: ../shared)",
    )
    parser.add_argument("--changed", metavar="FILE", help="the pre-commit run's changed file, relative to FOLDER")
    parser.add_argument("--repeat", type=int, default=1, help="N rounds of each measurement, the median printed (default 1)")
    parser.add_argument("--jobs", "-j", type=int, help="pass --jobs to pitfalls (default: all cores)")
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="a folder holding another pitfalls package, measured side by side")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print where it is")
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.ecosystem is None):
        parser.error("give a FOLDER or --ecosystem NAME")
    if args.folder is not None and not args.folder.is_dir():
        parser.error(f"{args.folder}: not a folder")
    if args.ecosystem is not None and not (args.shared / "ecosystem" / f"{args.ecosystem}.tar.xz").is_file():
        parser.error(f"no {args.shared / 'ecosystem' / args.ecosystem}.tar.xz (pass --shared)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.baseline is not None and not (args.baseline / "pitfalls" / "__init__.py").is_file():
        parser.error(f"{args.baseline}: holds no pitfalls package")

    import pitfalls

    load_before = os.getloadavg()[0]
    temp = Path(tempfile.mkdtemp(prefix="pitfalls-bench-"))
    try:
        if args.ecosystem is not None:
            folder = unpack(args.shared, temp / "unpacked", {args.ecosystem})[args.ecosystem]
        else:
            folder = args.folder.resolve()
        outer = find_pyproject(folder)
        (temp / "copy").mkdir()  # beside the unpacked project, not above it
        tree = copy_tree(folder, temp / "copy")
        files = discover([tree], ConfigResolver(root=tree))
        if not files:
            sys.exit(f"bench: no Python files under {folder}")
        changed = args.changed or median_file(files).relative_to(tree).as_posix()
        if not (tree / changed).is_file():
            sys.exit(f"bench: {changed}: no such file in {folder}")
        changed_lines = (tree / changed).read_bytes().count(b"\n")
        central, readers = most_imported(files, tree)
        central_name = central.relative_to(tree).as_posix()
        sources, lines, size = read_sources(files)

        ENVIRONMENT["PYTHONPYCACHEPREFIX"] = str(temp / "bytecode")
        variants = [Variant("this tree", ENVIRONMENT, tree, Path(pitfalls.__file__).resolve().parent)]
        if args.baseline is not None:
            (temp / "copy-baseline").mkdir()
            baseline = args.baseline.resolve()
            variants.append(Variant(
                "baseline", {**ENVIRONMENT, "PYTHONPATH": str(baseline)},
                copy_tree(folder, temp / "copy-baseline"), baseline / "pitfalls",
            ))
        digests = [code_digest(v.package) for v in variants]
        (temp / "warm-up").mkdir()
        (temp / "warm-up" / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
        (temp / "warm-up" / "a.py").write_text("import requests\nrequests.get('u')\n", encoding="utf-8")
        for i in range(20):  # one file of many: checked as pre-commit's runs are (a lazy index)
            (temp / "warm-up" / f"m{i}.py").write_text(f"from a import requests\n\nX{i} = requests\n", encoding="utf-8")
        # Python's bytecode written for every module each kind of run imports (the first
        # measured run would compile those the others do not).
        for v in variants:
            run_pitfalls(temp / "warm-up", "--no-cache", jobs=args.jobs, cwd=temp / "warm-up", env=v.env)
            for _ in range(2):  # a cache written, then read
                run_pitfalls(temp / "warm-up", jobs=args.jobs, cwd=temp / "warm-up", env=v.env)
                run_pitfalls("a.py", "--force-exclude", jobs=args.jobs, cwd=temp / "warm-up", env=v.env)
        failed = 0  # files libcst cannot parse (counted by each round's bare parse)
        parses: list[float] = []

        def each(measure: Callable[[Variant], Run]) -> list[list[tuple[Run, float]]]:
            """``--repeat`` rounds of ``measure`` per variant, taken in turns, each round
            after a bare parse of its own: every run with the parse of its round (this
            machine's speed drifts from one minute to the next)."""
            nonlocal failed
            runs: list[list[tuple[Run, float]]] = [[] for _ in variants]
            for _ in range(args.repeat):
                parse_cpu, failed = bare_parse(sources)
                parses.append(parse_cpu)
                for i, v in enumerate(variants):
                    runs[i].append((measure(v), parse_cpu))
            return runs

        colds = each(lambda v: run_pitfalls(v.tree, "--no-cache", jobs=args.jobs, cwd=v.tree.parent, env=v.env))
        hooks = each(lambda v: precommit(v.tree, changed, args.jobs, v.env))
        fills = [run_pitfalls(v.tree, jobs=args.jobs, cwd=v.tree.parent, env=v.env) for v in variants]  # fill the caches
        warms = each(lambda v: run_pitfalls(v.tree, jobs=args.jobs, cwd=v.tree.parent, env=v.env))
        toucheds = each(lambda v: touched(v, args.jobs))
        warm_hooks = each(lambda v: run_pitfalls(changed, "--force-exclude", jobs=args.jobs, cwd=v.tree, env=v.env))
        # The hook runs because its file changed: a comment added (its summary, and so
        # every other file's result, as they were).
        edited_hooks = each(lambda v: after_edit(v, changed, b"\n# edited\n", args.jobs, hook=True))
        centrals = each(lambda v: after_edit(v, central_name, ADDED_FUNCTION, args.jobs, hook=False))
    finally:
        if args.keep:
            print(f"temporary copy kept: {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)

    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"pitfalls {__version__} benchmark of {args.ecosystem or folder}")
    size_text = f"{size / 1e6:.1f} MB" if size >= 1e5 else f"{size / 1e3:.0f} kB"
    print(
        f"{len(files)} Python files, {lines:,} lines, {size_text}; "
        f"{cores} cores{f' ({usable} usable)' if usable != cores else ''}; "
        f"libcst {version('libcst')}, Python {sys.version.split()[0]}; "
        f"median of {args.repeat} round{'s' if args.repeat > 1 else ''}"
    )
    if failed or len(sources) != len(files):
        print(f"files libcst cannot parse: {failed}; not UTF-8 text: {len(files) - len(sources)} (PF000 for both)")
    load_after = os.getloadavg()[0]
    if max(load_before, load_after) >= 0.5 * cores:
        print(f"warning: the machine is busy (load average {load_before:.1f} before, {load_after:.1f} after): wall times are pessimistic")
    if [code_digest(v.package) for v in variants] != digests:
        print("warning: pitfalls' own code changed during the benchmark: the warm runs missed the cache")
    if outer is not None and outer.parent != folder:
        print(f"note: settings of {outer} not applied (the copy has its own config)")
    for v, cold, fill, warm, hook, touch in zip(variants, colds, fills, warms, hooks, toucheds):
        where = "" if len(variants) == 1 else f"{v.name} ({v.package.parent}): "
        found = {run.findings for run, _ in cold + warm + touch} | {fill.findings}
        agree = "" if len(found) == 1 else "  <- MISMATCH"
        print(f"{where}findings: {cold[-1][0].findings} cold, {warm[-1][0].findings} warm{agree}; pre-commit {hook[-1][0].findings}")
    print(f"pre-commit's changed file: {changed} ({changed_lines:,} lines)")
    print(f"the module the most files import: {central_name} ({readers} files)")
    print()
    rows = [
        ("pitfalls check --no-cache, cold (CPU)", colds, "cpu", TARGET_COLD_CPU),
        ("pitfalls check --no-cache, cold (wall)", colds, "wall", TARGET_COLD_WALL),
        ("pitfalls check FILE, pre-commit, no cache (CPU)", hooks, "cpu", TARGET_PRECOMMIT_CPU),
        ("pitfalls check, warm cache (wall)", warms, "wall", TARGET_WARM_WALL),
        ("pitfalls check, warm cache, every file touched (wall)", toucheds, "wall", None),
        ("pitfalls check FILE, pre-commit, warm cache (wall)", warm_hooks, "wall", None),
        ("pitfalls check FILE, pre-commit, FILE edited, warm cache (wall)", edited_hooks, "wall", None),
        ("pitfalls check, warm, a function added to that module (wall)", centrals, "wall", None),
        ("(pre-commit wall)", hooks, "wall", None),
        ("(warm cache CPU)", warms, "cpu", None),
    ]
    width = max(len(r[0]) for r in rows) + 2
    names = "".join(f"  {v.name:>18}" for v in variants)
    print(f"{'':<{width}}{names}  {'target':>8}  result")
    spread = f"{min(parses):.3f}s to {max(parses):.3f}s over the {len(parses)} rounds"
    print(f"{'bare libcst.parse_module, 1 process (CPU)':<{width}}  {spread}")
    for label, measured, metric, target in rows:
        # Each variant's median round, by its ratio to the bare parse of the same round (the
        # lowest would favour a round whose parse met a slow minute and its check a fast one).
        ratios = [_median_low(sorted((getattr(run, metric) / parse, getattr(run, metric)) for run, parse in runs)) for runs in measured]
        cells = "".join(f"  {seconds:>8.3f}s {ratio:>7.2f}x" for ratio, seconds in ratios)
        goal = f"<= {target:g}x" if target is not None else ""
        result = verdict(ratios[0][0], target) if target is not None else ""
        print(f"{label:<{width}}{cells}  {goal:>8}  {result}")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
