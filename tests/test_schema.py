"""Directus snapshots: both file shapes, unusable files, the per-process cache, and the
PF5xx rules through the real CLI (a relative snapshot path, a broken snapshot)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pitfalls.schema import load_schema, schema_error

DATA = Path(__file__).parent / "data" / "directus"


@pytest.mark.parametrize("name", ["snapshot-api.json", "snapshot-cli.json"])
def test_both_snapshot_shapes_load(name: str) -> None:
    schema = load_schema(str(DATA / name))
    assert schema is not None, schema_error(str(DATA / name))
    assert set(schema.collections) == {"articles", "authors"}
    assert schema.collections["articles"] == {"id", "title", "status", "tags"}
    assert schema_error(str(DATA / name)) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("snapshot.yaml", "is not JSON"),
        ("bad-shape.json", "unexpected shape at 'collections.0.collection'"),
        ("missing.json", "cannot read Directus snapshot"),
    ],
)
def test_unusable_snapshot_gives_one_line_and_no_schema(name: str, expected: str) -> None:
    path = str(DATA / name)
    assert load_schema(path) is None
    error = schema_error(path)
    assert error is not None and expected in error and "\n" not in error
    assert error.startswith(os.path.abspath(path))


def test_cache_follows_the_file(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    shutil.copy(DATA / "snapshot-cli.json", snap)
    first = load_schema(str(snap))
    assert first is not None and load_schema(str(snap)) is first  # cached
    data = json.loads(snap.read_text())
    data["collections"].append({"collection": "invoices"})
    snap.write_text(json.dumps(data))
    os.utime(snap, ns=(1, 1))  # a different mtime even on coarse clocks
    assert "invoices" in load_schema(str(snap)).collections
    snap.write_text("{")
    assert load_schema(str(snap)) is None and "is not JSON" in schema_error(str(snap))


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


def test_cli_stays_silent_on_a_broken_snapshot(project, cli) -> None:
    root = _project(project, "snapshot.yaml")
    result = cli("check", "--output-format", "json", ".", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []
