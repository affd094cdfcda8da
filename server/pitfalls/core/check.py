"""One file: run every enabled rule in one traversal, resolve reports to diagnostics.

Pure functions from source text (plus the project index) to diagnostics: no I/O, no
terminal, no LSP. Positions are computed only for files that have reports. ``check_text``
is the one way to check a text: the CLI's workers, the editor's buffers, fix rounds and
the rule examples all come through it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import libcst as cst

from pitfalls.core.context import RuleContext
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.dependencies import Dependencies
from pitfalls.core.index import IndexView, ProjectIndex
from pitfalls.core.kept_reports import KeptReports, redefined, summary_change_within
from pitfalls.core.noqa import NoqaComments, SegmentTokens
from pitfalls.core.positions import Positions, spliced_in_class
from pitfalls.core.reparse import Accept, Splice, reparse
from pitfalls.core.resolve import Placements, resolve_reports
from pitfalls.core.rule import Rule
from pitfalls.core.runner import NodeFacts, Reuse, Runner, Walks
from pitfalls.core.schema import Schemas
from pitfalls.core.ast_tree import AstPositions, NotPlaced, module_from_ast
from pitfalls.core.source import ParseFailure, allow_engine_recursion, parse, python_refuses, too_deep
from pitfalls.core.summary import ModuleSummary, StatementSummaries, fingerprint_of, summarize
from pitfalls.core.summary_ast import parse_tree, summarize_ast


@dataclass
class FileOutcome:
    diagnostics: list[Diagnostic]
    read: Dependencies = field(default_factory=Dependencies)  # what the rules read of the project
    errors: list[str] = field(default_factory=list)  # internal rule failures, for logs
    # On a tree made from CPython's (see parse_from_ast), the rules whose reports are not
    # final: run again on libcst's tree, which decides what they find, and where.
    again: frozenset[str] = frozenset()


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
    # and its top-level functions' function-local reports (see core.kept_reports), what they
    # were made under (the index and its other modules' changes, rules, settings, schemas),
    # and the names of the functions and classes the edit from the last text replaced (None:
    # it replaced other statements too, or changed more of the summary than their entries)
    kept_reports: KeptReports | None = field(default=None, repr=False)
    reports_under: tuple[object, ...] | None = field(default=None, repr=False)
    redefined: frozenset[str] | None = None
    touched_summary: bool = False  # and whether that edit changed the summary (in their entries only)
    imported_elsewhere: bool | None = None  # and whether another module imports this one (see _reuse)
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
    kept_reports: KeptReports | None = None
    changed: frozenset[str] | None = None
    if edited:
        walks, node_facts, placements, kept_reports, changed = _kept(module, previous)
        noqa_scans = previous.noqa_scans if previous is not None and previous.noqa_scans is not None else {}
        view = previous.view if previous is not None else None
    fingerprint = fingerprint_of(summary, statements) if statements else None
    touched = False  # the edit changed the module's summary (see core.kept_reports)
    if changed is not None and previous is not None and summary is not previous.summary:
        touched = fingerprint is None or fingerprint != previous.fingerprint
        if touched and not summary_change_within(previous.summary, summary, changed):
            changed = None
    return ParsedFile(
        path, source, module, summary, error, earlier=earlier, python=python, statements=statements, walks=walks,
        node_facts=node_facts, noqa_scans=noqa_scans, placements=placements, view=view, fingerprint=fingerprint,
        kept_reports=kept_reports, reports_under=previous.reports_under if edited and previous is not None else None,
        imported_elsewhere=previous.imported_elsewhere if edited and previous is not None else None,
        redefined=changed, touched_summary=touched,
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


def _kept(
    module: cst.Module, previous: ParsedFile | None
) -> tuple[Walks, NodeFacts, Placements, KeptReports, frozenset[str] | None]:
    """What ``previous`` keeps by statement (the rules' walks, the node facts, the reports'
    places, the functions' kept reports; by top-level statement, and by statement of a
    top-level class's block) for the statements ``module`` kept: all but those an edit
    replaced. And the names of the top-level functions and classes it replaced (see
    ``redefined``)."""
    if previous is None:
        return {}, {}, {}, {}, None
    gone, came = _top_level_change(module, previous.module)
    dropped = _replaced(gone, came)

    def carried(earlier: dict[cst.CSTNode, Any] | None) -> dict[cst.CSTNode, Any]:
        table = dict(earlier) if earlier else {}
        for stmt in dropped:
            table.pop(stmt, None)
        return table

    return (
        carried(previous.walks), carried(previous.node_facts), carried(previous.placements),
        carried(previous.kept_reports), redefined(gone, came),
    )


def _top_level_change(module: cst.Module, old: cst.Module) -> tuple[Sequence[cst.CSTNode], Sequence[cst.CSTNode]]:
    """The run of ``old``'s top-level statements that ``module`` does not have, and the run
    that replaced it. An edit re-parses a run of statements in place (see ``reparse``): the
    others are the same objects, before and after that run."""
    new_body, old_body = module.body, old.body
    first = 0
    limit = min(len(new_body), len(old_body))
    while first < limit and new_body[first] is old_body[first]:
        first += 1
    last = 0
    while last < limit - first and new_body[-1 - last] is old_body[-1 - last]:
        last += 1
    return old_body[first:len(old_body) - last], new_body[first:len(new_body) - last]


def _replaced(gone: Sequence[cst.CSTNode], came: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    """The statements an edit replaced: the top-level ones ``gone`` (replaced by ``came``),
    and those of the classes among them, and of the classes nested in those (the rules'
    walks are kept for those), that ``came`` does not have."""
    kept = set(_in_classes(came))
    return [*gone, *(stmt for stmt in _in_classes(gone) if stmt not in kept)]


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
    own = parsed.summary.path
    under = (index, index.generation_of_others(own), path, settings, schemas.directus, schemas.database, *running)
    reuse = _reuse(parsed, under, index) if only is None else None
    runner = Runner(ctx, running, parsed.walks, parsed.node_facts, reuse)
    try:
        return _outcome(parsed, path, rules, runner, view)
    finally:
        runner.close()


def _reuse(parsed: ParsedFile, under: tuple[object, ...], index: ProjectIndex) -> Reuse | None:
    """A buffer's kept function reports for this check, ``under`` its index and the other
    modules' changes, its path, settings, schemas and rules: those of the last keystroke
    when it was made under the same ones (equal objects), none otherwise (see
    core.kept_reports). After an edit that changed the module's summary, none either when
    other modules import from it."""
    table = parsed.kept_reports
    if table is None:
        return None
    last = parsed.reports_under
    same = last is not None and len(last) == len(under) and all(a is b or a == b for a, b in zip(last, under))
    parsed.reports_under = under
    if not same:
        table.clear()
        parsed.imported_elsewhere = None
    redefined = parsed.redefined if same else None
    if redefined is not None and parsed.touched_summary:
        if parsed.imported_elsewhere is None:  # (the other modules are as they were while it holds)
            parsed.imported_elsewhere = index.imported_elsewhere(parsed.summary.path)
        if parsed.imported_elsewhere:
            redefined = None
    return Reuse(table, redefined)


def _outcome(parsed: ParsedFile, path: str, rules: list[type[Rule]], runner: Runner, view: IndexView) -> FileOutcome:
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
    # In the order of the text: a buffer's kept reports come after its other rules' in a function.
    diagnostics.sort(key=Diagnostic.sort_key)
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


def _again(ctx: RuleContext, runner: Runner) -> frozenset[str]:
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
