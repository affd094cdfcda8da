"""A hostile Directus (issue 17, items 5 and 6): every request ends within the configured
timeout whatever the server does (slow headers, endless chunks), no body over the cap is
held (as sent or once decompressed), nesting too deep for ``json`` is one warning, and no
token is printed (a line break in it, a non-ASCII one, a 401 that echoes it).

Same pattern as ``test_directus_faults.py``: a real server on 127.0.0.1 misbehaving on
purpose, the CLI as a subprocess, and the static findings still reported.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_directus_faults import CODE, PASSWORD, TOKEN, _check, _codes, _schema_replies, _warning

from pitfalls.sources.directus import MAX_BODY_BYTES

Behaviour = Callable[[BaseHTTPRequestHandler], None]
TIMEOUT = 1.0
MARGIN = 2.5  # the subprocess's start-up and the static run, on a slow machine


def _json(handler: BaseHTTPRequestHandler, status: int, payload: bytes, *, extra: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(payload)))
    for key, value in (extra or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(payload)


@pytest.fixture
def hostile() -> Iterator[tuple[str, dict[str, Behaviour]]]:
    """A Directus serving the snapshot's schema, except on the paths given a behaviour."""
    behaviours: dict[str, Behaviour] = {}
    normal = {path: json.dumps(reply.body).encode() for path, reply in _schema_replies().items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path in behaviours:
                    behaviours[path](self)
                elif path in normal:
                    _json(self, 200, normal[path])
                else:
                    _json(self, 404, b'{"errors": [{"message": "Route doesn\'t exist."}]}')
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass  # the client gave up, as it should

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", behaviours
    finally:
        server.shutdown()
        server.server_close()


def _project(project) -> Path:
    return project({**CODE, "pyproject.toml": f"[tool.pitfalls.directus]\ntimeout = {TIMEOUT}\n"})


def _run(project, cli, url: str, env: dict[str, str] | None = None):
    started = time.monotonic()
    result = _check(cli, _project(project), url, env)  # asserts neither secret shows
    return result, time.monotonic() - started


def _endless_chunks(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b"1\r\n[\r\n")
    while True:  # a chunk every 50 ms: httpx's per-read timeout never fires
        handler.wfile.write(b"2\r\n1,\r\n")
        handler.wfile.flush()
        time.sleep(0.05)


def _slow_headers(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    while True:  # one header line every 100 ms, never the blank line
        handler.wfile.write(b"X-Slow: 1\r\n")
        handler.wfile.flush()
        time.sleep(0.1)


@pytest.mark.parametrize(("path", "behaviour"), [("/fields", _endless_chunks), ("/collections", _slow_headers)], ids=["endless-chunks", "slow-headers"])
def test_a_server_that_never_finishes_ends_within_the_timeout(project, cli, hostile, path, behaviour) -> None:
    url, behaviours = hostile
    behaviours[path] = behaviour
    result, elapsed = _run(project, cli, url)
    assert f"GET {path} timed out after 1.0s" in _warning(result)
    assert result.returncode == 0 and elapsed < TIMEOUT + MARGIN


def test_a_body_over_the_cap_is_refused(project, cli, hostile) -> None:
    size = 60 * 1024 * 1024
    assert size > MAX_BODY_BYTES

    def huge(handler: BaseHTTPRequestHandler) -> None:  # no Content-Length: only the count stops it
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b" " * (1024 * 1024)
        for _ in range(size // len(block)):
            handler.wfile.write(block)
        handler.close_connection = True

    url, behaviours = hostile
    behaviours["/fields"] = huge
    result, elapsed = _run(project, cli, url)
    assert "GET /fields answered with a body over 50 MB; not read" in _warning(result)
    assert result.returncode == 0 and elapsed < 5


def test_a_declared_length_over_the_cap_is_refused_unread(project, cli, hostile) -> None:
    def declared(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(MAX_BODY_BYTES + 1))
        handler.end_headers()
        handler.wfile.write(b"[")

    url, behaviours = hostile
    behaviours["/collections"] = declared
    result, _ = _run(project, cli, url)
    assert "GET /collections answered with a body over 50 MB; not read" in _warning(result)


def test_a_gzip_bomb_is_refused(project, cli, hostile) -> None:
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", compresslevel=9)
    assert len(bomb) < 1024 * 1024

    url, behaviours = hostile
    behaviours["/fields"] = lambda handler: _json(handler, 200, bomb, extra={"Content-Encoding": "gzip"})
    result, elapsed = _run(project, cli, url)
    assert "GET /fields answered with a body over 50 MB; not read" in _warning(result)
    assert result.returncode == 0 and elapsed < 5


def test_a_gzipped_schema_is_read(project, cli, hostile) -> None:
    url, behaviours = hostile
    body = gzip.compress(json.dumps(_schema_replies()["/fields"].body).encode())
    behaviours["/fields"] = lambda handler: _json(handler, 200, body, extra={"Content-Encoding": "gzip"})
    result, _ = _run(project, cli, url)
    assert result.stderr == "" and _codes(result) == [("PF505", 7)]


def test_json_nested_too_deep_is_one_warning(project, cli, hostile) -> None:
    url, behaviours = hostile
    deep = b"[" * 100_000 + b"]" * 100_000
    behaviours["/collections"] = lambda handler: _json(handler, 200, deep)
    result, _ = _run(project, cli, url)
    assert "GET /collections answered 200 with a body that is not JSON" in _warning(result)
    assert result.returncode == 0 and "Traceback" not in result.stderr


def test_a_401_echoing_the_token_is_redacted(project, cli, hostile) -> None:
    url, behaviours = hostile
    message = json.dumps({"errors": [{"message": f"Token {TOKEN} is not valid."}]}).encode()
    behaviours["/collections"] = lambda handler: _json(handler, 401, message)
    result, _ = _run(project, cli, url)  # _check asserts the token is nowhere
    assert "answered 401 (token rejected: Token *** is not valid.)" in _warning(result)


def test_a_403_echoing_the_password_is_redacted(project, cli, hostile) -> None:
    url, behaviours = hostile
    login = json.dumps({"data": {"access_token": "session-abc"}}).encode()
    message = json.dumps({"errors": [{"message": f"{PASSWORD} / session-abc may not read fields"}]}).encode()
    behaviours["/fields"] = lambda handler: _json(handler, 403, message)

    def do_login(handler: BaseHTTPRequestHandler) -> None:
        handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        _json(handler, 200, login)

    behaviours["/auth/login"] = do_login
    env = {"DIRECTUS_EMAIL": "a@example.com", "DIRECTUS_PASSWORD": PASSWORD}
    result, _ = _run(project, cli, url, env)
    warning = _warning(result)
    assert "answered 403: *** / *** may not read fields" in warning and "session-abc" not in warning


@pytest.mark.parametrize("token", [f"{TOKEN}\nX-Injected: 1", f"{TOKEN}\rX", f"tok-é-{TOKEN}", f"{TOKEN} extra"])
def test_a_token_no_header_can_carry_is_refused_unprinted(project, cli, hostile, token: str) -> None:
    url, _ = hostile
    result, _ = _run(project, cli, url, {"DIRECTUS_TOKEN": token})
    warning = _warning(result)  # one line
    assert "DIRECTUS_TOKEN contains a line break, a space or a character an HTTP header cannot carry (not shown)" in warning
    assert TOKEN not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert result.returncode == 0

