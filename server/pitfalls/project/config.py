"""The configuration: ``[tool.pitfalls]`` found per file, read, extended and merged with overrides.

As in Ruff, each file is checked with its nearest configuration: the closest folder at or
above it with a ``.pitfalls.toml``, a ``pitfalls.toml`` or a ``pyproject.toml`` that has a
``[tool.pitfalls]`` table (a ``pyproject.toml`` without one is skipped, so a service's own
packaging file does not hide the repository's settings). ``extend`` puts another file's
table under a file's own. One merge serves ``extend``, the command line and the editor:
the upper table's options go over the lower one's, table by table, with Ruff's precedence
for the rule selection. :class:`ConfigResolver` is the one place the CLI and the editor
ask which configuration governs a file.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from pitfalls.core.schema import Schemas
from pitfalls.core.settings import ConfigError, ParseSettings, Settings, code_matches, parse_settings
from pitfalls.core.summary_data import ModuleNamer
from pitfalls.project.dependencies import (
    UNDECLARED_FOLDERS, FactStore, FolderDeclarations, dependency_modules, pydantic_major,
)
from pitfalls.project.environment import environment_names
from pitfalls.project.toml import TomlError, load_toml
from pitfalls.rules import CODES

# Override keys that add to a setting rather than replace it (not Settings fields).
EXTENDING = {"extend-select": "select", "extend-exclude": "exclude"}
# The files a folder's configuration may come from; in one folder the first found wins.
CONFIG_FILES = (".pitfalls.toml", "pitfalls.toml", "pyproject.toml")
# A SQLite URL's file path: relative paths in it move with the configuration that sets it.
_SQLITE_PATH = re.compile(r"^(sqlite(?:\+\w+)?:///)([^?]+)")


class ProjectConfig:
    """One configuration's settings plus where they came from: the folder its paths are
    relative to, and the file (a ``pyproject.toml`` without ``[tool.pitfalls]`` gives the
    defaults)."""

    def __init__(self, settings: Settings, root: Path, source: Path | None, facts: FactStore | None = None) -> None:
        self.settings = settings
        self.root = root
        self.source = source
        # Its files' schemas, once the owner resolved them (the sources sit above this layer).
        self.schemas: Schemas | None = None
        self.declarations = FolderDeclarations(facts)  # what each folder's dependency files say
        self._per_folder: dict[str, Settings] = {}
        # One Settings per distinct adjustment: folders under one dependency file share it
        # (and its fingerprint, computed once).
        self._variants: dict[tuple[tuple[str, object], ...], Settings] = {}
        self._environment: Settings | None = None  # the settings with the repository's environment
        self._fingerprints: dict[int, tuple[Schemas | None, str]] = {}
        self._namer: ModuleNamer | None = None
        self._selected: dict[tuple[str, ...], frozenset[str]] = {}  # codes -> those select and ignore leave
        # The Directus and database URLs its files name (not the command line or the
        # editor): untrusted until the user approves them (`sources.trust`).
        self.repository_urls: frozenset[str] = frozenset()

    def settings_for(self, path: Path | str) -> Settings:
        """The settings a file is checked with: the project's, with what the file's nearest
        dependency files say (the pydantic major where the configuration does not set
        ``pydantic-version``; the modules its dependencies provide), and the environment
        variables the repository's files define (``environment``)."""
        return self._settings_in(os.path.dirname(os.path.abspath(path)))

    def _settings_in(self, folder: str) -> Settings:
        found = self._per_folder.get(folder)
        if found is None:
            found = self._per_folder[folder] = self._folder_settings(folder)
        return found

    def _folder_settings(self, folder_text: str) -> Settings:
        """:meth:`settings_for` the files in ``folder_text``: its parent's when it declares
        nothing itself and is no folder whose dependencies go undeclared (every answer
        below looks up through it to the same dependency files)."""
        parent = os.path.dirname(folder_text)
        if (
            parent != folder_text and parent.startswith(str(self.root))
            and self.declarations.own(Path(folder_text)) is None
            and os.path.basename(folder_text) not in UNDECLARED_FOLDERS
        ):
            return self._settings_in(parent)
        project = self._project_settings()
        folder = Path(folder_text)
        update: dict[str, object] = {}
        if project.pydantic_version is None:
            major = pydantic_major(self.declarations.nearest(folder, self.root))
            if major is not None:
                update["pydantic_version"] = major
        above = self.declarations.above(folder, self.root)
        if above is not None and above.drops_namespace_folders and project.packages_need_init is None:
            update["packages_need_init"] = True
        inside = folder.parts[len(self.root.parts):] if folder.is_relative_to(self.root) else folder.parts
        if UNDECLARED_FOLDERS.intersection(inside):
            if project.dependency_modules is not None:
                update["dependency_modules"] = None  # PF303 does not ask there
        else:
            modules = dependency_modules(above)
            if modules is not None:
                update["dependency_modules"] = tuple(sorted({*modules, *(project.dependency_modules or ())}))
        if not update:
            return project
        key = tuple(sorted(update.items()))
        if key not in self._variants:
            self._variants[key] = dataclasses.replace(project, **update)
        return self._variants[key]

    def python_floor(self, path: Path | str) -> tuple[int, int] | None:
        """The oldest Python the file's project admits (``requires-python``), if it says."""
        return self.declarations.python_floor(os.path.dirname(os.path.abspath(path)), self.root)

    def _project_settings(self) -> Settings:
        """The settings plus the environment variables the repository's files define: a
        project-wide fact, read once (and part of the fingerprint, so editing a `.env`
        file re-checks what it may change)."""
        if self._environment is None:
            found = environment_names(self.root)
            configured = self.settings.environment
            if found is None:
                self._environment = self.settings
            else:
                names = tuple(sorted({*found, *(configured or ())}))
                self._environment = dataclasses.replace(self.settings, environment=names)
        return self._environment

    def fingerprint_for(self, path: Path | str) -> str:
        """The fingerprint of :meth:`settings_for`, of the schemas and of the oldest Python
        the file's project admits (it decides which grammar parses): what a cached result
        holds for (the cache file is shared by every configuration of the project)."""
        settings = self.settings_for(path)
        found = self._fingerprints.get(id(settings))
        if found is None or found[0] is not self.schemas:
            fingerprint = settings.fingerprint() + (self.schemas or Schemas()).fingerprint()
            found = self._fingerprints[id(settings)] = (self.schemas, fingerprint)
        floor = self.python_floor(path)
        return found[1] if floor is None else f"{found[1]}py{floor[0]}.{floor[1]}"

    def module_name(self, path: Path | str) -> tuple[str, str, bool]:
        """(module name, source root, is a package) from this configuration's ``src``."""
        if self._namer is None:
            self._namer = ModuleNamer(self.source_roots())
        return self._namer(path)

    def relative(self, path: Path) -> str:
        full = os.path.abspath(path)
        root = str(self.root)
        if full.startswith(root + os.sep):
            return Path(os.path.relpath(full, root)).as_posix()
        return Path(full).as_posix()

    def matches(self, path: Path, patterns: list[str]) -> bool:
        """``matches_any`` relative to the root; an absolute pattern (one an extended
        configuration set) against the absolute path."""
        if not patterns:
            return False
        anchored = [p for p in patterns if os.path.isabs(p)]
        relative = [p for p in patterns if not os.path.isabs(p)]
        full = Path(os.path.abspath(path)).as_posix()
        return matches_any(self.relative(path), relative) or matches_any(full, anchored)

    def is_excluded(self, path: Path) -> bool:
        return self.matches(path, self.settings.exclude)

    def enabled_codes(self, all_codes: list[str], path: Path | None = None) -> set[str]:
        s = self.settings
        key = tuple(all_codes)
        selected = self._selected.get(key)
        if selected is None:
            selected = self._selected[key] = frozenset(
                c for c in all_codes if code_matches(c, s.select) and not code_matches(c, s.ignore)
            )
        enabled = set(selected)
        if path is not None:
            for pattern, codes in s.per_file_ignores.items():
                if self.matches(path, [pattern]):
                    enabled = {c for c in enabled if not code_matches(c, codes)}
        return enabled

    def source_roots(self) -> list[Path]:
        return [Path(os.path.abspath(self.root / s)) for s in self.settings.src]


