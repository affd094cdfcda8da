"""What the class rules (PF202, PF203, PF205) and PF204 share: a class's bases resolved to
qualified names (through subscripts, imports and re-exports, across files), which classes
are SQLAlchemy declarative models, which TypeVars a project class is generic in, and the
framework settings.

Everything is read from the project index; nothing is imported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.settings import FrameworkSettings
from pitfalls.core.summary import ModuleSummary
from pitfalls.rules.api import RuleContext

# Spellings of one class under two names, mapped to the one `ancestors()` reports.
_ALIASES = {
    "pydantic.main.BaseModel": "pydantic.BaseModel",
    "typing_extensions.Generic": "typing.Generic",
    "typing_extensions.Protocol": "typing.Protocol",
}
# Classes outside the project that projects derive from, with the bases they bring.
_EXTERNAL_ANCESTORS = {
    "pydantic.RootModel": frozenset({"pydantic.BaseModel"}),
    "pydantic_settings.BaseSettings": frozenset({"pydantic.BaseModel"}),
    "sqlmodel.SQLModel": frozenset({"pydantic.BaseModel"}),
}
GENERIC = "typing.Generic"
PROTOCOL = "typing.Protocol"
OBJECT = "builtins.object"

_SQLALCHEMY_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase",
        "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
# `Base = declarative_base()`
_BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
    }
)
# `Base = mapper_registry.generate_base()` after `mapper_registry = registry()`
_REGISTRIES = frozenset({"sqlalchemy.orm.registry", "sqlalchemy.orm.decl_api.registry"})

_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_]\w*")


def framework(ctx: RuleContext) -> FrameworkSettings:
    """``[tool.pitfalls.framework]``, or its defaults when the context has no settings."""
    return ctx.settings.framework if ctx.settings is not None else FrameworkSettings()


def canonical(qualname: str) -> str:
    """One name per class: ``pydantic.main.BaseModel`` is ``pydantic.BaseModel``."""
    return _ALIASES.get(qualname, qualname)


@dataclass(frozen=True)
class ClassBase:
    """One positional base of a ``class`` statement."""

    arg: cst.Arg
    qualname: str | None  # what the base names without its subscript, re-exports followed
    subscript: cst.Subscript | None  # the base as written when it is subscripted

    @property
    def written(self) -> str:
        """The base as written, without its subscript, for messages."""
        expr = self.subscript.value if self.subscript is not None else self.arg.value
        return names.dotted(expr) or "?"


def class_bases(ctx: RuleContext, node: cst.ClassDef) -> list[ClassBase] | None:
    """The bases of ``node`` (keywords such as ``metaclass=`` excluded), in order; None
    when one is starred (``*bases``): then nobody knows what sits where.

    Call from ``visit_ClassDef``, where the context still describes the enclosing scope.
    """
    out: list[ClassBase] = []
    for arg in node.bases:
        if arg.star:
            return None
        expr = arg.value
        subscript = expr if type(expr) is cst.Subscript else None
        if subscript is not None:
            expr = subscript.value
        out.append(ClassBase(arg, _qualname(ctx, expr), subscript))
    return out


def _qualname(ctx: RuleContext, expr: cst.BaseExpression) -> str | None:
    qualname = ctx.qualified_name(expr)
    if qualname is None:
        # `ctx.qualified_name` knows imports, classes and functions; a class statement at
        # module level may also name a module-level variable (`Base = declarative_base()`),
        # which the index qualifies as `<module>.Base`.
        text = names.dotted(expr)
        if text is None or not ctx.at_module_level or text.partition(".")[0] not in ctx.summary.defined:
            return None
        qualname = f"{ctx.module_name}.{text}" if ctx.module_name else text
    return canonical(ctx.index.resolve(qualname))


def ancestors(view: IndexView, qualname: str) -> set[str]:
    """Every class ``qualname`` derives from, external ones as imported
    (``pydantic.BaseModel``), with what well-known external bases bring."""
    found = {canonical(a) for a in (qualname, *view.ancestors(qualname))}
    for name in list(found):
        found |= _EXTERNAL_ANCESTORS.get(name, frozenset())
    found.discard(canonical(qualname))
    return found


# -- SQLAlchemy declarative models --------------------------------------------------------


def is_declarative(view: IndexView, qualname: str, configured: list[str]) -> bool:
    """Whether ``qualname`` is a declarative base or derives from one: a mapped model, or a
    base model such as ``CompanyBaseModel(Base)``.

    Declarative bases are SQLAlchemy's ``DeclarativeBase``/``DeclarativeBaseNoMeta``, names
    assigned from ``declarative_base()`` or ``mapper_registry.generate_base()`` (after
    ``mapper_registry = registry()``), and the ``declarative-bases`` setting (qualified
    names, or bare class names).
    """
    return any(
        _is_declarative_base(view, candidate, configured)
        for candidate in (qualname, *view.ancestors(qualname))
    )


def _is_declarative_base(view: IndexView, qualname: str, configured: list[str]) -> bool:
    if qualname in _SQLALCHEMY_BASES or qualname in configured:
        return True
    module, _, name = qualname.rpartition(".")
    if name in configured:
        return True
    factory = _call_assignment(view, module, name)
    if factory in _BASE_FACTORIES:
        return True
    owner, _, method = (factory or "").rpartition(".")
    if method != "generate_base":
        return False
    owner_module, _, owner_name = owner.rpartition(".")
    return _call_assignment(view, owner_module, owner_name) in _REGISTRIES


def _call_assignment(view: IndexView, module: str, name: str) -> str | None:
    """What ``name = f(...)`` at the top of project module ``module`` called."""
    summary = view.module(module) if module else None
    return summary.call_assignments.get(name) if summary is not None else None


# -- generic classes ----------------------------------------------------------------------


def type_parameters(view: IndexView, qualname: str) -> list[str] | None:
    """The TypeVars the project class ``qualname`` is generic in, in order ([] when it is
    not generic); None for a class outside the project, or when its arity cannot be known
    (``Generic[P]`` of a ParamSpec or TypeVarTuple, or of a name not known as a TypeVar).

    As in ``typing``: ``Generic[...]``/``Protocol[...]`` lists the parameters; without it,
    they are the TypeVars the subscripted bases mention, in order of first appearance.
    TypeVars imported from other project modules count (the index only knows a module's
    own).
    """
    info = view.class_info(qualname)
    if info is None:
        return None
    summary = view.find(info.qualname.rpartition(".")[0])
    if summary is None:
        return None
    found: list[str] = []
    for base in info.bases:
        if base.qualname is not None and canonical(base.qualname) in (GENERIC, PROTOCOL) and base.args:
            if all(_is_typevar(view, summary, arg) for arg in base.args):
                return list(base.args)
            return None
        for arg in base.args:
            for name in _IDENTIFIER.findall(arg):
                if name not in found and _is_typevar(view, summary, name):
                    found.append(name)
    return found


def with_defaults(view: IndexView, qualname: str, params: list[str]) -> set[str]:
    """Which of the class's type parameters have a default (PEP 696: ``TypeVar("T",
    default=int)``), so that leaving them out is fine."""
    info = view.class_info(qualname)
    summary = view.find(info.qualname.rpartition(".")[0]) if info is not None else None
    if summary is None:
        return set()
    found = set()
    for name in params:
        defined = _typevar(view, summary, name)
        if defined is not None and defined[1] in view.typevars(defined[0])[1]:
            found.add(name)
    return found


def _is_typevar(view: IndexView, summary: ModuleSummary, name: str) -> bool:
    return _typevar(view, summary, name) is not None


def _typevar(view: IndexView, summary: ModuleSummary, name: str) -> tuple[ModuleSummary, str] | None:
    """The module defining the TypeVar ``name`` means in ``summary``, and its name there."""
    if name in view.typevars(summary)[0]:
        return summary, name
    target = view.entry(summary, "binding", name)
    if target is None:
        return None
    module, _, attr = view.resolve(target).rpartition(".")
    defining = view.find(module) if module else None
    return (defining, attr) if defining is not None and attr in view.typevars(defining)[0] else None


def argument_count(subscript: cst.Subscript) -> int | None:
    """How many type arguments ``C[...]`` passes (``C[(A, B)]`` passes two); None when that
    depends on an unpacking (``C[*Ts]``) or the subscript is not a type subscript."""
    elements: list[cst.BaseExpression] = []
    for element in subscript.slice:
        index = element.slice
        if not isinstance(index, cst.Index) or index.star is not None:
            return None
        elements.append(index.value)
    if len(elements) == 1 and isinstance(elements[0], cst.Tuple):
        if any(isinstance(e, cst.StarredElement) for e in elements[0].elements):
            return None
        return len(elements[0].elements)
    return len(elements)
