"""The language server end to end: pytest-lsp's client drives `python -m pitfalls server`
over stdio, as an editor would. Nothing here calls the server's code in-process."""

from __future__ import annotations

import asyncio
import contextlib
import platform
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, client_capabilities
from pytest_lsp.client import (
    DEFAULT_CLIENT_FEATURES,
    LanguageClient,
    register_lsp_features,
)

from pitfalls import __version__

pytestmark = pytest.mark.asyncio

SERVER = [sys.executable, "-m", "pitfalls", "server"]
TIMEOUT = 20.0

APP = '''\
import requests
from pydantic import BaseModel


class Item(BaseModel):
    name: str


def fetch(url):
    return requests.get(url)


def show(item: Item):
    return item.dict()
'''  # PF103 (unsafe fix) on line 10, PF401 (safe fix) on line 14


# ---------------------------------------------------------------------------------------
# The client side: text edits applied as an editor applies them (independent of the server)


def _lines(text: str) -> list[str]:
    """Lines with their endings, split where LSP splits them."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z", text) or [""]


def offset_of(text: str, position: types.Position) -> int:
    """Offset of an LSP position (UTF-16 columns), clamped like the spec says."""
    lines = _lines(text)
    if position.line >= len(lines):
        return len(text)
    before = sum(len(line) for line in lines[: position.line])
    line = lines[position.line].rstrip("\r\n")
    units = 0
    for i, ch in enumerate(line):
        if units >= position.character:
            return before + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return before + len(line)


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply edits that are all relative to ``text`` (a WorkspaceEdit's)."""
    spans = sorted(((offset_of(text, e.range.start), offset_of(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def edits_of(edit: types.WorkspaceEdit, uri: str) -> tuple[list[types.TextEdit], int | None]:
    if edit.document_changes:
        for change in edit.document_changes:
            assert isinstance(change, types.TextDocumentEdit)
            if change.text_document.uri == uri:
                return list(change.edits), change.text_document.version
        return [], None
    return list((edit.changes or {}).get(uri, [])), None


def position_of(text: str, needle: str, delta: int = 0) -> types.Position:
    """LSP position (UTF-16) of ``needle`` in ``text``."""
    index = text.index(needle) + delta
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return types.Position(line=line, character=len(text[start:index].encode("utf-16-le")) // 2)


# ---------------------------------------------------------------------------------------
# A session: the real server process and a recording client


def _client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published = []  # type: ignore[attr-defined]
    client.registrations = []  # type: ignore[attr-defined]
    features = dict(DEFAULT_CLIENT_FEATURES)

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.published.append(params)  # type: ignore[attr-defined]
        client.diagnostics[params.uri] = params.diagnostics

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    features[types.CLIENT_REGISTER_CAPABILITY] = register
    register_lsp_features(client, features)
    return client


def capabilities(encodings: list[str] | None = None) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document and caps.text_document.publish_diagnostics
    caps.text_document.publish_diagnostics.version_support = True
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    return caps


class Session:
    def __init__(self, client: LanguageClient, roots: list[Path]) -> None:
        self.client = client
        self.roots = roots
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.initialized: types.InitializeResult | None = None  # the server's answer to `initialize`

    @property
    def root(self) -> Path:
        return self.roots[0]

    def uri(self, rel: str, root: Path | None = None) -> str:
        return from_fs_path(str((root or self.root) / rel))

    @property
    def published(self) -> list[types.PublishDiagnosticsParams]:
        return self.client.published  # type: ignore[attr-defined]

    def open(self, rel: str, text: str | None = None, root: Path | None = None, uri: str | None = None) -> str:
        uri = uri or self.uri(rel, root)
        if text is None:
            text = ((root or self.root) / rel).read_text(encoding="utf-8")
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )
        return uri

    def replace(self, uri: str, text: str) -> int:
        """Send the whole new text as one incremental change (the range of the old text)."""
        old = self.texts[uri]
        lines = _lines(old)
        end = types.Position(line=len(lines), character=0) if old.endswith(("\n", "\r")) else types.Position(
            line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2
        )
        return self.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=end), new_text=text)])

    def change(self, uri: str, edits: list[types.TextEdit]) -> int:
        """Apply a WorkspaceEdit's edits to the buffer and tell the server, as incremental
        changes (last in the document first, so each range still holds)."""
        text = self.texts[uri]
        ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
        self.texts[uri] = apply_edits(text, edits)
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in ordered],
            )
        )
        return self.versions[uri]

    def save(self, uri: str) -> None:
        path = Path(uri.removeprefix("file://"))
        path.write_text(self.texts[uri], encoding="utf-8")
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    def latest(self, uri: str) -> types.PublishDiagnosticsParams | None:
        for params in reversed(self.published):
            if params.uri == uri:
                return params
        return None

    async def until(self, condition: Callable[[], Any], what: str = "condition", timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; published: {[(p.uri.rsplit('/', 1)[-1], p.version, codes(p.diagnostics)) for p in self.published[-8:]]}")
            await asyncio.sleep(0.01)

    async def diagnostics(self, uri: str, version: int | None = None, where: Callable[[list[types.Diagnostic]], bool] | None = None) -> list[types.Diagnostic]:
        """The first publication for ``uri`` (at ``version``, when given) that satisfies ``where``."""
        seen = len([p for p in self.published if p.uri == uri]) if where is None and version is None else 0

        def found() -> list[types.Diagnostic] | None:
            matching = [p for p in self.published if p.uri == uri][seen:]
            for params in reversed(matching):
                if version is not None and params.version != version:
                    continue
                if where is not None and not where(list(params.diagnostics)):
                    continue
                return list(params.diagnostics) or [None]  # type: ignore[list-item]
            return None

        result = await self.until(found, f"diagnostics for {uri} version {version}")
        return [d for d in result if d is not None]

    async def actions(self, uri: str, diagnostics: list[types.Diagnostic], only: list[str] | None = None, at: types.Range | None = None) -> list[types.CodeAction]:
        where = at or (diagnostics[0].range if diagnostics else types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)))
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=where,
                context=types.CodeActionContext(diagnostics=diagnostics, only=only),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def hover(self, uri: str, position: types.Position) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
        )


