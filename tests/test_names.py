"""The values of string literals, read without evaluating them where that is certain,
against CPython's own reading of the same text."""

from __future__ import annotations

import ast

import libcst as cst
import pytest

from pitfalls.core.names import string_value

STRINGS = [
    "'abc'",
    '"with \'inner\' quotes"',
    "''",
    '"""a\nb"""',
    "'''a\r\nb'''",  # Python reads the line ending inside as \n
    "'''a\rb'''",
    "r'a\\d'",
    "'tab\\tand \\u00e9'",
    "u'x'",
    "R'x'",
    "'é and ☃'",
    "'a' 'b' \"c\"",
    "'a' r'\\b'",
]


@pytest.mark.parametrize("text", STRINGS)
def test_string_value_is_what_python_reads(text: str) -> None:
    assert string_value(cst.parse_expression(text)) == ast.literal_eval(text)


@pytest.mark.parametrize("text", ["b'x'", "rb'x'", "f'x'", "'a' f'{b}'", "x", "1"])
def test_string_value_is_none_for_anything_but_str_literals(text: str) -> None:
    assert string_value(cst.parse_expression(text)) is None
