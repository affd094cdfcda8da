"""PF404: a blocking call directly inside an `async def`."""

from __future__ import annotations

import libcst as cst

from pitfalls.core import names
from pitfalls.rules._async import SyncHelpers
from pitfalls.rules._http import HTTP_METHODS, REQUESTS_FUNCTIONS, ClientRule
from pitfalls.rules.api import Invalid, RuleContext, Severity, Valid

_ASYNC_HTTP = "`httpx.AsyncClient` (or `await asyncio.to_thread(...)`)"
_ASYNC_SUBPROCESS = "`asyncio.create_subprocess_exec()` (or `await asyncio.to_thread(...)`)"

# Blocking functions -> what to use instead.
_BLOCKING_FUNCTIONS = {
    "time.sleep": "`await asyncio.sleep()`",
    "os.system": "`asyncio.create_subprocess_shell()` (or `await asyncio.to_thread(...)`)",
    "urllib.request.urlopen": _ASYNC_HTTP,
    **dict.fromkeys(REQUESTS_FUNCTIONS, _ASYNC_HTTP),
    **{f"httpx.{method}": _ASYNC_HTTP for method in (*HTTP_METHODS, "stream")},
    **{
        f"subprocess.{name}": _ASYNC_SUBPROCESS
        for name in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput")
    },
}
_FUNCTION_NAMES = frozenset(qual.rpartition(".")[2] for qual in _BLOCKING_FUNCTIONS)

# Sync client type -> (its blocking methods, None for all but _REDIS_NO_IO; what to use instead)
_BLOCKING_METHODS: dict[str, tuple[frozenset[str] | None, str]] = {
    "requests.Session": (HTTP_METHODS | {"send"}, _ASYNC_HTTP),
    "httpx.Client": (HTTP_METHODS | {"send", "stream"}, _ASYNC_HTTP),
    "redis.Redis": (None, "a `redis.asyncio` client"),
    "subprocess.Popen": (frozenset({"wait", "communicate"}), _ASYNC_SUBPROCESS),
}
_REDIS_NO_IO = frozenset({"pipeline", "pubsub", "lock", "register_script"})  # build objects only


