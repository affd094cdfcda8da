"""The module summary's data, and the bookkeeping every summary builder shares.

Two builders fill it: :mod:`pitfalls.core.summary` from libcst's tree (for the files whose
rules run) and :mod:`pitfalls.core.summary_ast` from CPython's ``ast`` (for the files only
summarised, at a tenth of the cost). They differ in how they read the syntax only: what a
name resolves to, what an assignment records and how a summary is assembled live here, so
both give the same summary of the same file.
"""

from __future__ import annotations

import builtins
import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from pitfalls.core import json_text

# Names that are not imported but still name something: the builtins.
BUILTIN_QUALNAMES = {name: f"builtins.{name}" for name in dir(builtins) if not name.startswith("_")}
TYPEVAR = ("TypeVar", "typing.TypeVar", "typing_extensions.TypeVar")
PYDANTIC_BASE_MODELS = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel"})
# Settings classes are models too (their fields come from the environment, not the caller).
PYDANTIC_SETTINGS = frozenset({"pydantic.BaseSettings", "pydantic_settings.BaseSettings", "pydantic_settings.main.BaseSettings"})


@dataclass
class ImportInfo:
    """One imported name (or module) as the importing module sees it."""

    module: str  # absolute target module, e.g. "app.models.partner"
    name: str | None  # imported attribute for `from m import name`; None for `import m`
    bound: str  # the local name it binds ("*" for a star import)
    scope: str  # "module", "function", "type_checking" or "main" (under `if __name__ == "__main__":`)


@dataclass
class ParamInfo:
    name: str
    kind: str  # "positional", "vararg", "keyword_only", "kwarg"
    has_default: bool
    annotation: str | None = None


@dataclass
class FunctionInfo:
    name: str
    params: list[ParamInfo]
    returns: str | None  # qualified name of the return annotation when it names something
    calls_super_init: bool = False  # methods only: calls `super().__init__` / `Base.__init__(self)`
    is_async: bool = False
    # `async def` only: a statement of its body (not of a nested function) yields, so
    # calling it returns an async generator, not a coroutine.
    is_async_generator: bool = False
    # Async generators only: the qualified type its annotation says it yields
    # (`AsyncGenerator[AsyncSession, None]`, `AsyncIterator[...]`), and what built the value
    # it yields (`async with F(...) as name: yield name`, `name = F(...)`, `yield F(...)`:
    # the qualified F), when one thing does.
    yield_type: str | None = None
    yields_call: str | None = None
    # What each decorator names, qualified through the imports ("" when it is no dotted
    # name); a decorator called (`@router.get("/")`) is what it calls.
    decorators: list[str] = field(default_factory=list)
    # Methods only (empty for functions, static and class methods), from the body, nested
    # functions included: the `self.<attr>` names it assigns ("*" when it sets attributes by
    # computed name: `setattr(self, name, v)`, `self.__dict__`, `vars(self)`), those it reads
    # before assigning them (in source order, a right-hand side before its target), and the
    # `self.<name>(...)` it calls.
    self_sets: list[str] = field(default_factory=list)
    self_reads: list[str] = field(default_factory=list)
    self_calls: list[str] = field(default_factory=list)


@dataclass
class BaseInfo:
    text: str  # the base as written, e.g. "Service[Model, Create, Update]"
    qualname: str | None  # what the (unsubscripted) base names, resolved through imports
    args: list[str] = field(default_factory=list)  # subscript arguments as written
    subscripted: bool = False


@dataclass
class FieldInfo:
    name: str
    annotation: str
    annotation_names: list[str]  # qualified names appearing in the annotation
    has_default: bool
    default: str | None
    optional: bool


@dataclass
class ClassInfo:
    name: str
    qualname: str
    bases: list[BaseInfo]
    type_params: list[str]  # TypeVars the class is generic in, in order
    init: FunctionInfo | None
    fields: dict[str, FieldInfo]
    methods: dict[str, FunctionInfo]
    class_constants: dict[str, str]  # e.g. {"__tablename__": "partners"}
    has_inner_config: bool = False
    attributes: list[str] = field(default_factory=list)  # names the body binds by `name = ...`
    # SQLAlchemy/SQLModel relationship attributes -> loader strategy (`lazy=`: "select" by
    # default, "dynamic"/"write_only" from the annotation, "?" when the source does not say).
    relationships: dict[str, str] = field(default_factory=dict)


