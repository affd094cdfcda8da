"""Re-parse an edited text in place: only the top-level statements the edit touched.

A keystroke in the editor changes one statement of a file; parsing the whole file with
libcst again costs a few hundred milliseconds on a long module. Here the changed region
(the text between the longest common prefix and suffix of the two texts) is mapped onto
the previous tree's top-level statements, one statement more on each side when it touches
a boundary; only their new text is parsed, and its statements replace them. An edit inside
one top-level class goes one level down: only the statements of the class's block it
touched (a method) are parsed, and the class is rebuilt around them. Every other statement
keeps its node objects, so spans computed for them stay valid (see
:class:`~pitfalls.core.positions.Positions`).

Only the statements re-parsed are handed to ``accept`` (CPython's verdict, see
:func:`~pitfalls.core.source.parse`), with the compiler flags of the module's
``from __future__`` imports: under them a statement compiles alone as it does in the module.
An edit of those imports, or of the docstring before them, or one whose statements name
``__future__``, is parsed whole.

The result is used only when the spliced tree generates exactly the new text; anything
else (the edit reaches into a header comment's neighbour in a way the splice cannot
express, a form feed, a fragment libcst refuses) returns None and the caller parses the
whole text, so what the rules see is always what a full parse gives.
"""

from __future__ import annotations

import __future__
from typing import Callable, NamedTuple

import libcst as cst

from pitfalls.core import names
from pitfalls.core.positions import Positions, first_node
from pitfalls.core.source import parse_module
from pitfalls.core.walker import iter_nodes


def common_prefix(a: str, b: str) -> int:
    """The length of the longest common prefix (slices compared in C, halving)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def common_suffix(a: str, b: str, limit: int) -> int:
    """The length of the longest common suffix, at most ``limit``."""
    low, high = 0, min(len(a), len(b), limit)
    while low < high:
        middle = (low + high + 1) // 2
        if a[len(a) - middle : len(a) - low] == b[len(b) - middle : len(b) - low]:
            low = middle
        else:
            high = middle - 1
    return low


def _touched(
    module: cst.Module, positions: Positions, start: int, end: int, length: int
) -> tuple[int, int, list[tuple[int, int, int]]] | None:
    """The first and last top-level statement to parse again for an edit of [start, end)
    of a text of ``length`` characters, with the statements' extents; or None.

    Those whose text meets [start - 1, end + 1) (an edit at a statement's edge may belong
    to its neighbour: an indented line typed after a block); with the statement before
    when the edit is in the blank lines and comments above the first (libcst gives
    indented ones to the block before); and with the statement after when such lines
    above it may now belong to the last one's block."""
    extents = positions.statement_extents()
    if extents is None:
        return None
    # The header belongs with the first statement, the footer with the last.
    bounds = [(s, e) for s, _, e in extents]
    bounds[0] = (0, bounds[0][1])
    bounds[-1] = (bounds[-1][0], length + 1)
    meets = [i for i, (s, e) in enumerate(bounds) if e > start - 1 and s < end + 1]
    if not meets:
        return None
    first, last = meets[0], meets[-1]
    if first > 0 and start <= extents[first][1]:  # (text typed before its first token too)
        first -= 1
    if last + 1 < len(module.body) and any(
        line.whitespace.value or line.comment for line in module.body[last + 1].leading_lines
    ):
        last += 1
    return first, last, extents


def _indents(stmt: cst.CSTNode) -> bool:
    """Whether the statement's text has an indented block (an INDENT token)."""
    return isinstance(stmt, cst.BaseCompoundStatement) and any(
        isinstance(node, cst.IndentedBlock) for node in iter_nodes(stmt)
    )


def _same_defaults(module: cst.Module, piece: cst.Module, first: int, last: int) -> bool:
    """Whether the whole new text would get ``module``'s default indent and newline, which
    libcst takes from the file's first indented block and first line ending."""
    if first == 0 and piece.default_newline != module.default_newline:
        return False
    blocked = next((i for i, stmt in enumerate(module.body) if _indents(stmt)), None)
    if blocked is not None and blocked < first:
        return True  # the first block is before the edit
    if any(_indents(stmt) for stmt in piece.body):
        return piece.default_indent == module.default_indent
    return blocked is None or blocked > last  # no block at all, or the same one after the edit