class BlockingCallInAsync(ClientRule):
    """
    ## What it does
    Checks for blocking calls made directly inside an `async def`: `requests` calls,
    `time.sleep()`, methods of a sync Redis client (`redis.Redis(...)`,
    `redis.StrictRedis(...)`, `redis.from_url(...)`), `subprocess.run()` and its siblings
    (`call`, `check_call`, `check_output`, `Popen(...).wait()`/`.communicate()`),
    `os.system()`, `urllib.request.urlopen()`, `httpx.get/post/...()` and the methods of an
    `httpx.Client`.

    The client may be built in the function, held in a module-level name (a
    `redis_client = redis.Redis(...)` shared by FastAPI endpoints), a parameter annotated
    with its type, or a `self.<attr>` assigned in the class (`self.redis = redis.Redis(...)`
    in `__init__`, or `session = requests.Session()` in the class body). A call of a sync
    method or function of the same file that itself makes such a call
    (`self._get(path)` wrapping `self.session.get(...)`) blocks just the same, unless a
    decorator may change how it runs or it is a generator.

    Test modules (`test_*.py`, `*_test.py`, `conftest.py`, anything under `tests/`) are left
    alone: an async test that blocks only slows itself; no request waits behind it.

    ## Why is this bad?
    An `async def` runs on the event loop's only thread: while a blocking call waits for the
    network, Redis or a child process, no other request, background task or timeout of the
    application makes progress. A slow Redis or Directus turns into an unresponsive API, and
    nothing in the traceback points at the cause. The guides' own Redis check does it:

    ```python
    async def test_redis_connection():
        redis_client = redis.Redis(host='localhost', port=6379, db=0)
        redis_client.ping()
    ```

    Calls in a nested `def` or `lambda`, a function passed to `asyncio.to_thread()` or
    `loop.run_in_executor()`, `httpx.AsyncClient`, `redis.asyncio` clients and awaited calls
    are not reported.

    The severity is a warning because the harm depends on where the code runs: a blocking
    call in a one-off script's `async def main()` is harmless, the same call in a request
    handler stalls every concurrent request.

    ## Example
    ```python
    import redis
    from fastapi import FastAPI

    app = FastAPI()
    redis_client = redis.Redis(host="localhost", port=6379, db=0)

    @app.get("/health")
    async def health():
        return {"redis": redis_client.ping()}
    ```

    ## Use instead
    ```python
    import redis.asyncio as redis
    from fastapi import FastAPI

    app = FastAPI()
    redis_client = redis.Redis(host="localhost", port=6379, db=0)

    @app.get("/health")
    async def health():
        return {"redis": await redis_client.ping()}
    ```

    ## Fix safety
    There is no automatic fix: the async alternative needs an `await`, a different client
    and often a different call shape.
    """

    code = "PF404"
    name = "blocking-call-in-async"
    summary = "Blocking call inside `async def`"
    exact_on_ast_tree = True
    severity = Severity.WARNING

    VALID = [
        # The sync helper run in a thread, a generator (its body runs when iterated), a
        # helper a decorator makes a coroutine function, and one that only builds a request.
        Valid("""
            import asyncio

            import requests
            from asgiref.sync import sync_to_async

            class DirectusService:
                session = requests.Session()

                def _get(self, path: str) -> dict:
                    return self.session.get(path, timeout=5).json()

                def _pages(self, path: str):
                    yield self.session.get(path, timeout=5).json()

                @sync_to_async
                def _load(self, path: str) -> dict:
                    return self.session.get(path, timeout=5).json()

                def _request(self, path: str) -> requests.Request:
                    return requests.Request("GET", path)

                async def partner(self, partner_id: int) -> dict:
                    pages = self._pages("/items/partners")
                    self._request("/items/partners")
                    asyncio.create_task(self._load("/items/partners"))
                    return await asyncio.to_thread(self._get, f"/items/partners/{partner_id}")
        """),
        # The same, with the asyncio client that module builds: awaited, nothing blocks.
        Valid("""
            from app.core.cache import redis_client

            async def health() -> bool:
                return await redis_client.ping()
        """, files={
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/cache.py": "from redis import asyncio as aioredis\n\nredis_client = aioredis.Redis(host=\"localhost\")\n",
        }, path="app/routes.py"),
        # A test waiting for a token to expire: no other request waits behind it.
        Valid("""
            import time

            async def test_expired_token_is_refused(client) -> None:
                time.sleep(2)
                response = await client.get("/me")
                assert response.status_code == 401
        """, path="tests/api/test_auth.py"),
        Valid("""
            import asyncio

            import httpx
            import redis.asyncio as redis

            async def check(url):
                async with httpx.AsyncClient(timeout=10) as client:
                    response = await client.get(url)
                redis_client = redis.Redis(host="localhost", port=6379, db=0)
                await redis_client.ping()
                await asyncio.sleep(1)
                return response
        """),
        Valid("""
            from redis.asyncio import Redis

            cache = Redis.from_url("redis://localhost:6379/0")

            class EventPublisher:
                def __init__(self):
                    self.redis = Redis(host="localhost")

                async def publish(self, event):
                    await self.redis.xadd("partner_events", event)
                    await cache.set("last_event", event["id"])
        """),
        Valid("""
            import asyncio
            import time

            import requests

            async def fetch(url):
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, time.sleep, 1)
                await loop.run_in_executor(None, lambda: requests.get(url, timeout=10))
                return await asyncio.to_thread(requests.get, url, timeout=10)
        """),
        Valid("""
            import subprocess
            import time

            import redis
            import requests

            redis_client = redis.Redis(host="localhost", port=6379, db=0)

            def sync_check():
                time.sleep(1)
                redis_client.ping()
                subprocess.run(["docker", "ps"], check=True)
                return requests.get("http://localhost:8055/server/info", timeout=5)

            async def main():
                def blocking_part():
                    time.sleep(1)
                    return redis_client.ping()

                return await asyncio.to_thread(blocking_part)
        """),
        Valid("""
            from fastapi import Depends, FastAPI, Request
            from sqlalchemy.ext.asyncio import AsyncSession

            app = FastAPI()

            @app.get("/partners/{partner_id}")
            async def get_partner(partner_id: int, request: Request, db: AsyncSession = Depends(get_db)):
                token = request.headers.get("authorization")
                settings = {"limit": 10}
                limit = settings.get("limit")
                partner = await db.get(Partner, partner_id)
                return partner
        """),
        Valid("""
            import redis

            redis_client = redis.Redis()

            async def handler(redis_client=Depends(get_async_redis)):
                await redis_client.get("key")
                redis_client.pipeline()
        """),
        Valid("""
            import redis

            class Cache:
                def __init__(self, client=None):
                    self.redis = client or redis.Redis()
                    self.pool = redis.Redis()

                async def warm(self):
                    self.redis.ping()
                    pipe = self.pool.pipeline()
        """),
    ]
    INVALID = [
        # Through a sync method or function of the file that makes the blocking call.
        Invalid("""
            import time

            import requests

            def backoff(attempt: int) -> None:
                time.sleep(2 ** attempt)

            class DirectusService:
                session = requests.Session()

                def _get(self, path: str) -> dict:
                    return self.session.get(f"http://directus:8055{path}", timeout=5).json()

                async def partner(self, partner_id: int) -> dict:
                    try:
                        return self._get(f"/items/partners/{partner_id}")
                    except requests.ConnectionError:
                        backoff(1)
                        raise
        """, count=2, message="it calls"),
        # A sync client held in a class attribute, annotated or built in the class body.
        Invalid("""
            import httpx
            import redis

            class RateService:
                http = httpx.Client(timeout=5)
                cache: redis.Redis

                async def rate(self, pair: str) -> float:
                    cached = self.cache.get(pair)
                    return cached or self.http.get(f"/rates/{pair}").json()["rate"]
        """, count=2),
        # A module-level client another module of the project builds.
        Invalid("""
            from app.core.cache import redis_client

            async def health() -> bool:
                return redis_client.ping()
        """, files={
            "app/__init__.py": "",
            "app/core/__init__.py": "",
            "app/core/cache.py": "import redis\n\nredis_client = redis.Redis(host=\"localhost\")\n",
        }, path="app/routes.py", line=4),
        # A blocking function imported under another name.
        Invalid("""
            from time import sleep as pause

            from requests import get as http_get

            async def poll(url: str) -> int:
                pause(1)
                return http_get(url, timeout=5).status_code
        """, count=2),
        Invalid(
            """
            import asyncio
            import redis

            async def test_redis_connection():
                try:
                    redis_client = redis.Redis(host='localhost', port=6379, db=0)
                    redis_client.ping()
                except Exception as e:
                    print(f"Redis error: {e}")

            asyncio.run(test_redis_connection())
            """,
            line=7,
            message="`redis_client.ping()`",
        ),
        Invalid(
            """
            import redis

            from app.events import PartnerEvent

            class EventPublisher:
                def __init__(self, url: str):
                    self.redis = redis.from_url(url)

                async def publish(self, event: PartnerEvent):
                    self.redis.xadd("partner_events", event.model_dump())
            """,
            line=10,
            message="redis.asyncio",
        ),
        Invalid(
            """
            import redis
            from fastapi import FastAPI

            app = FastAPI()
            redis_client = redis.StrictRedis(host="localhost", port=6379, db=0)

            @app.get("/health")
            async def health():
                return {"redis": redis_client.ping()}
            """,
            line=9,
        ),
        Invalid(
            """
            import time

            async def wait_for_directus():
                for _ in range(30):
                    time.sleep(1)
            """,
            line=5,
            message="asyncio.sleep",
        ),
        Invalid(
            """
            import requests

            async def login(email, password):
                return requests.post("http://localhost:8055/auth/login", json={
                    "email": email,
                    "password": password,
                }, timeout=10)
            """,
            line=4,
            message="httpx.AsyncClient",
        ),
        Invalid(
            """
            import httpx

            async def fetch_articles(token):
                with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                    return client.get("http://localhost:8055/items/articles").json()
            """,
            line=5,
            message="httpx.Client",
        ),
        Invalid(
            """
            import asyncio
            import subprocess
            import urllib.request
            from os import system

            async def diagnose():
                result = subprocess.run("docker-compose ps", shell=True, capture_output=True, text=True)
                urllib.request.urlopen("http://localhost:8055/server/ping")
                system("docker logs directus --tail 50")
                await asyncio.to_thread(subprocess.Popen(["docker", "ps"]).wait)
                return subprocess.Popen(["docker", "ps"]).communicate()
            """,
            count=4,
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        self._awaited: set[int] = set()  # ids of awaited calls: those return awaitables
        self._helpers = SyncHelpers(ctx, lambda call, _: self._blocking(call, in_scope=False))

    def visit_Await(self, node: cst.Await) -> None:
        self._awaited.add(id(node.expression))

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._awaited or not self.ctx.in_async_function or self.ctx.is_test_module:
            return
        found = self._blocking(node, in_scope=True)
        if found is not None:
            label, client, instead = found
            held = f" (a sync `{client}`)" if client else ""
            self.ctx.report(node, f"`{label}()` blocks the event loop inside `async def`{held}; use {instead}")
            return
        found = self._helpers.called_blocking(node)
        if found is not None:
            label, _, instead = found
            self.ctx.report(
                node,
                f"`{names.dotted(node.func)}()` blocks the event loop inside `async def`: it calls "
                f"`{label}()`; make it async with {instead}",
            )

    def _blocking(self, node: cst.Call, *, in_scope: bool) -> tuple[str, str | None, str] | None:
        """(what blocks, the sync client it is a method of, what to use instead) for a
        blocking call. ``in_scope``: the traversal is at ``node``, so local names resolve;
        else (a call in another function) only imports and ``self.<attr>`` clients do."""
        func = node.func
        if isinstance(func, cst.Name) or (isinstance(func, cst.Attribute) and func.attr.value in _FUNCTION_NAMES):
            # under any local name: `from time import sleep as pause`
            qual = self.ctx.qualified_name(func)
            instead = _BLOCKING_FUNCTIONS.get(qual or "")
            if instead is not None or isinstance(func, cst.Name):
                return (qual, None, instead) if qual and instead else None
        if not isinstance(func, cst.Attribute):
            return None
        if in_scope:
            client = self.client_type(func.value)
        else:
            client = self.clients.attribute_type(func.value) if isinstance(func.value, cst.Attribute) else None
        if client is None:
            return None
        methods, instead = _BLOCKING_METHODS[client]
        method = func.attr.value
        if method in _REDIS_NO_IO if methods is None else method not in methods:
            return None
        return names.dotted(func) or f"{client}.{method}", client, instead
