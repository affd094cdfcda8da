"""What a project declares it runs on, read from its dependency files (never by importing).

The pydantic major version decides whether v1 API is a pitfall (PF401): on a project that
pins pydantic 1 it is the API. The nearest folder at or above a file that declares
dependencies decides for that file: ``pyproject.toml`` (``[project]`` dependencies, Poetry's
table), ``requirements*.txt``, ``setup.cfg``. Without a pydantic requirement, a FastAPI pin
older than 0.100 (the first release supporting pydantic 2) means pydantic 1.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, TypeVar

from pitfalls.project.distributions import normal, provided_modules
from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.project.toml import MAX_TOML_MB, TomlError, load_toml, parse_toml

if TYPE_CHECKING:  # packaging is imported where files are read, not by a warm run
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

T = TypeVar("T")
_PYDANTIC_1 = ("1.0", "1.8.2", "1.9.2", "1.10.26")
_PYDANTIC_2 = ("2.0", "2.5.3", "2.11.4", "2.99")
_FASTAPI_PYDANTIC_2 = "0.100.0"  # the first FastAPI that runs on pydantic 2
_POETRY_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?")
_POETRY_TILDE = re.compile(r"^~(\d+)(?:\.(\d+))?")


class FactStore(Protocol):
    """Where facts derived from file contents are remembered between runs (see
    :class:`~pitfalls.project.cache.KnownFacts`): ``recall`` gives ``(found, value)``."""

    def recall(self, kind: str, content: bytes) -> tuple[bool, Any]: ...

    def remember(self, kind: str, content: bytes, value: Any) -> None: ...


class FolderDeclarations:
    """What each folder's dependency files declare and which Python its ``pyproject.toml``
    admits, each folder read once. With a ``store``, each answer is also remembered by the
    files' content: a warm run neither parses the requirements again nor imports
    ``packaging`` to do it."""

    def __init__(self, store: FactStore | None = None) -> None:
        self.store = store
        self._own: dict[str, Declared | None] = {}
        self._python: dict[str, tuple[int, int] | None] = {}

    def own(self, folder: Path) -> Declared | None:
        """What ``folder``'s own dependency files declare (None: it has none that do)."""
        key = str(folder)
        if key not in self._own:
            files = _dependency_files(folder)
            self._own[key] = self._remembered("declared", _content_key(files), lambda: _declared(files), Declared.to_json, Declared.from_json)
        return self._own[key]

    def nearest(self, folder: Path, stop: Path) -> Declared | None:
        """What the dependency files nearest to ``folder`` (looking up to ``stop``) declare."""
        while True:
            found = self.own(folder)
            parent = folder.parent
            if found is not None or parent == folder or not str(parent).startswith(str(stop)):
                return found
            folder = parent

    def above(self, folder: Path, stop: Path) -> Declared | None:
        """Everything the dependency files at or above ``folder`` (up to ``stop``) declare: a
        plugin's ``requirements.txt`` inside a package adds to its host's. None unless one of
        them declares a project (sits in a folder that is not a package)."""
        found = Declared()
        anchored = False
        while True:
            own = self.own(folder)
            if own is not None:
                found.everything |= own.everything
                found.complete = found.complete and own.complete
                found.drops_namespace_folders = found.drops_namespace_folders or own.drops_namespace_folders
                anchored = anchored or not (folder / "__init__.py").is_file()
            parent = folder.parent
            if parent == folder or not str(parent).startswith(str(stop)):
                return found if anchored else None
            folder = parent

    def python_floor(self, folder: str, stop: Path) -> tuple[int, int] | None:
        """The oldest Python the nearest ``pyproject.toml`` above ``folder`` (up to ``stop``)
        admits in ``requires-python``; None when none says."""
        if folder in self._python:
            return self._python[folder]
        found = None
        pyproject = Path(folder, "pyproject.toml")
        try:
            project = load_toml(pyproject).get("project") if pyproject.is_file() else None
        except TomlError:
            project = None
        requires = project.get("requires-python") if isinstance(project, dict) else None
        parent = os.path.dirname(folder)
        if isinstance(requires, str):
            content = requires.encode("utf-8", "surrogatepass")
            found = self._remembered("requires-python", content, lambda: _floor(requires), list, _version_pair)
        elif parent.startswith(str(stop)) and parent != folder:
            found = self.python_floor(parent, stop)
        self._python[folder] = found
        return found

    def _remembered(
        self, kind: str, content: bytes, compute: Callable[[], T | None], to_json: Callable[[T], Any], from_json: Callable[[Any], T]
    ) -> T | None:
        """``compute()``, the answer for ``content``; or what the store remembers of it."""
        if self.store is None:
            return compute()
        found, value = self.store.recall(kind, content)
        if found:
            try:
                return None if value is None else from_json(value)
            except (KeyError, TypeError, ValueError):
                pass  # not what this pitfalls wrote: computed again, and replaced
        result = compute()
        self.store.remember(kind, content, None if result is None else to_json(result))
        return result


