"""Directus snapshots: both file shapes, unusable files, the per-process cache, and the
PF5xx rules through the real CLI (a relative snapshot path, a broken snapshot)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from pitfalls.sources.directus import read_snapshot
from pitfalls.sources.errors import SchemaSourceError

DATA = Path(__file__).parent / "data" / "directus"


@pytest.mark.parametrize("name", ["snapshot-api.json", "snapshot-cli.json", "snapshot.yaml"])
def test_every_snapshot_shape_loads(name: str) -> None:
    schema = read_snapshot(str(DATA / name))
    assert set(schema.collections) == {"articles", "authors"}
    assert set(schema.collections["articles"]) == {"id", "title", "status", "tags"}


def test_snapshot_formats_give_the_same_schema() -> None:
    schemas = [read_snapshot(str(DATA / n)) for n in ("snapshot-api.json", "snapshot-cli.json", "snapshot.yaml")]
    assert schemas[0] == schemas[1] == schemas[2]
    assert len({s.fingerprint() for s in schemas}) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad.yaml", "is neither JSON nor valid YAML (line 4"),
        ("empty-shape.yaml", "unexpected shape at 'fields'"),
        ("bad-shape.json", "unexpected shape at 'collections.0.collection'"),
        ("missing.json", "cannot read Directus snapshot"),
    ],
)
def test_unusable_snapshot_gives_one_line(name: str, expected: str) -> None:
    path = str(DATA / name)
    with pytest.raises(SchemaSourceError) as caught:
        read_snapshot(path)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert message.startswith(os.path.abspath(path))


def test_cache_follows_the_file(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    shutil.copy(DATA / "snapshot-cli.json", snap)
    first = read_snapshot(str(snap))
    assert read_snapshot(str(snap)) is first  # cached
    data = json.loads(snap.read_text())
    data["collections"].append({"collection": "invoices"})
    snap.write_text(json.dumps(data))
    os.utime(snap, ns=(1, 1))  # a different mtime even on coarse clocks
    assert "invoices" in read_snapshot(str(snap)).collections
    snap.write_text("{")
    with pytest.raises(SchemaSourceError, match="is not valid JSON"):
        read_snapshot(str(snap))


CODE = {
    "app/__init__.py": "",
    "app/schemas.py": """
        from pydantic import BaseModel


        class DirectusArticle(BaseModel):
            title: str
            references: list[str] = []
    """,
    "app/client.py": """
        def publish(client, item):
            return client.create_item("article", item)
    """,
}


def _project(project, snapshot: str) -> Path:
    root = project({**CODE, "pyproject.toml": '[tool.pitfalls.directus]\nsnapshot = "schema/snap.json"\n'})
    (root / "schema").mkdir()
    shutil.copy(DATA / snapshot, root / "schema" / "snap.json")
    return root


def test_cli_reports_against_a_relative_snapshot(project, cli, tmp_path_factory) -> None:
    root = _project(project, "snapshot-api.json")
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # the snapshot is relative to the project
    result = cli("check", "--output-format", "json", str(root), cwd=elsewhere)
    assert result.returncode == 1, result.stderr
    found = {(d["code"], d["location"]["row"]) for d in json.loads(result.stdout)}
    assert found == {("PF501", 7), ("PF505", 3)}
    messages = " ".join(d["message"] for d in json.loads(result.stdout))
    assert "column articles.references does not exist" in messages
    assert "did you mean 'articles'?" in messages


def test_cli_warns_once_on_a_broken_snapshot_and_still_runs_the_static_rules(project, cli) -> None:
    root = _project(project, "bad-shape.json")
    (root / "app" / "client.py").write_text("import requests\nrequests.get('http://x')\n")
    result = cli("check", "--output-format", "json", ".", cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert {d["code"] for d in json.loads(result.stdout)} == {"PF103"}  # no PF5xx without a schema
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("pitfalls: warning: ")
    assert "snap.json: Directus snapshot has an unexpected shape" in warnings[0]


def test_cli_snapshot_option_is_relative_to_the_working_folder(project, cli, tmp_path_factory) -> None:
    root = project(CODE)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    shutil.copy(DATA / "snapshot.yaml", elsewhere / "snap.yaml")
    result = cli("check", "--output-format", "json", "--directus-snapshot", "snap.yaml", str(root), cwd=elsewhere)
    assert result.returncode == 1, result.stderr
    assert {(d["code"], d["location"]["row"]) for d in json.loads(result.stdout)} == {("PF501", 7), ("PF505", 3)}
    assert result.stderr == ""


def test_a_changed_snapshot_invalidates_cached_results(project, cli) -> None:
    root = _project(project, "snapshot-api.json")
    first = cli("check", "--output-format", "json", ".", cwd=root)
    assert ("PF501", 7) in {(d["code"], d["location"]["row"]) for d in json.loads(first.stdout)}
    snap = root / "schema" / "snap.json"
    data = json.loads(snap.read_text())
    data["data"]["fields"].append({"collection": "articles", "field": "references", "type": "json"})
    snap.write_text(json.dumps(data))
    second = cli("check", "--output-format", "json", ".", cwd=root)
    assert [d["code"] for d in json.loads(second.stdout)] == ["PF505"]
