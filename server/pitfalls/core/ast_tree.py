"""libcst's node classes built from CPython's ``ast``: the tree the rules walk in a run
that checks many files, at about a third of a libcst parse.

libcst parses in Rust but builds every token's node, whitespace included, in Python: most
of a cold run's time. CPython's parser and this conversion give the same node classes,
with the same fields the rules read (names, attributes, arguments, literals as written,
strings written side by side as libcst nests them, statements, blocks), and none of the
formatting: no whitespace or comments, no parentheses. Where the nodes are is read off
the ast nodes (:class:`AstPositions`), for the kinds of node both parsers place alike.
A rule whose reports or fixes read formatting (see ``Rule.exact_on_ast_tree``) has its
reports made again on libcst's tree (see ``check.check_parsed`` and ``project.analyzer``).

Code the conversion does not build exactly raises :class:`Unconvertible` (type
parameters, an f-string's ``{x=}``, identifiers beyond ASCII): libcst parses the file.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from typing import Callable

import libcst as cst

from pitfalls.core.ast_strings import Unconvertible, literals, parenthesized, texts_as_written
from pitfalls.core.diagnostics import Position
from pitfalls.core.source import source_lines, unvalidated
from pitfalls.core.written import SourceText


# The nodes whose ranges ast and libcst draw alike (ranges without the node's own
# parentheses; a tuple's or a generator's in ast include them: not placed).
_PLACED = frozenset({
    cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Await, cst.SimpleString, cst.ConcatenatedString,
    cst.FormattedString, cst.Integer, cst.Float, cst.List, cst.Dict, cst.Set, cst.Comparison, cst.BinaryOperation,
    cst.BooleanOperation, cst.UnaryOperation, cst.Import, cst.ImportFrom, cst.ImportAlias,
})


# What comes before a definition's name on its line.
_DEFINITION = re.compile(r"(?:async[ \t\f]+)?(?:def|class)[ \t\f]+")


class NotPlaced(KeyError):
    """A node :class:`AstPositions` cannot place as libcst's positions would."""


def module_from_ast(tree: ast.Module, source: str) -> tuple[cst.Module, AstPositions]:
    """``tree`` (CPython's tree of ``source``) as libcst nodes, and their positions."""
    converter = _Converter(source)
    with unvalidated(len(source), converting=True):
        module = cst.Module(body=converter.block_body(tree.body))
    return module, AstPositions(tree, converter)


class AstPositions:
    """Where the nodes of a tree made from ast are, as :class:`~pitfalls.core.positions.Positions`
    says for libcst's tree of the same text: read off the ast node each was made from.
    Only for the kinds of node whose range both parsers draw alike (the ecosystem test
    compares them on every such node); any other raises :class:`NotPlaced`, and libcst's
    tree decides."""

    def __init__(self, tree: ast.Module, converter: _Converter) -> None:
        self._lines = converter.lines
        self._origins = converter.origins
        self._attribute_names = converter.attribute_names
        self._definition_names = converter.definition_names
        self._tree = tree

    def range(self, node: cst.CSTNode, near: cst.CSTNode | None = None) -> tuple[Position, Position]:
        """Where ``node`` is (``near``: unused, libcst's positions look there first)."""
        attribute = self._attribute_names.get(id(node))
        if attribute is not None:  # the name after the dot: the attribute's last token
            end = self._position(attribute.end_lineno, attribute.end_col_offset)
            start = Position(end.line, end.column - len(attribute.attr))
            if start.column < 0 or self._lines[end.line - 1][start.column:end.column] != attribute.attr:
                raise NotPlaced(node)
            return start, end
        definition = self._definition_names.get(id(node))
        if definition is not None:  # a `def`'s or `class`'s name: after its keywords
            start = self._position(definition.lineno, definition.col_offset)
            text = self._lines[start.line - 1]
            keywords = _DEFINITION.match(text, start.column)
            if keywords is None or not text.startswith(definition.name, keywords.end()):
                raise NotPlaced(node)
            return Position(start.line, keywords.end()), Position(start.line, keywords.end() + len(definition.name))
        origin = self._origins.get(id(node))
        if origin is None or type(node) not in _PLACED:
            raise NotPlaced(node)
        return self._position(origin.lineno, origin.col_offset), self._position(origin.end_lineno, origin.end_col_offset)

    def ranges(self, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, tuple[Position, Position]]:
        return {node: self.range(node) for node in nodes}

    def statement_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return None

    def statement_lines(self) -> list[int]:
        """The line each top-level statement starts on (its first decorator's): where a
        tokenizer can start afresh."""
        return [stmt.decorator_list[0].lineno if getattr(stmt, "decorator_list", None) else stmt.lineno for stmt in self._tree.body]

    def _position(self, line: int | None, column: int | None) -> Position:
        assert line is not None and column is not None
        text = self._lines[line - 1]
        if not text.isascii():  # ast counts UTF-8 bytes, positions count characters
            column = len(text.encode("utf-8")[:column].decode("utf-8", "replace"))
        return Position(line, column)


