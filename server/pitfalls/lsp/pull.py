"""Pull diagnostics (LSP 3.17): ``textDocument/diagnostic`` and ``workspace/diagnostic``.

Every result the server publishes is kept in :class:`Reports` with a result id. A client
whose capabilities say it pulls (``textDocument.diagnostic``) is offered both requests and
sent no ``publishDiagnostics`` at all, so nothing shows twice; the others are never offered
them and are pushed to as before. Both requests answer from the same results and ids: ``unchanged`` while the
client's ``previousResultId`` still holds. An open document's pull waits for the check of
its newest text. When an open document's result changes with no pull waiting for it (a
file it depends on edited or changed on disk, a re-scan), a client that supports it is
sent ``workspace/diagnostic/refresh`` (:meth:`PitfallsServer.refresh_pulls`); closed files'
results come with its next workspace pull.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from pitfalls.lsp.session import PitfallsServer

IDENTIFIER = "pitfalls"
OPTIONS = types.DiagnosticOptions(identifier=IDENTIFIER, inter_file_dependencies=True, workspace_diagnostics=True)


@dataclass
class Report:
    uri: str  # as last published
    result_id: str
    diagnostics: list[types.Diagnostic]
    version: int | None


class Reports:
    """The last result of each file (by path; an untitled buffer by URI) and its result id."""

    def __init__(self) -> None:
        self.prefix = uuid.uuid4().hex[:8]  # an id from another server process never holds
        self.count = 0
        self.by_key: dict[str, Report] = {}

    def record(self, key: str, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> bool:
        """Keep a result; True when it differs from the last one (it gets a new id)."""
        old = self.by_key.get(key)
        if old is not None and old.diagnostics == diagnostics:
            old.uri, old.version = uri, version
            return False
        self.count += 1
        self.by_key[key] = Report(uri, f"{self.prefix}.{self.count}", list(diagnostics), version)
        return True


async def document_report(ls: PitfallsServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
    """An open document's result once its newest text is checked (a closed file's: the
    last one, its re-check comes with the next workspace pull)."""
    uri = params.text_document.uri
    key = ls.report_key(uri)
    ls.pulling[key] = ls.pulling.get(key, 0) + 1
    try:
        while (state := ls.docs.get(uri)) is not None and state.task is not None and not state.task.done():
            await asyncio.wait({state.task})  # not cancelled with the request
    finally:
        ls.pulling[key] -= 1
        if not ls.pulling[key]:
            del ls.pulling[key]
    report = ls.reports.by_key.get(key)
    if report is None:
        return types.RelatedFullDocumentDiagnosticReport(items=[])
    if params.previous_result_id == report.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=report.result_id)
    return types.RelatedFullDocumentDiagnosticReport(items=report.diagnostics, result_id=report.result_id)


async def workspace_report(ls: PitfallsServer, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
    """Every file's result once the folders are scanned: the files with findings, and those
    the client holds a result for (``unchanged`` where its id still holds, or cleared)."""
    for project in list(ls.projects.values()):
        await project.ready.wait()
    previous: dict[str, str] = {}
    for held in params.previous_result_ids:
        key = ls.report_key(held.uri)
        previous[key] = held.value
        if key not in ls.reports.by_key:
            ls.reports.record(key, held.uri, [], None)  # nothing known of it now: cleared
    items: list[types.WorkspaceDocumentDiagnosticReport] = []
    for key, report in ls.reports.by_key.items():
        if previous.get(key) == report.result_id:
            items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(uri=report.uri, result_id=report.result_id, version=report.version))
        elif report.diagnostics or key in previous:
            items.append(types.WorkspaceFullDocumentDiagnosticReport(
                uri=report.uri, items=report.diagnostics, version=report.version, result_id=report.result_id
            ))
    return types.WorkspaceDiagnosticReport(items=items)
