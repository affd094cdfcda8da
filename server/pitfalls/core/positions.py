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
import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

from pitfalls.core.diagnostics import Position
from pitfalls.core.source import line_starts, parse_quietly
from pitfalls.core.walker import iter_nodes

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


Span = tuple[int, int]


class _Piece:
    """One top-level statement's spans, counted from its first character, and its length."""

    __slots__ = ("spans", "length")

    def __init__(self, spans: Mapping[cst.CSTNode, Span], length: int) -> None:
        self.spans, self.length = spans, length


class _ClassSpans(Mapping[cst.CSTNode, Span]):
    """A top-level class's spans in two parts: those of its block's statements' nodes,
    counted from where each statement's text starts, and the class's own (its line, its
    decorators, the block's footer). An edit of one method moves the statements after it
    by changing where they start, not every node's span: a dict of each node of a long
    class, made again per keystroke, costs (libcst's nodes hash in Python)."""

    __slots__ = ("own", "inner", "starts")

    def __init__(
        self, own: dict[cst.CSTNode, Span], inner: dict[cst.CSTNode, tuple[cst.CSTNode, int, int]],
        starts: dict[cst.CSTNode, int],
    ) -> None:
        self.own = own
        self.inner = inner  # node -> (the statement of the block holding it, its span from there)
        self.starts = starts  # a statement of the block -> where its text starts

    @classmethod
    def split(cls, spans: Mapping[cst.CSTNode, Span], statements: Sequence[cst.CSTNode], indent: str) -> _ClassSpans:
        """``spans`` (of a class, or of statements of its block) in the two parts."""
        own = dict(spans)
        inner: dict[cst.CSTNode, tuple[cst.CSTNode, int, int]] = {}
        starts: dict[cst.CSTNode, int] = {}
        for stmt in statements:
            start = starts[stmt] = _text_start(stmt, spans, indent)
            for node in iter_nodes(stmt, tokens=True):
                span = own.pop(node, None)
                if span is not None:
                    inner[node] = (stmt, span[0] - start, span[1] - start)
        return cls(own, inner, starts)

    def get(self, node: cst.CSTNode, default: Span | None = None) -> Span | None:  # type: ignore[override]
        found = self.inner.get(node)
        if found is None:
            return self.own.get(node, default)
        stmt, start, end = found
        base = self.starts[stmt]
        return start + base, end + base

    def __getitem__(self, node: cst.CSTNode) -> Span:
        span = self.get(node)
        if span is None:
            raise KeyError(node)
        return span

    def __contains__(self, node: object) -> bool:
        return node in self.inner or node in self.own

    def __iter__(self) -> Iterator[cst.CSTNode]:
        yield from self.own
        yield from self.inner

    def __len__(self) -> int:
        return len(self.own) + len(self.inner)


