"""Regenerate the generated parts of README.md: the rules table and the demo output.

    .venv/bin/python scripts/update_readme.py          # rewrite them in place
    .venv/bin/python scripts/update_readme.py --check  # exit 1 when they are out of date

Each part sits between `<!-- NAME:start ... -->` and `<!-- NAME:end -->` markers;
everything else in README.md is left alone. The demo output is the real output of
`pitfalls check examples/demo` (its first findings, then the summary).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from pitfalls.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEMO_LINES = 8


def rules_table() -> str:
    rows = ["| Code | Name | Summary | Fix |", "|------|------|---------|-----|"]
    for rule in ALL_RULES:
        fix = rule.fix_applicability.value if rule.fix_applicability is not None else ""
        summary = rule.summary.replace("|", "\\|")
        rows.append(f"| [{rule.code}](rules/{rule.code}.md) | `{rule.name}` | {summary} | {fix} |")
    return "\n".join(rows)


def demo_output() -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", "examples/demo", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pitfalls check examples/demo exited {proc.returncode}:\n{proc.stderr}")
    lines = proc.stdout.splitlines()
    findings = [line for line in lines if line.startswith("examples/")]
    summary = lines[len(findings):]
    shown = findings[:DEMO_LINES] + (["..."] if len(findings) > DEMO_LINES else [])
    return "```text\n$ make demo\n" + "\n".join(shown + summary) + "\n```"


PARTS = {"rules-table": rules_table, "demo-output": demo_output}


def render(text: str, names: list[str] | None = None) -> str:
    for name, make in PARTS.items():
        if names is not None and name not in names:
            continue
        pattern = re.compile(rf"(<!-- {name}:start[^>]*-->\n)(.*?)(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{README}: markers <!-- {name}:start --> ... <!-- {name}:end --> not found")
        content = make()
        text = pattern.sub(lambda m: f"{m.group(1)}{content}\n{m.group(3)}", text, count=1)
    return text


def stale_parts() -> list[str]:
    """The generated parts of README.md that differ from what they would be now."""
    current = README.read_text(encoding="utf-8")
    return [name for name in PARTS if render(current, [name]) != current]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the generated parts of README.md.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when out of date")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = render(current)
    if args.check:
        if current != wanted:
            print("README.md is out of date; run: .venv/bin/python scripts/update_readme.py", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
