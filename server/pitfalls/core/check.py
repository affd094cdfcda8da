"""One file: run every enabled rule in one traversal, resolve reports to diagnostics.

Pure functions from source text (plus the project index) to diagnostics: no I/O, no
terminal, no LSP. Positions are computed only for files that have reports. ``check_text``
is the one way to check a text: the CLI's workers, the editor's buffers, fix rounds and
the rule examples all come through it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Callable

import libcst as cst

from pitfalls.core.context import RuleContext
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.dependencies import Dependencies
from pitfalls.core.index import IndexView, ProjectIndex
from pitfalls.core.noqa import NoqaComments, SegmentTokens
from pitfalls.core.positions import Positions, spliced_in_class
from pitfalls.core.reparse import Accept, Splice, reparse
from pitfalls.core.resolve import Placements, resolve_reports
from pitfalls.core.rule import Rule
from pitfalls.core.schema import Schemas
from pitfalls.core.ast_tree import AstPositions, NotPlaced, module_from_ast
from pitfalls.core.source import ParseFailure, allow_engine_recursion, parse, python_refuses, too_deep
from pitfalls.core.summary import ModuleSummary, StatementSummaries, fingerprint_of, summarize
from pitfalls.core.summary_ast import parse_tree, summarize_ast
from pitfalls.core.walker import LEAVES, children_reversed


@dataclass
class FileOutcome:
    diagnostics: list[Diagnostic]
    read: Dependencies = field(default_factory=Dependencies)  # what the rules read of the project
    errors: list[str] = field(default_factory=list)  # internal rule failures, for logs
    # On a tree made from CPython's (see parse_from_ast), the rules whose reports are not
    # final: run again on libcst's tree, which decides what they find, and where.
    again: frozenset[str] = frozenset()


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


@lru_cache(maxsize=64)
def _dispatch_plan(rules: tuple[type[Rule], ...]) -> tuple[_Table, _Table]:
    """The handler tables of a rule set, found once (every file of a run has one of a few)."""
    tables: dict[str, dict[type, list[tuple[int, str]]]] = {"visit": {}, "leave": {}}
    for owner, rule in enumerate(rules, start=1):
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
_INNER = object()  # before a statement of a class's block: its own walk goes here

# A file's top-level statements, and its top-level classes' statements -> (the dispatch plan,
# the statement's walk under it): kept across the edits of an editor's buffer, whose
# unchanged statements are the same objects.
Walks = dict[cst.CSTNode, tuple[tuple[_Table, _Table], list[tuple[cst.CSTNode, bool, int]]]]
# Likewise, a file's top-level statements -> the node facts computed in them (RuleContext.node_fact).
NodeFacts = dict[cst.CSTNode, dict[tuple[Callable[[Any], Any], cst.CSTNode], Any]]


class _Runner:
    """The enabled rules of one file, run in one traversal with the engine's scope tracking."""

    def __init__(
        self, ctx: RuleContext, rules: list[type[Rule]], walks: Walks | None = None, kept: NodeFacts | None = None
    ) -> None:
        self.ctx = ctx
        self.broken: set[str] = set()
        self.errors: list[str] = []
        self.instances = [rule(ctx) for rule in rules]
        self.plan = _dispatch_plan(tuple(rules))
        self.walks = walks
        self.kept = kept
        visit, leave = self.plan
        owners: list[object] = [ctx, *self.instances]
        kinds: list[type[Rule] | None] = [None, *rules]

        def bind(table: _Table) -> dict[type, list[tuple[type[Rule] | None, Callable]]]:
            return {t: [(kinds[i], getattr(owners[i], m)) for i, m in entries] for t, entries in table.items()}

        self.on_enter = bind(visit)
        self.on_leave = bind(leave)

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
            walks, kept = self.walks, self.kept
            for statement in module.body:
                ctx.statement = statement
                if walks is None:
                    self._walk_from(statement)
                else:
                    if kept is not None:
                        ctx.node_facts = kept.setdefault(statement, {})
                    self._walk_flat(self._flat(statement))
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

    def _flat(self, statement: cst.CSTNode) -> list[tuple[cst.CSTNode, bool, int]]:
        """The statement's walk as :meth:`_walk_from` makes it, as a list kept for the next
        edit (see :data:`Walks`): each node that has handlers, on entry (with how many
        entries to skip when its children are pruned) and on exit. A class's is made of
        its block's statements' walks, each kept too: an edit of one method walks that one
        again, not the class."""
        assert self.walks is not None
        kept = self.walks.get(statement)
        if kept is not None and kept[0] is self.plan:
            return kept[1]
        visit, leave = self.plan
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
                flat.extend(self._flat(stack.pop()))  # type: ignore[arg-type]
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
        self.walks[statement] = (self.plan, flat)
        return flat

    def _walk_flat(self, flat: list[tuple[cst.CSTNode, bool, int]]) -> None:
        on_enter, on_leave, handle = self.on_enter, self.on_leave, self._handle
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