_BINARY: dict[type, Callable[[], cst.BaseBinaryOp]] = {
    ast.Add: cst.Add, ast.Sub: cst.Subtract, ast.Mult: cst.Multiply, ast.Div: cst.Divide,
    ast.FloorDiv: cst.FloorDivide, ast.Mod: cst.Modulo, ast.Pow: cst.Power, ast.BitOr: cst.BitOr,
    ast.BitAnd: cst.BitAnd, ast.BitXor: cst.BitXor, ast.LShift: cst.LeftShift, ast.RShift: cst.RightShift,
    ast.MatMult: cst.MatrixMultiply,
}
_AUGMENTED: dict[type, Callable[[], cst.BaseAugOp]] = {
    ast.Add: cst.AddAssign, ast.Sub: cst.SubtractAssign, ast.Mult: cst.MultiplyAssign, ast.Div: cst.DivideAssign,
    ast.FloorDiv: cst.FloorDivideAssign, ast.Mod: cst.ModuloAssign, ast.Pow: cst.PowerAssign,
    ast.BitOr: cst.BitOrAssign, ast.BitAnd: cst.BitAndAssign, ast.BitXor: cst.BitXorAssign,
    ast.LShift: cst.LeftShiftAssign, ast.RShift: cst.RightShiftAssign, ast.MatMult: cst.MatrixMultiplyAssign,
}
_COMPARISON: dict[type, Callable[[], cst.BaseCompOp]] = {
    ast.Eq: cst.Equal, ast.NotEq: cst.NotEqual, ast.Lt: cst.LessThan, ast.LtE: cst.LessThanEqual,
    ast.Gt: cst.GreaterThan, ast.GtE: cst.GreaterThanEqual, ast.Is: cst.Is, ast.IsNot: cst.IsNot,
    ast.In: cst.In, ast.NotIn: cst.NotIn,
}
_UNARY: dict[type, Callable[[], cst.BaseUnaryOp]] = {
    ast.Not: cst.Not, ast.USub: cst.Minus, ast.UAdd: cst.Plus, ast.Invert: cst.BitInvert,
}
_SIMPLE = (
    ast.Return, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr, ast.Raise, ast.Import, ast.ImportFrom,
    ast.Pass, ast.Break, ast.Continue, ast.Global, ast.Nonlocal, ast.Delete, ast.Assert,
)


