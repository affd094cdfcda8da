"""PF603: a NOT NULL column without a default that the SQLAlchemy model may leave empty."""

from __future__ import annotations

from pitfalls.rules._sqlalchemy import EXAMPLE_DATABASE, Model, ModelColumn, checked_models, database
from pitfalls.rules.api import Invalid, Rule, Valid

_MIXIN_MODULE = {
    "app/__init__.py": "",
    "app/mixins.py": """
        from sqlalchemy import Column, String

        class Sluggable:
            slug = Column(String(200), nullable=False)
    """,
}


class NotNullColumnLeftEmpty(Rule):
    """
    ## What it does
    Checks each SQLAlchemy model against its table in the database (see PF601), and
    reports the table's NOT NULL columns that have no default in the database (no server
    default, sequence, identity or generated value) when the model
    - declares the column nullable: `Mapped[Optional[str]]`, `Mapped[str | None]`,
      `nullable=True`, or a `Column(...)` without `nullable=False` (its default), and gives
      it no default of its own (`default=`, `insert_default=`, `server_default=`); or
    - does not map the column at all. This is only reported when every class the model
      inherits from is defined in the same module (or is SQLAlchemy's base), since a
      mixin or base elsewhere may map it, and not for inheritance hierarchies
      (`polymorphic_*` in `__mapper_args__`), whose subclasses may map it.

    Primary keys are not reported: SQLAlchemy never sends NULL for them.

    ## Why is this bad?
    An object created without the value is inserted with NULL (or without the column),
    and the database refuses the row when the session flushes:

    ```
    sqlalchemy.exc.IntegrityError: (psycopg.errors.NotNullViolation) null value in column "slug" of relation "articles" violates not-null constraint
    ```

    ## Example
    ```python
    class Article(Base):
        __tablename__ = "articles"

        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        slug: Mapped[Optional[str]]  # NOT NULL in the database
    ```

    ## Use instead
    ```python
    class Article(Base):
        __tablename__ = "articles"

        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        slug: Mapped[str]
    ```
    or give the column a default (`server_default=` and a migration, or `default=`), or
    make it nullable in the database if NULL is a valid value.

    ## Fix safety
    There is no automatic fix. Making the attribute non-optional changes the model's type,
    which code that creates objects without the value (or assigns None) relies on, and
    which side is wrong (the model, or the migration that added NOT NULL) is a decision.
    """

    code = "PF603"
    name = "not-null-column-left-empty"
    summary = "NOT NULL column without a default that the model may leave empty"
    exact_on_ast_tree = True
    schema_required = "database"

    VALID = [
        # Required in the model; nullable or defaulted in the database; the key numbers itself.
        Valid("""
            from datetime import datetime
            from typing import Optional
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
                slug: Mapped[str]
                content: Mapped[Optional[str]]
                status: Mapped[Optional[str]]
                created_at: Mapped[Optional[datetime]]
        """, database=EXAMPLE_DATABASE),
        # Defaults of the model's own (Python-side or server-side); a nullable=False Column.
        Valid("""
            from sqlalchemy import Column, Integer, String, text
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Article(Base):
                __tablename__ = "articles"
                id = Column(Integer, primary_key=True)
                title = Column(String(200), nullable=False)
                slug = Column(String(200), default="")

            class Author(Base):
                __tablename__ = "authors"
                id = Column(Integer, primary_key=True)
                name = Column(String(100), server_default=text("'anonymous'"))
        """, database=EXAMPLE_DATABASE),
        # Annotated aliases carry the key and the default; a string annotation.
        Valid("""
            from typing import Annotated, Optional
            from sqlalchemy import String
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            intpk = Annotated[int, mapped_column(primary_key=True)]
            slug_or_blank = Annotated[Optional[str], mapped_column(String(200), default="")]

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[intpk]
                title: Mapped["str"]
                slug: Mapped[slug_or_blank]
        """, database=EXAMPLE_DATABASE),
        # `slug` may come from a mixin in another module: not reported.
        Valid("""
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.orm import declarative_base

            from app.mixins import Sluggable

            Base = declarative_base()

            class Article(Base, Sluggable):
                __tablename__ = "articles"
                id = Column(Integer, primary_key=True)
                title = Column(String(200), nullable=False)
        """, files=_MIXIN_MODULE, path="app/models.py", database=EXAMPLE_DATABASE),
        # An inheritance base: its subclasses may map the rest of the table.
        Valid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                __mapper_args__ = {"polymorphic_on": "status", "polymorphic_identity": "draft"}
                id: Mapped[int] = mapped_column(primary_key=True)
                status: Mapped[str]
        """, database=EXAMPLE_DATABASE),
        # No database configured.
        Valid("""
            from typing import Optional
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                slug: Mapped[Optional[str]]
        """),
    ]
    INVALID = [
        # Optional in the model, NOT NULL without a default in the database.
        Invalid("""
            from typing import Optional
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
                slug: Mapped[str | None] = mapped_column(unique=True)
        """, database=EXAMPLE_DATABASE, line=11, count=1, message='null value in column "slug"'),
        # Classic Column(): nullable unless it says otherwise; explicit nullable=True.
        Invalid("""
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.orm import declarative_base, mapped_column

            Base = declarative_base()

            class Article(Base):
                __tablename__ = "articles"
                id = Column(Integer, primary_key=True)
                title = Column(String(200))
                slug = mapped_column(String(200), nullable=True)
        """, database=EXAMPLE_DATABASE, count=2),
        # Not mapped at all: reported at the class.
        Invalid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
        """, database=EXAMPLE_DATABASE, line=6, count=1, message="does not map column 'slug'"),
    ]

    def finish(self) -> None:
        schema = database(self.ctx)
        for model, found in checked_models(self.ctx):
            if not isinstance(found, dict) or schema is None:
                continue
            mapped: set[str] = set()
            for column in model.columns:
                mapped.add(column.name.casefold() if schema.folds_case else column.name)
                db = schema.column(found, column.name)
                if db is None or db.nullable or db.has_default:
                    continue
                if column.nullable is True and not column.has_default and not column.primary_key:
                    self._report_nullable(model, column)
            if not model.complete or model.polymorphic:
                continue
            for db in found.values():
                key = db.name.casefold() if schema.folds_case else db.name
                if not db.nullable and not db.has_default and key not in mapped:
                    self.ctx.report(
                        model.node.name,
                        f"`{model.name}` does not map column '{db.name}' of table '{model.table}', which is "
                        f"NOT NULL without a default: every insert through the model fails with "
                        f'`null value in column "{db.name}" of relation "{model.table}" violates not-null '
                        f"constraint`; map it (with a default if need be), or give the column a server default",
                    )

    def _report_nullable(self, model: Model, column: ModelColumn) -> None:
        inherited = column.owner != model.name
        described = f"`{model.name}.{column.attribute}`" + (f" (from `{column.owner}`)" if inherited else "")
        self.ctx.report(
            model.node.name if inherited else column.node,
            f"{described} may be None in the model, but column {model.table}.{column.name} is NOT NULL "
            f"without a default: inserting an object without it fails with `null value in column "
            f'"{column.name}" of relation "{model.table}" violates not-null constraint`; make the '
            f"attribute required (or give it a default), or the column nullable",
        )
