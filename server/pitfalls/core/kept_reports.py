"""An editor's buffer keeps the reports of the top-level functions an edit left alone.

Most keystrokes change one function's or one class's body, and the rules' reports in every
other function are the last keystroke's again: walking them is most of a keystroke's
check. For the rules that say so (``Rule.function_local``), a top-level function's reports
are kept, and those rules are not called in it, while

- the edit replaced only top-level functions and classes, with no ``global`` or
  ``nonlocal`` in them before or after (what they bind at module level is their names);
- no other module's summary changed, and this module's only in the entries of the
  classes and functions replaced (:func:`summary_change_within`) and while no other
  module imports it (``ProjectIndex.imported_elsewhere``: one that does could lead a
  kept function back to them); under the same rules, settings and schemas;
- the function's code does not use, nor its strings hold, the name of a replaced class or
  function, nor of a top-level class or function whose code does, and so on
  (:func:`affected`): rules reach other statements by the names the code uses;
- every fact the rules read in it (``RuleContext.fact``) has the value it had, unless the
  fact is declared :func:`name_mediated` (compared with ``==``: a fact that is an object
  of its own is never equal, and the function is walked again);
- when they were made, no rule pruned the walk there (the others would have seen less)
  and every node placing them was inside the function (:func:`within`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

import libcst as cst

from pitfalls.core.walker import iter_nodes, iter_statements

if TYPE_CHECKING:
    from pitfalls.core.context import Report
    from pitfalls.core.summary_data import ModuleSummary

T = TypeVar("T")

_NAME_MEDIATED: set[Callable[[Any], Any]] = set()


def name_mediated(compute: T) -> T:
    """Declares a fact (``RuleContext.fact``) whose answers about a function's code reach
    the rest of the file only through the names that code mentions: a kept function's
    reports do not need its value compared."""
    _NAME_MEDIATED.add(compute)  # type: ignore[arg-type]
    return compute


def compared(compute: Callable[[Any], Any]) -> bool:
    """Whether a function's kept reports hold only while ``compute``'s value is the same."""
    return compute not in _NAME_MEDIATED


@dataclass
class FunctionReports:
    """What the function-local rules reported in one top-level function, and the facts
    they read there with their values."""

    reports: list[Report]
    facts: dict[Callable[[Any], Any], Any]


# A buffer's top-level functions -> their function-local reports (see ParsedFile).
KeptReports = dict[cst.CSTNode, FunctionReports]


def redefined(gone: Sequence[cst.CSTNode], came: Sequence[cst.CSTNode]) -> frozenset[str] | None:
    """The names of the top-level functions and classes an edit replaced (``gone``, by
    ``came``); None when it replaced anything else, or one that declares ``global`` or
    ``nonlocal``."""
    names: set[str] = set()
    for stmt in (*gone, *came):
        if type(stmt) is not cst.FunctionDef and type(stmt) is not cst.ClassDef:
            return None
        names.add(stmt.name.value)  # type: ignore[attr-defined]
    # A class's statements an edit left alone are the same objects before and after (see
    # reparse): only the others are searched (a long class is edited a method at a time).
    before = {inner for stmt in gone for inner in _class_block(stmt)}
    kept = before.intersection(inner for stmt in came for inner in _class_block(stmt))
    for stmt in (*gone, *came):
        block = _class_block(stmt)
        searched = [inner for inner in block if inner not in kept] if block else [stmt]
        if any(_binds_outside(inner) for inner in searched):
            return None
    return frozenset(names)


def _class_block(statement: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The statements of a class's indented block; none for anything else."""
    body = getattr(statement, "body", None) if type(statement) is cst.ClassDef else None
    return body.body if type(body) is cst.IndentedBlock else ()


def _binds_outside(statement: cst.CSTNode) -> bool:
    """Whether ``statement`` declares a name ``global`` or ``nonlocal``, anywhere in it."""
    return any(
        type(small) is cst.Global or type(small) is cst.Nonlocal
        for line in iter_statements(statement)
        if type(line) is cst.SimpleStatementLine or type(line) is cst.SimpleStatementSuite
        for small in line.body  # type: ignore[attr-defined]
    )


def summary_change_within(old: ModuleSummary, new: ModuleSummary, names: frozenset[str]) -> bool:
    """Whether ``new`` differs from ``old`` only in the entries of the classes and functions
    called ``names`` (not in their imports, say, nor in what the module binds)."""
    for entry in dataclasses.fields(old):
        before, after = getattr(old, entry.name), getattr(new, entry.name)
        if entry.name in ("classes", "functions"):
            before = {key: value for key, value in before.items() if key not in names}
            after = {key: value for key, value in after.items() if key not in names}
        if before != after:
            return False
    return True


_WORD = re.compile(r"\w+")


def words_in(statement: cst.CSTNode) -> frozenset[str]:
    """The names a statement's code uses (attributes' included), and the words of its
    strings (``relationship("Model")``: a name a rule may follow)."""
    words: set[str] = set()
    for node in iter_nodes(statement):
        kind = type(node)
        if kind is cst.Name:
            words.add(node.value)  # type: ignore[attr-defined]
        elif kind is cst.SimpleString or kind is cst.FormattedStringText:
            words.update(_WORD.findall(node.value))  # type: ignore[attr-defined]
    return frozenset(words)


def affected(
    names: frozenset[str], body: Sequence[cst.CSTNode], words_of: Callable[[cst.CSTNode], frozenset[str]]
) -> frozenset[str] | None:
    """``names``, with the names of the top-level classes and functions of ``body`` whose
    code uses one of them (``words_of``), and of those whose code uses one of those, and so
    on; None when another module-level statement uses one (what it binds would lead there
    too)."""
    found = set(names)
    grew = True
    while grew:
        grew = False
        for stmt in body:
            kind = type(stmt)
            if kind is cst.FunctionDef or kind is cst.ClassDef:
                name = stmt.name.value  # type: ignore[attr-defined]
                if name not in found and not found.isdisjoint(words_of(stmt)):
                    found.add(name)
                    grew = True
            elif not found.isdisjoint(words_of(stmt)):
                return None
    return frozenset(found)


def nodes_in(statement: cst.CSTNode) -> frozenset[cst.CSTNode]:
    """Every node of ``statement``, whitespace and punctuation included (a node fact: kept
    while the statement is)."""
    return frozenset(iter_nodes(statement, tokens=True))


def within(
    statement: cst.CSTNode, reports: list[Report], nodes_of: Callable[[cst.CSTNode], frozenset[cst.CSTNode]]
) -> bool:
    """Whether every node that places ``reports`` (each report's, each fix edit's) is in
    ``statement`` (``nodes_of(statement)``: its nodes): kept, they are placed again in the
    next text, where only its nodes are sure to be."""
    nodes: frozenset[cst.CSTNode] | None = None
    for report in reports:
        placing: list[object] = [report.node]
        if report.fix is not None:
            for edit in report.fix.edits:
                placing += [edit.node, edit.through, edit.to]
        for node in placing:
            if node is None or node is statement:
                continue
            if not isinstance(node, cst.CSTNode):
                return False  # a position in the text: it may move
            if nodes is None:
                nodes = nodes_of(statement)
            if node not in nodes:
                return False
    return True
