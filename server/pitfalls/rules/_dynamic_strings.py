"""Whether an expression is a string built from data (shared by PF105 and PF403).

A string is *built from data* when an f-string placeholder, a ``.format(...)`` argument, a
``%`` operand or a ``+`` operand is a value the code does not spell out: a parameter, a
loop variable, an attribute, a call result. Values that cannot smuggle text in stay
constant: string and number literals, names last assigned one of those, ``int(...)``, a
model's ``__tablename__``, values formatted as numbers (``%d``, ``{n:d}``), and the calls
a rule declares safe (PF105 passes ``shlex.quote``). Plain names are followed to the
value they were last assigned, with the ``name += ...`` seen since (the context keeps
both, and what a name held before ``sql = sql + "..."``).
"""

from __future__ import annotations

import re
from enum import Enum

import libcst as cst

from pitfalls.core import names
from pitfalls.rules.api import Rule, RuleContext

_MAX_DEPTH = 8  # name -> value hops followed
_NUMBER_TYPES = frozenset("bdiouxXeEfFgGn")
# A `%` conversion: mapping key, flags, width, precision, length modifier, type.
_PERCENT_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(.)")


class _Kind(Enum):
    TEXT = "text"  # a string with no data in it
    NUMBER = "number"  # a number: no data can get through as text
    DATA = "data"  # a string built from data
    UNKNOWN = "unknown"  # anything else


_CONSTANT = (_Kind.TEXT, _Kind.NUMBER)
_Expanding = tuple[tuple[str, cst.BaseExpression], ...]


class DynamicStrings:
    """Answers "is this a string built from data?" for one file, from the values the
    context knows. ``safe_calls`` are qualified names of functions whose result may be
    interpolated."""

    def __init__(self, ctx: RuleContext, safe_calls: frozenset[str] = frozenset()) -> None:
        self.ctx = ctx
        self.safe_calls = safe_calls

    def is_built_from_data(self, expr: cst.BaseExpression) -> bool:
        """Whether ``expr`` is a string formatted or concatenated from a non-constant value."""
        return self._kind(expr, ()) is _Kind.DATA

    # `expanding` holds the (name, value) pairs being followed, innermost last: a name met
    # inside its own value means the value it held before, and its length bounds the search.

    def _resolve(self, name: str, expanding: _Expanding) -> cst.BaseExpression | None:
        if len(expanding) >= _MAX_DEPTH:
            return None
        for outer_name, outer_value in reversed(expanding):
            if outer_name == name:
                return self.ctx.previous_value(outer_value, name)
        return self.ctx.value_of(name)

    def _kind(self, expr: cst.BaseExpression, expanding: _Expanding) -> _Kind:
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return self._string_literal_kind(expr, expanding)
        if isinstance(expr, (cst.Integer, cst.Float)):
            return _Kind.NUMBER
        if isinstance(expr, cst.Name):
            return self._name_kind(expr.value, expanding)
        if isinstance(expr, cst.Attribute):
            return _Kind.TEXT if expr.attr.value == "__tablename__" else _Kind.UNKNOWN
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return self._concatenation_kind(expr.left, expr.right, expanding)
            if isinstance(expr.operator, cst.Modulo):
                return self._percent_kind(expr, expanding)
            return _Kind.UNKNOWN
        if isinstance(expr, cst.Call):
            return self._call_kind(expr, expanding)
        if isinstance(expr, cst.NamedExpr):
            return self._kind(expr.value, expanding)
        return _Kind.UNKNOWN

    def _name_kind(self, name: str, expanding: _Expanding) -> _Kind:
        value = self._resolve(name, expanding)
        if value is None:
            return _Kind.UNKNOWN
        kind = self._kind(value, (*expanding, (name, value)))
        for appended in self.ctx.appended(value):
            kind = _concatenation(kind, self._kind(appended, expanding))
        return kind

    def _concatenation_kind(
        self, left: cst.BaseExpression, right: cst.BaseExpression, expanding: _Expanding
    ) -> _Kind:
        return _concatenation(self._kind(left, expanding), self._kind(right, expanding))

    def _string_literal_kind(
        self,
        expr: cst.SimpleString | cst.ConcatenatedString | cst.FormattedString,
        expanding: _Expanding,
    ) -> _Kind:
        if isinstance(expr, cst.SimpleString):
            return _Kind.TEXT
        if isinstance(expr, cst.ConcatenatedString):
            return self._concatenation_kind(expr.left, expr.right, expanding)
        placeholders = [
            part.expression
            for part in expr.parts
            if isinstance(part, cst.FormattedStringExpression) and not _numeric_spec(part)
        ]
        return self._values_kind(placeholders, expanding)

    def _values_kind(self, values: list[cst.BaseExpression], expanding: _Expanding) -> _Kind:
        """The kind of a constant template these values are interpolated into."""
        if all(self._kind(value, expanding) in _CONSTANT for value in values):
            return _Kind.TEXT
        return _Kind.DATA

    def _percent_kind(self, expr: cst.BinaryOperation, expanding: _Expanding) -> _Kind:
        template = self._kind(expr.left, expanding)
        if template is not _Kind.TEXT:
            return _Kind.DATA if template is _Kind.DATA else _Kind.UNKNOWN  # `n % 2`
        if _only_number_conversions(self._literal(expr.left, expanding)):
            return _Kind.TEXT
        right = expr.right
        if isinstance(right, (cst.Tuple, cst.Dict)):
            values = [element.value for element in right.elements]
        else:
            values = [right]
        return self._values_kind(values, expanding)

    def _call_kind(self, call: cst.Call, expanding: _Expanding) -> _Kind:
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            template = self._kind(func.value, expanding)
            if template is _Kind.TEXT:
                return self._values_kind([arg.value for arg in call.args], expanding)
            return _Kind.DATA if template is _Kind.DATA else _Kind.UNKNOWN
        if isinstance(func, (cst.Name, cst.Attribute)):
            qualname = self.ctx.qualified_name(func)
            if qualname in self.safe_calls:
                return _Kind.TEXT
            if qualname == "builtins.int":
                return _Kind.NUMBER
        return _Kind.UNKNOWN

    def _literal(self, expr: cst.BaseExpression, expanding: _Expanding) -> str | None:
        """The text of a string literal, or of the literal a name holds."""
        while isinstance(expr, cst.Name):
            value = self._resolve(expr.value, expanding)
            if value is None or self.ctx.appended(value):
                return None
            expanding = (*expanding, (expr.value, value))
            expr = value
        return names.string_value(expr)


