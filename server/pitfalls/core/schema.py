"""The schemas a check runs against, as the rules see them: plain, picklable data.

Where they come from (a Directus server or snapshot, a database) is :mod:`pitfalls.sources`;
the rules only read these classes, and the workers receive them as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum

Choice = str | int | float | bool
# The item actions of `/permissions/me`, and what an item call needs of them.
ACTIONS = ("create", "read", "update", "delete")


@dataclass(frozen=True)
class DirectusField:
    """One field of a collection, as far as a model that writes it cares."""

    name: str
    type: str | None = None  # Directus's type: integer, string, text, json, timestamp, uuid, csv, alias...
    nullable: bool = True
    primary_key: bool = False
    auto_increment: bool = False
    has_default: bool = False
    required: bool = False  # meta.required: the app and the API refuse an item without it
    choices: tuple[Choice, ...] | None = None  # a dropdown's fixed values (options.choices)
    special: tuple[str, ...] = ()

    @property
    def must_be_sent(self) -> bool:
        """An item created without this field is refused (or the insert fails)."""
        if self.primary_key and (self.auto_increment or self.has_default or self.type == "uuid"):
            return False
        return (self.required or not self.nullable) and not self.has_default


@dataclass(frozen=True)
class DirectusSchema:
    """Collections and their fields; ``permissions`` is what the token may do per collection
    (``None`` when unknown: a snapshot, or a server without ``/permissions/me``)."""

    collections: dict[str, dict[str, DirectusField]]
    permissions: dict[str, frozenset[str]] | None = None
    source: str = field(default="", compare=False)

    def fingerprint(self) -> str:
        payload = json.dumps(
            {
                "collections": {
                    name: {f: [v.type, v.nullable, v.primary_key, v.auto_increment, v.has_default, v.required,
                               list(v.choices) if v.choices is not None else None, list(v.special)]
                           for f, v in sorted(fields.items())}
                    for name, fields in sorted(self.collections.items())
                },
                "permissions": None if self.permissions is None
                else {c: sorted(a) for c, a in sorted(self.permissions.items())},
            },
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()

    def allows(self, collection: str, action: str) -> bool | None:
        """Whether the token may ``action`` items of ``collection``; None when unknown."""
        if self.permissions is None:
            return None
        return action in self.permissions.get(collection, frozenset())


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    has_default: bool = False  # the database fills it: a server default, sequence, identity, computed, rowid
    primary_key: bool = False
    autoincrement: bool = False  # numbers itself: serial, identity, AUTO_INCREMENT, SQLite's rowid


class Lookup(Enum):
    """Why :meth:`DatabaseSchema.table` found no columns."""

    MISSING = "missing"  # no such table (or view) in any schema that was read
    UNKNOWN = "unknown"  # the schema was not read, or several schemas hold that name


@dataclass(frozen=True)
class DatabaseSchema:
    """Tables and views by name (``schema.table`` outside the default schema) and their columns.

    ``schemas`` are the schemas that were read, by name, the default one included.
    ``folds_case``: the database matches names without regard to case (SQLite, MySQL; not
    PostgreSQL, where SQLAlchemy quotes every name that is not lower case)."""

    tables: dict[str, dict[str, Column]]
    default_schema: str | None = None
    schemas: frozenset[str] = frozenset()
    folds_case: bool = False
    source: str = field(default="", compare=False)

    def table(self, name: str, schema: str | None = None) -> dict[str, Column] | Lookup:
        """The columns the application reaches as ``name`` (in ``schema`` when the model
        names one). Without a schema that is the default schema's table, or else the one
        table of that name elsewhere (a ``search_path`` or ``MetaData(schema=...)`` the
        rules cannot see); two or more elsewhere are ambiguous."""
        if schema is not None and schema != self.default_schema:
            if schema not in self.schemas:
                return Lookup.UNKNOWN
            found = self._get(self.tables, f"{schema}.{name}")
            return Lookup.MISSING if found is None else found
        found = self._get(self.tables, name)
        if found is not None:
            return found
        if schema is not None:
            return Lookup.MISSING
        elsewhere = [key for key in self.tables if "." in key and self._same(key.partition(".")[2], name)]
        if len(elsewhere) == 1:
            return self.tables[elsewhere[0]]
        return Lookup.UNKNOWN if elsewhere else Lookup.MISSING

    def column(self, columns: dict[str, Column], name: str) -> Column | None:
        return self._get(columns, name)

    def _get(self, by_name: dict, name: str):
        found = by_name.get(name)
        if found is None and self.folds_case:
            found = next((value for key, value in by_name.items() if self._same(key, name)), None)
        return found

    def _same(self, a: str, b: str) -> bool:
        return a == b or (self.folds_case and a.casefold() == b.casefold())

    def fingerprint(self) -> str:
        payload = json.dumps(
            {
                "default": self.default_schema,
                "schemas": sorted(self.schemas),
                "folds_case": self.folds_case,
                "tables": {
                    t: sorted([c.name, c.type, c.nullable, c.has_default, c.primary_key, c.autoincrement] for c in cols.values())
                    for t, cols in sorted(self.tables.items())
                },
            },
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Schemas:
    directus: DirectusSchema | None = None
    database: DatabaseSchema | None = None

    def fingerprint(self) -> str:
        """Part of the cache key: results computed against another schema do not hold."""
        parts = [s.fingerprint() if s else "-" for s in (self.directus, self.database)]
        return hashlib.blake2b(",".join(parts).encode(), digest_size=8).hexdigest()
