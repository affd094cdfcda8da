"""Module summaries: what other files may ask about a module, from one cheap walk.

A :class:`ModuleSummary` holds a module's imports, classes (bases, ``__init__``, annotated
fields, TypeVar parameters), functions' return annotations, and module-level string
constants. Summaries are plain data: they pickle to worker processes, serialise to the
cache, and their fingerprint keys every cached result that read them. Nothing is imported
or executed.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import libcst as cst
from pydantic import TypeAdapter

from pitfalls.core import names
from pitfalls.core.relationships import loader_strategy
from pitfalls.core.walker import children, iter_statements

_TYPEVAR = ("TypeVar", "typing.TypeVar", "typing_extensions.TypeVar")
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

    def fingerprint(self) -> str:
        # repr, not JSON: source strings may hold lone surrogates that JSON cannot encode.
        return hashlib.blake2b(repr(self).encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return _SUMMARY.dump_python(self, mode="json")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModuleSummary:
        return _SUMMARY.validate_python(data)


# pydantic-core (de)serialises the nested dataclasses far faster than dataclasses.asdict.
_SUMMARY: TypeAdapter[ModuleSummary] = TypeAdapter(ModuleSummary)


# ---------------------------------------------------------------------------------------
# Building a summary


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

    def __call__(self, path: Path | str) -> tuple[str, str, bool]:
        """(module name, source root, is a package ``__init__``)."""
        full = os.path.abspath(path)
        is_package = os.path.basename(full) in ("__init__.py", "__init__.pyi")
        best: str | None = None
        for root in self.roots:
            if full.startswith(root + os.sep) and (best is None or len(root) > len(best)):
                best = root
        if best is None:
            best = self._enclosing_package(os.path.dirname(full))
            while self._is_package_dir(best) and os.path.dirname(best) != best:
                best = os.path.dirname(best)
        parts = list(Path(os.path.relpath(full, best)).with_suffix("").parts)
        if is_package:
            parts = parts[:-1]
        return ".".join(parts), best, is_package


def module_name_for(path: Path, roots: Iterable[Path]) -> tuple[str, Path, bool]:
    name, root, is_package = ModuleNamer(roots)(path)
    return name, Path(root), is_package


# Source text through which a module may bind names no statement shows.
_DYNAMIC_NAMES = re.compile(r"\bglobals\s*\(|\b(?:vars|locals)\s*\(\s*\)|\bexec\s*\(|\bsys\.modules\b|^[ \t]*global[ \t]", re.M)


def _suite(block: cst.BaseSuite) -> Iterable[cst.CSTNode]:
    """The statements of a block; a one-line suite (``if x: import y``) is its own line."""
    return [block] if isinstance(block, cst.SimpleStatementSuite) else block.body


class _SummaryBuilder:
    def __init__(self, module: cst.Module, name: str, is_package: bool):
        self.module = module
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
        self.all_names: list[str] | None = None
        self.open_names = False

    # -- imports ------------------------------------------------------------------------

    def _record_imports(self, stmt: cst.Import | cst.ImportFrom, scope: str) -> None:
        for module, attr, bound, target in names.import_bindings(stmt, self.name, self.is_package):
            self.imports.append(ImportInfo(module, attr, bound, scope))
            if scope != "function" and bound != "*":
                self.bindings[bound] = target
                self.defined.append(bound)

    def _scan_imports_in(self, node: cst.CSTNode, scope: str) -> None:
        """Record imports nested in functions/classes (they never bind module names)."""
        for stmt in iter_statements(node):
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._record_imports(small, scope)

    # -- statements ---------------------------------------------------------------------

    def build(self) -> None:
        self._statements(self.module.body, scope="module")

    def _statements(self, body: Iterable[cst.CSTNode], scope: str) -> None:
        for stmt in body:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._record_imports(small, scope)
                    elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                        self._assignment(small)
                    self.open_names |= isinstance(small, cst.TypeAlias)
            elif isinstance(stmt, cst.ClassDef):
                self.defined.append(stmt.name.value)
                self.classes[stmt.name.value] = self._class(stmt)
                self._scan_imports_in(stmt, "function")
            elif isinstance(stmt, cst.FunctionDef):
                self.defined.append(stmt.name.value)
                self.functions[stmt.name.value] = self._function(stmt)
                self._scan_imports_in(stmt, "function")
            elif isinstance(stmt, cst.If):
                inner = scope
                if names.is_type_checking_test(stmt.test):
                    inner = "type_checking"
                elif scope == "module" and names.is_main_guard(stmt.test):
                    inner = "main"  # runs when the module is run as a script, not when imported
                self._statements(_suite(stmt.body), inner)
                orelse = stmt.orelse
                while orelse is not None:
                    branch = scope
                    if isinstance(orelse, cst.If) and names.is_type_checking_test(orelse.test):
                        branch = "type_checking"
                    self._statements(_suite(orelse.body), branch)
                    orelse = orelse.orelse if isinstance(orelse, cst.If) else None
            elif isinstance(stmt, cst.Try):
                self._statements(_suite(stmt.body), scope)
                for handler in stmt.handlers:
                    self._statements(_suite(handler.body), scope)
                if stmt.orelse:
                    self._statements(_suite(stmt.orelse.body), scope)
                if stmt.finalbody:
                    self._statements(_suite(stmt.finalbody.body), scope)
            elif isinstance(stmt, (cst.With, cst.For, cst.While)):
                self.open_names |= isinstance(stmt, cst.For) or (isinstance(stmt, cst.With) and any(i.asname for i in stmt.items))
                self._statements(_suite(stmt.body), scope)
            else:
                self.open_names = True  # `match`, `try`/`except*`: names bound in ways not followed

    def _assignment(self, node: cst.Assign | cst.AnnAssign) -> None:
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            value = node.value
        else:
            targets = [node.target]
            value = node.value
        for target in targets:
            if not isinstance(target, cst.Name):
                self.open_names = self.open_names or not isinstance(target, (cst.Attribute, cst.Subscript))
                continue
            self.defined.append(target.value)
            if value is None:
                continue
            strings = names.string_collection(value)
            if strings is not None:
                self.constants[target.value] = strings
                if target.value == "__all__":
                    self.all_names = strings
            text = names.string_value(value)
            if text is not None:
                self.strings[target.value] = text
            if isinstance(value, cst.Call) and names.dotted(value.func) in _TYPEVAR:
                self.typevars.append(target.value)
                if any(arg.keyword is not None and arg.keyword.value == "default" for arg in value.args):
                    self.typevar_defaults.append(target.value)
            elif isinstance(value, cst.Call) and names.dotted(value.func):
                self.call_assignments[target.value] = self._qualify(names.dotted(value.func) or "")
                for arg in value.args:
                    built = names.dotted(arg.value) if arg.keyword is not None and arg.keyword.value == "class_" else None
                    if built:
                        self.call_classes[target.value] = self._qualify(built)
            elif isinstance(value, (cst.Name, cst.Attribute)):
                # `Alias = SomeClass` re-exports a name under another.
                ref = names.dotted(value)
                if ref:
                    self.bindings[target.value] = self._qualify(ref)

    def _qualify(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        if head in self.bindings:
            base = self.bindings[head]
        elif head in self.classes or head in self.functions or head in self.defined:
            base = f"{self.name}.{head}" if self.name else head
        else:
            base = names.BUILTIN_QUALNAMES.get(head, head)
        return f"{base}.{rest}" if rest else base

    def _annotation_names(self, annotation: cst.BaseExpression) -> list[str]:
        return [self._qualify(d) for d in names.names_in_annotation(annotation)]

    def _function(self, node: cst.FunctionDef, *, method: bool = False) -> FunctionInfo:
        params = names.param_infos(node.params, self.module)
        returns = None
        if node.returns is not None:  # the one type returned: `Model`, `Optional[Model]`, `"Model"`...
            target = names.annotated_type(node.returns.annotation)
            text = names.dotted(target) if target is not None else None
            returns = self._qualify(text) if text else None
        info = FunctionInfo(
            name=node.name.value,
            params=[ParamInfo(*p) for p in params],
            returns=returns,
            is_async=node.asynchronous is not None,
            decorators=[self._decorator(d.decorator) for d in node.decorators],
        )
        if node.asynchronous is not None:
            self._async_generator(node, info)
        static = any(names.dotted(d.decorator) in ("staticmethod", "classmethod") for d in node.decorators)
        if method and params and params[0][1] == "positional" and not static:
            _SelfUses(params[0][0], info).walk(node.body)
        return info

    def _async_generator(self, node: cst.FunctionDef, info: FunctionInfo) -> None:
        yielded = names.yielded_values(node)
        if yielded is None:
            return
        info.is_async_generator = True
        if node.returns is not None:
            annotation = node.returns.annotation
            if isinstance(annotation, cst.Subscript) and names.last_name(annotation.value) in _ASYNC_ITERATORS:
                first = annotation.slice[0].slice
                text = names.dotted(first.value) if isinstance(first, cst.Index) else None
                info.yield_type = self._qualify(text) if text else None
        built = {self._qualify(call) if call else None for call in yielded}
        if len(built) == 1:
            info.yields_call = built.pop()

    def _decorator(self, decorator: cst.BaseExpression) -> str:
        text = names.dotted(decorator.func if isinstance(decorator, cst.Call) else decorator)
        return self._qualify(text) if text else ""

    def _class(self, node: cst.ClassDef, qualname: str | None = None) -> ClassInfo:
        if qualname is None:
            qualname = f"{self.name}.{node.name.value}" if self.name else node.name.value
        bases: list[BaseInfo] = []
        type_params: list[str] = []
        for arg in node.bases:
            if arg.keyword is not None or arg.star:
                continue
            expr = arg.value
            args: list[str] = []
            subscripted = isinstance(expr, cst.Subscript)
            if isinstance(expr, cst.Subscript):
                for element in expr.slice:
                    if isinstance(element.slice, cst.Index):
                        args.append(self.module.code_for_node(element.slice.value))
                expr = expr.value
            dotted = names.dotted(expr)
            qual = self._qualify(dotted) if dotted else None
            bases.append(
                BaseInfo(self.module.code_for_node(arg.value), qual, args, subscripted)
            )
            for a in args:
                if a in self.typevars and a not in type_params:
                    type_params.append(a)
        fields: dict[str, FieldInfo] = {}
        methods: dict[str, FunctionInfo] = {}
        constants: dict[str, str] = {}
        attributes: list[str] = []
        relationships: dict[str, str] = {}
        has_config = False
        for stmt in node.body.body:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        ann = small.annotation.annotation
                        ann_text = self.module.code_for_node(ann)
                        fields[small.target.value] = FieldInfo(
                            name=small.target.value,
                            annotation=ann_text,
                            annotation_names=self._annotation_names(ann),
                            has_default=names.field_has_default(small.value),
                            default=self.module.code_for_node(small.value) if small.value else None,
                            optional=names.annotation_is_optional(ann),
                        )
                        lazy = loader_strategy(small.value, ann, self._qualify)
                        if lazy is not None:
                            relationships[small.target.value] = lazy
                    elif isinstance(small, cst.Assign):
                        attributes.extend(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
                        lazy = loader_strategy(small.value, None, self._qualify)
                        if lazy is not None:
                            relationships.update((t.target.value, lazy) for t in small.targets if isinstance(t.target, cst.Name))
                        target = small.targets[0].target
                        if len(small.targets) == 1 and isinstance(target, cst.Name):
                            value = names.string_value(small.value)
                            if value is not None:
                                constants[target.value] = value
            elif isinstance(stmt, cst.FunctionDef):
                methods[stmt.name.value] = self._function(stmt, method=True)
            elif isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
                has_config = True
        return ClassInfo(
            name=node.name.value,
            qualname=qualname,
            bases=bases,
            type_params=type_params,
            init=methods.get("__init__"),
            fields=fields,
            methods=methods,
            class_constants=constants,
            has_inner_config=has_config,
            attributes=attributes,
            relationships=relationships,
        )


_SETATTR = frozenset({"setattr", "object.__setattr__"})
_ASYNC_ITERATORS = frozenset({"AsyncGenerator", "AsyncIterator", "AsyncIterable"})


class _SelfUses:
    """Fills a method's ``self_sets``/``self_reads``/``self_calls``/``calls_super_init``
    from one walk of its body."""

    def __init__(self, me: str, info: FunctionInfo) -> None:
        self.me = me
        self.info = info
        self.sets: dict[str, None] = {}
        self.reads: dict[str, None] = {}
        self.calls: dict[str, None] = {}

    def walk(self, body: cst.BaseSuite) -> None:
        stack: list[tuple[cst.CSTNode, bool]] = [(body, False)]  # (node, is an assignment target)
        push = stack.append
        while stack:
            node, store = stack.pop()
            if isinstance(node, cst.Attribute) and self._is_self(node.value):
                self._attribute(node.attr.value, store)
                continue
            if store and isinstance(node, (cst.Tuple, cst.List)):
                stack.extend((element.value, True) for element in reversed(node.elements))
                continue
            if isinstance(node, cst.Assign):
                stack.extend((target.target, True) for target in reversed(node.targets))
                push((node.value, False))  # popped first: the value runs before the targets
            elif isinstance(node, cst.AnnAssign):
                if node.value is not None:
                    push((node.target, True))
                    push((node.value, False))
            elif isinstance(node, cst.AugAssign):
                push((node.target, True))
                push((node.target, False))
                push((node.value, False))
            elif isinstance(node, (cst.For, cst.AsName)):
                kids = children(node)
                target = node.target if isinstance(node, cst.For) else node.name
                stack.extend((kid, kid is target) for kid in reversed(kids))
            else:
                if isinstance(node, cst.Call):
                    self._call(node)
                kids = children(node)
                kids.reverse()
                stack.extend((kid, False) for kid in kids)
        self.info.self_sets = list(self.sets)
        self.info.self_reads = list(self.reads)
        self.info.self_calls = list(self.calls)

    def _is_self(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.me

    def _attribute(self, attr: str, store: bool) -> None:
        if attr == "__dict__":
            self.sets["*"] = None
        elif store:
            self.sets[attr] = None
        elif attr not in self.sets:
            self.reads[attr] = None

    def _call(self, call: cst.Call) -> None:
        func = call.func
        args = call.args
        if isinstance(func, cst.Attribute) and self._is_self(func.value):
            self.calls[func.attr.value] = None
            if func.attr.value == "__setattr__":
                self._setattr(args[0] if args else None)
        elif names.is_super_init_call(call):
            self.info.calls_super_init = True
        elif args and self._is_self(args[0].value):
            function = names.dotted(func)
            if function in _SETATTR:
                self._setattr(args[1] if len(args) > 1 else None)
            elif function == "vars":
                self.sets["*"] = None

    def _setattr(self, name: cst.Arg | None) -> None:
        text = names.string_value(name.value) if name is not None else None
        self.sets[text if text is not None else "*"] = None


def local_class_info(
    module: cst.Module, summary: ModuleSummary, node: cst.ClassDef, qualname: str, bindings: dict[str, str]
) -> ClassInfo:
    """What a summary would say of a class defined inside a function (``qualname``:
    ``module.func.<locals>.Cls``), with the names the function binds (``bindings``: local
    imports and classes) over the module's. No other module can import such a class, so
    it stays out of the summary; the file's own check builds it when it meets the class."""
    builder = _SummaryBuilder(module, summary.name, summary.is_package)
    builder.bindings = {**summary.bindings, **bindings}
    builder.defined = summary.defined
    builder.classes = summary.classes
    builder.functions = summary.functions
    builder.typevars = summary.typevars
    return builder._class(node, qualname)


def summarize(
    module: cst.Module, *, name: str, path: str, root: str, is_package: bool, source: str | None = None
) -> ModuleSummary:
    builder = _SummaryBuilder(module, name, is_package)  # ``source``: the text, when at hand
    builder.build()
    return ModuleSummary(
        name=name,
        path=path,
        root=root,
        is_package=is_package,
        imports=builder.imports,
        bindings=builder.bindings,
        classes=builder.classes,
        functions=builder.functions,
        constants=builder.constants,
        strings=builder.strings,
        call_assignments=builder.call_assignments,
        call_classes=builder.call_classes,
        typevars=builder.typevars,
        typevar_defaults=builder.typevar_defaults,
        defined=sorted(set(builder.defined)),
        all_names=builder.all_names,
        open_names=builder.open_names or _DYNAMIC_NAMES.search(module.code if source is None else source) is not None,
    )


