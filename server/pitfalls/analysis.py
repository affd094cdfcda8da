"""One file: parse, summarise, run every enabled rule in one traversal, resolve reports.

Pure functions from source text (plus the project index) to diagnostics: no I/O, no
terminal, no LSP. Positions are computed only for files that have reports.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import Callable

import libcst as cst

from pitfalls.context import NodeEdit, Report, RuleContext
from pitfalls.diagnostics import Diagnostic, Edit, Fix, Position, Severity
from pitfalls.index import IndexView, ModuleSummary
from pitfalls.positions import Positions
from pitfalls.rules.base import Rule
from pitfalls.schemas import Schemas
from pitfalls.walker import walk

NEWLINE = re.compile(r"\r\n?|\n")
NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


@dataclass
class FileOutcome:
    diagnostics: list[Diagnostic]
    consulted: dict[str, str] = field(default_factory=dict)  # path -> summary fingerprint
    errors: list[str] = field(default_factory=list)  # internal rule failures, for logs


class ParseFailure(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def parse_error(path: str, message: str, line: int = 1, column: int = 0) -> Diagnostic:
    return Diagnostic(
        code="PF000",
        message=message,
        path=path,
        start=Position(line, column),
        end=Position(line, column),
        severity=Severity.ERROR,
    )


def source_encoding(data: bytes) -> str:
    """The file's declared encoding (PEP 263), UTF-8 by default; 'utf-8-sig' with a BOM.

    Raises SyntaxError for a declaration Python itself refuses (an unknown encoding)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if str(exc).startswith(("unknown encoding", "encoding problem")):
            raise
        return "utf-8"  # undecodable first lines: reported when the text is decoded
    return encoding


def decode(path: str, data: bytes) -> str:
    """Source bytes to text as Python would read them; a clear PF000 when that fails."""
    if b"\x00" in data:
        raise ParseFailure(parse_error(path, "not a Python source file: it contains NUL bytes"))
    try:
        encoding = source_encoding(data)
    except SyntaxError as exc:
        raise ParseFailure(parse_error(path, f"cannot decode file: {exc}")) from None
    try:
        return data.decode(encoding)
    except LookupError:
        raise ParseFailure(parse_error(path, f"unknown source encoding '{encoding}'")) from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        raise ParseFailure(
            parse_error(path, f"file is not valid {name} (byte {exc.start}, line {line}): {exc.reason}", line)
        ) from None


# A line this long may hide nesting that libcst's native parser handles badly.
_LONG_LINE = re.compile(r"[^\n]{1000}")


def too_deep(path: str, source: str) -> Diagnostic | None:
    """PF000 for text CPython's own parser refuses as too deeply nested.

    libcst's native parser takes minutes on such input (``a.b.b...`` 5,000 deep: 18 s) or
    crashes the process (``[`` 2,000 deep, ``not `` 20,000 times: SIGSEGV), and Python could
    not compile the file anyway. Only files with very long lines are asked, so ordinary
    code pays nothing for the check."""
    if not _LONG_LINE.search(source):
        return None
    try:
        ast.parse(source)
    except SyntaxError as exc:
        if (exc.msg or "").startswith("too many"):
            return parse_error(path, f"syntax error: {exc.msg}", exc.lineno or 1, max((exc.offset or 1) - 1, 0))
    except (RecursionError, MemoryError):
        return parse_error(path, "cannot parse file: nested too deeply for Python's own parser")
    except Exception:
        pass
    return None


def parse(path: str, source: str) -> cst.Module:
    refused = too_deep(path, source)
    if refused is not None:
        raise ParseFailure(refused)
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise ParseFailure(_syntax_error(path, source, exc)) from None
    except (RecursionError, MemoryError, ValueError) as exc:  # pathological input
        raise ParseFailure(parse_error(path, f"cannot parse file: {type(exc).__name__}")) from None


def _syntax_error(path: str, source: str, exc: cst.ParserSyntaxError) -> Diagnostic:
    """PF000 at the error; CPython's own message and position when it agrees it is an error
    (they are more precise than the CST parser's), else libcst's."""
    try:
        ast.parse(source, filename=path)
    except SyntaxError as err:
        line = err.lineno or 1
        column = max((err.offset or 1) - 1, 0)
        return parse_error(path, f"syntax error: {err.msg}", line, column)
    except (ValueError, RecursionError, MemoryError):
        pass
    message = re.sub(r"^(parser error: )?(error at \d+:\d+: )?", "", str(exc.message))
    return parse_error(path, f"syntax error: {message}", exc.editor_line, max(exc.editor_column - 1, 0))


