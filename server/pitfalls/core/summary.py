"""Module summaries: what other files may ask about a module, from one cheap walk.

A :class:`ModuleSummary` holds a module's imports, classes (bases, ``__init__``, annotated
fields, TypeVar parameters), functions' return annotations, and module-level string
constants. Summaries are plain data: they pickle to worker processes, serialise to the
cache, and their fingerprint keys every cached result that read them. Nothing is imported
or executed.

This module builds them from libcst's tree, for the files whose rules run;
:mod:`pitfalls.core.summary_ast` builds the same summary from CPython's ``ast`` for the
files only summarised. The data, the bookkeeping both share and the naming of modules are
in :mod:`pitfalls.core.summary_data` (which a run whose results are all cached loads
without libcst).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import libcst as cst

from pitfalls.core import names
from pitfalls.core.relationships import loader_strategy
from pitfalls.core.summary_data import (
    ASYNC_ITERATORS,
    PYDANTIC_BASE_MODELS,
    PYDANTIC_SETTINGS,
    BaseInfo,
    ClassInfo,
    FieldInfo,
    FunctionInfo,
    ImportInfo,
    ModuleNamer,
    ModuleSummary,
    ParamInfo,
    SelfUsesState,
    SummaryState,
    module_name_for,
)
from pitfalls.core.walker import children, iter_statements

# The summary's data lives in summary_data (shared with the ast builder); its users import it from here.
__all__ = [
    "PYDANTIC_BASE_MODELS", "PYDANTIC_SETTINGS", "BaseInfo", "ClassInfo", "FieldInfo", "FunctionInfo",
    "ImportInfo", "ModuleNamer", "ModuleSummary", "ParamInfo", "local_class_info", "module_name_for", "summarize",
]

# ---------------------------------------------------------------------------------------
# Building a summary


def _suite(block: cst.BaseSuite) -> Iterable[cst.CSTNode]:
    """The statements of a block; a one-line suite (``if x: import y``) is its own line."""
    return [block] if isinstance(block, cst.SimpleStatementSuite) else block.body


@dataclass
class StatementSummary:
    """What one class or function statement added to its module's summary, and under what:
    the names it resolved (dotted name -> what it resolved to) and the rest of its context."""

    context: tuple[object, ...]
    resolved: list[tuple[str, str]]
    info: ClassInfo | FunctionInfo
    nested_imports: list[tuple[str, str | None, str, str]]
    # A class's methods, each with what it resolved: an edit of one method of a long class
    # summarises that one again, not the others.
    methods: dict[cst.CSTNode, tuple[list[tuple[str, str]], FunctionInfo]] = field(default_factory=dict)
    _text: str | None = None

    @property
    def text(self) -> str:
        """``repr(info)``, for the summary's fingerprint (computed once per statement)."""
        if self._text is None:
            self._text = repr(self.info)
        return self._text


def fingerprint_of(summary: ModuleSummary, statements: StatementSummaries) -> str:
    """``summary.fingerprint()``, with the reprs ``statements`` keep (an edit's summary
    shares all but its own statements' with the last one's)."""
    return summary.fingerprint({id(entry.info): entry.text for entry in statements.values()})


# A summary's class and function statements (the node objects) -> what each added: what the
# next edit's summary reuses for the statements the edit left alone (see :func:`summarize`).
StatementSummaries = dict[cst.CSTNode, StatementSummary]


