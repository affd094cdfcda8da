"""Source positions of nodes, at a fraction of the cost of libcst's PositionProvider.

PositionProvider builds a CodeRange of CodePositions for every node and splits every
token with a regex: about 1.7x a parse, paid per file with a finding, and per keystroke in
the editor. The same code generation walk, counting characters and keeping plain offset
pairs, costs a few tenths of that; offsets become (line, column) only for the nodes asked
for. Semantics are PositionProvider's: syntactic ranges where libcst records them
(hoisted from child nodes likewise), whitespace-inclusive ranges otherwise.
"""

from __future__ import annotations

import bisect
import re
from typing import Iterable

import libcst as cst
from libcst._nodes.internal import CodegenState

from pitfalls.core.diagnostics import Position

_NEWLINE = re.compile(r"\r\n?|\n")


class _Syntactic:
    """``record_syntactic_position`` as a plain context manager (no generator frames)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _OffsetState, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = self.state.offset

    def __exit__(self, *exc: object) -> None:
        spans = self.state.spans
        start = spans[self.start_node][0] if self.start_node is not None else self.start
        end = spans[self.end_node][1] if self.end_node is not None else self.state.offset
        spans[self.node] = (start, end)


class _OffsetState(CodegenState):
    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.spans: dict[cst.CSTNode, tuple[int, int]] = {}
        self._starts: list[int] = []

    # Only lengths matter: the text itself is the source we already have. (One token is
    # kept, because Module asks whether any was written.)
    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if not self.tokens:
            self.tokens.append(value)
        self.offset += len(value)

    def pop_trailing_newline(self) -> None:
        pass

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append(self.offset)

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._starts.pop()
        if node not in self.spans:  # a syntactic range, when recorded, wins
            self.spans[node] = (start, self.offset)

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class Positions:
    """(line, column) ranges of the nodes of one module; 1-based lines, 0-based columns."""

    def __init__(self, module: cst.Module, source: str) -> None:
        state = _OffsetState(module)
        module._codegen(state)
        self._spans = state.spans
        # Code generation ends a module without a final newline with one (then drops it).
        text = source if module.has_trailing_newline else source + module.default_newline
        self._line_starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        self._to_source = _form_feed_map(module, text) if "\x0c" in source else None

    def _position(self, offset: int) -> Position:
        if self._to_source is not None:
            offset = self._to_source[min(offset, len(self._to_source) - 1)]
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line + 1, offset - self._line_starts[line])

    def range(self, node: cst.CSTNode) -> tuple[Position, Position]:
        start, end = self._spans[node]
        return self._position(start), self._position(end)

    def ranges(self, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, tuple[Position, Position]]:
        return {node: self.range(node) for node in nodes}


def _form_feed_map(module: cst.Module, text: str) -> list[int] | None:
    """Offsets in the generated code -> offsets in ``text``, when libcst's code generation
    dropped form feeds the source has (it does at the start of a line); None if the two
    agree or differ in some other way."""
    generated = module.code if module.has_trailing_newline else module.code + module.default_newline
    if generated == text:
        return None
    mapping: list[int] = []
    i = 0
    for char in generated:
        while i < len(text) and text[i] != char and text[i] == "\x0c":
            i += 1
        if i >= len(text) or text[i] != char:
            return None
        mapping.append(i)
        i += 1
    mapping.append(len(text))
    return mapping
