"""An index that summarises a module only when a question needs it.

A run that checks a few files of a big project (pre-commit on a fresh clone) reads a small
part of it: the modules the files import, and those the import graph around them touches.
:class:`LazyIndex` answers every question exactly as the index of every module would, by
loading, before it answers, every module the answer could depend on:

- a module looked up by name: every module of that name;
- the modules defining a constant: every module whose text spells its name (none defines a
  name its text does not spell);
- the import graph around a module: every module whose text spells the module's name, or
  the part of it below the package they share (a relative import), then every module the
  loaded ones import, until none is left (a module's import cycles lie among the modules
  it imports, directly or not);
- every module (a question about all of them): all of them.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Callable, Mapping

from pitfalls.core.index import ProjectIndex
from pitfalls.core.summary_data import ModuleSummary

if TYPE_CHECKING:
    from pitfalls.core.import_graph import ImportGraph

# A module's summary and fingerprint (None: computed from the summary), read when first
# needed; None when there is no summary, as for a file that does not parse.
Loader = Callable[[str], "tuple[ModuleSummary, str | None] | None"]
# Whether the file at a path may spell a name, dotted or not (False only when it certainly
# does not: see :func:`spells`).
Mentions = Callable[[str, str], bool]
# Between the parts of a dotted name Python allows spaces and backslash continuations.
_GAP = rb"[ \t\f]*(?:\\(?:\r\n|\r|\n)[ \t\f]*)*"


def spells(data: bytes, name: str) -> bool:
    """Whether source bytes ``data`` may spell ``name`` (``pkg.mod``: also ``pkg . mod``);
    True for a name not in ASCII (the file's encoding is not known here)."""
    if not name.isascii():
        return True
    if "." not in name:
        return name.encode() in data
    return _dotted(name).search(data) is not None


@functools.lru_cache(maxsize=256)
def _dotted(name: str) -> re.Pattern[bytes]:
    return re.compile((_GAP + rb"\." + _GAP).join(re.escape(part.encode()) for part in name.split(".")))


class LazyIndex(ProjectIndex):
    def __init__(self, modules: Mapping[str, tuple[str, bool]], load: Loader, mentions: Mentions) -> None:
        """``modules``: every file of the project, as (module name, is a package's
        ``__init__``) by path, in the run's order."""
        super().__init__()
        self._paths = list(modules)
        self._paths_by_name: dict[str, list[str]] = {}
        for path, (name, _) in modules.items():
            self._paths_by_name.setdefault(name, []).append(path)
        # Each file's package, as its relative imports start from (None: a top-level module).
        self._packages = {path: _package_of(name, is_package) for path, (name, is_package) in modules.items()}
        self._load = load
        self._mentions = mentions
        self._tried: set[str] = set()
        self._followed: set[str] = set()  # modules whose imports are loaded
        self._importers: set[str] = set()  # modules whose importers are loaded

    def ensure(self, path: str) -> None:
        """Load ``path``'s module, once."""
        if path not in self._tried:
            self._tried.add(path)
            found = self._load(path)
            if found is not None:
                self.add(*found)

    def module(self, name: str, near_root: str | None = None) -> ModuleSummary | None:
        for path in self._paths_by_name.get(name, ()):
            self.ensure(path)
        return super().module(name, near_root)

    def modules(self, name: str) -> list[ModuleSummary]:
        for path in self._paths_by_name.get(name, ()):
            self.ensure(path)
        return super().modules(name)

    def defining(self, constant: str) -> list[str]:
        for path in self._paths:
            if path not in self._tried and self._mentions(path, constant):
                self.ensure(path)
        return super().defining(constant)

    def everything(self) -> dict[str, ModuleSummary]:
        for path in self._paths:
            self.ensure(path)
        return super().everything()

    def modules_key(self) -> str:
        """Of every module of the project: all are loaded for it."""
        self.everything()
        return super().modules_key()

    def fingerprint_of(self, path: str) -> str | None:
        self.ensure(path)
        return super().fingerprint_of(path)

    def graph_for(self, path: str) -> ImportGraph:
        self.ensure(path)
        summary = self.by_path.get(path)
        if summary is not None and path not in self._importers:
            self._importers.add(path)
            for other in self._paths:
                if other not in self._tried and self._may_import(other, summary.name):
                    self.ensure(other)
        return self.import_graph()

    def import_graph(self) -> ImportGraph:
        """The graph of the modules loaded, once every module they import is loaded too."""
        from pitfalls.core.import_graph import module_imports

        pending = [p for p in self.by_path if p not in self._followed]
        while pending:
            for other in pending:
                self._followed.add(other)
                module_imports(self, self.by_path[other])  # loads each module it imports
            pending = [p for p in self.by_path if p not in self._followed]
        return super().import_graph()

    def _may_import(self, path: str, name: str) -> bool:
        """Whether the file at ``path`` may import from module ``name``: its text spells the
        name, or (a relative import) the part of it below the package the two share."""
        if self._mentions(path, name):
            return True
        own = self._packages.get(path)
        if own is None:
            return False
        shared = 0
        parts = name.split(".")
        while shared < min(len(parts), len(own)) and parts[shared] == own[shared]:
            shared += 1
        return shared > 0 and self._mentions(path, ".".join(parts[shared:]))


def _package_of(name: str, is_package: bool) -> list[str] | None:
    """The package a module's relative imports start from: the module's own name for a
    package's ``__init__``, else its parent's."""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    return parts or None
