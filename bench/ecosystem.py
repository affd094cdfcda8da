"""The ecosystem check: pitfalls on real projects nobody here wrote, like Ruff's and pylint's primer.

    .venv/bin/python bench/ecosystem.py [--shared ../shared] [--only NAME,...] [--no-fix]
        [--update-baseline] [--unlabelled FILE]

It unpacks every project of `../shared/ecosystem/` (see its README and MANIFEST.tsv) into a
temporary folder, runs `pitfalls check` on each (no cache, JSON output, in a subprocess, as
a user would), and prints per project and per rule: findings, how many the labels call TP
and FP, and the precision over the labelled ones. Labels live in `bench/ecosystem/labels.jsonl`
(one JSON object a line: project, file, line, code, label "TP" or "FP", reason). Findings
are compared with `bench/ecosystem/baseline.json` (what the last accepted version found):
new and gone findings are listed, so a change's effect on real code shows at a glance;
`--update-baseline` writes the current findings there.

Unless `--no-fix`, it then runs `pitfalls check --fix --unsafe-fixes` on a copy of every
project and checks what the fixes did: every changed file still compiles
(`compile()`, as `python -m py_compile` does), no finding appears that was not there
before (counted per file and code), and no name becomes undefined (module-level names
read by a scope that no longer binds or imports them, from the standard library's
`symtable`). Exit 1 when the fix run broke something.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import shutil
import subprocess
import sys
import symtable
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent / "ecosystem"
LABELS = HERE / "labels.jsonl"
BASELINE = HERE / "baseline.json"
BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__", "__builtins__",
                                        "__package__", "__loader__", "__annotations__", "__dict__", "__module__",
                                        "__qualname__", "__class__"}


@dataclass(frozen=True)
class Finding:
    project: str
    file: str
    line: int
    code: str
    message: str

    @property
    def key(self) -> tuple[str, str, int, str]:
        return self.project, self.file, self.line, self.code


@dataclass
class Tally:
    findings: int = 0
    tp: int = 0
    fp: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def precision(self) -> str:
        labelled = self.tp + self.fp
        return f"{100 * self.tp / labelled:5.1f}%" if labelled else "    -"


def unpack(shared: Path, work: Path, only: set[str] | None) -> dict[str, Path]:
    projects = {}
    for archive in sorted((shared / "ecosystem").glob("*.tar.xz")):
        name = archive.name.removesuffix(".tar.xz")
        if only and name not in only:
            continue
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        projects[name] = work / name
    return projects


def check(folder: Path, *extra: str) -> tuple[list[dict], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", ".", "--no-cache", "--exit-zero", "--output-format", "json", *extra],
        cwd=folder, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        sys.exit(f"ecosystem: pitfalls failed on {folder.name} (exit {proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout), proc.stderr


def findings_of(project: str, items: list[dict]) -> list[Finding]:
    return [Finding(project, d["filename"], d["location"]["row"], d["code"], d["message"]) for d in items]


def load_labels() -> dict[tuple[str, str, int, str], dict]:
    if not LABELS.is_file():
        return {}
    labels = {}
    for number, line in enumerate(LABELS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        if item.get("label") not in ("TP", "FP"):
            sys.exit(f"{LABELS}:{number}: label must be TP or FP")
        labels[(item["project"], item["file"], int(item["line"]), item["code"])] = item
    return labels


def report(found: list[Finding], labels: dict) -> tuple[dict[str, Tally], int]:
    by_rule: dict[str, Tally] = {}
    by_project_rule: dict[tuple[str, str], Tally] = {}
    for f in found:
        for tally in (by_rule.setdefault(f.code, Tally()), by_project_rule.setdefault((f.project, f.code), Tally())):
            tally.findings += 1
            label = labels.get(f.key)
            if label is not None:
                if label["label"] == "TP":
                    tally.tp += 1
                else:
                    tally.fp += 1
                    tally.reasons[label.get("reason", "")] += 1
    print(f"\n{'project':<30} {'rule':<6} {'found':>6} {'TP':>5} {'FP':>5} {'precision':>9}")
    for (project, code), t in sorted(by_project_rule.items()):
        print(f"{project:<30} {code:<6} {t.findings:>6} {t.tp:>5} {t.fp:>5} {t.precision:>9}")
    print(f"\n{'rule':<6} {'found':>6} {'TP':>5} {'FP':>5} {'precision':>9}  most common FP reasons")
    total_fp = 0
    for code, t in sorted(by_rule.items()):
        total_fp += t.fp
        reasons = "; ".join(f"{r} ({n})" for r, n in t.reasons.most_common(2))
        print(f"{code:<6} {t.findings:>6} {t.tp:>5} {t.fp:>5} {t.precision:>9}  {reasons}")
    labelled = sum(t.tp + t.fp for t in by_rule.values())
    print(f"\n{len(found)} findings, {labelled} labelled, {total_fp} labelled FP "
          f"({100 * total_fp / len(found) if found else 0:.1f}% of all findings)")
    return by_rule, total_fp


def compare_baseline(found: list[Finding]) -> None:
    if not BASELINE.is_file():
        print("\nno baseline yet (--update-baseline writes one)")
        return
    old = {tuple(k) for k in json.loads(BASELINE.read_text(encoding="utf-8"))}
    now = {(f.project, f.file, f.line, f.code, f.message) for f in found}
    new, gone = sorted(now - old), sorted(old - now)
    print(f"\nagainst the baseline: {len(new)} new, {len(gone)} gone")
    for sign, items in (("+", new), ("-", gone)):
        for project, file, line, code, message in items[:40]:
            print(f"  {sign} {project}/{file}:{line} {code} {message[:110]}")
        if len(items) > 40:
            print(f"  {sign} ... and {len(items) - 40} more")


def undefined_names(source: str, filename: str) -> set[tuple[str, str]]:
    """(scope, name) for each name a scope reads as a global that the module never binds."""
    try:
        table = symtable.symtable(source, filename, "exec")
    except (SyntaxError, ValueError):
        return set()
    module_names = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    star = any(s.get_name() == "*" for s in table.get_symbols())
    missing: set[tuple[str, str]] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        stack.extend(scope.get_children())
        for symbol in scope.get_symbols():
            name = symbol.get_name()
            if not symbol.is_referenced() or name in BUILTINS or star:
                continue
            reads_global = symbol.is_global() or (scope is table and not symbol.is_assigned() and not symbol.is_imported())
            if reads_global and name not in module_names:
                missing.add((scope.get_name(), name))
    return missing


def fix_run(name: str, folder: Path, before: list[Finding]) -> list[str]:
    """Problems the fixes made in a copy of ``folder``: files that no longer compile, new
    findings, names that became undefined."""
    copy = folder.parent / f"{name}-fixed"
    shutil.copytree(folder, copy, symlinks=True)
    originals = {p.relative_to(copy): p.read_text(encoding="utf-8", errors="surrogateescape") for p in copy.rglob("*.py")}
    after_items, stderr = check(copy, "--fix", "--unsafe-fixes")
    problems = [f"{name}: {line}" for line in stderr.splitlines() if line.startswith("pitfalls: error")]
    changed = 0
    for rel, old in originals.items():
        new = (copy / rel).read_text(encoding="utf-8", errors="surrogateescape")
        if new == old:
            continue
        changed += 1
        try:
            compile(new, str(rel), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            problems.append(f"{name}/{rel}: no longer compiles: {exc}")
            continue
        for scope, missing in sorted(undefined_names(new, str(rel)) - undefined_names(old, str(rel))):
            problems.append(f"{name}/{rel}: `{missing}` became undefined in {scope}")
    counts_before = Counter((f.file, f.code) for f in before)
    counts_after = Counter((f.file, f.code) for f in findings_of(name, after_items))
    for (file, code), count in sorted(counts_after.items()):
        if count > counts_before.get((file, code), 0):
            problems.append(f"{name}/{file}: {code} appears after the fixes ({counts_before.get((file, code), 0)} -> {count})")
    print(f"  {name}: fixes changed {changed} files, {len(before) - len(after_items)} findings fewer")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--only", help="comma-separated project names")
    parser.add_argument("--no-fix", action="store_true", help="skip the fix run")
    parser.add_argument("--update-baseline", action="store_true", help="write the current findings as the baseline")
    parser.add_argument("--unlabelled", type=Path, help="write the findings without a label here (JSON lines)")
    args = parser.parse_args()
    if not (args.shared / "ecosystem").is_dir():
        sys.exit(f"ecosystem: no {args.shared / 'ecosystem'} (pass --shared)")
    only = set(args.only.split(",")) if args.only else None
    labels = load_labels()
    with tempfile.TemporaryDirectory(prefix="pitfalls-ecosystem-") as tmp:
        projects = unpack(args.shared, Path(tmp), only)
        found: list[Finding] = []
        per_project: dict[str, list[Finding]] = {}
        for name, folder in projects.items():
            items, _ = check(folder)
            per_project[name] = findings_of(name, items)
            found.extend(per_project[name])
        report(found, labels)
        compare_baseline(found)
        if args.update_baseline:
            HERE.mkdir(exist_ok=True)
            rows = sorted([f.project, f.file, f.line, f.code, f.message] for f in found)
            BASELINE.write_text(json.dumps(rows, indent=0) + "\n", encoding="utf-8")
        if args.unlabelled:
            with args.unlabelled.open("w", encoding="utf-8") as out:
                for f in found:
                    if f.key not in labels:
                        out.write(json.dumps({"project": f.project, "file": f.file, "line": f.line, "code": f.code,
                                              "message": f.message}) + "\n")
        problems: list[str] = []
        if not args.no_fix:
            print("\nfix run (--fix --unsafe-fixes on a copy of each project):")
            for name, folder in projects.items():
                problems.extend(fix_run(name, folder, per_project[name]))
            print(f"fix run: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
            for problem in problems:
                print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    raise SystemExit(main())
