"""Module summaries from CPython's ``ast``: the files only summarised (not checked) need no
libcst tree, and ``ast.parse`` costs about a tenth of ``libcst.parse_module``.

The summary is the one :mod:`pitfalls.core.summary` builds from libcst, field for field
(``tests/test_summary_ast.py`` compares them on the ecosystem projects): the bookkeeping is
shared (:mod:`pitfalls.core.summary_data`); only reading the syntax differs. Texts kept as
written come from the source (:mod:`pitfalls.core.written`).
"""

from __future__ import annotations

import ast
from typing import Iterable

from pitfalls.core import names_ast as syntax
from pitfalls.core.source import parse_quietly, python_refuses, too_deep
from pitfalls.core.summary_data import (
    ASYNC_ITERATORS,
    BaseInfo,
    ClassInfo,
    FieldInfo,
    FunctionInfo,
    ModuleSummary,
    ParamInfo,
    SelfUsesState,
    SummaryState,
)
from pitfalls.core.written import SourceText

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Nodes whose walk finds nothing: names alone, literals, operators, contexts.
_LEAVES = frozenset(
    {ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Import, ast.ImportFrom}
    | {kind for base in (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop) for kind in base.__subclasses__()}
)


def parse_tree(source: str) -> ast.Module | None:
    """CPython's tree of ``source``; None when it does not parse (libcst then decides)."""
    try:
        return parse_quietly(source)  # type: ignore[return-value]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def summarize_source(source: str, *, display: str, name: str, path: str, root: str, is_package: bool) -> ModuleSummary | None:
    """The summary of a file that is only summarised, not checked; None when libcst must
    judge the file (Python refuses it, it is nested too deeply, ast cannot parse it), so
    that ``parse_file`` gives the PF000 it always gave."""
    tree = parse_tree(source)
    if tree is None or python_refuses(display, tree) is not None or too_deep(display, source) is not None:
        return None
    try:
        return summarize_ast(tree, source, name=name, path=path, root=root, is_package=is_package)
    except Exception:  # a bug here (or a recursion limit) costs the libcst parse, not the file
        return None


def summarize_ast(tree: ast.Module, source: str, *, name: str, path: str, root: str, is_package: bool) -> ModuleSummary:
    builder = _AstBuilder(SourceText(source), name, is_package)
    builder.statements(tree.body, "module")
    return builder.summary(path, root, source)


