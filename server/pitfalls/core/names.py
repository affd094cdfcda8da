"""Small syntactic helpers over libcst nodes, shared by the index and the rules."""

from __future__ import annotations

import re
import warnings
from pathlib import PurePosixPath
from typing import Iterator

import libcst as cst


def dotted(expr: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    # Exact types: isinstance() on libcst's ABCs is slow, and this runs for every name.
    while type(expr) is cst.Attribute:
        parts.append(expr.attr.value)  # type: ignore[union-attr]
        expr = expr.value  # type: ignore[union-attr]
    if type(expr) is cst.Name:
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def last_name(expr: cst.BaseExpression) -> str | None:
    """The last identifier of a Name/Attribute (``get`` for ``requests.get``): the cheap
    first test of a handler, before resolving the whole qualified name."""
    expr_type = type(expr)
    if expr_type is cst.Attribute:
        return expr.attr.value
    if expr_type is cst.Name:
        return expr.value
    return None


def attribute_dotted(node: cst.BaseExpression) -> str | None:
    """Like :func:`dotted` for Import/ImportFrom module references."""
    return dotted(node)


def absolute_module(level: int, module: str | None, current: str, is_package: bool) -> str:
    """Resolve a relative import of ``level`` dots from module ``current``."""
    if level == 0:
        return module or ""
    parts = current.split(".") if current else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    base = ".".join(parts)
    if module:
        return f"{base}.{module}" if base else module
    return base


def import_bindings(
    stmt: cst.Import | cst.ImportFrom, current: str, is_package: bool
) -> Iterator[tuple[str, str | None, str, str]]:
    """(module, attribute or None, bound local name, what that name refers to) for each
    name an import binds."""
    if type(stmt) is cst.Import:
        for alias in stmt.names:
            full = attribute_dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield full, None, alias.asname.name.value, full
            else:
                # `import a.b` imports `a.b` but binds `a` to the package `a`.
                head = full.split(".")[0]
                yield full, None, head, head
        return
    module = absolute_module(
        len(stmt.relative), attribute_dotted(stmt.module) if stmt.module else None, current, is_package
    )
    if type(stmt.names) is cst.ImportStar:
        yield module, None, "*", module
        return
    for alias in stmt.names:
        name = alias.name.value if isinstance(alias.name, cst.Name) else dotted(alias.name) or ""
        bound = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        yield module, name, bound, f"{module}.{name}" if module else name


def is_type_checking_test(test: cst.BaseExpression) -> bool:
    return dotted(test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either way round): a block that runs only as a script."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    return {dotted(s) for s in sides} & {"__name__"} == {"__name__"} and "__main__" in {string_value(s) for s in sides}


def evaluated(literal: cst.SimpleString | cst.Integer | cst.Float) -> object:
    """The literal's value, without the warnings CPython prints while evaluating it (an
    invalid escape, ``"\\d"``): the code is somebody else's, and the output the user's."""
    text = literal.value
    if "\\" not in text:
        # No escape: a str literal's value is its text between the quotes, unless a line
        # ending inside it is one Python rewrites; ``literal_eval`` costs a parse.
        if type(literal) is cst.SimpleString and "\r" not in text and "b" not in literal.prefix.lower():
            return literal.raw_value
        return literal.evaluated_value  # no warning (and no filter to set up)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return literal.evaluated_value


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain (non-f) string literal, implicit concatenation included
    (iteratively: generated modules concatenate thousands of literals)."""
    parts: list[str] = []
    while type(expr) is cst.ConcatenatedString:
        left = expr.left
        if type(left) is not cst.SimpleString:
            return None
        value = evaluated(left)
        parts.append(value if isinstance(value, str) else "\0")
        expr = expr.right
    if type(expr) is not cst.SimpleString:
        return None
    value = evaluated(expr)
    if not isinstance(value, str) or "\0" in parts:
        return None
    return "".join(parts) + value


def string_collection(expr: cst.BaseExpression) -> list[str] | None:
    """The strings of a list/tuple/set literal made only of string literals (also wrapped
    in ``frozenset(...)``, ``set(...)``, ``tuple(...)`` or ``list(...)``)."""
    if (
        isinstance(expr, cst.Call)
        and dotted(expr.func) in ("frozenset", "set", "tuple", "list")
        and len(expr.args) == 1
        and expr.args[0].keyword is None
        and not expr.args[0].star
    ):
        expr = expr.args[0].value
    if not isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return None
    values: list[str] = []
    for element in expr.elements:
        if not isinstance(element, cst.Element):
            return None
        value = string_value(element.value)
        if value is None:
            return None
        values.append(value)
    return values


def names_in_annotation(annotation: cst.BaseExpression) -> list[str]:
    """Dotted names an annotation mentions (string annotations included), outermost first."""
    found: list[str] = []
    stack: list[cst.BaseExpression] = [annotation]
    while stack:
        expr = stack.pop(0)
        name = dotted(expr)
        if name is not None:
            found.append(name)
        elif isinstance(expr, cst.Subscript):
            stack.append(expr.value)
            for element in expr.slice:
                if isinstance(element.slice, cst.Index):
                    stack.append(element.slice.value)
        elif isinstance(expr, cst.BinaryOperation):  # X | None
            stack.extend([expr.left, expr.right])
        elif isinstance(expr, cst.SimpleString):
            text = string_value(expr)
            if text:
                try:
                    stack.append(cst.parse_expression(text))
                except cst.ParserSyntaxError:
                    pass
    return found


def annotated_type(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """The one type an annotation says a value is: ``Model`` for ``Model``,
    ``Optional[Model]``, ``Model | None``, ``Annotated[Model, ...]`` or ``"Model"``; None for
    containers (``list[Model]``) and real unions."""
    for _ in range(10):
        if isinstance(annotation, (cst.Name, cst.Attribute)):
            return annotation
        if isinstance(annotation, cst.SimpleString):
            text = string_value(annotation)
            try:
                annotation = cst.parse_expression(text or "")
            except cst.ParserSyntaxError:
                return None
            continue
        members: list[cst.BaseExpression]
        if isinstance(annotation, cst.Subscript):
            head = (dotted(annotation.value) or "").split(".")[-1]
            args = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
            if head == "Annotated" and args:
                members = args[:1]
            elif head in ("Optional", "Union"):
                members = args
            else:
                return None
        elif isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            members = [annotation.left, annotation.right]
        else:
            return None
        members = [m for m in members if dotted(m) != "None"]
        if len(members) != 1:
            return None
        annotation = members[0]
    return None


# Generic collections whose one type argument is the type of the items iteration yields.
ITERABLES = frozenset(
    {
        "list", "List", "Sequence", "MutableSequence", "set", "Set", "MutableSet", "frozenset",
        "FrozenSet", "AbstractSet", "Iterable", "Iterator", "Collection", "Generator",
    }
)


def element_annotation(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """The type of the items a value so annotated yields when iterated: ``Model`` for
    ``list[Model]``, ``Optional[Sequence[Model]]``, ``tuple[Model, ...]`` or ``"List[Model]"``."""
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            annotation = cst.parse_expression(string_value(annotation) or "")
        except cst.ParserSyntaxError:
            return None
    members = union_members(annotation)
    if not members or len(members) != 1 or not isinstance(members[0], cst.Subscript):
        return None
    head = (dotted(members[0].value) or "").split(".")[-1]
    args = [e.slice.value for e in members[0].slice if isinstance(e.slice, cst.Index)]
    if head in ITERABLES and args and (len(args) == 1 or head == "Generator"):
        return args[0]
    if head in ("tuple", "Tuple") and len(args) == 2 and isinstance(args[1], cst.Ellipsis):
        return args[0]
    return None


def union_members(annotation: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The members of an annotation other than None, through ``Optional``, ``Union``, ``|``
    and ``Annotated[X, ...]``; None when the annotation is (or holds) a string annotation,
    whose nodes are not in the tree."""
    stack, members = [annotation], []
    while stack:
        expr = stack.pop()
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return None
        head = (dotted(expr.value) or "").split(".")[-1] if isinstance(expr, cst.Subscript) else ""
        args = [e.slice.value for e in expr.slice if isinstance(e.slice, cst.Index)] if head else []
        if head in ("Optional", "Union"):
            stack.extend(reversed(args))
        elif head == "Annotated" and args:
            stack.append(args[0])
        elif isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.BitOr):
            stack.extend([expr.right, expr.left])
        elif dotted(expr) != "None":
            members.append(expr)
    return members


