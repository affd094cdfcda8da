"""A live Directus that misbehaves: refused, slow, 500, not JSON, 401, 403 on the schema.

The faults come from a real HTTP server on 127.0.0.1 (a few lines of http.server that
answer as a broken Directus would), and the CLI runs as a subprocess: each fault is one
warning naming the source and the cause, the static rules still run, the exit code counts
only findings, nothing waits longer than the configured timeout, and neither the token nor
the password ever shows.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pitfalls.sources.directus import Credentials

TOKEN = "tok-3f9a-secret-value"
PASSWORD = "pw-Secure!123-value"
SNAPSHOT = Path(__file__).parent / "data" / "directus" / "snapshot-api.json"

CODE = {
    "app/__init__.py": "",
    "app/client.py": """
        import requests


        def publish(client, item):
            requests.get("https://example.org", timeout=5)
            return client.create_item("article", item)
    """,
}
# Against the snapshot's schema: PF505 on line 7 ('article' -> 'articles').


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    delay: float = 0.0


@dataclass
class FakeDirectus:
    """Answers each path with a configured Reply; records what was asked."""

    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None, Any]] = field(default_factory=list)  # method, path, auth, body
    url: str = ""


def _schema_replies() -> dict[str, Reply]:
    data = json.loads(SNAPSHOT.read_text())["data"]
    return {
        "/collections": Reply(body={"data": data["collections"]}),
        "/fields": Reply(body={"data": data["fields"]}),
        "/relations": Reply(body={"data": data["relations"]}),
        "/permissions/me": Reply(body={"data": {"articles": {"create": {"access": "full"}, "read": {"access": "full"}}}}),
    }


@pytest.fixture
def directus() -> Iterator[FakeDirectus]:
    fake = FakeDirectus(_schema_replies())

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            fake.requests.append((self.command, path, self.headers.get("Authorization"), body))
            reply = fake.replies.get(path, Reply(404, {"errors": [{"message": "Route doesn't exist."}]}))
            time.sleep(reply.delay)
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _project(project, extra: str = "") -> Path:
    return project({**CODE, "pyproject.toml": f"[tool.pitfalls.directus]\ntimeout = 1.0\n{extra}"})


def _check(cli, root: Path, url: str, env: dict[str, str] | None = None):
    env = {"DIRECTUS_TOKEN": TOKEN} if env is None else env
    result = cli("check", "--output-format", "json", "--directus-url", url, ".", cwd=root, env=env, timeout=60)
    assert TOKEN not in result.stdout + result.stderr and PASSWORD not in result.stdout + result.stderr
    return result


def _codes(result) -> list[tuple[str, int]]:
    return sorted((d["code"], d["location"]["row"]) for d in json.loads(result.stdout))


def _warning(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pitfalls: warning: "), result.stderr
    return lines[0]


def test_a_working_server_gives_findings_and_only_gets(project, cli, directus: FakeDirectus) -> None:
    root = _project(project)
    result = _check(cli, root, directus.url)
    assert result.returncode == 1 and result.stderr == ""
    assert _codes(result) == [("PF505", 7)]
    assert {m for m, *_ in directus.requests} == {"GET"}
    assert {auth for _, _, auth, _ in directus.requests} == {f"Bearer {TOKEN}"}


def test_login_with_the_guides_api_agent_variables(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/auth/login"] = Reply(body={"data": {"access_token": "session-abc", "expires": 900000}})
    env = {"DIRECTUS_API_AGENT_EMAIL": "agent@example.com", "DIRECTUS_API_AGENT_PASSWORD": PASSWORD}
    result = _check(cli, _project(project), directus.url, env)
    assert _codes(result) == [("PF505", 7)]
    method, path, _, body = directus.requests[0]
    assert (method, path, body) == ("POST", "/auth/login", {"email": "agent@example.com", "password": PASSWORD})
    assert {auth for m, _, auth, _ in directus.requests if m == "GET"} == {"Bearer session-abc"}


def test_connection_refused(project, cli) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _check(cli, _project(project), f"http://127.0.0.1:{port}")
    assert result.returncode == 0 and _codes(result) == []  # no schema, and the static rules find nothing
    assert "cannot connect" in _warning(result) and "PF5xx rules are off" in _warning(result)


def test_a_server_slower_than_the_timeout_is_given_up(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/collections"] = Reply(body={"data": []}, delay=30)
    result = _check(cli, _project(project), directus.url)  # the subprocess itself times out after 60 s
    assert "GET /collections timed out after 1.0s" in _warning(result)
    assert result.returncode == 0


def test_a_500_quotes_directus_s_message(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/fields"] = Reply(500, {"errors": [{"message": "An unexpected error occurred.", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
    warning = _warning(_check(cli, _project(project), directus.url))
    assert "GET /fields answered 500: An unexpected error occurred." in warning


def test_a_body_that_is_not_json(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/collections"] = Reply(200, b"<html>proxy error</html>")
    assert "answered 200 with a body that is not JSON" in _warning(_check(cli, _project(project), directus.url))


def test_an_unexpected_shape_names_the_key(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/fields"] = Reply(200, {"data": [{"collection": "articles"}]})
    assert "GET /fields has an unexpected shape at 'data.0.field'" in _warning(_check(cli, _project(project), directus.url))


def test_401_gives_the_guides_remedy(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/collections"] = Reply(401, {"errors": [{"message": "Invalid user credentials.", "extensions": {"code": "INVALID_CREDENTIALS"}}]})
    warning = _warning(_check(cli, _project(project), directus.url))
    assert "answered 401 (token rejected: Invalid user credentials.)" in warning
    assert "status must be Active" in warning


def test_a_failed_login(project, cli, directus: FakeDirectus) -> None:
    directus.replies["/auth/login"] = Reply(401, {"errors": [{"message": "Invalid user credentials."}]})
    env = {"DIRECTUS_EMAIL": "agent@example.com", "DIRECTUS_PASSWORD": PASSWORD}
    warning = _warning(_check(cli, _project(project), directus.url, env))
    assert "login as agent@example.com failed (401 Unauthorized)" in warning


def test_403_on_the_schema_falls_back_to_the_snapshot(project, cli, directus: FakeDirectus, tmp_path: Path) -> None:
    message = 'You don\'t have permission to perform "read" for collection "directus_fields".'
    directus.replies["/fields"] = Reply(403, {"errors": [{"message": message, "extensions": {"code": "FORBIDDEN"}}]})
    root = _project(project, f'snapshot = "{SNAPSHOT.as_posix()}"\n')
    result = _check(cli, root, directus.url)
    warning = _warning(result)
    assert message.replace("\\", "") in warning and "directus_fields" in warning
    assert "Access Policies" in warning and f"using the snapshot {SNAPSHOT}" in warning
    assert _codes(result) == [("PF505", 7)]  # from the snapshot


def test_credentials_never_show_in_their_repr() -> None:
    secret = Credentials(email="a@b.c", password=PASSWORD)
    assert PASSWORD not in repr(secret) and PASSWORD not in str(secret)
    assert TOKEN not in repr(Credentials(token=TOKEN))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DIRECTUS_TOKEN": " t "}, Credentials(token="t")),
        ({"DIRECTUS_EMAIL": "a@b.c", "DIRECTUS_PASSWORD": "p"}, Credentials(email="a@b.c", password="p")),
        ({"DIRECTUS_API_AGENT_EMAIL": "a@b.c", "DIRECTUS_API_AGENT_PASSWORD": "p"}, Credentials(email="a@b.c", password="p")),
        ({"DIRECTUS_EMAIL": "a@b.c"}, Credentials()),  # no password: nothing to log in with
        ({}, Credentials()),
    ],
)
def test_credentials_from_the_environment(env: dict[str, str], expected: Credentials) -> None:
    assert Credentials.from_env(env) == expected
