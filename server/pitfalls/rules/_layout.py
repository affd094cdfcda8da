"""Where a module's statements are, line by line, read off CPython's tree of its text: for
fixes that move whole lines (PF301's); and where a call's arguments are in its text, for
fixes made from a node's text (PF103's, see ``NodeEdit.from_text``). A fix that asks
these, and not the formatting of the tree it walks, is the same on libcst's tree and on
the tree made from ast (which has none), so its rule's reports are final on either
(``Rule.exact_on_ast_tree``).

libcst's statements are paired with CPython's: a line of statements separated by ``;`` is
one libcst statement and several of CPython's; ``def`` statements are paired in source
order (both trees hold the same ones).
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator, Sequence

import libcst as cst

from pitfalls.core.diagnostics import Position
from pitfalls.core.source import parse_quietly, source_lines
from pitfalls.core.walker import iter_nodes
from pitfalls.core.written import SourceText
from pitfalls.rules.api import RuleContext

_Def = ast.FunctionDef | ast.AsyncFunctionDef


def layout(ctx: RuleContext) -> Layout | None:
    """The file's layout (a fact: computed once, for the files whose fixes ask); None when
    CPython's tree of the text does not pair with the rules' (it refuses the text)."""
    return ctx.fact(_layout)


def _layout(ctx: RuleContext) -> Layout | None:
    try:
        tree = parse_quietly(ctx.source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    assert isinstance(tree, ast.Module)
    try:
        return Layout(ctx.source, ctx.module, tree)
    except _Unpaired:
        return None


class _Unpaired(Exception):
    """The two trees' statements do not pair."""


class Layout:
    """A module's lines, and the lines of its statements."""

    def __init__(self, source: str, module: cst.Module, tree: ast.Module) -> None:
        self.text = SourceText(source)
        self.lines = source_lines(source)
        self.tree = tree
        self._top = dict(_pairs(module.body, tree.body))
        self._module = module
        self._defs: dict[cst.FunctionDef, _Def] | None = None

    # -- lines --------------------------------------------------------------------------

    def blank(self, line: int) -> bool:
        """Whether ``line`` (1-based) holds only whitespace."""
        return 0 < line <= len(self.lines) and not self.lines[line - 1].strip()

    def line_start(self, line: int) -> Position:
        """Where ``line`` starts; the end of the text for the line after a last line
        without a newline."""
        if line <= len(self.lines):
            return Position(line, 0)
        return Position(len(self.lines), len(self.lines[-1]))

    def first_indent(self) -> str:
        """The indentation of the file's first indented block (libcst's ``default_indent``),
        four spaces in a file without one."""
        try:
            for token in tokenize.generate_tokens(io.StringIO(self.text.source).readline):
                if token.type == tokenize.INDENT:
                    return token.string
        except (tokenize.TokenError, SyntaxError):
            pass
        return "    "

    # -- statements ---------------------------------------------------------------------

    def statements(self, stmt: cst.BaseStatement) -> list[ast.stmt]:
        """CPython's statements of top-level statement ``stmt``."""
        return self._top[stmt]

    def span(self, stmt: cst.BaseStatement) -> tuple[int, int]:
        """The first line (a decorator's) and the last line of top-level statement ``stmt``."""
        found = self._top[stmt]
        return _first_line(found[0]), _end_line(found[-1])

    def code(self, node: ast.stmt) -> str:
        return self.text.source[slice(*self.text.span(node))]  # type: ignore[arg-type]

    def between(self, before: ast.alias, after: ast.alias) -> str:
        """The text from the end of ``before`` to the start of ``after``."""
        return self.text.source[self.text.span(before)[1]:self.text.span(after)[0]]  # type: ignore[arg-type]

    def start(self, node: ast.alias) -> Position:
        line = node.lineno
        return Position(line, self.text.offset(line, node.col_offset) - self.text.starts[line - 1])

    # -- functions ----------------------------------------------------------------------

    def function(self, node: cst.FunctionDef) -> _Def | None:
        """CPython's ``def`` of ``node``."""
        if self._defs is None:
            ours = [n for n in iter_nodes(self._module) if type(n) is cst.FunctionDef]
            theirs = sorted(
                (n for n in ast.walk(self.tree) if isinstance(n, _Def)), key=lambda n: (n.lineno, n.col_offset)
            )
            self._defs = dict(zip(ours, theirs)) if len(ours) == len(theirs) else {}
        return self._defs.get(node)

    def header_line(self, function: _Def) -> int | None:
        """The line of the colon that ends ``function``'s signature."""
        first, body = function.lineno, function.body[0].lineno
        text = "\n".join(self.lines[first - 1:body]) + "\n"
        depth = 0
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type != tokenize.OP:
                    continue
                if token.string in "([{":
                    depth += 1
                elif token.string in ")]}":
                    depth -= 1
                elif token.string == ":" and depth == 0:
                    return first + token.start[0] - 1
        except (tokenize.TokenError, SyntaxError):
            pass
        return None


def _first_line(node: ast.stmt) -> int:
    """Where a statement starts: its first decorator's line, if it has one."""
    decorators = getattr(node, "decorator_list", None)
    return decorators[0].lineno if decorators else node.lineno


def _end_line(node: ast.stmt) -> int:
    assert node.end_lineno is not None
    return node.end_lineno


def _pairs(ours: Sequence[cst.BaseStatement], theirs: list[ast.stmt]) -> Iterator[tuple[cst.BaseStatement, list[ast.stmt]]]:
    """libcst's statements with CPython's, in order."""
    at = 0
    for stmt in ours:
        count = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        if at + count > len(theirs):
            raise _Unpaired
        yield stmt, theirs[at:at + count]
        at += count
    if at != len(theirs):
        raise _Unpaired


class WrittenCall:
    """A call's text as written, parsed again on its own (see ``NodeEdit.from_text``):
    where its arguments, their commas and comments are, as offsets into the text."""

    def __init__(self, text: str) -> None:
        """Raises SyntaxError when ``text`` is no call."""
        call = parse_quietly(text, mode="eval").body  # type: ignore[attr-defined]
        if not isinstance(call, ast.Call):
            raise SyntaxError("not a call")
        written = SourceText(text)
        starts = written.starts
        try:
            self._tokens = [
                (t.type, t.string, starts[t.start[0] - 1] + t.start[1], starts[t.end[0] - 1] + t.end[1])
                for t in tokenize.generate_tokens(io.StringIO(text, newline="").readline)
                if t.type in (tokenize.OP, tokenize.COMMENT)
            ]
        except tokenize.TokenError as exc:
            raise SyntaxError(str(exc)) from exc
        # The arguments in the order written, each (start, end); then the opening parenthesis.
        self.arguments = sorted(written.span(a) for a in [*call.args, *call.keywords])  # type: ignore[arg-type]
        func_end = written.span(call.func)[1]
        self.opening = next(start for kind, string, start, _ in self._tokens if string == "(" and start >= func_end)

    def token_after(self, offset: int) -> tuple[int, str, int, int] | None:
        """The first operator or comment at or after ``offset``."""
        return next((t for t in self._tokens if t[2] >= offset), None)
