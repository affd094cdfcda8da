"""The results cache: ``.pitfalls_cache/<version>/<key>.json`` in the project's folder.

The key covers what the results depend on besides the files: the settings of the
configurations involved, pitfalls' own code and the rule set. Per file it keeps the stat
and hash of the text analysed, its module name, its summary (for the index) and its
results with the :class:`~pitfalls.core.dependencies.Dependencies` they read and the fingerprint
of the settings and schemas they were computed with (each file has its own configuration).
Per project it keeps the import cycles' fingerprints with the state of the index they were
computed from, so a warm run never rebuilds the index to validate results that read cycles.
Each file is signed with a key of this user's (outside every repository): a cache someone
else wrote, a committed one included, is ignored.

The summaries, two thirds of the file, are its last line, signed apart (the first line's
signature covers the rest and the summaries' signature): a run checks and decodes them only
when it builds the index (a warm run does not), the rest at once.

The file names the folder it was written in. Found in another (the project moved, or a CI
job restored it into a checkout at another path), its paths are moved there as it is read:
the fingerprints it holds are the same summaries' and results', wherever they are.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pitfalls import __version__
from pitfalls.core import json_text
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.dependencies import Dependencies
from pitfalls.core.index import modules_key
from pitfalls.core.settings import Settings, parse_settings, settings_from_json, settings_json
from pitfalls.core.summary_data import ModuleSummary
from pitfalls.project.files import UnreadableFile, read_bounded, replace_file

FOLDER = ".pitfalls_cache"
MAX_CACHE_MB = 1024


@dataclass
class Results:
    read: Dependencies
    diagnostics: list[dict[str, Any]]  # as JSON, without their path
    settings: str  # fingerprint of the settings and schemas the file was checked with

    def load(self, display: str) -> list[Diagnostic]:
        return [dataclasses.replace(Diagnostic.from_json(d), path=display) for d in self.diagnostics]


class CorruptCache(Exception):
    """A cache file whose summaries line is not what its signed first line says."""


class _Moved:
    """Paths written under folder ``old``, moved under ``new``."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        self._under = old + os.sep
        # As a summary's JSON text spells them (see json_text.dumps; the json module's spelling
        # too, as the text of a summary holding a lone surrogate): `"path":"<old>/...` and
        # `"root":"<old>"`.
        spellings = (json_text.dumps, functools.partial(json.dumps, ensure_ascii=False))
        self._quoted = list(dict.fromkeys(
            pair for spell in spellings
            for pair in ((spell(old + os.sep)[:-1], spell(new + os.sep)[:-1]), (spell(old), spell(new)))
        ))

    def path(self, text: str) -> str:
        """A path, or paths joined by commas (a constant's definers), moved."""
        if self.old not in text:
            return text
        return ",".join(
            self.new if part == self.old else self.new + part[len(self.old):] if part.startswith(self._under) else part
            for part in text.split(",")
        )

    def value(self, value: Any) -> Any:
        """Every path in a JSON value (keys included) moved."""
        if isinstance(value, str):
            return self.path(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.path(key): self.value(item) for key, item in value.items()}
        return value

    def summary(self, text: str) -> str:
        for old, new in self._quoted:
            text = text.replace(old, new)
        return text


class _Summaries:
    """A cache file's summaries line (JSON: path -> summary text), checked against its
    signature and decoded when first asked; its paths ``moved`` when the file was written
    in another folder."""

    def __init__(self, line: bytes | memoryview, mac: str, moved: _Moved | None = None) -> None:
        self._line = line
        self._mac = mac
        self._moved = moved
        self._texts: dict[str, str] | None = None

    def get(self, path: str) -> str | None:
        if self._texts is None:
            if not hmac.compare_digest(_mac(self._line), self._mac.encode()):
                raise CorruptCache("the summaries are not the ones signed")
            try:
                texts = json_text.loads(bytes(self._line))
            except (ValueError, RecursionError):
                raise CorruptCache("the summaries are not JSON") from None
            if not isinstance(texts, dict):
                raise CorruptCache("the summaries are not a mapping")
            if self._moved is not None:
                texts = {self._moved.path(key): text for key, text in texts.items()}
            self._texts, self._line = texts, b""
        text = self._texts.get(path)
        return text if text is None or self._moved is None else self._moved.summary(text)


