"""Scans: every file of a workspace folder checked from disk, at start-up and when the
folder's configuration or schemas change, with work-done progress.

A project scanned for the first time builds its index first, from the summaries alone
(the CPython-``ast`` ones, through the cache), then checks every file; the documents open
in it are checked as soon as its index is built, before any file of a scan is. Several
projects scanned together build all their indexes first. While a scan checks files, the
open documents' checks run between them (``PitfallsServer.editor_work``): an edit does not
wait for the scan's end; and the client hears how many files are done.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from pitfalls.lsp.convert import Checked
from pitfalls.lsp.project import Project, index_project, scan_project
from pitfalls.project.run import Progress

if TYPE_CHECKING:
    from pitfalls.lsp.session import PitfallsServer


_REPORT_SECONDS = 0.25  # a client's progress need not move more often
# Files of one project changed on disk at once (a branch switched, a formatter run) from
# which a scan (its worker processes, the cache) is sooner than checking them one by one.
RESCAN_AT = 50


@dataclass
class _Scan:
    """One project's scan, between its steps."""

    project: Project
    token: str | None  # its work-done progress
    files: list[Path] | None = None  # None: it failed before checking them
    summary: str = "failed"


async def scan(ls: PitfallsServer, *projects: Project) -> None:
    """Check each project's files from disk; publish closed files' diagnostics; then check
    the open documents against the fresh index."""
    scans = [_Scan(project, await _progress(ls, project)) for project in projects]
    try:
        for one in scans:
            await _index(ls, one)
        for one in scans:
            await _check_every_file(ls, one)
    finally:
        for one in scans:
            one.project.release()
            if one.token:
                ls.work_done_progress.end(one.token, types.WorkDoneProgressEnd(message=one.summary))


async def _progress(ls: PitfallsServer, project: Project) -> str | None:
    """A work-done progress for ``project``'s scan, begun; None when the client takes none."""
    if not ls.supports_progress:
        return None
    token = f"pitfalls-scan-{uuid.uuid4()}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception:
        return None
    name = project.root.name or str(project.root)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="pitfalls", message=f"Finding files in {name}", percentage=0))
    return token


def _ticks(ls: PitfallsServer, one: _Scan, low: int, high: int) -> Progress:
    """The engine's progress callback for a step of the scan, called in the engine thread
    between files: the editor's waiting work runs; the client hears how far the step is (at
    most every :data:`_REPORT_SECONDS`), its percentage going from ``low`` to ``high``."""
    loop = asyncio.get_running_loop()
    last = -_REPORT_SECONDS

    def tick(step: str, done: int, total: int) -> None:
        nonlocal last
        ls.editor_work()
        now = time.monotonic()
        if one.token and total and now - last >= _REPORT_SECONDS:
            last = now
            message, percentage = f"{step} {done}/{total} files", low + (high - low) * done // total
            loop.call_soon_threadsafe(_report, ls, one, message, percentage)  # (before the step's end)

    return tick


def _report(ls: PitfallsServer, one: _Scan, message: str, percentage: int) -> None:
    if one.token:
        ls.work_done_progress.report(one.token, types.WorkDoneProgressReport(message=message, percentage=percentage))


async def _index(ls: PitfallsServer, one: _Scan) -> None:
    """The scan's files; and the project's index, unless it has one."""
    project = one.project
    try:
        one.files = await ls.run_engine(project.workspace.files)
        if not project.indexed.is_set():
            _report(ls, one, f"Indexing {len(one.files)} files", 5)
            await ls.run_engine(index_project, project, one.files, ls.buffers(), _ticks(ls, one, 5, 20))
            project.indexed.set()
            # The checks that waited for the index submit their work to the engine thread
            # (first come, first served) now, before the scan's long step.
            await asyncio.sleep(0)
    except Exception as exc:
        one.files = None
        ls.engine_failed(exc, f"scanning {project.root}")
        project.release()


async def _check_every_file(ls: PitfallsServer, one: _Scan) -> None:
    project, files = one.project, one.files
    results: dict[str, Checked] = {}
    affected: set[str] = set()
    if files is not None:
        try:
            _report(ls, one, f"Checking {len(files)} files", 20)
            results, affected = await ls.run_engine(scan_project, project, files, ls.buffers(), ls.encoding, _ticks(ls, one, 20, 100))
            ls.log_rule_errors(project.workspace.errors)
            findings = sum(len(r.lsp) for r in results.values())
            one.summary = f"{len(files)} files, {findings} finding{'s' if findings != 1 else ''}"
        except Exception as exc:
            ls.engine_failed(exc, f"scanning {project.root}")
    project.release()
    if ls.projects.get(str(project.root)) is not project:
        return  # re-configured meanwhile: the new project's scan publishes
    for path, result in results.items():
        if path not in ls.open_paths and path not in affected:
            ls.publish_closed(path, result.lsp)
    for path in list(ls.closed_published):
        if project.contains(path) and path not in results and ls.project_for(path) is project:
            ls.publish_closed(path, [])
    ls.log(f"pitfalls: {project.root}: {one.summary}")
    for path, uri in list(ls.open_paths.items()):
        state = ls.docs.get(uri)
        # A check already waiting for this scan runs against the fresh index anyway.
        if state is not None and (state.task is None or state.task.done()) and ls.project_for(path) is project:
            ls.schedule(uri)
    ls.enqueue_closed(p for p in affected if p not in ls.open_paths)
    if project.live is None and project.has_schema_sources:
        project.live = ls.spawn(ls.keep_live(project))


def disk_changed(ls: PitfallsServer, paths: list[str]) -> None:
    """Source files changed on disk: check them again one by one, or scan their project
    again when :data:`RESCAN_AT` or more of its files changed (one scan at a time, and one
    more when more change during it). dispatch, 400 files rewritten: 5.6 s until every
    result is in, where one by one took 15 s."""
    by_project: dict[str, list[str]] = {}
    for path in paths:
        project = ls.project_for(path)
        if project is not None:
            by_project.setdefault(str(project.root), []).append(path)
    for root, changed in by_project.items():
        if len(changed) < RESCAN_AT:
            ls.enqueue_closed(changed)
            continue
        ls.rescan_wanted.add(root)
        if root not in ls.rescans or ls.rescans[root].done():
            ls.rescans[root] = ls.spawn(_rescan(ls, root))


async def disk_answers_changed(ls: PitfallsServer, skip: set[str]) -> None:
    """Source files came or went: check again the files whose results asked the disk what
    changed (PF303 looks for modules the check does not cover, say generated ones)."""
    for root, project in list(ls.projects.items()):
        if root not in skip:
            ls.affect(project, await ls.run_engine(project.workspace.disk_dependents))


async def _rescan(ls: PitfallsServer, root: str) -> None:
    while root in ls.rescan_wanted and not ls.exiting:
        ls.rescan_wanted.discard(root)
        project = ls.projects.get(root)
        if project is None:
            return
        await project.ready.wait()
        if ls.projects.get(root) is project:  # (not re-configured meanwhile: that scans anyway)
            await scan(ls, project)
