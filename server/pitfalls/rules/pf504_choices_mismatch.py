"""PF504: a model's `pattern=` or `Literal[...]` that disagrees with a Directus dropdown's choices."""

from __future__ import annotations

import re
from typing import Annotated, Callable

import libcst as cst

from pitfalls.core import names
from pitfalls.core.schema import Choice, DirectusField
from pitfalls.core.walker import iter_nodes
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    CollectionModelRule,
    MappedModel,
    ModelField,
    example_column,
    example_files,
)
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Valid

# One literal alternative of a pattern: plain characters, or an escaped punctuation mark.
_LITERAL = re.compile(r"(?:[^\\^$.|?*+()\[\]{}]|\\[^\w\s])+")
# Characters that are special in both Python's and pydantic's (Rust) regular expressions.
_SPECIAL = frozenset("\\.^$*+?()[]{}|")
# Choices a field holds as a list (multiple selection): a pattern sees the whole value.
_LIST_TYPES = frozenset({"json", "csv", "alias"})

_FILES = example_files({
    "articles": [
        example_column("id", "integer", nullable=False, primary_key=True, auto_increment=True),
        example_column("processing_status", "string", default="pending",
                       choices=("pending", "processing", "completed", "failed")),
        example_column("priority", "integer", choices=(1, 2, 3)),
        example_column("title", "string"),
    ],
})


