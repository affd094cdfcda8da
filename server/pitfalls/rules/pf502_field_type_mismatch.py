"""PF502: a pydantic model field whose type cannot hold what its Directus field stores."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.schema import DirectusField
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    CollectionModelRule,
    MappedModel,
    ModelField,
    example_column,
    example_files,
)
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Valid

# What a Python annotation holds, in the terms that decide whether Directus can store it.
_BUILTINS = {
    "str": "str", "int": "int", "float": "float", "bool": "bool",
    "list": "list", "tuple": "list", "set": "list", "frozenset": "list", "dict": "dict", "object": "any",
}
_TYPING = {
    "Any": "any", "Text": "str", "List": "list", "Tuple": "list", "Set": "list", "FrozenSet": "list",
    "Sequence": "list", "MutableSequence": "list", "Iterable": "list", "Collection": "list",
    "AbstractSet": "list", "Dict": "dict", "Mapping": "dict", "MutableMapping": "dict",
}
_PYDANTIC = {
    "BaseModel": "model", "StrictStr": "str", "EmailStr": "str", "NameEmail": "str", "AnyUrl": "str",
    "AnyHttpUrl": "str", "HttpUrl": "str", "constr": "str",
    "StrictInt": "int", "PositiveInt": "int", "NegativeInt": "int", "NonNegativeInt": "int",
    "NonPositiveInt": "int", "conint": "int",
    "StrictFloat": "float", "PositiveFloat": "float", "NegativeFloat": "float", "NonNegativeFloat": "float",
    "NonPositiveFloat": "float", "FiniteFloat": "float", "confloat": "float", "condecimal": "decimal",
    "StrictBool": "bool", "conlist": "list", "conset": "list", "confrozenset": "list",
    "AwareDatetime": "datetime", "NaiveDatetime": "datetime", "PastDatetime": "datetime",
    "FutureDatetime": "datetime", "PastDate": "date", "FutureDate": "date",
    "UUID1": "uuid", "UUID3": "uuid", "UUID4": "uuid", "UUID5": "uuid",
}
_STDLIB = {
    "datetime.datetime": "datetime", "datetime.date": "date", "datetime.time": "time",
    "uuid.UUID": "uuid", "decimal.Decimal": "decimal",
}
_ENUM_BASES = {"enum.StrEnum": "str", "builtins.str": "str", "enum.IntEnum": "int", "builtins.int": "int"}

# Directus type -> (what an annotation may hold, the annotation the fix writes, what is stored).
_ACCEPTED: dict[str, tuple[frozenset[str], str | None, str]] = {
    "integer": (frozenset({"int"}), "int", "integers"),
    "bigInteger": (frozenset({"int", "str"}), "int", "big integers"),
    "float": (frozenset({"float", "decimal"}), "float", "floating-point numbers"),
    # Directus returns decimals as strings ("12.50") to keep their precision.
    "decimal": (frozenset({"float", "decimal", "str"}), "float", "decimals"),
    "boolean": (frozenset({"bool"}), "bool", "booleans"),
    "string": (frozenset({"str", "uuid", "datetime", "date", "time"}), "str", "strings"),
    "text": (frozenset({"str", "uuid", "datetime", "date", "time"}), "str", "text"),
    "hash": (frozenset({"str"}), "str", "hashed strings"),
    "uuid": (frozenset({"str", "uuid"}), "str", "UUIDs"),
    "timestamp": (frozenset({"str", "datetime"}), "str", "timestamps"),
    "dateTime": (frozenset({"str", "datetime"}), "str", "date-times"),
    "date": (frozenset({"str", "date", "datetime"}), "str", "dates"),
    "time": (frozenset({"str", "time"}), "str", "times"),
    "csv": (frozenset({"str", "list"}), "list[str]", "comma-separated lists"),
    # JSON text is parsed by the database, so a `str` may hold JSON too: not decidable.
    "json": (frozenset({"list", "dict", "model", "str"}), None, "JSON objects and arrays"),
}
# Fields that hold another collection's key: a nested object (dict or model) may be sent too.
_RELATIONAL = frozenset({"m2o", "file", "user-created", "user-updated"})

_FILES = example_files({
    "articles": [
        example_column("id", "integer", nullable=False, primary_key=True, auto_increment=True),
        example_column("title", "string"),
        example_column("metadata", "json"),
        example_column("views", "integer"),
        example_column("published_at", "timestamp"),
        example_column("tags", "csv"),
        example_column("external_id", "uuid"),
        example_column("author", "integer", special=("m2o",)),
        example_column("price", "decimal"),
        example_column("comments", "alias", special=("o2m",)),
    ],
})


class FieldTypeMismatch(CollectionModelRule):
    """
    ## What it does
    Checks the annotations of pydantic models that map to a Directus collection (see
    PF501 for how a model maps to one) against the types of the collection's fields:
    `int` for `integer`/`bigInteger`, `float` or `Decimal` for `float`/`decimal`, `bool`
    for `boolean`, `str` for `string`/`text`, lists, dicts or nested models for `json`.
    Strings are accepted for `timestamp`, `dateTime`, `date`, `time`, `uuid`, `csv` and
    `decimal` fields (the forms Directus sends and accepts), `datetime`/`date`/`time` and
    `UUID` for their fields, and a nested model or dict for a many-to-one field.

    Not checked: alias fields (one-to-many, many-to-many: no column), fields whose type
    Directus does not name, and annotations pitfalls cannot read (a type alias, a class
    it cannot see); `Any` fits everything, and one fitting member of a union is enough.

    ## Why is this bad?
    The two sides disagree on what the field is. The guide's model declared the
    auto-increment `id` as a string, and every create failed:

    ```
    ValidationError: ID field expects integer but received UUID string
    Type mismatch: expected integer, got string
    ```

    Directus 12.4 answers a string `id` for an auto-increment integer key with 403
    `You don't have permission to access this.`, even for an admin token; a `bool` for a
    `timestamp` with 500 `value.toISOString is not a function`. Some mismatches are
    stored as sent (an `int` in a `json` field, a string in an `integer` column on
    SQLite), and then the model fails when it reads back the values the app writes.

    ## Example
    ```python
    class DirectusArticle(BaseModel):
        id: Optional[str] = None  # `articles.id` is an auto-increment integer
    ```

    ## Use instead
    ```python
    class DirectusArticle(BaseModel):
        id: Optional[int] = None
    ```

    ## Fix safety
    The fix writes the matching annotation (`int`, `float`, `bool`, `str`, `list[str]`)
    in place of a single mismatched type, keeping `Optional`. It is unsafe: the code that
    fills and reads the field may still expect the old type. A `json` field gets no fix
    (a list or an object is a decision).
    """

    code = "PF502"
    name = "field-type-mismatch"
    summary = "Model field type incompatible with its Directus field"
    fix_applicability = Applicability.UNSAFE

    VALID = [
        # The guide's corrected model, and the accepted forms of each type.
        Valid("""
            from datetime import datetime
            from decimal import Decimal
            from typing import Any, Optional
            from uuid import UUID
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: str
                metadata: Optional[dict[str, Any]] = None
                views: int = 0
                published_at: Optional[datetime] = None
                tags: list[str] = []
                external_id: Optional[UUID] = None
                price: Optional[Decimal] = None
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Strings for timestamps, UUIDs, csv and decimals; a nested model for a many-to-one;
        # a union with one fitting member; `Any`.
        Valid("""
            from typing import Any, Union
            from pydantic import BaseModel

            class Author(BaseModel):
                name: str

            class DirectusArticle(BaseModel):
                published_at: str | None = None
                external_id: str
                tags: str = ""
                price: str | None = None
                author: Union[int, Author, None] = None
                metadata: Any = None
                views: int | str = 0
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Alias fields have no column; unreadable annotations and unmapped models stay silent.
        Valid("""
            from pydantic import BaseModel
            from app.types import ViewCount

            class DirectusArticle(BaseModel):
                comments: list[int] = []
                views: ViewCount = 0
                title: "SomethingElse"

            class ArticleSummary(BaseModel):
                id: str
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Without a snapshot the rule is off.
        Valid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[str] = None
        """),
    ]
    INVALID = [
        # The guide's model: a string id against the auto-increment integer.
        Invalid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[str] = None
                title: Optional[str] = None
        """, files=_FILES, config=EXAMPLE_CONFIG, line=5, message="auto-increment primary key", fixed="""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: Optional[str] = None
        """),
        # `int` against `json`: reported, no fix.
        Invalid("""
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                metadata: int | None = None
        """, files=_FILES, config=EXAMPLE_CONFIG, line=4, message="JSON objects and arrays"),
        # Each mismatch is one report, mapped by usage whatever the class is called.
        Invalid("""
            from pydantic import BaseModel

            class Post(BaseModel):
                views: str
                published_at: bool
                tags: dict
                author: list[int]

            def publish(client):
                client.create_item("articles", Post(views="1", published_at=True, tags={}, author=[1]))
        """, files=_FILES, config=EXAMPLE_CONFIG, count=4, fixed="""
            from pydantic import BaseModel

            class Post(BaseModel):
                views: int
                published_at: str
                tags: list[str]
                author: int

            def publish(client):
                client.create_item("articles", Post(views="1", published_at=True, tags={}, author=[1]))
        """),
    ]

    def check_field(self, model: MappedModel, field: ModelField, column: DirectusField | None) -> None:
        if column is None or column.type not in _ACCEPTED:
            return
        members = names.union_members(field.annotation)
        if not members:
            return
        kinds = set()
        for member in members:
            kind = self._kind(member)
            if kind is None:
                return
            kinds |= kind
        accepted, replacement, stored = _ACCEPTED[column.type]
        relational = bool(_RELATIONAL.intersection(column.special))
        if relational:
            accepted = accepted | {"dict", "model"}
        if not kinds or "any" in kinds or kinds & accepted:
            return
        role = ""
        if column.primary_key:
            role = ", the auto-increment primary key" if column.auto_increment else ", the primary key"
        annotation = self.ctx.code_for(field.annotation)
        fix = None
        if replacement is not None and len(members) == 1:
            fix = self.ctx.fix(f"Annotate `{field.target.value}` as `{replacement}`", NodeEdit(members[0], replacement))
        use = f"use `{replacement}`" if replacement else "use a list, a dict or a model"
        if relational:
            use += " (the related item's key) or a nested model"
        self.ctx.report(
            field.target,
            f"`{model.name}.{field.target.value}: {annotation}` does not fit '{model.collection}.{field.name}' "
            f"(a Directus `{column.type}` field{role}, holding {stored}): Directus refuses the values the model "
            f"sends, or the model the values Directus returns; {use}",
            fix=fix,
        )

    def _kind(self, expr: cst.BaseExpression) -> set[str] | None:
        """What one member of an annotation holds; None when pitfalls cannot tell."""
        if isinstance(expr, cst.Subscript):
            head = self.ctx.qualified_name(expr.value)
            if head is not None and head.split(".")[-1] == "Literal":
                return _literal_kinds(expr)
            kind = self._named_kind(head)
            return {kind} if kind in ("list", "dict", "model") else None
        if isinstance(expr, cst.Call):  # constr(...), conint(...)
            kind = self._named_kind(self.ctx.qualified_name(expr.func))
        else:
            kind = self._named_kind(self.ctx.qualified_name(expr))
        return {kind} if kind is not None else None

    def _named_kind(self, qualname: str | None) -> str | None:
        if qualname is None:
            return None
        root, _, rest = qualname.partition(".")
        last = qualname.rsplit(".", 1)[-1]
        if root == "builtins":
            return _BUILTINS.get(rest)
        if root == "pydantic":
            return _PYDANTIC.get(last)
        if root in ("typing", "typing_extensions") or qualname.startswith("collections.abc."):
            return _TYPING.get(last)
        if qualname in _STDLIB:
            return _STDLIB[qualname]
        index = self.ctx.index
        if index.class_info(qualname) is None:
            return None
        if index.is_pydantic_model(qualname):
            return "model"
        ancestors = index.ancestors(qualname)
        if "typing.TypedDict" in ancestors or "typing_extensions.TypedDict" in ancestors:
            return "dict"
        if any(a.startswith("enum.") for a in ancestors):
            return next((_ENUM_BASES[a] for a in ancestors if a in _ENUM_BASES), None)
        return None


def _literal_kinds(literal: cst.Subscript) -> set[str] | None:
    kinds = set()
    for element in literal.slice:
        value = element.slice.value if isinstance(element.slice, cst.Index) else None
        if isinstance(value, cst.UnaryOperation) and isinstance(value.operator, cst.Minus):
            value = value.expression
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)) and names.string_value(value) is not None:
            kinds.add("str")
        elif isinstance(value, cst.Integer):
            kinds.add("int")
        elif isinstance(value, cst.Float):
            kinds.add("float")
        elif names.dotted(value) in ("True", "False"):
            kinds.add("bool")
        elif names.dotted(value) != "None":
            return None
    return kinds