@dataclass
class Entry:
    mtime_ns: int
    size: int
    hash: str
    module: str
    root: str
    # The ModuleSummary as JSON text, decoded only when the index is built (a warm run
    # builds none), and the names of its constants, which every run may ask about. An
    # entry read from the cache finds its text in the file's summaries (``stored``).
    summary: str | None
    constants: list[str]
    fp: str | None  # the summary's fingerprint
    results: Results | None  # None when the file was only summarised for the index
    stored: tuple[_Summaries, str] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def make(
        cls,
        st: os.stat_result,
        digest: str,
        module: str,
        root: str,
        summary: ModuleSummary | Entry | None,
        fp: str | None,
        results: tuple[Dependencies, list[Diagnostic], str] | None,
    ) -> Entry:
        """``summary``: the file's, or the cached entry that holds it."""
        if isinstance(summary, Entry):
            text, constants = summary.summary_text(), summary.constants
        elif summary is not None:
            text, constants = summary.to_text(), list(summary.constants)
        else:
            text, constants = None, []
        return cls(
            st.st_mtime_ns, st.st_size, digest, module, root, text, constants,
            fp,
            None if results is None
            else Results(results[0], [dataclasses.replace(d, path="").to_json() for d in results[1]], results[2]),
        )

    def to_json(self) -> dict[str, Any]:
        """All but the summary's text (see :meth:`summary_text`): whether it has one."""
        results = self.results
        return {
            "mtime_ns": self.mtime_ns, "size": self.size, "hash": self.hash, "module": self.module, "root": self.root,
            "summary": self.summary is not None or self.stored is not None, "constants": self.constants, "fp": self.fp,
            "results": None if results is None
            else {"read": results.read.to_json(), "diagnostics": results.diagnostics, "settings": results.settings},
        }

    def summary_text(self) -> str | None:
        if self.stored is not None:
            summaries, path = self.stored
            self.summary, self.stored = summaries.get(path), None
        return self.summary

    def module_summary(self) -> ModuleSummary | None:
        text = self.summary_text()
        return None if text is None else ModuleSummary.from_text(text)

    @classmethod
    def from_json(cls, path: str, data: dict[str, Any], summaries: _Summaries) -> Entry:
        results = data["results"]
        return cls(
            data["mtime_ns"], data["size"], data["hash"], data["module"], data["root"], None,
            data["constants"], data["fp"],
            None if results is None
            else Results(Dependencies.from_json(results["read"]), results["diagnostics"], results["settings"]),
            (summaries, path) if data["summary"] else None,
        )


@dataclass
class Cycles:
    """The import cycles' fingerprints by path, for one state of the index (``key``)."""

    key: str
    fingerprints: dict[str, str]


