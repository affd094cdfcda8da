"""Smoke test of the live Directus fixture: the seeded schema, tokens and permissions are as promised.

The PF5xx tests build on these facts; if one breaks here, the fixture changed, not the rules.
"""

from __future__ import annotations

import json

import httpx
import pytest
import yaml

from tests.services.directus import DirectusServer


@pytest.fixture(scope="module")
def http(directus: DirectusServer):
    with httpx.Client(base_url=directus.url, timeout=10.0) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_server_answers_ping(http: httpx.Client):
    response = http.get("/server/ping")
    assert (response.status_code, response.text) == (200, "pong")


def test_admin_token_reads_the_seeded_articles_fields(http: httpx.Client, directus: DirectusServer):
    response = http.get("/fields/articles", headers=bearer(directus.admin_token))
    assert response.status_code == 200
    fields = {item["field"]: item for item in response.json()["data"]}
    assert set(fields) == {"id", "title", "content", "status", "published_at", "metadata", "author"}
    status = fields["status"]
    assert [c["value"] for c in status["meta"]["options"]["choices"]] == ["draft", "published", "archived"]
    assert (status["schema"]["is_nullable"], status["schema"]["default_value"]) == (False, "draft")
    assert fields["title"]["meta"]["required"] is True
    assert fields["id"]["schema"]["has_auto_increment"] is True


def test_admin_sees_the_author_relation(http: httpx.Client, directus: DirectusServer):
    response = http.get("/relations/articles", headers=bearer(directus.admin_token))
    assert response.status_code == 200
    assert [(r["field"], r["related_collection"]) for r in response.json()["data"]] == [("author", "authors")]


@pytest.mark.parametrize("path", ["/fields", "/fields/articles", "/collections", "/relations"])
def test_agent_cannot_read_the_schema(http: httpx.Client, directus: DirectusServer, path: str):
    response = http.get(path, headers=bearer(directus.agent_token))
    assert response.status_code == 403
    assert error_code(response) == "FORBIDDEN"


def test_agent_reads_articles_but_not_comments(http: httpx.Client, directus: DirectusServer):
    assert http.get("/items/articles", headers=bearer(directus.agent_token)).status_code == 200
    comments = http.get("/items/comments", headers=bearer(directus.agent_token))
    assert comments.status_code == 403
    assert error_code(comments) == "FORBIDDEN"


def test_agent_permissions_me(http: httpx.Client, directus: DirectusServer):
    response = http.get("/permissions/me", headers=bearer(directus.agent_token))
    assert response.status_code == 200
    permissions = response.json()["data"]
    access = {
        collection: {action: rule["access"] for action, rule in actions.items()}
        for collection, actions in permissions.items()
    }
    assert access["articles"]["create"] == "full"
    assert access["articles"]["delete"] == "none"
    assert access["authors"]["read"] == "full"
    assert access["authors"]["create"] == "none"
    assert access.get("comments", {}).get("read", "none") == "none"


def test_agent_login(http: httpx.Client, directus: DirectusServer):
    good = http.post("/auth/login", json={"email": directus.agent_email, "password": directus.agent_password})
    assert good.status_code == 200
    token = good.json()["data"]["access_token"]
    assert http.get("/items/articles", headers=bearer(token)).status_code == 200

    wrong = http.post("/auth/login", json={"email": directus.agent_email, "password": "not-the-password"})
    assert wrong.status_code == 401
    assert error_code(wrong) == "INVALID_CREDENTIALS"


def test_both_snapshot_formats_hold_the_seeded_schema(directus: DirectusServer):
    from_api = json.loads(directus.snapshot_json.read_text(encoding="utf-8"))["data"]
    from_cli = yaml.safe_load(directus.snapshot_yaml.read_text(encoding="utf-8"))
    for snapshot in (from_api, from_cli):
        assert snapshot["directus"] == "12.4.0"
        assert {c["collection"] for c in snapshot["collections"]} == {"articles", "authors", "comments"}
        status = next(f for f in snapshot["fields"] if (f["collection"], f["field"]) == ("articles", "status"))
        assert status["meta"]["options"]["choices"][0] == {"text": "Draft", "value": "draft"}
