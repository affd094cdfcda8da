"""PF208: an attribute used on an instance of a project class that neither it nor its bases define."""

from __future__ import annotations

import difflib

import libcst as cst

from pitfalls.core import names
from pitfalls.core.summary import ClassInfo
from pitfalls.core.walker import iter_nodes, module_level_statements
from pitfalls.rules._signatures import INITLESS_BASES, is_classvar, mro
from pitfalls.rules.api import Invalid, Rule, RuleContext, Valid

_DEPENDS = frozenset(
    {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.param_functions.Depends"}
)
# Methods through which a class answers, or gives its instances, names its body does not show.
_OPEN_METHODS = frozenset({"__getattr__", "__getattribute__", "__new__", "__init_subclass__"})
# Calls whose second argument names an attribute the code tests for, reads with a default,
# or sets (`hasattr(x, "a")`, `getattr(x, "a", None)`, `setattr`, `patch.object`...).
_NAMING_CALLS = frozenset({"hasattr", "getattr", "setattr", "delattr", "object"})
_PROTOCOLS = frozenset({"typing.Protocol", "typing_extensions.Protocol"})
_NARROWING = frozenset({"isinstance", "issubclass", "type"})

_SERVICES = {
    "app/__init__.py": "",
    "app/services/__init__.py": "",
    "app/services/partners.py": """
        from typing import Generic, TypeVar

        T = TypeVar("T")


        class BaseService(Generic[T]):
            def __init__(self, db):
                self.db = db

            def get(self, entity_id: int):
                return self.db.get(entity_id)


        class PartnerService(BaseService[dict]):
            async def create_partner(self, data):
                self.db.add(data)

            async def get_list(self, company_id: int):
                return []
    """,
    "app/dependencies.py": """
        from app.services.partners import PartnerService


        def get_partner_service(db=None) -> PartnerService:
            return PartnerService(db)
    """,
}


class AttributeNotDefined(Rule):
    """
    ## What it does
    Reports an attribute or method used on an instance of a project class when neither
    the class nor any of its bases defines it. The instance is known from its
    constructor (`service = PartnerService(db)`, `PartnerService(db).create(...)`), an
    annotation (`service: PartnerService`, a parameter, `self.service: PartnerService`),
    a function annotated to return the class, or a FastAPI `Depends(get_partner_service)`
    whose function is. An attribute counts as defined when a class of the hierarchy
    has it as a method, property, class attribute or annotated field, or sets it on
    `self` in any of its methods.

    It stays silent wherever the answer is not certain: a base outside the project
    (`BaseModel`, a declarative `Base`, `Exception`, `Enum`: what they add is unknown;
    `object`, `Generic`, `ABC` and `Protocol` add nothing), a class of the hierarchy with
    `__getattr__`, `__getattribute__`, `__new__`, `__init_subclass__` or `__slots__`, one
    that sets attributes by computed name (`setattr(self, name, value)`, `self.__dict__`),
    a class of the checked file that is decorated, takes a metaclass or defines names
    under `if`/`try`; attributes the file sets on any object (`service.create = ...`,
    `setattr(service, "create", ...)`) or names in `hasattr`/`getattr`; an access inside
    `try: ... except AttributeError`; a receiver bound more than once in its scope or
    narrowed with `isinstance`; a receiver only annotated with the class (not built by
    it) when the class is a `Protocol` or a project subclass has the attribute;
    `*args`/`**kwargs`; and dunder names. The project index does not record the
    decorators and metaclasses of classes in other files: there, a class with annotated
    fields and no `__init__` (a dataclass or attrs class, perhaps also under
    `@dataclass_json`) is taken as decorated; a metaclass that adds methods is not seen.

    ## Why is this bad?
    The lookup fails when the line runs, and the business object guide's services hit it
    when a service did not get the framework's methods:

    ```
    AttributeError: 'PartnerService' object has no attribute 'create'
    ```

    ## Example
    ```python
    class PartnerService:
        def __init__(self, db: AsyncSession):
            self.db = db

        async def create_partner(self, data: PartnerCreate) -> Partner: ...


    service = PartnerService(db)
    partner = await service.create(data)
    ```

    ## Use instead
    ```python
    service = PartnerService(db)
    partner = await service.create_partner(data)
    ```

    ## Fix safety
    There is no automatic fix: the message names the close matches the class does have,
    but which one was meant (or whether the class lacks a base) is for the author.
    """

    code = "PF208"
    name = "attribute-not-defined"
    summary = "Attribute used on an instance of a project class that neither it nor its bases define"
    exact_on_ast_tree = True

    VALID = [
        # Defined by the class, an in-project generic base, or set on `self` by a base's method.
        Valid(
            """
            from fastapi import Depends

            from app.dependencies import get_partner_service
            from app.services.partners import PartnerService


            async def list_partners(db, company_id: int, service=Depends(get_partner_service)):
                own = PartnerService(db)
                await own.create_partner({"name": "x"})
                return own.db, own.get(1), await service.get_list(company_id)
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
        ),
        # Mixins that set attributes, properties, class/static methods, class attributes,
        # annotated fields and nested classes.
        Valid(
            """
            from abc import ABC
            from functools import cached_property


            class CacheMixin:
                def setup_cache(self):
                    self.cache = {}


            class Service(CacheMixin, ABC):
                retries = 3
                timeout: float
                limit = property(lambda self: 10)

                class Meta:
                    table = "services"

                def __init__(self):
                    self.setup_cache()

                @property
                def name(self):
                    return "service"

                @cached_property
                def client(self):
                    return object()

                @classmethod
                def build(cls):
                    return cls()

                @staticmethod
                def version():
                    return 1


            service = Service()
            print(service.cache, service.retries, service.timeout, service.limit, service.Meta)
            print(service.name, service.client, service.build(), service.version())
            print(service.__class__.__name__, service.__dict__)
            """
        ),
        # Attributes set by the caller, or tested for before use.
        Valid(
            """
            class Job:
                def __init__(self, name):
                    self.name = name


            def run(job: Job):
                job.started = True
                setattr(job, "attempts", 1)
                if hasattr(job, "priority"):
                    print(job.priority)
                print(job.started, job.attempts, getattr(job, "owner", None))
                try:
                    return job.result
                except AttributeError:
                    return None
            """
        ),
        # Bases outside the project: what they add is unknown.
        Valid(
            """
            from enum import Enum

            from pydantic import BaseModel
            from sqlalchemy.orm import DeclarativeBase


            class Base(DeclarativeBase):
                pass


            class Partner(Base):
                __tablename__ = "partners"


            class PartnerRead(BaseModel):
                name: str


            class Status(Enum):
                ACTIVE = "active"


            class NotFound(Exception):
                pass


            print(Partner().id, PartnerRead(name="x").model_dump(), Status("active").value, NotFound().args)
            """
        ),
        # Classes that answer or set names dynamically, and classes of this file that are
        # decorated or take a metaclass.
        Valid(
            """
            from dataclasses_json import dataclass_json


            class Settings:
                def __getattr__(self, name):
                    return None


            class Record:
                def __init__(self, **values):
                    self.__dict__.update(values)


            class Row:
                def __init__(self, values):
                    for key, value in values.items():
                        setattr(self, key, value)


            class Point:
                __slots__ = ("x", "y")


            class Registry(type):
                def __new__(mcs, name, bases, namespace):
                    namespace["registered"] = True
                    return super().__new__(mcs, name, bases, namespace)


            class Plugin(metaclass=Registry):
                pass


            @dataclass_json
            class Event:
                kind: str = "created"


            class Special(Settings):
                pass


            print(Settings().debug, Record(a=1).a, Row({}).b, Point().z, Plugin().registered)
            print(Event().to_json(), Special().anything)
            """
        ),
        # A class of another file that may be decorated: the index does not record it.
        Valid(
            """
            from app.events import Event

            print(Event(kind="created").to_json())
            """,
            files={
                "app/__init__.py": "",
                "app/events.py": """
                    from dataclasses import dataclass

                    from dataclasses_json import dataclass_json


                    @dataclass_json
                    @dataclass
                    class Event:
                        kind: str
                """,
            },
            path="app/main.py",
        ),
        # A receiver bound twice, narrowed by `isinstance`, or annotated with a base class
        # whose project subclass has the attribute, or with a Protocol (the annotation is
        # loose, not the code).
        Valid(
            """
            from typing import Protocol


            class Animal:
                def speak(self):
                    return "..."


            class Dog(Animal):
                def fetch(self):
                    return "ball"


            def play(pet: Animal, loud: bool):
                if isinstance(pet, Dog):
                    return pet.fetch()
                friend = Animal()
                if loud:
                    friend = Dog()
                return friend.fetch()


            def throw(pet: Animal):
                return pet.fetch()


            class Speaker(Protocol):
                def speak(self) -> str: ...


            def hush(speaker: Speaker):
                return speaker.mute()


            walker = Animal()


            def walk_all():
                return [walker.fetch() for walker in [Dog()]]
            """
        ),
        # `**kwargs: T` annotates the values (the name is a dict); a function annotated to
        # return a class outside the project (`object`).
        Valid(
            """
            class Override:
                rename: str = ""


            def as_array(value) -> object:
                return value


            def build(*names: Override, **overrides: Override):
                return overrides.get("id"), names.count(None), as_array([]).shape
            """
        ),
    ]
    INVALID = [
        # The base class built directly has none of its subclass's methods.
        Invalid(
            """
            class Animal:
                def speak(self):
                    return "..."


            class Dog(Animal):
                def fetch(self):
                    return "ball"


            pet = Animal()
            print(pet.fetch())
            """,
            line=12,
        ),
        # The guide's service without `create`.
        Invalid(
            """
            from app.services.partners import PartnerService


            async def create_partner(db, data):
                service = PartnerService(db)
                return await service.create(data)
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
            line=6,
            message="did you mean `create_partner`",
        ),
        # Through `Depends`, a parameter annotation, and straight on the constructor call.
        Invalid(
            """
            from fastapi import Depends

            from app.dependencies import get_partner_service
            from app.services.partners import PartnerService


            async def update_partner(partner_id: int, data, service=Depends(get_partner_service)):
                return await service.update(partner_id, data)


            async def delete_partner(partner_id: int, service: PartnerService):
                return await service.delete(partner_id)


            def count(db) -> int:
                return PartnerService(db).count()
            """,
            files=_SERVICES,
            path="app/routers/partners.py",
            count=3,
        ),
        # An attribute of `self` that holds a service, and an attribute another class sets.
        Invalid(
            """
            from app.services.partners import PartnerService


            class Importer:
                def __init__(self, db):
                    self.service = PartnerService(db)
                    self.batch = []

                async def run(self, rows):
                    for row in rows:
                        await self.service.create_partner(row)
                    return self.service.batch
            """,
            files=_SERVICES,
            path="app/services/importer.py",
            line=12,
            message="`PartnerService` has no attribute `batch`",
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._guarded = 0  # enclosing `try` statements that catch AttributeError

    def visit_Try(self, node: cst.Try) -> None:
        if any(_catches_attribute_error(h.type) for h in node.handlers):
            self._guarded += 1

    def leave_Try(self, node: cst.Try) -> None:
        if any(_catches_attribute_error(h.type) for h in node.handlers):
            self._guarded -= 1

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if self._guarded or (attr.startswith("__") and attr.endswith("__")):
            return
        receiver = node.value
        if not isinstance(receiver, (cst.Name, cst.Call, cst.Attribute)):
            return
        qualname = self.ctx.class_of_instance(receiver) or self._dependency(receiver)
        if qualname is None or self.ctx.index.class_info(qualname) is None:
            return  # not known, or a class outside the project (`-> object`)
        known = _names_of(self.ctx, qualname)
        if known is None or attr in known or attr in self.ctx.fact(_named_in_file):
            return
        if not isinstance(receiver, cst.Call) and self._rebound_or_narrowed(receiver):
            return
        if not self._constructed(receiver) and _may_be_other(self.ctx, qualname, attr):
            return
        cls = qualname.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(attr, sorted(n for n in known if not n.startswith("_")), n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(f'`{c}`' for c in close)}?" if close else ""
        self.ctx.report(
            node.attr,
            f"`{cls}` has no attribute `{attr}`: neither it nor its bases define it or set it on instances "
            f"(`AttributeError: '{cls}' object has no attribute '{attr}'`){hint}",
        )

    def _constructed(self, receiver: cst.BaseExpression) -> bool:
        """Whether the receiver is built right there by the class (``Cls(...)``, or a name
        assigned one): an instance of that class itself, not of a subclass."""
        if isinstance(receiver, cst.Name) and self.ctx.annotation_of(receiver.value) is None:
            receiver = self.ctx.value_of(receiver.value) or receiver
        if not isinstance(receiver, cst.Call):
            return False
        qualname = self.ctx.qualified_name(receiver.func)
        return qualname is not None and self.ctx.index.class_info(qualname) is not None

    def _dependency(self, receiver: cst.BaseExpression) -> str | None:
        """The class a FastAPI parameter ``name=Depends(f)`` holds an instance of: ``f``
        itself when it is a class, else the class ``f`` is annotated to return."""
        if not isinstance(receiver, cst.Name):
            return None
        param = self.ctx.parameter(receiver.value)
        default = param.default if param is not None and param.annotation is None else None
        if type(default) is not cst.Call or self.ctx.qualified_name(default.func) not in _DEPENDS:
            return None
        arg = next((a for a in default.args if a.keyword is None or a.keyword.value == "dependency"), None)
        qualname = self.ctx.qualified_name(arg.value) if arg is not None else None
        if qualname is None:
            return None
        index = self.ctx.index
        if index.class_info(qualname) is None:
            qualname = index.function_returns(qualname)
        return index.resolve(qualname) if qualname and index.class_info(qualname) is not None else None

    def _rebound_or_narrowed(self, receiver: cst.BaseExpression) -> bool:
        """Whether the function the receiver lives in binds its name more than once (for a
        module-level name read there: the module, anywhere in it), or tests its type
        (``isinstance``, ``type()``, ``match``): then what it holds at the access may not
        be the one thing :meth:`class_of_instance` followed."""
        text = names.dotted(receiver)
        if text is None:
            return True
        function = self.ctx.function
        if function is None and not self.ctx.at_module_level:
            return True  # a lambda or a class body
        bindings = _bindings(function or self.ctx.module, text)
        if bindings == 0 and function is not None and "." not in text:
            bindings = _bindings(self.ctx.module, text)
        return bindings is None or ("." not in text and bindings != 1)


def _names_of(ctx: RuleContext, qualname: str) -> frozenset[str] | None:
    """Every name instances of ``qualname`` are known to have, through its whole method
    resolution order; None when that cannot be known. Once per class and file: a file
    reads attributes of the same few classes hundreds of times."""
    known = ctx.fact(_known_names)
    if qualname not in known:
        known[qualname] = _names_through_mro(ctx, qualname)
    return known[qualname]


def _known_names(ctx: RuleContext) -> dict[str, frozenset[str] | None]:
    return {}


def _names_through_mro(ctx: RuleContext, qualname: str) -> frozenset[str] | None:
    index = ctx.index
    order = mro(index, qualname)
    if order is None:
        return None
    found: set[str] = set()
    own = ctx.fact(_file_classes)
    for cls in order:
        info = index.class_info(cls)
        if info is None:
            if cls in INITLESS_BASES:
                continue
            return None
        if "<locals>" in cls or _opens(info):
            return None
        if (_opens_in_source(own[cls]) if cls in own else _may_be_decorated(info)):
            return None
        found.update(info.methods, info.fields, info.attributes, info.class_constants)
        for method in info.methods.values():
            found.update(method.self_sets)
    return frozenset(found)


def _may_be_other(ctx: RuleContext, qualname: str, attr: str) -> bool:
    """Whether a value annotated with ``qualname`` may be an object of another class that
    has ``attr`` (a loose annotation, but no error when the code runs): any class, when
    ``qualname`` is a ``Protocol``; a project subclass that has ``attr``, or may have it
    (a base or mechanism of its own the index cannot see through)."""
    view = ctx.index
    if any(cls in _PROTOCOLS for cls in mro(view, qualname) or ()):
        return True
    for summary in view.every_module():
        for info in summary.classes.values():
            if qualname in view.ancestors(info.qualname):
                known = _names_of(ctx, info.qualname)
                if known is None or attr in known:
                    return True
    return False


def _opens(info: ClassInfo) -> bool:
    """A class that answers or sets names its summary does not list."""
    return (
        any(name in _OPEN_METHODS for name in info.methods)
        or "__slots__" in info.attributes
        or "__slots__" in info.fields
        or any("*" in method.self_sets for method in info.methods.values())
    )


def _may_be_decorated(info: ClassInfo) -> bool:
    """A class of another file that may be decorated (the index does not record
    decorators): annotated fields and no ``__init__``, as a dataclass or attrs class is,
    whose decorator may add methods too (``@dataclass_json``'s ``to_json``)."""
    return info.init is None and any(not is_classvar(f.annotation) for f in info.fields.values())


def _opens_in_source(node: cst.ClassDef) -> bool:
    """A class of this file whose decorators, metaclass or body may add names its
    summary does not list (under ``if``/``try``/``for``, imported into the body)."""
    if node.decorators or node.keywords or any(arg.star for arg in node.bases):
        return True
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else [node.body]
    for stmt in body:
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            if any(type(small) in (cst.Import, cst.ImportFrom) for small in stmt.body):
                return True
        elif not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return True
    return False


def _file_classes(ctx: RuleContext) -> dict[str, cst.ClassDef]:
    """The module-level classes of the checked file, by qualified name."""
    prefix = f"{ctx.module_name}." if ctx.module_name else ""
    statements = module_level_statements(ctx.module.body)
    return {prefix + stmt.name.value: stmt for stmt in statements if type(stmt) is cst.ClassDef}


def _named_in_file(ctx: RuleContext) -> frozenset[str]:
    """Attribute names the file sets on some object other than ``self``, names in
    ``hasattr``/``getattr``/``setattr`` calls, and the names of nested classes (which
    summaries do not list)."""
    found: set[str] = set()
    for node in iter_nodes(ctx.module):
        if isinstance(node, cst.ClassDef):
            found.update(s.name.value for s in node.body.body if isinstance(s, cst.ClassDef))
        elif isinstance(node, cst.Call) and len(node.args) > 1 and names.last_name(node.func) in _NAMING_CALLS:
            text = names.string_value(node.args[1].value)
            if text is not None:
                found.add(text)
        else:
            found.update(
                leaf.attr.value  # `self.x = ...` is in its class's summary
                for leaf in _target_leaves(node)
                if isinstance(leaf, cst.Attribute) and names.dotted(leaf.value) != "self"
            )
    return frozenset(found)


def _bindings(scope: cst.CSTNode, text: str) -> int | None:
    """How many times ``scope`` (nested scopes included) binds the head of ``text``; None
    when it narrows ``text`` (``isinstance(text, ...)``, ``match text:``) or declares the
    name ``global``/``nonlocal``."""
    head = text.split(".")[0]
    count = 0
    for node in iter_nodes(scope):
        if isinstance(node, cst.Call) and node.args and names.dotted(node.func) in _NARROWING:
            if names.dotted(node.args[0].value) == text:
                return None
        elif isinstance(node, cst.Match) and names.dotted(node.subject) == text:
            return None
        elif isinstance(node, (cst.Global, cst.Nonlocal)) and any(n.name.value == head for n in node.names):
            return None
        else:
            count += _binds(node, head)
    return count


def _binds(node: cst.CSTNode, name: str) -> int:
    """How many times ``node`` itself binds ``name`` (0 or 1; 2 for a comprehension's
    ``for``, which always hides what the name held before)."""
    if isinstance(node, (cst.Param, cst.FunctionDef, cst.ClassDef)):
        return int(node.name.value == name)
    if isinstance(node, cst.ImportAlias):  # `import a.b as name` is its AsName's
        return int(node.asname is None and (names.dotted(node.name) or "").split(".")[0] == name)
    leaves = _target_leaves(node)
    count = sum(isinstance(leaf, cst.Name) and leaf.value == name for leaf in leaves)
    return 2 * count if isinstance(node, cst.CompFor) else count


def _target_leaves(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """What an assignment-like statement binds (names, attributes, subscripts), through
    tuple and list unpacking."""
    targets: list[cst.BaseExpression] = []
    if isinstance(node, cst.Assign):
        targets = [t.target for t in node.targets]
    elif isinstance(node, (cst.AugAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del)):
        targets = [node.target]
    elif isinstance(node, cst.AnnAssign) and node.value is not None:
        targets = [node.target]
    elif isinstance(node, cst.AsName):
        targets = [node.name]
    leaves = []
    while targets:
        target = targets.pop()
        if isinstance(target, (cst.Tuple, cst.List)):
            targets.extend(e.value for e in target.elements)
        elif isinstance(target, cst.StarredElement):
            targets.append(target.value)
        else:
            leaves.append(target)
    return leaves


def _catches_attribute_error(kind: cst.BaseExpression | None) -> bool:
    """A bare ``except:`` or one naming AttributeError (alone or in a tuple)."""
    if kind is None:
        return True
    if isinstance(kind, cst.Tuple):
        return any(_catches_attribute_error(e.value) for e in kind.elements)
    return names.last_name(kind) == "AttributeError" if names.dotted(kind) else False