def codes(diagnostics: Any) -> list[tuple[str, int]]:
    """(code, 1-based line) of each diagnostic."""
    return sorted((str(d.code), d.range.start.line + 1) for d in diagnostics)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")


@contextlib.asynccontextmanager
async def session(
    roots: Path | list[Path],
    *,
    command: list[str] | None = None,
    initialization_options: Any = None,
    configuration: dict[str, Any] | None = None,
    caps: types.ClientCapabilities | None = None,
    process_id: int | None = None,
    scanned: bool = True,
) -> AsyncIterator[Session]:
    """Start the server on workspace folder(s) and initialize; wait for the start-up scan."""
    roots = roots if isinstance(roots, list) else [roots]
    config = ClientServerConfig(server_command=command or SERVER, client_factory=_client)
    client = await config.start()
    if configuration is not None:
        client.set_configuration(configuration)
    this = Session(client, roots)
    try:
        this.initialized = await client.initialize_session(
            types.InitializeParams(
                capabilities=caps or capabilities(),
                root_uri=from_fs_path(str(roots[0])),
                workspace_folders=[types.WorkspaceFolder(uri=from_fs_path(str(r)), name=r.name) for r in roots],
                initialization_options=initialization_options,
                process_id=process_id,
            )
        )
        if scanned:
            await this.until(lambda: sum(scan_ended(client)) >= len(roots), "the start-up scan")
        yield this
        assert client._server.returncode is None, "the server died"  # type: ignore[union-attr]
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
        assert client._server.returncode == 0  # type: ignore[union-attr]
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


def scan_ended(client: LanguageClient) -> list[int]:
    return [1 for reports in client.progress_reports.values() if any(isinstance(r, types.WorkDoneProgressEnd) for r in reports)]


# ---------------------------------------------------------------------------------------
# Diagnostics


async def test_open_change_save_with_a_syntax_error_and_its_repair(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        found = await s.diagnostics(uri, version=1)
        assert codes(found) == [("PF103", 10), ("PF401", 14)]
        timeout = next(d for d in found if d.code == "PF103")
        assert timeout.source == "pitfalls"
        assert timeout.severity == types.DiagnosticSeverity.Warning
        assert timeout.code_description is None  # the docs are in the hover, offline
        assert timeout.range == types.Range(start=types.Position(line=9, character=11), end=types.Position(line=9, character=28))
        assert timeout.data["version"] == 1 and timeout.data["fix"]["applicability"] == "unsafe"

        # Half-typed: a syntax error mid-edit is reported where Python reports it...
        broken = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=12, character=0), end=types.Position(line=12, character=0)), new_text="def half(:\n")])
        assert codes(await s.diagnostics(uri, version=broken)) == [("PF000", 13)]
        # ...and its repair brings the findings back (now one line lower).
        repaired = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=12, character=9), end=types.Position(line=12, character=10)), new_text="): pass")])
        assert s.texts[uri].splitlines()[12] == "def half(): pass"
        assert codes(await s.diagnostics(uri, version=repaired)) == [("PF103", 10), ("PF401", 15)]

        count = len(s.published)
        s.save(uri)
        await s.until(lambda: len(s.published) > count, "a publication after save")
        after_save = s.latest(uri)
        assert after_save is not None and after_save.version == repaired
        assert codes(after_save.diagnostics) == [("PF103", 10), ("PF401", 15)]


async def test_only_the_newest_version_is_ever_published(tmp_path: Path) -> None:
    # Enough code below the edits that one check outlasts sending all forty edits, so
    # coalescing must happen whatever the machine's speed.
    filler = "".join(f"\n\ndef filler_{i}(x):\n    return [x, {i}, str(x) + 'y']\n" for i in range(800))
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP + filler})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        await s.diagnostics(uri, version=1)
        start = len(s.published)
        texts = {1: s.texts[uri]}
        for i in range(40):  # type quickly: each edit adds a call without timeout
            version = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=10, character=0), end=types.Position(line=10, character=0)), new_text=f"requests.get('u{i}')\n")])
            texts[version] = s.texts[uri]
        final = max(texts)
        await s.diagnostics(uri, version=final)
        mine = [p for p in s.published[start:] if p.uri == uri]
        versions = [p.version for p in mine]
        assert versions == sorted(versions), "published out of order"
        assert len(mine) < 40, "superseded versions were checked and published anyway"
        for params in mine:  # every publication is exactly right for the version it names:
            # fetch()'s call plus one per edit
            assert [c for c, _ in codes(params.diagnostics)].count("PF103") == params.version
        assert codes(mine[-1].diagnostics).count(("PF401", 14 + final - 1)) == 1


