"""The syntactic helpers of :mod:`pitfalls.core.names` over CPython's ``ast``, answering as
their libcst versions do (``None``, ``True`` and ``False`` are names there, ``(a, b)`` in a
subscript is one element, arguments come in source order), for the ast summary builder."""

from __future__ import annotations

import ast
from typing import Callable, Iterator

from pitfalls.core import names
from pitfalls.core.relationships import ANNOTATIONS, CONSTANTS, FACTORIES
from pitfalls.core.source import parse_quietly
from pitfalls.core.written import SourceText

_NAMED_CONSTANTS = (None, True, False)


def dotted(expr: ast.AST | None) -> str | None:
    parts: list[str] = []
    while type(expr) is ast.Attribute:
        parts.append(expr.attr)
        expr = expr.value
    if type(expr) is ast.Name:
        parts.append(expr.id)
    elif type(expr) is ast.Constant and any(expr.value is c for c in _NAMED_CONSTANTS):
        parts.append(repr(expr.value))
    else:
        return None
    return ".".join(reversed(parts))


def is_name(expr: ast.AST) -> bool:
    """A libcst Name or Attribute."""
    return type(expr) in (ast.Name, ast.Attribute) or (
        type(expr) is ast.Constant and any(expr.value is c for c in _NAMED_CONSTANTS)
    )


def last_name(expr: ast.AST) -> str | None:
    if type(expr) is ast.Attribute:
        return expr.attr
    return expr.id if type(expr) is ast.Name else None


def string_value(expr: ast.AST | None) -> str | None:
    return expr.value if type(expr) is ast.Constant and type(expr.value) is str else None


def is_ellipsis(expr: ast.AST) -> bool:
    return type(expr) is ast.Constant and expr.value is Ellipsis


def arguments(call: ast.Call) -> list[tuple[str | None, ast.expr, str]]:
    """(keyword or None, value, star: "", "*" or "**") for each argument, in source order."""
    out = [(None, a.value, "*") if type(a) is ast.Starred else (None, a, "") for a in call.args]
    if call.keywords:
        out.extend((k.arg, k.value, "" if k.arg else "**") for k in call.keywords)
        if call.args:  # `f(a=1, *rest)`: a starred argument may follow keywords
            keyed = [(a, a.lineno, a.col_offset) for a in call.args] + [(k, k.lineno, k.col_offset) for k in call.keywords]
            order = {id(node): i for i, (node, *_) in enumerate(sorted(keyed, key=lambda k: (k[1], k[2])))}
            nodes = [*call.args, *call.keywords]
            out = [out[i] for i in sorted(range(len(out)), key=lambda i: order[id(nodes[i])])]
    return out


def elements(subscript: ast.Subscript, text: SourceText) -> list[ast.expr]:
    """What libcst calls the subscript's elements (a slice among them, ``*Ts`` as ``Ts``)."""
    index = subscript.slice
    items = index.elts if type(index) is ast.Tuple and not text.parenthesized_tuple(index) else [index]
    return [e.value if type(e) is ast.Starred else e for e in items]


def _indices(subscript: ast.Subscript, text: SourceText) -> list[ast.expr]:
    return [e for e in elements(subscript, text) if type(e) is not ast.Slice]


def _parsed(value: str) -> tuple[ast.expr, SourceText] | None:
    """A string annotation's expression, with its own text."""
    try:
        return parse_quietly(value, "eval").body, SourceText(value)  # type: ignore[attr-defined]
    except (SyntaxError, ValueError):
        return None


def string_collection(expr: ast.AST) -> list[str] | None:
    if (
        type(expr) is ast.Call
        and dotted(expr.func) in ("frozenset", "set", "tuple", "list")
        and len(expr.args) == 1
        and not expr.keywords
        and type(expr.args[0]) is not ast.Starred
    ):
        expr = expr.args[0]
    if type(expr) not in (ast.List, ast.Tuple, ast.Set):
        return None
    values: list[str] = []
    for element in expr.elts:  # type: ignore[attr-defined]
        value = string_value(element)
        if value is None:
            return None
        values.append(value)
    return values


