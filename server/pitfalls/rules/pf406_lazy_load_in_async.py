"""PF406: a lazy relationship read on an instance an `AsyncSession` query returned."""

from __future__ import annotations

import libcst as cst

from pitfalls.rules._async_orm import ALL, LAZY, AsyncLoads, Instance, relationship_loader, relationship_targets
from pitfalls.rules._bases import ancestors
from pitfalls.rules._sessions import Sessions
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

_PYDANTIC = "pydantic.BaseModel"
_ASYNC_ATTRS = "sqlalchemy.ext.asyncio.AsyncAttrs"
_FROM_OBJECT = frozenset({"model_validate", "from_orm"})
_MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.ext.asyncio import AsyncAttrs
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


    class Base(AsyncAttrs, DeclarativeBase):
        pass


    class Partner(Base):
        __tablename__ = "partners"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        addresses: Mapped[list["Address"]] = relationship(back_populates="partner")
        contacts = relationship("Contact", lazy="selectin")


    class Address(Base):
        __tablename__ = "addresses"

        id: Mapped[int] = mapped_column(primary_key=True)
        partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
        partner: Mapped[Partner] = relationship(back_populates="addresses")
"""
_SCHEMAS = """
    from pydantic import BaseModel, ConfigDict


    class AddressOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        id: int


    class PartnerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        id: int
        name: str
        addresses: list[AddressOut] = []


    class PartnerSummary(BaseModel):
        model_config = ConfigDict(from_attributes=True)

        id: int
        name: str