async def test_utf16_and_utf8_columns(tmp_path: Path) -> None:
    source = "import requests\nx = '😀é'; requests.get(x)\n"
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "emoji.py": source})
    async with session(tmp_path) as s:
        uri = s.open("emoji.py")
        (found,) = await s.diagnostics(uri, version=1)
        # 😀 is two UTF-16 code units, é one: `requests` starts at code point 10, unit 11.
        assert found.range.start == types.Position(line=1, character=11)
        hover = await s.hover(uri, types.Position(line=1, character=12))
        assert hover is not None and "PF103" in hover.contents.value  # type: ignore[union-attr]
    async with session(tmp_path, caps=capabilities(["utf-8"])) as s:
        uri = s.open("emoji.py")
        (found,) = await s.diagnostics(uri, version=1)
        assert found.range.start == types.Position(line=1, character=5 + 4 + 2 + 3)  # x = ' + 😀 + é + '; 


async def test_untitled_buffers_are_checked_alone(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n"})
    async with session(tmp_path) as s:
        uri = s.open("", text="import requests\nrequests.get('u')\n", uri="untitled:Untitled-1")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF103", 2)]


# ---------------------------------------------------------------------------------------
# Code actions


async def test_quickfix_applied_makes_the_diagnostic_disappear(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        found = await s.diagnostics(uri, version=1)
        dump = next(d for d in found if d.code == "PF401")
        actions = await s.actions(uri, [dump])
        fix = next(a for a in actions if a.title == "Rename to `model_dump`")
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred is True
        assert list(fix.diagnostics or []) == [dump]
        edits, version = edits_of(fix.edit, uri)  # type: ignore[arg-type]
        assert version == 1
        v2 = s.change(uri, edits)
        assert "return item.model_dump()" in s.texts[uri]
        assert codes(await s.diagnostics(uri, version=v2)) == [("PF103", 10)]

        # An unsafe fix is offered, not preferred.
        timeout = (await s.diagnostics(uri, version=v2))[0]
        actions = await s.actions(uri, [timeout])
        unsafe = next(a for a in actions if a.title == "Add `timeout=10`")
        assert unsafe.is_preferred is False
        v3 = s.change(uri, edits_of(unsafe.edit, uri)[0])  # type: ignore[arg-type]
        assert "requests.get(url, timeout=10)" in s.texts[uri]
        assert await s.diagnostics(uri, version=v3) == []


async def test_actions_for_an_outdated_diagnostic_are_not_offered(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        found = await s.diagnostics(uri, version=1)
        v2 = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)), new_text="\n\n")])
        await s.diagnostics(uri, version=v2)
        assert await s.actions(uri, found) == []  # its edits would land two lines off


async def test_fix_all_applies_every_safe_fix_and_no_unsafe_one(tmp_path: Path) -> None:
    source = APP + "\n\ndef dump(item: Item):\n    return item.json(), item.copy()\n"
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": source})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        found = await s.diagnostics(uri, version=1)
        assert codes(found) == [("PF103", 10), ("PF401", 14), ("PF401", 18), ("PF401", 18)]
        actions = await s.actions(uri, [], only=[types.CodeActionKind.SourceFixAll])
        (fix_all,) = actions
        assert fix_all.kind == "source.fixAll.pitfalls"
        edits, version = edits_of(fix_all.edit, uri)  # type: ignore[arg-type]
        assert version == 1
        v2 = s.change(uri, edits)
        assert "item.model_dump()" in s.texts[uri] and "item.model_dump_json(), item.model_copy()" in s.texts[uri]
        assert "timeout" not in s.texts[uri]
        assert codes(await s.diagnostics(uri, version=v2)) == [("PF103", 10)]
        assert await s.actions(uri, [], only=["source.fixAll.pitfalls"]) == []  # nothing left to do


async def test_noqa_action_silences_the_line(tmp_path: Path) -> None:
    source = APP.replace("requests.get(url)", "requests.get(url)  # noqa: E501")
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": source})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        current = await s.diagnostics(uri, version=1)
        for code in ("PF103", "PF401"):
            diagnostic = next(d for d in current if d.code == code)
            actions = await s.actions(uri, [diagnostic])
            noqa = next(a for a in actions if a.title == f"Disable {code} for this line")
            version = s.change(uri, edits_of(noqa.edit, uri)[0])  # type: ignore[arg-type]
            current = await s.diagnostics(uri, version=version)
            assert code not in [d.code for d in current]
        assert "requests.get(url)  # noqa: E501, PF103" in s.texts[uri]
        assert "return item.dict()  # noqa: PF401" in s.texts[uri]


async def test_noqa_action_in_a_multiline_string_goes_where_the_string_ends(tmp_path: Path) -> None:
    source = 'import requests\nrequests.post("u", data="""\nabc""")\n'
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": source})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        (found,) = await s.diagnostics(uri, version=1)
        assert found.range.start.line == 1
        noqa = next(a for a in await s.actions(uri, [found]) if a.title == "Disable PF103 for this line")
        version = s.change(uri, edits_of(noqa.edit, uri)[0])  # type: ignore[arg-type]
        assert s.texts[uri] == 'import requests\nrequests.post("u", data="""\nabc""")  # noqa: PF103\n'
        assert await s.diagnostics(uri, version=version) == []


# ---------------------------------------------------------------------------------------
# Hover


