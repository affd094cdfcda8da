"""Shared fixtures: a throwaway project on disk, and the CLI run as a real subprocess or in-process."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

# Real servers for the live-schema tests, started once per session on first use.
pytest_plugins = ["tests.services.directus", "tests.services.postgres", "tests.services.redis"]

REPO = Path(__file__).resolve().parent.parent
ECOSYSTEM = REPO.parent / "shared" / "ecosystem"  # real projects' snapshots (its README)


def unpack_ecosystem(into: Path, *names: str) -> None:
    """Unpack the ecosystem projects (those named, else all) into ``into``; the test is
    skipped when ``../shared`` is not beside the clone."""
    archives = [ECOSYSTEM / f"{name}.tar.xz" for name in names] or sorted(ECOSYSTEM.glob("*.tar.xz"))
    if not archives or not all(archive.exists() for archive in archives):
        pytest.skip("../shared/ecosystem is absent")
    for archive in archives:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")


def write_project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path):
    """Write ``{path: source}`` under a temp folder (sources are dedented)."""

    def make(files: dict[str, str]) -> Path:
        return write_project(tmp_path, files)

    return make


def run_cli(
    *args: str, cwd: Path, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``pitfalls`` as a user runs it: a subprocess, no stdin unless given; ``env`` adds
    variables (the Directus credentials are dropped unless given here)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DIRECTUS_", "PITFALLS_DATABASE"))}
    env = {**inherited, "PYTHONIOENCODING": "utf-8", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pitfalls", *args],
        cwd=cwd,
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def run_main(monkeypatch, capsys):
    """``pitfalls`` in-process (``main(argv)``, what the console script calls): far faster
    than :func:`run_cli`. From ``cwd``, with ``stdin`` bytes; (exit code, stdout, stderr).
    The colour variables start cleared: the output is what a pipe gets unless a test sets them."""
    from pitfalls.cli.main import main

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def call(*args: str, cwd: Path, stdin: bytes = b"") -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return call


def add_rules(monkeypatch, *rules) -> None:
    """The rule catalog with ``rules`` (test rules) added, for this test."""
    from pitfalls import rules as catalog

    monkeypatch.setattr(catalog, "ALL_RULES", [*catalog.ALL_RULES, *rules])
    monkeypatch.setattr(catalog, "CODES", (*catalog.CODES, *(rule.code for rule in rules)))
    for rule in rules:
        monkeypatch.setitem(catalog.RULES_BY_CODE, rule.code, rule)