def names_in_annotation(annotation: ast.expr, text: SourceText) -> list[str]:
    found: list[str] = []
    queue: list[tuple[ast.expr, SourceText]] = [(annotation, text)]
    while queue:
        expr, where = queue.pop(0)
        name = dotted(expr)
        if name is not None:
            found.append(name)
        elif type(expr) is ast.Subscript:
            queue.append((expr.value, where))
            queue.extend((e, where) for e in _indices(expr, where))
        elif type(expr) is ast.BinOp:
            queue.extend([(expr.left, where), (expr.right, where)])
        elif type(expr) is ast.Constant and type(expr.value) is str and where.is_one_string(expr) and expr.value:
            parsed = _parsed(expr.value)
            if parsed is not None:
                queue.append(parsed)
    return found


def annotated_type(annotation: ast.expr, text: SourceText) -> ast.expr | None:
    for _ in range(10):
        if is_name(annotation):
            return annotation
        if type(annotation) is ast.Constant and type(annotation.value) is str and text.is_one_string(annotation):
            parsed = _parsed(annotation.value)
            if parsed is None:
                return None
            annotation, text = parsed
            continue
        members: list[ast.expr]
        if type(annotation) is ast.Subscript:
            head = (dotted(annotation.value) or "").split(".")[-1]
            args = _indices(annotation, text)
            if head == "Annotated" and args:
                members = args[:1]
            elif head in ("Optional", "Union"):
                members = args
            else:
                return None
        elif type(annotation) is ast.BinOp and type(annotation.op) is ast.BitOr:
            members = [annotation.left, annotation.right]
        else:
            return None
        members = [m for m in members if dotted(m) != "None"]
        if len(members) != 1:
            return None
        annotation = members[0]
    return None


def annotation_is_optional(annotation: ast.expr, text: SourceText) -> bool:
    if type(annotation) is ast.Subscript:
        head = (dotted(annotation.value) or "").split(".")[-1]
        if head == "Optional":
            return True
        if head == "Union":
            return any(dotted(e) == "None" for e in _indices(annotation, text))
    if type(annotation) is ast.BinOp and type(annotation.op) is ast.BitOr:
        return (
            dotted(annotation.left) == "None"
            or dotted(annotation.right) == "None"
            or annotation_is_optional(annotation.left, text)
        )
    return False


def field_has_default(value: ast.expr | None) -> bool:
    if value is None:
        return False
    if type(value) is ast.Call and (dotted(value.func) or "").split(".")[-1] == "Field":
        for keyword, arg, _ in arguments(value):
            if keyword is None or keyword in ("default", "default_factory"):
                return not is_ellipsis(arg)
        return False
    return not is_ellipsis(value)


def param_infos(params: ast.arguments, text: SourceText, indent: str) -> list[tuple[str, str, bool, str | None]]:
    def ann(p: ast.arg) -> str | None:
        return text.written(p.annotation, indent) if p.annotation is not None else None

    positional = [*params.posonlyargs, *params.args]
    required = len(positional) - len(params.defaults)
    out = [(p.arg, "positional", i >= required, ann(p)) for i, p in enumerate(positional)]
    if params.vararg is not None:
        out.append((params.vararg.arg, "vararg", False, ann(params.vararg)))
    out.extend((p.arg, "keyword_only", d is not None, ann(p)) for p, d in zip(params.kwonlyargs, params.kw_defaults))
    if params.kwarg is not None:
        out.append((params.kwarg.arg, "kwarg", False, ann(params.kwarg)))
    return out


def is_super_init_call(call: ast.Call) -> bool:
    func = call.func
    if not (type(func) is ast.Attribute and func.attr == "__init__"):
        return False
    owner = func.value
    if type(owner) is ast.Call and dotted(owner.func) == "super":
        return True
    if dotted(owner) is None:
        return False
    args = arguments(call)
    return bool(args) and dotted(args[0][1]) == "self"


