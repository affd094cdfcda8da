"""What a project declares it runs on, read from its dependency files (never by importing).

The pydantic major version decides whether v1 API is a pitfall (PF401): on a project that
pins pydantic 1 it is the API. The nearest folder at or above a file that declares
dependencies decides for that file: ``pyproject.toml`` (``[project]`` dependencies, Poetry's
table), ``requirements*.txt``, ``setup.cfg``. Without a pydantic requirement, a FastAPI pin
older than 0.100 (the first release supporting pydantic 2) means pydantic 1.
"""

from __future__ import annotations

import configparser
import os
import re
from pathlib import Path
from typing import Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.project.toml import MAX_TOML_MB, TomlError, load_toml

_PYDANTIC_1 = ("1.0", "1.8.2", "1.9.2", "1.10.26")
_PYDANTIC_2 = ("2.0", "2.5.3", "2.11.4", "2.99")
_FASTAPI_PYDANTIC_2 = Version("0.100.0")  # the first FastAPI that runs on pydantic 2
_POETRY_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?")
_POETRY_TILDE = re.compile(r"^~(\d+)(?:\.(\d+))?")


def pydantic_major(folder: Path, stop: Path, memo: dict[str, int | None]) -> int | None:
    """The pydantic major version the dependency files nearest to ``folder`` (looking up
    to ``stop``) pin; None when they do not say, or admit both."""
    key = str(folder)
    if key in memo:
        return memo[key]
    requirements = _declared(folder)
    if requirements is None:
        parent = folder.parent
        inside = str(parent).startswith(str(stop)) and parent != folder
        found = pydantic_major(parent, stop, memo) if inside else None
    else:
        found = _major(requirements)
    memo[key] = found
    return found


_PYTHON_MINORS = tuple(f"3.{minor}" for minor in range(6, 20))


def python_floor(folder: Path, stop: Path, memo: dict[str, tuple[int, int] | None]) -> tuple[int, int] | None:
    """The oldest Python the nearest ``pyproject.toml`` above ``folder`` (up to ``stop``)
    admits in ``requires-python``; None when none says."""
    key = str(folder)
    if key not in memo:
        found = None
        try:
            project = load_toml(folder / "pyproject.toml").get("project")
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


def _major(requirements: dict[str, SpecifierSet]) -> int | None:
    pydantic = requirements.get("pydantic")
    if pydantic is not None:
        admitted = _admitted(pydantic, _PYDANTIC_1 + _PYDANTIC_2)
        one = any(v.major == 1 for v in admitted)
        two = any(v.major == 2 for v in admitted)
        return 1 if one and not two else 2 if two and not one else None
    fastapi = requirements.get("fastapi")
    if fastapi is not None and str(fastapi) and not any(v >= _FASTAPI_PYDANTIC_2 for v in _admitted(fastapi, ("1.0",))):
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


def _declared(folder: Path) -> dict[str, SpecifierSet] | None:
    """Requirement name -> specifier from the folder's dependency files; None when the
    folder declares no dependencies at all."""
    found: dict[str, SpecifierSet] = {}
    declares = False
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = load_toml(pyproject)
        except TomlError:
            data = {}
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("dependencies"), list):
            declares = True
            _add(found, (d for d in project["dependencies"] if isinstance(d, str)))
        poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
        if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
            declares = True
            for name, spec in poetry["dependencies"].items():
                version = spec.get("version") if isinstance(spec, dict) else spec
                if isinstance(version, str):
                    _add_specifier(found, name, _poetry(version))
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        names = []
    for name in names:
        if name.startswith("requirements") and name.endswith(".txt"):
            declares = True
            try:
                lines = read_bounded(folder / name, MAX_TOML_MB).decode("utf-8").splitlines()
            except (UnreadableFile, UnicodeDecodeError):
                continue
            _add(found, (line.split("#", 1)[0].strip() for line in lines if not line.lstrip().startswith("-")))
    setup_cfg = folder / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
            requires = parser.get("options", "install_requires", fallback=None)
        except (configparser.Error, UnicodeDecodeError):
            requires = None
        if requires is not None:
            declares = True
            _add(found, (line.strip() for line in requires.splitlines()))
    return found if declares else None


def _add(found: dict[str, SpecifierSet], lines: Iterable[str]) -> None:
    for line in lines:
        if not line:
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        _add_specifier(found, requirement.name, str(requirement.specifier))


def _add_specifier(found: dict[str, SpecifierSet], name: str, spec: str) -> None:
    key = name.lower().replace("_", "-")
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
