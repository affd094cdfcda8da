"""The traversal: every enabled rule of one file, run in one walk with the engine's scope
tracking (see :mod:`pitfalls.core.walker`: no recursion, children in source order).

In an editor's buffer, what a walk costs is kept for the next keystroke: each statement's
walk as a flat list, the node facts computed in it, and the function-local rules' reports
of the top-level functions an edit left alone (see :mod:`pitfalls.core.kept_reports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

import libcst as cst

from pitfalls.core.context import RuleContext
from pitfalls.core.kept_reports import FunctionReports, KeptReports, affected, nodes_in, within, words_in
from pitfalls.core.rule import Rule
from pitfalls.core.walker import LEAVES, children_reversed


# The engine's own scope tracking, as (node type, when, first or last, RuleContext method):
# on entering a class, its name is bound before any rule looks; the rules see a function's
# or a class's node from the enclosing scope; assignments are recorded once a rule has seen
# their value.
_SCOPE_TRACKING: tuple[tuple[type, str, bool, str], ...] = (
    *((node_type, "visit", False, "push_scope") for node_type in (cst.FunctionDef, cst.Lambda, cst.ClassDef)),
    *((node_type, "leave", True, "pop_scope") for node_type in (cst.FunctionDef, cst.Lambda, cst.ClassDef)),
    (cst.With, "visit", True, "enter_with"),
    (cst.ClassDef, "visit", True, "record_class"),
    (cst.With, "leave", False, "leave_with"),
    *((node_type, "visit", True, "record_import") for node_type in (cst.Import, cst.ImportFrom)),
    *((node_type, "leave", True, "record_assignment") for node_type in (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)),
    (cst.For, "visit", True, "record_for"),
    (cst.WithItem, "visit", True, "record_with_item"),
    (cst.ExceptHandler, "visit", True, "record_except_handler"),
)

# Which method of which owner (0: the RuleContext, i: the i-th rule) runs on entering and on
# leaving each node type.
_Table = dict[type, tuple[tuple[int, str], ...]]
# The same, bound: (the rule or None, the method) per node type, on entering and on leaving.
_Handlers = dict[type, list[tuple[type[Rule] | None, Callable]]]
_Bound = tuple[_Handlers, _Handlers]


@lru_cache(maxsize=64)
def _dispatch_plan(rules: tuple[type[Rule], ...], skipped: frozenset[str] = frozenset()) -> tuple[_Table, _Table]:
    """The handler tables of a rule set, found once (every file of a run has one of a few);
    without the handlers of the rules whose codes are ``skipped``."""
    tables: dict[str, dict[type, list[tuple[int, str]]]] = {"visit": {}, "leave": {}}
    for owner, rule in enumerate(rules, start=1):
        if rule.code in skipped:
            continue
        for when, found in rule.handlers().items():
            for node_name, method in found:
                node_type = getattr(cst, node_name, None)
                if node_type is None:
                    raise TypeError(f"{rule.__name__}.{method}: libcst has no node {node_name}")
                tables[when].setdefault(node_type, []).append((owner, method))
    for node_type, when, first, method in _SCOPE_TRACKING:
        entries = tables[when].setdefault(node_type, [])
        entries.insert(0 if first else len(entries), (0, method))
    visit, leave = ({t: tuple(e) for t, e in tables[when].items()} for when in ("visit", "leave"))
    return visit, leave


_LEAVE = object()
_UNKNOWN = object()
_INNER = object()  # before a statement of a class's block: its own walk goes here

# A file's top-level statements, and its top-level classes' statements -> (a dispatch plan,
# the statement's walk under it) for each plan it was walked under (a kept function's, see
# core.kept_reports, has two): kept across the edits of an editor's buffer, whose unchanged
# statements are the same objects.
Walks = dict[cst.CSTNode, list[tuple[tuple[_Table, _Table], list[tuple[cst.CSTNode, bool, int]]]]]
# Likewise, a file's top-level statements -> the node facts computed in them (RuleContext.node_fact).
NodeFacts = dict[cst.CSTNode, dict[tuple[Callable[[Any], Any], cst.CSTNode], Any]]


@dataclass
class Reuse:
    """A buffer's kept function reports, for one check (see core.kept_reports)."""

    table: KeptReports  # read, and filled with what this check makes
    redefined: frozenset[str] | None  # the functions and classes the edit replaced; None: keep nothing this time