async def test_hover_on_a_noqa_code_and_on_a_diagnosed_range(tmp_path: Path) -> None:
    source = APP.replace("def show(", "x = 1  # noqa: PF101, pf402\n\n\ndef show(")
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": source})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        await s.diagnostics(uri, version=1)
        hover = await s.hover(uri, position_of(source, "PF101", 2))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert hover.contents.value.startswith("# PF101 manual-uuid-id")
        assert hover.range == types.Range(start=position_of(source, "PF101"), end=position_of(source, "PF101", 5))
        lower = await s.hover(uri, position_of(source, "pf402", 1))
        assert lower is not None and "# PF402" in lower.contents.value  # type: ignore[union-attr]

        on_finding = await s.hover(uri, position_of(source, "requests.get", 3))
        assert on_finding is not None and "# PF103 http-call-without-timeout" in on_finding.contents.value  # type: ignore[union-attr]
        assert await s.hover(uri, position_of(source, "class Item")) is None


# ---------------------------------------------------------------------------------------
# Settings


async def test_settings_from_initialization_options_and_configuration_changes(tmp_path: Path) -> None:
    pyproject = "[tool.pitfalls]\nignore = ['PF401']\nper-file-ignores = { 'other.py' = ['PF103'] }\n"
    write(tmp_path, {"pyproject.toml": pyproject, "app.py": APP, "other.py": APP})
    options = {"select": ["PF1", "PF4"], "trace": {"server": "verbose"}}  # `trace` is the extension's
    async with session(tmp_path, initialization_options=options, configuration={"": {}}) as s:
        # The editor's `select` resets the file's `ignore`, as on the command line; the
        # file's per-file-ignores still hold.
        other = s.uri("other.py")
        assert codes(s.latest(other).diagnostics) == [("PF401", 14)]  # type: ignore[union-attr]
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF103", 10), ("PF401", 14)]
        assert any("ignoring the editor setting 'trace'" in m.message for m in s.client.log_messages)

        # workspace/configuration, over initializationOptions; didChangeConfiguration re-checks
        # open and closed files.
        s.client.set_configuration({"ignore": ["PF4"]}, section="pitfalls")
        count = len(s.published)
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        assert codes(await s.diagnostics(uri, where=lambda d: codes(d) == [("PF103", 10)])) == [("PF103", 10)]
        await s.until(lambda: any(p.uri == other and not p.diagnostics for p in s.published[count:]), "the closed file cleared")

        # Bad settings: a warning, and the previous settings stay.
        s.client.set_configuration({"ignore": ["XX1"]}, section="pitfalls")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await s.until(lambda: any("XX1" in m.message for m in s.client.messages), "a warning")
        warning = next(m for m in s.client.messages if "XX1" in m.message)
        assert warning.type == types.MessageType.Warning and "editor settings" in warning.message
        v2 = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)), new_text="# edited\n")])
        assert codes(await s.diagnostics(uri, version=v2)) == [("PF103", 11)]


async def test_run_on_save_only_checks_when_saved(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path, initialization_options={"settings": {"run": "onSave"}}) as s:
        uri = s.open("app.py")
        await s.diagnostics(uri, version=1)
        v2 = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=13, character=4), end=types.Position(line=13, character=22)), new_text="return 1")])
        await asyncio.sleep(0.5)
        assert s.latest(uri).version == 1  # type: ignore[union-attr]
        s.save(uri)
        assert codes(await s.diagnostics(uri, version=v2)) == [("PF103", 10)]


async def test_multi_root_folders_each_use_their_own_config(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    write(two, {"pyproject.toml": "[tool.pitfalls]\nignore = ['PF103']\n", "app.py": APP})
    async with session([one, two]) as s:
        first, second = s.uri("app.py", one), s.uri("app.py", two)
        await s.until(lambda: s.latest(first) and s.latest(second), "both folders scanned")
        assert codes(s.latest(first).diagnostics) == [("PF103", 10), ("PF401", 14)]  # type: ignore[union-attr]
        assert codes(s.latest(second).diagnostics) == [("PF401", 14)]  # type: ignore[union-attr]
        s.open("app.py", root=two)
        assert codes(await s.diagnostics(second, version=1)) == [("PF401", 14)]


# ---------------------------------------------------------------------------------------
# The project: start-up scan, closed files, cross-file rules, the file watcher


async def test_startup_scan_reports_progress_and_closed_files(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "pkg/__init__.py": "", "pkg/a.py": APP, "pkg/clean.py": "x = 1\n"})
    async with session(tmp_path) as s:
        (reports,) = s.client.progress_reports.values()
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert reports[-1].message == "3 files, 2 findings"
        closed = s.latest(s.uri("pkg/a.py"))
        assert closed is not None and closed.version is None and codes(closed.diagnostics) == [("PF103", 10), ("PF401", 14)]
        assert s.latest(s.uri("pkg/clean.py")) is None  # nothing to show, nothing sent
        (watch,) = s.client.registrations  # type: ignore[attr-defined]
        assert watch.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES


