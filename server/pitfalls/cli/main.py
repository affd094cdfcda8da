"""``pitfalls`` on the command line: a thin layer over the engine.

Exit codes: 0 no findings, 1 findings (or files a fix could not be written to), 2 usage or
configuration errors, always as one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from pitfalls import __version__
from pitfalls.cli import output
from pitfalls.cli.errors import UsageError
from pitfalls.cli.show import show_files, show_settings
from pitfalls.cli.terminal import ProgressLine, printable
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.fixes import Fixed, fix_until_stable, unified_diff
from pitfalls.core.settings import ConfigError, parse_settings
from pitfalls.core.source import ParseFailure, decode, source_encoding
from pitfalls.project.cache import KnownFacts, KnownTables
from pitfalls.project.config import ConfigResolver, load_config, unknown_selector
from pitfalls.project.discovery import DiscoveryError, discover
from pitfalls.project.files import FixError, content_hash, replace_file, write_atomically
from pitfalls.project.run import CheckResult, EngineError, check_files, project_files
from pitfalls import rules as catalog
from pitfalls.sources.errors import SchemaSourceError
from pitfalls.sources.load import load_each
from pitfalls.sources.trust import approve, normalise


def _comma_list(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pitfalls", description="Find FastAPI/SQLAlchemy/pydantic/Directus pitfalls before they run.")
    parser.add_argument("--version", action="version", version=f"pitfalls {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="check files or folders")
    check.add_argument("paths", nargs="*", type=Path, default=[], help="files or folders (default: .)")
    check.add_argument("--select", type=_comma_list, help="comma-separated codes or prefixes to enable")
    check.add_argument("--ignore", type=_comma_list, help="comma-separated codes or prefixes to disable")
    check.add_argument("--extend-select", type=_comma_list, help="codes to add to the selection")
    check.add_argument("--exclude", type=_comma_list, help="comma-separated globs to leave out (replaces `exclude`)")
    check.add_argument("--extend-exclude", type=_comma_list, help="globs to leave out besides `exclude`")
    check.add_argument("--output-format", choices=sorted(output.FORMATS), default="text")
    check.add_argument("--output-file", "-o", type=Path, metavar="FILE", help="write the report to FILE, not stdout")
    check.add_argument("--statistics", action="store_true", help="count the findings per code instead of listing them")
    check.add_argument(
        "--stdin-filename", type=Path, metavar="PATH", help="check stdin as the file PATH (--fix: fixed source to stdout)"
    )
    check.add_argument("--show-settings", action="store_true", help="print the settings a file is checked with and exit")
    check.add_argument("--show-files", action="store_true", help="print the files a check would read and exit")
    check.add_argument("--fix", action="store_true", help="apply safe fixes")
    check.add_argument("--unsafe-fixes", action="store_true", help="also apply (or show) unsafe fixes")
    check.add_argument("--diff", action="store_true", help="show fixes as a unified diff; write nothing")
    check.add_argument("--add-noqa", action="store_true", help="add a `# noqa: PFnnn` to every finding's line")
    check.add_argument("--config", type=Path, help="a pyproject.toml (or pitfalls.toml) to use")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write .pitfalls_cache")
    check.add_argument(
        "--force-exclude", action="store_true", help="apply `exclude` to files named on the command line too"
    )
    check.add_argument("--jobs", "-j", type=int, help="worker processes (default: all cores)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    _schema_options(check)

    doctor = sub.add_parser(
        "doctor",
        help="check the Directus connection, credentials, permissions and schema, the database, and the framework (imports, tables, Redis)",
    )
    doctor.add_argument("paths", nargs="*", type=Path, default=[], help="the project's files or folders (default: .)")
    doctor.add_argument("--config", type=Path, help="a pyproject.toml (or pitfalls.toml) to use")
    _schema_options(doctor)
    doctor.add_argument(
        "--redis-url", metavar="URL",
        help="the Redis the framework's events go to (default: $REDIS_URL, then [tool.pitfalls.redis] url)",
    )

    snapshot = sub.add_parser(
        "snapshot", help="save a live Directus schema, with the token's permissions, as a snapshot file"
    )
    snapshot.add_argument("output", type=Path, help="the JSON file to write")
    snapshot.add_argument("--config", type=Path, help="a pyproject.toml (or pitfalls.toml) to use")
    snapshot.add_argument("--directus-url", metavar="URL", help="the Directus (default: directus.url of the config)")

    rule = sub.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code")
    sub.add_parser("rules", help="list every rule")
    approve = sub.add_parser(
        "approve", help="let a Directus or database URL that a repository names receive your credentials"
    )
    approve.add_argument("url")
    server = sub.add_parser("server", help="start the language server (LSP over stdio)")
    # LSP clients (vscode-languageclient's TransportKind.stdio among them) ask for stdio explicitly.
    server.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the only transport; the default)")
    server.add_argument(
        "--log-level", choices=("error", "warning", "info", "debug", "trace"), default="warning",
        help="what the server logs to stderr (debug: pitfalls' own details; trace: every library's too)",
    )
    return parser


def _schema_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("schema sources (PF5xx, PF6xx; credentials only from the environment)")
    group.add_argument("--directus-snapshot", type=Path, metavar="PATH", help="a Directus schema snapshot (JSON or YAML)")
    group.add_argument(
        "--directus-url", metavar="URL",
        help="a live Directus; DIRECTUS_TOKEN, or DIRECTUS_EMAIL and DIRECTUS_PASSWORD, authenticate",
    )
    group.add_argument("--database-url", metavar="URL", help="a SQLAlchemy database URL (default: $PITFALLS_DATABASE_URL)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "rules":
            for r in catalog.ALL_RULES:
                fixable = " (fix)" if r.fix_applicability else ""
                print(f"{r.code}  {r.name:<34} {r.summary}{fixable}")
            return 0
        if args.command == "server":
            from pitfalls.lsp.server import serve

            return serve(args.log_level)
        if args.command == "rule":
            found = catalog.RULES_BY_CODE.get(args.code.upper())
            if found is None:
                raise UsageError(f"unknown rule code '{args.code}' (see `pitfalls rules`)")
            print(found.doc(), end="")
            return 0
        if args.command == "doctor":
            from pitfalls.cli.doctor import run_doctor

            return run_doctor(_config(args), args.paths or [Path(".")], database=args.database_url, redis=args.redis_url)
        if args.command == "snapshot":
            return _snapshot(args)
        if args.command == "approve":
            try:
                where = approve(args.url)
            except ValueError as exc:
                raise UsageError(f"{args.url}: not a URL ({exc})") from None
            print(f"Approved {printable(normalise(args.url))} (in {where})", file=sys.stderr)
            return 0
        return _check(args)
    except (ConfigError, DiscoveryError, UsageError, EngineError) as exc:
        print(f"pitfalls: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1


def _config(args: argparse.Namespace, facts: KnownFacts | None = None) -> ConfigResolver:
    """Each file's configuration (its nearest, or the ``--config`` file for all) with the
    command line's selection and exclusion on top (Ruff's precedence: ``--select`` replaces
    the configured selection, including its ``ignore``); what dependency files say is
    remembered in ``facts``."""
    overrides: dict[str, object] = dict(_schema_overrides(args))
    if args.command == "check":
        for option in ("select", "ignore", "extend_select", "exclude", "extend_exclude"):
            if getattr(args, option) is not None:
                overrides[option.replace("_", "-")] = getattr(args, option)
        unknown = unknown_selector(overrides)
        if unknown is not None:
            raise UsageError(f"unknown rule code or prefix in --{unknown[0]}: {unknown[1]}")
    # Tables validated before are remembered, as results are (not with --no-cache).
    parse = parse_settings if getattr(args, "no_cache", False) else KnownTables().parse
    if args.config is not None:
        return ConfigResolver(fixed=load_config(args.config, Path.cwd(), overrides, parse, facts))
    return ConfigResolver(overrides, parse=parse, facts=facts)


def _snapshot(args: argparse.Namespace) -> int:
    """Write the live schema as the token sees it: for CI and editors without server access
    (a non-admin token cannot call `/schema/snapshot`, but can often read the fields)."""
    from pitfalls.sources.directus import Credentials, DirectusClient  # this command's alone: see sources.load

    config = _config(args).folder_config(Path.cwd())
    url = config.settings.directus.url
    if not url:
        raise UsageError("no Directus URL: pass --directus-url or set directus.url under [tool.pitfalls]")
    try:
        with DirectusClient(url, Credentials.from_env(), timeout=config.settings.directus.timeout) as client:
            snapshot = client.snapshot()
    except SchemaSourceError as exc:
        print(f"pitfalls: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    payload = json.dumps({"data": snapshot.model_dump(mode="json", by_alias=True, exclude_none=True)}, indent=2)
    try:
        replace_file(args.output, (payload + "\n").encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    print(f"Wrote {len(snapshot.collections)} collections, {len(snapshot.fields)} fields to {args.output}", file=sys.stderr)
    return 0


def _schema_overrides(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """The command line's schema sources, as ``[tool.pitfalls]`` tables (paths made absolute:
    they are relative to where pitfalls runs, not to the project)."""
    directus: dict[str, str] = {}
    if getattr(args, "directus_snapshot", None) is not None:
        directus["snapshot"] = os.path.abspath(args.directus_snapshot)
    if args.directus_url:
        directus["url"] = args.directus_url
    return {"directus": directus} if directus else {}


def _check(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    if args.diff and args.fix:
        raise UsageError("--diff shows fixes without writing them; use it without --fix")
    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa silences the findings as they are; use it without --fix or --diff")
    if args.statistics and (args.diff or args.output_format not in output.STATISTICS):
        raise UsageError("--statistics counts findings as text or json; use it without --diff")
    if args.stdin_filename is not None and (args.paths not in ([], [Path("-")]) or args.add_noqa):
        raise UsageError("--stdin-filename checks stdin: give it no paths, nor --add-noqa")
    progress = ProgressLine(sys.stderr)  # its second counts from here: finding the files is part of the wait
    # What dependency files say is remembered, as results are (not with --no-cache).
    facts = None if args.no_cache else KnownFacts()
    config = _config(args, facts)
    if args.stdin_filename is not None:
        files = [args.stdin_filename]
    else:
        files = discover(args.paths or [Path(".")], config, force_exclude=args.force_exclude)
    if args.show_files:
        sys.stdout.write(show_files(files))
        return 0
    if args.show_settings:
        if not files:
            raise UsageError("no Python file to show the settings of")
        sys.stdout.write(show_settings(config, min(files)))
        return 0
    loaded = load_each(dict.fromkeys(config.config_for(f) for f in files), database=args.database_url)
    loaded.attach()
    for warning in loaded.warnings:
        print(f"pitfalls: warning: {printable(warning)}", file=sys.stderr)
    if args.stdin_filename is not None:
        from pitfalls.cli.stdin import check_stdin  # an editor's buffer: the workspace's way

        return check_stdin(args, config)
    project = project_files(config, files, [p for p in args.paths or [Path(".")] if p.is_dir()])

    def run() -> CheckResult:
        try:
            return check_files(
                files, config, project=project, use_cache=not args.no_cache, jobs=args.jobs, progress=progress,
            )
        finally:
            progress.close()

    result = run()
    if facts is not None:
        facts.save()
    if args.add_noqa:
        from pitfalls.cli.add_noqa import add_noqa  # its own text work (the noqa tokenizer)

        return add_noqa(result)
    unsafe = args.unsafe_fixes
    failures: list[str] = []
    if args.diff:
        return _show_diff(result, run, unsafe)
    if args.fix:
        result, failures = _fix(result, run, unsafe)
    for message in result.errors:
        print(f"pitfalls: internal error: {printable(message)}", file=sys.stderr)
    for message in failures:
        print(f"pitfalls: error: {printable(message)}", file=sys.stderr)
    report = output.Report(result.diagnostics, list(result.displays.values()), unsafe)
    output.write(report, args.output_format, sys.stdout, statistics=args.statistics, output_file=args.output_file)
    if args.exit_zero:
        return 0
    return 1 if result.diagnostics or failures else 0


def _by_file(result: CheckResult) -> dict[str, list[Diagnostic]]:
    paths_by_display = {display: path for path, display in result.displays.items()}
    grouped: dict[str, list[Diagnostic]] = {}
    for d in result.diagnostics:
        if d.fix is not None and d.path in paths_by_display:
            grouped.setdefault(paths_by_display[d.path], []).append(d)
    return grouped


class _Fixing:
    """``--fix`` and ``--diff`` over the files of a check: texts read once (and only if
    they are still what was checked), fixed round after round until stable."""

    def __init__(self, result: CheckResult, run, unsafe: bool) -> None:
        self.result = result
        self.run = run
        self.unsafe = unsafe
        self.on_disk: dict[str, bytes] = {}
        self.failures: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.failures.setdefault(path, f"{self.result.displays.get(path, path)}: {message}")

    def read(self, path: str) -> str | None:
        try:
            original = Path(path).read_bytes()
        except OSError as exc:
            self.fail(path, f"cannot read file: {exc.strerror or exc}")
            return None
        if self.result.hashes.get(path) != content_hash(original):
            self.fail(path, "file changed while pitfalls was running; fixes not applied")
            return None
        try:
            text = decode(path, original)
        except ParseFailure:
            return None
        self.on_disk[path] = original
        return text

    def write(self, changed: dict[str, str]) -> dict[str, list[Diagnostic]]:
        """Write each fixed text, then check the project again for the next round."""
        for path, text in changed.items():
            original = self.on_disk[path]
            encoding = source_encoding(original)
            try:
                write_atomically(Path(path), original, text, encoding)
            except (FixError, OSError) as exc:
                self.fail(path, str(exc))
                continue
            self.on_disk[path] = text.encode(encoding)
        self.result = self.run()
        return {p: d for p, d in _by_file(self.result).items() if p not in self.failures}

    def fix(self, *, write: bool) -> Fixed:
        fixed = fix_until_stable(
            _by_file(self.result), self.read, self.write if write else lambda changed: {}, unsafe=self.unsafe
        )
        for path in fixed.refused:
            self.fail(path, "the fixed code would not parse; file left unchanged")
        return fixed


def _show_diff(result: CheckResult, run, unsafe: bool) -> int:
    fixing = _Fixing(result, run, unsafe)
    fixed = fixing.fix(write=False)
    for message in fixing.failures.values():
        print(f"pitfalls: error: {printable(message)}", file=sys.stderr)
    changed = 0
    for path in sorted(fixed.texts):
        changed += fixed.counts[path]
        before = decode(path, fixing.on_disk[path])
        sys.stdout.write(unified_diff(result.displays[path], before, fixed.texts[path]))
    print(f"\nWould fix {changed} error{'s' if changed != 1 else ''}." if changed else "No fixes available.", file=sys.stderr)
    return 1 if changed else 0


def _fix(result: CheckResult, run, unsafe: bool) -> tuple[CheckResult, list[str]]:
    fixing = _Fixing(result, run, unsafe)
    fixed = fixing.fix(write=True)
    total = sum(count for path, count in fixed.counts.items() if path not in fixing.failures)
    if total:
        print(f"Fixed {total} error{'s' if total != 1 else ''}.", file=sys.stderr)
    return fixing.result, list(fixing.failures.values())