class _AstBuilder(SummaryState):
    def __init__(self, text: SourceText, name: str, is_package: bool) -> None:
        super().__init__(name, is_package)
        self.text = text

    def _imports(self, stmt: ast.Import | ast.ImportFrom, scope: str) -> None:
        for binding in syntax.import_bindings(stmt, self.name, self.is_package):
            self.record_import(*binding, scope)

    def _imports_in(self, node: ast.AST) -> None:
        """Imports nested in a function or class, in the order libcst's ``iter_statements``
        meets them (a ``try``'s ``else`` before its handlers)."""
        stack: list[ast.AST] = [node]
        while stack:
            stmt = stack.pop()
            if type(stmt) in (ast.Import, ast.ImportFrom):
                self._imports(stmt, "function")  # type: ignore[arg-type]
                continue
            nested: list[ast.AST] = []
            for field in ("body", "orelse", "handlers", "finalbody", "cases"):
                nested.extend(getattr(stmt, field, ()))
            nested.reverse()
            stack.extend(nested)

    def statements(self, body: Iterable[ast.stmt], scope: str) -> None:
        for stmt in body:
            kind = type(stmt)
            if kind is ast.Import or kind is ast.ImportFrom:
                self._imports(stmt, scope)  # type: ignore[arg-type]
            elif kind is ast.Assign or kind is ast.AnnAssign:
                self._assignment(stmt)  # type: ignore[arg-type]
            elif kind is ast.ClassDef:
                self.define(stmt.name)  # type: ignore[attr-defined]
                self.classes[stmt.name] = self._class(stmt)  # type: ignore[attr-defined, arg-type]
                self._imports_in(stmt)
            elif kind in _FUNCTIONS:
                self.define(stmt.name)  # type: ignore[attr-defined]
                self.functions[stmt.name] = self._function(stmt)  # type: ignore[attr-defined, arg-type]
                self._imports_in(stmt)
            elif kind is ast.If:
                self._if(stmt, scope)  # type: ignore[arg-type]
            elif kind is ast.Try:
                self.statements(stmt.body, scope)  # type: ignore[attr-defined]
                for handler in stmt.handlers:  # type: ignore[attr-defined]
                    self.statements(handler.body, scope)
                self.statements(stmt.orelse, scope)  # type: ignore[attr-defined]
                self.statements(stmt.finalbody, scope)  # type: ignore[attr-defined]
            elif kind in (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While):
                self.open_names |= kind in (ast.For, ast.AsyncFor) or (
                    kind in (ast.With, ast.AsyncWith) and any(i.optional_vars for i in stmt.items)  # type: ignore[attr-defined]
                )
                self.statements(stmt.body, scope)  # type: ignore[attr-defined]
            elif kind in (ast.Match, ast.TryStar):
                self.open_names = True  # names bound in ways not followed

    def _if(self, stmt: ast.If, scope: str) -> None:
        inner = scope
        if syntax.is_type_checking_test(stmt.test):
            inner = "type_checking"
        elif scope == "module" and syntax.is_main_guard(stmt.test):
            inner = "main"
        self.statements(stmt.body, inner)
        orelse = stmt.orelse
        while orelse:
            elif_ = orelse[0] if len(orelse) == 1 and type(orelse[0]) is ast.If and self._is_elif(orelse[0]) else None
            if elif_ is None:  # `else:`, perhaps holding an `if` of its own
                self.statements(orelse, scope)
                return
            self.statements(elif_.body, "type_checking" if syntax.is_type_checking_test(elif_.test) else scope)
            orelse = elif_.orelse

    def _is_elif(self, stmt: ast.If) -> bool:
        return self.text.source.startswith("elif", self.text.offset(stmt.lineno, stmt.col_offset))

    def _assignment(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if type(node) is ast.Assign else [node.target]  # type: ignore[union-attr]
        value = node.value
        for target in targets:
            if type(target) is not ast.Name:
                self.open_names = self.open_names or type(target) not in (ast.Attribute, ast.Subscript)
                continue
            self.define(target.id)
            if value is None:
                continue
            call = value if type(value) is ast.Call else None
            keywords = [(k.arg, syntax.dotted(k.value)) for k in call.keywords if k.arg is not None] if call else []
            self.record_assignment(
                target.id, syntax.string_collection(value), syntax.string_value(value),
                syntax.dotted(call.func) if call else None, keywords,
                syntax.dotted(value) if syntax.is_name(value) else None,
            )

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, *, method: bool = False) -> FunctionInfo:
        params = syntax.param_infos(node.args, self.text, self.text.indent(node))
        returns = None
        if node.returns is not None:
            target = syntax.annotated_type(node.returns, self.text)
            dotted = syntax.dotted(target) if target is not None else None
            returns = self.qualify(dotted) if dotted else None
        is_async = type(node) is ast.AsyncFunctionDef
        info = FunctionInfo(
            name=node.name,
            params=[ParamInfo(*p) for p in params],
            returns=returns,
            is_async=is_async,
            decorators=[self._decorator(d) for d in node.decorator_list],
        )
        if is_async:
            self._async_generator(node, info)
        static = any(syntax.dotted(d) in ("staticmethod", "classmethod") for d in node.decorator_list)
        if method and params and params[0][1] == "positional" and not static:
            _SelfUses(params[0][0], info).walk(node.body)
        return info

    def _async_generator(self, node: ast.FunctionDef | ast.AsyncFunctionDef, info: FunctionInfo) -> None:
        yielded = syntax.yielded_values(node)
        if yielded is None:
            return
        info.is_async_generator = True
        annotation = node.returns
        if type(annotation) is ast.Subscript and syntax.last_name(annotation.value) in ASYNC_ITERATORS:
            first = syntax.elements(annotation, self.text)[0]
            dotted = syntax.dotted(first) if type(first) is not ast.Slice else None
            info.yield_type = self.qualify(dotted) if dotted else None
        built = {self.qualify(call) if call else None for call in yielded}
        if len(built) == 1:
            info.yields_call = built.pop()

    def _decorator(self, decorator: ast.expr) -> str:
        dotted = syntax.dotted(decorator.func if type(decorator) is ast.Call else decorator)
        return self.qualify(dotted) if dotted else ""

    def _class(self, node: ast.ClassDef) -> ClassInfo:
        qualname = f"{self.name}.{node.name}" if self.name else node.name
        text, indent = self.text, self.text.indent(node)
        owned = 1 if len(node.bases) + len(node.keywords) == 1 else 0  # `class A(B)`: the class's brackets
        bases: list[BaseInfo] = []
        for base in node.bases:
            if type(base) is ast.Starred:
                continue
            expr, args = base, []
            if type(base) is ast.Subscript:
                args = [text.written(e, indent) for e in syntax.elements(base, text) if type(e) is not ast.Slice]
                expr = base.value
            dotted = syntax.dotted(expr)
            bases.append(BaseInfo(text.written(base, indent, owned), self.qualify(dotted) if dotted else None, args, type(base) is ast.Subscript))
        info = self.new_class(node.name, qualname, bases)
        for stmt in node.body if self._is_block(node) else ():
            kind = type(stmt)
            if kind is ast.AnnAssign and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
                self._field(stmt, info)  # type: ignore[arg-type]
            elif kind is ast.Assign:
                targets = [t.id for t in stmt.targets if type(t) is ast.Name]  # type: ignore[attr-defined]
                info.attributes.extend(targets)
                lazy = syntax.loader_strategy(stmt.value, None, self.qualify)  # type: ignore[attr-defined]
                if lazy is not None:
                    info.relationships.update((t, lazy) for t in targets)
                if len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:  # type: ignore[attr-defined]
                    value = syntax.string_value(stmt.value)  # type: ignore[attr-defined]
                    if value is not None:
                        info.class_constants[stmt.targets[0].id] = value  # type: ignore[attr-defined]
            elif kind in _FUNCTIONS:
                info.methods[stmt.name] = self._function(stmt, method=True)  # type: ignore[attr-defined, arg-type]
            elif kind is ast.ClassDef and stmt.name == "Config":  # type: ignore[attr-defined]
                info.has_inner_config = True
        info.init = info.methods.get("__init__")
        return info

    def _is_block(self, node: ast.ClassDef) -> bool:
        """Whether the class body is indented: libcst's builder reads no statement of a
        one-line suite (``class A: x = 1``, also when continued by a backslash)."""
        first, source = node.body[0], self.text.source
        start = self.text.starts[first.lineno - 1]
        continued = source[max(start - 3, 0) : start].rstrip("\r\n").endswith("\\")
        return not continued and not source[start : self.text.offset(first.lineno, first.col_offset)].strip()

    def _field(self, stmt: ast.AnnAssign, info: ClassInfo) -> None:
        name, annotation, text, indent = stmt.target.id, stmt.annotation, self.text, self.text.indent(stmt)  # type: ignore[attr-defined]
        info.fields[name] = FieldInfo(
            name=name,
            annotation=text.written(annotation, indent),
            annotation_names=[self.qualify(d) for d in syntax.names_in_annotation(annotation, text)],
            has_default=syntax.field_has_default(stmt.value),
            default=text.written(stmt.value, indent) if stmt.value is not None else None,
            optional=syntax.annotation_is_optional(annotation, text),
        )
        lazy = syntax.loader_strategy(stmt.value, annotation, self.qualify)
        if lazy is not None:
            info.relationships[name] = lazy


