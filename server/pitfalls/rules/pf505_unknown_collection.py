"""PF505: a Directus collection name that the schema does not have."""

from __future__ import annotations

import difflib
from functools import cached_property

import libcst as cst

from pitfalls.core.schema import DirectusSchema
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    ITEMS_URL,
    example_files,
    item_call_collection,
    project_schema,
)
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, Valid

_FILES = example_files({"articles": ["id", "title"], "authors": ["id", "name"], "article_tags": ["id"]})


class UnknownCollection(Rule):
    """
    ## What it does
    Checks Directus collection names against the schema (a snapshot, or the live server):
    the first argument of `create_item(s)`, `read_item(s)`, `update_item(s)`,
    `delete_item(s)` and `items` calls (on any client), and `/items/<name>` in URL strings
    and f-strings. System collections (`directus_*`) are not checked. A live schema read
    with a non-admin token holds only the collections that token may see.

    ## Why is this bad?
    Directus does not say that a collection is missing; it answers 403 as if the token
    lacked a permission, so a typo sends people hunting through roles and policies:

    ```
    {"errors":[{"message":"You don't have permission to \\"create\\" from collection \\"articles\\" or it does not exist.","extensions":{"code":"FORBIDDEN"}}]}
    ```

    ## Example
    ```python
    client.create_item("article", item)
    requests.get(f"{DIRECTUS_URL}/items/artciles", headers=headers, timeout=10)
    ```

    ## Use instead
    ```python
    client.create_item("articles", item)
    requests.get(f"{DIRECTUS_URL}/items/articles", headers=headers, timeout=10)
    ```

    ## Fix safety
    When exactly one collection of the schema is a close match, the fix replaces the name
    with it. It is safe: a name the schema lacks cannot work as it is.
    """

    code = "PF505"
    function_local = True  # see Rule.function_local
    name = "unknown-collection"
    summary = "Directus collection not in the schema"
    schema_required = "directus"
    fix_applicability = Applicability.SAFE

    VALID = [
        # Collections the schema has, in calls and URLs.
        Valid("""
            import requests

            def load(client, url, headers, article_id):
                client.create_item("articles", {"title": "t"})
                client.read_items("article_tags")
                requests.get(f"{url}/items/authors/{article_id}", headers=headers, timeout=10)
                requests.get(url + "/items/articles?limit=1", headers=headers, timeout=10)
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # System collections, dynamic names and partial f-string names are not checked.
        Valid("""
            def load(client, url, collection, suffix):
                client.read_items("directus_users")
                client.read_items(collection)
                client.get(f"{url}/items/{collection}")
                client.get(f"{url}/items/article_{suffix}")
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Without a snapshot the rule is off.
        Valid("""
            def load(client):
                client.create_item("article", {})
        """),
        # Look-alikes: dict.items(), prose mentioning a URL, other methods, keyword names.
        Valid('''
            def report(client, data, log):
                """Reads GET /items/widgets for the dashboard."""
                for key, value in data.items():
                    log.info("see /items/widgets in the docs", key, value)
                client.get_item("widgets")
                client.create_item(collection="widgets", item={})
        ''', files=_FILES, config=EXAMPLE_CONFIG),
    ]
    INVALID = [
        # A typo in the collection name.
        Invalid("""
            def publish(client, item):
                return client.create_item("article", item)
        """, files=_FILES, config=EXAMPLE_CONFIG, line=2, message="did you mean 'articles'?", fixed="""
            def publish(client, item):
                return client.create_item("articles", item)
        """),
        # In an f-string URL.
        Invalid("""
            import requests

            def fetch(url, headers, article_id):
                return requests.get(f"{url}/items/artciles/{article_id}", headers=headers, timeout=10)
        """, files=_FILES, config=EXAMPLE_CONFIG, line=4, fixed="""
            import requests

            def fetch(url, headers, article_id):
                return requests.get(f"{url}/items/articles/{article_id}", headers=headers, timeout=10)
        """),
        # In a plain URL string.
        Invalid("""
            ARTICLES_URL = "http://localhost:8055/items/auhtors?limit=10"
        """, files=_FILES, config=EXAMPLE_CONFIG, line=1, fixed="""
            ARTICLES_URL = "http://localhost:8055/items/authors?limit=10"
        """),
        # No close match: reported, no fix.
        Invalid("""
            async def load(directus):
                return await directus.read_items("invoices")
        """, files=_FILES, config=EXAMPLE_CONFIG, line=2, message="'invoices' is not in the Directus schema"),
    ]

    @cached_property
    def _schema(self) -> DirectusSchema | None:
        """Loaded on the first name to check: most files have none."""
        return project_schema(self.ctx)

    def visit_Call(self, node: cst.Call) -> None:
        found = item_call_collection(node)
        if found is not None:
            literal, name = found
            raw = literal.value
            start = raw.index(literal.quote) + len(literal.quote)
            if raw[start : start + len(name)] == name:  # no escapes to keep
                self._check(literal, raw, start, name)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        raw = node.value
        if "/items/" in raw and not any(c.isspace() for c in raw):
            match = ITEMS_URL.search(raw)
            if match:
                self._check(node, raw, match.start(1), match.group(1))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        texts = [p for p in node.parts if isinstance(p, cst.FormattedStringText)]
        if not any("/items/" in t.value for t in texts) or any(c.isspace() for t in texts for c in t.value):
            return
        for i, part in enumerate(node.parts):
            if not (isinstance(part, cst.FormattedStringText) and "/items/" in part.value):
                continue
            last = i == len(node.parts) - 1
            for match in ITEMS_URL.finditer(part.value):
                if match.end() < len(part.value) or last:  # not a name continued by `{...}`
                    self._check(part, part.value, match.start(1), match.group(1))

    def _check(self, node: cst.CSTNode, text: str, start: int, name: str) -> None:
        if name.startswith("directus_"):
            return
        schema = self._schema
        if schema is None or name in schema.collections:
            return
        close = difflib.get_close_matches(name, schema.collections, n=2, cutoff=0.8)
        if len(close) != 1:
            # With a token's permissions at hand, the schema is what that token may see.
            hidden = " (or the token may not see it)" if schema.permissions is not None else ""
            self.ctx.report(node, f"Collection '{name}' is not in the Directus schema{hidden}")
            return
        new = text[:start] + close[0] + text[start + len(name) :]
        self.ctx.report(
            node,
            f"Collection '{name}' is not in the Directus schema; did you mean '{close[0]}'?",
            fix=self.ctx.fix(f"Use collection '{close[0]}'", NodeEdit(node, new)),
        )
