"""Which files to check: Python sources under the given paths, minus what is never source."""

from __future__ import annotations

import os
from pathlib import Path

from pitfalls.config import ProjectConfig

SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "__pycache__", "node_modules",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pitfalls_cache",
        "build", "dist", "site-packages", ".eggs", "_build", "buck-out",
    }
)
SOURCE_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    pass


def _is_virtualenv(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, "pyvenv.cfg"))


def discover(paths: list[Path], config: ProjectConfig) -> list[Path]:
    """Python files under ``paths``: explicit files always, folders walked.

    Symlinked folders are followed once each (by real path), so a link loop ends.
    """
    found: dict[Path, None] = {}
    for given in paths:
        if not given.exists():
            raise DiscoveryError(f"{given}: no such file or directory")
        if given.is_file():
            found.setdefault(given.resolve(), None)
            continue
        visited: set[str] = set()
        for folder, dirnames, filenames in os.walk(given, followlinks=True):
            real = os.path.realpath(folder)
            if real in visited:
                dirnames[:] = []
                continue
            visited.add(real)
            keep = []
            for name in sorted(dirnames):
                full = os.path.join(folder, name)
                if name in SKIPPED_DIRS or name.endswith(".egg-info") or _is_virtualenv(full):
                    continue
                if config.is_excluded(Path(full)):
                    continue
                keep.append(name)
            dirnames[:] = keep
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES):
                    full_path = Path(folder, name)
                    if not config.is_excluded(full_path):
                        found.setdefault(full_path.resolve(), None)
    return list(found)
