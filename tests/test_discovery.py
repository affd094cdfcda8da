"""Which files a check reads: folders that are never source are skipped, links cannot loop.

Most tests call ``pitfalls.discovery.discover`` in-process (fast, and it is exactly what the
CLI calls); one runs the CLI to see the same thing end to end.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pitfalls.core.settings import parse_settings
from pitfalls.project.config import ConfigResolver, ProjectConfig
from pitfalls.project.discovery import DiscoveryError, discover


def _config(root: Path, **table) -> ConfigResolver:
    return ConfigResolver(fixed=ProjectConfig(parse_settings(table), root.resolve(), None))


def _found(root: Path, paths: list[Path] | None = None, **table) -> list[str]:
    files = discover(paths if paths is not None else [root], _config(root, **table))
    return sorted(f.relative_to(root.resolve()).as_posix() for f in files)


NEVER_SOURCE = {
    ".git/hooks/pre_commit.py": "x = 1\n",
    ".venv/lib/python3.11/site-packages/pkg/mod.py": "x = 1\n",
    "node_modules/some/tool.py": "x = 1\n",
    "app/__pycache__/mod.py": "x = 1\n",
    "build/lib/app/mod.py": "x = 1\n",
    "dist/app/mod.py": "x = 1\n",
    ".pitfalls_cache/x.py": "x = 1\n",
    # A virtualenv under any name is recognised by its pyvenv.cfg.
    "myenv/pyvenv.cfg": "home = /usr/bin\n",
    "myenv/lib/python3.11/site-packages/dep.py": "x = 1\n",
    "pkg.egg-info/mod.py": "x = 1\n",
}


def test_skips_folders_that_are_never_source(project) -> None:
    root = project(
        {
            **NEVER_SOURCE,
            "app/__init__.py": "",
            "app/main.py": "x = 1\n",
            "app/stubs.pyi": "x: int\n",
            "app/notes.txt": "not python\n",
            "app/builder/mod.py": "x = 1\n",  # only the exact folder names are skipped
            "top.py": "x = 1\n",
        }
    )
    assert _found(root) == ["app/__init__.py", "app/builder/mod.py", "app/main.py", "app/stubs.pyi", "top.py"]


def test_exclude_patterns_from_config(project) -> None:
    root = project(
        {
            "app/main.py": "x = 1\n",
            "app/generated/models.py": "x = 1\n",
            "app/legacy_api.py": "x = 1\n",
            "migrations/versions/0001_init.py": "x = 1\n",
            "scripts/deploy.py": "x = 1\n",
        }
    )
    found = _found(root, exclude=["generated", "*_api.py", "migrations/versions", "./scripts/"])
    assert found == ["app/main.py"]


def test_explicit_file_paths_are_checked_even_when_excluded_or_not_py(project) -> None:
    root = project({"app/main.py": "x = 1\n", "tools/run": "x = 1\n", "other.py": "x = 1\n"})
    explicit = [root / "app" / "main.py", root / "tools" / "run"]
    assert _found(root, explicit, exclude=["app"]) == ["app/main.py", "tools/run"]


def test_missing_path_is_a_discovery_error(project) -> None:
    root = project({"a.py": "x = 1\n"})
    with pytest.raises(DiscoveryError, match="no such file or directory"):
        discover([root / "nope"], _config(root))


def test_same_file_given_twice_is_checked_once(project) -> None:
    root = project({"app/a.py": "x = 1\n"})
    assert _found(root, [root, root / "app", root / "app" / "a.py"]) == ["app/a.py"]


def test_symlink_loop_terminates_and_each_file_once(project) -> None:
    root = project({"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "pkg/sub/__init__.py": "", "pkg/sub/b.py": "x = 1\n"})
    os.symlink("..", root / "pkg" / "sub" / "loop")  # pkg/sub/loop -> pkg
    os.symlink("../..", root / "pkg" / "sub" / "up")  # pkg/sub/up -> the project root
    found = _found(root)
    assert found == ["pkg/__init__.py", "pkg/a.py", "pkg/sub/__init__.py", "pkg/sub/b.py"]


def test_symlinked_folder_outside_the_tree_is_followed(project, tmp_path_factory) -> None:
    shared = tmp_path_factory.mktemp("shared")
    (shared / "common.py").write_text("x = 1\n")
    root = project({"app/main.py": "x = 1\n"})
    os.symlink(shared, root / "app" / "shared")
    files = discover([root], _config(root))
    assert sorted(f.name for f in files) == ["common.py", "main.py"]


def test_cli_skips_the_same_folders_and_reports_each_file_once(project, cli) -> None:
    # Every file here has a syntax error, so each file the CLI reads shows up as one PF000.
    broken = "def f(:\n"
    root = project(
        {
            **{path: broken for path in NEVER_SOURCE if path.endswith(".py")},
            "myenv/pyvenv.cfg": "home = /usr/bin\n",
            "app/__init__.py": "",
            "app/main.py": broken,
            "app/generated/models.py": broken,
            "pyproject.toml": '[tool.pitfalls]\nexclude = ["generated"]\n',
        }
    )
    os.symlink("..", root / "app" / "loop")
    proc = cli("check", ".", cwd=root)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == ["app/main.py:1:7: PF000 syntax error: invalid syntax", "Found 1 error."]


def test_self_referencing_symlink_file_does_not_crash(project, cli) -> None:
    """A link that points at itself (``x.py -> x.py``) is unreadable, not a crash."""
    root = project({"app/main.py": "def f(:\n"})
    os.symlink("self.py", root / "app" / "self.py")
    proc = cli("check", ".", cwd=root)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    assert "app/main.py:1:7: PF000" in proc.stdout