@dataclass
class ParsedFile:
    """A file's text parsed and summarised: what the rules run on."""

    path: str
    source: str
    module: cst.Module
    summary: ModuleSummary
    error: str | None = None  # the summariser failed (the file is still checked, with an empty summary)
    # An earlier text's positions, whose statements this tree may share (see reparse).
    earlier: Positions | None = field(default=None, repr=False)
    python: tuple[int, int] | None = None  # the oldest Python the project admitted when parsed
    # What each class and function statement added to the summary, for the next edit's (kept
    # only for a file parsed to be edited).
    statements: StatementSummaries | None = field(default=None, repr=False)
    walks: Walks | None = field(default=None, repr=False)  # likewise, the rules' walks of its statements
    node_facts: NodeFacts | None = field(default=None, repr=False)  # and the node facts computed in them
    noqa_scans: dict[str, SegmentTokens] | None = field(default=None, repr=False)  # and its `# noqa` comments' tokens
    placements: Placements | None = field(default=None, repr=False)  # and where its reports were (see resolve)
    view: IndexView | None = field(default=None, repr=False)  # and its view of the index (see check_parsed)
    fingerprint: str | None = None  # the summary's, when computed with the parse (an edit's)
    # The tree was made from CPython's (see parse_from_ast): where its nodes are.
    ast_positions: AstPositions | None = field(default=None, repr=False)

    @property
    def from_ast(self) -> bool:
        return self.ast_positions is not None

    @cached_property
    def positions(self) -> Positions | AstPositions:
        """Where the nodes are; computed when first asked."""
        if self.ast_positions is not None:
            return self.ast_positions
        positions = Positions(self.module, self.source, self.earlier)
        self.earlier = None
        return positions


def parse_file(
    path: str,
    source: str,
    *,
    name: str,
    root: str = "",
    is_package: bool = False,
    display: str | None = None,
    summary: ModuleSummary | None = None,
    python: tuple[int, int] | None = None,
    previous: ParsedFile | None = None,
    edited: bool = False,
) -> ParsedFile:
    """Parse ``source`` (raising ParseFailure, a PF000 naming ``display``) and summarise
    it as module ``name``, unless its ``summary`` is known and current.

    ``previous``: the same file's last parse; an edit of it re-parses only the top-level
    statements it touched (the tree is the one a full parse gives, or a full parse is made)
    and summarises again only the classes and functions it touched. ``edited``: keep what
    the next edit needs for that (an editor's buffer)."""
    earlier = reuse = None
    # An edit of the text last parsed under the same Python floor (which decides what
    # CPython's verdict on it was: see ``parse``).
    if previous is not None and previous.python == python:
        old, earlier = previous, previous.positions

        def reuse(text: str, accept: Accept | None) -> Splice | None:
            return reparse(old.module, old.source, old.positions, text, accept)

    module = parse(display or path, source, python=python, reuse=reuse)
    if earlier is not None and not _shares_statements(module, previous.module):
        earlier = None  # parsed afresh: no spans to reuse
    error = None
    statements: StatementSummaries | None = {} if edited else None
    if summary is None:
        where = {"name": name, "path": path, "root": root, "is_package": is_package}
        try:
            summary = summarize(
                module, source=source, earlier=previous.statements if previous is not None else None,
                statements=statements, **where,
            )
        except Exception as exc:  # a summariser bug must not lose the rest of the project
            error = f"cannot summarise {display or path}: {type(exc).__name__}: {exc}"
            summary, statements = summarize(cst.Module(body=()), **where), None
    else:
        statements = None  # not summarised here: nothing to give the next edit
    walks: Walks | None = None
    node_facts: NodeFacts | None = None
    noqa_scans: dict[str, SegmentTokens] | None = None
    placements: Placements | None = None
    view: IndexView | None = None
    if edited:
        walks, node_facts, placements = _kept(module, previous)
        noqa_scans = previous.noqa_scans if previous is not None and previous.noqa_scans is not None else {}
        view = previous.view if previous is not None else None
    fingerprint = fingerprint_of(summary, statements) if statements else None
    return ParsedFile(
        path, source, module, summary, error, earlier=earlier, python=python, statements=statements, walks=walks,
        node_facts=node_facts, noqa_scans=noqa_scans, placements=placements, view=view, fingerprint=fingerprint,
    )


