"""Reports to diagnostics: where each report's node and its fix's edits are, less what a
``# noqa`` silences.

In an editor's buffer most reports of a keystroke are the last one's again: the same
node of a top-level statement the edit left alone, with the same fix. Where they are
follows from the statement's text, the same objects, and the line it starts on, so
:data:`Placements` keeps them per statement, and the next keystroke moves them by the
lines its edit added or removed above instead of placing each one again.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import libcst as cst

from pitfalls.core.ast_tree import AstPositions
from pitfalls.core.context import NodeEdit, PendingFix, Report
from pitfalls.core.diagnostics import Diagnostic, Edit, Fix, Position
from pitfalls.core.noqa import NoqaComments
from pitfalls.core.positions import Positions
from pitfalls.core.source import NEWLINE, line_starts

# What decides where a report is and what its fix edits: its node, and its fix's message,
# applicability and edits (each edit's nodes, content and kind).
_Key = tuple[cst.CSTNode, tuple[object, ...] | None]
_Placed = tuple[Position, Position, Fix | None]
# A file's top-level statements -> the line each started on when its reports were placed,
# and those places by key. Kept, like the rules' walks, for the statements an edit kept.
Placements = dict[cst.CSTNode, tuple[int, dict[_Key, _Placed]]]


def resolve_reports(
    positions: Positions | AstPositions | None,
    source: str,
    path: str,
    reports: list[Report],
    comments: NoqaComments,
    placements: Placements | None = None,
) -> tuple[list[Diagnostic], dict[int, set[str]]]:
    """The reports as diagnostics, less those a ``# noqa`` silences; and for each line
    with a ``# noqa``, the codes it silenced (what PF001 asks). ``positions``: where the
    nodes are (needed only when there are reports); ``placements``: an editor's, read and
    filled (see :data:`Placements`)."""
    out: list[Diagnostic] = []
    silenced: dict[int, set[str]] = {}
    if not reports:
        return out, silenced
    assert positions is not None
    place = _Placer(positions, source, placements)
    seen: set[tuple[str, int, int, str]] = set()
    for report in reports:
        start, end, fix = place(report)
        code = report.rule.code
        if comments.exempts(code):
            continue
        at = comments.silenced_at(start.line, code)
        if at is not None:
            silenced.setdefault(at, set()).add(code)
            continue
        key = (code, start.line, start.column, report.message)
        if key in seen:
            continue
        seen.add(key)
        out.append(
            Diagnostic(
                code=code,
                message=report.message,
                path=path,
                start=start,
                end=end,
                severity=report.severity,
                fix=fix,
                data=report.data,
            )
        )
    return out, silenced


class _Placer:
    """Where a report and its fix are: placed from the tree, or moved from the last
    keystroke's place when its statement kept it (see :data:`Placements`)."""

    def __init__(self, positions: Positions | AstPositions, source: str, placements: Placements | None) -> None:
        self.positions = positions
        self.source = source
        # Only a libcst tree's positions have statements whose text starts a line (and not
        # with form feeds, whose offsets into code are not offsets into the text).
        self.placements = placements if type(positions) is Positions and positions.offsets_are_text else None
        self._moved: dict[cst.CSTNode, dict[_Key, _Placed]] = {}  # this text's, by statement

    def __call__(self, report: Report) -> _Placed:
        stmt = report.statement
        key = _key(report) if self.placements is not None and stmt is not None else None
        if key is None:
            return self._place(report)
        assert stmt is not None
        known = self._moved.get(stmt)
        if known is None:
            known = self._moved[stmt] = self._current(stmt)
        placed = known.get(key)
        if placed is None:
            placed = self._place(report)
            if self._within(stmt, report):
                known[key] = placed
        return placed

    def _current(self, stmt: cst.CSTNode) -> dict[_Key, _Placed]:
        """The places kept for ``stmt``, moved to the line it starts on now."""
        assert self.placements is not None and type(self.positions) is Positions
        line = self.positions.first_line(stmt)
        was, known = self.placements.get(stmt, (line, {}))
        if was != line:
            known = {key: _moved(placed, line - was) for key, placed in known.items()}
        self.placements[stmt] = (line, known)
        return known

    def _within(self, stmt: cst.CSTNode, report: Report) -> bool:
        """Whether every node that placed the report is in ``stmt``'s text (else another
        statement's place decided it, which the next edit may move differently)."""
        assert type(self.positions) is Positions
        nodes = [report.node]
        if report.fix is not None:
            for edit in report.fix.edits:
                nodes += [n for n in (edit.node, edit.through, edit.to) if isinstance(n, cst.CSTNode)]
        return all(self.positions.holds(stmt, node) for node in nodes)

    def _place(self, report: Report) -> _Placed:
        positions = self.positions
        start, end = positions.range(report.node, report.statement)
        fix = None
        if report.fix is not None:
            near = report.statement or positions.statement_of(report.node)  # where the edits probably are too
            made = [_edit(positions, e, near, self.source) for e in report.fix.edits]
            if None not in made:  # (an edit made from the text found none to make)
                edits = tuple(sorted(made, key=lambda e: (e.start, e.end)))  # type: ignore[arg-type, return-value]
                fix = Fix(report.fix.message, edits, report.fix.applicability)
        return start, end, fix


