"""A real Directus server for the tests: pytest plugin with the session fixture ``directus``.

Load it with ``pytest_plugins = ["tests.services.directus"]`` (or ``-p tests.services.directus``).
The fixture installs Directus on first use (``scripts/services/install-directus.sh``, minutes,
cached), then per session bootstraps a fresh SQLite database in a temp folder, starts the server
on a free 127.0.0.1 port in its own process group, seeds a small known schema, users and
permissions through the REST API, and writes both snapshot formats from the real server.
The server is always stopped by PID and process group (fixture teardown, atexit, and on Linux the
kernel's parent-death signal if pytest itself is killed) and the folder removed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.services.process import ServiceError, ServiceProcess, free_port, run_install_script, scratch, tail

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "services" / "install-directus.sh"
INSTALL_TIMEOUT = 1800.0
CLI_TIMEOUT = 120.0
START_TIMEOUT = 60.0

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-123"
ADMIN_TOKEN = "pitfalls-admin-token"
AGENT_EMAIL = "agent@example.com"
AGENT_PASSWORD = "agent-password-123"
AGENT_TOKEN = "pitfalls-agent-token"
AGENT_NAME = "API Agent"


@dataclass(frozen=True)
class DirectusServer:
    """A running, seeded Directus and everything a test needs to talk to it."""

    url: str
    admin_email: str
    admin_password: str
    admin_token: str
    agent_email: str
    agent_password: str
    agent_token: str
    snapshot_json: Path  # body of GET /schema/snapshot
    snapshot_yaml: Path  # what `directus schema snapshot` writes
    home: Path  # this server's temp folder (database, log, snapshots)


@dataclass(frozen=True)
class Installation:
    """Where install-directus.sh put Node 22 and Directus."""

    root: Path

    @property
    def node(self) -> Path:
        return self.root / "node" / "node_modules" / ".bin" / "node"

    @property
    def cli(self) -> Path:
        # The API's own entry point: the `directus` wrapper would check the registry for updates.
        return self.root / "app" / "node_modules" / "@directus" / "api" / "dist" / "cli" / "run.js"

    def command(self, *args: str) -> list[str]:
        return [str(self.node), str(self.cli), *args]


def install() -> Installation:
    """Run the install script: minutes the first time, a stamp check afterwards."""
    return Installation(Path(run_install_script(INSTALL_SCRIPT, INSTALL_TIMEOUT)))


def server_env(home: Path, port: int) -> dict[str, str]:
    """Only what Directus needs: nothing from the caller's environment leaks into its config."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "DB_CLIENT": "sqlite3",
        "DB_FILENAME": str(home / "data.db"),
        "KEY": "pitfalls-test-key",
        "SECRET": "pitfalls-test-secret-0123456789abcdef",
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TELEMETRY": "false",
        "STORAGE_LOCAL_ROOT": str(home / "uploads"),
        "EXTENSIONS_PATH": str(home / "extensions"),
    }


def answers_ping(url: str) -> bool:
    try:
        return httpx.get(f"{url}/server/ping", timeout=2.0).text == "pong"
    except httpx.TransportError:
        return False


def run_cli(installation: Installation, home: Path, env: dict[str, str], *args: str) -> None:
    """One Directus CLI command against this server's database (same env as the server)."""
    done = subprocess.run(
        installation.command(*args),
        cwd=home,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )
    if done.returncode != 0:
        output = tail(done.stdout + done.stderr)
        raise ServiceError(f"directus {' '.join(args)} failed ({done.returncode}):\n{output}")


# The seeded schema. Tests and rules rely on these exact shapes.
def column(
    name: str, type_: str, *, nullable: bool = True, default: Any = None, **meta: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"is_nullable": nullable}
    if default is not None:
        schema["default_value"] = default
    return {"field": name, "type": type_, "schema": schema, "meta": meta}


