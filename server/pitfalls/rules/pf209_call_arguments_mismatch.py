"""PF209: a call whose arguments do not fit the project function, method or class it calls."""

from __future__ import annotations

import re
from collections.abc import Callable

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.semantic import BindingMark
from pitfalls.core.summary import ClassInfo, FunctionInfo, ParamInfo
from pitfalls.core.walker import iter_statements, module_level_statements
from pitfalls.rules._coroutines import AsyncValues
from pitfalls.rules._signatures import INITLESS_BASES, bind, bound_params, mro, resolved_method, signature
from pitfalls.rules._expected_errors import ExpectedErrors
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

_STATIC = "builtins.staticmethod"
_CLASSMETHOD = "builtins.classmethod"
# Decorators that return a callable taking the same arguments as the function.
_KEEPS_SIGNATURE = frozenset(
    {
        _STATIC, _CLASSMETHOD, "abc.abstractmethod", "typing.override", "typing_extensions.override",
        "typing.final", "typing_extensions.final", "functools.cache", "functools.lru_cache",
        "contextlib.contextmanager", "contextlib.asynccontextmanager",
    }
)
# Modules whose classes give their subclasses a constructor of their own (a metaclass, a
# generated `__init__`): enums, named tuples, typed dicts, pydantic and attrs classes.
_GENERATED = frozenset(
    {"enum", "typing", "typing_extensions", "pydantic", "pydantic_settings", "sqlmodel", "attr", "attrs", "msgspec"}
)
# SQLAlchemy's declarative bases: their subclasses' default constructor takes keywords
# naming attributes of the class (`_declarative_constructor`).
_DECLARATIVE = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
# Classes outside the project a model may derive from, with the public attributes they bring.
_MODEL_BASES = {
    **dict.fromkeys(_DECLARATIVE, frozenset({"metadata", "registry"})),
    **dict.fromkeys(INITLESS_BASES, frozenset()),
    "sqlalchemy.ext.asyncio.AsyncAttrs": frozenset({"awaitable_attrs"}),
}
# Class attributes that replace the declarative constructor or map columns nobody sees here.
_CUSTOM_MAPPING = frozenset({"registry", "__table__", "__init__", "__new__"})
# `backref="name"`, `backref=backref("name", ...)` in a relationship's source.
_BACKREF = re.compile(r"\bbackref\s*=\s*(?:\w+(?:\.\w+)*\(\s*)?([\"'])(\w+)\1")
# What catches the TypeError of a bad call (a test that expects it).
_CATCHING = frozenset({"builtins.TypeError", "builtins.Exception", "builtins.BaseException"})
_EXPECTING = frozenset({"raises", "assertRaises", "assertRaisesRegex"})

_SERVICES = {
    "app/__init__.py": "",
    "app/services/__init__.py": "",
    "app/services/partners.py": """
        from typing import Optional


        class PartnerService:
            def __init__(self, db, messaging=None):
                self.db = db
                self.messaging = messaging

            async def get_list(self, company_id: int, *, extension_filters: Optional[dict] = None):
                return []

            @classmethod
            def for_tests(cls, db):
                return cls(db)

            @staticmethod
            def normalise(email: str) -> str:
                return email.lower()


        def get_partner_service(db) -> PartnerService:
            return PartnerService(db)
    """,
}

_MODELS = {
    "app/__init__.py": "",
    "app/models/__init__.py": "",
    "app/models/base.py": """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class CompanyBaseModel(Base):
            __abstract__ = True

            id: Mapped[int] = mapped_column(primary_key=True)
            company_id: Mapped[int] = mapped_column(index=True)
    """,
    "app/models/partner.py": """
        from typing import Optional

        from sqlalchemy import String, select
        from sqlalchemy.ext.hybrid import hybrid_property
        from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

        from app.models.base import Base, CompanyBaseModel


        class Partner(CompanyBaseModel):
            __tablename__ = "partners"

            name: Mapped[str] = mapped_column(String(200))
            email: Mapped[Optional[str]]
            contacts: Mapped[list["Contact"]] = relationship(back_populates="partner")
            name_length = column_property(mapped_column(String(10)))

            @hybrid_property
            def display_name(self) -> str:
                return self.name.title()


        class Contact(Base):
            __tablename__ = "contacts"

            id: Mapped[int] = mapped_column(primary_key=True)
            partner_id: Mapped[int]
            partner: Mapped[Partner] = relationship(back_populates="contacts")
    """,
}


