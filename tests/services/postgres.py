"""A real PostgreSQL for the tests: pytest plugin with the session fixture ``postgres``.

The fixture yields a URL such as ``postgresql+psycopg://pitfalls:PW@127.0.0.1:PORT/pitfalls``
for a throwaway cluster: ``initdb`` into a temp folder (as the ``postgres`` system user when
running as root, since PostgreSQL refuses to run as root), password authentication only,
listening on a free port of 127.0.0.1 and on a Unix socket inside that folder. The role in
the URL owns its database and may create more (``CREATEDB``), so tests can have one each.
The server runs in its own process group; it is stopped by PID (finalizer and atexit) and
the folder removed. The binaries come from Debian (``scripts/services/install-postgres.sh``).

``python -m tests.services.postgres`` starts one, prints how long that took, and stops it.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.services.process import ServiceError, ServiceProcess, free_port, run_install_script, scratch, tail

REPO = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO / "scripts" / "services" / "install-postgres.sh"
INSTALL_TIMEOUT = 900.0
INITDB_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0

SUPERUSER = "pitfalls_admin"
USER = "pitfalls"
DATABASE = "pitfalls"


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway cluster."""

    url: str  # the test role's database, through psycopg
    port: int
    home: Path
    started_in: float  # seconds from initdb to accepting connections


def install() -> Path:
    """The bin folder of the newest installed PostgreSQL (installed with apt-get if none)."""
    return Path(run_install_script(INSTALL_SCRIPT, INSTALL_TIMEOUT))


def _run_as() -> dict[str, object]:
    """Popen arguments that drop root to the ``postgres`` system user (nothing otherwise)."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceError(
            "running as root needs the 'postgres' system user (Debian's postgresql package creates it)"
        ) from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _server_env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LC_ALL": "C"}


def initdb(bin_dir: Path, home: Path, superuser_password: str) -> Path:
    data = home / "data"
    password_file = home / "superuser-password"
    password_file.write_text(superuser_password + "\n", encoding="utf-8")
    run_as = _run_as()
    if run_as:
        for path in (home, password_file):
            os.chown(path, run_as["user"], run_as["group"])  # type: ignore[arg-type]
    done = subprocess.run(
        [
            str(bin_dir / "initdb"), "--pgdata", str(data), "--username", SUPERUSER,
            "--pwfile", str(password_file), "--auth", "scram-sha-256", "--encoding", "UTF8",
            "--no-locale", "--no-sync",
        ],
        check=False,
        env=_server_env(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INITDB_TIMEOUT,
        **run_as,  # type: ignore[arg-type]
    )
    password_file.unlink()
    if done.returncode != 0:
        raise ServiceError(f"initdb failed ({done.returncode}):\n{tail(done.stdout + done.stderr)}")
    return data


def start_postgres(bin_dir: Path, home: Path, data: Path, port: int) -> ServiceProcess:
    command = [
        str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
        "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={home}",
        # A throwaway cluster: durability buys nothing.
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        # Every connection attempt in the log: what the credential tests read back.
        "-c", "log_connections=on",
    ]
    # SIGINT is PostgreSQL's fast shutdown: roll back and disconnect sessions.
    return ServiceProcess(
        "postgres", command, home=home, env=_server_env(home), stop_signal=signal.SIGINT, stop_timeout=STOP_TIMEOUT,
        **_run_as(),
    )


def accepts_connections(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def _libpq_url(user: str, password: str, port: int, database: str) -> str:
    return f"postgresql://{user}:{password}@127.0.0.1:{port}/{database}"


def create_test_role(admin: str, password: str) -> None:
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(sql.Identifier(USER), sql.Literal(password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), sql.Identifier(USER)))


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A fresh cluster for the duration of the block; nothing is reused between calls."""
    bin_dir = install()
    with scratch("pitfalls-postgres-") as (home, processes):
        started = time.monotonic()
        superuser_password = secrets.token_urlsafe(18)
        password = secrets.token_urlsafe(18)
        data = initdb(bin_dir, home, superuser_password)
        port = free_port()
        admin = _libpq_url(SUPERUSER, superuser_password, port, "postgres")
        process = start_postgres(bin_dir, home, data, port)
        processes.append(process)
        process.wait_until(lambda: accepts_connections(admin), "accepted connections", START_TIMEOUT)
        create_test_role(admin, password)
        yield PostgresServer(
            url=_libpq_url(USER, password, port, DATABASE).replace("postgresql://", "postgresql+psycopg://", 1),
            port=port,
            home=home,
            started_in=time.monotonic() - started,
        )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session; its log (``home/postgres.log``) lists every connection."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def postgres(postgres_server: PostgresServer) -> str:
    """A SQLAlchemy URL of a database on a real PostgreSQL, owned by a role with a password."""
    return postgres_server.url


if __name__ == "__main__":
    with running_postgres() as server:
        print(f"PostgreSQL on port {server.port}: initdb to accepting connections in {server.started_in:.2f} s")