class ChoicesMismatch(CollectionModelRule):
    """
    ## What it does
    Checks pydantic models that map to a Directus collection (see PF501 for how a model
    maps to one) where a field has fixed choices in Directus (a dropdown's
    `options.choices`): a `pattern=` (on `Field`, `constr` or `StringConstraints`) or a
    `Literal[...]` annotation on that field must allow the same values. The report is at
    the `pattern=` or the `Literal`, and names the values only one side accepts.

    A pattern is compared when it is a plain alternation of words (`^(a|b)$`, `^(?:a|b)$`,
    `^a|b$`, `a|b`); for any other pattern only the choices it rejects are reported, which
    can be decided exactly by matching them.

    ## Why is this bad?
    Items hold the dropdown's values. A model that rejects one of them fails on every item
    that has it, as in the guide:

    ```
    ValidationError: 1 validation error for DirectusArticle
    processing_status
      string does not match expected pattern
    ```

    and a value only the model accepts is one the Directus app never shows or offers.

    ## Example
    ```python
    # The `processing_status` dropdown: pending, processing, completed, failed
    class DirectusArticle(BaseModel):
        processing_status: Optional[str] = Field(
            None,
            pattern="^(pending|in_progress|completed|failed)$",
        )
    ```

    ## Use instead
    ```python
    class DirectusArticle(BaseModel):
        processing_status: Optional[str] = Field(
            None,
            pattern="^(pending|processing|completed|failed)$",
        )
    ```

    ## Fix safety
    The fix rewrites the alternation or the `Literal` to the collection's choices. It is
    safe: the choices are the values the collection's items hold. Other patterns get no
    fix.
    """

    code = "PF504"
    name = "choices-mismatch"
    summary = "Model pattern or Literal disagrees with the Directus field's choices"
    fix_applicability = Applicability.SAFE

    VALID = [
        # The same values, in any order and spelling of the alternation.
        Valid("""
            from typing import Literal, Optional
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                processing_status: Optional[str] = Field(None, pattern=r"^(?:failed|completed|processing|pending)$")
                priority: Optional[Literal[3, 2, 1]] = None
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # A pattern that accepts every choice, a field without choices, an unmapped model.
        Valid("""
            from typing import Literal
            from pydantic import BaseModel, Field, constr

            class DirectusArticle(BaseModel):
                processing_status: constr(pattern="^[a-z_]+$")
                title: Literal["a", "b"] = "a"

            class StatusFilter(BaseModel):
                processing_status: Literal["pending", "done"]
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Without a snapshot the rule is off.
        Valid("""
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                processing_status: str = Field("pending", pattern="^(pending|in_progress)$")
        """),
    ]
    INVALID = [
        # A pattern whose backtracking would hang Python's `re` on the long choice: judged
        # with pydantic's own engine, in linear time.
        Invalid("""
            from pydantic import BaseModel, Field

            class DirectusLabel(BaseModel):
                colour: str = Field("red", pattern=r"^([a-z]+)+$")
        """, files=example_files({
            "labels": [
                example_column("id", "integer", nullable=False, primary_key=True, auto_increment=True),
                example_column("colour", "string", choices=("red", "a" * 40 + "!")),
            ],
        }), config=EXAMPLE_CONFIG, line=4, message="'aaaa"),
        # The guide's pattern against a dropdown that has `processing`, not `in_progress`.
        Invalid("""
            from typing import Optional
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                processing_status: Optional[str] = Field(
                    None,
                    pattern="^(pending|in_progress|completed|failed)$",
                )
        """, files=_FILES, config=EXAMPLE_CONFIG, line=7, message="'processing'", fixed="""
            from typing import Optional
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                processing_status: Optional[str] = Field(
                    None,
                    pattern="^(pending|processing|completed|failed)$",
                )
        """),
        # A `Literal` that lacks a choice, and one with a value Directus does not offer.
        Invalid("""
            from typing import Literal, Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                processing_status: Literal['pending', 'completed', 'failed'] = 'pending'
                priority: Optional[Literal[1, 2, 3, 4]] = None
        """, files=_FILES, config=EXAMPLE_CONFIG, count=2, fixed="""
            from typing import Literal, Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                processing_status: Literal['pending', 'processing', 'completed', 'failed'] = 'pending'
                priority: Optional[Literal[1, 2, 3]] = None
        """),
        # A pattern that is no alternation: the choices it rejects, no fix.
        Invalid("""
            from typing import Annotated
            from pydantic import BaseModel, StringConstraints

            class DirectusArticle(BaseModel):
                processing_status: Annotated[str, StringConstraints(pattern=r"^(pending|complete)[a-z]*$")]
        """, files=_FILES, config=EXAMPLE_CONFIG, line=5, message="rejects 'processing', 'failed'"),
    ]

    def check_field(self, model: MappedModel, field: ModelField, column: DirectusField | None) -> None:
        if column is None or not column.choices:
            return
        where = f"`{model.name}.{field.target.value}`"
        choices = column.choices
        for node in iter_nodes(field.annotation):
            if isinstance(node, cst.Subscript) and (names.dotted(node.value) or "").split(".")[-1] == "Literal":
                self._check_literal(where, model, field, node, choices)
        if column.type in _LIST_TYPES or not all(isinstance(c, str) for c in choices):
            return
        for node in [field.value, *iter_nodes(field.annotation)]:
            if isinstance(node, cst.Call) and (names.dotted(node.func) or "").split(".")[-1] in (
                "Field", "constr", "StringConstraints"
            ):
                for arg in node.args:
                    if arg.keyword is not None and arg.keyword.value == "pattern":
                        self._check_pattern(where, model, field, arg, choices)

    def _check_literal(
        self, where: str, model: MappedModel, field: ModelField, literal: cst.Subscript, choices: tuple[Choice, ...]
    ) -> None:
        values: list[Choice] = []
        quote = '"'
        for element in literal.slice:
            value = _literal_value(element.slice.value) if isinstance(element.slice, cst.Index) else None
            if value is None:
                return
            values.append(value)
            if isinstance(element.slice.value, cst.SimpleString):
                quote = element.slice.value.quote
        only_model = [v for v in values if v not in choices]
        only_directus = [c for c in choices if c not in values]
        if not only_model and not only_directus:
            return
        head = self.ctx.code_for(literal.value)
        replacement = f"{head}[{', '.join(_python_literal(c, quote) for c in choices)}]"
        self._report(where, model, field, literal, "the `Literal`", only_model, only_directus, choices,
                     NodeEdit(literal, replacement))

    def _check_pattern(
        self, where: str, model: MappedModel, field: ModelField, arg: cst.Arg, choices: tuple[Choice, ...]
    ) -> None:
        pattern = names.string_value(arg.value)
        if pattern is None:
            return
        accepts = _pattern_matcher(pattern)
        if accepts is None:
            return
        only_directus = [c for c in choices if not accepts(str(c))]
        alternatives = _alternatives(pattern)
        only_model = [a for a in alternatives if a not in choices] if alternatives is not None else []
        if not only_model and not only_directus:
            return
        edit = None
        if alternatives is not None and isinstance(arg.value, cst.SimpleString):
            edit = NodeEdit(arg.value, _string_literal(arg.value, "^(" + "|".join(_escape(str(c)) for c in choices) + ")$"))
        self._report(where, model, field, arg, "the pattern", only_model, only_directus, choices, edit)

    def _report(
        self,
        where: str,
        model: MappedModel,
        field: ModelField,
        node: cst.CSTNode,
        what: str,
        only_model: list[Choice],
        only_directus: list[Choice],
        choices: tuple[Choice, ...],
        edit: NodeEdit | None,
    ) -> None:
        dropdown = f"the '{model.collection}.{field.name}' dropdown"
        parts = []
        if only_directus:
            parts.append(f"{what} rejects {_listing(only_directus)}, which {dropdown} offers (items with "
                         f"{'it' if len(only_directus) == 1 else 'them'} fail validation when read)")
        if only_model:
            dropdown = "the dropdown" if parts else dropdown
            parts.append(f"{what if not parts else 'it'} accepts {_listing(only_model)}, which {dropdown} does not offer")
        fix = self.ctx.fix("Use the collection's choices", edit) if edit is not None else None
        self.ctx.report(
            node,
            f"{where}: {'; '.join(parts)}; allow exactly {_listing(choices)}",
            fix=fix,
        )


def _alternatives(pattern: str) -> list[str] | None:
    """The words of a plain alternation (``^(a|b)$``, ``^(?:a|b)$``, ``^a|b$``, ``a|b``)."""
    body = pattern.removeprefix("^")
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    for opening in ("(?:", "("):
        if body.startswith(opening) and body.endswith(")"):
            body = body[len(opening):-1]
            break
    words = body.split("|")
    if not all(_LITERAL.fullmatch(w) for w in words):
        return None
    return [re.sub(r"\\(.)", r"\1", w) for w in words]


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _SPECIAL else c for c in text)


