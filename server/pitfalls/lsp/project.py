"""A workspace folder's project, and the engine work done on it.

The functions below run in the server's one engine thread only (the
:class:`~pitfalls.project.workspace.Workspace` is not thread-safe) and call the same engine
functions as the CLI: checking, fixing and re-checking what an edit affects are the
Workspace's; this module only turns their results into :class:`Checked` for publishing.
"""

from __future__ import annotations

import asyncio
import gc
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pitfalls.core.check import check_text
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.fixes import fix_text
from pitfalls.core.settings import Settings
from pitfalls.lsp.convert import Checked, converted, empty
from pitfalls.project.config import ConfigResolver, ProjectConfig
from pitfalls.project.files import read_source
from pitfalls.project.run import Progress
from pitfalls.project.workspace import Workspace
from pitfalls.rules import ALL_RULES, runnable
from pitfalls.sources.load import has_sources, load_each

UNTITLED = "untitled.py"
_UNTITLED_RULES = runnable(ALL_RULES)


@dataclass
class Project:
    """A workspace folder (or the pyproject.toml project of a file outside every folder)."""

    root: Path
    uri: str | None
    config: ConfigResolver
    run: str
    workspace: Workspace
    # Set once the scan has checked every file (closed files' results, workspace pulls);
    # ``indexed`` as soon as the index is built, which is all an open buffer's check needs.
    ready: asyncio.Event
    indexed: asyncio.Event
    live: asyncio.Task | None = None  # keeps the live schemas fresh (see PitfallsServer.keep_live)
    warned: set[str] = field(default_factory=set)  # schema warnings shown for these settings

    @classmethod
    def open(cls, root: Path, uri: str | None, config: ConfigResolver, run: str) -> Project:
        return cls(root, uri, config, run, Workspace(config, root), asyncio.Event(), asyncio.Event())

    def release(self) -> None:
        """Wake every check waiting on this project: its scan is as done as it will be (or
        it is never scanned, or a new project replaces it)."""
        self.indexed.set()
        self.ready.set()

    def configured(self) -> tuple[dict[str, Any], Path, str]:
        """What new editor settings may change: the options on top of the files, and the
        folder's own configuration (the files deeper down are watched)."""
        folder = self.config.folder_config(self.root)
        return self.config.overrides, folder.root, folder.settings.fingerprint()

    @property
    def has_schema_sources(self) -> bool:
        return any(has_sources(config) for config in self.config.configs())

    def contains(self, path: str) -> bool:
        root = str(self.root)
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# ---------------------------------------------------------------------------------------
# Engine thread only


def attach_file_schemas(configs: list[ProjectConfig]) -> None:
    """Give the configurations met for the first time the schemas their files give (no
    network: the live ones are fetched later, off the engine thread)."""
    missing = [config for config in configs if config.schemas is None]
    if missing:
        load_each(missing, live=False).attach()


def check_alone(source: str) -> list[Diagnostic]:
    """An untitled buffer: on its own, default settings."""
    return check_text(UNTITLED, source, _UNTITLED_RULES, name=Path(UNTITLED).stem, settings=Settings()).diagnostics


def check_buffer(project: Project | None, path: str | None, source: str, version: int | None, encoding: str) -> Checked:
    """Check an open buffer; the index takes its text."""
    if project is None or path is None:
        return converted(source, encoding, check_alone(source), version)
    if project.config.is_excluded(Path(path)):
        return converted(source, encoding, [], version)
    attach_file_schemas([project.config.config_for(path)])
    affected = project.workspace.update(path, source)
    outcome = project.workspace.check(path, source)
    return converted(source, encoding, outcome.diagnostics, version, affected=affected, errors=outcome.errors)


def check_closed(project: Project, path: str, encoding: str) -> Checked | None:
    """Check a closed file from disk (the index takes its text). None: unreadable for
    now, keep what is shown."""
    ws = project.workspace
    if not ws.is_source(path):
        if os.path.exists(path):
            return empty(encoding)
        return empty(encoding, affected=ws.remove(path))
    text, failure = read_source(path)
    if text is None:
        if os.path.exists(path):
            return None
        return empty(encoding, affected=ws.remove(path))
    if failure is not None:
        return converted(text, encoding, [failure], None)
    attach_file_schemas([project.config.config_for(path)])
    affected = ws.update(path, text, edited=False)
    outcome = ws.check(path, text, edited=False)
    ws.forget(path)
    return converted(text, encoding, outcome.diagnostics, None, affected=affected, errors=outcome.errors)


def index_project(project: Project, files: list[Path], buffers: dict[str, str], progress: Progress) -> None:
    """The index alone, with the open buffers' text: the first step of a scan, after
    which open buffers are checked before the closed files are. ``progress``: see
    :meth:`Workspace.scan`."""
    project.workspace.index_only(files, progress)
    _take_buffers(project.workspace, buffers)


def scan_project(
    project: Project, files: list[Path], buffers: dict[str, str], encoding: str, progress: Progress
) -> tuple[dict[str, Checked], set[str]]:
    """The scan, then the open buffers' text into the index; returns closed files' results
    and the files the buffers may change. ``progress``: see :meth:`Workspace.scan`."""
    ws = project.workspace
    attach_file_schemas(project.config.configs())
    results: dict[str, Checked] = {}
    for path, diagnostics in ws.scan(files, progress).items():
        if diagnostics:
            text, _ = read_source(path)
            results[path] = converted(text or "", encoding, diagnostics, None)
        else:
            results[path] = empty(encoding)
    affected = _take_buffers(ws, buffers)
    gc.collect()
    gc.freeze()  # the index and the rest that lives on: never scanned by a collection again
    return results, affected


def _take_buffers(ws: Workspace, buffers: dict[str, str]) -> set[str]:
    """The open buffers' text into the index (it was read from disk); the files that may change with it."""
    affected: set[str] = set()
    for path, text in buffers.items():
        if ws.is_source(path):
            affected |= ws.update(path, text)
    return affected


def fix_all(project: Project | None, path: str | None, source: str) -> str:
    """The text with every safe fix applied, re-checked until nothing changes (what
    ``pitfalls check --fix`` writes)."""
    if project is None or path is None:
        return fix_text(UNTITLED, source, check_alone, unsafe=False)
    if project.config.is_excluded(Path(path)):
        return source
    attach_file_schemas([project.config.config_for(path)])
    return project.workspace.fix_all(path, source)
