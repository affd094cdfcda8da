"""The syntactic walk (what the rules and summaries see) is the full walk without
whitespace and punctuation: nothing more is skipped, nothing of those is met."""

from __future__ import annotations

import collections
import textwrap

import libcst as cst
from pitfalls.core.walker import iter_nodes

# A field of each kind that holds only whitespace (a type's parameters, a call's
# parenthesis, an annotation's colon and arrow, `except*`, `while`, `match` patterns...).
SOURCE = textwrap.dedent(
    """\
    import os
    from typing import Generic


    def f[T](x: T, /, *args: int, key: str = "k", **kw: int) -> T:
        return print (x)  # a space before the call's parenthesis


    class C[T] (Generic[T]):
        value: int = 1


    async def g() -> None:
        while (x := await h()) :
            lambda  a, b = 1: a
        try:
            pass
        except* ValueError as exc:
            raise
        match x:
            case [1, *rest] if rest:
                pass
            case {"k": v, **others}:
                pass
            case C(value=1) | None:
                pass
        d = os.environ ["HOME"]; del d
        assert x, "message"
    """
)

TOKENS = frozenset(
    {
        cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.Newline, cst.Comment,
        cst.EmptyLine, cst.Comma, cst.AssignEqual, cst.ParamSlash, cst.LeftSquareBracket, cst.RightSquareBracket,
        cst.LeftParen, cst.RightParen, cst.Colon, cst.LeftCurlyBrace, cst.RightCurlyBrace, cst.Dot,
        cst.Asynchronous, cst.Semicolon,
    }
)


def test_the_syntactic_walk_is_the_full_walk_without_tokens() -> None:
    module = cst.parse_module(SOURCE)
    syntactic = list(iter_nodes(module))
    every = list(iter_nodes(module, tokens=True))
    met = collections.Counter(type(node) for node in syntactic)
    for node_type, count in collections.Counter(type(node) for node in every).items():
        assert met[node_type] == (0 if node_type in TOKENS else count), node_type.__name__
    # In the same order: the syntactic walk is a subsequence of the full one.
    position = {id(node): i for i, node in enumerate(every)}
    order = [position[id(node)] for node in syntactic]
    assert order == sorted(order)
