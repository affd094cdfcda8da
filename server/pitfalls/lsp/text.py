"""Positions between the engine and LSP, and documents with LSP's idea of a line.

The engine counts 1-based lines and 0-based code-point columns; LSP counts 0-based lines and
columns in the negotiated encoding (UTF-16 unless the client offers another), with only
``\\n``, ``\\r\\n`` and ``\\r`` ending a line. Everything that crosses between the two goes
through :class:`Text`, so no other module counts code units.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import TextDocument
from pygls.workspace import Workspace as PyglsWorkspace

from pitfalls.core.source import line_starts, lines_with_ends


def _char_units(ch: str, encoding: str) -> int:
    o = ord(ch)
    if encoding == "utf-8":
        return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    return 2 if o > 0xFFFF else 1  # utf-16 (surrogates count one each, as they are)


def _counts_code_points(s: str, encoding: str) -> bool:
    """Whether a column in ``s`` is the same in client units as in code points."""
    return encoding == "utf-32" or s.isascii()


def _units(s: str, encoding: str) -> int:
    if _counts_code_points(s, encoding):
        return len(s)
    return sum(_char_units(c, encoding) for c in s)


def _column(s: str, units: int, encoding: str) -> int:
    """Code-point index in ``s`` of a column given in client units (clamped to the line;
    a column inside a character counts as after it)."""
    if units <= 0:
        return 0
    if _counts_code_points(s, encoding):
        return min(units, len(s))
    count = 0
    for i, ch in enumerate(s):
        if count >= units:
            return i
        count += _char_units(ch, encoding)
    return len(s)


class Text:
    """A snapshot of a document's text with LSP <-> engine position conversions."""

    def __init__(self, source: str, encoding: str) -> None:
        self.source = source
        self.encoding = encoding
        self.starts = line_starts(source)
        # Then a column counts the same in every encoding: positions need no slice of the line.
        self._units_are_code_points = _counts_code_points(source, encoding)

    def line(self, i: int) -> str:
        """Line ``i`` (0-based) without its ending."""
        return self.source[self.starts[i]:self._end(i)].rstrip("\r\n")

    def _end(self, i: int) -> int:
        """Where line ``i`` (0-based) ends, its line ending included."""
        return self.starts[i + 1] if i + 1 < len(self.starts) else len(self.source)

    def position(self, line: int, column: int) -> types.Position:
        """LSP position of a 0-based line and code-point column (clamped into the text)."""
        if line < 0:
            return types.Position(line=0, character=0)
        if line >= len(self.starts):
            line = len(self.starts) - 1
            column = len(self.source)
        if self._units_are_code_points:
            start, end = self.starts[line], self._end(line)
            while end > start and self.source[end - 1] in "\r\n":
                end -= 1
            return types.Position(line=line, character=max(0, min(column, end - start)))
        text = self.line(line)
        return types.Position(line=line, character=_units(text[: max(0, min(column, len(text)))], self.encoding))

    def to_lsp(self, line1: int, column: int) -> types.Position:
        """LSP position of an engine position (1-based line)."""
        return self.position(line1 - 1, column)

    def locate(self, position: types.Position) -> tuple[int, int]:
        """(0-based line, code-point column) of an LSP position, clamped as the spec says:
        past the end of a line means its end, past the last line the end of the text."""
        if position.line >= len(self.starts):
            last = len(self.starts) - 1
            return last, len(self.line(last))
        line = max(position.line, 0)
        return line, _column(self.line(line), position.character, self.encoding)

    def offset(self, position: types.Position) -> int:
        line, column = self.locate(position)
        return self.starts[line] + column

    def range(self, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        """LSP range of two engine positions (1-based line, code-point column)."""
        return types.Range(start=self.to_lsp(*start), end=self.to_lsp(*end))


def encoding_name(kind: Any) -> str:
    """The plain string of an LSP enum value (a position encoding, a code action kind)."""
    return str(getattr(kind, "value", kind) or "utf-16")


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class Document(TextDocument):
    """pygls' document with LSP's idea of lines (only \\n, \\r\\n, \\r end one; str.splitlines
    also splits at form feeds and U+2028) and incremental changes applied by offset."""

    @property
    def lines(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(lines_with_ends(self.source))

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        source = self.source
        text = Text(source, encoding_name(self.position_codec.encoding))
        start, end = text.offset(change.range.start), text.offset(change.range.end)
        if end < start:
            start, end = end, start
        self._source = source[:start] + change.text + source[end:]


class DocumentStore(PyglsWorkspace):
    """pygls' document store, making :class:`Document` s; a change to a document that is
    not open is ignored (pygls raises; the handler logs it)."""

    def update_text_document(self, text_doc, change):  # type: ignore[override]
        if unquote(text_doc.uri) in self._text_documents:
            super().update_text_document(text_doc, change)

    def _create_text_document(self, doc_uri, source=None, version=None, language_id=None):  # type: ignore[override]
        return Document(
            doc_uri, source=source, version=version, language_id=language_id,
            sync_kind=self._sync_kind, position_codec=self._position_codec,
        )
