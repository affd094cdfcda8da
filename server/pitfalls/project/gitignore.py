"""What git ignores, read from the ``.gitignore`` files themselves (git is never run).

As in Ruff, only inside a git repository (a folder above with ``.git``): the repository's
``.git/info/exclude`` and every ``.gitignore`` from its root down to a path's folder apply,
a deeper file overriding a shallower one. Matching is ``pathspec``'s ``GitIgnoreSpec``, the
maintained implementation of git's own rules (negation, anchoring, ``**``, folder-only).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pitfalls.project.files import UnreadableFile, read_bounded

MAX_IGNORE_MB = 1
IGNORE_FILE = ".gitignore"  # (an editor watches these: a change re-reads what a check covers)

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec


class GitIgnore:
    """The ignore files of the repositories a walk meets, each read once."""

    def __init__(self) -> None:
        self._specs: dict[str, GitIgnoreSpec | None] = {}  # folder -> its ignore patterns
        self._roots: dict[str, str | None] = {}  # folder -> its repository's root

    def _root(self, folder: str) -> str | None:
        if folder not in self._roots:
            parent = os.path.dirname(folder)
            if os.path.exists(os.path.join(folder, ".git")):
                self._roots[folder] = folder
            else:
                self._roots[folder] = None if parent == folder else self._root(parent)
        return self._roots[folder]

    def _spec(self, folder: str, root: str) -> GitIgnoreSpec | None:
        if folder not in self._specs:
            lines: list[str] = []
            sources = [os.path.join(folder, ".gitignore")]
            if folder == root:
                sources.insert(0, os.path.join(root, ".git", "info", "exclude"))
            for source in sources:
                try:
                    lines.extend(read_bounded(source, MAX_IGNORE_MB).decode("utf-8", "replace").splitlines())
                except UnreadableFile:
                    continue
            if lines:
                from pathspec import GitIgnoreSpec  # 15-25 ms: only once there are patterns to match

                self._specs[folder] = GitIgnoreSpec.from_lines(lines)
            else:
                self._specs[folder] = None
        return self._specs[folder]

    def ignored(self, path: str, *, is_dir: bool) -> bool:
        """Whether git ignores ``path`` itself (a walk that skips ignored folders needs no
        more: git never looks inside them)."""
        full = os.path.abspath(path)
        parent = os.path.dirname(full)
        root = self._root(parent)
        if root is None:
            return False
        folders = [parent]
        while folders[-1] != root:
            folders.append(os.path.dirname(folders[-1]))
        verdict = False
        for folder in reversed(folders):  # root first: a deeper file has the last word
            spec = self._spec(folder, root)
            if spec is None:
                continue
            rel = os.path.relpath(full, folder).replace(os.sep, "/") + ("/" if is_dir else "")
            include = spec.check_file(rel).include
            if include is not None:
                verdict = include
        return verdict