# Folders whose code imports what its own tools install (tox, nox, a docs build): the
# dependency files rarely list it, as deptry's defaults assume too.
UNDECLARED_FOLDERS = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks"})


def pydantic_major(declared: Declared | None) -> int | None:
    """The pydantic major version ``declared`` pins; None when it does not say, or admits both."""
    return None if declared is None else declared.pydantic


def dependency_modules(declared: Declared | None) -> frozenset[str] | None:
    """The top-level modules (lower case) ``declared`` provides in any group; None when
    nothing is declared, or something declared could install anything."""
    return provided_modules(frozenset(declared.everything)) if declared is not None and declared.complete else None


_PYTHON_MINORS = tuple(f"3.{minor}" for minor in range(6, 20))


def _version_pair(data: list[int]) -> tuple[int, int]:
    major, minor = data
    if not isinstance(major, int) or not isinstance(minor, int):
        raise TypeError("not a version")
    return major, minor


def _floor(requires: str) -> tuple[int, int] | None:
    """The oldest Python 3 minor a ``requires-python`` specifier admits."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        admitted = _admitted(SpecifierSet(requires), _PYTHON_MINORS)
    except InvalidSpecifier:
        admitted = []
    return min(((v.major, v.minor) for v in admitted), default=None)


def _major(pydantic: str | None, fastapi: str | None) -> int | None:
    """From the pydantic and FastAPI specifiers."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    if pydantic is not None:
        admitted = _admitted(SpecifierSet(pydantic), _PYDANTIC_1 + _PYDANTIC_2)
        one = any(v.major == 1 for v in admitted)
        two = any(v.major == 2 for v in admitted)
        return 1 if one and not two else 2 if two and not one else None
    if fastapi and not any(v >= Version(_FASTAPI_PYDANTIC_2) for v in _admitted(SpecifierSet(fastapi), ("1.0",))):
        return 1
    return None


def _admitted(spec: SpecifierSet, probes: tuple[str, ...]) -> list[Version]:
    """The versions ``spec`` admits among ``probes`` and the versions it names itself."""
    from packaging.version import InvalidVersion, Version

    candidates = {Version(v) for v in probes}
    for one in spec:
        try:
            candidates.add(Version(one.version.removesuffix(".*")))
        except InvalidVersion:
            continue
    return [v for v in candidates if spec.contains(v, prereleases=True)]


# Files whose text changes what the settings of the files below them say (pydantic version,
# the modules the dependencies provide, whether folders need `__init__.py`): the language
# server watches them beside the configuration files.
DEPENDENCY_FILE_PATTERNS = ("requirements*.txt", "setup.cfg", "setup.py")


def is_dependency_file(name: str) -> bool:
    return name in ("setup.cfg", "setup.py") or (name.startswith("requirements") and name.endswith(".txt"))


@dataclass
class Declared:
    """What one folder's dependency files declare: every distribution any group names (for
    "is it declared at all") and the pydantic major its runtime requirements pin."""

    everything: set[str] = field(default_factory=set)
    complete: bool = True  # False: something could bring in any distribution (dynamic, `-e`, setup.py)
    # Its build packages only folders with `__init__.py` (setuptools' `find_packages()`).
    drops_namespace_folders: bool = False
    pydantic: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "everything": sorted(self.everything), "complete": self.complete,
            "drops_namespace_folders": self.drops_namespace_folders, "pydantic": self.pydantic,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Declared:
        found = cls(set(data["everything"]), data["complete"], data["drops_namespace_folders"], data["pydantic"])
        if (
            not all(isinstance(name, str) for name in found.everything) or found.pydantic not in (None, 1, 2)
            or not isinstance(found.complete, bool) or not isinstance(found.drops_namespace_folders, bool)
        ):
            raise ValueError("not a Declared")
        return found


