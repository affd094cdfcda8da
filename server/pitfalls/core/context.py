"""What a rule sees of the file it checks: the tree, names, values, the project index.

The context is the file's semantic layer (:class:`~pitfalls.core.semantic.Semantic`: what a
name refers to or was assigned, where the traversal is) plus reporting, and the per-file
facts several rules share (``fact``), each computed once. Reports hold nodes; positions are
resolved once, after the traversal, and only for files with reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import libcst as cst

from pitfalls.core import names
from pitfalls.core.diagnostics import Applicability, Position, Severity
from pitfalls.core.index import IndexView
from pitfalls.core.kept_reports import compared
from pitfalls.core.schema import Schemas
from pitfalls.core.semantic import Semantic
from pitfalls.core.summary import ModuleSummary

if TYPE_CHECKING:
    from pitfalls.core.rule import Rule

T = TypeVar("T")
N = TypeVar("N", bound=cst.CSTNode)


@dataclass
class NodeEdit:
    """An edit expressed against the tree: replace ``node``'s text, or insert before/after it.

    ``node`` may also be a :class:`Position`: an insertion there, or with ``through`` a
    Position too, the replacement of the text between them (for fixes that edit lines).
    """

    node: cst.CSTNode | Position
    content: str
    mode: str = "replace"  # "replace", "before", "after", "span"
    through: cst.CSTNode | Position | None = None  # with "replace": replace from node's start to this node's end
    # with "span": from `node`'s start (or end, if from_end) to `to`'s start (or end, if to_end)
    to: cst.CSTNode | None = None
    from_end: bool = False
    to_end: bool = False
    # with "text": the edit made from the node's text (see from_text)
    rewrite: Callable[[str], tuple[int, int, str] | None] | None = None

    @classmethod
    def span(
        cls, start: tuple[cst.CSTNode, str], end: tuple[cst.CSTNode, str], content: str = ""
    ) -> NodeEdit:
        """Replace the text from one node edge to another, e.g. delete from an argument's
        start to the next argument's start: ``span((arg, "start"), (next_arg, "start"))``.
        Text edits like this keep the surrounding layout, which re-generated nodes lose."""
        return cls(start[0], content, "span", to=end[0], from_end=start[1] == "end", to_end=end[1] == "end")

    @classmethod
    def from_text(cls, node: cst.CSTNode, rewrite: Callable[[str], tuple[int, int, str] | None]) -> NodeEdit:
        """An edit made from ``node``'s text as written, once the node is placed:
        ``rewrite(text)``, a function of the text alone (its answers are kept), gives the
        offsets into it to replace and with what (None: no fix). It reads no formatting
        off the tree, so it is the same on libcst's tree and on the tree made from ast
        (see ``Rule.exact_on_ast_tree``)."""
        return cls(node, "", "text", rewrite=rewrite)


@dataclass
class PendingFix:
    message: str
    edits: list[NodeEdit]
    applicability: Applicability


@dataclass
class Report:
    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: PendingFix | None
    severity: Severity
    data: dict[str, Any]
    # The top-level statement the walk was in: where the node's position is looked up first.
    statement: cst.CSTNode | None = None


class RuleContext(Semantic):
    def __init__(
        self,
        *,
        path: str,
        source: str,
        module: cst.Module,
        summary: ModuleSummary,
        index: IndexView,
        settings: Any = None,
        schemas: Schemas | None = None,
    ) -> None:
        super().__init__(module, summary, index)
        self.path = path
        self.source = source
        self.settings = settings
        self.schemas = schemas or Schemas()  # the Directus and database schemas, when configured
        self.reports: list[Report] = []
        # The rules that read code as written (``code_for``): a tree made from ast has it
        # only roughly (no comments, parentheses, spacing), so their reports need libcst's.
        self.code_read: set[str] = set()
        self.current_rule: type[Rule] | None = None
        self.statement: cst.CSTNode | None = None  # the top-level statement being walked
        self._facts: dict[Callable[[RuleContext], Any], Any] = {}
        # What :meth:`node_fact` computed for the statement being walked; in an editor's
        # buffer, kept by the runner across edits that leave the statement as it was.
        self.node_facts: dict[tuple[Callable[[Any], Any], cst.CSTNode], Any] = {}
        # While a top-level function whose reports an editor keeps is walked: the facts
        # the function-local rules read, with their values (see core.kept_reports).
        self.facts_read: dict[Callable[[Any], Any], Any] | None = None

    # -- reporting ----------------------------------------------------------------------

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        fix: PendingFix | None = None,
        severity: Severity | None = None,
        data: dict[str, Any] | None = None,
        rule: type[Rule] | None = None,
    ) -> None:
        rule = rule or self.current_rule
        assert rule is not None, "report() outside a rule handler needs rule="
        self.reports.append(
            Report(rule, node, message, fix, severity or rule.severity, data or {}, self.statement)
        )

    def fix(
        self, message: str, *edits: NodeEdit, applicability: Applicability | None = None
    ) -> PendingFix:
        rule = self.current_rule
        applicability = applicability or (rule.fix_applicability if rule else None) or Applicability.UNSAFE
        return PendingFix(message, list(edits), applicability)

    def code_for(self, node: cst.CSTNode) -> str:
        if self.current_rule is not None:
            self.code_read.add(self.current_rule.code)
        return self.module.code_for_node(node)

    # -- facts --------------------------------------------------------------------------

    @property
    def is_script(self) -> bool:
        """A command-line script (``if __name__ == "__main__":``, ``parse_args()``): its
        values come from, and its hangs are seen by, the person running it."""
        return self.fact(_is_script)

    @property
    def is_test_module(self) -> bool:
        """``test_*.py``, ``*_test.py``, ``conftest.py`` or under a ``tests/`` folder."""
        return names.is_test_path(self.path)

    def fact(self, compute: Callable[[RuleContext], T]) -> T:
        """``compute(self)``, computed once per file and shared by every rule that asks
        (keyed by ``compute``: pass a module-level function or class, not a lambda)."""
        try:
            value = self._facts[compute]
        except KeyError:
            value = self._facts[compute] = compute(self)
        if self.facts_read is not None and self.current_rule is not None and self.current_rule.function_local:
            if compared(compute):
                self.facts_read[compute] = value
        return value

    def node_fact(self, compute: Callable[[N], T], node: N) -> T:
        """``compute(node)`` for a node of the statement being walked, computed once. It
        must be a function of the node alone (a module-level function, never reading the
        context): an editor keeps its answers while the statement is unchanged."""
        key = (compute, node)
        try:
            return self.node_facts[key]
        except KeyError:
            value = self.node_facts[key] = compute(node)
            return value

    def close(self) -> None:
        """Drop the facts once the rules are done (one that keeps its context makes a
        reference cycle: see ``runner.Runner.close``)."""
        self._facts.clear()


def _is_script(ctx: RuleContext) -> bool:
    return names.is_script(ctx.module)