def import_bindings(stmt: ast.Import | ast.ImportFrom, current: str, is_package: bool) -> Iterator[tuple[str, str | None, str, str]]:
    if type(stmt) is ast.Import:
        for alias in stmt.names:
            if alias.asname is not None:
                yield alias.name, None, alias.asname, alias.name
            else:
                head = alias.name.split(".")[0]
                yield alias.name, None, head, head
        return
    module = names.absolute_module(stmt.level or 0, stmt.module, current, is_package)  # type: ignore[union-attr]
    if stmt.names[0].name == "*":
        yield module, None, "*", module
        return
    for alias in stmt.names:
        yield module, alias.name, alias.asname or alias.name, f"{module}.{alias.name}" if module else alias.name


def is_type_checking_test(test: ast.expr) -> bool:
    return dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def is_main_guard(test: ast.expr) -> bool:
    if not (type(test) is ast.Compare and len(test.ops) == 1 and type(test.ops[0]) is ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    return "__name__" in {dotted(s) for s in sides} and "__main__" in {string_value(s) for s in sides}


def yielded_values(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str | None] | None:
    built: dict[str, str | None] = {}
    yields: list[ast.expr | None] = []
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Return):
            value = node.value  # type: ignore[attr-defined]
            if type(value) is ast.Await:
                value = value.value
            if type(value) is ast.Yield:
                yields.append(value.value)
            elif type(value) is ast.YieldFrom:
                yields.append(None)
            elif kind is ast.Assign and value is not None:
                for target in node.targets:  # type: ignore[attr-defined]
                    if type(target) is ast.Name:
                        _bind(built, target.id, value)
            continue
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            continue
        if kind in (ast.With, ast.AsyncWith):
            for item in node.items:  # type: ignore[attr-defined]
                if type(item.optional_vars) is ast.Name:
                    _bind(built, item.optional_vars.id, item.context_expr)
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            stack.extend(getattr(node, name, ()))
    if not yields:
        return None
    out: list[str | None] = []
    for value in yields:
        if type(value) is ast.Call:
            out.append(dotted(value.func))
        else:
            out.append(built.get(value.id) if type(value) is ast.Name else None)
    return out


def _bind(built: dict[str, str | None], name: str, value: ast.expr) -> None:
    callee = dotted(value.func) if type(value) is ast.Call else None
    built[name] = callee if built.get(name, callee) == callee else None


def loader_strategy(value: ast.expr | None, annotation: ast.expr | None, qualify: Callable[[str], str]) -> str | None:
    """:func:`pitfalls.core.relationships.loader_strategy` over ast."""
    if type(value) is not ast.Call or dotted(value.func) is None:
        return None
    module, _, factory = qualify(dotted(value.func) or "").rpartition(".")
    if factory not in FACTORIES:
        return None
    if module.partition(".")[0] not in ("sqlalchemy", "sqlmodel"):
        return "?"
    outer = last_name(annotation.value) if type(annotation) is ast.Subscript else None
    if outer in ANNOTATIONS:
        return ANNOTATIONS[outer]
    if factory == "dynamic_loader":
        return "dynamic"
    lazy: ast.expr | None = None
    for keyword, arg, star in arguments(value):
        if star:
            return "?"
        if keyword == "lazy":
            lazy = arg
        elif keyword == "sa_relationship":
            return loader_strategy(arg, None, qualify) or "?"
        elif keyword == "sa_relationship_kwargs":
            if type(arg) is not ast.Dict:
                return "?"
            for key, item in zip(arg.keys, arg.values):
                if key is None:
                    return "?"
                if string_value(key) == "lazy":
                    lazy = item
    if lazy is None:
        return "select"
    text = string_value(lazy)
    return text if text is not None else CONSTANTS.get(dotted(lazy) or "", "?")