# Further groups of distributions: extras, PEP 735 groups, PDM's and uv's development
# groups (requirement lists), and Poetry's (name -> version tables).
_LIST_GROUPS = (
    ("project", "optional-dependencies"), ("dependency-groups",), ("tool", "pdm", "dev-dependencies"),
    ("tool", "uv", "dev-dependencies"),
)


def _dependency_files(folder: Path) -> dict[str, bytes | None]:
    """The folder's dependency files (``pyproject.toml`` included) by name, in name order,
    with their bytes; None for one that cannot be read (a ``requirements*.txt`` is listed
    whatever it is, the others only when they are files)."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    found: dict[str, bytes | None] = {}
    for name in names:
        if name != "pyproject.toml" and not is_dependency_file(name):
            continue
        path = folder / name
        if not name.startswith("requirements") and not path.is_file():
            continue
        try:
            found[name] = read_bounded(path, MAX_TOML_MB)
        except UnreadableFile:
            found[name] = None
    return found


def _content_key(files: dict[str, bytes | None]) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    for name, data in files.items():
        digest.update(f"{name}\0{-1 if data is None else len(data)}\0".encode("utf-8", "surrogateescape"))
        digest.update(data or b"")
    return digest.digest()


def _declared(files: dict[str, bytes | None]) -> Declared | None:
    """What a folder's dependency ``files`` declare (``pyproject.toml``'s PEP 621, PEP 735,
    Poetry, PDM, uv and Hatch tables, ``requirements*.txt``, ``setup.cfg``); None when
    they declare nothing."""
    import configparser

    found = Declared()
    runtime: dict[str, SpecifierSet] = {}  # the runtime requirements' specifiers, by distribution
    declares = "pyproject.toml" in files and _read_pyproject(files["pyproject.toml"], found, runtime)
    for name, data in files.items():
        if name.startswith("requirements") and name.endswith(".txt"):
            declares = True
            text = _text(data)
            if text is None:
                found.complete = False
                continue
            for line in (line.split("#", 1)[0].strip() for line in text.splitlines()):
                if line.startswith(("-e", "--editable")):
                    found.complete = False  # a path or URL: whatever it installs
                elif not line.startswith("-"):  # options, `-r` (other files here are read too)
                    _add(found, [line], runtime)
    if "setup.cfg" in files:
        found.drops_namespace_folders = _finds_regular_packages_only(files["setup.cfg"])
        parser = configparser.ConfigParser()
        text = _text(files["setup.cfg"])
        try:
            parser.read_string(text or "")
            requires = parser.get("options", "install_requires", fallback=None) if text is not None else None
            extras = list(parser["options.extras_require"].values()) if parser.has_section("options.extras_require") else []
        except configparser.Error:
            requires, extras = None, []
        if requires is not None:
            declares = True
            _add(found, (line.strip() for line in requires.splitlines()), runtime)
        for extra in extras:
            _add(found, (line.strip() for line in extra.splitlines()))
    if "setup.py" in files:
        found.complete, declares = False, True  # setup.py's requirements are code
        found.drops_namespace_folders = _finds_regular_packages_only(files["setup.py"])
    if not declares:
        return None
    pydantic, fastapi = runtime.get("pydantic"), runtime.get("fastapi")
    found.pydantic = _major(None if pydantic is None else str(pydantic), None if fastapi is None else str(fastapi))
    return found


_FIND_PACKAGES = re.compile(r"\bfind_packages\s*\(|^\s*packages\s*=\s*find:\s*$", re.MULTILINE)
_FIND_NAMESPACES = re.compile(r"\bfind_namespace_packages\s*\(|find_namespace:|^\s*namespaces\s*=\s*true", re.MULTILINE | re.IGNORECASE)


def _finds_regular_packages_only(data: bytes | None) -> bool:
    """Whether a ``setup.py`` or ``setup.cfg`` (read as text, never run) lists its packages
    with ``find_packages()`` / ``packages = find:``, which skip folders without ``__init__.py``."""
    if data is None:
        return False
    text = data.decode("utf-8", "replace")
    return bool(_FIND_PACKAGES.search(text)) and not _FIND_NAMESPACES.search(text)


def _text(data: bytes | None) -> str | None:
    """A file's bytes as UTF-8 text; None when it could not be read or is not UTF-8."""
    try:
        return data.decode("utf-8") if data is not None else None
    except UnicodeDecodeError:
        return None


