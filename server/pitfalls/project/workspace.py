"""A project kept in memory for an editor: the index built once, then updated per edit.

The language server owns one :class:`Workspace` per folder. ``scan()`` checks every file
of the folder (in parallel, through the cache: :func:`~pitfalls.project.run.check_files`,
as the CLI does, each file with its own configuration) and keeps the index of the whole
project around it; ``update()`` re-summarises one module from an unsaved buffer and says
which other files' results that may change; ``check()`` runs the rules on one file against
the current index, through the same :func:`~pitfalls.core.check.parse_file` and
:func:`~pitfalls.core.check.check_parsed` as every other check. Nothing here knows LSP.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from pitfalls.core.check import FileOutcome, ParsedFile, check_parsed, parse_file
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.fixes import fix_text
from pitfalls.core.dependencies import Dependencies, disk_now
from pitfalls.core.index import ProjectIndex
from pitfalls.core.source import ParseFailure
from pitfalls.core.summary_data import ModuleSummary
from pitfalls.project.config import ConfigResolver
from pitfalls.project.discovery import DiscoveryError, discover, is_source
from pitfalls.project.run import Progress, check_files, project_files, rules_for


@dataclass
class _Parsed:
    text: str
    parsed: ParsedFile | None
    failure: Diagnostic | None
    last_good: ParsedFile | None = None  # the newest text that parsed, to re-parse edits of


class Workspace:
    """The files under ``root``, checked with ``config`` (each file's schemas are its
    configuration's, resolved by the owner)."""

    def __init__(self, config: ConfigResolver, root: Path, *, use_cache: bool = True) -> None:
        self.config = config
        self.root = root
        self.use_cache = use_cache
        self.index = ProjectIndex()
        self.dependencies: dict[str, Dependencies] = {}  # path -> what its last check read
        self._parsed: dict[str, _Parsed] = {}  # the last text seen per path, parsed once
        self.errors: list[str] = []  # rule failures of the last scan, for the log

    def files(self) -> list[Path]:
        try:
            return discover([self.root], self.config)
        except DiscoveryError:
            return []

    def is_source(self, path: str) -> bool:
        """Whether the folder's check covers ``path`` (the CLI's discovery rules)."""
        return is_source(path, self.config, self.root)

    def scan(self, files: list[Path] | None = None, progress: Progress | None = None) -> dict[str, list[Diagnostic]]:
        """Check every file of the folder from disk; keep the index of their projects (the
        whole repository's, as the CLI's). Diagnostics by path. ``progress`` hears of the
        files read and checked, between them: an editor's checks may run there, against the
        index as it was (the scan's replaces it when it ends)."""
        files = self.files() if files is None else files
        result = check_files(
            files, self.config, project=project_files(self.config, files), use_cache=self.use_cache, base=self.root,
            keep_index=True, known=self.index, progress=progress,
        )
        self._take(result.index or ProjectIndex())
        self.errors = result.errors
        self.dependencies.update({os.path.abspath(p): deps for p, deps in result.dependencies.items()})
        by_path: dict[str, list[Diagnostic]] = {str(f): [] for f in files}
        display_to_path = {display: path for path, display in result.displays.items()}
        for diagnostic in result.diagnostics:
            by_path.setdefault(display_to_path.get(diagnostic.path, diagnostic.path), []).append(diagnostic)
        return by_path

    def _take(self, index: ProjectIndex) -> None:
        """The index from now on. The buffers' views are of the one it replaces: kept, they
        would hold it in memory until their next keystroke."""
        if index is not self.index:
            for held in self._parsed.values():
                for parsed in (held.parsed, held.last_good):
                    if parsed is not None:
                        parsed.view = None
        self.index = index

    def index_only(self, files: list[Path], progress: Progress | None = None) -> None:
        """The index :meth:`scan` keeps, built from the summaries alone (through the cache,
        where the scan then finds them): all that checking a buffer needs, at a fraction of
        the scan's cost, so an editor's open files need not wait for every file's check."""
        self.summarise(project_files(self.config, files), progress)

    def summarise(self, files: list[Path], progress: Progress | None = None) -> None:
        """Build the index from ``files`` (through the cache) without running their rules:
        all that checking one text against the project needs (``--stdin-filename``)."""
        result = check_files(
            [], self.config, project=files, use_cache=self.use_cache, keep_index=True, known=self.index,
            progress=progress,
        )
        self._take(result.index or ProjectIndex())
        self.errors = result.errors

    def _parse(self, path: str, text: str, edited: bool) -> _Parsed:
        parsed = self._parsed.get(path)
        if parsed is not None and parsed.text == text:
            return parsed
        last_good = parsed and (parsed.parsed or parsed.last_good)
        try:
            parsed = _Parsed(text, self._parse_file(path, text, last_good, edited), None)
        except ParseFailure as exc:
            parsed = _Parsed(text, None, exc.diagnostic, last_good)
        self._parsed[path] = parsed
        return parsed

    def _parse_file(self, path: str, text: str, previous: ParsedFile | None, edited: bool) -> ParsedFile:
        """``text`` parsed as ``path``'s module, under its project's Python floor (an edit
        of ``previous`` re-parsed in place); ParseFailure when it does not parse."""
        name, root, is_package = self.config.module_name(path)
        python = self.config.config_for(path).python_floor(path)
        return parse_file(
            path, text, name=name, root=root, is_package=is_package, python=python, previous=previous, edited=edited
        )

    def _check_parsed(self, path: str, parsed: ParsedFile) -> FileOutcome:
        """The rules of ``path``'s configuration run on ``parsed`` against the index."""
        return check_parsed(
            parsed, self.index, rules_for(self.config, path), settings=self.config.settings_for(path),
            schemas=self.config.schemas_for(path),
        )

    def update(self, path: str, text: str, *, edited: bool = True) -> set[str]:
        """Take ``text`` as the content of ``path``; return the other paths whose results
        read this module's summary (or its import cycles, or looked for its name) and
        changed with it. ``edited``: the text of a buffer, whose next edit re-parses in
        place (else nothing is kept for one: a closed file checked once).

        A buffer that does not parse keeps its last good summary in the index, so one
        half-typed line does not ripple through the project."""
        path = os.path.abspath(path)
        parsed = self._parse(path, text, edited).parsed
        if parsed is None:
            return set()
        old = self.index.by_path.get(path)
        before = self.index.fingerprints.get(path)
        self.index.add(parsed.summary, parsed.fingerprint)
        if self.index.fingerprints[path] == before:
            return set()
        return self.dependents(path, old, parsed.summary)

    def forget(self, path: str) -> None:
        """Drop the tree kept for ``path`` (say, a file closed in the editor); its summary
        stays in the index."""
        self._parsed.pop(os.path.abspath(path), None)

    def remove(self, path: str) -> set[str]:
        """A file deleted from the project."""
        path = os.path.abspath(path)
        old = self.index.by_path.get(path)
        self.index.remove(path)
        self._parsed.pop(path, None)
        self.dependencies.pop(path, None)
        return self.dependents(path, old, None)

    def dependents(self, path: str, old: ModuleSummary | None, new: ModuleSummary | None) -> set[str]:
        """Files whose last check read ``path``'s summary (or a part of it that changed),
        looked for its module name and did not find it, asked which modules define a
        constant it gained or lost, read import cycles that are no longer what they were,
        or read every module (when one came or went)."""
        names = {s.name for s in (old, new) if s is not None}
        old_constants = set(old.constants) if old else set()
        new_constants = set(new.constants) if new else set()
        constants = old_constants ^ new_constants
        graph = self.index.import_graph()
        modules = self.index.modules_key()
        part = functools.partial(self.index.part_digest, new) if new is not None else None
        found = set()
        for other, read in self.dependencies.items():
            if other == path:
                continue
            if (
                path in read.summaries
                or read.parts_changed(path, new, part)
                or not names.isdisjoint(read.missing)
                or not constants.isdisjoint(read.constants)
                or (read.cycle is not None and graph.fingerprint(other) != read.cycle)
                or (read.every is not None and read.every != modules)
            ):
                found.add(other)
        return found

    def disk_dependents(self) -> set[str]:
        """Files whose last check asked the disk something it now answers differently
        (PF303: a module generated where the check does not look, a folder's entries):
        the editor's counterpart of the CLI cache's judge, asked when files come and go."""
        answer = disk_now(self.index.ignored_by_git)
        return {path for path, read in self.dependencies.items() if read.disk and not read.disk_holds(answer)}

    def check(self, path: str, text: str, *, edited: bool = True) -> FileOutcome:
        """Diagnostics for ``text`` as the content of ``path`` (updating the index first;
        ``edited`` as for :meth:`update`)."""
        path = os.path.abspath(path)
        self.update(path, text, edited=edited)
        parsed = self._parse(path, text, edited)
        if parsed.parsed is None:
            self.dependencies.pop(path, None)
            return FileOutcome([parsed.failure] if parsed.failure else [])
        outcome = self._check_parsed(path, parsed.parsed)
        self.dependencies[path] = outcome.read
        return outcome

    def check_detached(self, path: str, text: str) -> FileOutcome:
        """Check ``text`` as ``path`` against the index without changing the workspace
        (a fix round's text is not the buffer). The buffer's own text is checked on its
        tree; another text (a fix's) is spliced into that tree where it can be."""
        path = os.path.abspath(path)
        held = self._parsed.get(path)
        parsed = held.parsed if held is not None else None
        if parsed is None or held.text != text:  # type: ignore[union-attr]
            try:
                parsed = self._parse_file(path, text, parsed, edited=False)
            except ParseFailure as exc:
                return FileOutcome([exc.diagnostic])
        return self._check_parsed(path, parsed)

    def fix_all(self, path: str, text: str, *, unsafe: bool = False) -> str:
        """``text`` with every (safe) fix applied, re-checked until nothing changes: what
        ``pitfalls check --fix`` writes for the same text and project."""
        return fix_text(path, text, lambda t: self.check_detached(path, t).diagnostics, unsafe=unsafe)