async def test_a_file_open_at_start_up_is_checked_against_the_index_before_the_closed_files(tmp_path: Path) -> None:
    models = """\
        class Partner:
            def __init__(self, name: str) -> None:
                self.name = name
        """
    app = """\
        from models import Partner


        def make():
            return Partner("a", "b")
        """
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "models.py": models, "app.py": app, "other.py": APP})
    async with session(tmp_path, scanned=False) as s:
        # Opened before the scan starts (it waits for the client's configuration, asked
        # after this), as an editor restores its tabs.
        uri = s.open("app.py")
        await s.until(lambda: sum(scan_ended(s.client)), "the start-up scan")
        order = [p.uri for p in s.published]
        first = next(p for p in s.published if p.uri == uri)
        # Checked once the index is built (the finding needs models.py's summary)...
        assert first.version == 1 and codes(first.diagnostics) == [("PF209", 5)]
        # ...before the scan checked the closed files, whose results come after.
        assert order.index(uri) < order.index(s.uri("other.py"))
        (reports,) = s.client.progress_reports.values()
        steps = [r for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert [r.message for r in steps if "/" not in r.message] == ["Indexing 3 files", "Checking 3 files"]
        counted = [r.message for r in steps if "/" in r.message]  # how far each step is, as files are done
        assert counted and all(re.fullmatch(r"(Reading|Checking) \d+/3 files", m) for m in counted)
        assert [r.percentage for r in steps] == sorted(r.percentage for r in steps)  # never back
        assert codes(s.latest(uri).diagnostics) == [("PF209", 5)]  # type: ignore[union-attr]


async def test_files_open_in_any_folder_are_checked_before_the_first_folders_files(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, {"pyproject.toml": "[tool.pitfalls]\n", "closed.py": APP})
    write(two, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session([one, two], scanned=False) as s:
        uri = s.open("app.py", root=two)  # before the scans start, as in the test above
        await s.until(lambda: sum(scan_ended(s.client)) == 2, "both start-up scans")
        order = [p.uri for p in s.published]
        # The second folder's index is built before the first folder's files are checked.
        assert order.index(uri) < order.index(s.uri("closed.py", one))
        assert codes(s.latest(uri).diagnostics) == [("PF103", 10), ("PF401", 14)]  # type: ignore[union-attr]


async def test_a_scan_big_enough_for_worker_processes(tmp_path: Path) -> None:
    # Over the engine's threshold (400 kB) the scan forks worker processes from the
    # server's engine thread while another thread blocks reading stdin.
    filler = "".join(f"def helper_{i}(a, b):\n    return [a * b + {i} for _ in range(3)]\n\n\n" for i in range(80))
    files = {f"pkg/m{i:03d}.py": APP + "\n\n" + filler for i in range(100)}
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "pkg/__init__.py": "", **files})
    assert sum(len(t) for t in files.values()) > 400_000
    async with session(tmp_path) as s:
        (reports,) = s.client.progress_reports.values()
        assert reports[-1].message == "101 files, 200 findings"  # type: ignore[union-attr]
        assert codes(s.latest(s.uri("pkg/m042.py")).diagnostics) == [("PF103", 10), ("PF401", 14)]  # type: ignore[union-attr]


async def test_an_edit_and_fix_all_during_the_start_up_scan_are_answered_before_the_scan_ends(tmp_path: Path) -> None:
    # Big enough for worker processes and a check of a second or more: the edit's check
    # runs between the workers' reports, not after every file is checked.
    filler = "".join(f"def helper_{i}(a, b):\n    return [a * b + {i} for _ in range(3)]\n\n\n" for i in range(80))
    files = {f"pkg/m{i:03d}.py": APP + "\n\n" + filler for i in range(300)}
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "pkg/__init__.py": "", "app.py": APP, **files})
    async with session(tmp_path, scanned=False) as s:
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF103", 10), ("PF401", 14)]
        # Fix-all is asked for while the scan runs, and answered between its files too.
        (fix_all,) = await s.actions(uri, [], only=["source.fixAll.pitfalls"])
        assert not sum(scan_ended(s.client)) and s.latest(s.uri("pkg/m000.py")) is None
        edits, version = edits_of(fix_all.edit, uri)  # type: ignore[arg-type]
        assert version == 1 and [e.new_text for e in edits if "model_dump" in e.new_text]
        edited = s.change(uri, [types.TextEdit(range=types.Range(start=types.Position(line=12, character=0), end=types.Position(line=14, character=0)), new_text="")])
        await s.until(lambda: sum(scan_ended(s.client)), "the start-up scan", timeout=120)
        assert codes(await s.diagnostics(uri, version=edited)) == [("PF103", 10)]
        order = [(p.uri, p.version) for p in s.published]
        assert order.index((uri, edited)) < order.index((s.uri("pkg/m000.py"), None))


async def test_folders_added_and_removed(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write(one, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": "x = 1\n"})
    write(two, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(one) as s:
        second = s.uri("app.py", two)
        s.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(uri=from_fs_path(str(two)), name="two")], removed=[]),
        ))
        assert codes(await s.diagnostics(second, where=bool)) == [("PF103", 10), ("PF401", 14)]
        s.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[], removed=[types.WorkspaceFolder(uri=from_fs_path(str(two)), name="two")]),
        ))
        assert await s.diagnostics(second, where=lambda d: d == []) == []


async def test_an_unsaved_edit_changes_a_closed_files_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\n",
        "app/__init__.py": "",
        "app/base.py": "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n",
        "app/schemas.py": "from app.base import Base\n\n\nclass Article(Base):\n    title: str\n",
        "app/routes.py": "from app.schemas import Article\n\n\ndef show():\n    return Article(title='x').dict()\n",
    })
    async with session(tmp_path) as s:
        routes = s.uri("app/routes.py")
        assert codes(s.latest(routes).diagnostics) == [("PF401", 5)]  # type: ignore[union-attr]
        base = s.open("app/base.py")
        await s.diagnostics(base, version=1)
        # Not a pydantic model any more, in the buffer only: routes.py (closed, two imports away) follows.
        s.replace(base, "class Base:\n    pass\n")
        assert await s.diagnostics(routes, where=lambda d: d == []) == []
        s.replace(base, "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n")
        assert codes(await s.diagnostics(routes, where=lambda d: d != [])) == [("PF401", 5)]


