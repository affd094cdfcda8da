"""PF101: a generated UUID given as the `id` of a record whose id is an integer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import FieldInfo
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    ITEM_ACTIONS,
    ITEMS_URL,
    collection_for_name,
    example_column,
    example_files,
    item_call_collection,
    project_schema,
)
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Valid

_UUID_FACTORIES = frozenset({f"uuid.uuid{n}" for n in (1, 3, 4, 5, 6, 7)})
# Class methods that build a record from keywords (ORMs, pydantic).
_RECORD_METHODS = frozenset({"create", "model_construct", "construct"})
# What an annotation may wrap the value's type in (`Optional[int]`, `Mapped[int | None]`).
_WRAPPERS = frozenset({"Optional", "Union", "Mapped", "Annotated", "Final", "None"})
_COLUMN_FACTORIES = frozenset({"Column", "mapped_column"})
_INTEGER_COLUMNS = frozenset({"Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT", "SMALLINT", "INT"})
# A column's keyword defaults and positional generators: the value is filled on insert.
_DEFAULT_KEYWORDS = frozenset({"default", "insert_default", "server_default", "default_factory"})
_DATABASE_VALUES = frozenset({"Identity", "Sequence", "FetchedValue", "Computed"})
# Directus field types of an integer key.
_DIRECTUS_INTEGERS = frozenset({"integer", "bigInteger"})
# HTTP calls whose `json=` body creates or writes an item.
_HTTP_BODY_METHODS = frozenset({"post", "put", "patch", "request"})
_MAX_HOPS = 5

_ARTICLES = example_files({
    "articles": [example_column("id", "integer", nullable=False, primary_key=True, auto_increment=True), "title"],
    "tokens": [example_column("id", "uuid", nullable=False, primary_key=True), "label"],
})


class ManualUuidId(Rule):
    """
    ## What it does
    Checks for a generated UUID (`uuid.uuid4()`, `uuid4()`, `uuid.uuid1()`,
    `str(uuid.uuid4())`, `uuid4().hex`, an f-string of one, or a variable assigned one)
    given as the `id` of a record whose id is known to be an integer:

    - an `id=` keyword to a model constructor (`Model(...)`, `Model.create(...)`,
      `Model.model_construct(...)`) or to `insert(Model).values(...)`, or an `"id"` key of a
      dict given to `.values(...)`, when the model's `id` is annotated `int` (`Optional[int]`,
      `Mapped[int]`, SQLModel's `int | None = Field(primary_key=True)`) or is an integer
      column in the model's module (`id = Column(Integer, primary_key=True)`);
    - a model or a dict literal (also through a variable, or in a list) sent to a Directus
      collection whose `id` the schema says is an integer or auto-increment: the item of
      `create_item("articles", item)` / `create_items(...)`, or the `json=` body of an HTTP
      call to `.../items/articles`; a model is also matched to its collection by
      `[tool.pitfalls.directus.models]` or its name (`DirectusArticle` -> `articles`).

    Not reported: a record whose `id` is a string or a UUID (`id: str`, `UUID4`,
    `Mapped[uuid.UUID]`, a custom column type such as a `GUID` `TypeDecorator`, a UUID
    default, a Directus `uuid` or string key) or whose id type is unknown (a class of
    another library, an unannotated column in another module, no schema); dicts that are
    not sent to such a collection (rows for alembic's `op.bulk_insert`, payloads of other
    APIs, `model_copy(update={"id": ...})`, message envelopes); and UUIDs given as anything
    but `id` (`correlation_id=uuid4()`, a header). A Directus schema, when there is one,
    decides over the model's annotation.

    ## Why is this bad?
    An auto-increment integer primary key is assigned by the database. A UUID string where
    the integer is expected is refused when the record is created:

    ```
    ValidationError: ID field expects integer but received UUID string
    Type mismatch: expected integer, got string
    ```

    Read the id the database assigned back from the response (`result["data"]["id"]`).

    ## Example
    ```python
    import uuid

    article_data = DirectusArticle(
        id=str(uuid.uuid4()),
        title="Test Article",
    )
    ```

    ## Use instead
    ```python
    article_data = DirectusArticle(
        title="Test Article",
    )
    result = directus.create_item("articles", article_data)
    article_id = result["data"]["id"]
    ```

    ## Fix safety
    The fix removes the `id` argument or key, and is offered only when the record gets an
    id without it: the model's `id` has a default (`= None`, an auto-increment integer
    primary key column) and, for a Directus collection, the schema's key is auto-increment
    or has a default. A model whose `id` is required (`id: int`), a class the project does
    not define, or a key the database does not fill gets no fix. The fix is unsafe: code
    that used the generated id afterwards (to link other records, or in a response) must
    read the id the database assigned instead.
    """

    code = "PF101"
    name = "manual-uuid-id"
    summary = "Generated UUID passed as a record's `id`"
    fix_applicability = Applicability.UNSAFE

    VALID = [
        Valid("""
            import uuid
            from app.models import DirectusArticle

            article_data = DirectusArticle(title="Test Article")
            headers = {"X-Correlation-ID": str(uuid.uuid4())}
            event = DirectusArticle(title="x", correlation_id=uuid.uuid4())
            request_id = uuid.uuid4().hex
            article_data.external_ref = str(uuid.uuid4())
        """, files={"app/__init__.py": "", "app/models.py": """
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: int | None = None
                title: str | None = None
                correlation_id: object = None
        """}, path="app/routes.py"),
        # The model's id is itself a UUID (pydantic, SQLAlchemy 2.0), in another module.
        Valid("""
            from uuid import uuid4
            from app.schemas import Partner
            from app.models import Order

            partner = Partner(id=uuid4(), name="ACME")
            order = Order(id=uuid4(), total=10)
        """, files={"app/__init__.py": "", "app/schemas.py": """
            import uuid
            from pydantic import UUID4, BaseModel

            class Base(BaseModel):
                id: UUID4

            class Partner(Base):
                name: str
        """, "app/models.py": """
            import uuid
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Order(Base):
                __tablename__ = "orders"
                id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
                total: Mapped[int]
        """}, path="app/routes.py"),
        # Ids the model generates itself; same-module `Column(UUID)` / `Column(String)` keys.
        Valid("""
            import uuid
            from pydantic import BaseModel, Field
            from sqlalchemy import Column, String
            from sqlalchemy.dialects.postgresql import UUID
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Session(BaseModel):
                id: str = Field(default_factory=lambda: str(uuid.uuid4()))

            class Document(Base):
                __tablename__ = "documents"
                id = Column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
                title = Column(String)

            class UserData(Base):
                __tablename__ = "user_data"
                id = Column(String(36), primary_key=True)

            session = Session(id=str(uuid.uuid4()))
            document = Document(id=uuid.uuid4(), title="x")
            data = UserData(id=str(uuid.uuid4()))
        """),
        # String primary keys (SQLAlchemy 2.0, SQLModel) in another module.
        Valid("""
            import uuid
            from app.models import Job, Session

            job = Job(id=str(uuid.uuid4()))
            session = Session(id=uuid.uuid4().hex)
        """, files={"app/__init__.py": "", "app/models.py": """
            from sqlalchemy import String
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
            from sqlmodel import Field, SQLModel

            class Base(DeclarativeBase):
                pass

            class Job(Base):
                __tablename__ = "jobs"
                id: Mapped[str] = mapped_column(String(36), primary_key=True)

            class Session(SQLModel, table=True):
                id: str = Field(primary_key=True)
        """}, path="app/routes.py"),
        # A local function called uuid4, other libraries' ids, message envelopes.
        Valid("""
            import uuid
            from dash import html

            def uuid4() -> int:
                return 1

            class Article:
                def __init__(self, id: int) -> None:
                    self.id = id

            article = Article(id=uuid4())
            div = html.Div(id=str(uuid.uuid4()))
            scheduler.add_job(sync, "interval", id=str(uuid.uuid4()))
            message = {"jsonrpc": "2.0", "id": str(uuid.uuid4()), "method": "ping"}
        """),
        Valid("""
            import uuid

            def tag(item: dict) -> dict:
                return {**item, "trace_id": str(uuid.uuid4()), "id": item["id"]}
        """),
        # App-generated string ids: pydantic models declaring `id: str` (through a base in
        # another module), a message envelope, and classes whose id type nobody here knows.
        Valid("""
            from uuid import uuid4
            from app.models import Account, Envelope
            from vendor import Thing

            account = Account(id=uuid4().hex, username="satoshi")
            message = Envelope(id=str(uuid4()), type="ping")
            thing = Thing(id=uuid4())
            Record.create(id=uuid4())
        """, files={"app/__init__.py": "", "app/models.py": """
            from pydantic import BaseModel, Field

            class AccountId(BaseModel):
                id: str

            class Account(AccountId):
                username: str | None = None

            class Envelope(BaseModel):
                id: str = Field(..., description="message id")
                type: str
        """}, path="app/routes.py"),
        # A custom UUID column type, and `model_copy(update=...)` of a model whose id is a UUID.
        Valid("""
            from uuid import uuid4
            from app.models import Label, Step

            label = Label(id=uuid4(), name="x")
            step = Step(id=uuid4(), text="a").model_copy(update={"id": uuid4(), "text": "b"})
        """, files={"app/__init__.py": "", "app/models.py": """
            from pydantic import UUID4, BaseModel
            from sqlalchemy import orm
            from app.types import GUID

            class Label(orm.DeclarativeBase):
                __tablename__ = "labels"
                id: orm.Mapped[GUID] = orm.mapped_column(GUID, primary_key=True, default=GUID.generate)
                name: orm.Mapped[str]

            class Step(BaseModel):
                id: UUID4
                text: str
        """, "app/types.py": """
            from sqlalchemy.types import TypeDecorator

            class GUID(TypeDecorator):
                pass
        """}, path="app/routes.py"),
        # Raw dicts that are no Directus item: alembic rows, another API's payload, a
        # collection keyed by a UUID.
        Valid("""
            import uuid
            import requests
            from alembic import op

            def upgrade(table, directus, url) -> None:
                op.bulk_insert(table, [{"id": uuid.uuid4(), "position": 1}])
                requests.post(f"{url}/signals", json={"raw": {"id": str(uuid.uuid4())}}, timeout=10)
                payload = {"id": uuid.uuid1()}
                directus.create_item("tokens", {"id": str(uuid.uuid4()), "label": "x"})
        """, files=_ARTICLES, config=EXAMPLE_CONFIG),
    ]
    INVALID = [
        # The schema says `articles.id` is an auto-increment integer, whatever the model says.
        Invalid("""
            import uuid
            from app.models import DirectusArticle

            article_data = DirectusArticle(
                id=str(uuid.uuid4()),  # This causes the error
                title="Test Article"
            )
        """, files={**_ARTICLES, "app/__init__.py": "", "app/models.py": """
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[str] = None
                title: Optional[str] = None
        """}, config=EXAMPLE_CONFIG, path="app/routes.py", line=5, fixed="""
            import uuid
            from app.models import DirectusArticle

            article_data = DirectusArticle(
                title="Test Article"
            )
        """),
        Invalid("""
            from uuid import uuid4
            from app.models import Article

            article = Article(title="x", id=uuid4().hex)
            other = Article(
                title="y",
                id=f"{uuid4()}",
            )
        """, files={"app/__init__.py": "", "app/models.py": """
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Article(Base):
                __tablename__ = "articles"
                id: Mapped[int] = mapped_column(primary_key=True)
                title: Mapped[str]
        """}, path="app/routes.py", count=2, fixed="""
            from uuid import uuid4
            from app.models import Article

            article = Article(title="x")
            other = Article(
                title="y",
            )
        """),
        # Items sent to the collection: an HTTP body, through a variable, in a list.
        Invalid("""
            import uuid
            import requests

            article_id = str(uuid.uuid4())
            requests.post(f"{url}/items/articles", json={
                "title": "Test Article",
                "id": article_id,
            }, timeout=10)
            rows = [{"id": uuid.uuid1(), "title": "x"}]
            directus.create_items("articles", rows)
        """, files=_ARTICLES, config=EXAMPLE_CONFIG, count=2, fixed="""
            import uuid
            import requests

            article_id = str(uuid.uuid4())
            requests.post(f"{url}/items/articles", json={
                "title": "Test Article",
            }, timeout=10)
            rows = [{"title": "x"}]
            directus.create_items("articles", rows)
        """),
        # `id: int` without a default: reported, but the model cannot be built without it.
        Invalid("""
            import uuid
            from app.models import Article, Comment

            async def create(db) -> None:
                await Article.create(id=uuid.uuid4(), title="x")
                await db.execute(insert(Article).values(id=str(uuid.uuid4())))
                await db.execute(insert(Comment).values({"id": uuid.uuid4().hex, "body": "y"}))
        """, files={"app/__init__.py": "", "app/models.py": """
            from sqlalchemy import Column, Integer, String
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()

            class Article:
                id: int
                title: str

            class Comment(Base):
                __tablename__ = "comments"
                id: int = Column(Integer, primary_key=True)
                body = Column(String)
        """}, path="app/routes.py", count=3, fixed="""
            import uuid
            from app.models import Article, Comment

            async def create(db) -> None:
                await Article.create(id=uuid.uuid4(), title="x")
                await db.execute(insert(Article).values(id=str(uuid.uuid4())))
                await db.execute(insert(Comment).values({"body": "y"}))
        """),
        Invalid("""
            import uuid
            from app.models import DirectusArticle

            def build():
                if True:
                    return DirectusArticle(
                        title="Test Article",
                        id=str(uuid.uuid4()),
                        body="text",
                    )
        """, files={"app/__init__.py": "", "app/models.py": """
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[int] = None
                title: str
                body: str
        """}, path="app/routes.py", line=8, fixed="""
            import uuid
            from app.models import DirectusArticle

            def build():
                if True:
                    return DirectusArticle(
                        title="Test Article",
                        body="text",
                    )
        """),
        Invalid("""
            from uuid import uuid4 as new_id

            row = {"id": new_id().hex, "title": "x"}
            directus.create_item("articles", row)
        """, files=_ARTICLES, config=EXAMPLE_CONFIG, line=3, fixed="""
            from uuid import uuid4 as new_id

            row = {"title": "x"}
            directus.create_item("articles", row)
        """),
        # An integer column the index does not record (no annotation), seen in its module;
        # a pydantic `id: int` that is required gets no fix.
        Invalid("""
            import uuid
            from pydantic import BaseModel
            from sqlalchemy import BigInteger, Column
            from app.db import Base

            class Order(Base):
                __tablename__ = "orders"
                id = Column(BigInteger, primary_key=True)

            class OrderOut(BaseModel):
                id: int

            order, out = Order(id=uuid.uuid4().int), OrderOut(id=str(uuid.uuid4()))
        """, files={"app/__init__.py": "", "app/db.py": """
            from sqlalchemy.orm import declarative_base

            Base = declarative_base()
        """}, path="app/orders.py", count=2, fixed="""
            import uuid
            from pydantic import BaseModel
            from sqlalchemy import BigInteger, Column
            from app.db import Base

            class Order(Base):
                __tablename__ = "orders"
                id = Column(BigInteger, primary_key=True)

            class OrderOut(BaseModel):
                id: int

            order, out = Order(), OrderOut(id=str(uuid.uuid4()))
        """),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._reported: set[cst.CSTNode] = set()
        self._sent_models: set[cst.Call] = set()  # checked against the collection they are sent to

    def visit_Call(self, node: cst.Call) -> None:
        sent = self._sent(node)
        if sent is not None:
            payload, collection = sent
            for record in self._records(payload):
                if isinstance(record, cst.Call):
                    self._sent_models.add(record)
                    self._check_call(record, collection)
                else:
                    self._check_dict(record, lambda: self._collection_id(collection))
        if node not in self._sent_models:
            self._check_call(node, None)

    def _check_call(self, call: cst.Call, collection: str | None) -> None:
        """A model built with a generated `id=`, or `insert(Model).values({...})`; the model
        is looked up only once a generated id is found."""
        def model_id() -> _IntegerId | None:
            model = self._model(call.func)
            return self._model_id(model, collection) if model is not None else None

        for index, arg in enumerate(call.args):
            if arg.keyword is None:
                if type(arg.value) is cst.Dict and names.last_name(call.func) == "values":
                    self._check_dict(arg.value, model_id)
            elif arg.keyword.value == "id":
                found = model_id() if self._is_uuid(arg.value) else None
                if found is not None:
                    self._report(arg, found, _removal(call.args, index), "Remove the `id` argument")
                return

    def _check_dict(self, node: cst.Dict, record_id: Callable[[], _IntegerId | None]) -> None:
        for index, element in enumerate(node.elements):
            key = element.key if isinstance(element, cst.DictElement) else None
            if names.string_value(key) == "id" and self._is_uuid(element.value):
                found = record_id()
                if found is not None:
                    self._report(element, found, _removal(node.elements, index), 'Remove the `"id"` key')
                return

    def _report(self, at: cst.CSTNode, found: _IntegerId, removal: NodeEdit, fix: str) -> None:
        if at in self._reported:  # a record assigned once and sent twice
            return
        self._reported.add(at)
        self.ctx.report(
            at,
            "Generated UUID passed as the record's `id`: let the database assign it",
            fix=self.ctx.fix(fix, removal) if found.omissible else None,
        )

    def _is_uuid(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """A UUID freshly generated by the `uuid` module, or a value derived from one."""
        if depth > _MAX_HOPS:
            return False
        if isinstance(expr, cst.Call):
            func = expr.func
            qualname = self.ctx.qualified_name(func)
            if qualname in _UUID_FACTORIES:
                return True
            if qualname == "builtins.str" and len(expr.args) == 1:
                return self._is_uuid(expr.args[0].value, depth + 1)
            # `str(uuid4()).replace("-", "")`
            return isinstance(func, cst.Attribute) and self._is_uuid(func.value, depth + 1)
        if isinstance(expr, (cst.Attribute, cst.Subscript)):  # `uuid4().hex`, `uuid4().hex[:8]`
            return self._is_uuid(expr.value, depth + 1)
        if isinstance(expr, cst.FormattedString):
            return any(
                isinstance(part, cst.FormattedStringExpression) and self._is_uuid(part.expression, depth + 1)
                for part in expr.parts
            )
        if isinstance(expr, cst.BinaryOperation):  # `"art-" + str(uuid4())`
            return self._is_uuid(expr.left, depth + 1) or self._is_uuid(expr.right, depth + 1)
        if isinstance(expr, cst.Name):
            value = self.ctx.value_of(expr.value)
            return value is not None and value is not expr and self._is_uuid(value, depth + 1)
        return False

    # Where a record goes

    def _sent(self, call: cst.Call) -> tuple[cst.BaseExpression, str] | None:
        """The payload of a Directus create: ``client.create_item("c", item)`` (and
        ``create_items``), or a ``json=`` body sent to an `/items/<c>` URL."""
        found = item_call_collection(call)
        if found is not None:
            create = ITEM_ACTIONS.get(names.last_name(call.func) or "") == "create"
            if create and len(call.args) > 1 and call.args[1].keyword is None:
                return call.args[1].value, found[1]
            return None
        body = _keyword(call, "json")
        if body is None or names.last_name(call.func) not in _HTTP_BODY_METHODS:
            return None
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        url = _keyword(call, "url") or next((p for p in positional if not _is_http_method(p)), None)
        for _ in range(_MAX_HOPS):
            if not isinstance(url, cst.Name):
                break
            url = self.ctx.value_of(url.value)
        # The URL as written: a name right after `/items/` ends at a quote, never at `{`.
        match = ITEMS_URL.search(self.ctx.code_for(url)) if url is not None else None
        return (body, match.group(1)) if match else None

    def _records(
        self, payload: cst.BaseExpression, depth: int = 0, listed: bool = False
    ) -> list[cst.Dict | cst.Call]:
        """The item (dict literal or model) a payload is, or the items of a list of them."""
        if isinstance(payload, cst.Name) and depth < _MAX_HOPS:
            value = self.ctx.value_of(payload.value)
            return self._records(value, depth + 1, listed) if value is not None else []
        if isinstance(payload, (cst.Dict, cst.Call)):
            return [payload]
        if isinstance(payload, (cst.List, cst.Tuple)) and not listed:
            return [r for e in payload.elements for r in self._records(e.value, depth, listed=True)]
        return []

    # What the record is

    def _model(self, func: cst.BaseExpression) -> _Model | None:
        """The model a call builds: ``Model(...)``, ``Model.create(...)`` and the like,
        ``insert(Model).values(...)``; None for any other call."""
        if isinstance(func, cst.Attribute):
            owner = func.value
            if func.attr.value == "values" and isinstance(owner, cst.Call) and names.last_name(owner.func) == "insert":
                table = owner.args[0].value if owner.args and owner.args[0].keyword is None else None
                return self._model(table) if table is not None else None
            if func.attr.value in _RECORD_METHODS:
                return self._model(owner)
        qualname = self.ctx.qualified_name(func)
        if qualname is not None and self.ctx.index.class_info(qualname) is not None:
            return _Model(qualname, qualname.rpartition(".")[2])
        last = names.last_name(func)
        if qualname is None and last is not None and last[:1].isupper():  # a class nobody here defines
            return _Model(None, last)
        return None

    def _model_id(self, model: _Model, collection: str | None) -> _IntegerId | None:
        """The model's `id`, when it is known to be an integer: by the Directus collection
        it is sent to or maps to, else by the model's own declaration."""
        schema = project_schema(self.ctx)
        if collection is None and schema is not None:
            configured = self.ctx.settings.directus.models
            collection = (
                configured.get(model.name)
                or (configured.get(model.qualname) if model.qualname else None)
                or collection_for_name(model.name, schema)
            )
        if schema is not None and "id" in schema.collections.get(collection or "", {}):
            found = self._collection_id(collection)  # what the collection says, whatever the model declares
            return _IntegerId(found.omissible and self._builds_without_id(model)) if found else None
        if model.qualname is None:
            return None
        field = self.ctx.index.find_field(model.qualname, "id")
        if field is not None:
            return _declared_id(field)
        column_call = self._same_module_column(model.qualname)
        return _column_id(column_call) if column_call is not None else None

    def _collection_id(self, collection: str | None) -> _IntegerId | None:
        """The collection's `id`, when the schema says it is an integer."""
        schema = project_schema(self.ctx)
        column = schema.collections.get(collection or "", {}).get("id") if schema is not None else None
        if column is None or not (column.type in _DIRECTUS_INTEGERS or column.auto_increment):
            return None
        return _IntegerId(column.auto_increment or column.has_default)

    def _builds_without_id(self, model: _Model) -> bool:
        """Whether the model is built fine without `id`: a default, or no `id` it requires."""
        if model.qualname is None:
            return False  # nothing here says what its constructor requires
        field = self.ctx.index.find_field(model.qualname, "id")
        if field is not None:
            return field.has_default
        init = self.ctx.index.method(model.qualname, "__init__")
        return init is None or not any(p.name == "id" and not p.has_default for p in init[1].params)

    def _same_module_column(self, qualname: str) -> cst.Call | None:
        """``id = Column(...)`` in the class body: the index only records annotated fields,
        so an unannotated column is only seen in the module that defines the model."""
        module, _, name = self.ctx.index.resolve(qualname).rpartition(".")
        if module != self.ctx.module_name:
            return None
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
                for line in stmt.body.body:
                    for small in getattr(line, "body", ()):
                        if (
                            isinstance(small, cst.Assign)
                            and names.dotted(small.targets[0].target) == "id"
                            and isinstance(small.value, cst.Call)
                        ):
                            return small.value
        return None


