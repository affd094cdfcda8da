"""The project index: module names, summaries and resolution across files."""

from __future__ import annotations

import json
from pathlib import Path

import libcst as cst
from conftest import write_project
from pitfalls.core.dependencies import Dependencies
from pitfalls.core.index import IndexView, ProjectIndex
from pitfalls.core.summary import module_name_for, summarize
from pitfalls.core.summary_data import ModuleSummary

FRAMEWORK = {
    "services/billing/app/__init__.py": "",
    "services/billing/app/framework/__init__.py": "from .services import CompanyBusinessObjectService\n",
    "services/billing/app/framework/services.py": """
        from typing import Generic, TypeVar, TYPE_CHECKING
        from pydantic import BaseModel

        if TYPE_CHECKING:
            from app.models.partner import Partner

        ModelT = TypeVar("ModelT")
        CreateT = TypeVar("CreateT")
        UpdateT = TypeVar("UpdateT")
        SUPPORTED_FIELD_TYPES = ["string", "integer", "decimal"]

        class BusinessObjectService(Generic[ModelT, CreateT, UpdateT]):
            def __init__(self, db, model, messaging_service=None):
                self.db = db

        class CompanyBusinessObjectService(BusinessObjectService[ModelT, CreateT, UpdateT]):
            def __init__(self, db, model):
                super().__init__(db, model)

            def helper(self):
                from app.services.audit import AuditService
                return AuditService
    """,
    "services/billing/app/schemas.py": """
        from typing import Optional
        from uuid import UUID
        from pydantic import BaseModel, Field

        class Base(BaseModel):
            id: Optional[int] = None

        class DirectusArticle(Base):
            title: str = Field(..., max_length=10)
            slug: str | None = None
            key: UUID
    """,
    "services/billing/app/services/__init__.py": "",
    "services/billing/app/services/partner.py": """
        from app.framework import CompanyBusinessObjectService
        from app.schemas import DirectusArticle as Article

        class PartnerService(CompanyBusinessObjectService[Article, Article, Article]):
            def __init__(self, db):
                self.db = db
    """,
}


def _index(root: Path) -> ProjectIndex:
    index = ProjectIndex()
    for path in sorted(root.rglob("*.py")):
        name, src_root, is_package = module_name_for(path, [])
        module = cst.parse_module(path.read_text())
        index.add(summarize(module, name=name, path=str(path), root=str(src_root), is_package=is_package))
    return index


def test_module_names_from_packages(tmp_path: Path) -> None:
    write_project(tmp_path, FRAMEWORK)
    path = tmp_path / "services/billing/app/framework/services.py"
    name, root, is_package = module_name_for(path, [])
    assert (name, root, is_package) == ("app.framework.services", (tmp_path / "services/billing").resolve(), False)
    init = tmp_path / "services/billing/app/framework/__init__.py"
    assert module_name_for(init, [])[0] == "app.framework"
    # A configured source root wins over package detection.
    assert module_name_for(path, [tmp_path / "services"])[0] == "billing.app.framework.services"


def test_summary_records_classes_imports_constants(tmp_path: Path) -> None:
    write_project(tmp_path, FRAMEWORK)
    index = _index(tmp_path)
    view = IndexView(index, str((tmp_path / "services/billing").resolve()))
    services = view.module("app.framework.services")
    assert services is not None
    assert services.constants["SUPPORTED_FIELD_TYPES"] == ["string", "integer", "decimal"]
    assert services.typevars == ["ModelT", "CreateT", "UpdateT"]
    scopes = {(i.module, i.name): i.scope for i in services.imports}
    assert scopes[("app.models.partner", "Partner")] == "type_checking"
    assert scopes[("app.services.audit", "AuditService")] == "function"
    assert scopes[("pydantic", "BaseModel")] == "module"
    base = services.classes["BusinessObjectService"]
    assert base.type_params == ["ModelT", "CreateT", "UpdateT"]
    assert [p.name for p in base.init.params] == ["self", "db", "model", "messaging_service"]
    assert [p.has_default for p in base.init.params] == [False, False, False, True]
    company = services.classes["CompanyBusinessObjectService"]
    assert company.init.calls_super_init
    assert company.bases[0].qualname == "app.framework.services.BusinessObjectService"
    assert company.bases[0].args == ["ModelT", "CreateT", "UpdateT"]


