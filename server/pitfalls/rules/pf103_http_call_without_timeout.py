"""PF103: a `requests` call without a timeout."""

from __future__ import annotations

import tokenize

import libcst as cst

from pitfalls.core import names
from pitfalls.core.source import NEWLINE
from pitfalls.rules._http import HTTP_METHODS, REQUESTS_FUNCTIONS, ClientRule
from pitfalls.rules._layout import WrittenCall
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Severity, Valid

_TIMEOUT = "timeout=10"


def _may_pass_timeout(call: cst.Call) -> bool:
    """``timeout=`` is passed, or may be through ``*args``/``**kwargs``."""
    return any(arg.star or (arg.keyword is not None and arg.keyword.value == "timeout") for arg in call.args)


class HttpCallWithoutTimeout(ClientRule):
    """
    ## What it does
    Checks for `requests` calls (`requests.get/post/put/patch/delete/head/options/request`,
    and the same methods of a `requests.Session`) that do not pass `timeout=`.

    A session is recognised when it is built by `requests.Session()` (or `requests.session()`)
    and called directly, through a name assigned from it, `with requests.Session() as s:`,
    a parameter annotated `requests.Session`, or a `self.<attr>` the class assigns it to.

    Command-line scripts (a module that runs under `if __name__ == "__main__":` or parses
    its arguments at module level) are left alone: the person running one sees a hang and
    interrupts it; nothing else waits behind it.

    ## Why is this bad?
    `requests` has no default timeout: when the server accepts the connection but never
    answers (a Directus container that is still starting, a proxy that hangs), the call
    waits forever and the script, worker or request handler hangs with it. A server that is
    down at least fails fast, as the Directus guide shows:

    ```
    ConnectionError: HTTPSConnectionPool(host='localhost', port=8055)
    requests.exceptions.ConnectionError
    ```

    but a stuck one gives no error at all. With a timeout the call raises
    `requests.exceptions.Timeout`, which the caller can handle.

    `httpx` is not reported (it has a 5 second default timeout), nor a call that passes
    `*args`/`**kwargs` (the timeout may be in them). An explicit `timeout=None` is taken as
    a deliberate choice.

    ## Example
    ```python
    import requests

    auth_response = requests.post("http://localhost:8055/auth/login", json={
        "email": "api-agent@tvo.local.nl",
        "password": password,
    })
    ```

    ## Use instead
    ```python
    import requests

    auth_response = requests.post("http://localhost:8055/auth/login", json={
        "email": "api-agent@tvo.local.nl",
        "password": password,
    }, timeout=10)
    ```

    ## Fix safety
    The fix adds `timeout=10` as the last argument. It is unsafe: a call that legitimately
    takes longer than 10 seconds (a large upload or export) now raises
    `requests.exceptions.Timeout`; pick the value that fits the endpoint.
    """

    code = "PF103"
    function_local = True  # see Rule.function_local
    name = "http-call-without-timeout"
    summary = "HTTP call without a timeout"
    severity = Severity.WARNING
    fix_applicability = Applicability.UNSAFE
    exact_on_ast_tree = True  # its fix is made from the call's text (NodeEdit.from_text)

    VALID = [
        # A developer's script: whoever runs it sees the hang (and Ctrl+C ends it).
        Valid("""
            import requests

            def fetch_locales(url: str) -> dict:
                return requests.get(url).json()

            if __name__ == "__main__":
                print(fetch_locales("http://localhost:8080/locales"))
        """),
        Valid("""
            import requests

            health = requests.get(f"{DIRECTUS_URL}/server/info", timeout=5)
        """),
        Valid("""
            import httpx

            response = httpx.get("http://localhost:8055/server/info")
            with httpx.Client() as client:
                client.post("http://localhost:8055/auth/login", json={"email": email})
        """),
        Valid("""
            import requests

            def call(method, url, **kwargs):
                return requests.request(method, url, **kwargs)
        """),
        Valid("""
            import requests

            def get_setting(config: dict, headers):
                url = config.get("url")
                return requests.get(url, headers=headers, timeout=(3.05, 27))
        """),
        Valid("""
            from sqlalchemy.orm import Session

            from app.models import Partner

            def load(session: Session, partner_id: int):
                return session.get(Partner, partner_id)
        """),
        Valid("""
            from sqlalchemy.ext.asyncio import AsyncSession

            async def load(db: AsyncSession, partner_id: int):
                return await db.get(Partner, partner_id)
        """),
        Valid("""
            import requests

            session = requests.Session()
            session.headers.update({"Authorization": f"Bearer {token}"})
            session.get(url, timeout=10)
            params = {"fields": "*.*"}
            params.get("fields")
        """),
        Valid("""
            import requests

            def download(url):
                return requests.get(url, stream=True, timeout=None)
        """),
        Valid("""
            requests = {"get": 1}
            requests.get("get")
        """),
        Valid("""
            import requests
            from fastapi import Depends
            from sqlalchemy.orm import Session

            from app.models import Partner

            session = requests.Session()

            def read_partner(partner_id: int, session: Session = Depends(get_session)):
                return session.get(Partner, partner_id)

            def count_partners(engine):
                with Session(engine) as session:
                    return session.get(Partner, 1)
        """),
        Valid("""
            import requests
            from fastapi import Request

            async def handler(request: Request, session):
                request.headers.get("authorization")
                session.get("user_id")
        """),
    ]
    INVALID = [
        # A session the class body builds, used through `self` and through the class.
        Invalid("""
            import requests

            class DirectusClient:
                session = requests.Session()

                def items(self, collection: str) -> list:
                    return self.session.get(f"{self.base}/items/{collection}").json()["data"]

                @classmethod
                def ping(cls) -> bool:
                    return DirectusClient.session.head(cls.base).ok
        """, count=2),
        # Imported under another name.
        Invalid("""
            from requests import get as http_get

            def fetch(url: str) -> dict:
                return http_get(url).json()
        """, line=4, fixed="""
            from requests import get as http_get

            def fetch(url: str) -> dict:
                return http_get(url, timeout=10).json()
        """),
        Invalid(
            """
            import requests

            auth_response = requests.post("http://localhost:8055/auth/login", json={
                "email": "api-agent@tvo.local.nl",
                "password": "SecureApiPassword123!"
            })
            """,
            line=3,
            message="requests.post",
            fixed="""
            import requests

            auth_response = requests.post("http://localhost:8055/auth/login", json={
                "email": "api-agent@tvo.local.nl",
                "password": "SecureApiPassword123!"
            }, timeout=10)
            """,
        ),
        Invalid(
            """
            from requests import get

            user_response = get("http://localhost:8055/users/me?fields=*.*", headers=headers)
            """,
            line=3,
            fixed="""
            from requests import get

            user_response = get("http://localhost:8055/users/me?fields=*.*", headers=headers, timeout=10)
            """,
        ),
        Invalid(
            """
            import requests

            def fetch_articles(token):
                with requests.Session() as session:
                    session.headers["Authorization"] = f"Bearer {token}"
                    return session.get(
                        f"{DIRECTUS_URL}/items/articles",
                        params={"limit": 10},
                    )
            """,
            line=6,
            message="session.get",
            fixed="""
            import requests

            def fetch_articles(token):
                with requests.Session() as session:
                    session.headers["Authorization"] = f"Bearer {token}"
                    return session.get(
                        f"{DIRECTUS_URL}/items/articles",
                        params={"limit": 10},
                        timeout=10,
                    )
            """,
        ),
        Invalid(
            """
            import requests

            class DirectusClient:
                def __init__(self, url):
                    self.url = url
                    self.session = requests.Session()

                def delete(self, item_id):
                    return self.session.delete(
                        f"{self.url}/items/articles/{item_id}"
                    )
            """,
            line=9,
            fixed="""
            import requests

            class DirectusClient:
                def __init__(self, url):
                    self.url = url
                    self.session = requests.Session()

                def delete(self, item_id):
                    return self.session.delete(
                        f"{self.url}/items/articles/{item_id}",
                        timeout=10
                    )
            """,
        ),
        Invalid(
            """
            import requests

            def ping(session: requests.Session):
                session.head(url,  # the health endpoint
                             allow_redirects=True,  # follow to /server/ping
                )
                return requests.session().options()
            """,
            count=2,
            fixed="""
            import requests

            def ping(session: requests.Session):
                session.head(url,  # the health endpoint
                             allow_redirects=True,  # follow to /server/ping
                             timeout=10,
                )
                return requests.session().options(timeout=10)
            """,
        ),
        # A comment after the last argument, which has no comma; text beyond ASCII before it.
        Invalid(
            """
            import requests

            def publish(payload: dict) -> None:
                requests.post("https://directus.example/items/café", headers={"X-Naïve": "ü"},
                    json=payload  # the item
                )
            """,
            fixed="""
            import requests

            def publish(payload: dict) -> None:
                requests.post("https://directus.example/items/café", headers={"X-Naïve": "ü"},
                    json=payload,  # the item
                    timeout=10
                )
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        method = names.last_name(func)
        if method is None:
            return
        # A plain name may be any function under another name: `from requests import get as http_get`.
        if method not in HTTP_METHODS and type(func) is not cst.Name:
            return
        if _may_pass_timeout(node) or self.ctx.is_script:
            return
        qual = self.ctx.qualified_name(func)
        if qual in REQUESTS_FUNCTIONS:
            label = qual
        elif isinstance(func, cst.Attribute) and self.client_type(func.value) == "requests.Session":
            label = names.dotted(func) or f"requests.Session.{method}"
        else:
            return
        self.ctx.report(
            node,
            f"`{label}()` has no timeout: it waits forever when the server does not answer; "
            "pass `timeout=`",
            fix=self.ctx.fix(f"Add `{_TIMEOUT}`", NodeEdit.from_text(node, _add_timeout)),
        )


def _add_timeout(text: str) -> tuple[int, int, str] | None:
    """``timeout=10`` after the last argument of the call written ``text``, laid out like
    the other arguments: the offsets into the text to replace, and with what."""
    try:
        call = WrittenCall(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if not call.arguments:
        return len(text) - 1, len(text) - 1, _TIMEOUT
    last_start, last_end = call.arguments[-1]
    if len(call.arguments) > 1:
        comma = call.token_after(call.arguments[-2][1])
        before = comma[3] if comma is not None else last_start
    else:
        before = call.opening + 1
    newline = NEWLINE.search(text, before, last_start)
    if newline is None:  # `f(a, b)`, `f(a, json={...})`
        return last_end, last_end, f", {_TIMEOUT}"
    # The last argument starts its own line: so does the new one, at the same indentation.
    line_start = max(text.rfind("\n", 0, last_start), text.rfind("\r", 0, last_start)) + 1
    indent = text[line_start:last_start]
    indent = indent[: len(indent) - len(indent.lstrip(" \t\f"))]
    new_line = f"{newline.group()}{indent}{_TIMEOUT}"
    after = call.token_after(last_end)
    since = last_end
    has_comma = after is not None and after[1] == ","
    if after is not None and has_comma:
        since = after[3]
        after = call.token_after(since)
    comment = after if after is not None and after[0] == tokenize.COMMENT else None
    if comment is None or NEWLINE.search(text, since, comment[2]) is not None:
        return last_end, last_end, f",{new_line}"
    # Keep the comment on the line of the argument it belongs to.
    if has_comma:
        return comment[3], comment[3], f"{new_line},"
    spaces = text[last_end:comment[2]]
    return last_end, comment[3], f",{spaces}{comment[1]}{new_line}"