# Judges a re-parsed text before libcst sees it, given the module's future flags.
Accept = Callable[[str, int], bool]
_STRINGS = (cst.SimpleString, cst.ConcatenatedString)


def future_imports(module: cst.Module) -> tuple[int, int]:
    """How many of the module's first statements are its docstring and its
    ``from __future__`` imports, and the compiler flags those imports set. In a text
    CPython compiled they are all of its future imports: they must come first."""
    count = flags = 0
    for at, stmt in enumerate(module.body):
        if type(stmt) is not cst.SimpleStatementLine:
            break
        small = stmt.body
        if at == 0 and len(small) == 1 and type(small[0]) is cst.Expr and isinstance(small[0].value, _STRINGS):
            continue  # the docstring
        if not all(type(s) is cst.ImportFrom and names.dotted(s.module) == "__future__" for s in small):  # type: ignore[attr-defined]
            break
        for s in small:
            for alias in s.names:  # type: ignore[attr-defined, union-attr]  # never `*`: CPython refuses it
                feature = getattr(__future__, alias.name.value, None)  # type: ignore[union-attr]
                flags |= getattr(feature, "compiler_flag", 0)
        count = at + 1
    return count, flags


def _parsed(text: str, accept: Callable[[str], bool] | None) -> cst.Module | None:
    """libcst's tree of ``text``; None when ``accept`` refuses the text or libcst does."""
    if accept is not None and not accept(text):
        return None
    try:
        return parse_module(text)
    except Exception:  # libcst's syntax errors, and its failures on odd input alike
        return None


class Splice(NamedTuple):
    module: cst.Module  # the tree of the new text
    piece: str  # the new text re-parsed: whole top-level statements, or whole statements of one class's block


def reparse(
    module: cst.Module, source: str, positions: Positions, new_source: str, accept: Accept | None = None
) -> Splice | None:
    """``module`` (the tree of ``source``, ``positions`` its spans) updated to the tree
    of ``new_source``, re-parsing only the statements the edit touched; None when that
    cannot be done exactly, or ``accept`` refuses their text (asked before libcst sees it,
    with the module's future flags)."""
    if "\x0c" in source or "\x0c" in new_source or not module.body:
        return None
    prefix = common_prefix(source, new_source)
    suffix = common_suffix(source, new_source, min(len(source), len(new_source)) - prefix)
    touched = _touched(module, positions, prefix, len(source) - suffix, len(source))
    if touched is None:
        return None
    first, last, extents = touched
    futures, flags = future_imports(module) if "__future__" in source else (0, 0)
    if first < futures:
        return None  # the docstring or the future imports: what follows may not compile now
    # A future import typed below them compiles alone (it starts its text), not in the module.
    judge = None if accept is None else lambda text: "__future__" not in text and accept(text, flags)
    if first == last and type(module.body[first]) is cst.ClassDef:
        inside = _reparse_in_class(
            module, first, extents[first][2], positions, source, new_source, prefix, len(source) - suffix, judge
        )
        if inside is not _OUTSIDE:
            return inside  # type: ignore[return-value]
    at_start, at_end = first == 0, last == len(module.body) - 1
    start = 0 if at_start else extents[first][0]
    end = len(source) if at_end else extents[last][2]
    piece = new_source[start : end + len(new_source) - len(source)]
    parsed = _parsed(piece, judge)
    if parsed is None:
        return None
    body = list(parsed.body)
    if not body or (parsed.footer and not at_end) or (not parsed.has_trailing_newline and not at_end):
        return None
    if not _same_defaults(module, parsed, first, last):
        return None
    if not at_start and parsed.header:
        body[0] = body[0].with_changes(leading_lines=(*parsed.header, *body[0].leading_lines))
    changes: dict[str, object] = {"body": (*module.body[:first], *body, *module.body[last + 1 :])}
    if at_start:
        changes.update(header=parsed.header, encoding=parsed.encoding)
    if at_end:
        changes.update(footer=parsed.footer, has_trailing_newline=parsed.has_trailing_newline)
    spliced = module.with_changes(**changes)
    written = cst.Module(
        body=body,
        header=spliced.header if at_start else (),
        footer=spliced.footer if at_end else (),
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        has_trailing_newline=spliced.has_trailing_newline,
    ).code
    return Splice(spliced, piece) if written == piece else None