@dataclass(frozen=True)
class _Model:
    qualname: str | None  # None: a class the project does not define
    name: str


@dataclass(frozen=True)
class _IntegerId:
    """A record `id` known to be an integer. ``omissible``: the record is built without it
    and gets one all the same (a default, the database's auto-increment)."""

    omissible: bool


def _declared_id(field: FieldInfo) -> _IntegerId | None:
    """An `id` annotated `int` (`Optional[int]`, `Mapped[int]`...), not given a UUID default."""
    types = {n.rpartition(".")[2] for n in field.annotation_names} - _WRAPPERS
    if types != {"int"} or "uuid" in (field.default or "").lower():
        return None
    try:
        value = cst.parse_expression(field.default) if field.default else None
    except cst.ParserSyntaxError:
        return None
    if isinstance(value, cst.Call) and names.last_name(value.func) in _COLUMN_FACTORIES:
        return _IntegerId(_generates(value))
    return _IntegerId(field.has_default)


def _column_id(column: cst.Call) -> _IntegerId | None:
    """``Column(Integer, primary_key=True)`` and the like: an integer column."""
    if names.last_name(column.func) not in _COLUMN_FACTORIES:
        return None
    types = {
        names.last_name(a.value.func if isinstance(a.value, cst.Call) else a.value)
        for a in column.args
        if a.keyword is None
    }
    return _IntegerId(_generates(column)) if types & _INTEGER_COLUMNS else None


