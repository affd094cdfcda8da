"""Shared by the Directus schema rules (PF5xx): the schema, item calls and model mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import libcst as cst

from pitfalls.core import names
from pitfalls.core.schema import ACTIONS, Choice, DirectusField, DirectusSchema
from pitfalls.rules.api import Rule, RuleContext

# `/items/<name>` ending the URL or followed by a path, query or fragment (or the quote).
ITEMS_URL = re.compile(r"/items/([A-Za-z_][A-Za-z0-9_]*)(?=[/?#'\"]|$)")
# Item calls of the Directus SDKs and clients, and the permission each needs.
ITEM_ACTIONS = {
    "create_item": "create", "create_items": "create",
    "read_item": "read", "read_items": "read",
    "update_item": "update", "update_items": "update",
    "delete_item": "delete", "delete_items": "delete",
}
ITEM_METHODS = frozenset({*ITEM_ACTIONS, "items"})
_NOT_FIELDS = frozenset({"model_config"})


def project_schema(ctx: RuleContext) -> DirectusSchema | None:
    """The run's Directus schema (live or snapshot); None without one."""
    return ctx.schemas.directus


def item_call_collection(call: cst.Call) -> tuple[cst.SimpleString, str] | None:
    """``x.create_item("articles", ...)`` and the other item calls: the literal and its name."""
    func = call.func
    if not (type(func) is cst.Attribute and func.attr.value in ITEM_METHODS and call.args):
        return None
    first = call.args[0]
    if first.keyword is not None or first.star or not isinstance(first.value, cst.SimpleString):
        return None
    value = names.string_value(first.value)
    return (first.value, value) if value else None


def collection_for_name(class_name: str, schema: DirectusSchema) -> str | None:
    """``DirectusArticle`` -> ``articles``, ``DirectusCategory`` -> ``categories``: the
    English plural of the model's name (or the name itself: ``news``, ``user_settings``),
    when the schema has that collection."""
    if not class_name.startswith("Directus") or class_name == "Directus":
        return None
    stem = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", class_name.removeprefix("Directus")).lower()
    return next((c for c in _plurals(stem) if c in schema.collections), None)


_IRREGULAR = {"person": "people", "child": "children", "man": "men", "woman": "women", "datum": "data"}


def _plurals(stem: str) -> list[str]:
    """The collection names a model called ``stem`` may map to, most likely first: English
    plurals of its last word (only names the schema has are ever taken)."""
    head, _, word = stem.rpartition("_")
    prefix = f"{head}_" if head else ""
    forms = [_IRREGULAR[word]] if word in _IRREGULAR else []
    if re.search(r"[^aeiou]y$", word):
        forms.append(word[:-1] + "ies")
    elif re.search(r"(s|x|z|ch|sh)$", word):
        forms.append(word + "es")
    elif re.search(r"[^f]fe?$", word):
        forms.append(re.sub(r"fe?$", "ves", word))
    forms += [word + "s", word]
    return [prefix + form for form in dict.fromkeys(forms)]


@dataclass(frozen=True)
class ModelField:
    """One pydantic field a model's class body declares."""

    target: cst.Name  # the attribute name in the class body
    name: str  # the name Directus sees: the alias, else the attribute
    statement: cst.AnnAssign

    @property
    def annotation(self) -> cst.BaseExpression:
        return self.statement.annotation.annotation

    @property
    def value(self) -> cst.BaseExpression | None:
        return self.statement.value


@dataclass(frozen=True)
class MappedModel:
    """A pydantic model of this file and the collection it maps to."""

    node: cst.ClassDef
    collection: str

    @property
    def name(self) -> str:
        return self.node.name.value


class DirectusModels:
    """The file's pydantic models and the collections they map to, a fact of the file
    (``ctx.fact(DirectusModels)``): PF501-PF504 check the same mapping, gathered once.

    A model maps to a collection by, in order: ``[tool.pitfalls.directus.models]``, its use as
    the item of an item call in the same file, then its name. The rules feed it the classes
    and calls the traversal passes (each node is read once, whichever rule comes first).
    """

    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self._models: list[tuple[cst.ClassDef, str]] = []
        self._usage: dict[str, str] = {}
        self._last: cst.CSTNode | None = None  # the node the rules last fed
        self._mapped: list[tuple[MappedModel, dict[str, DirectusField], list[ModelField]]] | None = None

    def see_class(self, node: cst.ClassDef) -> None:
        """Call from ``visit_ClassDef``, where the context describes the enclosing scope."""
        if node is self._last:
            return
        self._last = node
        if node.bases and self.ctx.at_module_level:
            self._models.append((node, f"{self.ctx.module_name}.{node.name.value}"))

    def see_call(self, node: cst.Call) -> None:
        """Call from ``visit_Call``: an item call names the collection of its item's model."""
        if node is self._last:
            return
        self._last = node
        found = item_call_collection(node)
        if found is None or len(node.args) < 2 or node.args[1].keyword is not None:
            return
        item = node.args[1].value
        model = self.ctx.qualified_name(item.func) if isinstance(item, cst.Call) else self.ctx.class_of_instance(item)
        if model is not None:
            self._usage.setdefault(model, found[1])

    def mapped(self) -> list[tuple[MappedModel, dict[str, DirectusField], list[ModelField]]]:
        """Each mapped model with its collection's fields and its own; call from ``finish()``."""
        if self._mapped is None:
            self._mapped = self._map()
        return self._mapped

    def _map(self) -> list[tuple[MappedModel, dict[str, DirectusField], list[ModelField]]]:
        if not self._models:
            return []
        schema = project_schema(self.ctx)
        if schema is None:
            return []
        configured = self.ctx.settings.directus.models
        out = []
        for node, qualname in self._models:
            name = node.name.value
            collection = (
                configured.get(name)
                or configured.get(qualname)
                or self._usage.get(qualname)
                or collection_for_name(name, schema)
            )
            fields = schema.collections.get(collection or "")
            if collection is None or fields is None or not self.ctx.index.is_pydantic_model(qualname):
                continue
            out.append((MappedModel(node, collection), fields, list(model_fields(node))))
        return out


