"""Benchmark PF301's cost on dense import graphs: does a warm run (and the cache) grow with
the number of modules each file can reach?

    .venv/bin/python bench/import_graph.py [--modules 1200] [--fanout 1,4,16] [--baseline DIR]

For each fan-out F it writes a project of N modules in which module i imports the F/2
modules on each side of it (wrapping around): every module reaches all the others, so the
whole project is one import cycle, while each import closes a short cycle (its message
stays short); then it runs `pitfalls check` cold (no cache), again warm (the cache just
written), and touches one module's text (a comment: same summary) for a third, near-warm
run. It prints the warm wall time and the cache size per fan-out. With `--baseline DIR`
(a folder holding another `pitfalls` package, e.g. a checkout's `server/`) the same runs
are made with that code too, side by side. Only the CLI is run (as a subprocess), so any
version of pitfalls can be measured.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_project(root: Path, modules: int, fanout: int) -> None:
    (root / "pyproject.toml").write_text("[tool.pitfalls]\nselect = ['PF301']\n", encoding="utf-8")
    package = root / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for i in range(modules):
        near = [(i + k) % modules for k in range(1, fanout // 2 + 1)] + [(i - k) % modules for k in range(1, fanout // 2 + 1)]
        imports = [f"from app import m{j}" for j in near]
        body = "\n".join(imports) + f"\n\n\ndef f{i}():\n    return {i}\n"
        (package / f"m{i}.py").write_text(body, encoding="utf-8")


def run(root: Path, pythonpath: str | None, *extra: str) -> float:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", ".", "--exit-zero", "--output-format", "json", *extra],
        cwd=root, env=env, stdin=subprocess.DEVNULL, capture_output=True,
    )
    if proc.returncode != 0:
        sys.exit(f"bench: pitfalls exited {proc.returncode}:\n{proc.stderr.decode(errors='replace')}")
    return time.perf_counter() - start


def cache_bytes(root: Path) -> int:
    folder = root / ".pitfalls_cache"
    return sum(p.stat().st_size for p in folder.rglob("*.json")) if folder.is_dir() else 0


def measure(work: Path, modules: int, fanout: int, pythonpath: str | None) -> tuple[float, float, float, int]:
    root = work / f"graph-{fanout}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    write_project(root, modules, fanout)
    cold = run(root, pythonpath)
    warm = run(root, pythonpath)
    touched = root / "app" / "m0.py"
    touched.write_text(touched.read_text(encoding="utf-8") + "# touched\n", encoding="utf-8")
    near = run(root, pythonpath)
    return cold, warm, near, cache_bytes(root)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=1200)
    parser.add_argument("--fanout", default="2,8,16", help="comma-separated imports per module (even)")
    parser.add_argument("--baseline", help="a folder holding another pitfalls package, measured side by side")
    args = parser.parse_args()
    fanouts = [int(f) for f in args.fanout.split(",")]
    versions = [("this", None)] + ([("baseline", os.path.abspath(args.baseline))] if args.baseline else [])
    print(f"{args.modules} modules, one import cycle through all of them; load {os.getloadavg()[0]:.2f}")
    print(f"{'version':<9} {'fan-out':>7} {'cold s':>8} {'warm s':>8} {'touched s':>9} {'cache MB':>9}")
    with tempfile.TemporaryDirectory(prefix="pitfalls-bench-graph-") as tmp:
        for fanout in fanouts:
            for name, pythonpath in versions:
                cold, warm, near, size = measure(Path(tmp), args.modules, fanout, pythonpath)
                print(f"{name:<9} {fanout:>7} {cold:>8.2f} {warm:>8.2f} {near:>9.2f} {size / 1e6:>9.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
