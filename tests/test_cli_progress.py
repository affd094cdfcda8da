"""`pitfalls check`'s progress line, as a person at a terminal sees it: stderr on a real
pseudo-terminal, stdout on a pipe. The one-second wait is PITFALLS_PROGRESS_DELAY here
(0, or inf for a run shorter than the wait), so nothing depends on how fast the machine is."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from pitfalls.cli.terminal import CLEAR_LINE, PROGRESS_DELAY_VARIABLE, ProgressLine
from tests.conftest import write_project

MODULES = 300  # over 400 kB of source: the worker processes report progress too

MODULE = '''
"""Module {i}: a client of partner {i}."""

import requests
from pydantic import BaseModel


class Partner{i}(BaseModel):
    id: int
    name: str
    email: str | None = None
    tags: list[str] = []


class Client{i}:
    """Talks to partner {i}."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def headers(self) -> dict[str, str]:
        return {{"Authorization": f"Bearer {{self.token}}", "Accept": "application/json"}}

    def fetch(self, partner_id: int) -> Partner{i}:
        response = requests.get(f"{{self.base}}/partners/{{partner_id}}", headers=self.headers())
        response.raise_for_status()
        return Partner{i}(**response.json())

    def names(self, ids: list[int]) -> list[str]:
        found = []
        for partner_id in ids:
            partner = self.fetch(partner_id)
            if partner.name and partner.email:
                found.append(f"{{partner.name}} <{{partner.email}}>")
        return sorted(found)
'''

STEP = re.compile(r"pitfalls: (Reading|Checking) ([\d,]+)/([\d,]+) files")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def big_project(tmp_path_factory) -> Path:
    files = {f"app/partner_{i}.py": MODULE.format(i=i) for i in range(MODULES)}
    return write_project(tmp_path_factory.mktemp("progress"), {"pyproject.toml": "[tool.pitfalls]\n", "app/__init__.py": "", **files})


def check(root: Path, *, terminal: bool, **env: str) -> tuple[int, bytes, bytes]:
    """``pitfalls check`` in a subprocess, stdout on a pipe, stderr on a pseudo-terminal
    (200 columns) or a pipe: (exit code, stdout, what stderr received)."""
    cleared = ("CI", "TERM", "NO_COLOR", "FORCE_COLOR", PROGRESS_DELAY_VARIABLE)
    environment = {k: v for k, v in os.environ.items() if k not in cleared}
    environment.update({"TERM": "xterm-256color", PROGRESS_DELAY_VARIABLE: "0", **env})
    cmd = [sys.executable, "-m", "pitfalls", "check", "--no-cache", "--jobs", "2", "."]
    if not terminal:
        proc = subprocess.run(cmd, cwd=root, stdin=subprocess.DEVNULL, capture_output=True, env=environment, timeout=300)
        return proc.returncode, proc.stdout, proc.stderr
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks))
    try:
        proc = subprocess.Popen(
            cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=environment
        )
        os.close(slave)
        slave = -1
        reader.start()
        out, _ = proc.communicate(timeout=300)
        reader.join(timeout=60)
    finally:
        if slave != -1:
            os.close(slave)
        os.close(master)
    return proc.returncode, out, b"".join(chunks)


def _drain(master: int, chunks: list[bytes]) -> None:
    """Read the terminal's side until every writer is gone (Linux then raises EIO)."""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        if not data:
            return
        chunks.append(data)


def screen(written: str) -> list[str]:
    """The rows a terminal shows after ``written`` (carriage return, erase line, newline;
    any other escape sequence fails the test)."""
    rows, column = [""], 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|[\r\n]|[^\r\n\x1b]", written):
        if token == "\r":
            column = 0
        elif token == "\n":
            rows.append("")
            column = 0
        elif token == "\x1b[2K":
            rows[-1] = ""
        else:
            assert not token.startswith("\x1b"), f"unexpected escape sequence {token!r}"
            row = rows[-1].ljust(column)
            rows[-1] = row[:column] + token + row[column + 1 :]
            column += 1
    return [row.rstrip() for row in rows]


def steps(written: str) -> list[tuple[str, int, int]]:
    return [(step, int(done.replace(",", "")), int(total.replace(",", ""))) for step, done, total in STEP.findall(written)]


def test_progress_on_a_terminal_leaves_no_trace_and_stdout_untouched(big_project) -> None:
    code, piped_out, piped_err = check(big_project, terminal=False)
    assert code == 1 and piped_err == b""  # stderr no terminal: not a byte, even with no wait
    assert piped_out.count(b" PF103 ") == MODULES

    code, out, err = check(big_project, terminal=True)
    assert code == 1 and out == piped_out
    drawn = err.decode()
    seen = steps(drawn)
    files = MODULES + 1
    assert ("Reading", files, files) in seen and seen[-1] == ("Checking", files, files)
    assert all(done <= total for _, done, total in seen)  # nothing counted twice
    assert {m.group() for m in ESCAPE.finditer(drawn)} == {"\x1b[2K"} and drawn.endswith(CLEAR_LINE)
    assert "\n" not in drawn and screen(drawn) == [""]  # redrawn in place, then wiped


def test_a_dumb_terminal_gets_no_escape_sequences(big_project) -> None:
    code, out, err = check(big_project, terminal=True, TERM="dumb")
    drawn = err.decode()
    assert code == 1 and out.count(b" PF103 ") == MODULES
    assert steps(drawn)[-1] == ("Checking", MODULES + 1, MODULES + 1)
    assert "\x1b" not in drawn and "\n" not in drawn and screen(drawn) == [""]  # wiped with spaces


@pytest.mark.parametrize(
    "env",
    [
        {"CI": "true"},  # a CI runner's pseudo-terminal is a log file in the end
        {PROGRESS_DELAY_VARIABLE: "inf"},  # a run shorter than the wait
    ],
    ids=["ci", "short-run"],
)
def test_nothing_on_the_terminal(big_project, env) -> None:
    code, out, err = check(big_project, terminal=True, **env)
    assert (code, err) == (1, b"") and out.count(b" PF103 ") == MODULES


class Narrow(io.StringIO):
    """A terminal too narrow for the line (no file descriptor: 80 columns assumed)."""

    def isatty(self) -> bool:
        return True


def test_counts_are_grouped_and_the_line_fits_the_terminal(monkeypatch) -> None:
    for name in ("CI", "TERM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(PROGRESS_DELAY_VARIABLE, "0")
    stream = Narrow()
    line = ProgressLine(stream)
    line("Reading", 412, 1203)
    line("Checking", 1203, 1203)
    line("Checking" + "x" * 100, 1, 1)
    line.close()
    drawn = stream.getvalue()
    assert steps(drawn)[:2] == [("Reading", 412, 1203), ("Checking", 1203, 1203)]
    assert "pitfalls: Reading 412/1,203 files" in drawn
    assert max(len(part) for part in drawn.split(CLEAR_LINE)) == 79
    assert screen(drawn) == [""]
