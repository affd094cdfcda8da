"""Class hierarchies and ``__init__`` signatures as the project index sees them.

Shared by PF201, PF206, PF207 and PF209.
The method resolution order is Python's C3 linearisation over the index's class summaries,
across files and through subscripted generic bases (``Service[Model, Create, Update]`` is
``Service``). Classes outside the project are leaves: what they define is unknown, so a
search for the ``__init__`` that ``super()`` reaches stops at the first one, except for
the few known to define none (``Generic``, ``ABC``, ``object``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import libcst as cst

from pitfalls.core import names
from pitfalls.core.index import IndexView
from pitfalls.core.summary import FunctionInfo, ParamInfo

# External bases that define no ``__init__`` of their own: super() passes through them.
INITLESS_BASES = frozenset(
    {
        "builtins.object", "abc.ABC", "typing.Generic", "typing_extensions.Generic",
        "typing.Protocol", "typing_extensions.Protocol",
    }
)


def mro(index: IndexView, qualname: str) -> list[str] | None:
    """C3 linearisation of ``qualname``; None when Python could not build one (or the
    hierarchy is cyclic). Bases that do not name anything are ``?<text>`` leaves."""
    found = _linearisation(index, _MROS.setdefault(index, {}), qualname, ())
    return None if found is None else list(found)


# Each view's linearisations (a file's rules ask for the same hierarchies over and over,
# and a deep one costs its ancestors' each time): the index does not change under a view.
_MROS: WeakKeyDictionary[IndexView, dict[str, list[str] | None]] = WeakKeyDictionary()


def _linearisation(
    index: IndexView, known: dict[str, list[str] | None], qualname: str, seen: tuple[str, ...]
) -> list[str] | None:
    """:func:`mro`, remembered in ``known``. Whether a class's ancestry reaches a cycle (the
    only way ``seen``, its subclasses on the way here, can matter) is the class's own
    affair, so one answer per class holds for every way to it; classes defined inside
    functions are added to the view as the walk meets them, so theirs are not kept."""
    if qualname.startswith("?"):
        return [qualname]
    qualname = index.resolve(qualname)
    if qualname in seen:
        return None
    if qualname in known:
        return known[qualname]
    info = index.class_info(qualname)
    if info is None:
        return [qualname]
    bases = [index.resolve(b.qualname) if b.qualname else "?" + b.text for b in info.bases]
    sequences = []
    result: list[str] | None = [qualname]
    for base in bases:
        linear = _linearisation(index, known, base, (*seen, qualname))
        if linear is None:
            result = None
            break
        sequences.append(list(linear))
    if result is not None:
        sequences.append(list(bases))
        result = _merged(result, sequences)
    if "<locals>" not in qualname:
        known[qualname] = result
    return result


def _merged(result: list[str], sequences: list[list[str]]) -> list[str] | None:
    """C3's merge of the bases' linearisations and the bases, after ``result``."""
    while True:
        sequences = [s for s in sequences if s]
        if not sequences:
            return result
        for sequence in sequences:
            head = sequence[0]
            if not any(head in other[1:] for other in sequences):
                break
        else:
            return None
        result.append(head)
        for sequence in sequences:
            if sequence[0] == head:
                del sequence[0]


def _may_generate_init(index: IndexView, qualname: str) -> bool:
    """A project class without ``__init__`` but with annotated fields may be a dataclass
    (or attrs class) whose generated ``__init__`` takes them: the index does not record
    decorators, so such a class hides what lies behind it."""
    info = index.class_info(qualname)
    return info is not None and info.init is None and any(
        not is_classvar(f.annotation) for f in info.fields.values()
    )


def is_classvar(annotation: str) -> bool:
    return annotation.split("[")[0].split(".")[-1] == "ClassVar"


def resolved_init(
    index: IndexView, qualname: str, *, include_self: bool
) -> tuple[str, FunctionInfo] | None:
    """The project ``__init__`` that ``qualname.__init__`` (``include_self``) or
    ``super().__init__`` in ``qualname`` runs, with its defining class; None when it is
    not a project one or cannot be known."""
    return resolved_method(index, qualname, "__init__", include_self=include_self)


def resolved_method(
    index: IndexView, qualname: str, name: str, *, include_self: bool = True
) -> tuple[str, FunctionInfo] | None:
    """The project method ``name`` that ``qualname`` (or, without ``include_self``, its
    bases) has, in method resolution order, with its defining class; None when a class
    outside the project, or a class attribute that is no method, comes first."""
    order = mro(index, qualname)
    if order is None:
        return None
    for candidate in order if include_self else order[1:]:
        info = index.class_info(candidate)
        if info is None:
            if candidate in INITLESS_BASES:
                continue
            return None
        if name in info.methods:
            return candidate, info.methods[name]
        if name in info.attributes or name in info.fields:
            return None
        if name == "__init__" and _may_generate_init(index, candidate):
            return None
    return None


def bound_params(func: FunctionInfo) -> list[ParamInfo] | None:
    """The parameters after ``self``; None when the first one is not a plain ``self``."""
    if not func.params or func.params[0].kind != "positional":
        return None
    return func.params[1:]


def signature(owner: str, func: FunctionInfo) -> str:
    """``Service.__init__(self, db, model=..., *, audit=...)`` for messages."""
    parts = []
    starred = False  # a `*` or `*args` already separates the keyword-only parameters
    for param in func.params:
        if param.kind == "keyword_only" and not starred:
            parts.append("*")
        starred = starred or param.kind in ("vararg", "keyword_only")
        prefix = {"vararg": "*", "kwarg": "**"}.get(param.kind, "")
        parts.append(f"{prefix}{param.name}{'=...' if param.has_default else ''}")
    return f"{owner.rsplit('.', 1)[-1]}.{func.name}({', '.join(parts)})"


@dataclass
class Binding:
    """Arguments bound to parameters by name, and what Python would reject."""

    bound: dict[str, cst.Arg] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def bind(args: Sequence[cst.Arg], params: Sequence[ParamInfo]) -> Binding | None:
    """Bind call arguments to parameters as Python does; None when that cannot be known
    statically (``*args``/``**kwargs`` on either side)."""
    if any(arg.star for arg in args) or any(p.kind in ("vararg", "kwarg") for p in params):
        return None
    binding = Binding()
    positional = [p for p in params if p.kind == "positional"]
    given = [arg for arg in args if arg.keyword is None]
    if len(given) > len(positional):
        binding.problems.append(
            f"{len(given)} positional arguments for {len(positional)} parameters"
        )
    for param, arg in zip(positional, given):
        binding.bound[param.name] = arg
    known = {p.name for p in params}
    for arg in args:
        if arg.keyword is None:
            continue
        name = arg.keyword.value
        if name not in known:
            binding.problems.append(f"no parameter `{name}`")
        elif name in binding.bound:
            binding.problems.append(f"`{name}` given twice")
        else:
            binding.bound[name] = arg
    missing = [p.name for p in params if not p.has_default and p.name not in binding.bound]
    if missing:
        binding.problems.append("required " + ", ".join(f"`{m}`" for m in missing) + " not given")
    return binding



def annotated_name(index: IndexView, owner: str, annotation: str | None) -> str | None:
    """What an annotation written in the module of class ``owner`` names (``X``,
    ``Optional[X]``, ``"X"``, ``mod.X``), resolved through imports and re-exports; None when
    it names nothing the module binds."""
    summary = index.module(owner.rpartition(".")[0])
    if not annotation or summary is None:
        return None
    try:
        named = names.annotated_type(cst.parse_expression(annotation))
    except cst.ParserSyntaxError:
        return None
    head, _, rest = ((names.dotted(named) if named is not None else None) or "").partition(".")
    if head in summary.bindings:
        base = summary.bindings[head]
    elif head in summary.classes:
        base = f"{summary.name}.{head}"
    else:
        return None
    return index.resolve(f"{base}.{rest}" if rest else base)