class ConfigResolver:
    """Which configuration each file is checked with, for the CLI and the editor alike: its
    nearest one, with ``overrides`` (the command line's or the editor's options) on top; or
    the ``fixed`` one for every file (``--config``). Each file is read once, each folder's
    answer kept. ``root`` roots the defaults where no ``pyproject.toml`` is above a file;
    ``parse`` validates each table (see :class:`~pitfalls.project.cache.KnownTables`);
    ``facts`` remembers what dependency files say (see :class:`~pitfalls.project.cache.KnownFacts`)."""

    def __init__(
        self, overrides: dict[str, Any] | None = None, *, root: Path | None = None, fixed: ProjectConfig | None = None,
        parse: ParseSettings = parse_settings, facts: FactStore | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.parse = parse
        self.facts = facts
        self.root = Path(os.path.abspath(root or Path.cwd()))
        self.fixed = fixed
        self._nearest: dict[str, ProjectConfig | None] = {}  # folder -> nearest configuration with a table
        self._pyprojects: dict[str, Path | None] = {}  # folder -> nearest pyproject.toml
        self._loaded: dict[Path | None, ProjectConfig] = {}  # its file (or a defaults' pyproject.toml) -> one
        self._by_path: dict[str, ProjectConfig] = {}  # a path as asked about -> config_for's answer
        self._scopes: dict[ProjectConfig, Path | None] = {}  # a configuration -> its folder_scope

    def folder_config(self, folder: Path | str) -> ProjectConfig:
        """The configuration of the files in ``folder``."""
        if self.fixed is not None:
            return self.fixed
        folder = os.path.abspath(folder)
        nearest = self._with_table(folder)
        if nearest is not None:
            return nearest
        pyproject = self._pyproject(folder)
        if pyproject not in self._loaded:
            root = pyproject.parent if pyproject is not None else self.root
            self._loaded[pyproject] = make_config({}, root, pyproject, self.overrides, self.parse, self.facts)
        return self._loaded[pyproject]

    def config_for(self, path: Path | str) -> ProjectConfig:
        """The configuration ``path`` (a file, or a folder as a walk meets it) is checked or
        excluded with: its folder's."""
        key = os.fspath(path)
        found = self._by_path.get(key)
        if found is None:
            found = self._by_path[key] = self.folder_config(os.path.dirname(os.path.abspath(path)))
        return found

    def configs(self) -> list[ProjectConfig]:
        """The configurations resolved so far."""
        if self.fixed is not None:
            return [self.fixed]
        return list(self._loaded.values())

    def folder_scope(self, folder: Path | str) -> Path | None:
        """The folder whose files make the project of ``folder``'s files (the index spans
        it): the outermost configuration's above, else the nearest ``pyproject.toml``'s;
        None with neither (the source roots of their packages are the project)."""
        config = self.folder_config(folder)
        if config not in self._scopes:
            outer = config
            while outer.source is not None and self.fixed is None:
                above = self._with_table(os.path.dirname(outer.root))
                if above is None or above.root == outer.root:
                    break
                outer = above
            self._scopes[config] = outer.root if outer.source is not None else None
        return self._scopes[config]

    def scope(self, path: Path | str) -> Path | None:
        return self.folder_scope(os.path.dirname(os.path.abspath(path)))

    # -- per file: what the governing configuration says -------------------------------------

    def settings_for(self, path: Path | str) -> Settings:
        return self.config_for(path).settings_for(path)

    def fingerprint_for(self, path: Path | str) -> str:
        return self.config_for(path).fingerprint_for(path)

    def enabled_codes(self, all_codes: list[str], path: Path | str) -> set[str]:
        return self.config_for(path).enabled_codes(all_codes, Path(path))

    def is_excluded(self, path: Path | str) -> bool:
        return self.config_for(path).is_excluded(Path(path))

    def module_name(self, path: Path | str) -> tuple[str, str, bool]:
        return self.config_for(path).module_name(path)

    def schemas_for(self, path: Path | str) -> Schemas:
        return self.config_for(path).schemas or Schemas()

    # -- the upward searches, each folder's answer kept ---------------------------------------

    def _with_table(self, folder: str) -> ProjectConfig | None:
        if folder not in self._nearest:
            source = config_file(folder)
            if source is not None:
                if source not in self._loaded:
                    self._loaded[source] = make_config(
                        extended_table(source, parse=self.parse), source.parent, source, self.overrides, self.parse, self.facts
                    )
                found = self._loaded[source]
            else:
                parent = os.path.dirname(folder)
                found = None if parent == folder else self._with_table(parent)
            self._nearest[folder] = found
        return self._nearest[folder]

    def _pyproject(self, folder: str) -> Path | None:
        if folder not in self._pyprojects:
            candidate = os.path.join(folder, "pyproject.toml")
            parent = os.path.dirname(folder)
            if os.path.isfile(candidate):
                self._pyprojects[folder] = Path(candidate)
            else:
                self._pyprojects[folder] = None if parent == folder else self._pyproject(parent)
        return self._pyprojects[folder]


def matches_any(rel_posix: str, patterns: list[str]) -> bool:
    """Gitignore-like matching: a pattern matches the path, its name, or a parent folder."""
    if not patterns:
        return False
    path = PurePosixPath(rel_posix)
    candidates = [rel_posix, path.name, *(p.as_posix() for p in path.parents if p.as_posix() != ".")]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern):
                return True
    return False


