"""The results cache: ``.pitfalls_cache/<version>/<key>.json`` beside the project's config.

The key covers everything a result depends on besides the files: the settings, pitfalls'
own code, the rule set and the schemas. Per file it keeps the stat and hash of the text
analysed, its module name, its summary (for the index) and its results with the
:class:`~pitfalls.core.index.Dependencies` they read. Per project it keeps the import
cycles' fingerprints with the state of the index they were computed from, so a warm run
never rebuilds the index to validate results that read cycles.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pitfalls import __version__
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.index import Dependencies
from pitfalls.core.rule import Rule
from pitfalls.core.summary import ModuleSummary
from pitfalls.project.config import ProjectConfig
from pitfalls.project.files import replace_file

FOLDER = ".pitfalls_cache"


@dataclass
class Results:
    read: Dependencies
    diagnostics: list[dict[str, Any]]  # as JSON, without their path
    settings: str  # fingerprint of the settings the file was checked with

    def load(self, display: str) -> list[Diagnostic]:
        return [dataclasses.replace(Diagnostic.from_json(d), path=display) for d in self.diagnostics]


@dataclass
class Entry:
    mtime_ns: int
    size: int
    hash: str
    module: str
    root: str
    summary: dict[str, Any] | None  # a ModuleSummary as JSON: decoded only for the index
    fp: str | None  # the summary's fingerprint
    results: Results | None  # None when the file was only summarised for the index

    @classmethod
    def make(
        cls,
        st: os.stat_result,
        digest: str,
        module: str,
        root: str,
        summary: ModuleSummary | dict[str, Any] | None,
        fp: str | None,
        results: tuple[Dependencies, list[Diagnostic], str] | None,
    ) -> Entry:
        return cls(
            st.st_mtime_ns, st.st_size, digest, module, root,
            summary.to_json() if isinstance(summary, ModuleSummary) else summary,
            fp,
            None if results is None
            else Results(results[0], [dataclasses.replace(d, path="").to_json() for d in results[1]], results[2]),
        )

    def to_json(self) -> dict[str, Any]:
        results = self.results
        return {
            "mtime_ns": self.mtime_ns, "size": self.size, "hash": self.hash, "module": self.module, "root": self.root,
            "summary": self.summary, "fp": self.fp,
            "results": None if results is None
            else {"read": results.read.to_json(), "diagnostics": results.diagnostics, "settings": results.settings},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        results = data["results"]
        return cls(
            data["mtime_ns"], data["size"], data["hash"], data["module"], data["root"], data["summary"], data["fp"],
            None if results is None
            else Results(Dependencies.from_json(results["read"]), results["diagnostics"], results["settings"]),
        )


@dataclass
class Cycles:
    """The import cycles' fingerprints by path, for one state of the index (``key``)."""

    key: str
    fingerprints: dict[str, str]


def _engine_fingerprint() -> str:
    """Changes whenever pitfalls' own code does (a rule added or edited), not only its version."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


class Cache:
    def __init__(self, config: ProjectConfig, enabled: bool, rules: list[type[Rule]], schemas_fingerprint: str) -> None:
        self.enabled = enabled
        self.folder = config.root / FOLDER
        names = ",".join(f"{r.__module__}.{r.__qualname__}" for r in rules)
        key = hashlib.blake2b(
            f"{config.settings.fingerprint()}{_engine_fingerprint()}{names}{schemas_fingerprint}".encode(),
            digest_size=8,
        )
        self.file = self.folder / __version__ / f"{key.hexdigest()}.json"
        self.entries: dict[str, Entry] = {}
        self.cycles: Cycles | None = None
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if data.get("version") != __version__:
                return
            self.entries = {path: Entry.from_json(entry) for path, entry in data["files"].items()}
            if data.get("cycles"):
                self.cycles = Cycles(data["cycles"]["key"], data["cycles"]["fingerprints"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.entries, self.cycles = {}, None

    def save(self, updates: dict[str, Entry], checked: set[str], cycles: Cycles | None) -> None:
        """Store ``updates``; keep other files' entries unless this run saw them go."""
        if not self.enabled:
            return
        entries = {p: e for p, e in self.entries.items() if p not in checked and os.path.exists(p)}
        entries.update(updates)
        unchanged = entries.keys() == self.entries.keys() and all(e is self.entries[p] for p, e in entries.items())
        if unchanged and cycles is self.cycles:
            return  # a warm run: the file already says all of this
        payload: dict[str, Any] = {"version": __version__, "files": {p: e.to_json() for p, e in entries.items()}}
        if cycles is not None:
            payload["cycles"] = dataclasses.asdict(cycles)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by pitfalls\n*\n", encoding="utf-8")
            replace_file(self.file, json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass  # a read-only checkout still gets its results, just not cached


def index_key(fingerprints: dict[str, str]) -> str:
    """One fingerprint of the whole index: every module's path and summary fingerprint."""
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(fingerprints):
        digest.update(f"{path}\0{fingerprints[path]}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