async def test_circular_import_appears_and_disappears_as_one_file_is_edited(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\n",
        "app/__init__.py": "",
        "app/a.py": "X = 1\n",
        "app/b.py": "from app.a import X\n\nY = X\n",
    })
    async with session(tmp_path) as s:
        a, b = s.uri("app/a.py"), s.uri("app/b.py")
        assert s.latest(b) is None
        s.open("app/a.py")
        assert await s.diagnostics(a, version=1) == []
        v2 = s.replace(a, "from app.b import Y\n\nX = 1\n")
        assert codes(await s.diagnostics(a, version=v2)) == [("PF301", 1)]
        assert codes(await s.diagnostics(b, where=lambda d: d != [])) == [("PF301", 1)]  # closed, re-checked
        v3 = s.replace(a, "X = 1\n")
        assert await s.diagnostics(a, version=v3) == []
        assert await s.diagnostics(b, where=lambda d: d == []) == []


async def test_closed_files_an_edit_affects_wait_for_a_pause_in_typing(tmp_path: Path) -> None:
    """While someone types, the closed files the edits affect are not checked (each
    keystroke's check would wait behind theirs); they are once the document has not
    changed for a moment."""
    from pitfalls.lsp.session import TYPING_PAUSE_SECONDS

    write(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\n", "app/__init__.py": "", "app/a.py": "def make(a):\n    return a\n",
        "app/b.py": "from app.a import make\n\nmake(1)\n",
    })
    async with session(tmp_path) as s:
        a, b = s.uri("app/a.py"), s.uri("app/b.py")
        s.open("app/a.py")
        await s.diagnostics(a, version=1)
        sent = time.monotonic()
        version = s.replace(a, "def make(a, b):\n    return a\n")  # b's call now misses `b`
        await s.diagnostics(a, version=version)
        assert codes(await s.diagnostics(b, where=bool)) == [("PF209", 3)]
        assert time.monotonic() - sent >= TYPING_PAUSE_SECONDS


async def test_watched_files_keep_closed_files_in_step(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "one.py": "x = 1\n"})
    async with session(tmp_path) as s:
        one, two = s.uri("one.py"), s.uri("two.py")
        (tmp_path / "one.py").write_text(APP, encoding="utf-8")
        (tmp_path / "two.py").write_text("import requests\nrequests.get('u')\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=one, type=types.FileChangeType.Changed),
            types.FileEvent(uri=two, type=types.FileChangeType.Created),
        ]))
        assert codes(await s.diagnostics(one, where=bool)) == [("PF103", 10), ("PF401", 14)]
        assert codes(await s.diagnostics(two, where=bool)) == [("PF103", 2)]
        (tmp_path / "two.py").unlink()
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(uri=two, type=types.FileChangeType.Deleted)]))
        assert await s.diagnostics(two, where=lambda d: d == []) == []
        assert sum(scan_ended(s.client)) == 1  # checked one by one, no scan

        # pyproject.toml changes re-configure the folder.
        (tmp_path / "pyproject.toml").write_text("[tool.pitfalls]\nignore = ['PF4']\n", encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri("pyproject.toml"), type=types.FileChangeType.Changed),
        ]))
        assert codes(await s.diagnostics(one, where=lambda d: codes(d) == [("PF103", 10)])) == [("PF103", 10)]


async def test_a_module_generated_outside_the_check_settles_what_looked_for_it(tmp_path: Path) -> None:
    """PF303 looks on disk for a module the check does not cover (excluded, as generated
    code often is): when such a file comes or goes, the open and the closed files that
    looked for it are checked again."""
    importer = "from app.generated import VERSION\n\nprint(VERSION)\n"
    write(tmp_path, {
        "pyproject.toml": "[project]\nname = 'demo'\ndependencies = []\n\n[tool.pitfalls]\nextend-exclude = ['app/generated.py']\n",
        "app/__init__.py": "", "app/main.py": importer, "app/cli.py": importer,
    })
    async with session(tmp_path) as s:
        main, cli, generated = s.uri("app/main.py"), s.uri("app/cli.py"), s.uri("app/generated.py")
        s.open("app/main.py")
        assert codes(await s.diagnostics(main, where=bool)) == [("PF303", 1)]
        assert codes(await s.diagnostics(cli, where=bool)) == [("PF303", 1)]
        for change, expected in ((types.FileChangeType.Created, []), (types.FileChangeType.Deleted, [("PF303", 1)])):
            if expected:
                (tmp_path / "app" / "generated.py").unlink()
            else:
                (tmp_path / "app" / "generated.py").write_text("VERSION = '1'\n", encoding="utf-8")
            s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=generated, type=change),
            ]))
            for uri in (main, cli):
                assert codes(await s.diagnostics(uri, where=lambda d, e=expected: codes(d) == e)) == expected


async def test_many_files_changed_on_disk_at_once_are_scanned_again(tmp_path: Path) -> None:
    from pitfalls.lsp.scanning import RESCAN_AT

    names = [f"pkg/m{i:03d}.py" for i in range(RESCAN_AT)]
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "pkg/__init__.py": "", **{name: "x = 1\n" for name in names}})
    async with session(tmp_path) as s:
        for name in names:  # a branch switched: every module rewritten
            (tmp_path / name).write_text(APP, encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri(name), type=types.FileChangeType.Changed) for name in names
        ]))
        await s.until(lambda: sum(scan_ended(s.client)) == 2, "a second scan")
        for name in names:
            assert codes(s.latest(s.uri(name)).diagnostics) == [("PF103", 10), ("PF401", 14)]  # type: ignore[union-attr]