def find_pyproject(start: Path) -> Path | None:
    start = Path(os.path.abspath(start))
    for folder in [start, *start.parents] if start.is_dir() else [start.parent, *start.parent.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(
    config_path: Path | None, start: Path, overrides: dict[str, Any] | None = None, parse: ParseSettings = parse_settings,
    facts: FactStore | None = None,
) -> ProjectConfig:
    """``config_path``'s configuration (its paths relative to the working directory, as in
    Ruff's ``--config``), else the one that governs ``start`` (a file or a folder)."""
    if config_path is None:
        folder = Path(os.path.abspath(start))
        folder = folder if folder.is_dir() else folder.parent
        return ConfigResolver(overrides, root=folder, parse=parse, facts=facts).folder_config(folder)
    if not config_path.is_file():
        raise ConfigError(f"{config_path}: no such config file")
    source = Path(os.path.abspath(config_path))
    return make_config(extended_table(source, parse=parse), Path.cwd(), source, overrides, parse, facts)


def make_config(
    table: dict[str, Any], root: Path, source: Path | None, overrides: dict[str, Any] | None,
    parse: ParseSettings = parse_settings, facts: FactStore | None = None,
) -> ProjectConfig:
    """A configuration from its file's (extended) table, with ``overrides`` on top."""
    overrides = overrides or {}
    settings = parse(apply_overrides(table, overrides), source)
    config = ProjectConfig(settings, Path(os.path.abspath(root)), source, facts)
    config.repository_urls = frozenset(
        url
        for section in ("directus", "database", "redis")
        if isinstance(url := (table.get(section) or {}).get("url"), str)
        and not (overrides.get(section) or {}).get("url")
    )
    return config


def read_table(source: Path) -> dict[str, Any] | None:
    """``source``'s ``[tool.pitfalls]`` table (a ``pitfalls.toml`` may also be the table
    itself); None for a ``pyproject.toml`` without one."""
    try:
        data = load_toml(source)
    except TomlError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{source}: [tool] must be a table")
    table = tool.get("pitfalls") if source.name == "pyproject.toml" else tool.get("pitfalls", data)
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.pitfalls] must be a table")
    return table


