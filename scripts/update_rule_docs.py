"""Write (or check) ``rules/PFnnn.md`` from the rules' own docstrings.

    .venv/bin/python scripts/update_rule_docs.py [--check] [FOLDER]

The docstring is the single source: the CLI's ``pitfalls rule`` and the language server's
hover show the same text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pitfalls.rules import ALL_RULES

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "rules"


def expected_docs() -> dict[str, str]:
    return {f"{rule.code}.md": rule.doc() for rule in ALL_RULES}


def stale_docs(folder: Path) -> list[str]:
    """Names of docs that are missing, different, or left over from a removed rule."""
    wanted = expected_docs()
    stale = [
        name for name, text in wanted.items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]
    stale += [p.name for p in folder.glob("PF*.md") if p.name not in wanted]
    return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/update_rule_docs.py")
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--check", action="store_true", help="only report stale docs")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_docs(args.folder)
        for name in stale:
            print(f"stale: {args.folder / name}", file=sys.stderr)
        return 1 if stale else 0
    args.folder.mkdir(parents=True, exist_ok=True)
    for name, text in expected_docs().items():
        (args.folder / name).write_text(text, encoding="utf-8")
    for path in args.folder.glob("PF*.md"):
        if path.name not in expected_docs():
            path.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
