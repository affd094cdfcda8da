"""A fast, iterative pre-order traversal of a libcst tree.

libcst's own ``Module.visit`` rebuilds every node as it goes and costs about half a parse;
walking the dataclass fields directly costs a few percent. Whitespace and token fields are
skipped (rules read them off the node when they need them), children are visited in source
order, and there is no recursion, so deeply nested expressions cannot overflow the stack.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
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
        "whitespace_before_value", "whitespace_after_expression", "whitespace_after_type_parameters",
        "whitespace_after_func", "whitespace_before_indicator", "whitespace_after_indicator",
        "whitespace_after_cls", "whitespace_after_equals", "whitespace_after_except",
        "whitespace_after_kwds", "whitespace_after_lazy", "whitespace_after_test",
        "whitespace_after_value", "whitespace_after_while", "whitespace_before_patterns",
        "whitespace_before_rest", "whitespace_before_test", "whitespace_between",
        "lpar", "rpar", "comma", "semicolon", "colon", "equal", "dot", "lbracket", "rbracket",
        "lbrace", "rbrace", "newline", "leading_lines", "header", "footer", "indent",
        "trailing_whitespace", "operator", "first_line", "empty_lines", "lines_after_decorators",
        "leading_whitespace", "default_indent", "default_newline", "encoding",
        "has_trailing_newline", "prefix", "start", "end", "star", "asynchronous",
        "posonly_ind", "star_tok", "first_colon", "second_colon",
    }
)


def _child_fields(node_type: type, tokens: bool) -> tuple[str, ...]:
    """The fields of ``node_type`` that can hold nodes (not text: ``Name.value``); without
    ``tokens``, not those of whitespace and punctuation either."""
    return tuple(
        f.name for f in dataclasses.fields(node_type)
        if f.type not in (str, "str") and (tokens or f.name not in _TOKEN_FIELDS)
    )


Getter = Callable[[cst.CSTNode], tuple[object, ...]]
# Per node type: one C call that reads all its child fields as a tuple.
_GETTERS: dict[type, Getter] = {}
_TOKEN_GETTERS: dict[type, Getter] = {}  # tokens and whitespace included
# What each value type met in a child field is. CSTNode is an ABC: isinstance() on it is
# slow, and this runs for every field.
_NODES: set[type] = set()
_OTHERS: set[type] = {type(None), str, bool, tuple, list}
# The node types with no syntactic children (``Name``, the literals), as met: a walk need
# not ask for theirs (about a third of a module's nodes).
LEAVES: set[type] = set()


def _getter(node_type: type, tokens: bool = False) -> Getter:
    fields = _child_fields(node_type, tokens)
    if len(fields) == 1:  # attrgetter of one name returns the value, not a tuple
        one = attrgetter(fields[0])

        def getter(node: cst.CSTNode) -> tuple[object, ...]:
            return (one(node),)
    else:
        getter = attrgetter(*fields) if fields else _no_fields  # type: ignore[assignment]
        if not fields and not tokens:
            LEAVES.add(node_type)
    (_TOKEN_GETTERS if tokens else _GETTERS)[node_type] = getter
    return getter


def _no_fields(node: cst.CSTNode) -> tuple[object, ...]:
    return ()


def _is_node(value_type: type) -> bool:
    if value_type in _NODES:
        return True
    if value_type in _OTHERS:
        return False
    (_NODES if issubclass(value_type, cst.CSTNode) else _OTHERS).add(value_type)
    return value_type in _NODES


def _nodes_in(values: tuple[object, ...]) -> list[cst.CSTNode]:
    """The nodes among field values, sequences flattened, in order."""
    nodes = _NODES
    out: list[cst.CSTNode] = []
    for value in values:
        value_type = type(value)
        if value_type in nodes:
            out.append(value)  # type: ignore[arg-type]
        elif value_type is tuple or value_type is list:
            out.extend(item for item in value if type(item) in nodes or _is_node(type(item)))  # type: ignore[attr-defined]
        elif _is_node(value_type):
            out.append(value)  # type: ignore[arg-type]
    return out


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's syntactic children, in source order."""
    node_type = type(node)
    return _nodes_in((_GETTERS.get(node_type) or _getter(node_type))(node))


def children_reversed(node: cst.CSTNode) -> list[cst.CSTNode]:
    """:func:`children`, last first: what a pre-order walk pushes on its stack."""
    kids = children(node)
    kids.reverse()
    return kids


def _every_child_reversed(node: cst.CSTNode) -> list[cst.CSTNode]:
    """All the node's children, whitespace and punctuation included, last first."""
    node_type = type(node)
    kids = _nodes_in((_TOKEN_GETTERS.get(node_type) or _getter(node_type, tokens=True))(node))
    kids.reverse()
    return kids


def iter_nodes(root: cst.CSTNode, *, tokens: bool = False) -> Iterator[cst.CSTNode]:
    """Every node below and including ``root``, pre-order, source order; with ``tokens``,
    whitespace and punctuation too (every node code generation visits)."""
    kids_of = _every_child_reversed if tokens else children_reversed
    leaves = () if tokens else LEAVES  # a syntactic leaf may still hold whitespace and brackets
    stack = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        yield node
        if type(node) not in leaves:
            extend(kids_of(node))


def iter_statements(block: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Statements nested anywhere in ``block``, never entering expressions: compound
    statements, and the lines (or one-line suites, ``if x: y()``) of simple ones. Imports
    and calls-as-statements are found at a fraction of a full walk."""
    stack: list[cst.CSTNode] = [block]
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type is cst.SimpleStatementLine or node_type is cst.SimpleStatementSuite:
            yield node
            continue
        if is_kind(node_type, cst.BaseCompoundStatement):
            yield node
        nested: list[cst.CSTNode] = []
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            value = getattr(node, name, None)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                nested.extend(value)  # type: ignore[arg-type]
            elif _is_node(value_type):
                nested.append(value)  # type: ignore[arg-type]
        nested.reverse()
        stack.extend(nested)


_KINDS: dict[tuple[type, type], bool] = {}


def is_kind(node_type: type, base: type) -> bool:
    """``issubclass(node_type, base)``, remembered: ``isinstance`` with libcst's classes
    goes through their ABC's slow check whenever the answer is not the class itself."""
    known = _KINDS.get((node_type, base))
    if known is None:
        known = _KINDS[node_type, base] = issubclass(node_type, base)
    return known


def module_level_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements that run at module level, in source order: through ``if``, ``try``,
    ``with``, loops, never into a ``def`` or ``class`` body."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        stmt_type = type(stmt)
        if stmt_type is cst.FunctionDef or stmt_type is cst.ClassDef or not is_kind(stmt_type, cst.BaseCompoundStatement):
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
