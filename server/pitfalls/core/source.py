"""Source text: bytes decoded as Python reads them, parsed with libcst, or one PF000.

Pure functions: no file is read here (callers pass the bytes), nothing is printed.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from itertools import accumulate

import libcst as cst

from pitfalls.core.diagnostics import Diagnostic, Position, Severity

NEWLINE = re.compile(r"\r\n?|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


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
    except UnicodeError as exc:  # a codec that fails without saying where (punycode, idna)
        raise ParseFailure(parse_error(path, f"cannot decode file as '{encoding}': {exc}")) from None


# A line this long may hide nesting that libcst's native parser handles badly; so may
# brackets or unary operators piled up over short lines.
# (Patterns that start with a literal character, so the engine skips ahead cheaply.)
_LONG_LINE = 1000
_NOT_BRACKET = re.compile(r"[^()\[\]{}]+")
_UNARY_RUN = re.compile(r"[-+~](?:\s*[-+~]){99}|not(?:\s+not\b){99}")
_SUSPECT_DEPTH = 100  # CPython itself refuses 200 nested brackets


def too_deep(path: str, source: str) -> Diagnostic | None:
    """PF000 for text CPython's own parser refuses as too deeply nested.

    libcst's native parser takes minutes on such input (``a.b.b...`` 5,000 deep: 18 s) or
    crashes the process (``[`` 2,000 deep, ``not `` 20,000 times: SIGSEGV), and Python could
    not compile the file anyway. Only suspects are asked (very long lines, a hundred
    brackets deep, a hundred unary operators in a row, counted naively), so ordinary code
    pays next to nothing for the check."""
    suspect = (
        max(map(len, source.split("\n"))) >= _LONG_LINE
        or _bracket_depth(source) >= _SUSPECT_DEPTH
        or _UNARY_RUN.search(source)
    )
    if not suspect:
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


def _bracket_depth(source: str) -> int:
    """The deepest bracket nesting, counting brackets in strings and comments too: an
    upper bound for well-formed code, cheap (only the brackets are walked)."""
    brackets = _NOT_BRACKET.sub("", source)
    if len(brackets) < _SUSPECT_DEPTH:
        return 0
    return max(accumulate(1 if c in "([{" else -1 for c in brackets))


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



def source_lines(source: str) -> list[str]:
    """Lines as Python counts them: only \\n, \\r\\n and \\r end a line (str.splitlines
    also splits at form feeds and U+2028, which would put noqa comments on the wrong line)."""
    return NEWLINE.split(source)


def lines_with_ends(source: str) -> list[str]:
    """The lines of ``source`` with their endings, split where Python splits them."""
    return _LINE_WITH_END.findall(source)
