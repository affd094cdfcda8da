"""Reads of environment variables: `os.getenv("X")`, `os.environ.get("X")`, `os.environ["X"]`."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.semantic import Semantic

_GETTERS = frozenset({"os.getenv", "os.environ.get"})


@dataclass(frozen=True)
class EnvRead:
    name: str  # the variable
    default: cst.BaseExpression | None  # the default argument, when given


def literal(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal (not an f-string, not concatenated)."""
    if isinstance(expr, cst.SimpleString):
        value = names.evaluated(expr)
        return value if isinstance(value, str) else None
    return None


def env_read(ctx: Semantic, node: cst.BaseExpression) -> EnvRead | None:
    """The environment read ``node`` is: a getter call with a literal name (with its
    default, if any); None for anything else."""
    if not isinstance(node, cst.Call) or ctx.qualified_name(node.func) not in _GETTERS:
        return None
    positional = [a for a in node.args if a.keyword is None and a.star == ""]
    if not positional or any(a.star for a in node.args):
        return None
    name = literal(positional[0].value)
    if name is None:
        return None
    default = positional[1].value if len(positional) > 1 else None
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "default":
            default = arg.value
    return EnvRead(name, default)


def environ_item(ctx: Semantic, node: cst.Subscript) -> str | None:
    """``X`` of ``os.environ["X"]``."""
    if ctx.qualified_name(node.value) != "os.environ" or len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    return literal(index.value) if isinstance(index, cst.Index) else None


def truth_operands(expr: cst.BaseExpression, walked: set[int]) -> list[cst.BaseExpression]:
    """The expressions whose truth value decides ``expr``'s when ``expr`` is tested:
    through `and`, `or`, `not` and parentheses, left to right. The ids of the `and`, `or`
    and `not` nodes walked through go into ``walked``: a visitor of each of them skips
    those, or a chain of n `and` costs n squared."""
    found: list[cst.BaseExpression] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.BooleanOperation:
            stack += (node.right, node.left)
        elif type(node) is cst.UnaryOperation and type(node.operator) is cst.Not:
            stack.append(node.expression)
        else:
            found.append(node)
            continue
        walked.add(id(node))
    return found
