"""Module summaries from CPython's ast against libcst's, on every file of the ecosystem projects.

    .venv/bin/python bench/summaries.py [--shared ../shared] [--only NAME ...]

Unpacks each project of `SHARED/ecosystem/` into a temporary folder and, for every `.py`
file, builds its summary both ways: libcst (`parse` + `summarize`, what a checked file
costs) and ast (`summarize_source`, what phase 1 does for a file it only summarises). It
prints how many files were compared, how many summaries are identical, how many the ast
builder left to libcst (None: Python refuses the file, or it is too deep), which files
differ (there should be none), and the CPU time of each side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pitfalls.core.source import ParseFailure, decode, parse
from pitfalls.core.summary import summarize
from pitfalls.core.summary_ast import summarize_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ecosystem import unpack  # noqa: E402  (bench/ecosystem.py, run as a script)

WHERE = {"name": "pkg.mod", "path": "pkg/mod.py", "root": "", "is_package": False}


def compare(folder: Path) -> tuple[int, int, int, int, list[str], float, float]:
    """(files, compared, identical, left to libcst, differing, libcst CPU s, ast CPU s)."""
    files = sorted(folder.rglob("*.py"))
    compared = identical = fallback = 0
    differing: list[str] = []
    cst_time = ast_time = 0.0
    for path in files:
        try:
            source = decode(str(path), path.read_bytes())
        except ParseFailure:
            continue
        start = time.process_time()
        got = summarize_source(source, display=str(path), **WHERE)
        middle = time.process_time()
        try:
            expected = summarize(parse(str(path), source), source=source, **WHERE)
        except ParseFailure:
            expected = None
        ast_time += middle - start
        cst_time += time.process_time() - middle
        if expected is None:
            continue
        compared += 1
        if got is None:
            fallback += 1
        elif got == expected:
            identical += 1
        else:
            differing.append(str(path.relative_to(folder)))
    return len(files), compared, identical, fallback, differing, cst_time, ast_time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    totals = [0, 0, 0, 0, 0.0, 0.0]
    with tempfile.TemporaryDirectory() as work:
        projects = unpack(args.shared, Path(work), set(args.only) if args.only else None)
        print(f"{'project':32} {'files':>6} {'compared':>8} {'identical':>9} {'to libcst':>9} {'libcst s':>8} {'ast s':>7} {'ratio':>6}")
        for name, folder in projects.items():
            files, compared, identical, fallback, differing, cst_time, ast_time = compare(folder)
            for i, value in enumerate((files, compared, identical, fallback, cst_time, ast_time)):
                totals[i] += value
            ratio = ast_time / cst_time if cst_time else 0.0
            print(f"{name:32} {files:6} {compared:8} {identical:9} {fallback:9} {cst_time:8.2f} {ast_time:7.2f} {ratio:6.2f}")
            for path in differing:
                print(f"  differs: {path}")
        files, compared, identical, fallback, cst_time, ast_time = totals
        ratio = ast_time / cst_time if cst_time else 0.0
        print(f"{'total':32} {files:6} {compared:8} {identical:9} {fallback:9} {cst_time:8.2f} {ast_time:7.2f} {ratio:6.2f}")
    return 0 if identical + fallback == compared else 1


if __name__ == "__main__":
    sys.exit(main())