# Fields in the order libcst's ``children`` lists them, where ast's differ: libcst follows
# its dataclasses' fields (a def's body before its decorators), not always the source.
_ORDER = {
    ast.FunctionDef: ("args", "body", "decorator_list", "returns"),
    ast.AsyncFunctionDef: ("args", "body", "decorator_list", "returns"),
    ast.ClassDef: ("body", "bases", "keywords", "decorator_list"),
    ast.ExceptHandler: ("body", "type"),
    ast.match_case: ("pattern", "body", "guard"),
}


def _children(node: ast.AST) -> list[ast.AST]:
    """The node's children in the order libcst's ``children`` lists them."""
    kind = type(node)
    if kind is ast.Dict or kind is ast.MatchMapping:
        keys, values = (node.keys, node.values) if kind is ast.Dict else (node.keys, node.patterns)  # type: ignore[attr-defined]
        out: list[ast.AST] = []
        for key, value in zip(keys, values):
            if key is not None:
                out.append(key)
            out.append(value)
        return out
    if kind is ast.Call:
        return [node.func, *(value for _, value, _ in syntax.arguments(node))]  # type: ignore[attr-defined]
    if kind is ast.arguments:
        return _parameters(node)  # type: ignore[arg-type]
    out = []
    for name in _ORDER.get(kind) or node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(v for v in value if isinstance(v, ast.AST) and type(v) not in _LEAVES)  # not `case C(x=...)`'s names
        elif isinstance(value, ast.AST) and type(value) not in _LEAVES:
            out.append(value)
    return out