def test_names_resolve_through_reexports_and_aliases(tmp_path: Path) -> None:
    write_project(tmp_path, FRAMEWORK)
    index = _index(tmp_path)
    view = IndexView(index, str((tmp_path / "services/billing").resolve()))
    partner = view.class_info("app.services.partner.PartnerService")
    assert partner is not None and not partner.init.calls_super_init
    base = partner.bases[0]
    assert base.subscripted and base.args == ["Article", "Article", "Article"]
    assert view.resolve(base.qualname) == "app.framework.services.CompanyBusinessObjectService"
    assert view.ancestors("app.services.partner.PartnerService")[:2] == [
        "app.framework.services.CompanyBusinessObjectService",
        "app.framework.services.BusinessObjectService",
    ]
    assert view.resolve("app.services.partner.Article") == "app.schemas.DirectusArticle"
    assert view.is_pydantic_model("app.services.partner.Article")
    assert not view.is_pydantic_model("app.services.partner.PartnerService")


def test_fields_are_found_on_bases(tmp_path: Path) -> None:
    write_project(tmp_path, FRAMEWORK)
    view = IndexView(_index(tmp_path), None)
    id_field = view.find_field("app.schemas.DirectusArticle", "id")
    assert id_field is not None and id_field.optional and id_field.has_default
    title = view.find_field("app.schemas.DirectusArticle", "title")
    assert title is not None and not title.has_default  # Field(...) keeps it required
    slug = view.find_field("app.schemas.DirectusArticle", "slug")
    assert slug is not None and slug.optional and slug.has_default
    key = view.find_field("app.schemas.DirectusArticle", "key")
    assert key is not None and key.annotation_names == ["uuid.UUID"]


def test_view_records_what_it_consulted(tmp_path: Path) -> None:
    write_project(tmp_path, FRAMEWORK)
    index = _index(tmp_path)
    view = IndexView(index, None)
    view.is_pydantic_model("app.schemas.DirectusArticle")
    parts = {Path(p).name: read.digests for p, read in view.read.parts.items()}
    assert {"module", "class:DirectusArticle"} <= set(parts["schemas.py"])  # the class it asked about
    assert "schemas.py" not in {Path(p).name for p in view.read.summaries}
    assert "pydantic" in view.read.missing  # a lookup that found nothing is a dependency too
    view.module("app.schemas")  # read whole: its fingerprint is recorded
    assert "schemas.py" in {Path(p).name for p in view.read.summaries}


def test_a_module_read_in_parts_is_a_dependency_of_those_parts_only() -> None:
    """A result that read a class of a module (resolving a name to it) holds when the
    module gains a function; not when the class, or what the name resolves through, changes."""
    from pitfalls.core.summary_ast import summarize_source

    def summary(text: str) -> ModuleSummary:
        found = summarize_source(text, display="m.py", name="app.m", path="/p/app/m.py", root="/p", is_package=False)
        assert found is not None
        return found

    before = summary("from app.base import Base\n\n\nclass Item(Base):\n    name: str\n")
    view = IndexView(ProjectIndex([before]), "/p")
    assert view.class_info("app.m.Item") is not None
    assert view.resolve("app.m.Base") == "app.base.Base"
    read = view.read

    def holds(text: str | None) -> bool:
        now = summary(text) if text is not None else None
        again = Dependencies.from_json(json.loads(json.dumps(read.to_json())))  # as the cache has it
        held = again.parts_hold(lambda path: now.fingerprint() if now else None, lambda path: now)
        assert read.parts_hold(lambda path: now.fingerprint() if now else None, lambda path: now) == held
        return held

    assert holds("from app.base import Base\n\n\nclass Item(Base):\n    name: str\n\n\ndef added():\n    pass\n")
    assert not holds("from app.base import Base\n\n\nclass Item(Base):\n    title: str\n")  # the class
    assert not holds("from app.other import Base\n\n\nclass Item(Base):\n    name: str\n")  # the binding
    assert not holds(None)  # the module is gone


