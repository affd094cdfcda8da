"""What ``ast`` does not keep of the text, read back from the source: where string literals
written side by side begin and end, an f-string's texts as written, and whether a sequence
pattern is in parentheses.

libcst keeps them as written; the ast tree (see ``ast_tree``) must give the same.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterator


class Unconvertible(Exception):
    """Syntax this conversion does not build: libcst parses the file."""


def texts_as_written(literal: str) -> Iterator[str]:
    """The texts of f-string ``literal`` as written, in order (a format spec's in its
    place), without the expressions: what ast gives as the texts' values."""
    body = literal.lstrip("rRfF")
    quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
    body = body[len(quote):len(body) - len(quote)]
    texts: list[str] = []
    _scan_texts(body, 0, texts, in_spec=False)
    return iter(texts)


def _scan_texts(body: str, i: int, texts: list[str], *, in_spec: bool) -> int:
    """Add the texts from ``i`` on to ``texts``; where the body (or the spec) ends."""
    start = i
    while i < len(body):
        char = body[i]
        if char == "{" and not in_spec and body.startswith("{{", i):
            i += 2
        elif char == "{":
            if i > start:
                texts.append(body[start:i])
            i = start = _scan_field(body, i + 1, texts)
        elif char == "}" and in_spec:
            break
        elif char == "}":
            if not body.startswith("}}", i):
                raise Unconvertible("f-string")
            i += 2
        else:
            i += 1
    if i > start:
        texts.append(body[start:i])
    return i


def _scan_field(body: str, i: int, texts: list[str]) -> int:
    """Skip a replacement field's expression (from after its ``{``), adding its format
    spec's texts; where the field ends (after its ``}``)."""
    depth = 0
    while i < len(body):
        char = body[i]
        if char in "'\"":
            quote = body[i:i + 3] if body.startswith(char * 3, i) else char
            end = body.find(quote, i + len(quote))
            if end < 0:
                raise Unconvertible("f-string")
            i = end + len(quote)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return i + 1
            depth -= 1
        elif depth == 0 and char == "=" and body[i - 1] not in "=!<>" and body[i + 1:].lstrip()[:1] in ("}", "!", ":"):
            raise Unconvertible("f-string")  # `{x=}`: ast spells it as a text and a value
        elif depth == 0 and char == "!" and body[i + 1:i + 2] != "=":
            i += 2  # the conversion
            continue
        elif depth == 0 and char == ":":
            i = _scan_texts(body, i + 1, texts, in_spec=True)
            if body[i:i + 1] != "}":
                raise Unconvertible("f-string")
            return i + 1
        i += 1
    raise Unconvertible("f-string")


def literals(text: str) -> list[str]:
    """The string literals written side by side in ``text`` (an f-string is one token
    before Python 3.12, several from it: its text runs from the first to the last)."""
    starts = [0]
    for line in io.StringIO(text):
        starts.append(starts[-1] + len(line))
    parts, opened, depth = [], 0, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == _FSTRING_START:
                if depth == 0:
                    opened = starts[token.start[0] - 1] + token.start[1]
                depth += 1
            elif token.type == _FSTRING_END:
                depth -= 1
                if depth == 0:
                    parts.append(text[opened:starts[token.end[0] - 1] + token.end[1]])
            elif depth:
                continue  # inside an f-string
            elif token.type == tokenize.STRING:
                parts.append(token.string)
            elif token.type not in _BETWEEN_LITERALS:
                raise Unconvertible("strings")
    except (tokenize.TokenError, SyntaxError) as exc:
        raise Unconvertible("strings") from exc
    if len(parts) < 2:
        raise Unconvertible("strings")
    return parts


_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python >= 3.12
_FSTRING_END = getattr(tokenize, "FSTRING_END", None)
_BETWEEN_LITERALS = frozenset({
    tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
})


def parenthesized(text: str) -> bool:
    """Whether sequence pattern ``text`` is in parentheses (``(a, b)``), not a sequence
    without brackets whose first item starts with one (``(a), b``)."""
    if not text.startswith("("):
        return False
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.OP:
                continue
            if depth == 0 and token.start != (1, 0):
                return False  # after the first item's closing parenthesis
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError) as exc:
        raise Unconvertible("pattern") from exc
    return True
