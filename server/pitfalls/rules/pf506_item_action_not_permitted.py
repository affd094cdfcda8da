"""PF506: an item call on a collection that the token's Directus policies do not permit."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.core.schema import ACTIONS
from pitfalls.rules._directus import (
    EXAMPLE_CONFIG,
    ITEM_ACTIONS,
    ITEMS_URL,
    example_files,
    item_call_collection,
    project_schema,
)
from pitfalls.rules.api import Invalid, Rule, Valid

# HTTP methods of the `/items/<collection>` endpoints and the permission each needs.
_HTTP_ACTIONS = {"get": "read", "post": "create", "patch": "update", "delete": "delete"}
_MAX_HOPS = 5  # name -> assigned value hops followed to find a URL

_PERMISSIONS = {"articles": ("read", "create", "update"), "authors": ("read",), "comments": ()}
_FILES = example_files({"articles": ["id", "title"], "authors": ["id", "name"], "comments": ["id", "body"]},
                       permissions=_PERMISSIONS)


class ItemActionNotPermitted(Rule):
    """
    ## What it does
    Checks item calls against what the token may do, when the schema comes with the
    token's permissions (`/permissions/me`: a live server, or a snapshot written by
    `pitfalls snapshot`). `create_item`/`create_items` need `create`,
    `read_item`/`read_items` and `items("c").read...()` need `read`, `update_item`/
    `update_items` need `update`, `delete_item`/`delete_items` need `delete`; raw HTTP
    calls to `/items/<collection>` (`requests`, `httpx` or any client's `get`, `post`,
    `patch`, `delete`, or `request("POST", url)`, with the URL as a literal, an f-string
    or a variable assigned one) need `read`, `create`, `update` and `delete` in that order.

    Not checked: schemas without permissions (a snapshot taken by Directus itself),
    collections the schema lacks (PF505 reports those), system collections
    (`directus_*`) and collection names built at run time.

    ## Why is this bad?
    Directus refuses the request with 403, and its message does not say whether the
    permission is missing or the collection does not exist (the guide's below; Directus
    12.4 says `You don't have permission to access collection "articles" or it does not
    exist. Queried in root.`):

    ```
    {"errors":[{"message":"You don't have permission to \\"create\\" from collection \\"articles\\" or it does not exist.","extensions":{"code":"FORBIDDEN"}}]}
    ```

    ## Example
    ```python
    # The token's policy may read and create articles, and nothing else.
    client.delete_item("articles", article_id)
    ```

    ## Use instead
    In Settings > Access Control > Access Policies, add `delete` on `articles` to the
    token's policy and check that the policy is assigned to the user's role (or to the
    user), then take a new snapshot; or leave the deletion to a token that may do it.

    ## Fix safety
    There is no automatic fix: permissions are changed in Directus, not in the code.
    """

    code = "PF506"
    function_local = True  # see Rule.function_local
    name = "item-action-not-permitted"
    summary = "Item action the Directus token is not permitted"
    exact_on_ast_tree = True
    schema_required = "directus"

    VALID = [
        # Actions the policies allow, through the SDK and raw HTTP.
        Valid("""
            import httpx
            import requests

            def sync(client, url, headers, article_id):
                client.read_items("articles")
                client.create_item("articles", {"title": "t"})
                client.update_item("articles", article_id, {"title": "u"})
                client.items("authors").read_many()
                requests.get(f"{url}/items/authors/{article_id}", headers=headers, timeout=10)
                httpx.patch(f"{url}/items/articles/{article_id}", json={}, headers=headers)
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # Unknown collections (PF505), system collections, names built at run time, other methods.
        Valid("""
            import requests

            def sync(client, url, collection, headers):
                client.delete_item("invoices", 1)
                client.delete_item("directus_users", 1)
                client.delete_item(collection, 1)
                requests.delete(f"{url}/items/{collection}/1", headers=headers, timeout=10)
                requests.put(f"{url}/items/comments/1", headers=headers, timeout=10)
                client.get_item("comments", 1)
        """, files=_FILES, config=EXAMPLE_CONFIG),
        # A snapshot without permissions: nothing is known about the token.
        Valid("""
            def clean_up(client, article_id):
                client.delete_item("articles", article_id)
        """, files=example_files({"articles": ["id"]}), config=EXAMPLE_CONFIG),
    ]
    INVALID = [
        # The guide's 403: no `create` on the collection.
        Invalid("""
            def add_comment(client, text):
                return client.create_item("comments", {"body": text})
        """, files=_FILES, config=EXAMPLE_CONFIG, line=2, message="may not create items of 'comments'"),
        # Raw HTTP: DELETE needs `delete`; a URL assigned to a name first; `request("POST", ...)`.
        Invalid("""
            import httpx
            import requests

            BASE = "http://localhost:8055"

            def clean_up(article_id, headers):
                requests.delete(f"{BASE}/items/articles/{article_id}", headers=headers, timeout=10)
                url = BASE + "/items/comments"
                httpx.post(url, json={"body": "b"}, headers=headers)
                httpx.request("PATCH", f"{BASE}/items/authors/1", json={}, headers=headers)
        """, files=_FILES, config=EXAMPLE_CONFIG, count=3),
        # The SDK's `items(...)` and `delete_items`.
        Invalid("""
            async def purge(directus):
                comments = await directus.items("comments").read_many()
                await directus.delete_items("articles", [1, 2])
                return comments
        """, files=_FILES, config=EXAMPLE_CONFIG, count=2),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        found = self._item_action(node) or self._http_action(node)
        if found is None:
            return
        action, collection = found
        schema = project_schema(self.ctx)
        if (
            schema is None
            or collection.startswith("directus_")
            or collection not in schema.collections
            or schema.allows(collection, action) is not False
        ):
            return
        self.ctx.report(
            node,
            f"The token may not {action} items of '{collection}': Directus answers 403 FORBIDDEN (You don't have "
            f"permission to ... collection \"{collection}\" or it does not exist.); give the token's policy "
            f"{action} on '{collection}' (Settings > Access Control > Access Policies), check that the policy "
            f"is assigned to the user's role, and take a new snapshot",
        )

    def _item_action(self, call: cst.Call) -> tuple[str, str] | None:
        """``client.create_item("c", ...)``, and ``client.items("c").read_many()`` and the like."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        method = func.attr.value
        if method in ITEM_ACTIONS:
            found = item_call_collection(call)
            return (ITEM_ACTIONS[method], found[1]) if found else None
        if isinstance(func.value, cst.Call) and names.last_name(func.value.func) == "items":
            action = next((a for a in ACTIONS if method.startswith(a)), None)
            found = item_call_collection(func.value)
            return (action, found[1]) if action and found else None
        return None

    def _http_action(self, call: cst.Call) -> tuple[str, str] | None:
        """``requests.post(".../items/c")`` and the other `/items/` endpoints by HTTP method."""
        method = names.last_name(call.func)
        positional = [a.value for a in call.args if a.keyword is None and not a.star]
        if method in _HTTP_ACTIONS:
            url = positional[0] if positional else None
        elif method == "request" and positional:
            method = (names.string_value(positional[0]) or "").lower()
            url = positional[1] if len(positional) > 1 else None
        else:
            return None
        if method not in _HTTP_ACTIONS:
            return None
        if url is None:
            url = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == "url"), None)
        collection = self._items_collection(url)
        return (_HTTP_ACTIONS[method], collection) if collection else None

    def _items_collection(self, url: cst.BaseExpression | None) -> str | None:
        """The collection of an `/items/<name>` URL: a literal, an f-string, a ``+`` of them,
        or a name last assigned one. Placeholders stand for unknown text."""
        for _ in range(_MAX_HOPS):
            if not isinstance(url, cst.Name):
                break
            url = self.ctx.value_of(url.value)
        if url is None:
            return None
        text = _url_text(url)
        match = ITEMS_URL.search(text) if text and "/items/" in text else None
        return match.group(1) if match else None


def _url_text(expr: cst.BaseExpression) -> str | None:
    """The URL's text with ``{}`` for every part not spelled out."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = names.string_value(expr)
        return value if value is not None else "{}"
    if isinstance(expr, cst.FormattedString):
        return "".join(p.value if isinstance(p, cst.FormattedStringText) else "{}" for p in expr.parts)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        left, right = _url_text(expr.left), _url_text(expr.right)
        return None if left is None or right is None else left + right
    return "{}"