def annotation_is_optional(annotation: cst.BaseExpression) -> bool:
    """``Optional[X]``, ``X | None``, ``Union[X, None]``."""
    if isinstance(annotation, cst.Subscript):
        head = dotted(annotation.value) or ""
        if head.split(".")[-1] == "Optional":
            return True
        if head.split(".")[-1] == "Union":
            return any(
                isinstance(e.slice, cst.Index) and dotted(e.slice.value) == "None"
                for e in annotation.slice
            )
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return (
            dotted(annotation.left) == "None"
            or dotted(annotation.right) == "None"
            or annotation_is_optional(annotation.left)
        )
    return False


def field_has_default(value: cst.BaseExpression | None) -> bool:
    """Whether a class-body ``name: T = value`` gives the field a default.

    ``Field(...)``/``Field()`` with ``...`` as first argument (or no default/default_factory)
    keeps it required, as pydantic does.
    """
    if value is None:
        return False
    if isinstance(value, cst.Call) and (dotted(value.func) or "").split(".")[-1] == "Field":
        for arg in value.args:
            if arg.keyword is None:
                return not isinstance(arg.value, cst.Ellipsis)
            if arg.keyword.value in ("default", "default_factory"):
                return not isinstance(arg.value, cst.Ellipsis)
        return False
    return not isinstance(value, cst.Ellipsis)


