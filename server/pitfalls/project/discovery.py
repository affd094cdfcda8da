"""Which files to check: Python sources under the given paths, minus what is never source,
what ``exclude`` names and (``respect-gitignore``, the default) what git ignores; both
judged by the configuration of the folder that holds the path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

from pitfalls.project.config import ConfigResolver, ProjectConfig
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
    """What a walk leaves out: the config's ``exclude`` and, unless turned off, git's ignores,
    judged by the configuration of the folder holding the path (``within``: that one, when
    the caller has it already)."""

    def __init__(self, config: ConfigResolver) -> None:
        self.config = config
        self.gitignore = GitIgnore()

    def _skips(self, full: str, is_dir: bool, within: ProjectConfig | None) -> bool:
        config = within or self.config.config_for(full)
        if config.is_excluded(full):
            return True
        return config.settings.respect_gitignore and self.gitignore.ignored(full, is_dir=is_dir)

    def skips_folder(self, name: str, full: str, within: ProjectConfig | None = None) -> bool:
        return _skipped_folder(name, full) or self._skips(full, True, within)

    def skips_file(self, full: str, within: ProjectConfig | None = None) -> bool:
        return self._skips(full, False, within)


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
    found: dict[str, str] = {}  # real path -> path as walked
    skips = _Filter(config)
    for given in paths:
        if not given.exists():
            raise DiscoveryError(f"{given}: no such file or directory")
        if not given.is_dir():  # a file named explicitly (a FIFO or a device gets its PF000)
            if not (force_exclude and config.is_excluded(given)):
                found.setdefault(os.path.realpath(given), os.path.abspath(given))
            continue
        for real, walked in _walk(os.path.abspath(given), skips):
            found.setdefault(real, walked)
    return [Path(p) for p in found.values()]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """As os.walk judges it: a link that cannot be followed (a loop) is no folder."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _walk(top: str, skips: _Filter) -> Iterator[tuple[str, str]]:
    """(real path, path as walked) of the sources under ``top``, folder by folder in name
    order (each folder's files, then its subfolders); symlinked folders are followed, each
    real folder once. Real paths are resolved only for links: below a real folder, a name
    that is no link is real too."""
    visited: set[str] = set()
    stack = [(top, os.path.realpath(top))]
    while stack:
        folder, real = stack.pop()
        if real in visited:
            continue
        visited.add(real)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        within = skips.config.folder_config(folder)
        subfolders = []
        for entry in entries:
            full = entry.path
            if _is_dir(entry):
                if not skips.skips_folder(entry.name, full, within):
                    subfolders.append((full, os.path.realpath(full) if entry.is_symlink() else os.path.join(real, entry.name)))
            elif (
                entry.name.endswith(SOURCE_SUFFIXES)
                and (_is_file(entry) or not os.path.exists(full))  # never a FIFO, socket or device
                and not skips.skips_file(full, within)
            ):
                yield (os.path.realpath(full) if entry.is_symlink() else os.path.join(real, entry.name)), full
        stack.extend(reversed(subfolders))
