"""What a project declares it runs on, read from its dependency files (never by importing).

The pydantic major version decides whether v1 API is a pitfall (PF401): on a project that
pins pydantic 1 it is the API. The nearest folder at or above a file that declares
dependencies decides for that file: ``pyproject.toml`` (``[project]`` dependencies, Poetry's
table), ``requirements*.txt``, ``setup.cfg``. Without a pydantic requirement, a FastAPI pin
older than 0.100 (the first release supporting pydantic 2) means pydantic 1.
"""

from __future__ import annotations

import configparser
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pitfalls.project.distributions import normal, provided_modules
from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.project.toml import MAX_TOML_MB, TomlError, load_toml

_PYDANTIC_1 = ("1.0", "1.8.2", "1.9.2", "1.10.26")
_PYDANTIC_2 = ("2.0", "2.5.3", "2.11.4", "2.99")
_FASTAPI_PYDANTIC_2 = Version("0.100.0")  # the first FastAPI that runs on pydantic 2
_POETRY_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?")
_POETRY_TILDE = re.compile(r"^~(\d+)(?:\.(\d+))?")


def nearest_declared(folder: Path, stop: Path, memo: dict[str, Declared | None]) -> Declared | None:
    """What the dependency files nearest to ``folder`` (looking up to ``stop``) declare."""
    while True:
        found = own_declared(folder, memo)
        parent = folder.parent
        if found is not None or parent == folder or not str(parent).startswith(str(stop)):
            return found
        folder = parent


def declared_above(folder: Path, stop: Path, memo: dict[str, Declared | None]) -> Declared | None:
    """Everything the dependency files at or above ``folder`` (up to ``stop``) declare: a
    plugin's ``requirements.txt`` inside a package adds to its host's. None unless one of
    them declares a project (sits in a folder that is not a package)."""
    found = Declared()
    anchored = False
    while True:
        own = own_declared(folder, memo)
        if own is not None:
            found.everything |= own.everything
            found.complete = found.complete and own.complete
            found.drops_namespace_folders = found.drops_namespace_folders or own.drops_namespace_folders
            anchored = anchored or not (folder / "__init__.py").is_file()
        parent = folder.parent
        if parent == folder or not str(parent).startswith(str(stop)):
            return found if anchored else None
        folder = parent


def own_declared(folder: Path, memo: dict[str, Declared | None]) -> Declared | None:
    """What ``folder``'s own dependency files declare (None: it has none that do)."""
    key = str(folder)
    if key not in memo:
        memo[key] = _declared(folder)
    return memo[key]


# Folders whose code imports what its own tools install (tox, nox, a docs build): the
# dependency files rarely list it, as deptry's defaults assume too.
UNDECLARED_FOLDERS = frozenset({"tests", "test", "testing", "docs", "doc", "examples", "example", "benchmarks"})


def pydantic_major(declared: Declared | None) -> int | None:
    """The pydantic major version ``declared`` pins; None when it does not say, or admits both."""
    if declared is None:
        return None
    pydantic, fastapi = declared.runtime.get("pydantic"), declared.runtime.get("fastapi")
    return _major(None if pydantic is None else str(pydantic), None if fastapi is None else str(fastapi))


def dependency_modules(declared: Declared | None) -> frozenset[str] | None:
    """The top-level modules (lower case) ``declared`` provides in any group; None when
    nothing is declared, or something declared could install anything."""
    return provided_modules(frozenset(declared.everything)) if declared is not None and declared.complete else None


_PYTHON_MINORS = tuple(f"3.{minor}" for minor in range(6, 20))


def python_floor(folder: Path, stop: Path, memo: dict[str, tuple[int, int] | None]) -> tuple[int, int] | None:
    """The oldest Python the nearest ``pyproject.toml`` above ``folder`` (up to ``stop``)
    admits in ``requires-python``; None when none says."""
    key = str(folder)
    if key not in memo:
        found = None
        pyproject = folder / "pyproject.toml"
        try:
            project = load_toml(pyproject).get("project") if pyproject.is_file() else None
        except TomlError:
            project = None
        requires = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(requires, str):
            try:
                admitted = _admitted(SpecifierSet(requires), _PYTHON_MINORS)
            except InvalidSpecifier:
                admitted = []
            found = min(((v.major, v.minor) for v in admitted), default=None)
        elif str(folder.parent).startswith(str(stop)) and folder.parent != folder:
            found = python_floor(folder.parent, stop, memo)
        memo[key] = found
    return memo[key]


@functools.lru_cache(maxsize=64)
def _major(pydantic: str | None, fastapi: str | None) -> int | None:
    """From the pydantic and FastAPI specifiers (remembered: every folder under one
    dependency file asks the same)."""
    if pydantic is not None:
        admitted = _admitted(SpecifierSet(pydantic), _PYDANTIC_1 + _PYDANTIC_2)
        one = any(v.major == 1 for v in admitted)
        two = any(v.major == 2 for v in admitted)
        return 1 if one and not two else 2 if two and not one else None
    if fastapi and not any(v >= _FASTAPI_PYDANTIC_2 for v in _admitted(SpecifierSet(fastapi), ("1.0",))):
        return 1
    return None