class _SummaryBuilder(SummaryState):
    def __init__(self, module: cst.Module, name: str, is_package: bool):
        super().__init__(name, is_package)
        self.module = module
        self.earlier: StatementSummaries = {}
        self.statements: StatementSummaries | None = None  # filled when kept
        self._resolved: list[tuple[str, str]] | None = None  # recorded while a statement is built
        self._methods: dict[cst.CSTNode, tuple[list[tuple[str, str]], FunctionInfo]] | None = None  # the class's, as built
        self._earlier_methods: dict[cst.CSTNode, tuple[list[tuple[str, str]], FunctionInfo]] | None = None

    def qualify(self, dotted: str) -> str:
        found = super().qualify(dotted)
        if self._resolved is not None:
            self._resolved.append((dotted, found))
        return found

    def _definition(self, stmt: cst.ClassDef | cst.FunctionDef) -> ClassInfo | FunctionInfo:
        """The summary of a module-level class or function, and the imports nested in it;
        the earlier text's for the same statement when everything it resolved resolves
        the same way now (an edit elsewhere in the file)."""
        context = (self.name, self.is_package, self.module.default_indent, self.module.default_newline, tuple(self.typevars))
        entry = self.earlier.get(stmt)
        if entry is None or entry.context != context or not self._holds(entry.resolved):
            self._resolved, self._methods = resolved, methods = [], {}
            if type(stmt) is cst.ClassDef and self._earlier_methods is None:
                self._earlier_methods = {
                    method: known for old in self.earlier.values() if old.context == context for method, known in old.methods.items()
                }
            try:
                info = self._class(stmt) if type(stmt) is cst.ClassDef else self._function(stmt)  # type: ignore[arg-type]
            finally:
                self._resolved = self._methods = None
            nested = [
                binding
                for small in _nested_imports(stmt)
                for binding in names.import_bindings(small, self.name, self.is_package)
            ]
            entry = StatementSummary(context, resolved, info, nested, methods)
        if self.statements is not None:
            self.statements[stmt] = entry
        for binding in entry.nested_imports:
            self.record_import(*binding, "function")
        return entry.info

    def _holds(self, resolved: list[tuple[str, str]]) -> bool:
        """Whether every name resolved as recorded resolves the same way now."""
        return all(SummaryState.qualify(self, d) == q for d, q in resolved)

    def _method(self, node: cst.FunctionDef) -> FunctionInfo:
        """A method's summary: the earlier text's for the same node (its class's other
        methods were edited) when what it resolved still resolves the same way."""
        known = (self._earlier_methods or {}).get(node)
        outer = self._resolved
        if known is not None and self._holds(known[0]):
            resolved, info = known
        else:
            self._resolved = resolved = []
            try:
                info = self._function(node, method=True)
            finally:
                self._resolved = outer
        if outer is not None:
            outer.extend(resolved)  # the class's entry holds only while its methods' do
        if self._methods is not None:
            self._methods[node] = (resolved, info)
        return info

    # -- imports ------------------------------------------------------------------------

    def _record_imports(self, stmt: cst.Import | cst.ImportFrom, scope: str) -> None:
        for binding in names.import_bindings(stmt, self.name, self.is_package):
            self.record_import(*binding, scope)

    # -- statements ---------------------------------------------------------------------

    def build(self) -> None:
        self._statements(self.module.body, scope="module")

    def _statements(self, body: Iterable[cst.CSTNode], scope: str) -> None:
        for stmt in body:
            if type(stmt) in (cst.SimpleStatementLine, cst.SimpleStatementSuite):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._record_imports(small, scope)
                    elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                        self._assignment(small)
                    self.open_names |= isinstance(small, cst.TypeAlias)
            elif type(stmt) is cst.ClassDef:
                self.define(stmt.name.value)
                self.classes[stmt.name.value] = self._definition(stmt)  # type: ignore[assignment]
            elif isinstance(stmt, cst.FunctionDef):
                self.define(stmt.name.value)
                self.functions[stmt.name.value] = self._definition(stmt)  # type: ignore[assignment]
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
            self.define(target.value)
            if value is None:
                continue
            call = value if isinstance(value, cst.Call) else None
            keywords = [(a.keyword.value, names.dotted(a.value)) for a in call.args if a.keyword is not None] if call else []
            self.record_assignment(
                target.value, names.string_collection(value), names.string_value(value),
                names.dotted(call.func) if call else None, keywords,
                names.dotted(value) if isinstance(value, (cst.Name, cst.Attribute)) else None,
            )

    def _annotation_names(self, annotation: cst.BaseExpression) -> list[str]:
        return [self.qualify(d) for d in names.names_in_annotation(annotation)]

    def _function(self, node: cst.FunctionDef, *, method: bool = False) -> FunctionInfo:
        params = names.param_infos(node.params, self.module)
        returns = None
        if node.returns is not None:  # the one type returned: `Model`, `Optional[Model]`, `"Model"`...
            target = names.annotated_type(node.returns.annotation)
            text = names.dotted(target) if target is not None else None
            returns = self.qualify(text) if text else None
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
            if isinstance(annotation, cst.Subscript) and names.last_name(annotation.value) in ASYNC_ITERATORS:
                first = annotation.slice[0].slice
                text = names.dotted(first.value) if isinstance(first, cst.Index) else None
                info.yield_type = self.qualify(text) if text else None
        built = {self.qualify(call) if call else None for call in yielded}
        if len(built) == 1:
            info.yields_call = built.pop()

    def _decorator(self, decorator: cst.BaseExpression) -> str:
        text = names.dotted(decorator.func if isinstance(decorator, cst.Call) else decorator)
        return self.qualify(text) if text else ""

    def _class(self, node: cst.ClassDef, qualname: str | None = None) -> ClassInfo:
        if qualname is None:
            qualname = f"{self.name}.{node.name.value}" if self.name else node.name.value
        bases: list[BaseInfo] = []
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
            qual = self.qualify(dotted) if dotted else None
            bases.append(BaseInfo(self.module.code_for_node(arg.value), qual, args, subscripted))
        info = self.new_class(node.name.value, qualname, bases)
        for stmt in node.body.body:
            if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
                for small in stmt.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        ann = small.annotation.annotation
                        ann_text = self.module.code_for_node(ann)
                        info.fields[small.target.value] = FieldInfo(
                            name=small.target.value,
                            annotation=ann_text,
                            annotation_names=self._annotation_names(ann),
                            has_default=names.field_has_default(small.value),
                            default=self.module.code_for_node(small.value) if small.value else None,
                            optional=names.annotation_is_optional(ann),
                        )
                        lazy = loader_strategy(small.value, ann, self.qualify)
                        if lazy is not None:
                            info.relationships[small.target.value] = lazy
                    elif isinstance(small, cst.Assign):
                        info.attributes.extend(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
                        lazy = loader_strategy(small.value, None, self.qualify)
                        if lazy is not None:
                            info.relationships.update((t.target.value, lazy) for t in small.targets if isinstance(t.target, cst.Name))
                        target = small.targets[0].target
                        if len(small.targets) == 1 and isinstance(target, cst.Name):
                            value = names.string_value(small.value)
                            if value is not None:
                                info.class_constants[target.value] = value
            elif isinstance(stmt, cst.FunctionDef):
                info.methods[stmt.name.value] = self._method(stmt)
            elif isinstance(stmt, cst.ClassDef) and stmt.name.value == "Config":
                info.has_inner_config = True
        info.init = info.methods.get("__init__")
        return info


class _SelfUses(SelfUsesState):
    """Fills a method's ``self_sets``/``self_reads``/``self_calls``/``calls_super_init``
    from one walk of its body."""

    def __init__(self, me: str, info: FunctionInfo) -> None:
        super().__init__(info)
        self.me = me

    def walk(self, body: cst.BaseSuite) -> None:
        stack: list[tuple[cst.CSTNode, bool]] = [(body, False)]  # (node, is an assignment target)
        push = stack.append
        while stack:
            node, store = stack.pop()
            if type(node) is cst.Attribute and self._is_self(node.value):
                self.attribute(node.attr.value, store)
                continue
            if store and isinstance(node, (cst.Tuple, cst.List)):
                stack.extend((element.value, True) for element in reversed(node.elements))
                continue
            if type(node) is cst.Assign:
                stack.extend((target.target, True) for target in reversed(node.targets))
                push((node.value, False))  # popped first: the value runs before the targets
            elif type(node) is cst.AnnAssign:
                if node.value is not None:
                    push((node.target, True))
                    push((node.value, False))
            elif type(node) is cst.AugAssign:
                push((node.target, True))
                push((node.target, False))
                push((node.value, False))
            elif type(node) in (cst.For, cst.AsName):
                kids = children(node)
                target = node.target if isinstance(node, cst.For) else node.name
                stack.extend((kid, kid is target) for kid in reversed(kids))
            else:
                if type(node) is cst.Call:
                    self._call(node)
                kids = children(node)
                kids.reverse()
                stack.extend((kid, False) for kid in kids)
        self.finish()

    def _is_self(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.me

    def _call(self, call: cst.Call) -> None:
        func = call.func
        args = call.args
        if isinstance(func, cst.Attribute) and self._is_self(func.value):
            setattr_name = args and func.attr.value == "__setattr__"
            self.called(func.attr.value, names.string_value(args[0].value) if setattr_name else None)
        elif names.is_super_init_call(call):
            self.info.calls_super_init = True
        elif args and self._is_self(args[0].value):
            self.called_on_self(names.dotted(func), names.string_value(args[1].value) if len(args) > 1 else None)


def local_class_info(
    module: cst.Module, summary: ModuleSummary, node: cst.ClassDef, qualname: str, bindings: dict[str, str]
) -> ClassInfo:
    """What a summary would say of a class defined inside a function (``qualname``:
    ``module.func.<locals>.Cls``), with the names the function binds (``bindings``: local
    imports and classes) over the module's. No other module can import such a class, so
    it stays out of the summary; the file's own check builds it when it meets the class."""
    builder = _SummaryBuilder(module, summary.name, summary.is_package)
    builder.adopt(summary, bindings)
    return builder._class(node, qualname)


def _nested_imports(node: cst.CSTNode) -> Iterable[cst.Import | cst.ImportFrom]:
    """The imports nested in a function or class (they never bind module names)."""
    for stmt in iter_statements(node):
        if type(stmt) is cst.SimpleStatementLine or type(stmt) is cst.SimpleStatementSuite:
            for small in stmt.body:
                if type(small) is cst.Import or type(small) is cst.ImportFrom:
                    yield small


def summarize(
    module: cst.Module, *, name: str, path: str, root: str, is_package: bool, source: str | None = None,
    earlier: StatementSummaries | None = None, statements: StatementSummaries | None = None,
) -> ModuleSummary:
    """``module``'s summary (``source``: its text, when at hand). ``statements``, when
    given, is filled with what each class and function statement added, for the summary
    of the next edit (``earlier``), which reuses it where the statement is unchanged."""
    builder = _SummaryBuilder(module, name, is_package)
    builder.earlier = earlier or {}
    builder.statements = statements
    builder.build()
    return builder.summary(path, root, module.code if source is None else source)
