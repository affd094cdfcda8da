"""A project kept in memory for an editor: the index built once, then updated per edit.

The language server owns one :class:`Workspace` per folder. ``scan()`` checks every file
(in parallel, through the cache) and keeps the project index; ``update()`` re-summarises
one module from an unsaved buffer and says which other files' results that may change;
``check()`` runs the rules on one file against the current index. Nothing here knows LSP.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
import libcst as cst

from pitfalls.analysis import FileOutcome, ParseFailure, check_module, parse
from pitfalls.config import ProjectConfig
from pitfalls.diagnostics import Diagnostic
from pitfalls.discovery import DiscoveryError, discover
from pitfalls.engine import check_files, enabled_rules
from pitfalls.index import IndexView, ModuleNamer, ModuleSummary, ProjectIndex, summarize
from pitfalls.rules import RULES_BY_CODE
from pitfalls.schemas import Schemas, load_schemas


@dataclass
class _Parsed:
    text: str
    module: cst.Module | None
    summary: ModuleSummary | None
    failure: Diagnostic | None


class Workspace:
    def __init__(self, config: ProjectConfig, *, use_cache: bool = True) -> None:
        self.config = config
        self.use_cache = use_cache
        self.index = ProjectIndex()
        self.namer = ModuleNamer(config.source_roots())
        self.dependencies: dict[str, dict[str, str]] = {}  # path -> what its last check read
        self._parsed: dict[str, _Parsed] = {}  # the last text seen per path, parsed once
        self.errors: list[str] = []  # rule failures of the last scan, for the log
        # Files only until the owner fetches the live sources (off the edit path) and sets them.
        self.schemas: Schemas = load_schemas(config, live=False).schemas

    def files(self) -> list[Path]:
        try:
            return discover([self.config.root], self.config)
        except DiscoveryError:
            return []

    def scan(self, files: list[Path] | None = None) -> dict[str, list[Diagnostic]]:
        """Check every file of the project from disk; keep the index. Diagnostics by path."""
        files = self.files() if files is None else files
        result = check_files(
            files, self.config, use_cache=self.use_cache, base=self.config.root, keep_index=True, schemas=self.schemas
        )
        self.index = result.index or ProjectIndex()
        self.errors = result.errors
        self.dependencies.update({os.path.abspath(p): deps for p, deps in result.dependencies.items()})
        by_path: dict[str, list[Diagnostic]] = {str(f): [] for f in files}
        display_to_path = {display: path for path, display in result.displays.items()}
        for diagnostic in result.diagnostics:
            by_path.setdefault(display_to_path.get(diagnostic.path, diagnostic.path), []).append(diagnostic)
        return by_path

    def _parse(self, path: str, text: str) -> _Parsed:
        parsed = self._parsed.get(path)
        if parsed is not None and parsed.text == text:
            return parsed
        name, root, is_package = self.namer(path)
        try:
            module = parse(path, text)
        except ParseFailure as exc:
            parsed = _Parsed(text, None, None, exc.diagnostic)
        else:
            summary = summarize(module, name=name, path=path, root=root, is_package=is_package)
            parsed = _Parsed(text, module, summary, None)
        self._parsed[path] = parsed
        return parsed

    def update(self, path: str, text: str) -> set[str]:
        """Take ``text`` as the content of ``path``; return the other paths whose results
        read this module's summary (or looked for its name) and changed with it.

        A buffer that does not parse keeps its last good summary in the index, so one
        half-typed line does not ripple through the project."""
        path = os.path.abspath(path)
        parsed = self._parse(path, text)
        if parsed.summary is None:
            return set()
        old = self.index.by_path.get(path)
        before = self.index.fingerprints.get(path)
        self.index.add(parsed.summary)
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
        """Files whose last check read ``path``'s summary, looked for its module name and
        did not find it, or asked which modules define a constant it gained or lost."""
        keys = {path}
        keys.update(f"?{s.name}" for s in (old, new) if s is not None)
        old_constants = set(old.constants) if old else set()
        new_constants = set(new.constants) if new else set()
        keys.update(f"*{name}" for name in old_constants ^ new_constants)
        return {other for other, deps in self.dependencies.items() if other != path and keys & deps.keys()}

    def check(self, path: str, text: str) -> FileOutcome:
        """Diagnostics for ``text`` as the content of ``path`` (updating the index first)."""
        path = os.path.abspath(path)
        self.update(path, text)
        parsed = self._parse(path, text)
        if parsed.failure is not None or parsed.module is None or parsed.summary is None:
            self.dependencies.pop(path, None)
            return FileOutcome([parsed.failure] if parsed.failure else [])
        codes = enabled_rules(self.config, Path(path))
        rules = [RULES_BY_CODE[c] for c in codes if c != "PF000"]
        view = IndexView(self.index, parsed.summary.root)
        outcome = check_module(
            path=path, source=text, module=parsed.module, summary=parsed.summary,
            index=view, rules=rules, settings=self.config.settings, schemas=self.schemas,
        )
        self.dependencies[path] = outcome.consulted
        return outcome

    def read(self, path: str) -> str | None:
        """The file's text on disk, or None when it cannot be read as source."""
        from pitfalls.analysis import decode

        try:
            return decode(path, Path(path).read_bytes())
        except (OSError, ParseFailure):
            return None

