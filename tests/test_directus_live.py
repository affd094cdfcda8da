"""The PF5xx rules and `pitfalls doctor` against a real Directus 12.4 (tests/services/directus.py).

The server is seeded with `articles` (integer auto-increment id, a required title, a status
dropdown draft/published/archived, ...), `authors` and `comments`, an admin with a static
token, and an "API Agent" whose policy may read, create and update articles and read
authors, nothing more, and may not read the schema. Every run is the CLI as a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.services.directus import DirectusServer

MODELS = """
    from typing import Literal, Optional

    from pydantic import BaseModel


    class DirectusArticle(BaseModel):
        id: Optional[int] = None
        title: str
        status: Literal["draft", "published", "archived"] = "draft"
        references: list[str] = []


    class DirectusAuthor(BaseModel):
        name: str
        email: Optional[str] = None
"""
CLIENT = """
    from app.models import DirectusArticle


    def publish(client, article: DirectusArticle):
        client.create_item("articles", article)
        client.read_items("autors")
        client.delete_item("articles", 1)
        return client.read_items("comments")
"""
DRIFTING = {"app/__init__.py": "", "app/models.py": MODELS, "app/client.py": CLIENT}
# PF501 app/models.py:11 (references); PF505 app/client.py:7 ('autors').
# The agent's token adds PF506 on lines 8 (delete on articles) and 9 (read on comments).

CLEAN = {
    "app/__init__.py": "",
    "app/models.py": MODELS.replace("        references: list[str] = []\n", ""),
    "app/client.py": """
        from app.models import DirectusArticle


        def publish(client, article: DirectusArticle):
            client.create_item("articles", article)
            return client.read_items("authors")
    """,
}


def findings(result) -> list[tuple[str, str, int, int, str]]:
    return sorted(
        (d["code"], Path(d["filename"]).name, d["location"]["row"], d["location"]["column"], d["message"])
        for d in json.loads(result.stdout)
    )


def check(cli, root: Path, *options: str, env: dict[str, str]):
    result = cli("check", "--no-cache", "--output-format", "json", "--select", "PF5", *options, ".", cwd=root, env=env)
    assert result.returncode in (0, 1), result.stderr
    for secret in ("pitfalls-admin-token", "pitfalls-agent-token", "agent-password-123", "admin-password-123"):
        assert secret not in result.stdout + result.stderr
    return result


def admin(directus: DirectusServer) -> dict[str, str]:
    return {"DIRECTUS_TOKEN": directus.admin_token}


def test_live_server_and_both_snapshot_formats_give_the_same_findings(project, cli, directus: DirectusServer) -> None:
    root = project(DRIFTING)
    live = check(cli, root, "--directus-url", directus.url, env=admin(directus))
    assert live.stderr == ""
    found = findings(live)
    assert [(code, where, line) for code, where, line, _, _ in found] == [
        ("PF501", "models.py", 11),
        ("PF505", "client.py", 7),
    ]
    for snapshot in (directus.snapshot_json, directus.snapshot_yaml):
        offline = check(cli, root, "--directus-snapshot", str(snapshot), env={})
        assert findings(offline) == found, snapshot.name


def test_pitfalls_snapshot_saves_what_the_live_check_sees(project, cli, directus: DirectusServer, tmp_path: Path) -> None:
    root = project(DRIFTING)
    saved = tmp_path / "saved.json"
    result = cli("snapshot", str(saved), "--directus-url", directus.url, cwd=root, env=admin(directus))
    assert result.returncode == 0, result.stderr
    assert "pitfalls-admin-token" not in saved.read_text()
    live = check(cli, root, "--directus-url", directus.url, env=admin(directus))
    assert findings(check(cli, root, "--directus-snapshot", str(saved), env={})) == findings(live)


def test_a_token_that_cannot_read_the_schema_falls_back_with_its_permissions(project, cli, directus: DirectusServer) -> None:
    root = project(DRIFTING)
    env = {"DIRECTUS_TOKEN": directus.agent_token}
    result = check(cli, root, "--directus-url", directus.url, "--directus-snapshot", str(directus.snapshot_json), env=env)
    warning = result.stderr.strip()
    assert warning.count("\n") == 0 and warning.startswith("pitfalls: warning: ")
    assert '"read" for collection "directus_fields"' in warning or "directus_collections" in warning
    assert "Access Policies" in warning and "using the snapshot" in warning
    found = [(code, where, line) for code, where, line, _, _ in findings(result)]
    assert found == [
        ("PF501", "models.py", 11),
        ("PF505", "client.py", 7),
        ("PF506", "client.py", 8),
        ("PF506", "client.py", 9),
    ]
    # Without a snapshot to fall back on, the PF5xx rules are off and the warning says so.
    alone = check(cli, root, "--directus-url", directus.url, env=env)
    assert findings(alone) == [] and "PF5xx rules are off" in alone.stderr


def doctor(cli, root: Path, directus: DirectusServer, env: dict[str, str]):
    result = cli("doctor", "--directus-url", directus.url, ".", cwd=root, env=env)
    for secret in (directus.admin_token, directus.agent_token, directus.agent_password, "wrong-password-456"):
        assert secret not in result.stdout + result.stderr
    return result


def test_doctor_passes_against_the_test_directus(project, cli, directus: DirectusServer) -> None:
    result = doctor(cli, project(CLEAN), directus, admin(directus))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("PASS  ") for line in lines), result.stdout
    text = result.stdout
    for expected in ("answers", "authenticate (DIRECTUS_TOKEN)", "role 'Administrator'", "read the schema: ",
                     "read items of 'articles'", "read items of 'authors'", "code: models, collection names"):
        assert expected in text, expected


def test_doctor_fails_with_a_wrong_password_and_says_what_to_check(project, cli, directus: DirectusServer) -> None:
    env = {"DIRECTUS_EMAIL": directus.agent_email, "DIRECTUS_PASSWORD": "wrong-password-456"}
    result = doctor(cli, project(CLEAN), directus, env)
    assert result.returncode == 1
    assert f"FAIL  directus: authenticate (login as {directus.agent_email})" in result.stdout
    assert "401" in result.stdout and "status must be Active" in result.stdout


def test_doctor_fails_on_a_collection_the_token_may_not_read(project, cli, directus: DirectusServer) -> None:
    env = {"DIRECTUS_EMAIL": directus.agent_email, "DIRECTUS_PASSWORD": directus.agent_password}
    result = doctor(cli, project(DRIFTING), directus, env)
    assert result.returncode == 1
    out = result.stdout
    assert f"PASS  directus: authenticate (login as {directus.agent_email})" in out
    assert "PASS  directus: read items of 'articles'" in out
    assert "FAIL  directus: read items of 'comments'" in out
    assert "add permissions on 'comments'" in out and "Access Policies" in out
    # It cannot read the schema either, and says which permission its policy lacks.
    assert "FAIL  directus: read the schema" in out and "directus_" in out


@pytest.mark.parametrize("source", ["url", "snapshot"])
def test_doctor_lists_the_code_s_findings(project, cli, directus: DirectusServer, source: str) -> None:
    root = project(DRIFTING)
    if source == "url":
        result = doctor(cli, root, directus, admin(directus))
    else:
        result = cli("doctor", "--directus-snapshot", str(directus.snapshot_json), ".", cwd=root, env={})
    assert result.returncode == 1
    assert "FAIL  code: 2 findings against Directus:" in result.stdout
    assert "models.py:11:" in result.stdout and "PF505" in result.stdout