def _admitted(spec: SpecifierSet, probes: tuple[str, ...]) -> list[Version]:
    """The versions ``spec`` admits among ``probes`` and the versions it names itself."""
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
    """What one folder's dependency files declare: the runtime requirements (for version
    questions) and every distribution any group names (for "is it declared at all")."""

    runtime: dict[str, SpecifierSet] = field(default_factory=dict)
    everything: set[str] = field(default_factory=set)
    complete: bool = True  # False: something could bring in any distribution (dynamic, `-e`, setup.py)
    # Its build packages only folders with `__init__.py` (setuptools' `find_packages()`).
    drops_namespace_folders: bool = False


# Further groups of distributions: extras, PEP 735 groups, PDM's and uv's development
# groups (requirement lists), and Poetry's (name -> version tables).
_LIST_GROUPS = (
    ("project", "optional-dependencies"), ("dependency-groups",), ("tool", "pdm", "dev-dependencies"),
    ("tool", "uv", "dev-dependencies"),
)


def _declared(folder: Path) -> Declared | None:
    """The folder's dependency files (``pyproject.toml``'s PEP 621, PEP 735, Poetry, PDM, uv
    and Hatch tables, ``requirements*.txt``, ``setup.cfg``); None when it declares nothing."""
    found = Declared()
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    declares = "pyproject.toml" in names and _read_pyproject(folder / "pyproject.toml", found)
    for name in names:
        if name.startswith("requirements") and name.endswith(".txt"):
            declares = True
            try:
                lines = read_bounded(folder / name, MAX_TOML_MB).decode("utf-8").splitlines()
            except (UnreadableFile, UnicodeDecodeError):
                found.complete = False
                continue
            for line in (line.split("#", 1)[0].strip() for line in lines):
                if line.startswith(("-e", "--editable")):
                    found.complete = False  # a path or URL: whatever it installs
                elif not line.startswith("-"):  # options, `-r` (other files here are read too)
                    _add(found, [line], runtime=True)
    setup_cfg = folder / "setup.cfg"
    if "setup.cfg" in names and setup_cfg.is_file():
        found.drops_namespace_folders = _finds_regular_packages_only(setup_cfg)
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            requires = parser.get("options", "install_requires", fallback=None)
            extras = list(parser["options.extras_require"].values()) if parser.has_section("options.extras_require") else []
        except (configparser.Error, UnicodeDecodeError):
            requires, extras = None, []
        if requires is not None:
            declares = True
            _add(found, (line.strip() for line in requires.splitlines()), runtime=True)
        for extra in extras:
            _add(found, (line.strip() for line in extra.splitlines()))
    if "setup.py" in names and (folder / "setup.py").is_file():
        found.complete, declares = False, True  # setup.py's requirements are code
        found.drops_namespace_folders = _finds_regular_packages_only(folder / "setup.py")
    return found if declares else None


_FIND_PACKAGES = re.compile(r"\bfind_packages\s*\(|^\s*packages\s*=\s*find:\s*$", re.MULTILINE)
_FIND_NAMESPACES = re.compile(r"\bfind_namespace_packages\s*\(|find_namespace:|^\s*namespaces\s*=\s*true", re.MULTILINE | re.IGNORECASE)


def _finds_regular_packages_only(path: Path) -> bool:
    """Whether a ``setup.py`` or ``setup.cfg`` (read as text, never run) lists its packages
    with ``find_packages()`` / ``packages = find:``, which skip folders without ``__init__.py``."""
    try:
        text = read_bounded(path, MAX_TOML_MB).decode("utf-8", "replace")
    except UnreadableFile:
        return False
    return bool(_FIND_PACKAGES.search(text)) and not _FIND_NAMESPACES.search(text)


def _read_pyproject(path: Path, found: Declared) -> bool:
    """Adds what ``pyproject.toml`` declares to ``found``; whether it declares anything."""
    if not path.is_file():
        return False
    try:
        data = load_toml(path)
    except TomlError:
        return False
    declares = False
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    if isinstance(project.get("dependencies"), list):
        declares = True
        _add(found, (d for d in project["dependencies"] if isinstance(d, str)), runtime=True)
    if "dependencies" in (project.get("dynamic") or ()):
        declares, found.complete = True, False
    poetry = _at(data, ("tool", "poetry"))
    if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
        declares = True
        for name, spec in poetry["dependencies"].items():
            found.everything.add(normal(name))
            version = spec.get("version") if isinstance(spec, dict) else spec
            if isinstance(version, str):
                _add_specifier(found.runtime, name, _poetry(version))
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


def _add(found: Declared, lines: Iterable[str], runtime: bool = False) -> None:
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
        if runtime:
            _add_specifier(found.runtime, requirement.name, str(requirement.specifier))


def _add_specifier(found: dict[str, SpecifierSet], name: str, spec: str) -> None:
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