def _parameters(params: ast.arguments) -> list[ast.AST]:
    """Annotations and defaults, libcst's way: the plain parameters, ``*args``, the
    keyword-only ones, ``**kwargs``, and the positional-only ones last."""
    positional = [*params.posonlyargs, *params.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(params.defaults)) + list(params.defaults)
    only = len(params.posonlyargs)
    pairs = [
        *zip(positional[only:], defaults[only:]), (params.vararg, None),
        *zip(params.kwonlyargs, params.kw_defaults), (params.kwarg, None), *zip(positional[:only], defaults[:only]),
    ]
    out: list[ast.AST] = []
    for param, default in pairs:
        for part in (param.annotation if param is not None else None, default):
            if part is not None and type(part) not in _LEAVES:
                out.append(part)
    return out


class _SelfUses(SelfUsesState):
    """:class:`pitfalls.core.summary._SelfUses` over ast: the same walk, the same order."""

    def __init__(self, me: str, info: FunctionInfo) -> None:
        super().__init__(info)
        self.me = me

    def walk(self, body: list[ast.stmt]) -> None:
        stack: list[tuple[ast.AST, bool]] = [(stmt, False) for stmt in reversed(body)]
        push = stack.append
        while stack:
            node, store = stack.pop()
            kind = type(node)
            if kind is ast.Attribute and self._is_self(node.value):  # type: ignore[attr-defined]
                self.attribute(node.attr, store)  # type: ignore[attr-defined]
                continue
            if store and kind in (ast.Tuple, ast.List):
                elements = node.elts  # type: ignore[attr-defined]
                stack.extend((e.value if type(e) is ast.Starred else e, True) for e in reversed(elements))
                continue
            if kind is ast.Assign:
                stack.extend((target, True) for target in reversed(node.targets))  # type: ignore[attr-defined]
                push((node.value, False))  # type: ignore[attr-defined]
            elif kind is ast.AnnAssign:
                if node.value is not None:  # type: ignore[attr-defined]
                    push((node.target, True))  # type: ignore[attr-defined]
                    push((node.value, False))  # type: ignore[attr-defined]
            elif kind is ast.AugAssign:
                push((node.target, True))  # type: ignore[attr-defined]
                push((node.target, False))  # type: ignore[attr-defined]
                push((node.value, False))  # type: ignore[attr-defined]
            elif kind in (ast.For, ast.AsyncFor):
                kids = [(node.target, True), (node.iter, False)]  # type: ignore[attr-defined]
                kids.extend((stmt, False) for stmt in [*node.body, *node.orelse])  # type: ignore[attr-defined]
                stack.extend(reversed(kids))
            elif kind is ast.withitem:
                if node.optional_vars is not None:  # type: ignore[attr-defined]
                    push((node.optional_vars, True))  # type: ignore[attr-defined]
                push((node.context_expr, False))  # type: ignore[attr-defined]
            else:
                if kind is ast.Call:
                    self._call(node)  # type: ignore[arg-type]
                kids = _children(node)
                kids.reverse()
                stack.extend((kid, False) for kid in kids)
        self.finish()

    def _is_self(self, node: ast.AST) -> bool:
        return type(node) is ast.Name and node.id == self.me  # type: ignore[attr-defined]

    def _call(self, call: ast.Call) -> None:
        func = call.func
        if type(func) is ast.Attribute and self._is_self(func.value):
            args = syntax.arguments(call) if func.attr == "__setattr__" else []
            self.called(func.attr, syntax.string_value(args[0][1]) if args else None)
        elif syntax.is_super_init_call(call):
            self.info.calls_super_init = True
        elif call.args or call.keywords:
            args = syntax.arguments(call)
            if self._is_self(args[0][1]):
                self.called_on_self(syntax.dotted(func), syntax.string_value(args[1][1]) if len(args) > 1 else None)