@dataclass
class ModuleSummary:
    name: str  # dotted module name
    path: str
    root: str  # source root the name is relative to
    is_package: bool
    imports: list[ImportInfo]
    bindings: dict[str, str]  # module-level local name -> qualified name it refers to
    classes: dict[str, ClassInfo]
    functions: dict[str, FunctionInfo]
    constants: dict[str, list[str]]  # names bound to a list/tuple/set of strings
    strings: dict[str, str]  # names bound to a plain string
    call_assignments: dict[str, str]  # `name = f(...)`: name -> what f resolves to
    typevars: list[str]
    defined: list[str]  # every module-level name the module defines
    all_names: list[str] | None = None
    typevar_defaults: list[str] = field(default_factory=list)  # TypeVars declared with a default
    # `name = f(..., class_=C)`: name -> what C resolves to (`sessionmaker(class_=AsyncSession)`)
    call_classes: dict[str, str] = field(default_factory=dict)
    open_names: bool = False  # it may bind names `defined` misses (unpacking, globals(), exec...)

    def fingerprint(self, known: Mapping[int, str] | None = None) -> str:
        """A digest of ``repr(self)`` (not JSON: source strings may hold lone surrogates that
        JSON cannot encode). ``known``: the reprs of some of its class and function
        summaries, by ``id``: an edit's summary shares most of them with the last one's."""
        text = repr(self) if not known else self._text(known)
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()

    def _text(self, known: Mapping[int, str]) -> str:
        """``repr(self)``, with the reprs in ``known`` taken as they are."""
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "classes" or f.name == "functions":
                text = "{" + ", ".join(f"{k!r}: {known.get(id(v)) or repr(v)}" for k, v in value.items()) + "}"
            else:
                text = repr(value)
            parts.append(f"{f.name}={text}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    def exports(self, name: str) -> bool:
        """Whether ``from <this module> import name`` may find ``name`` in the module itself:
        it defines it, a star import or a module ``__getattr__`` may provide it, it binds
        names no statement shows, or it is a stub (a package's submodules aside)."""
        return (
            name in self.defined or name.startswith("__") or self.open_names or self.path.endswith(".pyi")
            or "__getattr__" in self.functions or any(i.bound == "*" and i.scope != "function" for i in self.imports)
        )

    def part(self, key: str) -> str:
        """A digest of the part of this summary ``key`` names, for a result that read only
        that part (see ``IndexView``): ``module`` (its name, whether it is a package, its
        path below its root: where it is, wherever the project is), ``class:N``,
        ``function:N``, ``binding:N``, ``call_assignment:N``, ``call_class:N`` (the entry,
        or its absence), ``name:N`` (what resolving N reads: whether a class or a function
        is called N, what N is bound to), ``exports:N``, ``typevars`` (with their defaults)."""
        kind, _, name = key.partition(":")
        value: object
        if kind == "module":
            below = self.path[len(self.root):] if self.root and self.path.startswith(self.root) else self.path
            value = (self.name, self.is_package, below)
        elif kind in ENTRY_TABLES:
            value = getattr(self, ENTRY_TABLES[kind]).get(name)
        elif kind == "name":
            value = (name in self.classes, name in self.functions, self.bindings.get(name))
        elif kind == "typevars":
            value = (self.typevars, self.typevar_defaults)
        elif kind == "exports":
            value = self.exports(name)
        else:
            raise ValueError(f"no part {key!r}")
        return hashlib.blake2b(repr(value).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()

    def to_text(self) -> str:
        """The summary as JSON text (the cache's)."""
        return json_text.dumps(self)

    @classmethod
    def from_text(cls, text: str) -> ModuleSummary:
        return json_text.load_as(text, cls)


# The tables a summary part ``<kind>:<name>`` is an entry of.
ENTRY_TABLES = {
    "class": "classes", "function": "functions", "binding": "bindings", "call_assignment": "call_assignments",
    "call_class": "call_classes",
}


ASYNC_ITERATORS = frozenset({"AsyncGenerator", "AsyncIterator", "AsyncIterable"})
SETATTR = frozenset({"setattr", "object.__setattr__"})
# Code that binds module names no statement shows: `globals()`, `vars()`, `locals()`,
# `exec(`, `sys.modules`, a `global` statement. Each pattern starts with its word, which
# `re` finds as fast as `str.find`; the word's start is checked by hand (a leading `\b` or
# `^` would make `re` try every position: a tenth of an ast summary's time).
_DYNAMIC_CALLS = tuple(
    re.compile(pattern) for pattern in (r"globals\s*\(", r"vars\s*\(\s*\)", r"locals\s*\(\s*\)", r"exec\s*\(", r"sys\.modules\b")
)
_GLOBAL_STATEMENT = re.compile(r"global[ \t]")


class SummaryState:
    """What a builder has recorded of a module so far, and what a dotted name means there."""

    def __init__(self, name: str, is_package: bool) -> None:
        self.name = name
        self.is_package = is_package
        self.imports: list[ImportInfo] = []
        self.bindings: dict[str, str] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.functions: dict[str, FunctionInfo] = {}
        self.constants: dict[str, list[str]] = {}
        self.strings: dict[str, str] = {}
        self.call_assignments: dict[str, str] = {}
        self.call_classes: dict[str, str] = {}
        self.typevars: list[str] = []
        self.typevar_defaults: list[str] = []  # PEP 696: TypeVar("T", default=...)
        self.defined: list[str] = []
        self._defined: set[str] = set()  # the same names, to look up (a module defines hundreds)
        self.all_names: list[str] | None = None
        self.open_names = False

    def adopt(self, summary: ModuleSummary, bindings: dict[str, str]) -> None:
        """Resolve names as ``summary``'s module does, with ``bindings`` (a function's local
        imports and classes) over its own: for a class defined inside a function."""
        self.bindings = {**summary.bindings, **bindings}
        self.defined = summary.defined
        self._defined = set(summary.defined)
        self.classes = summary.classes
        self.functions = summary.functions
        self.typevars = summary.typevars

    def record_import(self, module: str, attr: str | None, bound: str, target: str, scope: str) -> None:
        self.imports.append(ImportInfo(module, attr, bound, scope))
        if scope != "function" and bound != "*":
            self.bindings[bound] = target
            self.define(bound)

    def define(self, name: str) -> None:
        """A module-level name the module binds."""
        self.defined.append(name)
        self._defined.add(name)

    def record_assignment(
        self, target: str, strings: list[str] | None, text: str | None,
        callee: str | None, keywords: list[tuple[str, str | None]], ref: str | None,
    ) -> None:
        """``target = value`` at module level, from what the value is: a collection of
        ``strings``, a string ``text``, a call of ``callee`` with ``keywords`` (name, dotted
        value), or a reference ``ref`` to another name (``Alias = SomeClass``)."""
        if strings is not None:
            self.constants[target] = strings
            if target == "__all__":
                self.all_names = strings
        if text is not None:
            self.strings[target] = text
        if callee in TYPEVAR:
            self.typevars.append(target)
            if any(keyword == "default" for keyword, _ in keywords):
                self.typevar_defaults.append(target)
        elif callee:
            self.call_assignments[target] = self.qualify(callee)
            for keyword, built in keywords:
                if keyword == "class_" and built:
                    self.call_classes[target] = self.qualify(built)
        elif ref:
            self.bindings[target] = self.qualify(ref)

    def qualify(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        if head in self.bindings:
            base = self.bindings[head]
        elif head in self.classes or head in self.functions or head in self._defined:
            base = f"{self.name}.{head}" if self.name else head
        else:
            base = BUILTIN_QUALNAMES.get(head, head)
        return f"{base}.{rest}" if rest else base

    def new_class(self, name: str, qualname: str, bases: list[BaseInfo]) -> ClassInfo:
        """A class of ``bases`` (generic in the TypeVars among their arguments), for the
        builder to fill in from its body."""
        type_params: list[str] = []
        for base in bases:
            for arg in base.args:
                if arg in self.typevars and arg not in type_params:
                    type_params.append(arg)
        return ClassInfo(name, qualname, bases, type_params, None, {}, {}, {})

    def summary(self, path: str, root: str, source: str) -> ModuleSummary:
        return ModuleSummary(
            name=self.name,
            path=path,
            root=root,
            is_package=self.is_package,
            imports=self.imports,
            bindings=self.bindings,
            classes=self.classes,
            functions=self.functions,
            constants=self.constants,
            strings=self.strings,
            call_assignments=self.call_assignments,
            call_classes=self.call_classes,
            typevars=self.typevars,
            typevar_defaults=self.typevar_defaults,
            defined=sorted(set(self.defined)),
            all_names=self.all_names,
            open_names=self.open_names or _binds_dynamically(source),
        )


def _binds_dynamically(source: str) -> bool:
    for pattern in _DYNAMIC_CALLS:
        for match in pattern.finditer(source):
            start = match.start()
            if start == 0 or not (source[start - 1].isalnum() or source[start - 1] == "_"):
                return True
    for match in _GLOBAL_STATEMENT.finditer(source):
        line_start = source.rfind("\n", 0, match.start()) + 1
        if source[line_start:match.start()].strip(" \t") == "":
            return True
    return False


class SelfUsesState:
    """A method's ``self_sets``/``self_reads``/``self_calls`` as its body is walked."""

    def __init__(self, info: FunctionInfo) -> None:
        self.info = info
        self.sets: dict[str, None] = {}
        self.reads: dict[str, None] = {}
        self.calls: dict[str, None] = {}

    def attribute(self, attr: str, store: bool) -> None:
        if attr == "__dict__":
            self.sets["*"] = None
        elif store:
            self.sets[attr] = None
        elif attr not in self.sets:
            self.reads[attr] = None

    def called(self, method: str, first_arg: str | None) -> None:
        """``self.method(...)``; ``first_arg``: the string its first argument is, if any."""
        self.calls[method] = None
        if method == "__setattr__":
            self.sets[first_arg if first_arg is not None else "*"] = None

    def called_on_self(self, function: str | None, second_arg: str | None) -> None:
        """``function(self, ...)``; ``second_arg``: the string its second argument is."""
        if function in SETATTR:
            self.sets[second_arg if second_arg is not None else "*"] = None
        elif function == "vars":
            self.sets["*"] = None

    def finish(self) -> None:
        self.info.self_sets = list(self.sets)
        self.info.self_reads = list(self.reads)
        self.info.self_calls = list(self.calls)


_MAX_NAMESPACE_DEPTH = 4  # namespace folders looked through up to a package


class ModuleNamer:
    """Dotted module names of files, remembering (for one run) which folders are packages.

    With configured source roots the deepest root containing the file wins. Without, the
    root is the first ancestor folder that is not a package (has no ``__init__.py``): this
    finds ``services/<svc>/`` as the root of ``services/<svc>/app/...``. Folders without
    ``__init__.py`` inside a package are namespace packages, as Python imports them:
    ``app/api/v1/users.py`` is ``app.api.v1.users`` when ``app/api/__init__.py`` exists.
    """

    def __init__(self, roots: Iterable[Path | str] = ()) -> None:
        self.roots = [os.path.abspath(r) for r in roots]
        self._package_dirs: dict[str, bool] = {}
        self._roots: dict[str, str] = {}  # folder -> the source root of its files
        self._packages: dict[str, list[str]] = {}  # folder -> the package its files are in, as parts

    def _is_package_dir(self, folder: str) -> bool:
        known = self._package_dirs.get(folder)
        if known is None:
            known = self._package_dirs[folder] = os.path.isfile(os.path.join(folder, "__init__.py"))
        return known

    def _enclosing_package(self, folder: str) -> str:
        """``folder``, or the package a few namespace folders (no ``__init__.py``, names
        Python can import) below which it lies."""
        current = folder
        for _ in range(_MAX_NAMESPACE_DEPTH):
            if self._is_package_dir(current):
                return current
            parent = os.path.dirname(current)
            if parent == current or not os.path.basename(current).isidentifier():
                break
            current = parent
        return folder

    def _root_of(self, folder: str) -> str:
        """The source root of the files in ``folder`` (an absolute path)."""
        best = self._roots.get(folder)
        if best is None:
            for root in self.roots:
                if (folder + os.sep).startswith(root + os.sep) and (best is None or len(root) > len(best)):
                    best = root
            if best is None:
                best = self._enclosing_package(folder)
                while self._is_package_dir(best) and os.path.dirname(best) != best:
                    best = os.path.dirname(best)
            self._roots[folder] = best
        return best

    def __call__(self, path: Path | str) -> tuple[str, str, bool]:
        """(module name, source root, is a package ``__init__``)."""
        full = os.path.abspath(path)
        folder, file_name = os.path.split(full)
        is_package = file_name in ("__init__.py", "__init__.pyi")
        best = self._root_of(folder)
        package = self._packages.get(folder)
        if package is None:
            package = self._packages[folder] = [part for part in os.path.relpath(folder, best).split(os.sep) if part != "."]
        parts = package if is_package else [*package, os.path.splitext(file_name)[0]]
        return ".".join(parts), best, is_package


def module_name_for(path: Path, roots: Iterable[Path]) -> tuple[str, Path, bool]:
    name, root, is_package = ModuleNamer(roots)(path)
    return name, Path(root), is_package
