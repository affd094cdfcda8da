"""Which files to check: Python sources under the given paths, minus what is never source,
what ``exclude`` names and (``respect-gitignore``, the default) what git ignores; both
judged by the configuration of the folder that holds the path."""

from __future__ import annotations

import os
from pathlib import Path

from pitfalls.project.config import ConfigResolver
from pitfalls.project.gitignore import GitIgnore

SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "node_modules", ".direnv",
        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pitfalls_cache",
        "build", "dist", "site-packages", ".eggs", "_build", "buck-out",
    }
)
SOURCE_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    pass


def _skipped_folder(name: str, full: str) -> bool:
    """A folder that never holds the project's own source: tool caches, virtualenvs."""
    return name in SKIPPED_DIRS or name.endswith(".egg-info") or os.path.isfile(os.path.join(full, "pyvenv.cfg"))


class _Filter:
    """What a walk leaves out: the config's ``exclude`` and, unless turned off, git's ignores."""

    def __init__(self, config: ConfigResolver) -> None:
        self.config = config
        self.gitignore = GitIgnore()

    def _ignored(self, full: str, is_dir: bool) -> bool:
        return self.config.config_for(full).settings.respect_gitignore and self.gitignore.ignored(full, is_dir=is_dir)

    def skips_folder(self, name: str, full: str) -> bool:
        return _skipped_folder(name, full) or self.config.is_excluded(full) or self._ignored(full, True)

    def skips_file(self, full: str) -> bool:
        return self.config.is_excluded(full) or self._ignored(full, False)


def _special(path: str) -> bool:
    """A FIFO, socket or device (or a link to one): never source, and reading it could
    block or never end. A dangling link is not special: its PF000 says it cannot be read."""
    return os.path.exists(path) and not os.path.isfile(path)


def is_source(path: str, config: ConfigResolver, root: Path) -> bool:
    """Whether checking ``root`` (walked by :func:`discover`) covers ``path``."""
    if not path.endswith(SOURCE_SUFFIXES):
        return False
    full = os.path.abspath(path)
    if not full.startswith(str(root).rstrip(os.sep) + os.sep):
        return False
    skips = _Filter(config)
    folder = str(root)
    for part in Path(os.path.relpath(full, root)).parts[:-1]:
        folder = os.path.join(folder, part)
        if skips.skips_folder(part, folder):
            return False
    return not skips.skips_file(full)


def discover(paths: list[Path], config: ConfigResolver, *, force_exclude: bool = False) -> list[Path]:
    """Python files under ``paths``: explicit files always, folders walked.

    Files are named as walked (a symlinked file keeps its own name) but each real file is
    listed once; symlinked folders are followed once each, so a link loop ends. A file named
    explicitly is checked even when ``exclude`` matches it or git ignores it; ``force_exclude``
    applies ``exclude`` to it too (what a pre-commit hook wants: it names every changed file).
    """
    found: dict[str, Path] = {}  # real path -> path as walked
    skips = _Filter(config)

    def add(path: Path) -> None:
        found.setdefault(os.path.realpath(path), Path(os.path.abspath(path)))

    for given in paths:
        if not given.exists():
            raise DiscoveryError(f"{given}: no such file or directory")
        if not given.is_dir():  # a file named explicitly (a FIFO or a device gets its PF000)
            if not (force_exclude and config.is_excluded(given)):
                add(given)
            continue
        visited: set[str] = set()
        for folder, dirnames, filenames in os.walk(given, followlinks=True):
            real = os.path.realpath(folder)
            if real in visited:
                dirnames[:] = []
                continue
            visited.add(real)
            dirnames[:] = [n for n in sorted(dirnames) if not skips.skips_folder(n, os.path.join(folder, n))]
            for name in sorted(filenames):
                full = os.path.join(folder, name)
                if name.endswith(SOURCE_SUFFIXES) and not _special(full) and not skips.skips_file(full):
                    add(Path(full))
    return list(found.values())