class _Runner:
    """Dispatch tables for the enabled rules of one file, plus the engine's own scope tracking."""

    def __init__(self, ctx: RuleContext, rules: list[type[Rule]]) -> None:
        self.ctx = ctx
        self.broken: set[str] = set()
        self.errors: list[str] = []
        self.instances = [rule(ctx) for rule in rules]
        self.on_enter: dict[type, list[Callable]] = {}
        self.on_leave: dict[type, list[Callable]] = {}
        for instance in self.instances:
            handlers = type(instance).handlers()
            for node_name, method in handlers["visit"]:
                self._add(self.on_enter, node_name, instance, method)
            for node_name, method in handlers["leave"]:
                self._add(self.on_leave, node_name, instance, method)
        self._add_scope_tracking()

    def _add(self, table: dict[type, list[Callable]], node_name: str, instance: Rule, method: str) -> None:
        node_type = getattr(cst, node_name, None)
        if node_type is None:
            raise TypeError(f"{type(instance).__name__}.{method}: libcst has no node {node_name}")
        bound = getattr(instance, method)
        rule = type(instance)
        ctx = self.ctx

        def handler(node: cst.CSTNode) -> object:
            if rule.code in self.broken:
                return None
            ctx.current_rule = rule
            try:
                return bound(node)
            except Exception as exc:  # one broken rule must not silence the others
                self.broken.add(rule.code)
                self.errors.append(f"{rule.code} failed on {ctx.path}: {type(exc).__name__}: {exc}")
                return None
            finally:
                ctx.current_rule = None

        table.setdefault(node_type, []).append(handler)

    def _add_scope_tracking(self) -> None:
        ctx = self.ctx
        for node_type, kind in ((cst.FunctionDef, "function"), (cst.Lambda, "function"), (cst.ClassDef, "class")):
            self.on_enter.setdefault(node_type, []).append(lambda n, k=kind: ctx.push_scope(k, n))
            self.on_leave.setdefault(node_type, []).insert(0, lambda n: ctx.pop_scope())
        for node_type in (cst.Import, cst.ImportFrom):
            self.on_enter.setdefault(node_type, []).insert(0, ctx.record_import)
        for node_type in (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr):
            self.on_leave.setdefault(node_type, []).insert(0, ctx.record_assignment)
        binders = {
            cst.For: lambda n: ctx.record_unknown(n.target),
            cst.WithItem: lambda n: ctx.record_unknown(n.asname.name if n.asname else None),
            cst.ExceptHandler: lambda n: ctx.record_unknown(n.name.name if n.name else None),
        }
        for node_type, binder in binders.items():
            self.on_enter.setdefault(node_type, []).insert(0, binder)

    def run(self) -> None:
        walk(self.ctx.module, self.on_enter, self.on_leave)
        for instance in self.instances:
            rule = type(instance)
            if rule.code in self.broken:
                continue
            self.ctx.current_rule = rule
            try:
                instance.finish()
            except Exception as exc:
                self.broken.add(rule.code)
                self.errors.append(f"{rule.code} failed on {self.ctx.path}: {type(exc).__name__}: {exc}")
        self.ctx.current_rule = None


def check_module(
    *,
    path: str,
    source: str,
    module: cst.Module,
    summary: ModuleSummary,
    index: IndexView,
    rules: list[type[Rule]],
    settings: object = None,
    schemas: Schemas | None = None,
) -> FileOutcome:
    ctx = RuleContext(
        path=path, source=source, module=module, summary=summary, index=index, settings=settings,
        schemas=schemas or Schemas(),
    )
    runner = _Runner(ctx, rules)
    runner.run()
    diagnostics = resolve_reports(path, source, module, ctx.reports)
    # A report of a rule that crashed later in the file is still sound; keep it.
    return FileOutcome(diagnostics, dict(index.consulted), runner.errors)


def resolve_reports(path: str, source: str, module: cst.Module, reports: list[Report]) -> list[Diagnostic]:
    if not reports:
        return []
    positions = Positions(module, source)
    lines = source_lines(source)
    out: list[Diagnostic] = []
    seen: set[tuple[str, int, int, str]] = set()
    for report in reports:
        start, end = positions.range(report.node)
        if _suppressed(lines, start.line, report.rule.code):
            continue
        key = (report.rule.code, start.line, start.column, report.message)
        if key in seen:
            continue
        seen.add(key)
        fix = None
        if report.fix is not None:
            edits = tuple(sorted((_edit(positions, e) for e in report.fix.edits), key=lambda e: (e.start, e.end)))
            fix = Fix(report.fix.message, edits, report.fix.applicability)
        out.append(
            Diagnostic(
                code=report.rule.code,
                message=report.message,
                path=path,
                start=start,
                end=end,
                severity=report.severity,
                fix=fix,
                data=report.data,
            )
        )
    return out


def _edit(positions: Positions, edit: NodeEdit) -> Edit:
    if isinstance(edit.node, Position):
        return Edit(edit.node, edit.node, edit.content)
    start, end = positions.range(edit.node)
    if edit.mode == "span" and edit.to is not None:
        to_start, to_end = positions.range(edit.to)
        return Edit(end if edit.from_end else start, to_end if edit.to_end else to_start, edit.content)
    if edit.mode == "before":
        return Edit(start, start, edit.content)
    if edit.mode == "after":
        return Edit(end, end, edit.content)
    if edit.through is not None:
        end = positions.range(edit.through)[1]
    return Edit(start, end, edit.content)


def source_lines(source: str) -> list[str]:
    """Lines as Python counts them: only \\n, \\r\\n and \\r end a line (str.splitlines
    also splits at form feeds and U+2028, which would put noqa comments on the wrong line)."""
    return NEWLINE.split(source)


def _suppressed(lines: list[str], line: int, code: str) -> bool:
    if not 1 <= line <= len(lines):
        return False
    text = lines[line - 1]
    if "#" not in text:
        return False
    for match in NOQA.finditer(text):
        codes = match.group("codes")
        if codes is None:
            return True
        if code in {c.upper() for c in re.split(r"[,\s]+", codes) if c}:
            return True
    return False