class CollectionModelRule(Rule):
    """Base of the rules that check pydantic models against their collection (PF501-PF504):
    subclasses get each field of each :class:`DirectusModels` model with the collection's
    field of that name (None when the collection has none)."""

    schema_required = "directus"

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self.models = ctx.fact(DirectusModels)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.models.see_class(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.models.see_call(node)

    def finish(self) -> None:
        for model, fields, declared in self.models.mapped():
            for field in declared:
                self.check_field(model, field, fields.get(field.name))

    def check_field(self, model: MappedModel, field: ModelField, column: DirectusField | None) -> None:
        raise NotImplementedError


def model_fields(node: cst.ClassDef) -> Iterator[ModelField]:
    """The pydantic fields the class body declares (not ClassVars, private names, model_config)."""
    for stmt in node.body.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
                continue
            name = small.target.value
            if name.startswith("_") or name in _NOT_FIELDS:
                continue
            outer = names.names_in_annotation(small.annotation.annotation)[:1]
            if outer and outer[0].split(".")[-1] == "ClassVar":
                continue
            yield ModelField(small.target, field_call_keyword(small.value, "alias") or name, small)


def field_call_keyword(value: cst.BaseExpression | None, keyword: str) -> str | None:
    """The string given as ``keyword=`` to the ``Field(...)`` a field is assigned."""
    arg = field_call_arg(value, keyword)
    return names.string_value(arg.value) if arg is not None else None


def field_call_arg(value: cst.BaseExpression | None, keyword: str) -> cst.Arg | None:
    """The ``keyword=`` argument of the ``Field(...)`` a field is assigned."""
    if isinstance(value, cst.Call) and (names.dotted(value.func) or "").split(".")[-1] == "Field":
        for arg in value.args:
            if arg.keyword is not None and arg.keyword.value == keyword:
                return arg
    return None


def example_column(
    field: str,
    type: str = "string",
    *,
    nullable: bool = True,
    primary_key: bool = False,
    auto_increment: bool = False,
    default: Any = None,
    required: bool = False,
    choices: tuple[Choice, ...] = (),
    special: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A field of a rule example's snapshot, in the shape Directus gives fields (an ``alias``
    field has no column: no ``schema``)."""
    meta = {
        "interface": "select-dropdown" if choices else "input",
        "options": {"choices": [{"text": str(v).replace("_", " ").capitalize(), "value": v} for v in choices]}
        if choices else None,
        "required": required,
        "special": list(special) or None,
    }
    column = None if type == "alias" else {
        "is_nullable": nullable,
        "is_primary_key": primary_key,
        "has_auto_increment": auto_increment,
        "default_value": default,
    }
    return {"field": field, "type": type, "schema": column, "meta": meta}


def example_files(
    collections: dict[str, list[str | dict[str, Any]]],
    permissions: dict[str, tuple[str, ...]] | None = None,
) -> dict[str, str]:
    """A pyproject.toml and snapshot for rule examples (``config=EXAMPLE_CONFIG`` with them).

    A field is a name (a nullable ``string``) or an :func:`example_column`; ``permissions``
    maps a collection to the actions the token may take (the ``/permissions/me`` shape).
    """
    snapshot: dict[str, Any] = {
        "collections": [{"collection": name} for name in collections],
        "fields": [
            {"collection": name, **(example_column(field) if isinstance(field, str) else field)}
            for name, fields in collections.items()
            for field in fields
        ],
        "relations": [],
    }
    if permissions is not None:
        snapshot["permissions"] = {
            name: {action: {"access": "full" if action in allowed else "none"} for action in ACTIONS}
            for name, allowed in permissions.items()
        }
    return {
        "pyproject.toml": '[tool.pitfalls.directus]\nsnapshot = "snap.json"\n',
        "snap.json": json.dumps({"data": snapshot}),
    }


EXAMPLE_CONFIG = {"directus": {"snapshot": "snap.json"}}