def _pattern_matcher(pattern: str) -> Callable[[str], bool] | None:
    """Whether a value passes ``pattern`` as pydantic judges it: with pydantic-core's own
    regex engine (Rust's, linear in time), never Python's ``re``, whose backtracking a
    pattern from the checked code could make hang (``^(a+)+$``). None when that engine
    refuses the pattern. (pydantic is imported here: most runs have no Directus schema.)"""
    from pydantic import StringConstraints, TypeAdapter, ValidationError

    try:
        adapter: TypeAdapter[str] = TypeAdapter(Annotated[str, StringConstraints(pattern=pattern)])
    except Exception:  # pydantic refuses the pattern (a look-around, bad syntax...)
        return None

    def accepts(value: str) -> bool:
        try:
            adapter.validate_python(value)
        except ValidationError:
            return False
        return True

    return accepts


def _string_literal(original: cst.SimpleString, text: str) -> str:
    """``text`` as a literal with the original's prefix and quotes."""
    prefix = original.prefix
    if "r" not in prefix.lower():
        text = text.replace("\\", "\\\\")
    text = text.replace(original.quote, "\\" + original.quote) if len(original.quote) == 1 else text
    return f"{prefix}{original.quote}{text}{original.quote}"


def _literal_value(expr: cst.BaseExpression) -> Choice | None:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return names.string_value(expr)
    negative = isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus)
    number = expr.expression if negative else expr
    if isinstance(number, (cst.Integer, cst.Float)):
        value = names.evaluated(number)
        return -value if negative else value
    name = names.dotted(expr)
    return {"True": True, "False": False}.get(name or "")


def _python_literal(value: Choice, quote: str) -> str:
    if isinstance(value, str):
        text = repr(value)
        if quote == '"' and '"' not in value and "\\" not in text:
            return f'"{text[1:-1]}"'
        return text
    return repr(value)


def _listing(values: list[Choice] | tuple[Choice, ...]) -> str:
    return ", ".join(repr(v) for v in values)