def _generates(column: cst.Call) -> bool:
    """Whether the ORM or the database fills the column on insert: a default, an identity
    or sequence, or an integer primary key SQLAlchemy makes auto-increment."""
    keywords = {a.keyword.value: names.dotted(a.value) for a in column.args if a.keyword is not None}
    positional = {
        names.last_name(a.value.func if isinstance(a.value, cst.Call) else a.value)
        for a in column.args
        if a.keyword is None
    }
    if not _DEFAULT_KEYWORDS.isdisjoint(keywords) or not _DATABASE_VALUES.isdisjoint(positional):
        return True
    return keywords.get("primary_key") == "True" and keywords.get("autoincrement") != "False"


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _is_http_method(expr: cst.BaseExpression) -> bool:
    """The `"POST"` of ``client.request("POST", url)``."""
    return (names.string_value(expr) or "").lower() in _HTTP_BODY_METHODS


def _removal(elements: tuple, index: int) -> NodeEdit:
    """Delete one argument or dict entry as text, so the others keep their layout: up to
    the next element; the last one from the end of the one before (its comma goes, the
    removed element's own trailing comma stays); a lone one with its comma."""
    removed = elements[index]
    if index + 1 < len(elements):
        return NodeEdit.span((removed, "start"), (elements[index + 1], "start"))
    if index > 0:
        return NodeEdit.span((elements[index - 1], "end"), (removed, "end"))
    comma = removed.comma if isinstance(removed.comma, cst.Comma) else removed
    return NodeEdit.span((removed, "start"), (comma, "end"))