def parse_from_ast(
    path: str,
    source: str,
    *,
    name: str,
    root: str = "",
    is_package: bool = False,
    display: str | None = None,
    summary: ModuleSummary | None = None,
    python: tuple[int, int] | None = None,
) -> ParsedFile | None:
    """``source`` parsed by CPython and made into libcst's node classes (see
    :mod:`pitfalls.core.ast_tree`), for a run that checks many files: a third of a libcst
    parse. None when libcst must parse it (CPython refuses it, it is too deep, or it has
    syntax the conversion does not build). A check of this tree places its reports from
    ast when their rules read no formatting; the others it names (``FileOutcome.again``),
    for a check of libcst's tree (:func:`parse_file`)."""
    tree = parse_tree(source)
    where = display or path
    if tree is None or python_refuses(where, tree) is not None or too_deep(where, source) is not None:
        return None
    allow_engine_recursion()
    try:
        if summary is None:
            summary = summarize_ast(tree, source, name=name, path=path, root=root, is_package=is_package)
        module, positions = module_from_ast(tree, source)
    except Exception:  # Unconvertible, a recursion limit, or a bug: libcst's parse decides
        return None
    return ParsedFile(path, source, module, summary, python=python, ast_positions=positions)


def _kept(module: cst.Module, previous: ParsedFile | None) -> tuple[Walks, NodeFacts, Placements]:
    """What ``previous`` keeps by statement (the rules' walks, the node facts, the reports'
    places; by top-level statement, and by statement of a top-level class's block) for the
    statements ``module`` kept: all but those an edit replaced."""
    if previous is None:
        return {}, {}, {}
    dropped = _replaced(module, previous.module)

    def carried(earlier: dict[cst.CSTNode, Any] | None) -> dict[cst.CSTNode, Any]:
        table = dict(earlier) if earlier else {}
        for stmt in dropped:
            table.pop(stmt, None)
        return table

    return carried(previous.walks), carried(previous.node_facts), carried(previous.placements)


def _replaced(module: cst.Module, old: cst.Module) -> list[cst.CSTNode]:
    """The statements of ``old`` (top-level, and in the blocks of top-level classes and of
    the classes nested in them: the rules' walks are kept for those) that ``module`` does
    not have. An edit re-parses a run of statements in place (see ``reparse``): the others
    are the same objects, before and after that run."""
    new_body, old_body = module.body, old.body
    first = 0
    limit = min(len(new_body), len(old_body))
    while first < limit and new_body[first] is old_body[first]:
        first += 1
    last = 0
    while last < limit - first and new_body[-1 - last] is old_body[-1 - last]:
        last += 1
    gone = old_body[first:len(old_body) - last]
    came = set(_in_classes(new_body[first:len(new_body) - last]))
    return [*gone, *(stmt for stmt in _in_classes(gone) if stmt not in came)]