def test_the_generation_counts_the_changes_lookups_can_see() -> None:
    """A view lasts while the generation it was made at does (an editor's buffer keeps its
    own across keystrokes): the same summary made again changes nothing."""
    first = summarize(cst.parse_module("class A:\n    x: int = 1\n"), name="m", path="m.py", root="", is_package=False)
    index = ProjectIndex([first])
    view = IndexView(index, "", "m.py")
    start = index.generation
    index.add(summarize(cst.parse_module("class A:\n    x: int = 1\n"), name="m", path="m.py", root="", is_package=False))
    assert index.generation == start and view.serves(index, "", "m.py")
    assert not view.serves(index, "", "other.py") and not view.serves(ProjectIndex([first]), "", "m.py")
    index.add(summarize(cst.parse_module("class A:\n    x: int = 2\n"), name="m", path="m.py", root="", is_package=False))
    changed = index.generation
    assert changed != start and not view.serves(index, "", "m.py")
    index.remove("m.py")
    assert index.generation != changed


def test_summaries_round_trip_through_json(tmp_path: Path) -> None:
    """Text that is not ASCII, and a lone surrogate (no UTF-8 has it: written and read by
    the json module, not msgspec), come back as they were."""
    odd = 'NAME = "café ☕"\nODD = "\\udc80"\nBOTH = ["é", "\\ud800"]\n'
    write_project(tmp_path, {**FRAMEWORK, "app/odd.py": odd})
    summaries = _index(tmp_path).by_path.values()
    assert {"café ☕", "\udc80"} <= {value for s in summaries for value in s.strings.values()}
    for summary in summaries:
        again = type(summary).from_text(summary.to_text())
        assert again == summary
        assert again.fingerprint() == summary.fingerprint()


def test_multi_service_repos_resolve_within_their_own_root(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "services/a/app/__init__.py": "",
            "services/a/app/models.py": "from pydantic import BaseModel\nclass Item(BaseModel):\n    id: int\n",
            "services/b/app/__init__.py": "",
            "services/b/app/models.py": "class Item:\n    pass\n",
        },
    )
    index = _index(tmp_path)
    view_a = IndexView(index, str((tmp_path / "services/a").resolve()))
    view_b = IndexView(index, str((tmp_path / "services/b").resolve()))
    assert view_a.is_pydantic_model("app.models.Item")
    assert not view_b.is_pydantic_model("app.models.Item")


def test_summary_records_relationships_and_how_they_load() -> None:
    source = """
from sqlalchemy import orm
from sqlalchemy.orm import DynamicMapped, Mapped, relationship
from sqlmodel import Relationship
from app.db import relationship as project_relationship

class Partner(Base):
    addresses: Mapped[list["Address"]] = relationship(back_populates="partner")
    contacts = relationship("Contact", lazy="selectin")
    tags = orm.relationship("Tag", lazy=False)
    notes: DynamicMapped["Note"] = relationship()
    owner = relationship("User", **options)
    team: "Team" = Relationship(sa_relationship_kwargs={"lazy": "joined"})
    heroes: list["Hero"] = Relationship(back_populates="team")
    wrapped = project_relationship("Other")
    name: Mapped[str]
"""
    summary = summarize(cst.parse_module(source), name="app.models", path="app/models.py", root="", is_package=False)
    assert summary.classes["Partner"].relationships == {
        "addresses": "select", "contacts": "selectin", "tags": "joined", "notes": "dynamic",
        "owner": "?", "team": "joined", "heroes": "select", "wrapped": "?",
    }