class _Converter:
    def __init__(self, source: str) -> None:
        self.lines = source_lines(source)  # as ast numbers them
        self.text = SourceText(source)
        if self.text.ascii:  # no identifier to check (see name)
            self.name = cst.Name  # type: ignore[method-assign,assignment]
        self.origins: dict[int, ast.AST] = {}  # id of a node made -> the ast node it was made from
        self.attribute_names: dict[int, ast.Attribute] = {}  # id of an attribute's name -> the attribute
        self.definition_names: dict[int, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = {}  # likewise
        self.expressions: dict[type, Callable[[ast.AST], cst.BaseExpression]] = {
            ast.Name: lambda n: self.name(n.id),
            ast.Attribute: self.attribute,
            ast.Call: lambda n: cst.Call(self.expr(n.func), self.call_args(n.args, n.keywords)),
            ast.Constant: self.constant,
            ast.BinOp: lambda n: cst.BinaryOperation(self.expr(n.left), _BINARY[type(n.op)](), self.expr(n.right)),
            ast.BoolOp: self.bool_op,
            ast.UnaryOp: lambda n: cst.UnaryOperation(_UNARY[type(n.op)](), self.expr(n.operand)),
            ast.Compare: lambda n: cst.Comparison(self.expr(n.left), [
                cst.ComparisonTarget(_COMPARISON[type(op)](), self.expr(c)) for op, c in zip(n.ops, n.comparators)
            ]),
            ast.Subscript: self.subscript,
            ast.List: lambda n: cst.List(self.elements(n.elts)),
            ast.Tuple: lambda n: cst.Tuple(self.elements(n.elts)),
            ast.Set: lambda n: cst.Set(self.elements(n.elts)),
            ast.Dict: lambda n: cst.Dict([
                cst.DictElement(self.expr(k), self.expr(v)) if k is not None else cst.StarredDictElement(self.expr(v))
                for k, v in zip(n.keys, n.values)
            ]),
            ast.Lambda: lambda n: cst.Lambda(self.parameters(n.args), self.expr(n.body)),
            ast.IfExp: lambda n: cst.IfExp(self.expr(n.test), self.expr(n.body), self.expr(n.orelse)),
            ast.Await: lambda n: cst.Await(self.expr(n.value)),
            ast.ListComp: lambda n: cst.ListComp(self.expr(n.elt), self.comp_for(n.generators)),
            ast.SetComp: lambda n: cst.SetComp(self.expr(n.elt), self.comp_for(n.generators)),
            ast.GeneratorExp: lambda n: cst.GeneratorExp(self.expr(n.elt), self.comp_for(n.generators)),
            ast.DictComp: lambda n: cst.DictComp(self.expr(n.key), self.expr(n.value), self.comp_for(n.generators)),
            ast.JoinedStr: self.strings,
            ast.NamedExpr: lambda n: cst.NamedExpr(self.expr(n.target), self.expr(n.value)),
            ast.Yield: lambda n: cst.Yield(self.expr(n.value) if n.value is not None else None),
            ast.YieldFrom: lambda n: cst.Yield(cst.From(self.expr(n.value))),
            ast.Starred: lambda n: cst.StarredElement(self.expr(n.value)),
        }
        self.statements: dict[type, Callable[[ast.AST], cst.CSTNode]] = {
            ast.FunctionDef: self.function, ast.AsyncFunctionDef: self.function, ast.ClassDef: self.class_def,
            ast.If: self.if_, ast.For: self.for_, ast.AsyncFor: self.for_, ast.While: self.while_,
            ast.With: self.with_, ast.AsyncWith: self.with_, ast.Try: self.try_, ast.TryStar: self.try_,
            ast.Match: self.match,
            ast.Return: lambda n: cst.Return(self.optional(n.value)),
            ast.Assign: lambda n: cst.Assign([cst.AssignTarget(self.expr(t)) for t in n.targets], self.expr(n.value)),
            ast.AnnAssign: lambda n: cst.AnnAssign(
                self.expr(n.target), cst.Annotation(self.expr(n.annotation)), self.optional(n.value)
            ),
            ast.AugAssign: lambda n: cst.AugAssign(self.expr(n.target), _AUGMENTED[type(n.op)](), self.expr(n.value)),
            ast.Expr: lambda n: cst.Expr(self.expr(n.value)),
            ast.Raise: lambda n: cst.Raise(
                self.optional(n.exc), cause=cst.From(self.expr(n.cause)) if n.cause is not None else None
            ),
            ast.Import: lambda n: cst.Import(self.aliases(n.names)),
            ast.ImportFrom: self.import_from,
            ast.Pass: lambda n: cst.Pass(), ast.Break: lambda n: cst.Break(), ast.Continue: lambda n: cst.Continue(),
            ast.Global: lambda n: cst.Global([cst.NameItem(self.name(name)) for name in n.names]),
            ast.Nonlocal: lambda n: cst.Nonlocal([cst.NameItem(self.name(name)) for name in n.names]),
            ast.Delete: lambda n: cst.Del(
                self.expr(n.targets[0]) if len(n.targets) == 1 else cst.Tuple(self.elements(n.targets))
            ),
            ast.Assert: lambda n: cst.Assert(self.expr(n.test), msg=self.optional(n.msg)),
        }

    # -- statements ------------------------------------------------------------------------

    def block_body(self, statements: list[ast.stmt]) -> list[cst.BaseStatement]:
        """Statements as libcst groups them: simple ones sharing a line (``a; b``) in one
        ``SimpleStatementLine``."""
        body: list[cst.BaseStatement] = []
        line: list[cst.BaseSmallStatement] = []
        last = -1
        for stmt in statements:
            if isinstance(stmt, _SIMPLE):
                small = self.statement(stmt)
                if line and stmt.lineno == last:
                    line.append(small)
                else:
                    if line:
                        body.append(cst.SimpleStatementLine(line))
                    line = [small]
                last = stmt.end_lineno or stmt.lineno
                continue
            if line:
                body.append(cst.SimpleStatementLine(line))
                line = []
            body.append(self.statement(stmt))  # type: ignore[arg-type]
        if line:
            body.append(cst.SimpleStatementLine(line))
        return body

    def statement(self, node: ast.stmt) -> cst.CSTNode:
        convert = self.statements.get(type(node))
        if convert is None:
            raise Unconvertible(type(node).__name__)
        made = convert(node)
        self.origins[id(made)] = node
        return made

    def block(self, statements: list[ast.stmt]) -> cst.BaseSuite:
        """An indented block, or the statements after a colon on its own line
        (``if x: return``), as libcst tells them apart."""
        first = statements[0]
        before = self.lines[first.lineno - 1].encode("utf-8")[: first.col_offset].decode("utf-8", "replace")
        if before.strip():
            return cst.SimpleStatementSuite([self.statement(s) for s in statements])  # type: ignore[misc]
        return cst.IndentedBlock(self.block_body(statements))

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> cst.FunctionDef:
        _no_type_parameters(node)
        return cst.FunctionDef(
            self.definition_name(node), self.parameters(node.args), self.block(node.body),
            decorators=[cst.Decorator(self.expr(d)) for d in node.decorator_list],
            returns=cst.Annotation(self.expr(node.returns)) if node.returns is not None else None,
            asynchronous=cst.Asynchronous() if isinstance(node, ast.AsyncFunctionDef) else None,
        )

    def class_def(self, node: ast.ClassDef) -> cst.ClassDef:
        _no_type_parameters(node)
        args = self.call_args(node.bases, node.keywords)
        return cst.ClassDef(
            self.definition_name(node), self.block(node.body),
            bases=[a for a in args if a.keyword is None and a.star != "**"],
            keywords=[a for a in args if a.keyword is not None or a.star == "**"],
            decorators=[cst.Decorator(self.expr(d)) for d in node.decorator_list],
        )

    def definition_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> cst.Name:
        name = self.name(node.name)
        self.definition_names[id(name)] = node
        return name

    def if_(self, node: ast.If) -> cst.If:
        return cst.If(self.expr(node.test), self.block(node.body), self.or_else(node.orelse, elif_=True))

    def or_else(self, statements: list[ast.stmt], *, elif_: bool = False) -> cst.If | cst.Else | None:
        if not statements:
            return None
        if elif_ and len(statements) == 1 and isinstance(statements[0], ast.If) and self._is_elif(statements[0]):
            return self.if_(statements[0])
        return cst.Else(self.block(statements))

    def _is_elif(self, node: ast.If) -> bool:
        line = self.lines[node.lineno - 1].encode("utf-8")[node.col_offset:]
        return line.startswith(b"elif")

    def for_(self, node: ast.For | ast.AsyncFor) -> cst.For:
        return cst.For(
            self.expr(node.target), self.expr(node.iter), self.block(node.body), orelse=self.or_else(node.orelse),
            asynchronous=cst.Asynchronous() if isinstance(node, ast.AsyncFor) else None,
        )

    def while_(self, node: ast.While) -> cst.While:
        return cst.While(self.expr(node.test), self.block(node.body), orelse=self.or_else(node.orelse))

    def with_(self, node: ast.With | ast.AsyncWith) -> cst.With:
        items = [
            cst.WithItem(self.expr(i.context_expr), asname=cst.AsName(self.expr(i.optional_vars)) if i.optional_vars else None)
            for i in node.items
        ]
        return cst.With(items, self.block(node.body), asynchronous=cst.Asynchronous() if isinstance(node, ast.AsyncWith) else None)

    def try_(self, node: ast.Try | ast.TryStar) -> cst.Try | cst.TryStar:
        star = isinstance(node, ast.TryStar)
        handler = cst.ExceptStarHandler if star else cst.ExceptHandler
        handlers = [
            handler(  # type: ignore[operator]
                self.block(h.body), type=self.optional(h.type), name=cst.AsName(self.name(h.name)) if h.name else None
            )
            for h in node.handlers
        ]
        kind = cst.TryStar if star else cst.Try
        return kind(  # type: ignore[operator]
            self.block(node.body), handlers=handlers, orelse=self.or_else(node.orelse),
            finalbody=cst.Finally(self.block(node.finalbody)) if node.finalbody else None,
        )

    def match(self, node: ast.Match) -> cst.Match:
        return cst.Match(self.expr(node.subject), [
            cst.MatchCase(self.pattern(c.pattern), self.block(c.body), guard=self.optional(c.guard)) for c in node.cases
        ])

    def pattern(self, node: ast.pattern) -> cst.MatchPattern:
        if isinstance(node, ast.MatchValue):
            return cst.MatchValue(self.expr(node.value))
        if isinstance(node, ast.MatchSingleton):
            return cst.MatchSingleton(cst.Name(repr(node.value)))
        if isinstance(node, ast.MatchAs):
            return cst.MatchAs(
                pattern=self.pattern(node.pattern) if node.pattern else None, name=self.optional_name(node.name)
            )
        if isinstance(node, ast.MatchOr):
            last = len(node.patterns) - 1
            return cst.MatchOr([
                cst.MatchOrElement(self.pattern(p), separator=cst.BitOr() if i < last else cst.MaybeSentinel.DEFAULT)
                for i, p in enumerate(node.patterns)
            ])
        if isinstance(node, ast.MatchSequence):
            items = [self.pattern_item(p) for p in node.patterns]
            # `(a, b)` a tuple; `[a, b]`, and `a, b` without brackets, a list in libcst
            text = self.text.source[slice(*self.text.span(node))]  # type: ignore[arg-type]
            return cst.MatchTuple(items) if parenthesized(text) else cst.MatchList(items)
        if isinstance(node, ast.MatchMapping):
            return cst.MatchMapping(
                [cst.MatchMappingElement(self.expr(k), self.pattern(p)) for k, p in zip(node.keys, node.patterns)],
                rest=self.optional_name(node.rest),
            )
        if isinstance(node, ast.MatchClass):
            return cst.MatchClass(
                self.expr(node.cls), patterns=[cst.MatchSequenceElement(self.pattern(p)) for p in node.patterns],
                kwds=[
                    cst.MatchKeywordElement(self.name(k), self.pattern(p)) for k, p in zip(node.kwd_attrs, node.kwd_patterns)
                ],
            )
        raise Unconvertible(type(node).__name__)

    def pattern_item(self, node: ast.pattern) -> cst.MatchSequenceElement | cst.MatchStar:
        if isinstance(node, ast.MatchStar):
            return cst.MatchStar(self.optional_name(node.name))
        return cst.MatchSequenceElement(self.pattern(node))

    def optional_name(self, identifier: str | None) -> cst.Name | None:
        return self.name(identifier) if identifier is not None else None

    def import_from(self, node: ast.ImportFrom) -> cst.ImportFrom:
        names: cst.ImportStar | list[cst.ImportAlias]
        names = cst.ImportStar() if node.names[0].name == "*" else self.aliases(node.names)
        module = self.dotted(node.module) if node.module else None
        return cst.ImportFrom(module, names=names, relative=[cst.Dot() for _ in range(node.level or 0)])  # type: ignore[arg-type]

    def aliases(self, names: list[ast.alias]) -> list[cst.ImportAlias]:
        made = [
            cst.ImportAlias(self.dotted(a.name), asname=cst.AsName(self.name(a.asname)) if a.asname else None)
            for a in names
        ]
        self.origins.update(zip(map(id, made), names))
        return made

    def name(self, identifier: str) -> cst.Name:
        """An identifier; not one beyond ASCII: ast's are NFKC-normalized, libcst's as written."""
        if not identifier.isascii():
            raise Unconvertible("identifier")
        return cst.Name(identifier)

    def dotted(self, name: str) -> cst.Name | cst.Attribute:
        first, *rest = name.split(".")
        node: cst.Name | cst.Attribute = self.name(first)
        for part in rest:
            node = cst.Attribute(node, self.name(part))
        return node

    # -- expressions -----------------------------------------------------------------------

    def expr(self, node: ast.expr) -> cst.BaseExpression:
        convert = self.expressions.get(type(node))
        if convert is None:
            raise Unconvertible(type(node).__name__)
        made = convert(node)
        self.origins[id(made)] = node
        return made

    def attribute(self, node: ast.Attribute) -> cst.Attribute:
        name = self.name(node.attr)
        self.attribute_names[id(name)] = node
        return cst.Attribute(self.expr(node.value), name)

    def optional(self, node: ast.expr | None) -> cst.BaseExpression | None:
        return None if node is None else self.expr(node)

    def constant(self, node: ast.Constant) -> cst.BaseExpression:
        value = node.value
        if isinstance(value, (str, bytes)):
            return self.strings(node)
        if value is None or isinstance(value, bool):
            return cst.Name(repr(value))
        if isinstance(value, int):
            return cst.Integer(self.segment(node))
        if isinstance(value, float):
            return cst.Float(self.segment(node))
        if isinstance(value, complex):
            return cst.Imaginary(self.segment(node))
        if value is Ellipsis:
            return cst.Ellipsis()
        raise Unconvertible(type(value).__name__)

    def strings(self, node: ast.Constant | ast.JoinedStr) -> cst.BaseExpression:
        """A string literal as written; literals written side by side (one node in ast) as
        libcst nests them."""
        text = self.segment(node)
        if self.text.is_one_string(node):  # type: ignore[arg-type]
            return cst.SimpleString(text) if type(node) is ast.Constant else self.formatted(node)  # type: ignore[arg-type]
        made: cst.BaseExpression | None = None
        for part in reversed(literals(text)):
            prefix = part[: len(part) - len(part.lstrip("rRbBuUfF"))]
            literal = cst.SimpleString(part) if "f" not in prefix.lower() else _Converter(part).formatted(
                ast.parse(part, mode="eval").body  # type: ignore[arg-type]
            )
            made = literal if made is None else cst.ConcatenatedString(literal, made)
        assert made is not None
        return made

    def segment(self, node: ast.expr) -> str:
        """The text ``node`` was parsed from."""
        start, end = self.text.span(node)
        return self.text.source[start:end]

    def formatted(self, node: ast.JoinedStr) -> cst.FormattedString:
        text = self.segment(node)
        written = None
        if "\\" in text or "\r" in text:  # ast gives the escapes' values; libcst the text as written
            if "\\N" in text:
                raise Unconvertible("f-string")  # `\N{NAME}`: braces not a field's
            written = texts_as_written(text)
        elif "=" in text:
            texts_as_written(text)  # (a field `{x=}` is Unconvertible)
        parts = self.formatted_parts(node.values, written)
        if written is not None and next(written, None) is not None:
            raise Unconvertible("f-string")
        return cst.FormattedString(parts)

    def formatted_parts(
        self, values: list[ast.expr], written: Iterator[str] | None = None
    ) -> list[cst.BaseFormattedStringContent]:
        parts: list[cst.BaseFormattedStringContent] = []
        for value in values:
            if isinstance(value, ast.Constant):
                if not value.value:
                    continue  # (Python 3.12 ends a format spec's values with an empty text)
                text = str(value.value).replace("{", "{{").replace("}", "}}")
                if written is not None:
                    as_written = next(written, None)
                    # (a text without escapes is its value: the two scans agree)
                    if as_written is None or ("\\" not in as_written and "\r" not in as_written and as_written != text):
                        raise Unconvertible("f-string")
                    text = as_written
                parts.append(cst.FormattedStringText(text))
            elif isinstance(value, ast.FormattedValue):
                spec = value.format_spec
                parts.append(cst.FormattedStringExpression(
                    self.expr(value.value),
                    conversion=chr(value.conversion) if value.conversion > 0 else None,
                    format_spec=self.formatted_parts(spec.values, written) if isinstance(spec, ast.JoinedStr) else None,
                ))
            else:
                raise Unconvertible(type(value).__name__)
        return parts

    def bool_op(self, node: ast.BoolOp) -> cst.BooleanOperation:
        op: Callable[[], cst.BaseBooleanOp] = cst.And if isinstance(node.op, ast.And) else cst.Or
        result = self.expr(node.values[0])
        for value in node.values[1:]:
            result = cst.BooleanOperation(result, op(), self.expr(value))
        return result  # type: ignore[return-value]

    def subscript(self, node: ast.Subscript) -> cst.Subscript:
        index = node.slice
        items = index.elts if isinstance(index, ast.Tuple) and not self._parenthesized(index) else [index]
        elements = []
        for item in items:
            if isinstance(item, ast.Slice):
                inner: cst.BaseSlice = cst.Slice(
                    lower=self.optional(item.lower), upper=self.optional(item.upper), step=self.optional(item.step)
                )
            else:
                inner = cst.Index(self.expr(item))
            elements.append(cst.SubscriptElement(inner))
        return cst.Subscript(self.expr(node.value), elements)

    def _parenthesized(self, node: ast.expr) -> bool:
        line = self.lines[node.lineno - 1].encode("utf-8")
        return line[node.col_offset:node.col_offset + 1] == b"("

    def elements(self, items: list[ast.expr]) -> list[cst.BaseElement]:
        return [
            cst.StarredElement(self.expr(i.value)) if isinstance(i, ast.Starred) else cst.Element(self.expr(i))
            for i in items
        ]

    def call_args(self, args: list[ast.expr], keywords: list[ast.keyword]) -> list[cst.Arg]:
        out = [
            cst.Arg(self.expr(a.value), star="*") if isinstance(a, ast.Starred) else cst.Arg(self.expr(a))
            for a in args
        ]
        for keyword in keywords:
            if keyword.arg is None:
                out.append(cst.Arg(self.expr(keyword.value), star="**"))
            else:
                out.append(cst.Arg(self.expr(keyword.value), keyword=self.name(keyword.arg)))
        return self._source_order(out, args, keywords)

    @staticmethod
    def _source_order(converted: list[cst.Arg], args: list[ast.expr], keywords: list[ast.keyword]) -> list[cst.Arg]:
        """The arguments in the order they are written (``f(*a, key=1, *b)``): ast lists the
        positional ones first."""
        nodes: list[ast.AST] = [*args, *keywords]
        if not keywords or not args or (args[-1].lineno, args[-1].col_offset) < (keywords[0].lineno, keywords[0].col_offset):
            return converted
        order = sorted(range(len(nodes)), key=lambda i: (nodes[i].lineno, nodes[i].col_offset))
        return [converted[i] for i in order]

    def parameters(self, args: ast.arguments) -> cst.Parameters:
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        made = [self.param(a, d) for a, d in zip(positional, defaults)]
        split = len(args.posonlyargs)
        keyword_only = [self.param(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        star: cst.Param | cst.ParamStar | cst.MaybeSentinel = cst.MaybeSentinel.DEFAULT
        if args.vararg is not None:
            star = self.param(args.vararg, None, "*")
        elif keyword_only:
            star = cst.ParamStar()
        return cst.Parameters(
            params=made[split:], posonly_params=made[:split], posonly_ind=cst.ParamSlash() if split else cst.MaybeSentinel.DEFAULT,
            star_arg=star, kwonly_params=keyword_only,
            star_kwarg=self.param(args.kwarg, None, "**") if args.kwarg is not None else None,
        )

    def param(self, arg: ast.arg, default: ast.expr | None, star: str = "") -> cst.Param:
        return cst.Param(
            self.name(arg.arg),
            annotation=cst.Annotation(self.expr(arg.annotation)) if arg.annotation is not None else None,
            default=self.optional(default), star=star,
        )

    def comp_for(self, generators: list[ast.comprehension]) -> cst.CompFor:
        inner = None
        for generator in reversed(generators):
            inner = cst.CompFor(
                target=self.expr(generator.target), iter=self.expr(generator.iter),
                ifs=[cst.CompIf(self.expr(i)) for i in generator.ifs], inner_for_in=inner,
                asynchronous=cst.Asynchronous() if generator.is_async else None,
            )
        assert inner is not None
        return inner


def _no_type_parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
    """``def f[T]()`` (Python >= 3.12): type parameters are not built."""
    if getattr(node, "type_params", None):
        raise Unconvertible("type parameters")