def _concatenation(left: _Kind, right: _Kind) -> _Kind:
    kinds = {left, right}
    if _Kind.DATA in kinds or kinds == {_Kind.TEXT, _Kind.UNKNOWN}:
        return _Kind.DATA
    if _Kind.TEXT in kinds and kinds <= set(_CONSTANT):
        return _Kind.TEXT
    return _Kind.UNKNOWN  # numbers, or two values of unknown type


def _numeric_spec(part: cst.FormattedStringExpression) -> bool:
    """``{n:d}``, ``{price:.2f}``: the value must be a number."""
    spec = part.format_spec or ()
    texts = [piece.value for piece in spec if isinstance(piece, cst.FormattedStringText)]
    return len(texts) == len(spec) and "".join(texts)[-1:] in _NUMBER_TYPES


def _only_number_conversions(template: str | None) -> bool:
    """Whether every ``%`` conversion of the template formats a number (``%d``, ``%.2f``)."""
    if template is None:
        return False
    types = [t for t in _PERCENT_CONVERSION.findall(template) if t != "%"]
    return bool(types) and all(t in _NUMBER_TYPES for t in types)


def first_argument(call: cst.Call, keywords: frozenset[str]) -> cst.BaseExpression | None:
    """The call's first positional argument, or the one passed as one of ``keywords``."""
    for arg in call.args:
        if arg.keyword is None:
            return arg.value if not arg.star else None
        if arg.keyword.value in keywords:
            return arg.value
    return None


class DynamicStringRule(Rule):
    """A rule that asks whether strings were built from data (``self.strings``)."""

    # Calls whose result counts as safe to interpolate (e.g. `shlex.quote` for shells).
    SAFE_CALLS: frozenset[str] = frozenset()

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.strings = DynamicStrings(ctx, self.SAFE_CALLS)