# A file a folder's settings are read from, its new text, and the finding it settles.
SETTINGS_FILES = {
    "dependency file": ("requirements.txt", "httpx\n", "httpx\nredis>=5\n", "worker.py", "import redis\n", ("PF303", 1)),
    "env file": (".env", "DEBUG=1\n", "DEBUG=1\nAPI_KEY=\n", "app.py", "import os\n\nKEY = os.environ['API_KEY']\n", ("PF701", 3)),
}


@pytest.mark.parametrize("kind", sorted(SETTINGS_FILES))
async def test_a_settings_file_change_rechecks_what_it_settles(tmp_path: Path, kind: str) -> None:
    """A new `requirements.txt` declares `redis`; a new `.env` defines `API_KEY`."""
    name, before, after, module, code, finding = SETTINGS_FILES[kind]
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", name: before, module: code})
    async with session(tmp_path) as s:
        uri = s.uri(module)
        assert codes(await s.diagnostics(uri, where=bool)) == [finding]
        (tmp_path / name).write_text(after, encoding="utf-8")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=s.uri(name), type=types.FileChangeType.Changed),
        ]))
        assert await s.diagnostics(uri, where=lambda d: d == []) == []


async def test_a_gitignore_change_takes_its_files_out_and_back(tmp_path: Path) -> None:
    """Git's ignore files decide what a folder's check covers (``respect-gitignore``): a
    file ignored now drops its findings; no longer ignored, they come back."""
    write(tmp_path, {
        ".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "", "pyproject.toml": "[tool.pitfalls]\n",
        "generated.py": "import requests\nrequests.get('u')\n",
    })
    async with session(tmp_path) as s:
        uri, ignore = s.uri("generated.py"), s.uri(".gitignore")
        assert codes(await s.diagnostics(uri, where=bool)) == [("PF103", 2)]
        for text, expected in (("generated.py\n", []), ("", [("PF103", 2)])):
            (tmp_path / ".gitignore").write_text(text, encoding="utf-8")
            s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=ignore, type=types.FileChangeType.Changed),
            ]))
            assert codes(await s.diagnostics(uri, where=lambda d, e=expected: codes(d) == e)) == expected


# ---------------------------------------------------------------------------------------
# Robustness


