"""PF602: a SQLAlchemy model column that its table in the database does not have."""

from __future__ import annotations

from pitfalls.rules._sqlalchemy import EXAMPLE_DATABASE, checked_models, database
from pitfalls.rules.api import Invalid, Rule, Valid


class ColumnNotInTable(Rule):
    """
    ## What it does
    Checks the columns of each SQLAlchemy model against its table in the database (see
    PF601 for which database and which table), and reports each column the table does not
    have. Columns are `Column(...)` and `mapped_column(...)` attributes (also inside
    `deferred()`, `column_property()` and `composite()`) and `Mapped[...]` annotations
    without a value, checked under their database name (`Column("db_name", ...)`,
    `mapped_column(name=...)`), with those of mixins and abstract bases defined in the
    same module. Relationships, synonyms, association proxies and `column_property`
    expressions are no columns.

    ## Why is this bad?
    SQLAlchemy selects every mapped column, so the first query on the model fails once
    a column is declared before its migration ran:

    ```
    sqlalchemy.exc.ProgrammingError: column articles.references does not exist
    ```

    ## Example
    ```python
    class Article(Base):
        __tablename__ = "articles"

        id: Mapped[int] = mapped_column(primary_key=True)
        references: Mapped[list[str] | None] = mapped_column(JSON)  # not in the table
    ```

    ## Use instead
    Add the column with a migration (`alembic revision --autogenerate`, then `alembic
    upgrade head`), or drop the attribute from the model.

    ## Fix safety
    There is no automatic fix: whether the schema or the model is wrong is a decision.
    """

    code = "PF602"
    name = "column-not-in-table"
    summary = "SQLAlchemy model column missing from its table"
    exact_on_ast_tree = True
    schema_required = "database"

    VALID = [
        # Every column is in the table; relationships and properties are no columns.
        Valid("""
            from typing import Optional
            from sqlalchemy import ForeignKey, String, func, select
            from sqlalchemy.ext.associationproxy import association_proxy
            from sqlalchemy.ext.hybrid import hybrid_property
            from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

            class Base(DeclarativeBase):
                pass

            class Author(Base):
                __tablename__ = "authors"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str] = mapped_column(String(100))
                email: Mapped[Optional[str]]
                articles: Mapped[list["Article"]] = relationship(back_populates="author")
                titles = association_proxy("articles", "title")
                article_count = column_property(select(func.count()).where(True).scalar_subquery())

                @hybrid_property
                def display(self) -> str:
                    return self.name

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
                author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("authors.id"))
                author: Mapped[Optional[Author]] = relationship(back_populates="articles")
        """, database=EXAMPLE_DATABASE),
        # A column checked under its database name; a ClassVar is not mapped.
        Valid("""
            from typing import ClassVar
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Author(Base):
                __tablename__ = "authors"
                id = Column(Integer, primary_key=True)
                full_name = Column("name", String(100), nullable=False)
                contact = Column(String(200), name="email")
                page_size: ClassVar[int] = 20
        """, database=EXAMPLE_DATABASE),
        # Joined inheritance: the parent's columns are in the parent's table.
        Valid("""
            from sqlalchemy import ForeignKey, String
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Author(Base):
                __tablename__ = "authors"
                __mapper_args__ = {"polymorphic_identity": "author"}
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str] = mapped_column(String(100))
                email: Mapped[str | None]

            class Editor(Author):
                __tablename__ = "editors"
                __mapper_args__ = {"polymorphic_identity": "editor"}
                id: Mapped[int] = mapped_column(ForeignKey("authors.id"), primary_key=True)
                desk: Mapped[str | None]
        """, database=EXAMPLE_DATABASE),
        # Not a model (no declarative base), and no database configured.
        Valid("""
            from sqlalchemy import Column, String

            class ArticleForm:
                __tablename__ = "articles"
                references = Column(String)
        """, database=EXAMPLE_DATABASE),
        Valid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                references: Mapped[str]
        """),
    ]
    INVALID = [
        # The guide's missing column.
        Invalid("""
            from typing import Optional
            from sqlalchemy import JSON
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
                references: Mapped[Optional[list]] = mapped_column(JSON)
        """, database=EXAMPLE_DATABASE, line=12, message="column articles.references does not exist"),
        # Classic style: the database name differs from the attribute's.
        Invalid("""
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.orm import declarative_base, deferred

            Base = declarative_base()

            class Author(Base):
                __tablename__ = "authors"
                id = Column(Integer, primary_key=True)
                name = Column("full_name", String(100))
                bio = deferred(Column(String))
        """, database=EXAMPLE_DATABASE, count=2),
        # A same-module mixin's column, reported at the model.
        Invalid("""
            from datetime import datetime
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Timestamps:
                created_at: Mapped[datetime]
                updated_at: Mapped[datetime]

            class Author(Base, Timestamps):
                __tablename__ = "authors"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]
        """, database=EXAMPLE_DATABASE, line=11, count=2, message="from `Timestamps`"),
    ]

    def finish(self) -> None:
        schema = database(self.ctx)
        for model, found in checked_models(self.ctx):
            if not isinstance(found, dict) or schema is None:
                continue
            for column in model.columns:
                if schema.column(found, column.name) is not None:
                    continue
                inherited = column.owner != model.name
                described = f"`{model.name}.{column.attribute}`" + (f" (from `{column.owner}`)" if inherited else "")
                self.ctx.report(
                    model.node.name if inherited else column.node,
                    f"{described}: table '{model.table}' has no column '{column.name}', so every query on "
                    f"`{model.name}` fails with `column {model.table}.{column.name} does not exist`; add it "
                    f"with a migration, or drop it from the model",
                )