def _key(report: Report) -> _Key | None:
    """What decides the report's place and fix; None when an edit is given by position
    (not a node of the statement: nothing to keep)."""
    fix: PendingFix | None = report.fix
    if fix is None:
        return report.node, None
    edits = []
    for e in fix.edits:
        if not isinstance(e.node, cst.CSTNode) or isinstance(e.through, Position):
            return None
        edits.append((e.node, e.content, e.mode, e.through, e.to, e.from_end, e.to_end, e.rewrite))
    return report.node, (fix.message, fix.applicability, *edits)


def _moved(placed: _Placed, lines: int) -> _Placed:
    start, end, fix = placed

    def move(p: Position) -> Position:
        return Position(p.line + lines, p.column)

    if fix is not None:
        fix = Fix(fix.message, tuple(Edit(move(e.start), move(e.end), e.content) for e in fix.edits), fix.applicability)
    return move(start), move(end), fix


@lru_cache(maxsize=4096)
def _rewritten(rewrite: Callable[[str], tuple[int, int, str] | None], text: str) -> tuple[int, int, str] | None:
    """``rewrite(text)``, kept: in an editor, the nodes an edit left alone ask again."""
    return rewrite(text)


def _after(start: Position, text: str) -> Position:
    """Where ``text``, written from ``start``, ends."""
    lines = NEWLINE.split(text)
    if len(lines) == 1:
        return Position(start.line, start.column + len(text))
    return Position(start.line + len(lines) - 1, len(lines[-1]))


def _edit(positions: Positions | AstPositions, edit: NodeEdit, statement: cst.CSTNode | None, source: str) -> Edit | None:
    if isinstance(edit.node, Position):
        return Edit(edit.node, edit.through if isinstance(edit.through, Position) else edit.node, edit.content)
    start, end = positions.range(edit.node, statement)
    if edit.rewrite is not None:
        starts = line_starts(source)
        text = source[starts[start.line - 1] + start.column:starts[end.line - 1] + end.column]
        made = _rewritten(edit.rewrite, text)
        if made is None:
            return None
        return Edit(_after(start, text[:made[0]]), _after(start, text[:made[1]]), made[2])
    if edit.mode == "span" and edit.to is not None:
        to_start, to_end = positions.range(edit.to, statement)
        return Edit(end if edit.from_end else start, to_end if edit.to_end else to_start, edit.content)
    if edit.mode == "before":
        return Edit(start, start, edit.content)
    if edit.mode == "after":
        return Edit(end, end, edit.content)
    if isinstance(edit.through, cst.CSTNode):
        end = positions.range(edit.through, statement)[1]
    return Edit(start, end, edit.content)
