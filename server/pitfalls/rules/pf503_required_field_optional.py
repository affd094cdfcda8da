"""PF503: a field the Directus collection requires, declared `Optional[...] = None` in the model."""

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

_FILES = example_files({
    "articles": [
        example_column("id", "integer", nullable=False, primary_key=True, auto_increment=True),
        example_column("title", "string", nullable=False, required=True),
        example_column("slug", "string", nullable=False),
        example_column("summary", "text", required=True),
        example_column("status", "string", nullable=False, default="draft"),
        example_column("content", "text"),
    ],
    "tags": [example_column("code", "string", nullable=False, primary_key=True), "label"],
})


class RequiredFieldOptional(CollectionModelRule):
    """
    ## What it does
    Checks pydantic models that map to a Directus collection (see PF501 for how a model
    maps to one) for fields the collection requires, declared `Optional[...] = None`. A
    field is required when its column is not nullable or the field is marked required in
    Directus, unless it has a default or is an auto-increment (or UUID) primary key.

    ## Why is this bad?
    The model lets an item be built without the value, and Directus refuses it only when
    it is sent: 400 `FAILED_VALIDATION` with `Validation failed for field "title". Value
    is required.` when the field is left out (`model_dump(exclude_none=True)`), or `...
    Value can't be null.` when `null` is sent. Reading such a field back never gives
    `None` either, so the `Optional` only hides the mistake until run time.

    ## Example
    ```python
    class DirectusArticle(BaseModel):
        id: Optional[int] = None
        title: Optional[str] = None  # `articles.title` is required
    ```

    ## Use instead
    ```python
    class DirectusArticle(BaseModel):
        id: Optional[int] = None
        title: str
    ```

    ## Fix safety
    The fix drops the `Optional` and the `None` default (`Field(None, ...)` becomes
    `Field(..., ...)`). It is unsafe: code that builds the model without the field now
    fails validation at once (PF206 points at those calls) and must pass a value.
    """

    code = "PF503"
    name = "required-field-optional"
    summary = "Required Directus field declared optional in the model"
    fix_applicability = Applicability.UNSAFE

    VALID = [
        # Required fields required; the auto-increment id, defaulted and nullable fields optional.
        Valid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: str
                slug: str
                summary: str
                status: Optional[str] = None
                content: Optional[str] = None
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # `Optional` without a `None` default is still required by pydantic; a non-None default
        # is sent; an unmapped model and an alias field are not checked.
        Valid("""
            from typing import Optional
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                title: Optional[str]
                slug: str | None = "untitled"
                short: Optional[str] = Field(None, alias="content")

            class ArticleFilter(BaseModel):
                title: Optional[str] = None
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Without a snapshot the rule is off.
        Valid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                title: Optional[str] = None
        """),
    ]
    INVALID = [
        # The guide's model: `title` optional, the collection requires it.
        Invalid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: Optional[str] = None
        """, files=_FILES, config=EXAMPLE_CONFIG, line=6, message='Validation failed for field "title"', fixed="""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: str
        """),
        # Not nullable (no `required` flag); `Field(None, ...)` and `X | None`.
        Invalid("""
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                slug: str | None = Field(None, max_length=80)
                summary: str | None = Field(default=None)
        """, files=_FILES, config=EXAMPLE_CONFIG, count=2, fixed="""
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                slug: str = Field(..., max_length=80)
                summary: str = Field(default=...)
        """),
        # A string primary key without a default must be sent; mapped by configuration.
        Invalid("""
            from typing import Optional
            from pydantic import BaseModel

            class Tag(BaseModel):
                code: Optional[str] = None
                label: Optional[str] = None
        """, files=_FILES, config={"directus": {"snapshot": "snap.json", "models": {"Tag": "tags"}}},
           line=5, message="can't be null"),
    ]

    def check_field(self, model: MappedModel, field: ModelField, column: DirectusField | None) -> None:
        if column is None or not column.must_be_sent or not names.annotation_is_optional(field.annotation):
            return
        none_default = _none_default(field.value)
        if none_default is None:
            return
        attribute = field.target.value
        fix = None
        declaration = "without `Optional` and the `None` default"
        members = names.union_members(field.annotation)
        if members is not None and len(members) == 1:
            core = self.ctx.code_for(members[0])
            declaration = f"`{attribute}: {core}`"
            if none_default is field.value:
                edits = [NodeEdit(field.statement, f"{attribute}: {core}")]
            else:
                edits = [NodeEdit(field.annotation, core), NodeEdit(none_default, "...")]
            fix = self.ctx.fix(f"Make `{attribute}` required", *edits)
        self.ctx.report(
            field.target,
            f"`{model.name}.{attribute}` is optional (`= None`), but '{model.collection}.{field.name}' "
            f"{'is required' if column.required else 'is not nullable'} and has no default: an item built "
            f'without it is refused with 400 (Validation failed for field "{field.name}". Value is required. / '
            f"Value can't be null.); declare it {declaration}",
            fix=fix,
        )


def _none_default(value: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The ``None`` node that makes a field default to None: the value itself, or the default
    given to ``Field(...)``."""
    if value is None:
        return None
    if names.dotted(value) == "None":
        return value
    if isinstance(value, cst.Call) and (names.dotted(value.func) or "").split(".")[-1] == "Field":
        for arg in value.args:
            if arg.keyword is None or arg.keyword.value == "default":
                return arg.value if names.dotted(arg.value) == "None" else None
    return None