_OUTSIDE = object()  # not an edit of one class's block that can be re-parsed on its own


def _reparse_in_class(
    module: cst.Module, index: int, class_end: int, positions: Positions, source: str, new_source: str, start: int,
    end: int, accept: Callable[[str], bool] | None,
) -> Splice | None | object:
    """The edit of [start, end) made inside top-level class ``module.body[index]`` (whose
    text ends at ``class_end``), re-parsing only the statements of its block it touched
    (a method, not the whole class: service classes run to thousands of lines); None when
    their text is refused (by ``accept``, or libcst), :data:`_OUTSIDE` when this cannot be
    done exactly.

    The statements are chosen as :func:`_touched` chooses top-level ones (the last only in
    a block without footer lines). They are parsed in a class of their own, after a
    ``pass`` line unless they start the block and before another unless they end it (the
    same indent, newline and neighbours a full parse sees), and used only when they
    generate exactly their text."""
    stmt = module.body[index]
    block = stmt.body  # type: ignore[attr-defined]
    if type(block) is not cst.IndentedBlock or not block.body or (block.indent or module.default_indent) != module.default_indent:
        return _OUTSIDE
    if "\r" in source and source.count("\r") != source.count("\r\n"):
        return _OUTSIDE  # a lone carriage return ends lines the search below does not see
    base, spans = positions.spans_of(stmt)
    if not positions.gives_text_back(stmt):
        return _OUTSIDE  # offsets into its code are not offsets into the text
    inner = block.body
    # Where each statement's text starts: the line of its first leading line, decorator or token.
    starts = [source.rfind("\n", 0, base + spans[first_node(s)][0]) + 1 for s in inner]
    meets = [i for i in range(len(inner)) if (i + 1 == len(inner) or starts[i + 1] > start - 1) and starts[i] < end + 1]
    if not meets:
        return _OUTSIDE
    first, last = meets[0], meets[-1]
    if first > 0 and start <= base + spans[inner[first]][0]:
        first -= 1  # the edit is in its leading lines, which may now close the block before
    if last + 1 < len(inner) and any(line.whitespace.value or line.comment for line in inner[last + 1].leading_lines):
        last += 1  # indented lines above the next one may now belong to the last one's block
    at_end = last + 1 == len(inner)  # the class's text ends the piece: no footer lines to place
    if at_end and block.footer:
        return _OUTSIDE
    region_start, region_end = starts[first], class_end if at_end else starts[last + 1]
    if not region_start <= start <= end <= region_end:
        return _OUTSIDE
    text = new_source[region_start : region_end + len(new_source) - len(source)]
    newline, indent = module.default_newline, module.default_indent
    if not text.endswith(("\n", "\r")):
        return _OUTSIDE
    head = f"class _:{newline}" + (f"{indent}pass{newline}" if first else "")
    tail = "" if at_end else f"{indent}pass{newline}"
    parsed = _parsed(f"{head}{text}{tail}", accept)
    if parsed is None:
        return None
    wrapped = parsed.body[0] if len(parsed.body) == 1 else None
    if (
        type(wrapped) is not cst.ClassDef or type(wrapped.body) is not cst.IndentedBlock or wrapped.body.footer
        or parsed.header or parsed.footer or parsed.default_indent != indent or parsed.default_newline != newline
        or len(wrapped.body.body) < (first > 0) + (not at_end) + 1
    ):
        return _OUTSIDE
    body = wrapped.body.body[(1 if first else 0) : (None if at_end else -1)]
    alone = parsed.with_changes(body=[wrapped.with_changes(body=wrapped.body.with_changes(body=body))])
    if alone.code != f"class _:{newline}{text}":
        return _OUTSIDE  # the statements lean on the lines around them
    replaced = block.with_changes(body=(*inner[:first], *body, *inner[last + 1 :]))
    changes = {"body": (*module.body[:index], stmt.with_changes(body=replaced), *module.body[index + 1 :])}
    return Splice(module.with_changes(**changes), text)