class Runner:
    """The enabled rules of one file, run in one traversal with the engine's scope tracking."""

    def __init__(
        self, ctx: RuleContext, rules: list[type[Rule]], walks: Walks | None = None, kept: NodeFacts | None = None,
        reuse: Reuse | None = None,
    ) -> None:
        self.ctx = ctx
        self.broken: set[str] = set()
        self.errors: list[str] = []
        self.instances = [rule(ctx) for rule in rules]
        self.plan = _dispatch_plan(tuple(rules))
        self.walks = walks
        self.kept = kept
        owners: list[object] = [ctx, *self.instances]
        kinds: list[type[Rule] | None] = [None, *rules]

        def bind(plan: tuple[_Table, _Table]) -> _Bound:
            return tuple(  # type: ignore[return-value]
                {t: [(kinds[i], getattr(owners[i], m)) for i, m in entries] for t, entries in table.items()}
                for table in plan
            )

        self.handlers = bind(self.plan)
        self.on_enter, self.on_leave = self.handlers
        local = frozenset(rule.code for rule in rules if rule.function_local)
        self.reuse = reuse if local and walks is not None else None
        self.reduced: tuple[_Table, _Table] | None = None  # the other rules' handlers
        self.pruned_by_local = False
        self._affected: frozenset[str] | None | object = _UNKNOWN
        if self.reuse is not None:
            self.reduced = _dispatch_plan(tuple(rules), local)
            self.reduced_handlers = bind(self.reduced)

    def run(self) -> None:
        self._walk()
        for instance in self.instances:
            rule = type(instance)
            if rule.code in self.broken:
                continue
            self.ctx.current_rule = rule
            try:
                instance.finish()
            except Exception as exc:
                self._failed(rule, exc)
        self.ctx.current_rule = None

    def _walk(self) -> None:
        """The module's handlers, then each top-level statement's walk (noting which one
        the rules are in: where their reports' positions are looked up first)."""
        ctx, handle = self.ctx, self._handle
        module = ctx.module
        handlers = self.on_enter.get(cst.Module)
        if handlers is None or handle(handlers, module):
            walks, kept, reuse = self.walks, self.kept, self.reuse
            for statement in module.body:
                ctx.statement = statement
                if walks is None:
                    self._walk_from(statement)
                else:
                    if kept is not None:
                        ctx.node_facts = kept.setdefault(statement, {})
                    if reuse is not None and type(statement) is cst.FunctionDef:
                        self._function(statement)
                    else:
                        self._walk_flat(self._flat(statement, self.plan), self.handlers)
            ctx.statement = None
            if kept is not None:
                ctx.node_facts = {}
        handlers = self.on_leave.get(cst.Module)
        if handlers is not None:
            handle(handlers, module)

    def _walk_from(self, root: cst.CSTNode) -> None:
        """Pre-order, source order, without recursion (see :mod:`pitfalls.core.walker`): the
        handlers of each node on entry and on exit."""
        on_enter, on_leave, handle, leaves = self.on_enter, self.on_leave, self._handle, LEAVES
        stack: list[object] = [root]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node = pop()
            if node is _LEAVE:
                node = pop()
                handle(on_leave[type(node)], node)
                continue
            node_type = type(node)
            handlers = on_enter.get(node_type)
            descend = handlers is None or handle(handlers, node)
            if node_type in on_leave:
                push(node)
                push(_LEAVE)
            if descend and node_type not in leaves:
                extend(children_reversed(node))  # type: ignore[arg-type]

    def _function(self, statement: cst.CSTNode) -> None:
        """A top-level function in a buffer: its function-local rules' reports kept from the
        last keystroke, and the other rules called, when the edit left what they read as it
        was; else all rules called, and what the function-local ones made kept."""
        ctx, reuse = self.ctx, self.reuse
        assert reuse is not None
        kept = reuse.table.get(statement)
        if kept is not None and self._holds(statement, kept):
            assert self.reduced is not None
            self._walk_flat(self._flat(statement, self.reduced), self.reduced_handlers)
            ctx.reports.extend(kept.reports)
            return
        start, broken = len(ctx.reports), len(self.broken)
        ctx.facts_read, self.pruned_by_local = {}, False
        try:
            self._walk_flat(self._flat(statement, self.plan), self.handlers)
        finally:
            facts, ctx.facts_read = ctx.facts_read, None
        made = [report for report in ctx.reports[start:] if report.rule.function_local]
        if len(self.broken) == broken and not self.pruned_by_local and within(statement, made, self._nodes_of):
            reuse.table[statement] = FunctionReports(made, facts)
        else:
            reuse.table.pop(statement, None)

    def _nodes_of(self, statement: cst.CSTNode) -> frozenset[cst.CSTNode]:
        return self._fact_of(nodes_in, statement)

    def _words_of(self, statement: cst.CSTNode) -> frozenset[str]:
        return self._fact_of(words_in, statement)

    def _fact_of(self, compute: Callable[[cst.CSTNode], Any], statement: cst.CSTNode) -> Any:
        """``compute(statement)`` for any top-level statement, kept with its node facts (see
        :data:`NodeFacts`; ``RuleContext.node_fact`` asks those of the statement walked)."""
        assert self.kept is not None
        facts = self.kept.setdefault(statement, {})
        key = (compute, statement)
        if key not in facts:
            facts[key] = compute(statement)
        return facts[key]

    def _holds(self, statement: cst.CSTNode, kept: FunctionReports) -> bool:
        """Whether the reports kept for top-level function ``statement`` hold in this text."""
        assert self.reuse is not None
        if self._affected is _UNKNOWN:
            redefined = self.reuse.redefined
            self._affected = None if redefined is None else (
                affected(redefined, self.ctx.module.body, self._words_of) if redefined else redefined
            )
        names = self._affected
        if names is None or not names.isdisjoint(self._words_of(statement)):  # type: ignore[attr-defined]
            return False
        for compute, value in kept.facts.items():
            try:
                if self.ctx.fact(compute) != value:
                    return False
            except Exception:  # the rules would meet it too; they say so when they do
                return False
        return True

    def _flat(self, statement: cst.CSTNode, plan: tuple[_Table, _Table]) -> list[tuple[cst.CSTNode, bool, int]]:
        """The statement's walk as :meth:`_walk_from` makes it, as a list kept for the next
        edit (see :data:`Walks`): each node that has handlers, on entry (with how many
        entries to skip when its children are pruned) and on exit. A class's is made of
        its block's statements' walks, each kept too: an edit of one method walks that one
        again, not the class."""
        assert self.walks is not None
        walked = self.walks.get(statement)
        for made_for, flat in walked or ():
            if made_for is plan:
                return flat
        visit, leave = plan
        block = statement.body if type(statement) is cst.ClassDef else None  # type: ignore[attr-defined]
        if type(block) is not cst.IndentedBlock:
            block = None
        flat: list[tuple[cst.CSTNode, bool, int]] = []
        stack: list[object] = [statement]
        while stack:
            node = stack.pop()
            if node is _LEAVE:
                at, node = stack.pop(), stack.pop()
                if type(node) in leave:
                    flat.append((node, True, 0))
                    end = len(flat) - 1  # pruned: its exit handlers still run
                else:
                    end = len(flat)
                if at >= 0:
                    flat[at] = (node, False, end - at)  # type: ignore[index]
                continue
            if node is _INNER:
                flat.extend(self._flat(stack.pop(), plan))  # type: ignore[arg-type]
                continue
            node_type = type(node)
            entered = node_type in visit
            if entered or node_type in leave:
                stack += [node, len(flat) if entered else -1, _LEAVE]
                if entered:
                    flat.append(None)  # type: ignore[arg-type]  # completed on exit
            if node is block:
                for inner in reversed(block.body):  # type: ignore[union-attr]
                    stack += [inner, _INNER]
            elif node_type not in LEAVES:
                stack.extend(children_reversed(node))  # type: ignore[arg-type]
        if walked is None:
            self.walks[statement] = [(plan, flat)]
        else:
            # Walks under plans no longer in use go (the rules enabled changed).
            in_use = [w for w in walked if w[0] is not plan and (w[0] is self.plan or w[0] is self.reduced)]
            walked[:] = [*in_use, (plan, flat)]
        return flat

    def _walk_flat(self, flat: list[tuple[cst.CSTNode, bool, int]], handlers: _Bound) -> None:
        (on_enter, on_leave), handle = handlers, self._handle
        i, count = 0, len(flat)
        while i < count:
            node, leaving, skip = flat[i]
            if leaving:
                handle(on_leave[type(node)], node)
                i += 1
            elif handle(on_enter[type(node)], node):
                i += 1
            else:
                i += skip

    def _handle(self, handlers: list[tuple[type[Rule] | None, Callable]], node: cst.CSTNode) -> bool:
        """Call ``handlers`` on ``node``; False when a rule returned ``False`` to prune the
        node's children, as in libcst's visitors. A rule that raises is not called again:
        one broken rule must not silence the others."""
        ctx, broken = self.ctx, self.broken
        descend = True
        for rule, handler in handlers:
            if rule is None:  # the engine's own (it never reports)
                handler(node)
                ctx.bindings_changed()
            elif not broken or rule.code not in broken:
                ctx.current_rule = rule
                try:
                    if handler(node) is False:
                        descend = False
                        # The other rules do not see the children either: a kept function's
                        # walk without this rule would show them.
                        self.pruned_by_local |= rule.function_local
                except Exception as exc:
                    self._failed(rule, exc)
        ctx.current_rule = None
        return descend

    def _failed(self, rule: type[Rule], exc: Exception) -> None:
        self.broken.add(rule.code)
        self.errors.append(f"{rule.code} failed on {self.ctx.path}: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Drop what the rules and the context hold. Rules keep helpers that call back into
        them, and facts keep the context: reference cycles, which would keep the file's
        whole tree in memory until the cyclic collector runs (a run turns it off, see
        ``project.run``) and then cost it a long collection."""
        for instance in self.instances:
            vars(instance).clear()
        self.ctx.close()
