"""What the test servers share: an install script, a free port, a scratch folder, and a
server process in its own process group that is always stopped by its PID or group id."""

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class ServiceError(RuntimeError):
    """A server could not be installed or started; the message carries its log tail."""


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_install_script(script: Path, timeout: float) -> str:
    """Run an idempotent install script; its last line of output says where it installed."""
    done = subprocess.run(
        ["bash", str(script)], check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise ServiceError(f"{script} failed ({done.returncode}):\n{tail(done.stderr)}")
    return done.stdout.strip().splitlines()[-1]


def _die_with_parent() -> None:
    """Linux: the kernel stops the server if the test process is killed (SIGKILL skips atexit)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class ServiceProcess:
    """A server in its own process group, logging to ``home/<name>.log``; stop() is idempotent.

    ``stop_signal`` goes to the server's PID first (PostgreSQL's fast shutdown is SIGINT);
    whatever is left of its group after ``stop_timeout`` gets SIGKILL.
    """

    def __init__(
        self, name: str, command: list[str], *, home: Path, env: dict[str, str],
        stop_signal: int = signal.SIGTERM, stop_timeout: float = 10.0, **popen: Any,
    ) -> None:
        self.name = name
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self.log_path = home / f"{name}.log"
        self._log = self.log_path.open("wb")
        if "user" not in popen and sys.platform == "linux":  # (a preexec_fn cannot follow a user switch)
            popen["preexec_fn"] = _die_with_parent
        self._process = subprocess.Popen(
            command, cwd=home, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, **popen,
        )

    def log_tail(self) -> str:
        return tail(self.log_path.read_text(encoding="utf-8", errors="replace"))

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        """Poll ``ready`` until it holds; fail with the log tail if the server exits or is late."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ServiceError(f"{self.name} exited with {self._process.returncode} before {what}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.1)
        raise ServiceError(f"{self.name} did not {what} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._signal(os.kill, self.stop_signal)
            try:
                self._process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._signal(os.killpg, signal.SIGKILL)
                self._process.wait(self.stop_timeout)
        self._log.close()

    def _signal(self, send: Callable[[int, int], None], signum: int) -> None:
        try:
            send(self._process.pid, signum)
        except ProcessLookupError:
            pass


@contextmanager
def scratch(prefix: str) -> Iterator[tuple[Path, list[ServiceProcess]]]:
    """A temp folder and a list for the processes started in it: on leaving the block (or
    at interpreter exit, if it is never left) they are stopped and the folder removed."""
    # Not under pytest's tmp folders: those are private to root, and PostgreSQL runs as postgres.
    home = Path(tempfile.mkdtemp(prefix=prefix))
    processes: list[ServiceProcess] = []

    def clean_up() -> None:
        for process in processes:
            process.stop()
        processes.clear()
        shutil.rmtree(home, ignore_errors=True)

    atexit.register(clean_up)
    try:
        yield home, processes
    finally:
        clean_up()
        atexit.unregister(clean_up)
