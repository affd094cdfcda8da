"""PF601: a SQLAlchemy model whose table the database does not have."""

from __future__ import annotations

from pitfalls.core.schema import Lookup
from pitfalls.rules._sqlalchemy import EXAMPLE_DATABASE, checked_models
from pitfalls.rules.api import Invalid, Rule, Valid

_BASE_MODULE = {
    "app/__init__.py": "",
    "app/db.py": """
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()
    """,
}


class TableNotInDatabase(Rule):
    """
    ## What it does
    Checks each SQLAlchemy model (a class deriving from a declarative base, with a string
    `__tablename__`) against the database given by `--database-url`,
    `PITFALLS_DATABASE_URL` or `[tool.pitfalls.database] url`, and reports the models
    whose table (or view) is not there. A model with `__table_args__ = {"schema": ...}`
    is looked up in that schema; one without, in the default schema, or else in the one
    other schema that has a table of that name (a `search_path` or `MetaData(schema=...)`).

    Not checked: abstract classes (`__abstract__ = True`), mixins, classes that are no
    SQLAlchemy model, models mapped to an explicit `__table__`, a `__tablename__` computed
    by a `declared_attr`, and schemas the database was not read in (only PostgreSQL's
    schemas are all read).

    ## Why is this bad?
    The migration that creates the table was not applied (or `__tablename__` has a typo).
    Every query on the model fails:

    ```
    sqlalchemy.exc.ProgrammingError: relation "business_object_extensions" does not exist
    ```

    ## Example
    ```python
    class BusinessObjectExtension(Base):
        __tablename__ = "business_object_extensions"  # no such table

        id: Mapped[int] = mapped_column(primary_key=True)
    ```

    ## Use instead
    Apply the migration that creates the table (`alembic upgrade head`; generate it with
    `alembic revision --autogenerate` if there is none), or correct `__tablename__`.

    ## Fix safety
    There is no automatic fix: the database changes through a migration, not an edit.
    """

    code = "PF601"
    name = "table-not-in-database"
    summary = "SQLAlchemy model's table missing from the database"
    exact_on_ast_tree = True
    schema_required = "database"

    VALID = [
        # The table exists; so does the view another model maps.
        Valid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)

            class PublishedArticle(Base):
                __tablename__ = "published_articles"
                id: Mapped[int] = mapped_column(primary_key=True)
        """, database=EXAMPLE_DATABASE),
        # No SQLAlchemy model: a plain class, a mixin, an abstract base; and an explicit __table__.
        Valid("""
            from sqlalchemy import Column, Integer, Table
            from sqlalchemy.orm import DeclarativeBase

            class Base(DeclarativeBase):
                pass

            class CacheEntry:
                __tablename__ = "cache_entries"

            class AuditMixin:
                __tablename__ = "audit_log"

            class TimestampedBase(Base):
                __abstract__ = True
                __tablename__ = "timestamped"

            class Legacy(Base):
                __table__ = Table("legacy_rows", Base.metadata, Column("id", Integer, primary_key=True))
        """, database=EXAMPLE_DATABASE),
        # Without a database the rule is off.
        Valid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class BusinessObjectExtension(Base):
                __tablename__ = "business_object_extensions"
                id: Mapped[int] = mapped_column(primary_key=True)
        """),
        # A schema the database was not read in (SQLite has only `main`).
        Valid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Invoice(Base):
                __tablename__ = "invoices"
                __table_args__ = {"schema": "billing"}
                id: Mapped[int] = mapped_column(primary_key=True)
        """, database=EXAMPLE_DATABASE),
    ]
    INVALID = [
        # The guide's migration that was never applied.
        Invalid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class BusinessObjectExtension(Base):
                __tablename__ = "business_object_extensions"

                id: Mapped[int] = mapped_column(primary_key=True)
        """, database=EXAMPLE_DATABASE, line=7, message='relation "business_object_extensions" does not exist'),
        # Classic declarative, with the base in another module; a typo in the name.
        Invalid("""
            from sqlalchemy import Column, Integer, String

            from app.db import Base

            class Author(Base):
                __tablename__ = "author"
                id = Column(Integer, primary_key=True)
                name = Column(String(100), nullable=False)
        """, files=_BASE_MODULE, path="app/models.py", database=EXAMPLE_DATABASE, line=6, count=1),
        # The default schema, named explicitly.
        Invalid("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Comment(Base):
                __tablename__ = "comments"
                __table_args__ = {"schema": "main"}
                id: Mapped[int] = mapped_column(primary_key=True)
        """, database=EXAMPLE_DATABASE, line=7),
    ]

    def finish(self) -> None:
        for model, found in checked_models(self.ctx):
            if found is not Lookup.MISSING:
                continue
            where = f"{model.schema}.{model.table}" if model.schema else model.table
            self.ctx.report(
                model.table_node,
                f"`{model.name}` maps table '{where}', which the database does not have: every query "
                f'fails with `relation "{model.table}" does not exist`; apply the migration that creates '
                f"it (alembic upgrade head) or correct `__tablename__`",
            )
