"""The README's pre-commit snippet, run as written by pre-commit itself, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, write_project

pytest.importorskip("pre_commit")


def readme_config() -> str:
    """The YAML block that follows the ``<!-- pre-commit-config -->`` marker in README.md."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- pre-commit-config -->\n```yaml\n(.*?)```", text, re.S)
    assert match, "README.md lost its pre-commit snippet"
    return match.group(1)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_readme_hook_reports_the_changed_files_findings(tmp_path: Path) -> None:
    repo = write_project(
        tmp_path / "repo",
        {
            "pyproject.toml": "[tool.pitfalls]\n",
            "app/__init__.py": "",
            "app/client.py": """
                import requests


                def fetch(url: str) -> dict:
                    return requests.get(url).json()
            """,
            "app/clean.py": "VALUE = 1\n",
        },
    )
    (repo / ".pre-commit-config.yaml").write_text(readme_config(), encoding="utf-8")
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    # `language: system` finds `pitfalls` on PATH: the one installed beside this Python.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--files", *files],
            cwd=repo, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )

    found = run("app/client.py")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "app/client.py:6:12: PF103" in found.stdout
    clean = run("app/clean.py")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Passed" in clean.stdout
