"""The language server against a misbehaving client, over stdio as an editor drives it:
requests after ``shutdown``, malformed and meaningless traffic, and a buffer that differs
from the file on disk. Every request gets an answer, no client mistake becomes a pop-up."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from test_server import APP, SERVER, TIMEOUT, _client, capabilities, codes, scan_ended, session, write

pytestmark = pytest.mark.asyncio

INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602


def send_raw(client: LanguageClient, body: bytes) -> None:
    """One message with ``body`` as it is, framed as the protocol frames it."""
    client._server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # type: ignore[union-attr]


async def raw_request(client: LanguageClient, msg_id: int, message: Any) -> Any:
    """Send ``message`` (JSON, or bytes as they are) under ``msg_id``; the answer's result,
    or the JsonRpcException of its error."""
    answer = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = answer
    send_raw(client, message if isinstance(message, bytes) else json.dumps(message).encode())
    return await asyncio.wait_for(answer, TIMEOUT)


async def error_code(request: Any) -> int:
    with pytest.raises(JsonRpcException) as caught:
        await asyncio.wait_for(request, TIMEOUT)
    return caught.value.code


def hover(uri: str, line: int = 0, character: int = 0) -> types.HoverParams:
    return types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line, character=character))


def error_pop_ups(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


async def test_requests_after_shutdown_get_invalid_request_and_notifications_are_dropped(tmp_path: Path) -> None:
    """LSP: after ``shutdown`` only ``exit`` is served; a client that keeps asking must
    still get an answer, or it waits forever."""
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    uri = from_fs_path(str(tmp_path / "app.py"))
    client = await ClientServerConfig(server_command=SERVER, client_factory=_client).start()
    try:
        await client.initialize_session(types.InitializeParams(capabilities=capabilities(), root_uri=from_fs_path(str(tmp_path))))
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        assert await error_code(client.text_document_hover_async(hover(uri))) == INVALID_REQUEST
        assert await error_code(client.protocol.send_request_async("pitfalls/refreshLiveSchema", None)) == INVALID_REQUEST
        assert await error_code(client.protocol.send_request_async("no/suchMethod", {})) == INVALID_REQUEST
        assert await error_code(client.shutdown_async(None)) == INVALID_REQUEST
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=APP))
        )
        # answered in order: the notification before it was dropped, nothing published
        assert await error_code(client.text_document_hover_async(hover(uri))) == INVALID_REQUEST
        assert client.published == []  # type: ignore[attr-defined]
        client.exit(None)
        assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 0  # type: ignore[union-attr]
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def test_bad_client_traffic_is_answered_and_logged_never_shown(tmp_path: Path) -> None:
    """Malformed, mistyped, unknown and out-of-range messages: each request answered (an
    error, or nothing found), each mistake in the log, no "Error in server" pop-up, and
    the session goes on."""
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP, "other.py": "import requests\n"})
    async with session(tmp_path) as s:
        uri = s.open("app.py")
        assert codes(await s.diagnostics(uri, version=1)) == [("PF103", 10), ("PF401", 14)]
        c = s.client
        ghost = s.uri("ghost.py")  # never opened, not on disk
        closed = s.uri("other.py")  # never opened, on disk

        # requests: malformed, mistyped, unknown, not JSON-RPC 2.0
        hover_method = types.TEXT_DOCUMENT_HOVER
        for msg_id, params in enumerate([
            {"textDocument": 5},
            {"textDocument": {"uri": uri}, "position": {"line": "x", "character": 0}},
            {"textDocument": {"uri": uri}, "position": {"line": -1, "character": 0}},
            [1, 2],
            None,
        ], start=9000):
            message = {"jsonrpc": "2.0", "id": msg_id, "method": hover_method, "params": params}
            assert await error_code(raw_request(c, msg_id, message)) == INVALID_PARAMS
        assert await error_code(c.protocol.send_request_async("no/suchMethod", {"a": 1})) == METHOD_NOT_FOUND
        assert await error_code(raw_request(c, 9101, {"id": 9101, "method": hover_method, "params": {}})) == INVALID_REQUEST
        assert await error_code(raw_request(c, 9102, {"jsonrpc": "1.0", "id": 9102, "method": "shutdown"})) == INVALID_REQUEST
        for body in (b'{"jsonrpc": "2.0", "id": 9004, "method": ', b"\xff\xfe not JSON", b"[]", b"42", b'"text"', b"null", b"{}"):
            send_raw(c, body)
        # requests about documents never opened, positions out of range
        assert await c.text_document_hover_async(hover(ghost)) is None
        assert await c.text_document_hover_async(hover(closed, 10**6, 10**6)) is None
        assert await c.text_document_hover_async(hover(uri, 10**6, 10**6)) is None
        assert await c.text_document_hover_async(hover("untitled:Untitled-9")) is None
        assert await s.actions(ghost, []) == []
        assert await s.actions(uri, [types.Diagnostic(
            range=types.Range(start=types.Position(line=10**6, character=0), end=types.Position(line=10**6, character=5)),
            message="forged", code="PF103", source="pitfalls", data={"fix": 1, "hash": "x"},
        )]) == []
        # notifications: malformed, about documents never opened, unknown
        send_raw(c, json.dumps({"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_OPEN, "params": {"textDocument": {"uri": closed}}}).encode())
        send_raw(c, json.dumps({
            "jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_CHANGE,
            "params": {"textDocument": {"uri": uri, "version": "two"}, "contentChanges": 3},
        }).encode())
        for target in (ghost, closed):
            c.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=target, version=2),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)), text="x",
                )],
            ))
            c.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=target)))
            c.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=target)))
        c.protocol.notify("no/suchNotification", {"a": 1})
        c.cancel_request(types.CancelParams(id=424242))
        c.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri="not a uri", type=types.FileChangeType.Created),
            types.FileEvent(uri="file:///%ZZ/\x00.py", type=types.FileChangeType.Changed),
        ]))

        # the session goes on: a real edit is checked, a real hover answered
        fixed = s.change(uri, [types.TextEdit(
            range=types.Range(start=types.Position(line=9, character=27), end=types.Position(line=9, character=27)), new_text=", timeout=5",
        )])
        assert codes(await s.diagnostics(uri, version=fixed)) == [("PF401", 14)]
        answer = await c.text_document_hover_async(hover(uri, 13, 17))
        assert answer is not None and "PF401" in answer.contents.value  # type: ignore[union-attr]
        await s.until(lambda: len([m for m in c.log_messages if "bad message" in m.message]) >= 19, "the bad messages logged")
        assert error_pop_ups(c) == []
        assert c.error is None


async def test_an_answer_that_does_not_fit_fails_the_servers_request(tmp_path: Path) -> None:
    """The server asks for its settings at start-up; an answer it cannot read fails that
    request at once (logged, no pop-up) and the start-up scan goes on with the defaults."""
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})

    def configuration(client: LanguageClient, params: types.ConfigurationParams) -> Any:
        return 5  # a list of settings, one per item, is due

    def client_answering_garbage() -> LanguageClient:
        client = LanguageClient(converter_factory=default_converter)
        register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.WORKSPACE_CONFIGURATION: configuration})
        return client

    client = await ClientServerConfig(server_command=SERVER, client_factory=client_answering_garbage).start()
    try:
        await client.initialize_session(types.InitializeParams(capabilities=capabilities(), root_uri=from_fs_path(str(tmp_path))))
        for _ in range(int(TIMEOUT / 0.05)):
            if scan_ended(client):
                break
            await asyncio.sleep(0.05)
        assert scan_ended(client), "the start-up scan never ran"
        assert error_pop_ups(client) == []
        assert any("answer to request" in m.message for m in client.log_messages)
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


async def test_a_syntax_error_in_an_unsaved_buffer_is_placed_in_the_buffer_not_on_disk(tmp_path: Path) -> None:
    """CPython reads the error line from the file its ``filename`` names to turn a byte
    offset into a column: for an unsaved buffer that is the wrong text."""
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": "x = 1\n", "bad.py": 'y = "éé" $ 2\n'})
    async with session(tmp_path) as s:
        buffer = 'x = "ééééé" $ 1\n'  # the `$` is at column 12, byte 17; disk's line is 5 long
        uri = s.open("app.py", buffer)
        found = await s.diagnostics(uri, version=1)
        assert [(d.code, d.range.start) for d in found] == [("PF000", types.Position(line=0, character=12))]
        # and the other way round: disk has the error, the buffer does not
        bad = s.open("bad.py", "y = 2\n")
        assert await s.diagnostics(bad, version=1) == []
        assert error_pop_ups(s.client) == []