class CallArgumentsMismatch(ExpectedErrors, Rule):
    """
    ## What it does
    Reports a call of a project function, method or class whose arguments do not fit the
    signature it reaches: more positional arguments than it takes, a keyword it does not
    take, a parameter given twice, or a required parameter left out. The callee is found
    through the imports and the project index: a function, a class (its `__init__`, in
    method resolution order), a static or class method called on its class, or a method
    called on an instance the code built, annotated, or received from a function annotated
    to return it.

    A SQLAlchemy declarative model without an `__init__` of its own (derived from
    `DeclarativeBase`) takes keywords only, each naming an attribute of the class: a
    column, a relationship, a property of the model or of its bases. A `backref=` of
    another model's relationship adds one too, so an unannotated relationship anywhere in
    the project (whose source the index does not keep) silences the keyword check.

    It stays silent where the callee is not certain: calls that unpack `*args`/`**kwargs`,
    callees that take them, decorated functions (except `staticmethod`, `classmethod`,
    `abstractmethod`, `functools.cache`/`lru_cache`, `contextmanager`), classes with a
    `__new__`, or with a metaclass or a class decorator in the checked file, dataclasses,
    pydantic models (PF206), attrs classes, named tuples, typed dicts and enums, classes
    whose `__init__` is outside the project, models of a `declarative_base()`, names
    hidden by a parameter, a local or a nested `def`, names the module binds twice
    (`@overload`s, a `def` under `if` and another under `else`, a `def` in
    `except ImportError:`), methods an instance attribute of the same name hides, and
    calls in a `try` that catches the `TypeError` or in `pytest.raises(...)`. Calls of a
    base `__init__` are PF207's.

    ## Why is this bad?
    The call fails when it runs, often in a path the tests do not take:

    ```
    TypeError: PartnerService.get_list() missing 1 required positional argument: 'company_id'
    TypeError: 'website' is an invalid keyword argument for Partner
    ```

    ## Example
    ```python
    partners = await service.get_list(extension_filters={"credit_limit__gte": "5000"})
    partner = Partner(name="ACME", website="https://acme.example")
    ```

    ## Use instead
    ```python
    partners = await service.get_list(company_id, extension_filters={"credit_limit__gte": "5000"})
    partner = Partner(name="ACME")
    ```

    ## Fix safety
    There is no automatic fix: what the call should pass is the author's decision.
    """

    code = "PF209"
    function_local = True  # see Rule.function_local
    name = "call-arguments-mismatch"
    summary = "Call whose arguments do not fit the project function, method or class it calls"
    exact_on_ast_tree = True

    VALID = [
        # Calls that fit: defaults, keyword-only, class and static methods, bound methods.
        Valid(
            """
            from app.services.partners import PartnerService, get_partner_service


            async def list_partners(db, company_id: int):
                service = PartnerService(db, messaging=None)
                await service.get_list(company_id, extension_filters={"name": "x"})
                other = get_partner_service(db)
                await other.get_list(company_id=company_id)
                PartnerService.for_tests(db)
                return PartnerService.normalise("A@B.C"), service.normalise(email="x")
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
        ),
        # Callees that take `*args`/`**kwargs`, calls that unpack, decorated functions.
        Valid(
            """
            import functools


            def log(*args, **kwargs):
                return args, kwargs


            def traced(func):
                @functools.wraps(func)
                def wrapper(*args, **kwargs):
                    return func(*args, **kwargs)
                return wrapper


            @traced
            def add(a, b):
                return a + b


            @functools.lru_cache
            def square(x):
                return x * x


            def run(values, options):
                log(1, 2, three=3)
                add(1, 2, 3)
                square(*values)
                return add(**options)
            """
        ),
        # A class with an inherited `__init__`, a subclass of a library class, a dataclass,
        # an enum, a pydantic model and a class with a metaclass.
        Valid(
            """
            import enum
            from dataclasses import dataclass

            from pydantic import BaseModel


            class Repository:
                def __init__(self, db, model=None):
                    self.db = db


            class PartnerRepository(Repository):
                pass


            class AppError(Exception):
                pass


            @dataclass
            class Point:
                x: int
                y: int


            class Color(enum.Enum):
                RED = (255, 0, 0)

                def __init__(self, r, g, b):
                    self.rgb = (r, g, b)


            class Settings(BaseModel):
                name: str


            class Meta(type):
                def __call__(cls, *args):
                    return super().__call__()


            class Plugin(metaclass=Meta):
                def __init__(self):
                    pass


            def build(db):
                PartnerRepository(db, model=dict)
                AppError("failed", 500)
                Color((255, 0, 0))
                Plugin(1, 2)
                return Point(1, y=2), Settings(name="x")
            """
        ),
        # A model: columns, relationships, a hybrid and a column property, inherited columns.
        Valid(
            """
            from app.models.partner import Contact, Partner


            def build(company_id: int) -> Contact:
                partner = Partner(company_id=company_id, name="ACME", email=None, display_name="x", name_length=4)
                return Contact(partner=partner, id=1)
            """,
            files=_MODELS,
            path="app/services/build.py",
        ),
        # Names that hide the project function; a call a test expects to fail; PF207's call.
        Valid(
            """
            import pytest


            def process(item):
                return item


            class Base:
                def __init__(self, a):
                    self.a = a


            class Child(Base):
                def __init__(self):
                    Base.__init__(self)


            def run(items, process):
                return [process(item, 1) for item in items]


            def each(steps, item):
                return [process(item, 1) for process in steps]


            def nested():
                def process(a, b):
                    return a + b

                return process(1, 2)


            def test_process_needs_an_item():
                with pytest.raises(TypeError):
                    process()
                try:
                    process(1, 2)
                except TypeError:
                    pass
            """
        ),
        # A module-level function rebound by a later assignment.
        Valid(
            """
            def handler(event):
                return event


            handler = staticmethod(handler)


            def fire():
                return handler(1, 2)
            """
        ),
    ]
    INVALID = [
        # The guide's call without `company_id`, on an instance built in the function.
        Invalid(
            """
            from app.services.partners import PartnerService


            async def list_partners(db):
                service = PartnerService(db)
                return await service.get_list(extension_filters={"credit_limit__gte": "5000"})
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
            line=6,
            message="required `company_id` not given",
        ),
        # The declarative model's constructor: a keyword that is no attribute of the class.
        Invalid(
            """
            from app.models.partner import Partner


            def build(company_id: int) -> Partner:
                return Partner(company_id=company_id, name="ACME", website="https://acme.example")
            """,
            files=_MODELS,
            path="app/services/build.py",
            line=5,
            message="'website' is an invalid keyword argument for Partner",
        ),
        # A function of another module, through a function annotated to return the service,
        # a class method on the class, a static method on an instance.
        Invalid(
            """
            from app.services import partners
            from app.services.partners import PartnerService, get_partner_service


            async def run(db, company_id):
                partners.get_partner_service(db, company_id)
                await get_partner_service(db).get_list(company_id, company_id=company_id)
                PartnerService.for_tests(db, None)
                return PartnerService(db).normalise("a", "b")
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
            count=4,
        ),
        # A class with an `__init__` inherited from a project base; a positional argument
        # for a model; `self` and a method of the class.
        Invalid(
            """
            class Repository:
                def __init__(self, db, model=None):
                    self.db = db

                def get(self, entity_id):
                    return self.db.get(entity_id)

                def first(self):
                    return self.get()


            class PartnerRepository(Repository):
                pass


            def build(db):
                return PartnerRepository(db, dict, 50)
            """,
            count=2,
        ),
        Invalid(
            """
            from app.models.partner import Contact


            def build():
                return Contact(1)
            """,
            files=_MODELS,
            path="app/services/build.py",
            message="takes keywords only",
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._mark_of: Callable[[str], BindingMark] | None = None  # a name's binding at the module's start
        self._functions: list[cst.FunctionDef] = []
        self._comprehension_names: list[set[str]] = []  # what enclosing comprehensions bind

    # -- where the traversal is -------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._mark_of = self.ctx.binding_marks()

    def visit_FunctionDef(self, node: cst.FunctionDef | cst.Lambda) -> None:
        if isinstance(node, cst.FunctionDef):
            self._functions.append(node)
        super().visit_FunctionDef(node)

    def leave_FunctionDef(self, node: cst.FunctionDef | cst.Lambda) -> None:
        if isinstance(node, cst.FunctionDef):
            self._functions.pop()
        super().leave_FunctionDef(node)

    visit_Lambda = visit_FunctionDef
    leave_Lambda = leave_FunctionDef

    def visit_ListComp(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> None:
        bound: set[str] = set()
        level: cst.CompFor | None = node.for_in
        while level is not None:
            bound.update(names.target_names(level.target))
            level = level.inner_for_in
        self._comprehension_names.append(bound)

    def leave_ListComp(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> None:
        self._comprehension_names.pop()

    visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_ListComp
    leave_SetComp = leave_DictComp = leave_GeneratorExp = leave_ListComp

    def expects(self, item: cst.BaseExpression) -> bool:
        """``pytest.raises(...)``, ``self.assertRaises(...)``."""
        return isinstance(item, cst.Call) and names.last_name(item.func) in _EXPECTING

    def catches(self, caught: cst.BaseExpression) -> bool:
        types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        return any(self.ctx.qualified_name(t) in _CATCHING for t in types)

    # -- calls ------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.expecting or any(arg.star for arg in node.args):
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "__init__":
            return  # a base `__init__`: PF207's
        head = func
        while type(head) is cst.Attribute:
            head = head.value
        if isinstance(head, cst.Name) and self._hidden(head.value):
            return
        qualname = self.ctx.qualified_name(func)
        if qualname is not None and self._check_named(node, self.ctx.index.resolve(qualname)):
            return
        if isinstance(func, cst.Attribute):
            self._check_on_instance(node, func)

    def _hidden(self, name: str) -> bool:
        """Whether ``name`` here is not the module-level ``def``/``class`` of that name: a
        parameter, a local, a comprehension's variable or a nested ``def`` hides it, or
        the module rebinds it."""
        summary = self.ctx.summary
        if (name in summary.functions or name in summary.classes) and self._mark_of is not None and (
            self.ctx.rebound_since(self._mark_of(name)) or self.ctx.fact(_bound_twice).get(name)
        ):
            return True
        if any(name in bound for bound in self._comprehension_names):
            return True
        return any(name in self._defs_in(function) for function in self._functions)

    def _defs_in(self, function: cst.FunctionDef) -> frozenset[str]:
        return self.ctx.node_fact(_local_defs, function)

    def _check_named(self, node: cst.Call, qualname: str) -> bool:
        """``func(...)``, ``module.func(...)``, ``Class(...)``, ``Class.method(...)``;
        False when ``qualname`` names none of them."""
        index = self.ctx.index
        if index.class_info(qualname) is not None:
            self._check_constructor(node, qualname)
            return True
        owner, _, name = qualname.rpartition(".")
        if owner and index.class_info(owner) is not None:
            found = resolved_method(index, owner, name)
            if found is not None and _plain_class(index, self.ctx, owner):
                self._check(node, found[0], found[1], on_instance=False)
            return True
        summary = index.find(owner) if owner else None
        info = index.entry(summary, "function", name) if summary is not None else None
        if info is None:
            return False
        if index.entry(summary, "binding", name) is None and index.entry(summary, "call_assignment", name) is None:
            self._check(node, owner, info, on_instance=False, function=True)
        return True

    def _check_on_instance(self, node: cst.Call, func: cst.Attribute) -> None:
        """``obj.method(...)`` on an instance of a project class."""
        receiver = func.value
        if isinstance(receiver, cst.Name) and receiver.value == "cls":
            return  # a class, or a metaclass's instance: not worth the doubt
        cls = self.ctx.fact(AsyncValues).instance_class(receiver)
        if cls is None:
            return
        index = self.ctx.index
        name = func.attr.value
        found = resolved_method(index, cls, name)
        if found is None or not _plain_class(index, self.ctx, cls):
            return
        order = mro(index, cls) or []
        for candidate in order:
            info = index.class_info(candidate)
            if info is not None and any(name in m.self_sets or "*" in m.self_sets for m in info.methods.values()):
                return  # an instance attribute of that name hides the method
        self._check(node, found[0], found[1], on_instance=True)

    def _check(
        self, node: cst.Call, owner: str, info: FunctionInfo, *, on_instance: bool, function: bool = False
    ) -> None:
        if not all(d in _KEEPS_SIGNATURE for d in info.decorators):
            return
        if function:
            params: list[ParamInfo] | None = info.params
        elif _STATIC in info.decorators:
            params = info.params
        elif _CLASSMETHOD in info.decorators or on_instance:
            params = bound_params(info)
        else:
            params = info.params  # a plain function on its class: `self` is passed
        binding = bind(node.args, params) if params is not None else None
        if binding is not None and binding.problems:
            label = signature(owner, info)
            module = owner
            if function:
                label = label.partition(".")[2]  # `verify_token(...)`, not `security.verify_token(...)`
            else:
                module = owner.rpartition(".")[0]
            self.ctx.report(node, f"Arguments do not fit `{label}` (`{module}`): {'; '.join(binding.problems)}")

    def _check_constructor(self, node: cst.Call, qualname: str) -> None:
        index = self.ctx.index
        if not _plain_class(index, self.ctx, qualname):
            return
        found = resolved_method(index, qualname, "__init__")
        if found is not None:
            params = bound_params(found[1])
            binding = bind(node.args, params) if params is not None else None
            if binding is not None and binding.problems:
                self.ctx.report(
                    node,
                    f"Arguments do not fit `{signature(found[0], found[1])}` (`{found[0].rpartition('.')[0]}`): "
                    f"{'; '.join(binding.problems)}",
                )
            return
        attributes = _model_attributes(index, qualname)
        if attributes is None:
            return
        name = qualname.rpartition(".")[2]
        positional = sum(arg.keyword is None for arg in node.args)
        if positional:
            self.ctx.report(
                node,
                f"`{name}(...)` takes keywords only (SQLAlchemy's declarative constructor): "
                f"{positional} positional given",
            )
            return
        keywords = [arg.keyword.value for arg in node.args if arg.keyword is not None]
        unknown = [k for k in keywords if not k.startswith("_") and k not in attributes]
        if not unknown:
            return
        backrefs = self.ctx.fact(_project_backrefs)  # every module's: asked only when it decides
        if backrefs is not None and not set(unknown) & backrefs:
            verb = "is an invalid keyword argument" if len(unknown) == 1 else "are invalid keyword arguments"
            self.ctx.report(
                node,
                f"{', '.join(map(repr, unknown))} {verb} for {name}: "
                "no column, relationship or attribute of the model or its bases",
            )


def _plain_class(index: IndexView, ctx: RuleContext, qualname: str) -> bool:
    """Whether calling the class runs its ``__init__`` as written: no class in its MRO has a
    ``__new__``, a metaclass or a decorator this file shows, comes from a module that
    generates constructors (enums, pydantic...), or is a metaclass or an unknown base."""
    order = mro(index, qualname)
    if order is None:
        return False
    marked = ctx.fact(_marked_classes)
    for candidate in order:
        info = index.class_info(candidate)
        if info is None:
            root = candidate.partition(".")[0]
            if candidate.startswith("?") or candidate == "builtins.type" or candidate == "abc.ABCMeta":
                return False
            if root in _GENERATED and candidate not in INITLESS_BASES:
                return False
            continue
        if "<locals>" in candidate or candidate in marked or "__new__" in info.methods:
            return False
    return True


def _model_attributes(index: IndexView, qualname: str) -> set[str] | None:
    """The attributes of a SQLAlchemy declarative model whose constructor is the default
    one, from the model and its bases; None when it is no such model or may have more."""
    order = mro(index, qualname)
    if order is None or not any(c in _DECLARATIVE for c in order):
        return None
    info = index.class_info(qualname)
    if info is None or "__abstract__" in info.attributes:
        return None
    attributes: set[str] = set()
    for candidate in order:
        base = index.class_info(candidate)
        if base is None:
            if candidate not in _MODEL_BASES:
                return None
            attributes |= _MODEL_BASES[candidate]
            continue
        bound = set(base.fields) | set(base.attributes) | set(base.methods)
        if bound & _CUSTOM_MAPPING:
            return None
        attributes |= bound
    return attributes


def _project_backrefs(ctx: RuleContext) -> set[str] | None:
    """The names ``backref=`` of the project's relationships add to other models; None
    when a relationship's source is not in the index (an unannotated one may add any)."""
    found: set[str] = set()
    for summary in ctx.index.every_module():
        for info in summary.classes.values():
            for attribute in info.relationships:
                if not _relationship_backrefs(info, attribute, found):
                    return None
    return found


def _relationship_backrefs(info: ClassInfo, attribute: str, found: set[str]) -> bool:
    """Add the backref the relationship declares to ``found``; False when its source is
    not in the index (an unannotated relationship) or names it in a way not read here."""
    field = info.fields.get(attribute)
    if field is None or field.default is None:
        return False
    if "backref" not in field.default:
        return True
    named = _BACKREF.findall(field.default)
    found.update(name for _, name in named)
    return len(named) == field.default.count("backref=")


def _bound_twice(ctx: RuleContext) -> dict[str, bool]:
    """Whether each module-level name is bound more than once (two ``def``s, one under
    ``if`` and one under ``else``, a ``def`` and an assignment or an import)."""
    seen: dict[str, bool] = {}
    for stmt in module_level_statements(ctx.module.body):
        bound: list[str] = []
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            bound.append(stmt.name.value)
        elif isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                bound.extend(_bound_names(small))
        for name in bound:
            seen[name] = name in seen
    return seen


def _bound_names(small: cst.BaseSmallStatement) -> list[str]:
    """The plain names an assignment or an import statement binds."""
    if isinstance(small, cst.Assign):
        return [t.target.value for t in small.targets if isinstance(t.target, cst.Name)]
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return [small.target.value] if isinstance(small.target, cst.Name) else []
    if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
        return [(names.dotted(a.asname.name if a.asname else a.name) or "").partition(".")[0] for a in small.names]
    return []


def _marked_classes(ctx: RuleContext) -> set[str]:
    """This module's classes with a decorator or a class keyword (``metaclass=``)."""
    prefix = f"{ctx.module_name}." if ctx.module_name else ""
    return {
        prefix + stmt.name.value
        for stmt in module_level_statements(ctx.module.body)
        if isinstance(stmt, cst.ClassDef) and (stmt.decorators or stmt.keywords)
    }


def _local_defs(function: cst.FunctionDef) -> frozenset[str]:
    """The names the ``def`` and ``class`` statements inside ``function`` bind."""
    return frozenset(
        stmt.name.value for stmt in iter_statements(function.body) if type(stmt) in (cst.FunctionDef, cst.ClassDef)
    )
