"""PF101: a generated UUID given as a record's `id`."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, Valid

_UUID_FACTORIES = frozenset({f"uuid.uuid{n}" for n in (1, 3, 4, 5, 6, 7)})
# Annotations (last part) that make the model's `id` a UUID: uuid.UUID, pydantic's UUID4,
# SQLAlchemy's UUID/Uuid (through `Mapped[...]` too).
_UUID_TYPES = frozenset({"UUID", "UUID1", "UUID3", "UUID4", "UUID5", "UUID6", "UUID7", "Uuid"})
# Class methods that build a record from keywords (ORMs, pydantic).
_RECORD_METHODS = frozenset({"create", "values", "model_construct", "construct"})
# Keys of a message envelope, whose `id` is a message or request id (JSON-RPC, websockets).
_ENVELOPE_KEYS = frozenset({"jsonrpc", "method", "event", "payload"})


class ManualUuidId(Rule):
    """
    ## What it does
    Checks for a generated UUID (`uuid.uuid4()`, `uuid4()`, `uuid.uuid1()`,
    `str(uuid.uuid4())`, `uuid4().hex`, an f-string of one, or a variable assigned one)
    passed as the `id` of a record: an `id=` keyword to a model constructor (a class of the
    project, an unresolved `CapWords` name, or `Model.create(...)`/`insert(...).values(...)`),
    or an `"id"` key in a dict literal.

    Not reported: a model whose own `id` is declared as a UUID (annotated `uuid.UUID`,
    `UUID4`, `Mapped[uuid.UUID]`, or with a UUID default such as
    `Field(default_factory=uuid4)` / `mapped_column(default=uuid.uuid4)`) or as a string
    primary key column (`Mapped[str]`, `Field(primary_key=True)` on a `str`,
    `Column(String(36), primary_key=True)`), UUIDs used as anything else
    (`correlation_id=uuid4()`, `request_id`, a `headers` value), calls to functions and to
    classes of other libraries (`scheduler.add_job(id=...)`, `html.Div(id=...)`), message
    envelopes (a dict that also has a `"jsonrpc"`, `"method"`, `"event"` or `"payload"`
    key), and functions named `uuid4` that do not come from `uuid`.

    The model is found across files through the imports. A model whose `id` is declared
    without an annotation (`id = Column(UUID)`) is only understood in the module that
    calls it.

    ## Why is this bad?
    Directus and most SQL schemas give records an auto-increment integer primary key. A
    UUID string where the integer is expected is refused when the record is created:

    ```
    ValidationError: ID field expects integer but received UUID string
    Type mismatch: expected integer, got string
    ```

    The database assigns the id; read it back from the response (`result["data"]["id"]`).

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
    The fix removes the `id` argument or key. It is unsafe: code that used the generated
    id afterwards (to link other records, or in a response) must read the id the database
    assigned instead, and a table whose `id` really is a UUID column without a default
    would now have none.
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
    ]
    INVALID = [
        Invalid("""
            import uuid
            from app.models import DirectusArticle

            article_data = DirectusArticle(
                id=str(uuid.uuid4()),  # This causes the error
                title="Test Article"
            )
        """, files={"app/__init__.py": "", "app/models.py": """
            from typing import Optional
            from pydantic import BaseModel

            class DirectusArticle(BaseModel):
                id: Optional[str] = None
                title: Optional[str] = None
        """}, path="app/routes.py", line=5, fixed="""
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
        Invalid("""
            import uuid
            import requests

            article_id = str(uuid.uuid4())
            requests.post(f"{url}/items/articles", json={
                "title": "Test Article",
                "id": article_id,
            }, timeout=10)
            payload = {"id": uuid.uuid1()}
        """, count=2, fixed="""
            import uuid
            import requests

            article_id = str(uuid.uuid4())
            requests.post(f"{url}/items/articles", json={
                "title": "Test Article",
            }, timeout=10)
            payload = {}
        """),
        Invalid("""
            import uuid
            from app.models import Article

            async def create(db) -> None:
                await Article.create(id=uuid.uuid4(), title="x")
                await db.execute(insert(Article).values(id=str(uuid.uuid4())))
        """, files={"app/__init__.py": "", "app/models.py": """
            class Article:
                id: int
                title: str
        """}, path="app/routes.py", count=2, fixed="""
            import uuid
            from app.models import Article

            async def create(db) -> None:
                await Article.create(title="x")
                await db.execute(insert(Article).values())
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
        """, line=3, fixed="""
            from uuid import uuid4 as new_id

            row = {"title": "x"}
        """),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        for index, arg in enumerate(node.args):
            if arg.keyword is not None and arg.keyword.value == "id" and self._is_uuid(arg.value):
                if self._builds_record(node.func):
                    self._report(arg, _removal(node.args, index), "Remove the `id` argument")
                return

    def visit_Dict(self, node: cst.Dict) -> None:
        for index, element in enumerate(node.elements):
            key = element.key if isinstance(element, cst.DictElement) else None
            if isinstance(key, cst.SimpleString) and key.value[1:-1] == "id" and self._is_uuid(element.value):
                if not _is_envelope(node):
                    self._report(element, _removal(node.elements, index), 'Remove the `"id"` key')
                return

    def _report(self, at: cst.CSTNode, removal: NodeEdit, fix: str) -> None:
        self.ctx.report(
            at,
            "Generated UUID passed as the record's `id`: let the database assign it",
            fix=self.ctx.fix(fix, removal),
        )

    def _is_uuid(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """A UUID freshly generated by the `uuid` module, or a value derived from one."""
        if depth > 5:
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

    def _builds_record(self, func: cst.BaseExpression) -> bool:
        """Whether the call builds a record whose `id` the database assigns."""
        qualname = self.ctx.qualified_name(func)
        if qualname is not None and self.ctx.index.class_info(qualname) is not None:
            return not self._takes_client_ids(qualname)
        if isinstance(func, cst.Attribute) and func.attr.value in _RECORD_METHODS:
            owner = self.ctx.qualified_name(func.value)
            if owner is not None and self.ctx.index.class_info(owner) is not None:
                return not self._takes_client_ids(owner)
            return owner is None
        last = names.dotted(func)
        return qualname is None and last is not None and last.rpartition(".")[2][:1].isupper()

    def _takes_client_ids(self, qualname: str) -> bool:
        """Whether the model's `id` is meant to be given a generated value: a UUID type, a
        UUID default, or a string primary key column (`Mapped[str]`, `Column(String)`)."""
        found = self.ctx.index.find_field(qualname, "id")
        if found is not None:
            types = {n.rpartition(".")[2] for n in found.annotation_names}
            default = found.default or ""
            return (
                not _UUID_TYPES.isdisjoint(types)
                or "uuid" in default.lower()
                or ("str" in types and ("Mapped" in types or "primary_key" in default))
            )
        # The index only records annotated fields: look for `id = Column(...)` in this module.
        module, _, name = self.ctx.index.resolve(qualname).rpartition(".")
        if module != self.ctx.module_name:
            return False
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.ClassDef) and stmt.name.value == name:
                for line in stmt.body.body:
                    for small in getattr(line, "body", ()):
                        if isinstance(small, cst.Assign) and names.dotted(small.targets[0].target) == "id":
                            column = self.ctx.code_for(small.value)
                            return "uuid" in column.lower() or "String" in column
        return False


def _is_envelope(node: cst.Dict) -> bool:
    return any(
        names.string_value(e.key) in _ENVELOPE_KEYS for e in node.elements if isinstance(e, cst.DictElement)
    )


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