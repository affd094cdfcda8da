"""What one file's result read of the rest of the project (:class:`Dependencies`): the
result holds for as long as all of it is as it was. The index's view records it
(:class:`~pitfalls.core.index.IndexView`); the cache keeps it; a later run, or the editor
after an edit, judges it.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from pitfalls.core.summary_data import ModuleSummary


@dataclass
class PartsRead:
    """The parts of one module a result read (see ModuleSummary.part), as recorded: the
    module's fingerprint then, and each part's digest. The cache keeps them as one text,
    ``<fingerprint> <digest of them all> <their names, shortened>`` (a result reads a few
    parts of each of dozens of modules; a warm run reads only the fingerprint)."""

    fingerprint: str
    digests: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        names = sorted(_SHORT_KINDS[kind] + rest for kind, rest in (_kind(key) for key in self.digests))
        return " ".join([self.fingerprint, _combined(self.digests.items()), *names])


def _fingerprint_of_parts(read: PartsRead | str) -> str:
    return read.partition(" ")[0] if type(read) is str else read.fingerprint  # type: ignore[union-attr]


def _parts_match(read: PartsRead | str, summary: ModuleSummary, part: Callable[[str], str] | None = None) -> bool:
    """Whether ``summary`` has the parts ``read`` as they were (``part(key)``: its digest
    of a part, memoised by the caller)."""
    part = part or summary.part
    if type(read) is not str:
        return all(part(key) == digest for key, digest in read.digests.items())  # type: ignore[union-attr]
    _, digest, *names = read.split(" ")  # type: ignore[union-attr]
    if any(name[:1] not in _LONG_KINDS for name in names):
        return False  # not a text this version wrote: not known to hold
    keys = [_LONG_KINDS[name[0]] + name[1:] for name in names]
    return _combined((key, part(key)) for key in keys) == digest


def _at_fingerprint(read: PartsRead | str, fingerprint: str) -> PartsRead | str:
    """``read``, taken as read from the module at ``fingerprint`` (its parts held)."""
    if type(read) is str:
        return fingerprint + read[read.index(" "):]  # type: ignore[union-attr]
    return PartsRead(fingerprint, read.digests)  # type: ignore[union-attr]


def _combined(digests: Iterable[tuple[str, str]]) -> str:
    text = "\n".join(f"{key}={digest}" for key, digest in sorted(digests))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _kind(key: str) -> tuple[str, str]:
    kind, colon, name = key.partition(":")
    return kind, colon + name


# A part's kind as the cache spells it (see PartsRead).
_SHORT_KINDS = {
    "module": "m", "class": "c", "function": "f", "binding": "b", "call_assignment": "a", "call_class": "k",
    "exports": "e", "typevars": "t", "name": "n",
}
_LONG_KINDS = {short: kind for kind, short in _SHORT_KINDS.items()}


@dataclass
class Dependencies:
    """What one file's result read of the rest of the project: the result holds for as
    long as all of this is as it was."""

    summaries: dict[str, str] = field(default_factory=dict)  # path -> fingerprint of the summary read
    missing: set[str] = field(default_factory=set)  # module names looked up and not found
    constants: dict[str, str] = field(default_factory=dict)  # constant -> the paths defining it, joined
    cycle: str | None = None  # fingerprint of what the import graph says of the module, when read
    # When a question about every module was asked, which modules there were (see
    # ProjectIndex.modules_key): one added anywhere may change the answer, though nothing
    # looked it up by name.
    every: str | None = None
    # What the disk said outside the index (see :func:`disk_answer`): kind -> path -> answer.
    disk: dict[str, dict[str, str]] = field(default_factory=dict)
    # Modules read in parts only (unless in ``summaries`` too): a change of the module
    # elsewhere (a function added) leaves the result standing.
    parts: dict[str, PartsRead | str] = field(default_factory=dict)  # (str: as the cache has it)

    def to_json(self) -> dict[str, Any]:
        found = {
            "summaries": self.summaries, "missing": sorted(self.missing), "constants": self.constants, "cycle": self.cycle,
            "every": self.every,
        }
        if self.disk:
            found["disk"] = self.disk
        if self.parts:
            found["parts"] = {path: read if type(read) is str else read.text() for path, read in self.parts.items()}
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dependencies:
        disk = {kind: dict(answers) for kind, answers in data.get("disk", {}).items()}
        parts = dict(data.get("parts", ()))
        return cls(
            dict(data["summaries"]), set(data["missing"]), dict(data["constants"]), data["cycle"], data["every"], disk, parts
        )

    def disk_holds(self, answer: Callable[[str, str], str]) -> bool:
        """Whether the disk still says what it said (``answer(kind, path)``: see disk_answer)."""
        return all(answer(kind, path) == said for kind, answers in self.disk.items() for path, said in answers.items())

    def parts_hold(
        self, fingerprint_of: Callable[[str], str | None], summary_of: Callable[[str], ModuleSummary | None]
    ) -> bool:
        """Whether every module read in parts still has those parts as they were: its
        fingerprint unchanged, or (its summary asked for only then) the parts' digest. A
        module whose parts held is taken at its new fingerprint from then on: the next run
        takes the fingerprint's word for it."""
        for path, read in self.parts.items():
            if path in self.summaries:
                continue  # read whole too: judged by its fingerprint
            now = fingerprint_of(path)
            if now is None:
                return False
            if now == _fingerprint_of_parts(read):
                continue
            summary = summary_of(path)
            if summary is None or not _parts_match(read, summary):
                return False
            self.parts[path] = _at_fingerprint(read, now)
        return True

    def parts_changed(self, path: str, summary: ModuleSummary | None, part: Callable[[str], str] | None = None) -> bool:
        """Whether ``path``'s module, now ``summary`` (None: gone), lost a part read here
        (``part``: as for _parts_match)."""
        read = self.parts.get(path)
        return read is not None and (summary is None or not _parts_match(read, summary, part))


def disk_answer(kind: str, path: str, ignored_by_git: Callable[..., bool] | None) -> str:
    """What the disk says of ``path`` (a question a rule asked through :class:`IndexView`),
    as text a cached result records and a later run compares: ``listing``, the names a
    folder's entries import as (a digest; ``?``: unreadable); ``module``, whether a module
    or package file is there (``path`` without ``.py``); ``file``, whether a file is;
    ``ignored``, whether git ignores module or package ``path`` (generated at build)."""
    if kind == "listing":
        return listing_answer(folder_names(path))
    if kind == "module":
        found = os.path.isdir(path) or os.path.isfile(path + ".py")
    elif kind == "file":
        found = os.path.isfile(path)
    else:
        found = ignored_by_git is not None and (ignored_by_git(path + ".py", is_dir=False) or ignored_by_git(path, is_dir=True))
    return "1" if found else ""


def disk_now(ignored_by_git: Callable[..., bool] | None) -> Callable[[str, str], str]:
    """:func:`disk_answer` as of now (a run, or one question of the editor's): each
    ``(kind, path)`` asked of the disk once."""
    return functools.cache(lambda kind, path: disk_answer(kind, path, ignored_by_git))


def folder_names(folder: str) -> list[str] | None:
    """The names a folder's entries import as (``x.py``, ``x/``, ``x.so``: ``x``), sorted;
    none for hidden ones (``.pitfalls_cache``, written by the run itself, imports as nothing)."""
    try:
        return sorted({entry.split(".")[0] for entry in os.listdir(folder) if not entry.startswith(".")})
    except OSError:
        return None


def listing_answer(names: list[str] | None) -> str:
    if names is None:
        return "?"
    return hashlib.blake2b("\0".join(names).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
