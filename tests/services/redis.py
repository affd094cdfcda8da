"""A real Redis for the tests: pytest plugin with the session fixture ``redis_server``.

``redis-server`` (Debian's package, ``scripts/services/install-redis.sh``) runs in a temp
folder on a free port of 127.0.0.1, with nothing saved to disk (``--save ''``,
``--appendonly no``), in its own process group; it is stopped by PID (finalizer and
atexit) and the folder removed.

``python -m tests.services.redis`` starts one, prints how long that took, and stops it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.services.process import ServiceProcess, free_port, run_install_script, scratch

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "services" / "install-redis.sh"
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class RedisServer:
    """A running throwaway Redis."""

    url: str  # redis://127.0.0.1:PORT/0
    port: int
    home: Path
    started_in: float  # seconds from start to answering PING

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=5, socket_timeout=5)


def install() -> Path:
    """The path of redis-server (installed with apt-get if missing)."""
    return Path(run_install_script(INSTALL_SCRIPT, INSTALL_TIMEOUT))


def answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A fresh Redis for the duration of the block; nothing is reused between calls."""
    server = install()
    with scratch("pitfalls-redis-") as (home, processes):
        started = time.monotonic()
        port = free_port()
        command = [
            str(server), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(home), "--daemonize", "no", "--logfile", "",
        ]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LC_ALL": "C"}
        process = ServiceProcess("redis", command, home=home, env=env, stop_timeout=STOP_TIMEOUT)
        processes.append(process)
        url = f"redis://127.0.0.1:{port}/0"
        process.wait_until(lambda: answers(url), "answered PING", START_TIMEOUT)
        yield RedisServer(url=url, port=port, home=home, started_in=time.monotonic() - started)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis for the session (tests share it: each uses keys of its own)."""
    with running_redis() as server:
        yield server


if __name__ == "__main__":
    with running_redis() as server:
        print(f"Redis on port {server.port}: started to answering PING in {server.started_in:.2f} s")
