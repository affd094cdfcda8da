"""A fast, iterative pre-order traversal of a libcst tree.

libcst's own ``Module.visit`` rebuilds every node as it goes and costs about half a parse;
walking the dataclass fields directly costs a few percent. Whitespace and token fields are
skipped (rules read them off the node when they need them), children are visited in source
order, and there is no recursion, so deeply nested expressions cannot overflow the stack.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator, Sequence

import libcst as cst

# Fields that only ever hold whitespace, punctuation or operator tokens.
_TOKEN_FIELDS = frozenset(
    {
        "whitespace_before", "whitespace_after", "whitespace_after_arg", "whitespace_before_colon",
        "whitespace_after_colon", "whitespace_after_star", "whitespace_after_param",
        "whitespace_before_params", "whitespace_after_def", "whitespace_after_class",
        "whitespace_before_args", "whitespace_after_name", "whitespace_before_name",
        "whitespace_after_at", "whitespace_after_import", "whitespace_before_import",
        "whitespace_after_from", "whitespace_after_as", "whitespace_before_as",
        "whitespace_after_in", "whitespace_before_in", "whitespace_after_for",
        "whitespace_after_if", "whitespace_before_if", "whitespace_after_else",
        "whitespace_before_else", "whitespace_after_lambda", "whitespace_after_await",
        "whitespace_after_del", "whitespace_after_global", "whitespace_after_nonlocal",
        "whitespace_after_return", "whitespace_after_yield", "whitespace_after_raise",
        "whitespace_after_assert", "whitespace_after_with", "whitespace_after_async",
        "whitespace_after_case", "whitespace_after_match", "whitespace_after_type",
        "whitespace_after_equal", "whitespace_before_equal", "whitespace_before_walrus",
        "whitespace_after_walrus", "whitespace_before_expression", "whitespace_before_from",
        "whitespace_before_value", "whitespace_after_expression",
        "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "lbracket", "rbracket",
        "lbrace", "rbrace", "newline", "leading_lines", "header", "footer", "indent",
        "trailing_whitespace", "operator", "first_line", "empty_lines", "lines_after_decorators",
        "leading_whitespace", "default_indent", "default_newline", "encoding",
        "has_trailing_newline", "prefix", "start", "end", "star", "asynchronous",
        "posonly_ind", "star_tok", "first_colon", "second_colon",
    }
)

_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(node_type: type) -> tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = tuple(
            f.name for f in dataclasses.fields(node_type) if f.name not in _TOKEN_FIELDS
        )
        _FIELDS[node_type] = fields
    return fields


_NODE_TYPES: dict[type, bool] = {}


def _is_node_type(value_type: type) -> bool:
    # CSTNode is an ABC: isinstance() on it is slow, and this runs for every field.
    known = _NODE_TYPES.get(value_type)
    if known is None:
        known = _NODE_TYPES[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's syntactic children, in source order."""
    out: list[cst.CSTNode] = []
    for name in child_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for item in value:
                if _is_node_type(type(item)):
                    out.append(item)
        elif _is_node_type(value_type):
            out.append(value)
    return out


def iter_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node below and including ``root``, pre-order, source order."""
    stack = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        yield node
        kids = children(node)
        kids.reverse()
        extend(kids)


def iter_statements(block: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements nested anywhere in ``block``, never entering expressions: compound
    statements, and the lines (or one-line suites, ``if x: y()``) of simple ones. Imports
    and calls-as-statements are found at a fraction of a full walk."""
    stack: list[cst.CSTNode] = [block]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield node
            continue
        if isinstance(node, cst.BaseCompoundStatement):
            yield node
        body = getattr(node, "body", None)
        nested: list[cst.CSTNode] = []
        if isinstance(body, (tuple, list)):
            nested.extend(body)
        elif isinstance(body, cst.CSTNode):
            nested.append(body)
        for name in ("orelse", "handlers", "finalbody", "cases"):
            extra = getattr(node, name, None)
            if isinstance(extra, (tuple, list)):
                nested.extend(extra)
            elif isinstance(extra, cst.CSTNode):
                nested.append(extra)
        nested.reverse()
        stack.extend(nested)


def module_level_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements that run at module level, in source order: through ``if``, ``try``,
    ``with``, loops, never into a ``def`` or ``class`` body."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or not isinstance(stmt, cst.BaseCompoundStatement):
            continue
        nested: list[cst.CSTNode] = list(_block(stmt.body))
        orelse = getattr(stmt, "orelse", None)
        if isinstance(orelse, cst.If):  # elif: a statement of its own
            nested.append(orelse)
        elif orelse is not None:
            nested.extend(_block(orelse.body))
        for handler in getattr(stmt, "handlers", ()):
            nested.extend(_block(handler.body))
        finalbody = getattr(stmt, "finalbody", None)
        if finalbody is not None:
            nested.extend(_block(finalbody.body))
        stack.extend(reversed(nested))


def _block(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """A block's statements (a one-line suite's are simple statements, not lines)."""
    return suite.body if isinstance(suite, cst.IndentedBlock) else ()


_LEAVE = object()

Handler = Callable[[cst.CSTNode], object]


def walk(
    root: cst.CSTNode,
    on_enter: dict[type, list[Handler]],
    on_leave: dict[type, list[Handler]],
) -> None:
    """Call the handlers registered for each node type on entry and on exit.

    An entry handler returning ``False`` prunes that node's children (its leave handlers
    still run), as in libcst's visitors.
    """
    stack: list[object] = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _LEAVE:
            left = pop()
            for handler in on_leave[type(left)]:  # type: ignore[index]
                handler(left)  # type: ignore[arg-type]
            continue
        node_type = type(node)
        descend = True
        for handler in on_enter.get(node_type, ()):
            if handler(node) is False:  # type: ignore[arg-type]
                descend = False
        if node_type in on_leave:
            push(node)
            push(_LEAVE)
        if descend:
            kids = children(node)  # type: ignore[arg-type]
            kids.reverse()
            stack.extend(kids)
