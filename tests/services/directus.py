"""A real Directus server for the tests: pytest plugin with the session fixture ``directus``.

Load it with ``pytest_plugins = ["tests.services.directus"]`` (or ``-p tests.services.directus``).
The fixture installs Directus on first use (``scripts/services/install-directus.sh``, minutes,
cached), then per session bootstraps a fresh SQLite database in a temp folder, starts the server
on a free 127.0.0.1 port in its own process group, seeds a small known schema, users and
permissions through the REST API, and writes both snapshot formats from the real server.
The server is always stopped by process group (fixture teardown, atexit, and on Linux the
kernel's parent-death signal if pytest itself is killed) and the folder removed.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "services" / "install-directus.sh"
INSTALL_TIMEOUT = 1800.0
CLI_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

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


class DirectusServiceError(RuntimeError):
    """Directus could not be installed, started or seeded; the message carries its log tail."""


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
    done = subprocess.run(
        ["bash", str(INSTALL_SCRIPT)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    if done.returncode != 0:
        raise DirectusServiceError(f"{INSTALL_SCRIPT} failed ({done.returncode}):\n{tail(done.stderr)}")
    return Installation(Path(done.stdout.strip().splitlines()[-1]))


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


def die_with_parent() -> None:
    """Linux: the kernel stops Directus if the test process is killed (SIGKILL skips atexit)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class DirectusProcess:
    """``directus start`` in its own process group; stop() is idempotent."""

    def __init__(self, installation: Installation, home: Path, env: dict[str, str]) -> None:
        self.log_path = home / "directus.log"
        self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            installation.command("start"),
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )

    def log_tail(self) -> str:
        return tail(self.log_path.read_text(encoding="utf-8", errors="replace"))

    def wait_until_up(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DirectusServiceError(
                    f"Directus exited with {self._process.returncode} before answering:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{url}/server/ping", timeout=2.0).text == "pong":
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise DirectusServiceError(
            f"Directus did not answer /server/ping within {START_TIMEOUT:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self._process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self._process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._process.wait(STOP_TIMEOUT)
        self._log.close()

    def _signal(self, signum: int) -> None:
        try:
            os.killpg(self._process.pid, signum)
        except ProcessLookupError:
            pass


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
        raise DirectusServiceError(f"directus {' '.join(args)} failed ({done.returncode}):\n{output}")


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
            raise DirectusServiceError(
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
    home = Path(tempfile.mkdtemp(prefix="pitfalls-directus-"))
    process: DirectusProcess | None = None

    def clean_up() -> None:
        if process is not None:
            process.stop()
        shutil.rmtree(home, ignore_errors=True)

    # Also at interpreter exit, in case the block is never left normally.
    atexit.register(clean_up)
    try:
        for folder in ("uploads", "extensions"):
            (home / folder).mkdir()
        # Directus looks for extension packages in the working folder's package.json.
        (home / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = server_env(home, port)
        run_cli(installation, home, env, "bootstrap")  # the database and the first admin user
        process = DirectusProcess(installation, home, env)
        process.wait_until_up(url)
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
    finally:
        clean_up()
        atexit.unregister(clean_up)


@pytest.fixture(scope="session")
def directus() -> Iterator[DirectusServer]:
    """A live, seeded Directus 12 shared by the whole session (first run installs it: minutes)."""
    with running_directus() as server:
        yield server