def config_file(folder: Path | str) -> Path | None:
    """The file in ``folder`` (not above) that configures pitfalls, if any."""
    for name in CONFIG_FILES:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and (name != "pyproject.toml" or read_table(Path(candidate)) is not None):
            return Path(candidate)
    return None


def extended_table(source: Path, chain: tuple[str, ...] = (), parse: ParseSettings = parse_settings) -> dict[str, Any]:
    """``source``'s table over the ones it ``extend``s (``chain``: the files that led here),
    each checked on its own so an error names the file that has it; the extended files'
    paths made absolute (they are relative to their own folder)."""
    table = dict(read_table(source) or {})
    extend = table.pop("extend", None)
    validate_table(table, source, parse)
    if chain:
        table = absolute_paths(table, source.parent)
    if extend is None:
        return apply_overrides({}, table)
    if not isinstance(extend, str):
        raise ConfigError(f"{source}: [tool.pitfalls] bad value for 'extend': a path to another configuration file")
    parent = Path(os.path.abspath(source.parent / extend))
    seen = (*chain, os.path.realpath(source))
    if os.path.realpath(parent) in seen:
        raise ConfigError(f"{source}: extend cycle: {' -> '.join([*seen, os.path.realpath(parent)])}")
    if not parent.is_file():
        raise ConfigError(f"{source}: extend: {parent}: no such config file")
    return apply_overrides(extended_table(parent, seen, parse), table)


