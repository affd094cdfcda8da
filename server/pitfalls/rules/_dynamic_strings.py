"""Whether an expression is a string built from data (shared by PF105 and PF403).

A string is *built from data* when an f-string placeholder, a ``.format(...)`` argument, a
``%`` operand or a ``+`` operand carries data into it. Each interpolated value is followed
to where it comes from:

- constant: string and number literals, names last assigned one of those, ``int(...)``,
  ``len(...)``, a model's ``__tablename__``, values formatted as numbers (``%d``,
  ``{n:d}``), ``sep.join(...)`` of constants (a literal collection, a name assigned one, the
  keys of a dict literal, a comprehension over those), the calls a rule declares safe
  (PF105 passes ``shlex.quote``), and parameters annotated as numbers (``int``, ``UUID``,
  ``datetime``...) or ``Literal[...]``;
- known data: a parameter of the enclosing ``def`` (not ``self``/``cls``) that is
  unannotated or annotated ``str`` (or a collection of them), a field of a parameter
  annotated as a pydantic model, what a parameter annotated as a request holds
  (``request.query_params[...]``), and string methods, ``str()`` and joins of those;
- unknown: anything else (attributes of other objects, call results, loop variables).

Plain names are followed to the value they were last assigned, with the ``name += ...``
seen since (the context keeps both, and what a name held before ``sql = sql + "..."``).
A *lenient* caller (PF105) counts unknown values as data; a *strict* one (PF403) reports
only known data, and may say which parameters are vetted (checked by the function, say)
and where a placeholder stands for code rather than a value (a whole SQL statement).
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Callable

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import FieldInfo
from pitfalls.rules.api import Rule, RuleContext

_MAX_DEPTH = 8  # name -> value hops followed
_NUMBER_TYPES = frozenset("bdiouxXeEfFgGn")
# A `%` conversion: mapping key, flags, width, precision, length modifier, type.
_PERCENT_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(.)")
# String methods whose result carries their receiver's data (`replace` may escape it).
_STRING_METHODS = frozenset(
    {
        "lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "casefold",
        "removeprefix", "removesuffix", "swapcase",
    }
)
_NUMBER_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.len", "builtins.round", "builtins.abs"})
_COLLECTION_CALLS = frozenset(
    {"builtins.sorted", "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset"}
)
# Annotations: values that cannot carry text, and values that are text.
_NUMBER_ANNOTATIONS = frozenset(
    {
        "builtins.int", "builtins.float", "builtins.bool", "builtins.complex", "decimal.Decimal",
        "uuid.UUID", "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
    }
)
_TEXT_ANNOTATIONS = frozenset({"builtins.str", "typing.Any", "typing.AnyStr", "pydantic.constr"})
_TUPLES = frozenset({"tuple", "Tuple"})
_MAPPINGS = frozenset({"dict", "Dict", "Mapping", "MutableMapping"})
# What a web request carries from the client, and the objects that hold it.
_REQUEST_TYPES = frozenset(
    {
        "fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request",
        "fastapi.WebSocket", "fastapi.websockets.WebSocket", "starlette.websockets.WebSocket",
    }
)
_REQUEST_DATA = frozenset({"query_params", "path_params", "headers", "cookies"})


class _Kind(Enum):
    TEXT = "text"  # a string with no data in it
    NUMBER = "number"  # a number: no data can get through as text
    BUILT = "built"  # a string built (formatted, concatenated) from data
    DATA = "data"  # a value known to carry data: a parameter, a request field
    UNKNOWN = "unknown"  # anything else


_CONSTANT = (_Kind.TEXT, _Kind.NUMBER)
_CARRIES_DATA = (_Kind.BUILT, _Kind.DATA)
# (name, value) pairs being followed, innermost last: a name met inside its own value means
# the value it held before, and the length bounds the search. A comprehension's own
# variables are bound to the kind of what they iterate over.
_Expanding = tuple[tuple[str, "cst.BaseExpression | _Kind"], ...]


class DynamicStrings:
    """Answers "is this a string built from data?" for one file, from the values the
    context knows. ``safe_calls`` are qualified names of functions whose result may be
    interpolated; ``strict``: only values known to carry data count (else unknown ones
    do too); ``vetted(name)``: whether a parameter is known not to carry data here (the
    function checked it, say; strict rules); ``code_slot(text before, at start)``: whether
    an f-string placeholder after that text stands where the string takes code (a whole
    SQL statement), not a value."""

    def __init__(
        self,
        ctx: RuleContext,
        safe_calls: frozenset[str] = frozenset(),
        *,
        strict: bool = False,
        vetted: Callable[[str], bool] | None = None,
        code_slot: Callable[[str, bool], bool] | None = None,
    ) -> None:
        self.ctx = ctx
        self.safe_calls = safe_calls
        self.strict = strict
        self.vetted = vetted
        self.code_slot = code_slot

    def is_built_from_data(self, expr: cst.BaseExpression) -> bool:
        """Whether ``expr`` is a string formatted or concatenated from data."""
        return self._kind(expr, (), start=True) is _Kind.BUILT

    def _resolve(self, name: str, expanding: _Expanding) -> cst.BaseExpression | None:
        if len(expanding) >= _MAX_DEPTH:
            return None
        for outer_name, outer_value in reversed(expanding):
            if outer_name == name and not isinstance(outer_value, _Kind):
                return self.ctx.previous_value(outer_value, name)
        return self.ctx.value_of(name)

    def _kind(self, expr: cst.BaseExpression, expanding: _Expanding, *, start: bool = False) -> _Kind:
        """``start``: the value begins the string the rule checks."""
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return self._string_literal_kind(expr, expanding, start=start)
        if isinstance(expr, (cst.Integer, cst.Float)):
            return _Kind.NUMBER
        if isinstance(expr, cst.Name):
            return self._name_kind(expr.value, expanding, start=start)
        if isinstance(expr, cst.Attribute) and expr.attr.value == "__tablename__":
            return _Kind.TEXT
        if isinstance(expr, cst.Attribute) and self.ctx.attribute_values(expr):
            return self._combine([_literal_kind(value) for value in self.ctx.attribute_values(expr)])
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            return self._held_kind(expr)
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                left = self._kind(expr.left, expanding, start=start)
                return self._concatenation(left, self._kind(expr.right, expanding))
            if isinstance(expr.operator, cst.Modulo):
                return self._percent_kind(expr, expanding)
            return _Kind.UNKNOWN
        if isinstance(expr, cst.Call):
            return self._call_kind(expr, expanding)
        if isinstance(expr, cst.NamedExpr):
            return self._kind(expr.value, expanding, start=start)
        if isinstance(expr, cst.IfExp):
            branches = (expr.body, expr.orelse)
            return self._combine([self._kind(branch, expanding, start=start) for branch in branches])
        return _Kind.UNKNOWN

    def _name_kind(self, name: str, expanding: _Expanding, *, start: bool = False) -> _Kind:
        for outer_name, outer_value in reversed(expanding):
            if outer_name == name and isinstance(outer_value, _Kind):
                return outer_value  # a comprehension's variable
        value = self._resolve(name, expanding)
        if value is None:
            return self._parameter_kind(name, element=False)
        kind = self._kind(value, (*expanding, (name, value)), start=start)
        for appended in self.ctx.appended(value):
            kind = self._concatenation(kind, self._kind(appended, expanding))
        return kind

    # -- where a value comes from ------------------------------------------------------

    def _parameter_annotation(self, name: str) -> tuple[bool, cst.BaseExpression | None]:
        """Whether ``name`` (whose value is unknown) is a parameter that may carry data,
        and its annotation."""
        param = self.ctx.parameter(name)
        if param is None or name in ("self", "cls"):
            return False, None
        method = self.ctx.enclosing_method()
        function = self.ctx.function
        if method is not None and function is not None and function.params.params:
            static = any(names.dotted(d.decorator) == "staticmethod" for d in function.decorators)
            if not static and function.params.params[0] is param:
                return False, None  # `self` by another name
        if self.strict and self.vetted is not None and self.vetted(name):
            return False, None
        return True, param.annotation.annotation if param.annotation is not None else None

    def _parameter_kind(self, name: str, *, element: bool) -> _Kind:
        """A parameter's kind (``element``: of the items it holds)."""
        carries, annotation = self._parameter_annotation(name)
        if not carries:
            return _Kind.UNKNOWN
        if annotation is None:
            return _Kind.DATA
        return self._annotation_kind(annotation, self.ctx.qualified_name, element=element)

    def _annotation_kind(
        self,
        annotation: cst.BaseExpression,
        qualify: Callable[[cst.BaseExpression], str | None],
        *,
        element: bool = False,
    ) -> _Kind:
        """The kind of a value so annotated (``element``: of the items it holds)."""
        members = names.union_members(annotation)
        if not members:
            return _Kind.UNKNOWN
        kinds = []
        for member in members:
            if isinstance(member, cst.Subscript):
                head = (names.dotted(member.value) or "").rpartition(".")[2]
                args = [e.slice.value for e in member.slice if isinstance(e.slice, cst.Index)]
                if head == "Literal":
                    kinds.append(_Kind.TEXT)
                elif element and args and (head in names.ITERABLES or head in _TUPLES or head in _MAPPINGS):
                    kinds.append(self._annotation_kind(args[-1] if head in _MAPPINGS else args[0], qualify))
                else:
                    kinds.append(_Kind.UNKNOWN)
                continue
            qualname = qualify(member) if isinstance(member, (cst.Name, cst.Attribute)) else None
            if qualname in _NUMBER_ANNOTATIONS:
                kinds.append(_Kind.NUMBER)
            elif qualname in _TEXT_ANNOTATIONS:
                kinds.append(_Kind.DATA)
            else:
                kinds.append(_Kind.UNKNOWN)
        return self._combine(kinds)

    def _held_kind(self, expr: cst.Attribute | cst.Subscript | cst.Call) -> _Kind:
        """``param.field`` of a pydantic model, ``param[i]`` of a collection of strings,
        ``request.query_params[...]`` (``.get(...)``) of a request."""
        chain = []
        root: cst.BaseExpression = expr
        while isinstance(root, (cst.Attribute, cst.Subscript, cst.Call)):
            chain.append(root)
            root = root.func if isinstance(root, cst.Call) else root.value
        if not isinstance(root, cst.Name) or self.ctx.value_of(root.value) is not None:
            return _Kind.UNKNOWN
        carries, annotation = self._parameter_annotation(root.value)
        if not carries or annotation is None:
            return _Kind.UNKNOWN
        first = chain[-1]
        if isinstance(first, cst.Subscript):
            if len(chain) > 1:
                return _Kind.UNKNOWN
            return self._annotation_kind(annotation, self.ctx.qualified_name, element=True)
        annotated = names.annotated_type(annotation)
        qualname = self.ctx.qualified_name(annotated) if annotated is not None else None
        if qualname is None or not isinstance(first, cst.Attribute):
            return _Kind.UNKNOWN
        if qualname in _REQUEST_TYPES:
            return _Kind.DATA if first.attr.value in _REQUEST_DATA and len(chain) > 1 else _Kind.UNKNOWN
        if len(chain) == 1 and self.ctx.index.is_pydantic_model(qualname):
            field = self.ctx.index.find_field(qualname, first.attr.value)
            if field is not None:
                return self._field_kind(field)
        return _Kind.UNKNOWN

    def _field_kind(self, field: FieldInfo) -> _Kind:
        """A pydantic model field's kind, from its annotation (names as its module sees them)."""
        try:
            annotation = cst.parse_expression(field.annotation)
        except cst.ParserSyntaxError:
            return _Kind.UNKNOWN
        qualified = dict(zip(names.names_in_annotation(annotation), field.annotation_names))
        return self._annotation_kind(annotation, lambda expr: qualified.get(names.dotted(expr) or ""))

    # -- combining ------------------------------------------------------------------------

    def _combine(self, kinds: list[_Kind]) -> _Kind:
        """The kind of a value made of values of these kinds (one of them, or all)."""
        if _Kind.BUILT in kinds:
            return _Kind.BUILT
        if _Kind.DATA in kinds:
            return _Kind.DATA
        if all(kind in _CONSTANT for kind in kinds):
            return _Kind.TEXT if _Kind.TEXT in kinds else _Kind.NUMBER
        return _Kind.UNKNOWN

    def _concatenation(self, left: _Kind, right: _Kind) -> _Kind:
        kinds = {left, right}
        if _Kind.BUILT in kinds:
            return _Kind.BUILT
        if _Kind.DATA in kinds:
            # data with text (or a value of unknown type: the statement is a string)
            return _Kind.DATA if kinds <= {_Kind.DATA, _Kind.NUMBER} else _Kind.BUILT
        if kinds == {_Kind.TEXT, _Kind.UNKNOWN}:
            return _Kind.UNKNOWN if self.strict else _Kind.BUILT
        if _Kind.TEXT in kinds and kinds <= set(_CONSTANT):
            return _Kind.TEXT
        return _Kind.UNKNOWN  # numbers, or two values of unknown type

    def _values_kind(
        self, values: list[cst.BaseExpression], expanding: _Expanding, code: list[bool] | None = None
    ) -> _Kind:
        """The kind of a constant template these values are interpolated into; ``code``:
        which of them stand where the template takes code (a value known to carry data
        there is code the caller wrote, not data)."""
        kinds = [self._kind(value, expanding) for value in values]
        if code is not None:
            kinds = [_Kind.UNKNOWN if in_code and kind is _Kind.DATA else kind for kind, in_code in zip(kinds, code)]
        if any(kind in _CARRIES_DATA for kind in kinds):
            return _Kind.BUILT
        if all(kind in _CONSTANT for kind in kinds):
            return _Kind.TEXT
        return _Kind.UNKNOWN if self.strict else _Kind.BUILT

    def _string_literal_kind(
        self,
        expr: cst.SimpleString | cst.ConcatenatedString | cst.FormattedString,
        expanding: _Expanding,
        *,
        start: bool = False,
    ) -> _Kind:
        if isinstance(expr, cst.SimpleString):
            return _Kind.TEXT
        if isinstance(expr, cst.ConcatenatedString):
            left = self._kind(expr.left, expanding, start=start)
            return self._concatenation(left, self._kind(expr.right, expanding))
        placeholders, code, before = [], [], ""
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                before += part.value
            elif not _numeric_spec(part):
                placeholders.append(part.expression)
                code.append(self.code_slot is not None and self.code_slot(before, start))
        return self._values_kind(placeholders, expanding, code)

    def _percent_kind(self, expr: cst.BinaryOperation, expanding: _Expanding) -> _Kind:
        template = self._kind(expr.left, expanding)
        if template is not _Kind.TEXT:
            return _Kind.BUILT if template is _Kind.BUILT else _Kind.UNKNOWN  # `n % 2`
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
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method == "format":
                template = self._kind(func.value, expanding)
                if template is _Kind.TEXT:
                    return self._values_kind([arg.value for arg in call.args], expanding)
                return _Kind.BUILT if template is _Kind.BUILT else _Kind.UNKNOWN
            if method == "join" and len(call.args) == 1:
                separator = self._kind(func.value, expanding)
                if separator is _Kind.TEXT:
                    return self._combine([_Kind.TEXT, self._elements_kind(call.args[0].value, expanding)])
                return _Kind.UNKNOWN
            if method in _STRING_METHODS:
                receiver = self._kind(func.value, expanding)
                return receiver if receiver in (_Kind.TEXT, *_CARRIES_DATA) else _Kind.UNKNOWN
        if isinstance(func, (cst.Name, cst.Attribute)):
            qualname = self.ctx.qualified_name(func)
            if qualname in self.safe_calls:
                return _Kind.TEXT
            if qualname in _NUMBER_CALLS:
                return _Kind.NUMBER
            if qualname == "builtins.str" and len(call.args) == 1:
                return self._kind(call.args[0].value, expanding)
        if isinstance(func, cst.Attribute) and func.attr.value == "get":
            return self._held_kind(call)  # request.query_params.get(...)
        return _Kind.UNKNOWN

    def _elements_kind(self, expr: cst.BaseExpression, expanding: _Expanding) -> _Kind:
        """The kind of the items of an iterable."""
        if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
            return self._combine([self._kind(e.value, expanding) for e in expr.elements])
        if isinstance(expr, cst.Name):
            value = self._resolve(expr.value, expanding)
            if value is None:
                return self._parameter_kind(expr.value, element=True)
            return self._elements_kind(value, (*expanding, (expr.value, value)))
        if isinstance(expr, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self._comprehension_kind(expr, expanding)
        if isinstance(expr, cst.Call):
            func = expr.func
            if isinstance(func, cst.Attribute) and func.attr.value in ("keys", "values") and not expr.args:
                mapping = self._mapping(func.value, expanding)
                if mapping is None:
                    return _Kind.UNKNOWN
                pairs = [e for e in mapping.elements if isinstance(e, cst.DictElement)]
                if len(pairs) != len(mapping.elements):
                    return _Kind.UNKNOWN
                parts = [p.key if func.attr.value == "keys" else p.value for p in pairs]
                return self._combine([self._kind(part, expanding) for part in parts])
            qualname = self.ctx.qualified_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
            if qualname in _COLLECTION_CALLS and len(expr.args) == 1:
                return self._elements_kind(expr.args[0].value, expanding)
            if qualname == "builtins.range":
                return _Kind.NUMBER
        return _Kind.UNKNOWN

    def _mapping(self, expr: cst.BaseExpression, expanding: _Expanding) -> cst.Dict | None:
        """The dict literal ``expr`` is, or the one a name was last assigned."""
        for _ in range(_MAX_DEPTH):
            if isinstance(expr, cst.Dict):
                return expr
            if not isinstance(expr, cst.Name):
                return None
            value = self._resolve(expr.value, expanding)
            if value is None:
                return None
            expanding = (*expanding, (expr.value, value))
            expr = value
        return None

    def _comprehension_kind(
        self, expr: cst.GeneratorExp | cst.ListComp | cst.SetComp, expanding: _Expanding
    ) -> _Kind:
        """The kind of a comprehension's items, its variables bound to what they iterate over."""
        bound = expanding
        clause: cst.CompFor | None = expr.for_in
        while clause is not None:
            iterated = self._elements_kind(clause.iter, bound)
            targets = [clause.target] if isinstance(clause.target, cst.Name) else []
            if not targets:
                return _Kind.UNKNOWN
            bound = (*bound, (targets[0].value, iterated))
            clause = clause.inner_for_in
        return self._kind(expr.elt, bound)

    def _literal(self, expr: cst.BaseExpression, expanding: _Expanding) -> str | None:
        """The text of a string literal, or of the literal a name holds."""
        while isinstance(expr, cst.Name):
            value = self._resolve(expr.value, expanding)
            if value is None or self.ctx.appended(value):
                return None
            expanding = (*expanding, (expr.value, value))
            expr = value
        return names.string_value(expr)


def _literal_kind(expr: cst.BaseExpression) -> _Kind:
    """A class attribute's value: only literals count (a name in it belongs to the class
    body or to the method that assigned it, not to the scope asking)."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return _Kind.NUMBER
    return _Kind.TEXT if names.string_value(expr) is not None else _Kind.UNKNOWN


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
    # Only values known to carry data count (parameters, request fields), not unknown ones.
    STRICT = False

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.strings = DynamicStrings(
            ctx, self.SAFE_CALLS, strict=self.STRICT, vetted=self.vetted, code_slot=self.code_slot
        )

    def vetted(self, name: str) -> bool:
        """Whether the parameter ``name`` is known not to carry data here (strict rules)."""
        return False

    @staticmethod
    def code_slot(before: str, start: bool) -> bool:
        """Whether a placeholder after ``before`` stands where the string takes code."""
        return False