def _in_classes(statements: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """The statements of the classes among ``statements``, and of the classes in those."""
    stack = [stmt for stmt in statements if type(stmt) is cst.ClassDef]
    while stack:
        block = stack.pop().body  # type: ignore[attr-defined]
        if type(block) is cst.IndentedBlock:
            yield from block.body
            stack += [inner for inner in block.body if type(inner) is cst.ClassDef]


def _shares_statements(module: cst.Module, other: cst.Module) -> bool:
    """Whether ``module`` was spliced from ``other`` (a splice keeps the first or the last
    statement, or the first of a class's block: an edit that touched both is parsed whole)."""
    return bool(module.body and other.body) and (
        module.body[0] is other.body[0] or module.body[-1] is other.body[-1]
        or (len(module.body) == len(other.body) == 1 and spliced_in_class(other.body[0], module.body[0]))
    )


def check_parsed(
    parsed: ParsedFile,
    index: ProjectIndex,
    rules: list[type[Rule]],
    *,
    settings: object = None,
    schemas: Schemas | None = None,
    display: str | None = None,
    only: frozenset[str] | None = None,
) -> FileOutcome:
    """Run ``rules`` on a parsed file against ``index``; diagnostics name ``display``
    (default: the file's path). What the rules read of the index is in ``read``.
    ``only``: the rules to run of ``rules``, the others found nothing (``FileOutcome.again``)."""
    path = display or parsed.path
    view = parsed.view
    if view is not None and view.serves(index, parsed.summary.root, parsed.summary.path):
        view.again()
    else:
        view = IndexView(index, parsed.summary.root, parsed.summary.path)
        if parsed.walks is not None:  # an editor's buffer: the next keystroke's, while the index stays
            parsed.view = view
    schemas = schemas or Schemas()
    rules = [rule for rule in rules if rule.schema_required is None or getattr(schemas, rule.schema_required) is not None]
    ctx = RuleContext(
        path=path, source=parsed.source, module=parsed.module, summary=parsed.summary, index=view,
        settings=settings, schemas=schemas,
    )
    running = rules if only is None else [rule for rule in rules if rule.code in only]
    runner = _Runner(ctx, running, parsed.walks, parsed.node_facts)
    try:
        return _outcome(parsed, path, rules, runner, view)
    finally:
        runner.close()


def _outcome(parsed: ParsedFile, path: str, rules: list[type[Rule]], runner: _Runner, view: IndexView) -> FileOutcome:
    """Run the rules, then the ``# noqa`` rules; the diagnostics and what they read."""
    ctx = runner.ctx
    runner.run()
    comments = NoqaComments(parsed.source, lambda: parsed.positions.statement_lines(), parsed.noqa_scans)
    again = _again(ctx, runner) if parsed.from_ast else None
    if again:
        return FileOutcome([], view.read, again=again)
    try:
        positions = parsed.positions if ctx.reports else None
        diagnostics, silenced = resolve_reports(positions, parsed.source, path, ctx.reports, comments, parsed.placements)
    except NotPlaced:  # (on a tree made from ast only)
        return FileOutcome([], view.read, again=frozenset({r.rule.code for r in ctx.reports}))
    # Then the rules about the `# noqa` comments themselves (PF001), as Ruff does: they need
    # to know what every other rule found. A rule that crashed did not run to the end.
    ran = {rule.code for rule in rules} - runner.broken
    for rule in rules:
        try:
            found = rule.check_noqa(path, comments, silenced, ran)
        except Exception as exc:
            runner.errors.append(f"{rule.code} failed on {path}: {type(exc).__name__}: {exc}")
            continue
        diagnostics.extend(d for d in found if not comments.silences(d.start.line, d.code))
    if parsed.noqa_scans is not None:  # an editor's buffer: the next keystroke's text takes them
        parsed.noqa_scans = comments.tokenized
    # A report of a rule that crashed later in the file is still sound; keep it.
    return FileOutcome(diagnostics, view.read, runner.errors)


def _again(ctx: RuleContext, runner: _Runner) -> frozenset[str]:
    """On a tree made from ast: the rules to run again on libcst's, none when every report
    is final (its rule reads no formatting, nor code as written). Those that reported, and
    those that failed (on formatting the tree lacks, say)."""
    reported = {r.rule.code for r in ctx.reports}
    if runner.broken or any(not r.rule.exact_on_ast_tree for r in ctx.reports) or not reported.isdisjoint(ctx.code_read):
        return frozenset(reported | runner.broken)
    return frozenset()


def check_text(
    path: str,
    source: str,
    rules: list[type[Rule]],
    *,
    name: str,
    root: str = "",
    is_package: bool = False,
    index: ProjectIndex | None = None,
    settings: object = None,
    schemas: Schemas | None = None,
) -> FileOutcome:
    """Check ``source`` as the text of ``path`` (module ``name``) against ``index``, which
    is left as it is (default: an index of this file alone)."""
    try:
        parsed = parse_file(path, source, name=name, root=root, is_package=is_package)
    except ParseFailure as exc:
        return FileOutcome([exc.diagnostic])
    if index is None:
        index = ProjectIndex([parsed.summary])
    return check_parsed(parsed, index, rules, settings=settings, schemas=schemas)
