"""PF502-PF504 and PF506 against a real Directus 12: what the rules report is what the server does.

Each test checks a small project with the CLI (a subprocess) against the seeded server of
``tests/services/directus.py``, then makes the same requests to that server: the calls PF506
reports are exactly the ones it refuses, the model fields PF502-PF504 report are the ones
whose items it refuses or whose stored values the model cannot read back, and the model the
fixes produce creates and reads items without an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

from tests.services.directus import DirectusServer

READER_TOKEN = "pitfalls-article-reader-token"

# Line -> the request that line makes. The reader may read articles, nothing else.
CALLS = """\
import requests


def sync(client, base, headers):
    client.read_items("articles")
    client.create_item("articles", {"title": "from the reader"})
    requests.delete(f"{base}/items/articles/1", headers=headers, timeout=5)
    client.create_item("comments", {"body": "from the reader"})
    client.read_items("authors")
"""
REQUESTS = {
    5: ("GET", "/items/articles", None),
    6: ("POST", "/items/articles", {"title": "from the reader"}),
    7: ("DELETE", "/items/articles/1", None),
    8: ("POST", "/items/comments", {"body": "from the reader"}),
    9: ("GET", "/items/authors", None),
}

# The guide's kind of model against the seeded `articles` collection.
MODEL = """\
from typing import Literal, Optional
from pydantic import BaseModel

class DirectusArticle(BaseModel):
    id: Optional[str] = None
    title: Optional[str] = None
    status: Literal["draft", "published", "review"] = "draft"
    published_at: Optional[bool] = None
    metadata: Optional[dict] = None
    author: Optional[int] = None
"""
MODEL_FINDINGS = [("PF502", 5), ("PF503", 6), ("PF504", 7), ("PF502", 8)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def http(directus: DirectusServer):
    with httpx.Client(base_url=directus.url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def reader_token(http: httpx.Client, directus: DirectusServer) -> str:
    """A user whose policy has app access (so it may read the schema) and may read articles only."""
    admin = bearer(directus.admin_token)

    def call(method: str, path: str, body: Any) -> Any:
        response = http.request(method, path, json=body, headers=admin)
        assert response.status_code < 300, response.text
        return response.json()["data"]

    policy = call("POST", "/policies", {"name": "Article Reader", "icon": "badge", "admin_access": False, "app_access": True})
    call("POST", "/permissions", [{"policy": policy["id"], "collection": "articles", "action": "read", "fields": ["*"]}])
    role = call("POST", "/roles", {"name": "Article Reader", "icon": "badge"})
    call("POST", "/access", {"role": role["id"], "policy": policy["id"]})
    call("POST", "/users", {"email": "reader@example.com", "password": "reader-password-123", "role": role["id"],
                            "token": READER_TOKEN, "status": "active"})
    return READER_TOKEN


def findings(cli, root: Path, *args: str, token: str | None = None) -> list[tuple[str, int]]:
    env = {"DIRECTUS_TOKEN": token} if token else None
    done = cli("check", ".", "--output-format", "json", "--no-cache", *args, cwd=root, env=env)
    assert done.returncode in (0, 1), done.stderr
    assert "warning" not in done.stderr, done.stderr  # the schema source was usable
    return sorted((d["code"], d["location"]["row"]) for d in json.loads(done.stdout))


def test_pf506_reports_exactly_the_calls_the_server_refuses(
    project, cli, http: httpx.Client, directus: DirectusServer, reader_token: str, tmp_path: Path
) -> None:
    root = project({"pyproject.toml": "[project]\nname = 'live'\n", "app.py": CALLS})
    reported = findings(cli, root, "--directus-url", directus.url, "--select", "PF505,PF506", token=reader_token)

    refused = [
        line
        for line, (method, path, body) in REQUESTS.items()
        if http.request(method, path, json=body, headers=bearer(reader_token)).status_code == 403
    ]
    assert refused == [6, 7, 8, 9]
    assert sorted(line for _, line in reported) == refused
    # The token cannot see collections it has no permission on: its schema lacks `comments`
    # and `authors`, so those calls are PF505's ("not in the schema"), the others PF506's.
    assert reported == [("PF505", 8), ("PF505", 9), ("PF506", 6), ("PF506", 7)]

    # The same permissions, saved by `pitfalls snapshot` for runs without the server.
    snapshot = tmp_path / "reader-snapshot.json"
    saved = cli("snapshot", str(snapshot), "--directus-url", directus.url, cwd=root, env={"DIRECTUS_TOKEN": reader_token})
    assert saved.returncode == 0, saved.stderr
    assert findings(cli, root, "--directus-snapshot", str(snapshot), "--select", "PF505,PF506") == reported


def test_pf506_is_silent_for_a_token_that_may_do_everything(project, cli, directus: DirectusServer) -> None:
    root = project({"pyproject.toml": "[project]\nname = 'live'\n", "app.py": CALLS})
    assert findings(cli, root, "--directus-url", directus.url, "--select", "PF505,PF506", token=directus.admin_token) == []


def test_model_findings_are_what_the_server_refuses_and_the_fixes_work(
    project, cli, http: httpx.Client, directus: DirectusServer
) -> None:
    root = project({"pyproject.toml": "[project]\nname = 'live'\n", "app/__init__.py": "", "app/models.py": MODEL})
    snapshot = ("--directus-snapshot", str(directus.snapshot_json), "--select", "PF502,PF503,PF504")
    assert findings(cli, root, *snapshot) == sorted(MODEL_FINDINGS)
    admin = bearer(directus.admin_token)

    # PF502: a string id for the auto-increment key, a bool for a timestamp: refused.
    assert http.post("/items/articles", json={"id": "a-string-id", "title": "t"}, headers=admin).status_code >= 400
    assert http.post("/items/articles", json={"title": "t", "published_at": True}, headers=admin).status_code >= 400
    # PF503: the model leaves `title` out (exclude_none), and the server says what the finding quotes.
    missing = http.post("/items/articles", json={"status": "draft"}, headers=admin)
    assert missing.status_code == 400
    done = cli("check", ".", "--no-cache", *snapshot, cwd=root)
    assert missing.json()["errors"][0]["message"] in done.stdout
    # PF504: an item with a choice the model's Literal lacks cannot be read back by the model.
    archived = http.post("/items/articles", json={"title": "old", "status": "archived"}, headers=admin)
    assert archived.status_code == 200, archived.text
    stored = archived.json()["data"]
    with pytest.raises(pydantic.ValidationError):
        load_model(root / "app" / "models.py").model_validate(stored)

    # The fixes give a model with no findings that creates and reads items.
    fixed = cli("check", ".", "--no-cache", "--fix", "--unsafe-fixes", *snapshot, cwd=root)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert findings(cli, root, *snapshot) == []
    model = load_model(root / "app" / "models.py")
    created = http.post("/items/articles", json=model(title="fixed").model_dump(exclude_none=True), headers=admin)
    assert created.status_code == 200, created.text
    for key in (stored["id"], created.json()["data"]["id"]):
        item = http.get(f"/items/articles/{key}", headers=admin).json()["data"]
        assert model.model_validate(item).id == key


def load_model(path: Path) -> type[pydantic.BaseModel]:
    """The sample's model class (test data, executed by the test only; pitfalls never runs code)."""
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True), namespace)
    return namespace["DirectusArticle"]