def param_infos(params: cst.Parameters, module: cst.Module) -> list[tuple[str, str, bool, str | None]]:
    """(name, kind, has_default, annotation text) for each parameter."""
    out: list[tuple[str, str, bool, str | None]] = []

    def ann(p: cst.Param) -> str | None:
        return module.code_for_node(p.annotation.annotation) if p.annotation else None

    for p in (*params.posonly_params, *params.params):
        out.append((p.name.value, "positional", p.default is not None, ann(p)))
    if isinstance(params.star_arg, cst.Param):
        out.append((params.star_arg.name.value, "vararg", False, ann(params.star_arg)))
    for p in params.kwonly_params:
        out.append((p.name.value, "keyword_only", p.default is not None, ann(p)))
    if params.star_kwarg is not None:
        out.append((params.star_kwarg.name.value, "kwarg", False, ann(params.star_kwarg)))
    return out


def is_super_init_call(call: cst.Call, class_names: tuple[str, ...] = ()) -> bool:
    """``super().__init__(...)``, ``super(C, self).__init__(...)`` or ``Base.__init__(self, ...)``."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
        return False
    owner = func.value
    if isinstance(owner, cst.Call) and dotted(owner.func) == "super":
        return True
    name = dotted(owner)
    if name is None:
        return False
    return (not class_names or name in class_names) and bool(call.args) and dotted(call.args[0].value) == "self"


def calls_super_init(func: cst.FunctionDef) -> bool:
    """Whether the function calls the base ``__init__`` as a statement (possibly nested in
    if/try/with blocks), the only way such a call is written in practice."""
    from pitfalls.core.walker import iter_statements

    for stmt in iter_statements(func.body):
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                value = small.value if isinstance(small, cst.Expr) else None
                if isinstance(value, cst.Await):
                    value = value.expression
                if isinstance(value, cst.Call) and is_super_init_call(value):
                    return True
    return False


def yielded_values(func: cst.FunctionDef) -> list[str | None] | None:
    """None when no statement of the function's own body (not a nested def or class)
    yields (``yield x``, ``x = yield``, ``yield from``); else for each, the dotted callee
    that built the value: ``yield F()``, or a name bound by ``with F() as name`` /
    ``name = F()`` (None when unknown). Statements only: a ``yield`` nested in an
    expression (``f((yield))``) is not seen, which keeps this a fraction of a full walk."""
    built: dict[str, str | None] = {}
    yields: list[cst.BaseExpression | None] = []
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type is cst.SimpleStatementLine or node_type is cst.SimpleStatementSuite:
            for small in node.body:
                value = getattr(small, "value", None)
                if type(value) is cst.Await:
                    value = value.expression
                if type(value) is cst.Yield:
                    yields.append(None if value.value is None or type(value.value) is cst.From else value.value)
                elif type(small) is cst.Assign and value is not None:
                    for target in small.targets:
                        if type(target.target) is cst.Name:
                            _bind(built, target.target.value, value)
            continue
        if (node_type is cst.FunctionDef or node_type is cst.ClassDef) and node is not func:
            continue
        if node_type is cst.With:
            for item in node.items:
                if item.asname is not None and type(item.asname.name) is cst.Name:
                    _bind(built, item.asname.name.value, item.item)
        for name in ("body", "orelse", "handlers", "finalbody", "cases"):
            extra = getattr(node, name, None)
            if type(extra) is tuple or type(extra) is list:
                stack.extend(extra)
            elif extra is not None and isinstance(extra, cst.CSTNode):
                stack.append(extra)
    if not yields:
        return None
    out: list[str | None] = []
    for value in yields:
        if isinstance(value, cst.Call):
            out.append(dotted(value.func))
        else:
            out.append(built.get(value.value) if isinstance(value, cst.Name) else None)
    return out


def _bind(built: dict[str, str | None], name: str, value: cst.BaseExpression) -> None:
    callee = dotted(value.func) if isinstance(value, cst.Call) else None
    # Bound twice to different things: unknown.
    built[name] = callee if built.get(name, callee) == callee else None


_TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")


def is_test_path(path: str) -> bool:
    """``test_*.py``, ``*_test.py``, ``conftest.py`` or anything under a ``tests/`` folder."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    return bool(parts) and (_TEST_FILE.match(parts[-1]) is not None or "tests" in parts[:-1])


def is_script(module: cst.Module) -> bool:
    """A command-line script: the module runs ``if __name__ == "__main__":`` or parses its
    arguments (``parser.parse_args()``) at module level."""
    for stmt in module.body:
        if type(stmt) is cst.If and is_main_guard(stmt.test):
            return True
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                value = getattr(small, "value", None)
                if type(value) is cst.Call and last_name(value.func) == "parse_args":
                    return True
    return False


def target_names(target: cst.BaseExpression) -> list[str]:
    """The names an assignment or loop target binds (through tuples, lists and `*rest`)."""
    out: list[str] = []
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            out.append(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in node.elements)
        elif isinstance(node, cst.StarredElement):
            stack.append(node.value)
    return out