def _read_pyproject(content: bytes | None, found: Declared, runtime: dict[str, SpecifierSet]) -> bool:
    """Adds what a ``pyproject.toml`` (its bytes) declares to ``found`` (its runtime
    requirements' specifiers to ``runtime``); whether it declares anything."""
    text = _text(content)
    try:
        data = parse_toml(text) if text is not None else None
    except TomlError:
        return False
    if data is None:
        return False
    declares = False
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    if isinstance(project.get("dependencies"), list):
        declares = True
        _add(found, (d for d in project["dependencies"] if isinstance(d, str)), runtime)
    if "dependencies" in (project.get("dynamic") or ()):
        declares, found.complete = True, False
    poetry = _at(data, ("tool", "poetry"))
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        declares = True
        for name, spec in poetry["dependencies"].items():
            found.everything.add(normal(name))
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str):
                _add_specifier(runtime, name, _poetry(version))
    for group in (_at(data, path) for path in _LIST_GROUPS):
        lists = group.values() if isinstance(group, dict) else [group] if isinstance(group, list) else []
        for requirements in lists:
            declares = True
            _add(found, (d for d in requirements if isinstance(d, str)) if isinstance(requirements, list) else ())
    if _at(data, ("tool", "setuptools", "packages", "find", "namespaces")) is False:
        found.drops_namespace_folders = True
    environments = _at(data, ("tool", "hatch", "envs"))
    for environment in environments.values() if isinstance(environments, dict) else ():
        for key in ("dependencies", "extra-dependencies"):
            requirements = environment.get(key) if isinstance(environment, dict) else None
            if isinstance(requirements, list):
                declares = True
                _add(found, (d for d in requirements if isinstance(d, str)))
    poetry_groups = _at(data, ("tool", "poetry", "group"))
    tables = [g.get("dependencies") for g in poetry_groups.values() if isinstance(g, dict)] if isinstance(poetry_groups, dict) else []
    for table in [_at(data, ("tool", "poetry", "dev-dependencies")), *tables]:
        if isinstance(table, dict):
            declares = True
            found.everything.update(normal(name) for name in table)
    return declares


def _at(data: object, path: tuple[str, ...]) -> object:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _add(found: Declared, lines: Iterable[str], runtime: dict[str, SpecifierSet] | None = None) -> None:
    """Adds the distributions ``lines`` name to ``found``; with ``runtime``, their specifiers to it."""
    from packaging.requirements import InvalidRequirement, Requirement

    for line in lines:
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            found.complete = False  # a URL or a typo: it may install anything
            continue
        found.everything.add(normal(requirement.name))
        found.everything.update(f"{normal(requirement.name)}[{normal(extra)}]" for extra in requirement.extras)
        if runtime is not None:
            _add_specifier(runtime, requirement.name, str(requirement.specifier))


def _add_specifier(found: dict[str, SpecifierSet], name: str, spec: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    key = normal(name)
    try:
        specifier = SpecifierSet(spec)
    except InvalidSpecifier:
        return
    found[key] = found[key] & specifier if key in found else specifier


def _poetry(spec: str) -> str:
    """Poetry's ``^1.10`` and ``~1.10`` as PEP 440 ranges; ``*`` as no constraint."""
    spec = spec.strip()
    if spec in ("", "*"):
        return ""
    caret = _POETRY_CARET.match(spec)
    if caret:
        major = int(caret.group(1))
        return f">={caret.group(1)}.{caret.group(2) or 0},<{major + 1}"
    tilde = _POETRY_TILDE.match(spec)
    if tilde:
        minor = int(tilde.group(2) or 0)
        return f">={tilde.group(1)}.{minor},<{tilde.group(1)}.{minor + 1}"
    return spec if spec[0] in "<>=!~" else f"=={spec}"