def collection(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    primary_key = {
        "field": "id",
        "type": "integer",
        "schema": {"is_primary_key": True, "has_auto_increment": True},
        "meta": {"hidden": True, "readonly": True, "interface": "input"},
    }
    return {"collection": name, "schema": {}, "meta": {}, "fields": [primary_key, *fields]}


STATUS_CHOICES = [
    {"text": "Draft", "value": "draft"},
    {"text": "Published", "value": "published"},
    {"text": "Archived", "value": "archived"},
]

COLLECTIONS = [
    collection(
        "authors",
        column("name", "string", nullable=False, interface="input", required=True),
        column("email", "string", interface="input"),
    ),
    collection(
        "articles",
        column("title", "string", nullable=False, interface="input", required=True),
        column("content", "text", interface="input-multiline"),
        column(
            "status",
            "string",
            nullable=False,
            default="draft",
            interface="select-dropdown",
            options={"choices": STATUS_CHOICES},
        ),
        column("published_at", "timestamp", interface="datetime"),
        column("metadata", "json", interface="input-code", special=["cast-json"]),
        column("author", "integer", interface="select-dropdown-m2o", special=["m2o"]),
    ),
    collection(
        "comments",
        column("body", "text", interface="input-multiline"),
        column("article", "integer", interface="input"),
    ),
]

RELATIONS: list[dict[str, Any]] = [
    {
        "collection": "articles",
        "field": "author",
        "related_collection": "authors",
        "schema": {"on_delete": "SET NULL"},
    },
]

# What the "API Agent" policy may do: no access to comments, none to the schema endpoints.
AGENT_PERMISSIONS = [
    ("articles", "read"),
    ("articles", "create"),
    ("articles", "update"),
    ("authors", "read"),
]


class Seeder:
    """Admin-authenticated REST calls that fail loudly with Directus's own error body."""

    def __init__(self, url: str) -> None:
        self._client = httpx.Client(base_url=url, timeout=30.0)
        login = self.call("POST", "/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        self._client.headers["Authorization"] = f"Bearer {login['access_token']}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._client.request(method, path, json=body)
        if response.is_error:
            raise ServiceError(
                f"seeding: {method} {path} answered {response.status_code}: {response.text[:2000]}"
            )
        return response.json()["data"] if response.content else None

    def seed(self) -> None:
        for definition in COLLECTIONS:
            self.call("POST", "/collections", definition)
        for relation in RELATIONS:
            self.call("POST", "/relations", relation)
        self.call("PATCH", "/users/me", {"token": ADMIN_TOKEN})
        self.seed_agent()

    def seed_agent(self) -> None:
        """Directus 11+ access model: user -> role -> access row -> policy -> permissions."""
        policy = self.call(
            "POST",
            "/policies",
            {"name": AGENT_NAME, "icon": "smart_toy", "admin_access": False, "app_access": False},
        )
        self.call(
            "POST",
            "/permissions",
            [
                {"policy": policy["id"], "collection": name, "action": action, "fields": ["*"]}
                for name, action in AGENT_PERMISSIONS
            ],
        )
        role = self.call("POST", "/roles", {"name": AGENT_NAME, "icon": "smart_toy"})
        self.call("POST", "/access", {"role": role["id"], "policy": policy["id"]})
        self.call(
            "POST",
            "/users",
            {
                "email": AGENT_EMAIL,
                "password": AGENT_PASSWORD,
                "role": role["id"],
                "token": AGENT_TOKEN,
                "status": "active",
            },
        )

    def schema_snapshot(self) -> bytes:
        response = self._client.get("/schema/snapshot")
        response.raise_for_status()
        return response.content

    def close(self) -> None:
        self._client.close()


@contextmanager
def running_directus() -> Iterator[DirectusServer]:
    """A fresh, seeded Directus for the duration of the block; nothing is reused between calls."""
    installation = install()
    with scratch("pitfalls-directus-") as (home, processes):
        for folder in ("uploads", "extensions"):
            (home / folder).mkdir()
        # Directus looks for extension packages in the working folder's package.json.
        (home / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = server_env(home, port)
        run_cli(installation, home, env, "bootstrap")  # the database and the first admin user
        process = ServiceProcess("directus", installation.command("start"), home=home, env=env)
        processes.append(process)
        process.wait_until(lambda: answers_ping(url), "answered /server/ping", START_TIMEOUT)
        seeder = Seeder(url)
        try:
            seeder.seed()
            snapshot_json = home / "snapshot.json"
            snapshot_json.write_bytes(seeder.schema_snapshot())
        finally:
            seeder.close()
        snapshot_yaml = home / "snapshot.yaml"
        run_cli(installation, home, env, "schema", "snapshot", "--yes", str(snapshot_yaml))
        yield DirectusServer(
            url=url,
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            admin_token=ADMIN_TOKEN,
            agent_email=AGENT_EMAIL,
            agent_password=AGENT_PASSWORD,
            agent_token=AGENT_TOKEN,
            snapshot_json=snapshot_json,
            snapshot_yaml=snapshot_yaml,
            home=home,
        )


@pytest.fixture(scope="session")
def directus() -> Iterator[DirectusServer]:
    """A live, seeded Directus 12 shared by the whole session (first run installs it: minutes)."""
    with running_directus() as server:
        yield server