class Positions:
    """(line, column) ranges of the nodes of one module; 1-based lines, 0-based columns.

    Spans are kept per top-level statement, relative to its start. A statement's code is
    generated only when one of its nodes is asked for: where each statement starts is read
    off CPython's tree of the text (its first line, less the statement's leading blank and
    comment lines), a tenth of the cost of generating the whole module. With ``previous``
    (the tree of an edit re-parsed in place), the statements both trees share keep their
    extents and whatever spans were generated for them, and only the new statements are
    generated (the next edit needs their lengths); a class whose block was re-parsed in
    part generates only its new statements."""

    def __init__(self, module: cst.Module, source: str, previous: Positions | None = None) -> None:
        self._module = module
        self._state = _OffsetState(module)
        # Code generation ends a module without a final newline with one (then drops it).
        text = source if module.has_trailing_newline else source + module.default_newline
        self._line_starts = line_starts(text)
        self._to_source = _form_feed_map(module, text) if "\x0c" in source else None
        self._pieces: dict[cst.CSTNode, _Piece] = {}
        self._owner: dict[cst.CSTNode, cst.CSTNode] = {}  # node -> its top-level statement
        self._indexed: set[cst.CSTNode] = set()  # statements whose nodes are in _owner
        self._tokens_indexed: set[cst.CSTNode] = set()  # ... and whose tokens are too
        self._top = self._generate(module.header, 0)
        header_length = self._state.offset
        # Each top-level statement's (where its first token is, its length), both counted
        # from where its text starts: known for every statement, generated or not.
        self._extents: dict[cst.CSTNode, tuple[int, int]] = {}
        self._lossy: set[cst.CSTNode] = set()  # statements whose code is not as long as their text
        found = None if previous is not None or "\x0c" in source else _statement_starts(module, source, self._line_starts)
        # (The first statement starts where the header ends, or the two trees disagree.)
        if found is not None and (found[:1] or [(header_length, 0)])[0][0] == header_length:
            self.body_end = len(text) - self._footer_length()
            self._base = {stmt: start for stmt, (start, _) in zip(module.body, found)}
            ends = [start for start, _ in found[1:]] + [self.body_end]
            for stmt, (start, first), end in zip(module.body, found, ends):
                self._extents[stmt] = (first - start, end - start)
        else:
            self._base = base = {}
            extents, pieces, indexed = self._extents, self._pieces, self._indexed
            offset = header_length
            earlier = previous._module.body if previous is not None else ()
            earlier_pieces = previous._pieces if previous is not None else {}
            earlier_extents = previous._extents if previous is not None else {}
            same_count = len(earlier) == len(module.body)
            for i, stmt in enumerate(module.body):
                piece = earlier_pieces.get(stmt)
                if piece is None and same_count and type(stmt) is cst.ClassDef:
                    piece = self._class_piece(previous, earlier[i], stmt)  # type: ignore[arg-type]
                extent = earlier_extents.get(stmt)  # kept by the edit (its code generated when asked)
                if piece is not None:
                    pieces[stmt] = piece
                    indexed.add(stmt)
                    if extent is None:  # a class whose block the edit re-parsed in part
                        extent = piece.spans[stmt][0], piece.length
                elif extent is None:
                    piece = self._piece(stmt)
                    extent = piece.spans[stmt][0], piece.length
                base[stmt] = offset
                extents[stmt] = extent
                offset += extent[1]
            if previous is not None and previous._lossy:
                self._lossy = {stmt for stmt in previous._lossy if stmt in base}
            self.body_end = offset
        self._top.update(self._generate(module.footer, self.body_end))
        end = self._state.offset
        if module.has_trailing_newline and end == 0:
            end = len(module.default_newline)  # code generation writes one newline
        self._top[module] = (0, end)
        self._text_length = len(text)

    def _generate(self, nodes: Iterable[cst.CSTNode], offset: int) -> dict[cst.CSTNode, tuple[int, int]]:
        """Spans of ``nodes`` generated one after the other from ``offset``."""
        state = self._state
        state.offset, state.spans = offset, {}
        for node in nodes:
            node._codegen(state)
        return state.spans

    def _footer_length(self) -> int:
        self._generate(self._module.footer, 0)
        return self._state.offset

    def _piece(self, stmt: cst.CSTNode) -> _Piece:
        """A statement's spans, generated the first time they are needed."""
        piece = self._pieces.get(stmt)
        if piece is None:
            spans = self._generate((stmt,), 0)
            piece = self._pieces[stmt] = _Piece(spans, self._state.offset)
            self._indexed.add(stmt)
            extent = self._extents.get(stmt)  # (known from the text, when it is)
            if extent is not None and extent != (spans[stmt][0], piece.length):
                self._lossy.add(stmt)
        return piece

    def _class_piece(self, previous: Positions, old: cst.CSTNode, new: cst.ClassDef) -> _Piece | None:
        """The spans of class ``new``, made from those of ``old`` (the same class before an
        edit re-parsed only some statements of its block: see ``reparse``) by generating
        only the new statements and moving the kept ones after them; None when ``new`` is
        not such an edit of ``old``."""
        earlier = previous._pieces.get(old)
        if earlier is None or not spliced_in_class(old, new):
            return None
        block, old_block = new.body, old.body  # type: ignore[attr-defined]
        inner, old_inner = block.body, old_block.body
        first = next((i for i, (a, b) in enumerate(zip(inner, old_inner)) if a is not b), min(len(inner), len(old_inner)))
        kept = next((i for i, (a, b) in enumerate(zip(reversed(inner), reversed(old_inner))) if a is not b), 0)
        kept = min(kept, len(inner) - first, len(old_inner) - first)
        if kept == 0 and old_block.footer:
            return None  # such an edit keeps the block's last statement when footer lines follow it
        indent = old_block.indent if old_block.indent is not None else self._module.default_indent
        spans = earlier.spans
        if type(spans) is not _ClassSpans:
            spans = _ClassSpans.split(spans, old_inner, indent)  # (the class's first edit)
        start = spans.starts[old_inner[first]]
        end = spans.starts[old_inner[-kept]] if kept else earlier.length
        state = self._state
        state.indent_tokens.append(indent)
        try:
            new_statements = inner[first : len(inner) - kept]
            fresh = _ClassSpans.split(self._generate(new_statements, start), new_statements, indent)
        finally:
            state.indent_tokens.pop()
        delta = state.offset - end
        nodes = spans.inner.copy()  # (a copy hashes nothing again)
        for stmt in old_inner[first : len(old_inner) - kept]:
            for node in iter_nodes(stmt, tokens=True):
                nodes.pop(node, None)
        nodes.update(fresh.inner)
        starts = {stmt: spans.starts[stmt] for stmt in inner[:first]}
        starts.update(fresh.starts)
        starts.update((stmt, spans.starts[stmt] + delta) for stmt in inner[len(inner) - kept :])
        # The class's own nodes after the edit are its block's footer's.
        own = {node: (a, b) if a < end else (a + delta, b + delta) for node, (a, b) in spans.own.items()}
        moved = _ClassSpans(own, nodes, starts)
        # The block's syntactic range is its statements', and the class's ends with it.
        del own[old_block]
        own[block] = (moved[inner[0]][0], moved[inner[-1]][1])
        own[new] = (own.pop(old)[0], own[block][1])
        self._indexed.add(new)
        return _Piece(moved, earlier.length + delta)

    def spans_of(self, stmt: cst.CSTNode) -> tuple[int, dict[cst.CSTNode, tuple[int, int]]]:
        """Where top-level statement ``stmt`` starts (its leading lines), and the spans of
        its nodes counted from there (syntactic, as :meth:`range`'s)."""
        return self._base[stmt], self._piece(stmt).spans

    @property
    def offsets_are_text(self) -> bool:
        """Whether offsets into the code are offsets into the text (no form feeds)."""
        return self._to_source is None

    def first_line(self, stmt: cst.CSTNode) -> int:
        """The line top-level statement ``stmt``'s text (with its leading lines) starts on."""
        return bisect.bisect_right(self._line_starts, self._base[stmt])

    def holds(self, stmt: cst.CSTNode, node: cst.CSTNode) -> bool:
        """Whether ``node`` is one of top-level statement ``stmt``'s (placed from its text)."""
        return node not in self._top and node in self._piece(stmt).spans

    def statement_lines(self) -> list[int] | None:
        """The line each top-level statement's text (with its leading lines) starts on,
        where a tokenizer starts afresh; None when offsets are not the text's (form feeds)."""
        if self._to_source is not None:
            return None
        return [self.first_line(stmt) for stmt in self._module.body]

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The top-level statement ``node`` is in: one whose spans are known knows all its
        nodes, tokens included; the others are walked (cheap) until it is found; for a node
        that walk does not reach (a comma, a whitespace), they are walked again, tokens
        included (each statement once: a file's fixes may ask for many)."""
        stmt = self._owner.get(node)
        if stmt is not None:
            return stmt
        pieces = self._pieces
        for candidate in self._module.body:
            piece = pieces.get(candidate)
            if piece is not None and node in piece.spans:
                return candidate
        for candidate in self._module.body:
            if candidate not in self._indexed:
                self._indexed.add(candidate)
                self._owner.update(dict.fromkeys(iter_nodes(candidate), candidate))
                if node in self._owner:
                    return candidate
        for candidate in self._module.body:
            if candidate not in self._tokens_indexed:
                self._tokens_indexed.add(candidate)
                self._owner.update(dict.fromkeys(iter_nodes(candidate, tokens=True), candidate))
                if node in self._owner:
                    return candidate
        return None

    def statement_extents(self) -> list[tuple[int, int, int]] | None:
        """Where each top-level statement's text starts (its leading lines), where the
        statement itself starts, and where its text ends, as offsets into the text,
        without generating the code of statements not generated yet (their extents come
        from CPython's tree of the text, and then from the edits); None when the code
        generated for one does not give its text back (libcst drops a few characters in
        rare places), so offsets into the two would differ there."""
        if self._lossy or self._top[self._module][1] != self._text_length:
            return None
        extents = self._extents
        out = []
        for stmt, base in self._base.items():
            first, length = extents[stmt]
            out.append((base, base + first, base + length))
        return out

    def gives_text_back(self, stmt: cst.CSTNode) -> bool:
        """Whether top-level statement ``stmt``'s code, if generated yet, is as long as its
        text (else offsets into its nodes' code are not offsets into the text)."""
        return stmt not in self._lossy

    def _span(self, node: cst.CSTNode, near: cst.CSTNode | None = None) -> tuple[int, int]:
        if node in self._top:
            return self._top[node]
        if near is not None and near in self._base:
            span = self._piece(near).spans.get(node)
            if span is not None:
                base = self._base[near]
                return span[0] + base, span[1] + base
        stmt = self.statement_of(node)
        if stmt is None:
            raise KeyError(node)
        start, end = self._piece(stmt).spans[node]
        base = self._base[stmt]
        return start + base, end + base

    def _position(self, offset: int) -> Position:
        if self._to_source is not None:
            offset = self._to_source[min(offset, len(self._to_source) - 1)]
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return Position(line + 1, offset - self._line_starts[line])

    def range(self, node: cst.CSTNode, near: cst.CSTNode | None = None) -> tuple[Position, Position]:
        """Where ``node`` is; ``near``: the top-level statement it is probably in, looked
        at first (the others are searched when it is not there)."""
        start, end = self._span(node, near)
        return self._position(start), self._position(end)

    def ranges(self, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, tuple[Position, Position]]:
        return {node: self.range(node) for node in nodes}


# The fields of a class statement, and of its block, that an edit of the block's statements keeps.
_CLASS_FIELDS = tuple(f.name for f in dataclasses.fields(cst.ClassDef) if f.name != "body")
_BLOCK_FIELDS = tuple(f.name for f in dataclasses.fields(cst.IndentedBlock) if f.name != "body")


def spliced_in_class(old: cst.CSTNode, new: cst.CSTNode) -> bool:
    """Whether ``new`` is class ``old`` with only statements of its block re-parsed (all
    else is the same objects: see ``reparse``)."""
    return (
        type(old) is cst.ClassDef and type(new) is cst.ClassDef and type(old.body) is cst.IndentedBlock
        and type(new.body) is cst.IndentedBlock and bool(new.body.body)
        and all(getattr(new, f) is getattr(old, f) for f in _CLASS_FIELDS)
        and all(getattr(new.body, f) is getattr(old.body, f) for f in _BLOCK_FIELDS)
    )


def first_node(stmt: cst.CSTNode) -> cst.CSTNode:
    """The node a statement's text starts with: its first leading line, else its first
    decorator, else the statement."""
    leading = getattr(stmt, "leading_lines", ())
    if leading:
        return leading[0]
    decorators = getattr(stmt, "decorators", ())
    return decorators[0] if decorators else stmt


def _text_start(stmt: cst.CSTNode, spans: Mapping[cst.CSTNode, Span], indent: str) -> int:
    """Where the text of ``stmt``, a statement of a top-level class's block, starts: where
    its :func:`first_node` does, less the block's indent unless that is a leading line
    (whose span has it)."""
    node = first_node(stmt)
    return spans[node][0] - (0 if type(node) is cst.EmptyLine else len(indent))


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


def _statement_starts(module: cst.Module, source: str, line_offsets: Sequence[int]) -> list[tuple[int, int]] | None:
    """Where each top-level statement's text starts (with its leading lines), and where
    its first token (after its decorators) is, from the first lines CPython's tree gives
    it; None when the two trees cannot be matched."""
    try:
        tree = parse_quietly(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    statements = tree.body  # type: ignore[attr-defined]
    starts = []
    i = 0
    for stmt in module.body:
        count = len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1
        if i + count > len(statements):
            return None
        first = statements[i]
        decorators = getattr(first, "decorator_list", ())
        line = decorators[0].lineno if decorators else first.lineno
        start = line_offsets[line - 1]
        if decorators and not source.startswith("@", start):
            return None  # `@` on a line of its own
        # Its leading lines end there (not one per line: one can hold a backslash's two).
        leading = "".join(_empty_line_text(empty, module.default_newline) for empty in stmt.leading_lines)
        if len(leading) > start or not source.startswith(leading, start - len(leading)):
            return None
        starts.append((start - len(leading), line_offsets[first.lineno - 1]))
        i += count
    if i != len(statements) or starts != sorted(starts):
        return None
    return starts


def _empty_line_text(line: cst.EmptyLine, newline: str) -> str:
    """The code of a module-level blank or comment line (no indent to write there)."""
    comment = line.comment.value if line.comment is not None else ""
    return line.whitespace.value + comment + (line.newline.value or newline)
