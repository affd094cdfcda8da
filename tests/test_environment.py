"""PF701 through the CLI: the repository's env files are read once per run, from the
repository root down, and a changed `.env` file re-checks what it may change (the cache
holds results per environment)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write_project
from pitfalls.project.config import ConfigResolver
from pitfalls.project.run import rules_for

CONFIG = 'import os\n\nPASSWORD = os.environ["DIRECTUS_AGENT_PASSWORD"]\n'


def _pf701(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if "PF701" in line]


def test_a_new_env_file_name_clears_the_cached_finding(tmp_path: Path, cli) -> None:
    write_project(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\nselect = ['PF701']\n",
        ".env.example": "DIRECTUS_API_AGENT_PASSWORD=\n",
        "app/__init__.py": "",
        "app/config.py": CONFIG,
    })
    first = _pf701(cli("check", ".", cwd=tmp_path))
    assert len(first) == 1 and "did you mean `DIRECTUS_API_AGENT_PASSWORD`?" in first[0], first
    (tmp_path / ".env.example").write_text("DIRECTUS_API_AGENT_PASSWORD=\nDIRECTUS_AGENT_PASSWORD=\n")
    assert _pf701(cli("check", ".", cwd=tmp_path)) == []


def test_sources_at_the_repository_root_count_for_a_service(tmp_path: Path, cli) -> None:
    """A service with its own configuration, the compose file and CI at the repository root."""
    (tmp_path / ".git").mkdir()
    write_project(tmp_path, {
        "docker-compose.yml": "services:\n  api:\n    env_file: deploy/api.env\n",
        "deploy/api.env": "DIRECTUS_AGENT_PASSWORD=secret\n",
        ".github/workflows/ci.yml": "jobs:\n  test:\n    env:\n      SENTRY_DSN: ''\n",
        "services/api/pyproject.toml": "[tool.pitfalls]\nselect = ['PF701']\n",
        "services/api/app/__init__.py": "",
        "services/api/app/config.py": CONFIG + "DSN = os.environ['SENTRY_DSN']\nKEY = os.environ['STRIPE_KEY']\n",
    })
    found = _pf701(cli("check", ".", cwd=tmp_path / "services" / "api"))
    assert len(found) == 1 and "`STRIPE_KEY`" in found[0], found


def test_no_env_source_means_silence_and_a_fifo_is_never_read(tmp_path: Path, cli) -> None:
    write_project(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\nselect = ['PF701']\n",
        "app/__init__.py": "",
        "app/config.py": CONFIG,
    })
    assert _pf701(cli("check", ".", cwd=tmp_path)) == []
    os.mkfifo(tmp_path / ".env")  # would block a plain open() forever
    (tmp_path / ".env.example").write_text("DIRECTUS_AGENT_PASSWORD=\n")
    result = cli("check", ".", cwd=tmp_path, timeout=60)
    assert result.returncode == 0 and _pf701(result) == [], result.stdout + result.stderr


def test_the_configured_environment_adds_the_deployments_names(tmp_path: Path, cli) -> None:
    write_project(tmp_path, {
        "pyproject.toml": "[tool.pitfalls]\nselect = ['PF701']\nenvironment = ['DIRECTUS_AGENT_PASSWORD']\n",
        ".env": "OTHER=1\n",
        "app/__init__.py": "",
        "app/config.py": CONFIG,
    })
    assert _pf701(cli("check", ".", cwd=tmp_path)) == []


@pytest.mark.parametrize(
    ("path", "read"),
    [
        (".env", True), ("services/api/.env.local", True), ("prod.env", True), ("docker-compose.override.yml", True),
        ("Dockerfile.dev", True), (".github/workflows/ci.yaml", True), ("deploy/k8s/api.yaml", True),
        ("config/settings.yaml", False), ("README.md", False), ("environment.py", False),
    ],
)
def test_the_files_the_editor_watches_for_environment_variables(tmp_path: Path, path: str, read: bool) -> None:
    """A change to one of them re-reads the names PF701 knows (the server asks this)."""
    from pitfalls.project.environment import is_environment_file

    assert is_environment_file(str(tmp_path / path)) is read


def test_without_env_sources_the_rule_is_not_even_walked(tmp_path: Path) -> None:
    """Nothing to compare with: PF701 is left out of the rules a file's check runs (an
    editor's keystroke skips its handlers), until an env file appears."""
    write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app/__init__.py": "", "app/config.py": CONFIG})
    target = tmp_path / "app" / "config.py"
    assert "PF701" not in {rule.code for rule in rules_for(ConfigResolver({}, root=tmp_path), target)}
    (tmp_path / ".env.example").write_text("DIRECTUS_AGENT_PASSWORD=\n")
    assert "PF701" in {rule.code for rule in rules_for(ConfigResolver({}, root=tmp_path), target)}
