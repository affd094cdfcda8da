"""Pull diagnostics (LSP 3.17) through the real server over stdio: a client that says it
pulls gets its results from ``textDocument/diagnostic`` and ``workspace/diagnostic`` (with
result ids) and never a ``publishDiagnostics``; one that does not is pushed to as before."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from lsprotocol import types
from test_server import APP, TIMEOUT, Session, capabilities, codes, session, write

pytestmark = pytest.mark.asyncio
T = TypeVar("T")

BASE = "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n"
LAYERS = {
    "pyproject.toml": "[tool.pitfalls]\n",
    "app/__init__.py": "",
    "app/base.py": BASE,
    "app/schemas.py": "from app.base import Base\n\n\nclass Article(Base):\n    title: str\n",
    "app/routes.py": "from app.schemas import Article\n\n\ndef show():\n    return Article(title='x').dict()\n",
}  # routes.py: PF401 on line 5 while Base, two imports away, is a pydantic model


def pulling(refresh: bool = True) -> types.ClientCapabilities:
    caps = capabilities()
    assert caps.text_document and caps.workspace
    caps.text_document.diagnostic = types.DiagnosticClientCapabilities(dynamic_registration=True)
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=refresh)
    return caps


async def pull(s: Session, uri: str, previous: str | None = None) -> types.DocumentDiagnosticReport:
    return await s.client.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=previous)
    )


async def pull_workspace(s: Session, previous: dict[str, str] | None = None) -> dict[str, types.WorkspaceDocumentDiagnosticReport]:
    report = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(
        previous_result_ids=[types.PreviousResultId(uri=uri, value=value) for uri, value in (previous or {}).items()]
    ))
    return {item.uri: item for item in report.items}


def refreshes(s: Session) -> int:
    return s.client.diagnostic_refresh_count


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Pull until ``probe`` has what it waits for, as a client that polls does."""
    deadline = time.monotonic() + TIMEOUT
    while (value := await probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return value


async def test_a_document_pull_is_unchanged_until_an_edit(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path, caps=pulling()) as s:
        assert s.initialized is not None and s.initialized.capabilities.diagnostic_provider is not None
        uri = s.open("app.py")
        first = await pull(s, uri)  # answered once the opened text is checked
        assert first.kind == "full" and first.result_id
        assert codes(first.items) == [("PF103", 10), ("PF401", 14)]
        assert {d.data["version"] for d in first.items} == {1}  # what code actions need

        again = await pull(s, uri, first.result_id)
        assert again.kind == "unchanged" and again.result_id == first.result_id

        # Pulled right after the edit: the edited text's result, not the last one.
        s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)), new_text="# top\n")])
        edited = await pull(s, uri, first.result_id)
        assert edited.kind == "full" and edited.result_id != first.result_id
        assert codes(edited.items) == [("PF103", 11), ("PF401", 15)]
        assert (await pull(s, uri, edited.result_id)).kind == "unchanged"
        assert (await pull(s, uri, "an id from another server")).kind == "full"

        # Nothing pushed to a pulling client, not even for the closed files of the scan:
        # a diagnostic shown twice would be one pushed and one pulled.
        assert s.published == []


async def test_a_workspace_pull_covers_the_projects_files(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\n",
        "pkg/__init__.py": "",
        "pkg/a.py": APP,
        "pkg/b.py": "import requests\nrequests.get('u')\n",
        "pkg/clean.py": "x = 1\n",
    })
    async with session(tmp_path, caps=pulling()) as s:
        a, b, clean = s.uri("pkg/a.py"), s.uri("pkg/b.py"), s.uri("pkg/clean.py")
        opened = s.open("pkg/b.py", text="import requests\n\nrequests.get('u')\n")  # the buffer, not the disk
        await pull(s, opened)
        items = await pull_workspace(s)
        assert set(items) == {a, b}  # clean.py: nothing to show
        assert items[a].kind == "full" and items[a].version is None
        assert codes(items[a].items) == [("PF103", 10), ("PF401", 14)]
        assert items[b].kind == "full" and items[b].version == 1 and codes(items[b].items) == [("PF103", 3)]

        held = {uri: item.result_id for uri, item in items.items()}
        again = await pull_workspace(s, held)
        assert {uri: item.kind for uri, item in again.items()} == {a: "unchanged", b: "unchanged"}

        # A closed file fixed on disk: cleared in the next workspace pull; one that gains findings appears.
        (tmp_path / "pkg/a.py").write_text("x = 2\n", encoding="utf-8")
        (tmp_path / "pkg/clean.py").write_text("import requests\nrequests.post('u')\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=a, type=types.FileChangeType.Changed),
            types.FileEvent(uri=clean, type=types.FileChangeType.Changed),
        ]))

        async def rechecked() -> dict[str, types.WorkspaceDocumentDiagnosticReport] | None:
            items = await pull_workspace(s, held)
            return items if items[a].kind == "full" and clean in items else None

        items = await eventually(rechecked, "the closed files re-checked")
        assert list(items[a].items) == [] and items[a].result_id != held[a]
        assert codes(items[clean].items) == [("PF103", 2)]
        assert items[b].kind == "unchanged"
        assert s.published == []


async def test_a_watched_change_to_a_dependency_refreshes_the_open_files(tmp_path: Path) -> None:
    write(tmp_path, LAYERS)
    async with session(tmp_path, caps=pulling()) as s:
        routes = s.open("app/routes.py")
        shown = await pull(s, routes)
        assert codes(shown.items) == [("PF401", 5)]
        before = refreshes(s)

        # Not a pydantic model any more, on disk (a branch switch): routes.py, open, follows.
        (tmp_path / "app/base.py").write_text("class Base:\n    pass\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri("app/base.py"), type=types.FileChangeType.Changed),
        ]))
        await s.until(lambda: refreshes(s) > before, "workspace/diagnostic/refresh")
        now = await pull(s, routes, shown.result_id)
        assert now.kind == "full" and list(now.items) == []
        assert (await pull(s, routes, now.result_id)).kind == "unchanged"
        assert s.published == []


async def test_no_refresh_for_a_client_that_cannot_take_one(tmp_path: Path) -> None:
    write(tmp_path, LAYERS)
    async with session(tmp_path, caps=pulling(refresh=False)) as s:
        routes = s.open("app/routes.py")
        shown = await pull(s, routes)
        (tmp_path / "app/base.py").write_text("class Base:\n    pass\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri("app/base.py"), type=types.FileChangeType.Changed),
        ]))

        async def changed() -> types.DocumentDiagnosticReport | None:
            report = await pull(s, routes, shown.result_id)
            return report if report.kind == "full" else None

        # It pulls again on its own (a keystroke, a tab shown): the new result is there.
        assert list((await eventually(changed, "the new result")).items) == []
        assert refreshes(s) == 0
        assert s.published == []


async def test_a_push_only_client_is_pushed_to_as_before(tmp_path: Path) -> None:
    write(tmp_path, LAYERS)
    async with session(tmp_path) as s:
        routes = s.open("app/routes.py")
        found = await s.diagnostics(routes, version=1)
        assert codes(found) == [("PF401", 5)]
        # Not offered pull (it would pull as well, and show each finding twice).
        assert s.initialized is not None and s.initialized.capabilities.diagnostic_provider is None

        (tmp_path / "app/base.py").write_text("class Base:\n    pass\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri("app/base.py"), type=types.FileChangeType.Changed),
        ]))
        assert await s.diagnostics(routes, where=lambda d: d == []) == []
        assert refreshes(s) == 0