async def test_hostile_buffers_and_positions_never_crash_it(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n"})
    async with session(tmp_path) as s:
        uri = s.open("x.py", text="x = 1\n")
        await s.diagnostics(uri, version=1)
        hostile = [
            "x = " + "[" * 3000 + "]" * 3000 + "\n",  # libcst's parser would segfault
            "y = " + "not " * 30000 + "z\n",  # ditto
            "a = b" + ".c" * 5000 + "\n",  # libcst takes 20 s over this
            "".join(chr(c) for c in range(1, 0x3000)),  # binary-looking
            "x = 1\x00\ny = 2\n",
            "\ufeffdef f(:\n\tpass\n        pass\n",
            "import requests\nrequests.get(u)\n" + "x = 1\n" * 20000,  # big
            "import requests\rrequests.get(u)\r",  # old Mac line ends
            "s = 1\r\n\x0cimport requests\r\nrequests.get(u)\r\n",  # a form feed (libcst misplaces what follows)
            "s = '\u2028'\r\nimport requests\r\nrequests.get(u)\r\n",  # not a line break for Python
        ]
        for text in hostile:
            version = s.replace(uri, text)
            found = await s.diagnostics(uri, version=version)
            assert all(d.source == "pitfalls" for d in found)
        assert codes(found) == [("PF103", 3)]  # Python's lines: not at U+2028 or the form feed
        # Positions out of range, from every direction.
        far = types.Position(line=10**6, character=10**6)
        version = s.change(uri, [types.TextEdit(range=types.Range(start=far, end=far), new_text="\nimport requests\nrequests.get(u)\n")])
        assert s.texts[uri].endswith("requests.get(u)\n")
        assert ("PF103", len(_lines(s.texts[uri]))) in codes(await s.diagnostics(uri, version=version))
        assert await s.hover(uri, far) is None
        await s.actions(uri, [], at=types.Range(start=far, end=far))
        await s.actions(uri, [types.Diagnostic(range=types.Range(start=far, end=far), message="?", code="PF103", source="pitfalls", data={"hash": "x"})])
        await s.actions(uri, [types.Diagnostic(range=types.Range(start=far, end=far), message="?", code="PF103", source="pitfalls", data="junk")])


async def test_an_exception_in_one_rule_is_logged_and_the_others_still_report(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    broken = (
        "from pitfalls.rules import RULES_BY_CODE\n"
        "def boom(self, node):\n    raise RuntimeError('rule bug')\n"
        "rule = RULES_BY_CODE['PF103']\n"
        "for name in [n for n in dir(rule) if n.startswith('visit_')]:\n    setattr(rule, name, boom)\n"
        "from pitfalls.cli.main import main\nraise SystemExit(main(['server']))\n"
    )
    async with session(tmp_path, command=[sys.executable, "-c", broken]) as s:
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF401", 14)]
        await s.until(lambda: any("PF103 failed" in m.message and "rule bug" in m.message for m in s.client.log_messages), "the rule's failure logged")
        logged = next(m for m in s.client.log_messages if "PF103 failed" in m.message)
        assert logged.type == types.MessageType.Error


# ---------------------------------------------------------------------------------------
# Lifecycle


async def test_exit_without_shutdown_exits_with_1(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n"})
    config = ClientServerConfig(server_command=SERVER, client_factory=_client)
    client = await config.start()
    try:
        await client.initialize_session(types.InitializeParams(capabilities=capabilities(), root_uri=from_fs_path(str(tmp_path))))
        client.exit(None)
        assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 1  # type: ignore[union-attr]
    finally:
        await client.stop()


async def test_it_exits_when_its_parent_process_dies(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n"})
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    config = ClientServerConfig(server_command=SERVER, client_factory=_client)
    client = await config.start()
    try:
        await client.initialize_session(
            types.InitializeParams(capabilities=capabilities(), root_uri=from_fs_path(str(tmp_path)), process_id=parent.pid)
        )
        await asyncio.sleep(0.5)
        assert client._server.returncode is None  # type: ignore[union-attr]
        parent.wait()  # reaped: the pid is gone, while our pipe to the server stays open
        code = await asyncio.wait_for(client._server.wait(), TIMEOUT)  # type: ignore[union-attr]
        assert code == 1  # gone without shutdown
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def test_python_m_pitfalls_server_ends_when_stdin_closes(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pitfalls", "server", cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(proc.communicate(b""), TIMEOUT)
    assert proc.returncode == 1 and out == b""  # closed without shutdown/exit


@pytest.mark.parametrize(("level", "logs_start"), [("warning", False), ("info", True)])
async def test_log_level_says_which_python_and_sys_path_at_info(tmp_path: Path, level: str, logs_start: bool) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pitfalls", "server", "--log-level", level, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(b""), TIMEOUT)
    start = f"INFO pitfalls: pitfalls {__version__} on Python {platform.python_version()} ({sys.executable}), sys.path ["
    assert (start in err.decode()) is logs_start, err.decode()
    assert "pygls" not in err.decode()  # the libraries stay a step quieter


# ---------------------------------------------------------------------------------------
# Schema sources


DIRECTUS_MODEL = '''\
from pydantic import BaseModel


class Post(BaseModel):
    title: str
    references: list[str] = []
'''  # PF501 on line 6 once Post maps to `articles` (by the folder's `models` table)


def _snapshot(fields: list[str]) -> str:
    import json

    return json.dumps({
        "data": {
            "collections": [{"collection": "articles"}],
            "fields": [{"collection": "articles", "field": f, "type": "json" if f == "references" else "string"} for f in fields],
        }
    })


async def test_schema_settings_merge_and_refresh_on_request(tmp_path: Path) -> None:
    pyproject = "[tool.pitfalls.directus]\nmodels = { Post = 'articles' }\n"
    write(tmp_path, {"pyproject.toml": pyproject, "app.py": DIRECTUS_MODEL, "snap.json": _snapshot(["id", "title"])})
    # The editor's `directus.snapshot` joins the file's `directus.models` (merged key by key).
    async with session(tmp_path, initialization_options={"directus": {"snapshot": "snap.json", "refreshMinutes": 0}}) as s:
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF501", 6)]

        (tmp_path / "snap.json").write_text(_snapshot(["id", "title", "references"]), encoding="utf-8")
        count = len(s.published)
        answer = await asyncio.wait_for(s.client.protocol.send_request_async("pitfalls/refreshLiveSchema", {}), TIMEOUT)
        assert [(a["root"], a["directus"].startswith("snapshot "), a["database"], a["warnings"]) for a in answer] == [
            (str(tmp_path), True, None, [])
        ]
        await s.until(lambda: any(p.uri == uri and not p.diagnostics for p in s.published[count:]), "PF501 gone")


@pytest.mark.parametrize("name", ["snap.json", "schema/snapshot.yaml"])
async def test_a_snapshot_rewritten_on_disk_is_read_again(tmp_path: Path, name: str) -> None:
    import json

    import yaml

    def snapshot(fields: list[str]) -> str:
        text = _snapshot(fields)
        return yaml.safe_dump(json.loads(text)) if name.endswith(".yaml") else text

    pyproject = f"[tool.pitfalls.directus]\nsnapshot = '{name}'\nmodels = {{ Post = 'articles' }}\n"
    write(tmp_path, {"pyproject.toml": pyproject, "app.py": DIRECTUS_MODEL, name: snapshot(["id", "title"])})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF501", 6)]
        # `directus schema snapshot` writes the file again, with the field: the editor says so.
        (tmp_path / name).write_text(snapshot(["id", "title", "references"]), encoding="utf-8")
        count = len(s.published)
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=s.uri(name), type=types.FileChangeType.Changed)],
        ))
        await s.until(lambda: any(p.uri == uri and not p.diagnostics for p in s.published[count:]), "PF501 gone")


async def test_an_unusable_schema_source_is_one_warning(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": DIRECTUS_MODEL, "snap.json": "{not json"})
    options = {"directus": {"snapshot": "snap.json", "models": {"Post": "articles"}}}
    async with session(tmp_path, initialization_options=options) as s:
        await s.until(lambda: [m for m in s.client.messages if "snap.json" in m.message], "the warning")
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == []  # no schema: PF5xx off, nothing else
        answer = await asyncio.wait_for(s.client.protocol.send_request_async("pitfalls/refreshLiveSchema", {}), TIMEOUT)
        assert answer[0]["directus"] is None and "is not valid JSON" in answer[0]["warnings"][0]
        warnings = [m for m in s.client.messages if "snap.json" in m.message]
        assert len(warnings) == 1 and warnings[0].type == types.MessageType.Warning  # not repeated

