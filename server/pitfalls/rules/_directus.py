"""Shared by the Directus schema rules (PF5xx): the schema, item calls and model mapping."""

from __future__ import annotations

import json
import re

import libcst as cst

from pitfalls import names
from pitfalls.context import RuleContext
from pitfalls.directus import DirectusSchema

ITEM_METHODS = frozenset({"create_item", "read_items", "read_item", "update_item", "delete_item", "items"})


def project_schema(ctx: RuleContext) -> DirectusSchema | None:
    """The run's Directus schema (live or snapshot); None without one."""
    return ctx.schemas.directus


def item_call_collection(call: cst.Call) -> tuple[cst.SimpleString, str] | None:
    """``x.create_item("articles", ...)`` and the other item calls: the literal and its name."""
    func = call.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in ITEM_METHODS and call.args):
        return None
    first = call.args[0]
    if first.keyword is not None or first.star or not isinstance(first.value, cst.SimpleString):
        return None
    value = names.string_value(first.value)
    return (first.value, value) if value else None


def collection_for_name(class_name: str, schema: DirectusSchema) -> str | None:
    """``DirectusArticle`` -> ``articles``, when the schema has that collection."""
    if not class_name.startswith("Directus") or class_name == "Directus":
        return None
    stem = class_name.removeprefix("Directus")
    candidate = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", stem).lower() + "s"
    return candidate if candidate in schema.collections else None


def example_files(collections: dict[str, list[str]]) -> dict[str, str]:
    """A pyproject.toml and snapshot for rule examples (``config=EXAMPLE_CONFIG`` with them)."""
    snapshot = {
        "data": {
            "collections": [{"collection": name} for name in collections],
            "fields": [
                {"collection": name, "field": field, "type": "string"}
                for name, fields in collections.items()
                for field in fields
            ],
            "relations": [],
        }
    }
    return {
        "pyproject.toml": '[tool.pitfalls.directus]\nsnapshot = "snap.json"\n',
        "snap.json": json.dumps(snapshot),
    }


EXAMPLE_CONFIG = {"directus": {"snapshot": "snap.json"}}