def absolute_paths(table: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``table`` with the paths it gives relative to ``folder`` made absolute, so they keep
    meaning the same files under another configuration: ``src``, ``exclude`` and
    ``per-file-ignores`` patterns with a folder in them (a bare name matches anywhere),
    ``directus.snapshot``, a SQLite ``database.url``'s file."""

    def path(value: str) -> str:
        return Path(os.path.abspath(folder / value)).as_posix()

    def pattern(value: str) -> str:
        if "/" not in value.removeprefix("./").rstrip("/"):
            return value
        return Path(os.path.normpath(os.path.join(glob.escape(str(folder)), value))).as_posix()

    out = dict(table)
    if "src" in out:
        out["src"] = [path(p) for p in out["src"]]
    for key in ("exclude", "extend-exclude"):
        if key in out:
            out[key] = [pattern(p) for p in out[key]]
    if "per-file-ignores" in out:
        out["per-file-ignores"] = {pattern(p): codes for p, codes in out["per-file-ignores"].items()}
    directus, database = out.get("directus", {}), out.get("database", {})
    if directus.get("snapshot"):
        out["directus"] = {**directus, "snapshot": path(directus["snapshot"])}
    found = _SQLITE_PATH.match(database.get("url") or "")
    if found and found.group(2) != ":memory:":
        out["database"] = {**database, "url": found.group(1) + path(found.group(2)) + database["url"][found.end():]}
    return out


def validate_table(table: dict[str, Any], source: Path | None, parse: ParseSettings = parse_settings) -> None:
    """Every key and value of ``table`` (``extend-*`` as the list they extend, rule codes
    that name no rule), so an error names the file that has it."""
    where = f"{source}: " if source else ""
    parse({k: v for k, v in table.items() if k not in EXTENDING}, source)
    for key, target in EXTENDING.items():
        if key in table:
            try:
                parse({target: table[key]}, source)
            except ConfigError as exc:
                raise ConfigError(re.sub(rf"'{target}(?=[.'])", f"'{key}", str(exc))) from None
    unknown = unknown_selector(table)
    if unknown is not None:
        raise ConfigError(f"{where}[tool.pitfalls] unknown rule code or prefix in '{unknown[0]}': {unknown[1]}")


def unknown_selector(table: dict[str, Any]) -> tuple[str, str] | None:
    """The first (key, code) in ``table``'s selections that matches no rule (``PF1`` and
    ``PF40`` are prefixes of some): a typo would otherwise select or ignore nothing, silently.
    Values of the wrong type are left to :func:`parse_settings`."""
    lists = [(key, table.get(key)) for key in ("select", "ignore", "extend-select")]
    per_file = table.get("per-file-ignores")
    if isinstance(per_file, dict):
        lists += [(f"per-file-ignores.{pattern}", codes) for pattern, codes in per_file.items()]
    for key, codes in lists:
        for code in codes if isinstance(codes, list) else []:
            if isinstance(code, str) and not any(known.startswith(code) for known in CODES):
                return key, code
    return None


def apply_overrides(table: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` (``[tool.pitfalls]`` keys from the command line or the editor) over
    the file's ``table``. As in Ruff, ``select`` without ``ignore`` replaces the file's
    selection whole (its ``ignore`` included), and ``extend-select`` / ``extend-exclude``
    add to whatever selection / exclusion results."""
    overrides = dict(overrides)
    extending = {key: overrides.pop(key, None) or [] for key in EXTENDING}
    if "select" in overrides and "ignore" not in overrides:
        overrides["ignore"] = []
    merged = merge_tables(table, overrides)
    for key, values in extending.items():
        if values:
            target = EXTENDING[key]
            merged[target] = [*merged.get(target, getattr(Settings(), target)), *values]
    return merged


def merge_tables(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``, table by table: `--directus-url` keeps the snapshot setting."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