"""
_FILES = {"app/__init__.py": "", "app/models.py": _MODELS, "app/schemas.py": _SCHEMAS}
_HEROES = {
    "app/__init__.py": "",
    "app/heroes.py": """
        from sqlmodel import Field, Relationship, SQLModel


        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            heroes: list["Hero"] = Relationship(back_populates="team")


        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            team_id: int | None = Field(default=None, foreign_key="team.id")
            team: Team | None = Relationship(back_populates="heroes")
    """,
}


class LazyLoadInAsync(Rule):
    """
    ## What it does
    Checks for a relationship that loads lazily (SQLAlchemy's default, `lazy="select"`)
    read in an `async def` on an instance an `AsyncSession` query of the same function
    returned, when the query did not load it: `await db.get(Model, id)`,
    `(await db.execute(select(Model)...)).scalars().first()` / `.scalar_one()` / the items
    of `.all()`, `await db.scalar(select(Model)...)`, `await db.scalars(...)` (SQLModel's
    `await session.exec(...)` too). Building a pydantic model from such an instance
    (`Schema.model_validate(obj)`, `Schema.from_orm(obj)`) reads every field, so it counts
    as a read of each field named like a lazy relationship.

    Which attributes are relationships, and how they load, comes from the model classes
    (`relationship(...)`, `Mapped[...] = relationship(...)`, SQLModel's `Relationship(...)`),
    wherever the project defines them. A relationship is loaded when the query names it in
    a loader option (`selectinload(Model.rel)`, `joinedload`, `subqueryload`,
    `immediateload`, `contains_eager`, `.options(...)` chains, `get(..., options=[...])`),
    when the relationship loads otherwise (`lazy="selectin"`, `"joined"`, `"raise"`,
    `"noload"`, `"dynamic"`, `"write_only"`...), after `await db.refresh(obj, ["rel"])`,
    `await obj.awaitable_attrs.rel` or `obj.rel = ...`, and when an earlier query of the
    function on the same session loaded it (the session keeps it). A many-to-one whose
    target class such a query returned is left alone too: the session may find it in its
    identity map without I/O.

    The session must be known as an `AsyncSession`: annotated so (a parameter, `self.db`
    set from an annotated `__init__` parameter, in this class or a base class), built by
    `AsyncSession(...)` or a session factory (`async_sessionmaker(...)`,
    `sessionmaker(class_=AsyncSession)`), or bound by `async with` (a sync `Session` cannot
    be entered so).

    ## Why is this bad?
    Reading an unloaded lazy relationship makes SQLAlchemy run a query right there, in
    the middle of an attribute access. An `AsyncSession` cannot do I/O outside an `await`,
    so the read fails:

    ```
    sqlalchemy.exc.MissingGreenlet: greenlet_spawn has not been called; can't call await_only() here. Was IO attempted in an unexpected place?
    ```

    It fails the same way when a response model with `from_attributes=True` reads the
    relationship while it is built. The query works in a sync test with a sync `Session`
    and breaks only once the service is async.

    ## Example
    ```python
    from sqlalchemy.ext.asyncio import AsyncSession

    async def get_partner(db: AsyncSession, partner_id: int) -> PartnerOut:
        partner = await db.get(Partner, partner_id)
        for address in partner.addresses:
            ...
        return PartnerOut.model_validate(partner)
    ```

    ## Use instead
    ```python
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import selectinload

    async def get_partner(db: AsyncSession, partner_id: int) -> PartnerOut:
        result = await db.execute(
            select(Partner).where(Partner.id == partner_id).options(selectinload(Partner.addresses))
        )
        partner = result.scalar_one()
        for address in partner.addresses:
            ...
        return PartnerOut.model_validate(partner)
    ```

    Or `await partner.awaitable_attrs.addresses` (with `AsyncAttrs` on the base), or
    `lazy="selectin"` on the relationship.

    ## Fix safety
    There is no automatic fix: adding an eager load changes the query every caller runs.
    """

    code = "PF406"
    name = "lazy-load-in-async"
    summary = "Lazy relationship read on an `AsyncSession` result"
    exact_on_ast_tree = True

    VALID = [
        # The relationship is loaded by the query (a chained `.options`, through the name the
        # statement was built in), by `options=` of `get`, by `lazy="selectin"` on the model,
        # by `refresh` with its name, by `awaitable_attrs`, or assigned before it is read.
        Valid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import selectinload

            from app.models import Partner
            from app.schemas import PartnerOut

            async def get_partner(db: AsyncSession, partner_id: int) -> PartnerOut:
                stmt = select(Partner).where(Partner.id == partner_id)
                stmt = stmt.options(selectinload(Partner.addresses))
                result = await db.execute(stmt)
                partner = result.scalar_one()
                print(len(partner.addresses), partner.contacts)
                return PartnerOut.model_validate(partner)

            async def with_get(db: AsyncSession, partner_id: int):
                partner = await db.get(Partner, partner_id, options=[selectinload(Partner.addresses)])
                return [a.id for a in partner.addresses]

            async def refreshed(db: AsyncSession, partner_id: int):
                partner = await db.get(Partner, partner_id)
                await db.refresh(partner, ["addresses"])
                return partner.addresses

            async def awaited(db: AsyncSession, partner_id: int):
                partner = await db.get(Partner, partner_id)
                addresses = await partner.awaitable_attrs.addresses
                return addresses, partner.addresses

            async def replaced(db: AsyncSession, partner_id: int):
                partner = await db.get(Partner, partner_id)
                partner.addresses = []
                partner.addresses.append(None)
        """, files=_FILES, path="app/services.py"),
        # Column attributes, a schema without the relationship, a sync Session in sync code,
        # a name rebound to something else, and a loop variable shadowing the instance.
        Valid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import Session

            from app.models import Partner
            from app.schemas import PartnerSummary

            async def summary(db: AsyncSession, partner_id: int) -> PartnerSummary:
                partner = await db.get(Partner, partner_id)
                print(partner.id, partner.name)
                return PartnerSummary.model_validate(partner)

            def sync_get(db: Session, partner_id: int):
                partner = db.get(Partner, partner_id)
                return partner.addresses

            async def rebound(db: AsyncSession, partner_id: int, other):
                partner = await db.get(Partner, partner_id)
                partner = other
                return partner.addresses

            async def shadowed(db: AsyncSession, partner_id: int, others):
                partner = await db.get(Partner, partner_id)
                return [partner.addresses for partner in others]
        """, files=_FILES, path="app/services.py"),
        # A session nobody knows is async (a parameter without annotation, one a service
        # stores unannotated, a sync `sessionmaker`'s under a plain `with`), a statement
        # built elsewhere, and options nobody can read here.
        Valid("""
            from sqlalchemy import create_engine, select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker

            from app.models import Partner

            SessionLocal = sessionmaker(create_engine("sqlite://"))

            async def untyped(db, partner_id: int):
                partner = await db.get(Partner, partner_id)
                return partner.addresses

            class PartnerService:
                def __init__(self, db):
                    self.db = db

                async def addresses(self, partner_id: int):
                    partner = await self.db.get(Partner, partner_id)
                    return partner.addresses

            async def sync_session(partner_id: int):
                with SessionLocal() as db:
                    partner = db.get(Partner, partner_id)
                    return partner.addresses

            async def built_elsewhere(db: AsyncSession, stmt):
                partner = (await db.execute(stmt)).scalar_one()
                return partner.addresses

            async def unknown_options(db: AsyncSession, loaders):
                result = await db.execute(select(Partner).options(*loaders))
                return result.scalar_one().addresses
        """, files=_FILES, path="app/services.py"),
        # What the session already holds: a many-to-one whose target a query of the function
        # returned (found in the identity map, no I/O), and a relationship an earlier query
        # of the function loaded.
        Valid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import selectinload

            from app.models import Address, Partner

            async def address_partner(db: AsyncSession, partner_id: int, address_id: int) -> str:
                partner = await db.get(Partner, partner_id)
                address = await db.get(Address, address_id)
                return address.partner.name

            async def primed(db: AsyncSession, partner_id: int):
                await db.execute(select(Partner).options(selectinload(Partner.addresses)))
                partner = await db.get(Partner, partner_id)
                return partner.addresses
        """, files=_FILES, path="app/services.py"),
        # SQLModel: a table model validated as itself (a `Relationship()` is no pydantic
        # field), and a loader option with keyword arguments.
        Valid("""
            from sqlalchemy.orm import joinedload
            from sqlmodel import select
            from sqlmodel.ext.asyncio.session import AsyncSession

            from app.heroes import Hero, Team

            async def team_copy(session: AsyncSession, team_id: int) -> Team:
                team = await session.get(Team, team_id)
                return Team.model_validate(team)

            async def hero_team(session: AsyncSession):
                hero = (await session.exec(select(Hero).options(joinedload(Hero.team, innerjoin=True)))).first()
                return hero.team
        """, files=_HEROES, path="app/services.py"),
    ]
    INVALID = [
        Invalid("""
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.models import Partner

            async def get_partner(db: AsyncSession, partner_id: int):
                partner = await db.get(Partner, partner_id)
                return [a.id for a in partner.addresses]
        """, files=_FILES, path="app/services.py", line=7, message="MissingGreenlet"),
        # A statement name rebound after the query ran: the query is the one that ran.
        Invalid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import async_sessionmaker
            from sqlalchemy.orm import selectinload

            from app.models import Address, Partner

            SessionLocal = async_sessionmaker(expire_on_commit=False)

            async def list_partners():
                async with SessionLocal() as session:
                    stmt = select(Partner).where(Partner.name != "")
                    result = await session.execute(stmt)
                    stmt = select(Partner).options(selectinload(Partner.addresses))
                    for partner in result.scalars().all():
                        print(partner.addresses)
        """, files=_FILES, path="app/services.py", line=15),
        # The response model reads the relationship; the same through a comprehension.
        Invalid("""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.models import Address, Partner
            from app.schemas import PartnerOut

            async def get_partner(db: AsyncSession, partner_id: int) -> PartnerOut:
                partner = await db.scalar(select(Partner).where(Partner.id == partner_id))
                return PartnerOut.model_validate(partner)

            async def list_partners(db: AsyncSession) -> list[PartnerOut]:
                partners = (await db.scalars(select(Partner))).all()
                return [PartnerOut.model_validate(p) for p in partners]

            async def address_partner(db: AsyncSession, address_id: int) -> str:
                await db.refresh(await db.get(Address, address_id))
                address = (await db.execute(select(Address).where(Address.id == address_id))).scalar_one_or_none()
                return address.partner.name
        """, files=_FILES, path="app/services.py", count=3),
        # The guide's service layer: the session comes from the base service's `__init__`.
        Invalid("""
            from app.framework import BusinessObjectService
            from app.models import Address, Partner

            class PartnerService(BusinessObjectService):
                async def add_address(self, partner_id: int, address: Address) -> Partner:
                    partner = await self.db.get(Partner, partner_id)
                    partner.addresses.append(address)
                    await self.db.commit()
                    return partner
        """, files={
            **_FILES,
            "app/framework.py": """
                from sqlalchemy.ext.asyncio import AsyncSession

                class BusinessObjectService:
                    def __init__(self, db: AsyncSession, model=None):
                        self.db = db
                        self.model = model
            """,
        }, path="app/services.py", line=7),
        # SQLModel's session and `Relationship()`, read in a nested comprehension.
        Invalid("""
            from sqlmodel import select
            from sqlmodel.ext.asyncio.session import AsyncSession

            from app.heroes import Team

            async def team_heroes(session: AsyncSession, team_id: int) -> list[int]:
                teams = (await session.exec(select(Team).where(Team.id == team_id))).all()
                return [hero.id for team in teams for hero in team.heroes]
        """, files=_HEROES, path="app/services.py", line=8),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.loads = AsyncLoads(ctx)
        self.targets: set[cst.CSTNode] = set()  # attributes assigned or deleted, not read
        self.reported: set[tuple[object, str]] = set()

    # -- what the function obtains ---------------------------------------------------------

    def visit_With(self, node: cst.With) -> None:
        self.ctx.fact(Sessions).note_with(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.ctx.in_async_function:
            for target in node.targets:
                self._store(target.target)
            self.loads.assigned(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if self.ctx.in_async_function:
            self._store(node.target)
            self.loads.assigned(node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if self.ctx.in_async_function:
            self.loads.assigned(node.value)

    def visit_Del(self, node: cst.Del) -> None:
        if self.ctx.in_async_function:
            self._store(node.target)

    def _store(self, target: cst.BaseExpression) -> None:
        stack = [target]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Attribute):
                self.targets.add(node)
                self.loads.settle(node.value, frozenset({node.attr.value}))
            elif isinstance(node, (cst.Tuple, cst.List)):
                stack.extend(e.value for e in node.elements)
            elif isinstance(node, cst.StarredElement):
                stack.append(node.value)

    def visit_For(self, node: cst.For) -> None:
        self.loads.enter_loop(node)

    def leave_For(self, original_node: cst.For) -> None:
        self.loads.leave_loop()

    def _enter_comprehension(self, node: cst.BaseComp | cst.DictComp) -> None:
        self.loads.enter_comprehension(node)

    def _leave_comprehension(self, original_node: cst.BaseComp | cst.DictComp) -> None:
        self.loads.leave_comprehension()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comprehension
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def visit_Await(self, node: cst.Await) -> None:
        call = node.expression
        if not (self.ctx.in_async_function and isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return
        if call.func.attr.value == "refresh":
            self.loads.refreshed(call)
        else:
            self.loads.denote(node)  # a query whose result is not kept still fills the session

    # -- reads ---------------------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self.ctx.in_async_function or node in self.targets:
            return
        holder = node.value
        if isinstance(holder, cst.Attribute) and holder.attr.value == "awaitable_attrs":
            self.loads.settle(holder.value, frozenset({node.attr.value}))
            return
        if not isinstance(holder, (cst.Name, cst.Call, cst.Subscript, cst.Await)):
            return
        instance = self.loads.denote(holder)
        if not isinstance(instance, Instance):
            return
        attr = node.attr.value
        if not self._lazy(instance, attr):
            return
        self.reported.add((instance.key, attr))
        owner = instance.cls.rpartition(".")[2]
        awaitable = (
            f", or read it with `await {self.ctx.code_for(holder)}.awaitable_attrs.{attr}`"
            if _ASYNC_ATTRS in ancestors(self.ctx.index, instance.cls)
            else ""
        )
        self.ctx.report(
            node,
            f"`{self.ctx.code_for(node)}` lazy-loads relationship `{owner}.{attr}`, which the query did not load: "
            f"in async code this raises `MissingGreenlet`. Load it in the query (`selectinload({owner}.{attr})`)"
            f"{awaitable}",
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (self.ctx.in_async_function and isinstance(func, cst.Attribute) and func.attr.value in _FROM_OBJECT):
            return
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return
        schema = self.ctx.qualified_name(func.value)
        if schema is None or self.ctx.index.class_info(schema) is None or _PYDANTIC not in ancestors(self.ctx.index, schema):
            return
        instance = self.loads.denote(node.args[0].value)
        if not isinstance(instance, Instance):
            return
        lazy = [field for field in _fields(self.ctx, schema) if self._lazy(instance, field)]
        if not lazy:
            return
        for field in lazy:
            self.reported.add((instance.key, field))
        owner = instance.cls.rpartition(".")[2]
        read = ", ".join(f"`{owner}.{field}`" for field in lazy)
        self.ctx.report(
            node,
            f"`{self.ctx.code_for(func)}` reads {read}, a lazy relationship the query did not load: in async code "
            f"this raises `MissingGreenlet`. Load it in the query (`selectinload({owner}.{lazy[0]})`)",
        )

    def _lazy(self, instance: Instance, attr: str) -> bool:
        """Whether reading ``attr`` on ``instance`` lazy-loads (and was not reported yet).

        Not when a query of the function on the same session loaded that relationship (on
        any instance: the session may hold this one loaded), nor for a many-to-one whose
        target class (any, when the annotation does not say) such a query returned:
        SQLAlchemy finds it in the session's identity map without I/O."""
        if (instance.key, attr) in self.reported or attr in self.loads.loaded(instance):
            return False
        if relationship_loader(self.ctx, instance.cls, attr) != LAZY:
            return False
        classes, loaded = self.loads.queried_with(instance)
        if attr in loaded or ALL <= loaded:
            return False
        collection, targets = relationship_targets(self.ctx, instance.cls, attr)
        if collection:
            return True
        others = classes - {instance.cls} if targets is None else classes & targets
        return not others


def _fields(ctx: RuleContext, schema: str) -> list[str]:
    """The fields a pydantic model reads from an object: its own and its bases', without
    class variables, private attributes and fields read under an alias."""
    found: dict[str, None] = {}
    for candidate in (schema, *ctx.index.ancestors(schema)):
        info = ctx.index.class_info(candidate)
        if info is None:
            continue
        for name, field in info.fields.items():
            if name.startswith("_") or name == "model_config" or "ClassVar" in field.annotation:
                continue
            if name in info.relationships:
                continue  # a SQLModel `Relationship()`: no pydantic field
            if field.default is not None and "alias" in field.default:
                continue
            found.setdefault(name, None)
    return list(found)