@functools.cache
def _engine_fingerprint() -> str:
    """Changes whenever pitfalls' own code does (a rule added or edited), not only its
    version: each source's name, size and modification time (as for the files checked)."""
    digest = hashlib.blake2b(__version__.encode(), digest_size=8)
    folders = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    while folders:
        with os.scandir(folders.pop()) as listing:
            for entry in sorted(listing, key=lambda entry: entry.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    st = entry.stat()
                    digest.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class Cache:
    def __init__(self, root: Path, configured: str, enabled: bool, codes: Iterable[str]) -> None:
        """The cache in ``root``; ``configured``: the fingerprint of the settings; ``codes``:
        the rules' (a rule added runs on files whose results are cached)."""
        self.enabled = enabled
        self.root = str(root)
        self.folder = root / FOLDER
        key = hashlib.blake2b(f"{configured}{_engine_fingerprint()}{','.join(codes)}".encode(), digest_size=8)
        self.file = self.folder / __version__ / f"{key.hexdigest()}.json"
        self.entries: dict[str, Entry] = {}
        self.cycles: Cycles | None = None
        self.moved = False  # the file was written in another folder (then written again here)
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            data = read_bounded(self.file, MAX_CACHE_MB)
            first = data.find(b"\n")
            second = data.find(b"\n", first + 1)
            if first < 0 or second < 0:
                return
            main = data[first + 1:second]
            if not hmac.compare_digest(data[:first], _mac(main)):
                return  # not written by this user
            found = json.loads(main)  # (not msgspec: importing it costs a warm run more than it saves)
            if found.get("version") != __version__:
                return
            moved = None
            if isinstance(found.get("root"), str) and found["root"] != self.root:
                moved = _Moved(found["root"], self.root)
                found = _moved_payload(found, moved)
                self.moved = True
            stored = _Summaries(memoryview(data)[second + 1:], found["summaries"], moved)  # not copied: a warm run never reads it
            self.entries = {path: Entry.from_json(path, entry, stored) for path, entry in found["files"].items()}
            if found.get("cycles"):
                self.cycles = Cycles(found["cycles"]["key"], found["cycles"]["fingerprints"])
        except (UnreadableFile, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            self.entries, self.cycles, self.moved = {}, None, False

    def save(self, updates: dict[str, Entry], checked: set[str], cycles: Cycles | None) -> None:
        """Store ``updates``; keep other files' entries unless this run saw them go."""
        if not self.enabled:
            return
        entries = {p: e for p, e in self.entries.items() if p not in checked and os.path.exists(p)}
        entries.update(updates)
        unchanged = entries.keys() == self.entries.keys() and all(e is self.entries[p] for p, e in entries.items())
        if unchanged and cycles is self.cycles and not self.moved:
            return  # a warm run: the file already says all of this
        texts = {p: text for p, e in entries.items() if (text := e.summary_text()) is not None}
        summaries = json.dumps(texts, separators=(",", ":")).encode("utf-8")
        payload: dict[str, Any] = {
            "version": __version__, "root": self.root, "files": {p: e.to_json() for p, e in entries.items()},
            "summaries": _mac(summaries).decode(),
        }
        if cycles is not None:
            payload["cycles"] = dataclasses.asdict(cycles)
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by pitfalls\n*\n", encoding="utf-8")
            replace_file(self.file, _signed(json.dumps(payload, separators=(",", ":")).encode("utf-8")) + b"\n" + summaries)
        except OSError:
            pass  # a read-only checkout still gets its results, just not cached


def _moved_payload(found: dict[str, Any], moved: _Moved) -> dict[str, Any]:
    """A cache file's first line as if written where it is now. The keys hashed from the
    paths (of the index, for the cycles; of the modules, for results that read every
    module) are hashed again from the moved paths, when they were those of the entries."""
    old_fps = {path: entry["fp"] for path, entry in found["files"].items() if entry["fp"]}
    old_modules = modules_key(old_fps)
    found = {**found, "files": moved.value(found["files"]), "cycles": moved.value(found.get("cycles"))}
    new_fps = {path: entry["fp"] for path, entry in found["files"].items() if entry["fp"]}
    new_modules = modules_key(new_fps)
    for entry in found["files"].values():
        read = (entry["results"] or {}).get("read")
        if read is not None and read["every"] == old_modules:
            read["every"] = new_modules
    cycles = found["cycles"]
    if cycles and cycles["key"] == index_key(old_fps):
        cycles["key"] = index_key(new_fps)
    return found


class _SignedMemo:
    """A JSON object in a signed file of this user's (beside the cache key), kept in the
    order its entries were added; a file this user did not sign reads as empty."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._known: dict[str, Any] | None = None

    def load(self) -> dict[str, Any]:
        if self._known is None:
            try:
                known = json.loads(_verified(read_bounded(self.file, MAX_CACHE_MB)))
                self._known = known if isinstance(known, dict) else {}
            except (UnreadableFile, OSError, ValueError, RecursionError):
                self._known = {}
        return self._known

    def add(self, key: str, value: Any) -> None:
        known = self.load()
        known.pop(key, None)
        known[key] = value

    def save(self, bound: int) -> None:
        """Write the entries, less the oldest past ``bound``."""
        known = self.load()
        for stale in list(known)[: max(0, len(known) - bound)]:
            del known[stale]
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            replace_file(self.file, _signed(json.dumps(known, separators=(",", ":")).encode("utf-8")))
        except OSError:
            pass  # computed again next time


class KnownTables:
    """Validates ``[tool.pitfalls]`` tables, remembering the settings of each valid one in
    a signed file of this user's (beside the cache key): the same table under the same
    pitfalls gives the same settings, and importing pydantic to validate it again would be
    half of a warm run. A table the file does not know (or one it cannot key: a TOML date
    has no JSON twin) is validated; its errors are never remembered."""

    MAX_TABLES = 256  # the oldest go first

    def __init__(self, file: Path | None = None) -> None:
        self._memo = _SignedMemo(file or cache_key_file().with_name("settings.json"))

    def parse(self, table: dict[str, Any], source: Path | None = None) -> Settings:
        known, key = self._memo.load(), _table_key(table)
        if key is not None and key in known:
            try:
                return settings_from_json(known[key])
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # not what this pitfalls wrote: validated again, and replaced
        settings = parse_settings(table, source)
        if key is not None:
            self._memo.add(key, settings_json(settings))
            self._memo.save(self.MAX_TABLES)
        return settings


class KnownFacts:
    """What pitfalls derives from a repository's files by pure functions (what a folder's
    dependency files declare, which Python a ``requires-python`` admits), remembered by the
    files' content in a signed file of this user's (beside the cache key): a warm run reads
    the answers instead of parsing requirements again, and never imports ``packaging``.
    New answers are written by :meth:`save`, once per run."""

    MAX_FACTS = 1024  # the oldest go first

    def __init__(self, file: Path | None = None) -> None:
        self._memo = _SignedMemo(file or cache_key_file().with_name("facts.json"))
        self._added = False

    def recall(self, kind: str, content: bytes) -> tuple[bool, Any]:
        """(True, the answer) remembered for ``content`` under this pitfalls, else (False, None)."""
        known = self._memo.load()
        key = _fact_key(kind, content)
        return (True, known[key]) if key in known else (False, None)

    def remember(self, kind: str, content: bytes, value: Any) -> None:
        self._memo.add(_fact_key(kind, content), value)
        self._added = True

    def save(self) -> None:
        if self._added:
            self._memo.save(self.MAX_FACTS)
            self._added = False


def _fact_key(kind: str, content: bytes) -> str:
    """The content, what it is, pitfalls' code and the ``packaging`` it parses requirements with, hashed."""
    digest = hashlib.blake2b(f"{_engine_fingerprint()}\0{_packaging_stamp()}\0{kind}\0".encode(), digest_size=16)
    digest.update(content)
    return digest.hexdigest()


@functools.cache
def _packaging_stamp() -> str:
    """Which ``packaging`` is installed (its ``__init__``'s size and time), found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("packaging")
    try:
        st = os.stat(spec.origin) if spec is not None and spec.origin else None
    except OSError:
        st = None
    return f"{st.st_size}:{st.st_mtime_ns}" if st is not None else "?"


def _table_key(table: dict[str, Any]) -> str | None:
    """The table and this pitfalls' code, hashed; None for a table JSON cannot spell exactly."""
    try:
        text = json.dumps(table, allow_nan=False)  # in the table's order: so are the settings' mappings
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(f"{_engine_fingerprint()}\0{text}".encode(), digest_size=16).hexdigest()


# A cache file is `<HMAC-SHA256 of the payload, hex>\n<payload>`, keyed by a secret of this
# user's, kept outside every repository: a `.pitfalls_cache/` someone committed (which could
# hide findings, invent them, or carry a "safe fix" of their choosing) is ignored.
_KEY_BYTES = 32


def cache_key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pitfalls" / "cache-key"


def _user_key() -> bytes:
    """This user's cache key, created (private to the user) on first use."""
    path = cache_key_file()
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            key = secrets.token_bytes(_KEY_BYTES)
            out.write(key)
    if len(key) < _KEY_BYTES:
        raise OSError(f"{path}: not a pitfalls cache key")
    return key


def _mac(payload: bytes) -> bytes:
    return hmac.new(_user_key(), payload, hashlib.sha256).hexdigest().encode()


def _signed(payload: bytes) -> bytes:
    return _mac(payload) + b"\n" + payload


def _verified(data: bytes) -> bytes:
    """The payload of a file this user signed; ValueError for any other."""
    mac, _, payload = data.partition(b"\n")
    if not hmac.compare_digest(mac, _mac(payload)):
        raise ValueError("not written by this user")
    return payload


def index_key(fingerprints: dict[str, str]) -> str:
    """One fingerprint of the whole index: every module's path and summary fingerprint."""
    digest = hashlib.blake2b(digest_size=12)
    for path in sorted(fingerprints):
        digest.update(f"{path}\0{fingerprints[path]}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
