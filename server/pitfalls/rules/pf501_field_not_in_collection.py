"""PF501: a pydantic model field that its Directus collection does not have."""

from __future__ import annotations

from pitfalls.core.schema import DirectusField
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    CollectionModelRule,
    MappedModel,
    ModelField,
    example_files,
)
from pitfalls.rules.api import Invalid, Valid

_FILES = example_files({"articles": ["id", "title", "content", "status"], "authors": ["id", "name"]})
_CATEGORIES = example_files({"categories": ["id", "name"], "person": ["id", "name"]})


class FieldNotInCollection(CollectionModelRule):
    """
    ## What it does
    Checks the fields of pydantic models that map to a Directus collection against the
    schema snapshot (`[tool.pitfalls.directus] snapshot`), and reports each field the
    collection does not have. A model maps to a collection by, in order: the explicit
    `[tool.pitfalls.directus.models]` table (`DirectusArticle = "articles"`), its use in
    the same file (`client.create_item("articles", DirectusArticle(...))`, or an
    `article: DirectusArticle` passed as the item), then its name: the English plural of
    what follows `Directus` (`DirectusArticle` -> `articles`, `DirectusCategory` ->
    `categories`, `DirectusPerson` -> `people`), or the name itself for a collection named
    in the singular, when that collection exists. A field declared with `Field(alias=...)`
    is checked under its alias.

    ## Why is this bad?
    Directus writes every field it receives to the collection's table; one with no column
    fails the whole request with a 500 Server Error:

    ```
    "column articles.references does not exist"
    ```

    ## Example
    ```python
    class DirectusArticle(BaseModel):
        title: str
        references: list[str] = []  # the collection has no `references` field
    ```

    ## Use instead
    Add the field to the collection (a Directus migration, or `ALTER TABLE articles ADD
    COLUMN "references" json`) and take a new snapshot, or drop it from the model.

    ## Fix safety
    There is no automatic fix: whether the schema or the model is wrong is a decision.
    """

    code = "PF501"
    name = "field-not-in-collection"
    summary = "Model field missing from its Directus collection"
    exact_on_ast_tree = True

    VALID = [
        # Every field exists in the collection.
        Valid("""
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: int | None = None
                title: str
                status: str = "draft"
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # An API model that maps to no collection: its extra fields are not Directus's.
        Valid("""
            from pydantic import BaseModel

            class Article(BaseModel):
                title: str
                author_name: str
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Without a snapshot the rule is off.
        Valid("""
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                title: str
                references: list[str] = []
        """),
        # Class variables, private attributes and model_config are not sent to Directus.
        Valid("""
            from typing import ClassVar
            from pydantic import BaseModel, ConfigDict

            class DirectusArticle(BaseModel):
                model_config = ConfigDict(extra="forbid")
                collection: ClassVar[str] = "articles"
                _cache: dict = {}
                title: str
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # The alias is the name Directus sees.
        Valid("""
            from pydantic import BaseModel, Field

            class DirectusArticle(BaseModel):
                headline: str = Field(alias="title")
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # `DirectusConfig` is no collection (no `configs` in the schema); a dataclass is no model.
        Valid("""
            from dataclasses import dataclass
            from pydantic import BaseModel

            class DirectusConfig(BaseModel):
                url: str
                email: str

            @dataclass
            class DirectusAuthor:
                name: str
                biography: str
        """, files=_FILES, config=EXAMPLE_CONFIG),
    ]
    INVALID = [
        # Mapped by name through a real English plural, or a singular collection name.
        Invalid("""
            from pydantic import BaseModel

            class DirectusCategory(BaseModel):
                name: str
                slug: str

            class DirectusPerson(BaseModel):
                name: str
                nickname: str
        """, files=_CATEGORIES, config=EXAMPLE_CONFIG, count=2, message="has no field"),
        # The guide's missing column.
        Invalid("""
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                title: Optional[str] = None
                references: Optional[list] = None
        """, files=_FILES, config=EXAMPLE_CONFIG, line=6, message="column articles.references does not exist"),
        # Mapped by explicit configuration.
        Invalid("""
            from pydantic import BaseModel

            class Writer(BaseModel):
                name: str
                email: str
        """, files=_FILES, config={"directus": {"snapshot": "snap.json", "models": {"Writer": "authors"}}},
           line=5, message="`Writer.email`"),
        # Mapped by usage, whatever the class is called.
        Invalid("""
            from pydantic import BaseModel

            class ArticlePayload(BaseModel):
                title: str
                authors: list[int]

            def publish(client, payload: ArticlePayload):
                return client.create_item("articles", payload)
        """, files=_FILES, config=EXAMPLE_CONFIG, line=5, message="collection 'articles'"),
        # Mapped by usage through a constructor call.
        Invalid("""
            from pydantic import BaseModel

            class Post(BaseModel):
                title: str
                summary: str

            def publish(client):
                client.create_item("articles", Post(title="t", summary="s"))
        """, files=_FILES, config=EXAMPLE_CONFIG, line=5, count=1),
        # Each missing field is one report; an alias is checked under its alias.
        Invalid("""
            from pydantic import BaseModel, Field

            class DirectusAuthor(BaseModel):
                name: str
                bio: str = Field(alias="biography")
                website: str | None = None
        """, files=_FILES, config=EXAMPLE_CONFIG, count=2),
    ]

    def check_field(self, model: MappedModel, field: ModelField, column: DirectusField | None) -> None:
        if column is not None:
            return
        collection = model.collection
        self.ctx.report(
            field.target,
            f"`{model.name}.{field.target.value}`: collection '{collection}' has no field '{field.name}', so "
            f'Directus answers 500 "column {collection}.{field.name} does not exist"; add the field '
            f"to the collection (a migration) and refresh the snapshot, or drop it from the model",
        )
