"""An editor's buffer keeps the reports of the top-level functions an edit left alone.

Most keystrokes change one function's body, and the rules' reports in every other function
are the last keystroke's again: walking them is most of a keystroke's check. For the rules
that say so (``Rule.function_local``), a top-level function's reports are kept, and those
rules are not called in it, while

- the edit replaced only top-level functions, with no ``global`` or ``nonlocal`` in them
  before or after (so the module-level names they bind are their own, which the summary
  holds);
- no summary changed (the buffer's view of the index still serves) and the rules,
  settings and schemas are the same;
- the function's text does not mention a replaced function's name, as a word (rules
  reach other statements by the names the code they check uses);
- every fact the rules read in it (``RuleContext.fact``) has the value it had, unless the
  fact is declared :func:`name_mediated` (compared with ``==``: a fact that is an object
  of its own is never equal, and the function is walked again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

import libcst as cst

from pitfalls.core.walker import iter_nodes, iter_statements

if TYPE_CHECKING:
    from pitfalls.core.context import Report

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
    """The names of the top-level functions an edit replaced (``gone``, by ``came``); None
    when it replaced anything else, or a function that declares ``global`` or ``nonlocal``."""
    names: set[str] = set()
    for stmt in (*gone, *came):
        if type(stmt) is not cst.FunctionDef or _binds_outside(stmt):
            return None
        names.add(stmt.name.value)  # type: ignore[attr-defined]
    return frozenset(names)


def _binds_outside(function: cst.FunctionDef) -> bool:
    return any(
        type(small) is cst.Global or type(small) is cst.Nonlocal
        for line in iter_statements(function.body)
        if type(line) is cst.SimpleStatementLine or type(line) is cst.SimpleStatementSuite
        for small in line.body  # type: ignore[attr-defined]
    )


def nodes_in(statement: cst.CSTNode) -> frozenset[cst.CSTNode]:
    """Every node of ``statement``, whitespace and punctuation included (a node fact: kept
    while the statement is)."""
    return frozenset(iter_nodes(statement, tokens=True))


@lru_cache(maxsize=16)
def mention_of(names: frozenset[str]) -> re.Pattern[str]:
    """What finds a mention of one of ``names`` in a text: as a word anywhere (code, a
    string, a comment: a rule may follow a name written in a string)."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(name) for name in sorted(names)) + r")(?!\w)")


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
