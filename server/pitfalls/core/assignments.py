"""What statements bind to plain names and to a class's attributes, read off their nodes
(the semantic layer's module scope and class attributes, see :mod:`pitfalls.core.semantic`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from pitfalls.core import names
from pitfalls.core.walker import is_kind, iter_nodes


@dataclass
class ClassAttributes:
    """What a class's body and methods bind to its attributes (read once, when first asked)."""

    values: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    annotations: dict[str, cst.BaseExpression] = field(default_factory=dict)

    @classmethod
    def of(cls, node: cst.ClassDef) -> ClassAttributes:
        found = cls()
        for stmt in flat_statements(node.body.body):
            for target, value, annotation in assigned(stmt):
                found._add(target, value, annotation)
        for child in iter_nodes(node.body):
            if type(child) is cst.Assign:
                for target in child.targets:
                    if _is_self_attribute(target.target):
                        found._add(target.target.attr.value, child.value, None)  # type: ignore[attr-defined]
            elif type(child) is cst.AnnAssign and _is_self_attribute(child.target):
                found._add(child.target.attr.value, child.value, child.annotation.annotation)  # type: ignore[attr-defined]
        return found

    def _add(self, name: str, value: cst.BaseExpression | None, annotation: cst.BaseExpression | None) -> None:
        if value is not None:
            self.values.setdefault(name, []).append(value)
        if annotation is not None:
            self.annotations.setdefault(name, annotation)


def _is_self_attribute(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Attribute) and names.dotted(target.value) == "self"


def flat_statements(body: Any) -> list[cst.BaseSmallStatement]:
    """The small statements of a module or class body, through ``if`` and ``try`` blocks."""
    out: list[cst.BaseSmallStatement] = []
    for stmt in body:
        stmt_type = type(stmt)
        if stmt_type is cst.SimpleStatementLine:
            out.extend(stmt.body)
        elif stmt_type is cst.If or stmt_type is cst.Try:
            out.extend(flat_statements(stmt.body.body))
        elif is_kind(stmt_type, cst.BaseSmallStatement):  # a one-line body: `class A: x = 1`
            out.append(stmt)
    return out


def assigned(
    stmt: cst.CSTNode,
) -> list[tuple[str, cst.BaseExpression | None, cst.BaseExpression | None]]:
    """(name, value, annotation) for each plain name an assignment statement binds."""
    stmt_type = type(stmt)
    if stmt_type is cst.Assign:
        return [
            (t.target.value, stmt.value, None)
            for t in stmt.targets
            if type(t.target) is cst.Name
        ]
    if stmt_type is cst.AnnAssign and type(stmt.target) is cst.Name:
        return [(stmt.target.value, stmt.value, stmt.annotation.annotation)]
    if stmt_type is cst.NamedExpr and type(stmt.target) is cst.Name:
        return [(stmt.target.value, stmt.value, None)]
    return []
