"""What a database URL expression starts with, as far as the source spells it out (PF407).

A URL is followed to its text through:

- string literals, implicit concatenation, ``+``, and f-strings (their text up to the
  first placeholder whose value is unknown: ``f"postgresql://{user}@{host}/db"`` starts
  with ``postgresql://``); ``"...".format(...)`` up to its first placeholder;
- names: this scope's last assignment (``url = url.replace(...)`` sees the value before),
  module constants, and string constants another module of the project defines
  (``from app.config import DATABASE_URL``);
- ``os.getenv("X", "default")`` and ``os.environ.get("X", "default")``: the default;
- ``str(url)``, ``make_url(url)``, and ``url.replace("a", "b")`` applied to a known text;
  ``URL.create(drivername="...")`` gives the scheme;
- settings: ``settings.DATABASE_URL`` where ``settings`` is an instance of a project class
  (built here, annotated, or imported from the module that builds it, also through a
  function annotated to return the class), read from the field's default (a pydantic
  ``BaseSettings`` field, ``Field(default=...)``, an environment look-up) or a plain class
  attribute; not when a validator of the class may rewrite it, nor when a method of a
  plain class assigns the attribute;
- ``self.<attr>`` assigned once in the class.

Each known text remembers the literal of this file it starts in (``origin``), for a fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.summary import PYDANTIC_BASE_MODELS, PYDANTIC_SETTINGS, ModuleSummary
from pitfalls.rules._sessions import project_binding
from pitfalls.rules.api import RuleContext

_ENVIRONMENT = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})
_SAME_URL = frozenset(
    {
        "builtins.str", "sqlalchemy.make_url", "sqlalchemy.engine.make_url",
        "sqlalchemy.engine.url.make_url",
    }
)
_URL_CREATE = frozenset(
    {"sqlalchemy.URL.create", "sqlalchemy.engine.URL.create", "sqlalchemy.engine.url.URL.create"}
)
_FIELDS = frozenset({"pydantic.Field", "pydantic.fields.Field", "pydantic_settings.Field", "sqlmodel.Field"})
_VALIDATORS = frozenset({"validator", "field_validator", "model_validator", "root_validator"})
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Url:
    text: str  # what the URL starts with (all of it when complete)
    complete: bool
    origin: cst.CSTNode | None = None  # the literal of this file the text starts in


class DatabaseUrls:
    """Answers "what does this URL expression start with?" for one file."""

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx

    def url(self, expr: cst.BaseExpression) -> Url | None:
        """The known start of the URL ``expr`` holds (asked at ``expr``'s position)."""
        return self._url(expr, ())

    def _url(self, expr: cst.BaseExpression, expanding: tuple[tuple[str, cst.BaseExpression], ...]) -> Url | None:
        if len(expanding) > _MAX_DEPTH:
            return None
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            text = names.string_value(expr)
            if text is None:
                return None
            first = expr
            while isinstance(first, cst.ConcatenatedString):
                first = first.left
            return Url(text, True, first)
        if isinstance(expr, cst.FormattedString):
            return self._formatted(expr, expanding)
        if isinstance(expr, cst.Name):
            return self._name(expr.value, expanding)
        if isinstance(expr, cst.Attribute):
            return self._attribute(expr, expanding)
        if isinstance(expr, cst.Call):
            return self._call(expr, expanding)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left = self._url(expr.left, expanding)
            if left is None or not left.complete:
                return left
            right = self._url(expr.right, expanding)
            if right is None:
                return Url(left.text, False, left.origin)
            return Url(left.text + right.text, right.complete, left.origin)
        return None

    def _formatted(self, expr: cst.FormattedString, expanding: tuple) -> Url | None:
        text = ""
        origin: cst.CSTNode | None = None
        for index, part in enumerate(expr.parts):
            if isinstance(part, cst.FormattedStringText):
                if "\\" in part.value or "{{" in part.value:
                    return Url(text, False, origin) if text else None
                text += part.value
                origin = origin if index else part
                continue
            value = None
            if part.conversion is None and part.format_spec is None:
                value = self._url(part.expression, expanding)
            if value is None:
                return Url(text, False, origin) if text else None
            if index == 0:
                origin = value.origin
            text += value.text
            if not value.complete:
                return Url(text, False, origin)
        return Url(text, True, origin)

    def _name(self, name: str, expanding: tuple) -> Url | None:
        ctx = self.ctx
        value = None
        for outer_name, outer_value in reversed(expanding):
            if outer_name == name:
                value = ctx.previous_value(outer_value, name)
                break
        else:
            if ctx.parameter(name) is not None:
                return None
            value = ctx.value_of(name)
        if value is not None:
            return self._url(value, (*expanding, (name, value)))
        return self._imported(cst.Name(name))

    def _imported(self, expr: cst.BaseExpression) -> Url | None:
        """A string constant of another module of the project."""
        found = project_binding(self.ctx, expr)
        if found is None or found[0].name == self.ctx.module_name:
            return None
        text = found[0].strings.get(found[1])
        return Url(text, True) if text is not None else None

    def _attribute(self, expr: cst.Attribute, expanding: tuple) -> Url | None:
        ctx = self.ctx
        found = self._imported(expr)  # `config.DATABASE_URL` of a module
        if found is not None:
            return found
        values = ctx.attribute_values(expr)
        if values:  # `self.url`, `Config.URL` of a class of this module
            return self._url(values[0], expanding) if len(values) == 1 else None
        owner = ctx.qualified_name(expr.value)
        if owner is not None and ctx.index.class_info(owner) is not None:
            return self.member(owner, expr.attr.value)  # `Settings.DATABASE_URL`
        if _given(self._construction(expr.value), expr.attr.value):
            return None  # `Settings(DATABASE_URL=...)`: not the default
        cls = self._instance_class(expr.value)
        return self.member(cls, expr.attr.value) if cls is not None else None

    def _construction(self, expr: cst.BaseExpression) -> cst.Call | None:
        """The call that built the instance a name of this module holds, if known."""
        for _ in range(_MAX_DEPTH):
            if isinstance(expr, cst.Call):
                return expr
            if not isinstance(expr, cst.Name) or self.ctx.parameter(expr.value) is not None:
                return None
            value = self.ctx.value_of(expr.value)
            if value is None or value is expr:
                return None
            expr = value
        return None

    def _instance_class(self, expr: cst.BaseExpression) -> str | None:
        ctx = self.ctx
        found = ctx.class_of_instance(expr)
        if found is not None or not isinstance(expr, (cst.Name, cst.Attribute)):
            return found
        if isinstance(expr, cst.Name) and (ctx.value_of(expr.value) is not None or ctx.parameter(expr.value)):
            return None
        found = project_binding(ctx, expr)  # `settings` imported from the module building it
        built = found[0].call_assignments.get(found[1]) if found is not None else None
        if built is None:
            return None
        if ctx.index.class_info(built) is not None:
            return ctx.index.resolve(built)
        returned = ctx.index.function_returns(built)
        return ctx.index.resolve(returned) if returned and ctx.index.class_info(returned) is not None else None

    def member(self, cls: str, attr: str) -> Url | None:
        """The default of a class's field or attribute, unless the class may change it."""
        index = self.ctx.index
        chain = [index.resolve(cls), *index.ancestors(cls)]
        infos = [(qualname, index.class_info(qualname)) for qualname in chain]
        pydantic = index.is_subclass(cls, PYDANTIC_BASE_MODELS | PYDANTIC_SETTINGS)
        for _, info in infos:
            if info is None:
                continue
            for method in info.methods.values():
                decorators = getattr(method, "decorators", None)
                if pydantic and (decorators is None or any(d.rpartition(".")[2] in _VALIDATORS for d in decorators)):
                    return None  # a validator may rewrite the value
                if attr in method.self_sets or "*" in method.self_sets:
                    return None  # an instance sets its own
        for qualname, info in infos:
            if info is None:
                continue
            local = self._local_member(qualname, attr)
            if local is not None:
                return local if isinstance(local, Url) else None
            if attr in info.fields:
                default = info.fields[attr].default
                summary = index.module(qualname.rpartition(".")[0])
                if default is None or summary is None:
                    return None
                try:
                    value = cst.parse_expression(default)
                except cst.ParserSyntaxError:
                    return None
                return _foreign(value, summary, index)
            if attr in info.class_constants:
                return Url(info.class_constants[attr], True)
            if attr in info.attributes:
                return None
        return None

    def _local_member(self, cls: str, attr: str) -> Url | bool | None:
        """A class of this module binding ``attr`` in its body: what the value there
        starts with (False when unknown); None when it is no such class or binds no
        ``attr``, so the index answers."""
        module, _, name = cls.rpartition(".")
        if module != self.ctx.module_name or name not in self.ctx.summary.classes:
            return None
        values = self.ctx.attribute_values(cst.Attribute(value=cst.Name(name), attr=cst.Name(attr)))
        if not values:
            return None
        found = self._url(values[0], ()) if len(values) == 1 else None
        return found if found is not None else False

    def _call(self, call: cst.Call, expanding: tuple) -> Url | None:
        ctx = self.ctx
        func = call.func
        qualname = ctx.qualified_name(func) or ""
        if qualname in _ENVIRONMENT:
            default = _argument(call, 1, "default")
            return self._url(default, expanding) if default is not None else None
        if qualname in _FIELDS:  # a class body's `Field(default=...)`
            default = _argument(call, 0, "default")
            return self._url(default, expanding) if default is not None else None
        if qualname in _SAME_URL:
            first = _argument(call, 0, None)
            return self._url(first, expanding) if first is not None and len(call.args) == 1 else None
        if qualname in _URL_CREATE:
            driver = _argument(call, 0, "drivername")
            found = self._url(driver, expanding) if driver is not None else None
            return Url(found.text + "://", False) if found is not None and found.complete else None
        if isinstance(func, cst.Attribute) and func.attr.value == "replace":
            return _replaced(self._url(func.value, expanding), call)
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            base = self._url(func.value, expanding)
            if base is None or not base.complete:
                return None
            return Url(base.text.split("{", 1)[0], "{" not in base.text, base.origin)
        return None


def _given(call: cst.Call | None, attr: str) -> bool:
    """Whether a constructor call may set ``attr`` (by keyword, or through ``**``)."""
    if call is None:
        return False
    return any(arg.star == "**" or (arg.keyword is not None and arg.keyword.value == attr) for arg in call.args)


def _argument(call: cst.Call, position: int, keyword: str | None) -> cst.BaseExpression | None:
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is None and index == position:
            return arg.value
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    return None


def _replaced(base: Url | None, call: cst.Call) -> Url | None:
    """``base.replace(old, new)`` with literal arguments, on a complete text."""
    if base is None or not base.complete or len(call.args) != 2 or any(a.keyword or a.star for a in call.args):
        return None
    old, new = (names.string_value(a.value) for a in call.args)
    if old is None or new is None:
        return None
    return Url(base.text.replace(old, new), True)


def _foreign(expr: cst.BaseExpression, summary: ModuleSummary, index: IndexView) -> Url | None:
    """A field default, as the source text of another module (or this one) says it:
    a literal, a module string constant, an environment look-up's default, ``Field(...)``."""
    for _ in range(4):
        text = names.string_value(expr)
        if text is not None:
            return Url(text, True)
        if isinstance(expr, cst.Name):
            found = summary.strings.get(expr.value)
            return Url(found, True) if found is not None else None
        if not isinstance(expr, cst.Call):
            return None
        callee = names.dotted(expr.func) or ""
        head, _, rest = callee.partition(".")
        qualname = summary.bindings.get(head, head) + (f".{rest}" if rest else "")
        if qualname in _ENVIRONMENT:
            found_arg = _argument(expr, 1, "default")
        elif index.resolve(qualname) in _FIELDS or qualname in _FIELDS:
            found_arg = _argument(expr, 0, "default")
        else:
            return None
        if found_arg is None:
            return None
        expr = found_arg
    return None
