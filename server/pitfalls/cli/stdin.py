"""``pitfalls check --stdin-filename PATH``: the source comes from stdin (an editor's unsaved
buffer, a formatter pipeline) and is checked as the file at PATH would be: PATH's
configuration, module name and project, reported under PATH's name.

As in Ruff, ``--fix`` writes the fixed source to stdout (PATH is never touched) and the
findings left to stderr; ``--diff`` prints what ``--fix`` would change.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from pitfalls.cli import output
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.fixes import unified_diff
from pitfalls.core.source import ParseFailure, decode, source_encoding
from pitfalls.project.config import ConfigResolver
from pitfalls.project.files import display_path
from pitfalls.project.run import project_files
from pitfalls.project.workspace import Workspace


def check_stdin(args: argparse.Namespace, config: ConfigResolver) -> int:
    """Check stdin as ``args.stdin_filename``; the exit code (as for files)."""
    path = os.path.abspath(args.stdin_filename)
    display = display_path(Path(path))
    data = sys.stdin.buffer.read()
    text: str | None = None
    found: list[Diagnostic] = []
    if not (args.force_exclude and config.is_excluded(Path(path))):
        try:
            text = decode(display, data)
        except ParseFailure as exc:
            found = [exc.diagnostic]
    final = text
    if text is not None:
        workspace = Workspace(config, Path(path).parent, use_cache=not args.no_cache)
        workspace.summarise([f for f in project_files(config, [Path(path)]) if str(f) != path])
        for message in workspace.errors:
            print(f"pitfalls: internal error: {message}", file=sys.stderr)
        if args.fix or args.diff:
            workspace.check(path, text, edited=False)  # the index holds this text's summary, not the file's
            final = workspace.fix_all(path, text, unsafe=args.unsafe_fixes)
        found = [dataclasses.replace(d, path=display) for d in workspace.check(path, final, edited=False).diagnostics]
    if args.diff:
        sys.stdout.write(unified_diff(display, text, final) if text != final else "")
        return 1 if text != final else 0
    stream = sys.stdout
    if args.fix:
        fixed = data if text == final else final.encode(source_encoding(data))
        sys.stdout.buffer.write(fixed)
        sys.stdout.flush()
        stream = sys.stderr
    lines = output.SourceLines({display: final if final is not None else data.decode("utf-8", "replace")})
    report = output.Report(found, [display], args.unsafe_fixes, source_line=lines)
    output.write(report, args.output_format, stream, statistics=args.statistics, output_file=args.output_file)
    return 0 if args.exit_zero or not found else 1
