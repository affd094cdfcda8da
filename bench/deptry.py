"""PF303's third-party half beside deptry's DEP001, on the ecosystem projects.

    python bench/deptry.py --shared ../shared --deptry /path/to/deptry

deptry is not a dependency of pitfalls: install it anywhere (``pip install deptry`` in a
venv of its own) and pass its executable. Both run on every folder of a project that
declares a project (a ``pyproject.toml``, ``setup.py`` or ``requirements.txt`` outside a
package), with nothing of the project installed, as a CI job would. Compared per imported
top-level module: where both report, where only one does, and, for the modules only deptry
reports, whether the declared dependencies provide them in pitfalls' reading (deptry
without the project's environment maps distributions to modules by name alone and does not
know what a declared distribution requires) or pitfalls does not look at that import
(tests, docs, under `if`/`try`, requirements that ``setup.py`` computes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ecosystem import unpack  # noqa: E402

from pitfalls.project.dependencies import declared_above, dependency_modules  # noqa: E402

_UNDECLARED = re.compile(r"^`([^`]+)` is imported, but no declared dependency provides it")
_DECLARING = ("pyproject.toml", "setup.py", "requirements.txt")


def project_folders(project: Path) -> list[Path]:
    """Folders declaring a project (workspace members too), none inside a package."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(project):
        dirs.sort()
        here = Path(folder)
        if any(name in files for name in _DECLARING) and "__init__.py" not in files:
            found.append(here)
    return found


def deptry(executable: str, folder: Path) -> dict[str, set[str]]:
    """DEP001 module -> the files deptry reports it in."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([executable, ".", "--json-output", out.name], cwd=folder, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=600)
        found: dict[str, set[str]] = {}
        for item in json.loads(Path(out.name).read_text() or "[]"):
            if item["error"]["code"] == "DEP001":
                found.setdefault(item["module"], set()).add(item["location"]["file"])
        return found


def pitfalls(folder: Path) -> dict[str, set[str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", ".", "--no-cache", "--exit-zero", "--select", "PF303",
         "--output-format", "json"], cwd=folder, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    found: dict[str, set[str]] = {}
    for item in json.loads(proc.stdout):
        match = _UNDECLARED.match(item["message"])
        if match:
            found.setdefault(match.group(1), set()).add(os.path.relpath(item["filename"], folder))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--deptry", required=True, help="the deptry executable")
    args = parser.parse_args()
    rows, totals = [], [0, 0, 0, 0, 0]
    with tempfile.TemporaryDirectory(prefix="pitfalls-deptry-") as tmp:
        for name, project in unpack(args.shared, Path(tmp), None).items():
            for folder in project_folders(project):
                label = os.path.relpath(folder, project.parent)
                ours, theirs = pitfalls(folder), deptry(args.deptry, folder)
                provided = dependency_modules(declared_above(folder, folder, {})) or frozenset()
                both = sorted(ours.keys() & theirs.keys())
                only_ours = sorted(ours.keys() - theirs.keys())
                mapped = sorted(m for m in theirs.keys() - ours.keys() if m.lower() in provided)
                rest = theirs.keys() - ours.keys() - set(mapped)
                local = sorted(m for m in rest if next(folder.rglob(m), None) or next(folder.rglob(f"{m}.py"), None))
                unchecked = sorted(rest - set(local))
                for i, n in enumerate((both, only_ours, mapped, local, unchecked)):
                    totals[i] += len(n)
                rows.append((label, both, only_ours, mapped, local, unchecked))
    for label, both, only_ours, mapped, local, unchecked in rows:
        print(f"{label}")
        print(f"  both report          {len(both):3}  {', '.join(both)}")
        print(f"  only pitfalls        {len(only_ours):3}  {', '.join(only_ours)}")
        print(f"  only deptry: declared dependencies provide it   {len(mapped):3}  {', '.join(mapped)}")
        print(f"  only deptry: a module of the project        {len(local):3}  {', '.join(local)}")
        print(f"  only deptry: not checked by pitfalls (tests/docs, if/try, setup.py)  {len(unchecked):3}  {', '.join(unchecked)}")
    print(f"\nmodules: both {totals[0]}, only pitfalls {totals[1]}, only deptry {sum(totals[2:])} "
          f"({totals[2]} provided by a declared dependency, {totals[3]} project modules, {totals[4]} not checked: "
          "tests/docs, under if/try, or requirements in setup.py code)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
