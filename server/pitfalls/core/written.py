"""An ``ast`` node's text as libcst's ``Module.code_for_node`` gives it, from the source.

Summaries keep annotations, bases and defaults as written; the ast builder must give the
same text as the libcst one. Three things differ from the node's plain source segment:
libcst counts the parentheses around an expression as part of it (ast does not); inside
brackets, libcst drops the block's indentation from continuation lines (it belongs to the
enclosing statement, which ``code_for_node`` does not print); and a literal made of
several strings (``"a" "b"``) is one ast node but no ``SimpleString``.
"""

from __future__ import annotations

import ast
import re

from pitfalls.core.source import line_starts

# What the text between tokens may hold, and what hides a newline from the brackets.
_SPACE = " \t\f"
_TOKENS = re.compile(
    r"""(?P<str>[A-Za-z]*(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*"))"""
    r"|(?P<comment>\#[^\r\n]*)|(?P<cont>\\(?:\r\n?|\n))|(?P<nl>\r\n?|\n)",
    re.S,
)
# (Inside triple quotes, a quote that does not start three: the first three end it.)
_ONE_STRING = re.compile(
    r"""[A-Za-z]*(?:'''(?:\\.|[^\\']|'(?!''))*'''|\"\"\"(?:\\.|[^\\"]|"(?!""))*\"\"\"|'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*")""",
    re.S,
)
_COMMENT_OR_STRING = re.compile(r"""#|'(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?""")


class SourceText:
    """One file's text, with ast positions (lines, UTF-8 columns) turned into offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = line_starts(source)
        self.ascii = source.isascii()

    def offset(self, line: int, column: int) -> int:
        start = self.starts[line - 1]
        if self.ascii:
            return start + column
        end = self.starts[line] if line < len(self.starts) else len(self.source)
        return start + len(self.source[start:end].encode("utf-8")[:column].decode("utf-8", "replace"))

    def indent(self, node: ast.stmt) -> str:
        """The indentation of the line a statement starts on (its block's)."""
        start = self.starts[node.lineno - 1]
        end = self.starts[node.lineno] if node.lineno < len(self.starts) else len(self.source)
        line = self.source[start:end]
        return line[: len(line) - len(line.lstrip(_SPACE))]

    def span(self, node: ast.expr) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),
            self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0),
        )

    def written(self, node: ast.expr, indent: str, owned: int = 0) -> str:
        """The node as ``code_for_node`` prints it: with the parentheses around it (less
        the ``owned`` innermost pairs that belong to the syntax around it, a class's
        argument list), continuation lines inside brackets without the block's ``indent``."""
        start, end = self.wrapped(node, owned)
        return _dedent(self.source[start:end], indent)

    def wrapped(self, node: ast.expr, owned: int = 0) -> tuple[int, int]:
        start, end = self.span(node)
        opening, closing = self._opening(start), self._closing(end)
        pairs = min(len(opening), len(closing)) - owned
        if pairs <= 0:
            return start, end
        return opening[pairs - 1], closing[pairs - 1] + 1

    def _opening(self, at: int) -> list[int]:
        """Offsets of the ``(`` right before ``at``, nearest first (through spaces, line
        breaks, comments)."""
        found, source, i = [], self.source, at - 1
        while i >= 0:
            char = source[i]
            if char in _SPACE or char == "\\":
                i -= 1
            elif char == "(":
                found.append(i)
                i -= 1
            elif char in "\r\n":
                i -= 1
                if i >= 0 and source[i] == "\r" and char == "\n":
                    i -= 1
                line_start = max(source.rfind("\n", 0, i + 1), source.rfind("\r", 0, i + 1)) + 1
                i = _comment_start(source[line_start : i + 1], line_start, i)
            else:
                break
        return found

    def _closing(self, at: int) -> list[int]:
        """Offsets of the ``)`` right after ``at``, nearest first."""
        found, source, i, size = [], self.source, at, len(self.source)
        while i < size:
            char = source[i]
            if char in _SPACE or char in "\r\n\\":
                i += 1
            elif char == ")":
                found.append(i)
                i += 1
            elif char == "#":
                while i < size and source[i] not in "\r\n":
                    i += 1
            else:
                break
        return found

    def is_one_string(self, node: ast.Constant) -> bool:
        """A string literal written as one string, not several concatenated."""
        start, end = self.span(node)
        return _ONE_STRING.fullmatch(self.source, start, end) is not None

    def parenthesized_tuple(self, node: ast.Tuple) -> bool:
        """``(a, b)``, not ``a, b``: ast puts no node for the brackets."""
        if not node.elts:
            return True
        start = self.offset(node.lineno, node.col_offset)
        first = node.elts[0]
        if self.offset(first.lineno, first.col_offset) == start:
            return False
        return self.source[start] == "(" and self.wrapped(first)[0] != start


def _comment_start(line: str, line_start: int, last: int) -> int:
    """Where the comment ending a line starts (``last`` when it has none)."""
    if "#" not in line:
        return last
    for match in _COMMENT_OR_STRING.finditer(line):
        if match.group() == "#":
            return line_start + match.start() - 1
    return last


def _dedent(text: str, indent: str) -> str:
    """``text`` with ``indent`` taken from the start of each line that begins inside
    brackets (not inside a string, not after a backslash), as libcst prints it."""
    if not indent or ("\n" not in text and "\r" not in text):
        return text
    pieces, last = [], 0
    for match in _TOKENS.finditer(text):
        if match.lastgroup != "nl":
            continue
        after = match.end()
        if text.startswith(indent, after):
            pieces.append(text[last:after])
            last = after + len(indent)
    pieces.append(text[last:])
    return "".join(pieces)
