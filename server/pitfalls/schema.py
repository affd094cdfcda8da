"""A Directus schema snapshot, read from a JSON file and validated with pydantic.

Two shapes are accepted: the body of ``GET /schema/snapshot``
(``{"data": {"collections": [...], "fields": [...], "relations": [...]}}``) and the file
``directus schema snapshot --format json`` writes (the same object without ``data``).
Snapshots are cached per process by (path, mtime, size), so every file checked in a
worker shares one parse. A file that cannot be read or validated never crashes a check:
:func:`load_schema` returns None (the PF5xx rules stay silent) and :func:`schema_error`
gives the one-line reason for the CLI to warn with.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Item(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class SnapshotCollection(_Item):
    collection: str
    meta: dict[str, Any] | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")


class SnapshotField(_Item):
    collection: str
    field: str
    type: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    meta: dict[str, Any] | None = None


class Snapshot(_Item):
    collections: list[SnapshotCollection]
    fields: list[SnapshotField]
    relations: list[dict[str, Any]] = []


@dataclass(frozen=True)
class DirectusSchema:
    """What the rules ask of a schema: its collections and each one's field names."""

    collections: dict[str, frozenset[str]]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> DirectusSchema:
        fields: dict[str, set[str]] = {c.collection: set() for c in snapshot.collections}
        for item in snapshot.fields:
            fields.setdefault(item.collection, set()).add(item.field)
        return cls({name: frozenset(names) for name, names in fields.items()})


# path -> ((mtime_ns, size), schema or None, error or None)
_CACHE: dict[str, tuple[tuple[int, int], DirectusSchema | None, str | None]] = {}


def _load(path: str) -> tuple[DirectusSchema | None, str | None]:
    try:
        stat = os.stat(path)
    except OSError as exc:
        return None, f"{path}: cannot read Directus snapshot: {exc.strerror or exc}"
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    schema, error = _parse(path)
    _CACHE[path] = (key, schema, error)
    return schema, error


def _parse(path: str) -> tuple[DirectusSchema | None, str | None]:
    where = f"{path}: Directus snapshot"
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        return None, f"{where} cannot be read: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return None, f"{where} is not UTF-8"
    except json.JSONDecodeError as exc:
        # `directus schema snapshot` writes YAML unless told `--format json`.
        return None, f"{where} is not JSON (line {exc.lineno}: {exc.msg}); write it with `--format json`"
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    try:
        snapshot = Snapshot.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "(root)"
        return None, f"{where} has an unexpected shape at '{key}': {error['msg']}"
    return DirectusSchema.from_snapshot(snapshot), None


def load_schema(path: str) -> DirectusSchema | None:
    """The schema in the snapshot at ``path``; None when it cannot be read or validated."""
    return _load(os.path.abspath(path))[0]


def schema_error(path: str) -> str | None:
    """One line saying why the snapshot at ``path`` is unusable; None when it is fine."""
    return _load(os.path.abspath(path))[1]
