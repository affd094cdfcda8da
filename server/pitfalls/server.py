"""``pitfalls server``: the language server (LSP over stdio), a thin layer over the engine.

It maps LSP onto :class:`pitfalls.workspace.Workspace` (one per workspace folder, each with
its own configuration) and nothing in the engine knows LSP. What it does:

- Diagnostics for open documents on open, change and save. Checks run off the event loop,
  one at a time, in a single engine thread (the Workspace is not thread-safe; the loop keeps
  reading messages). Per document, edits that arrive while a check runs only mark it dirty:
  when the check finishes its result is published only if the document is still at the
  version it checked, and the newest text is checked next. No sleep-based debounce.
- At start-up each folder is scanned (``$/progress``) and every file's diagnostics are
  pushed, closed files included. Push only: no pull diagnostics.
- Buffers win over disk in the project index; ``workspace/didChangeWatchedFiles`` keeps
  closed files (and ``pyproject.toml``) in step. Files an edit may affect are re-checked.
- Code actions: a ``quickfix`` per fixable diagnostic, ``# noqa: PFnnn`` for any, and
  ``source.fixAll.pitfalls`` (every safe fix, re-checked until nothing changes).
- Hover over a ``# noqa`` code or a diagnosed range shows the rule's documentation.
- Settings: ``initializationOptions`` and ``workspace/configuration`` (section
  ``pitfalls``: any ``[tool.pitfalls]`` key, camelCase accepted, plus ``run``:
  ``"onType"``/``"onSave"``), merged over the folder's ``[tool.pitfalls]``.

Positions: the engine's are 1-based lines and 0-based code-point columns; LSP's are 0-based
lines and columns in the negotiated encoding (UTF-16 unless the client offers another),
with only ``\\n``, ``\\r\\n`` and ``\\r`` ending a line. :class:`Text` converts.
"""

from __future__ import annotations

import asyncio
import difflib
import gc
import hashlib
import io
import logging
import multiprocessing
import os
import re
import sys
import tokenize
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace import Workspace as DocumentStore

from pitfalls import __version__
from pitfalls.analysis import (
    NOQA,
    FileOutcome,
    ParseFailure,
    check_module,
    decode,
    parse,
    too_deep,
)
from pitfalls.config import (
    ConfigError,
    ProjectConfig,
    Settings,
    load_config,
    parse_settings,
)
from pitfalls.diagnostics import Applicability, Diagnostic, Fix, Severity
from pitfalls.discovery import SKIPPED_DIRS, SOURCE_SUFFIXES
from pitfalls.engine import check_source, enabled_rules
from pitfalls.fixes import apply_fixes, line_starts, still_parses
from pitfalls.index import IndexView, summarize
from pitfalls.rules import RULES_BY_CODE
from pitfalls.schemas import LoadedSchemas, database_url, load_schemas
from pitfalls.workspace import Workspace

log = logging.getLogger("pitfalls.server")
T = TypeVar("T")

SOURCE = "pitfalls"
FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.pitfalls"
CONFIG_SECTION = "pitfalls"
MAX_FIX_ROUNDS = 10
PARENT_POLL_SECONDS = 1.0
RUN_MODES = ("onType", "onSave")

_NEWLINE = re.compile(r"\r\n?|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_CODE = re.compile(r"[A-Za-z]+[0-9]+")
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


# ---------------------------------------------------------------------------------------
# Text and positions


def _char_units(ch: str, encoding: str) -> int:
    o = ord(ch)
    if encoding == "utf-8":
        return 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
    return 2 if o > 0xFFFF else 1  # utf-16 (surrogates count one each, as they are)


def _units(s: str, encoding: str) -> int:
    if encoding == "utf-32" or s.isascii():
        return len(s)
    return sum(_char_units(c, encoding) for c in s)


def _column(s: str, units: int, encoding: str) -> int:
    """Code-point index in ``s`` of a column given in client units (clamped to the line;
    a column inside a character counts as after it)."""
    if units <= 0:
        return 0
    if encoding == "utf-32" or s.isascii():
        return min(units, len(s))
    count = 0
    for i, ch in enumerate(s):
        if count >= units:
            return i
        count += _char_units(ch, encoding)
    return len(s)


class Text:
    """A snapshot of a document's text with LSP <-> engine position conversions."""

    def __init__(self, source: str, encoding: str) -> None:
        self.source = source
        self.encoding = encoding
        self.starts = line_starts(source)

    def line(self, i: int) -> str:
        """Line ``i`` (0-based) without its ending."""
        start = self.starts[i]
        end = self.starts[i + 1] if i + 1 < len(self.starts) else len(self.source)
        return self.source[start:end].rstrip("\r\n")

    def position(self, line: int, column: int) -> types.Position:
        """LSP position of a 0-based line and code-point column (clamped into the text)."""
        if line < 0:
            return types.Position(line=0, character=0)
        if line >= len(self.starts):
            line = len(self.starts) - 1
            column = len(self.source)
        text = self.line(line)
        return types.Position(line=line, character=_units(text[: max(0, min(column, len(text)))], self.encoding))

    def to_lsp(self, line1: int, column: int) -> types.Position:
        """LSP position of an engine position (1-based line)."""
        return self.position(line1 - 1, column)

    def locate(self, position: types.Position) -> tuple[int, int]:
        """(0-based line, code-point column) of an LSP position, clamped as the spec says:
        past the end of a line means its end, past the last line the end of the text."""
        if position.line >= len(self.starts):
            last = len(self.starts) - 1
            return last, len(self.line(last))
        line = max(position.line, 0)
        return line, _column(self.line(line), position.character, self.encoding)

    def offset(self, position: types.Position) -> int:
        line, column = self.locate(position)
        return self.starts[line] + column

    def range(self, start: tuple[int, int], end: tuple[int, int]) -> types.Range:
        """LSP range of two engine positions (1-based line, code-point column)."""
        return types.Range(start=self.to_lsp(*start), end=self.to_lsp(*end))


def _encoding(kind: Any) -> str:
    return str(getattr(kind, "value", kind) or "utf-16")


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class _Document(TextDocument):
    """pygls' document with LSP's idea of lines (only \\n, \\r\\n, \\r end one; str.splitlines
    also splits at form feeds and U+2028) and incremental changes applied by offset."""

    @property
    def lines(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(_LINE_WITH_END.findall(self.source))

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        source = self.source
        text = Text(source, _encoding(self.position_codec.encoding))
        start, end = text.offset(change.range.start), text.offset(change.range.end)
        if end < start:
            start, end = end, start
        self._source = source[:start] + change.text + source[end:]


class _DocumentStore(DocumentStore):
    def _create_text_document(self, doc_uri, source=None, version=None, language_id=None):  # type: ignore[override]
        return _Document(
            doc_uri, source=source, version=version, language_id=language_id,
            sync_kind=self._sync_kind, position_codec=self._position_codec,
        )


# ---------------------------------------------------------------------------------------
# Engine side: runs in the engine thread only


class ProjectWorkspace(Workspace):
    """The engine's Workspace plus what the server needs of it."""

    def check_detached(self, path: str, text: str) -> FileOutcome:
        """Check ``text`` as ``path`` against the index without changing the workspace
        (for fix-all rounds: the fixed text is not the buffer)."""
        path = os.path.abspath(path)
        failure = too_deep(path, text)
        if failure is not None:
            return FileOutcome([failure])
        try:
            module = parse(path, text)
        except ParseFailure as exc:
            return FileOutcome([exc.diagnostic])
        name, root, is_package = self.namer(path)
        summary = summarize(module, name=name, path=path, root=root, is_package=is_package)
        rules = [RULES_BY_CODE[c] for c in enabled_rules(self.config, Path(path)) if c != "PF000"]
        return check_module(
            path=path, source=text, module=module, summary=summary,
            index=IndexView(self.index, root), rules=rules, settings=self.config.settings, schemas=self.schemas,
        )

    def unknown_importers(self, names: set[str], skip: Iterable[str]) -> set[str]:
        """Files importing a module named in ``names`` (directly or through other project
        modules) whose dependencies are unknown: checked by the start-up scan only, which
        does not record what each file's rules read. Over-approximates what they read."""
        reverse: dict[str, set[str]] = {}
        for path, summary in self.index.by_path.items():
            for info in summary.imports:
                reverse.setdefault(info.module, set()).add(path)
                if info.name and info.name != "*":
                    reverse.setdefault(f"{info.module}.{info.name}" if info.module else info.name, set()).add(path)
        found: set[str] = set()
        queue = list(names)
        seen = set(names)
        while queue:
            for path in reverse.get(queue.pop(), ()):
                if path in found:
                    continue
                found.add(path)
                name = self.index.by_path[path].name
                if name not in seen:
                    seen.add(name)
                    queue.append(name)
        skipped = set(skip)
        return {p for p in found if p not in self.dependencies and p not in skipped}

    def apply(self, path: str, text: str, open_paths: Iterable[str] = ()) -> set[str]:
        """``update`` plus the unknown-dependency importers when the summary changed."""
        path = os.path.abspath(path)
        old = self.index.by_path.get(path)
        before = self.index.fingerprints.get(path)
        affected = self.update(path, text)
        if self.index.fingerprints.get(path) != before:
            new = self.index.by_path.get(path)
            names = {s.name for s in (old, new) if s is not None}
            affected |= self.unknown_importers(names, [path, *open_paths])
        return affected


@dataclass
class Checked:
    """One check's result, converted for publishing (in the engine thread)."""

    text: Text
    digest: str
    diagnostics: list[Diagnostic]
    lsp: list[types.Diagnostic]
    affected: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    removed: bool = False  # a closed file that is gone from disk


def to_lsp(d: Diagnostic, text: Text, version: int | None, text_digest: str) -> types.Diagnostic:
    rule = RULES_BY_CODE.get(d.code)
    data: dict[str, Any] = {
        "version": version,
        "hash": text_digest,
        "line": d.start.line,
        "fix": d.fix.to_json() if d.fix else None,
    }
    if d.data:
        data["rule"] = d.data
    return types.Diagnostic(
        range=text.range((d.start.line, d.start.column), (d.end.line, d.end.column)),
        message=d.message,
        severity=_SEVERITY.get(d.severity, types.DiagnosticSeverity.Error),
        code=d.code,
        code_description=types.CodeDescription(href=rule.url()) if rule else None,
        source=SOURCE,
        data=data,
    )


def _converted(source: str, encoding: str, diagnostics: list[Diagnostic], version: int | None, **kw: Any) -> Checked:
    text = Text(source, encoding)
    text_digest = digest(source)
    diagnostics = sorted(diagnostics, key=lambda d: (d.start, d.end, d.code))
    lsp = [to_lsp(d, text, version, text_digest) for d in diagnostics]
    return Checked(text, text_digest, diagnostics, lsp, **kw)


def read_source(path: str) -> tuple[str | None, Diagnostic | None]:
    """(text, None), or (None, PF000) for a file that cannot be decoded, or (None, None)
    when it cannot be read at all."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None, None
    try:
        return decode(path, data), None
    except ParseFailure as exc:
        return data.decode("utf-8", "replace"), exc.diagnostic


# ---------------------------------------------------------------------------------------
# Settings


def _kebab(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "-" + m.group(1).lower(), key).replace("_", "-")


_SETTING_KEYS = frozenset(
    key for name, info in Settings.model_fields.items() for key in (name.replace("_", "-"), info.alias) if key
)
SERVER_KEYS = frozenset({"run"})
REFRESH_SCHEMA_REQUEST = "pitfalls/refreshLiveSchema"


def settings_dict(raw: Any) -> dict[str, Any]:
    """Editor settings as a dict: the object itself, or its ``settings`` member."""
    if not isinstance(raw, dict):
        return {}
    if isinstance(raw.get("settings"), dict):
        return dict(raw["settings"])
    return dict(raw)


def split_settings(raw: Any) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Editor settings to (``[tool.pitfalls]`` overrides, server options, unknown keys).
    Keys may be camelCase; unset (null) values are dropped. Keys the server does not know
    are left out (an extension has settings of its own under the same section)."""
    overrides: dict[str, Any] = {}
    server: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in settings_dict(raw).items():
        if value is None or not isinstance(key, str):
            continue
        if key in SERVER_KEYS:
            server[key] = value
            continue
        name = _kebab(key)
        if name not in _SETTING_KEYS:
            unknown.append(key)
            continue
        if isinstance(value, dict):  # a table (secrets, framework, directus, database): merged key by key
            value = {_kebab(k): v for k, v in value.items() if v is not None}
        overrides[name] = value
    return overrides, server, unknown


def build_config(root: Path, overrides: dict[str, Any], options: dict[str, Any]) -> tuple[ProjectConfig, str]:
    """The folder's ``[tool.pitfalls]`` with the editor's settings on top, and the run mode.
    The editor's settings count as the command line's options: ``select`` without
    ``ignore`` resets the file's ``ignore``. Raises ConfigError naming what is wrong (the
    editor's settings or the file's)."""
    run = options.get("run", "onType")
    if run not in RUN_MODES:
        raise ConfigError(f"editor settings: 'run' must be one of {', '.join(RUN_MODES)}, not {run!r}")
    if overrides:
        try:
            parse_settings(overrides)  # the editor's own values, named as such
        except ConfigError as exc:
            raise ConfigError(f"editor settings: {str(exc).removeprefix('[tool.pitfalls] ')}") from None
        if "select" in overrides and "ignore" not in overrides:
            overrides = {**overrides, "ignore": []}
    return load_config(None, root, overrides), run


# ---------------------------------------------------------------------------------------
# The server's state


@dataclass
class Project:
    """A workspace folder (or the pyproject.toml project of a file outside every folder)."""

    root: Path
    uri: str | None
    config: ProjectConfig
    run: str
    overrides: dict[str, Any]
    workspace: ProjectWorkspace
    ready: asyncio.Event
    scanned: bool = False
    live: asyncio.Task | None = None  # keeps the live schemas fresh (see keep_live)
    warned: set[str] = field(default_factory=set)  # schema warnings shown for these settings

    @property
    def has_schema_sources(self) -> bool:
        directus = self.config.settings.directus
        return bool(directus.url or directus.snapshot or database_url(self.config))

    def contains(self, path: str) -> bool:
        root = str(self.root)
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    def is_source(self, path: str) -> bool:
        """A file the project's check would cover: a source file under the root that
        discovery would not skip."""
        if not path.endswith(SOURCE_SUFFIXES) or not self.contains(path):
            return False
        rel = Path(os.path.relpath(path, self.root))
        folder = self.root
        for part in rel.parts[:-1]:
            folder = folder / part
            if part in SKIPPED_DIRS or part.endswith(".egg-info") or (folder / "pyvenv.cfg").is_file():
                return False
        return not self.config.is_excluded(Path(path))


@dataclass
class DocState:
    uri: str
    path: str | None  # None for untitled buffers
    task: asyncio.Task | None = None
    dirty: bool = False
    published: Checked | None = None  # the last result published (for hover, code actions)
    version: int | None = None


class PitfallsServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("pitfalls", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.engine = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pitfalls-engine")
        self.encoding = "utf-16"
        self.projects: dict[str, Project] = {}  # workspace folders, by root path
        self.loose: dict[str, Project] = {}  # projects of files outside every folder
        self.docs: dict[str, DocState] = {}  # open documents, by URI as the client sent it
        self.open_paths: dict[str, str] = {}  # path -> URI of an open document
        self.global_raw: Any = {}  # initializationOptions / didChangeConfiguration
        self.closed_published: set[str] = set()  # paths with closed-file diagnostics shown
        self.closed_queue: dict[str, None] = {}  # closed files to re-check, in order
        self.closed_task: asyncio.Task | None = None
        self.tasks: set[asyncio.Task] = set()
        self.logged: set[str] = set()
        self.shutdown_requested = False
        self.exiting = False
        self.supports_config = False
        self.supports_progress = False
        self.supports_watch = False
        self.document_changes = False
        self.markdown = True
        self.initialization_options: Any = None
        self.parent_watch: asyncio.Task | None = None
        self.gc_pending = False

    # -- plumbing -------------------------------------------------------------------------

    async def run_engine(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.engine, fn, *args)
        finally:
            self.collect_garbage()

    def collect_garbage(self) -> None:
        """Automatic garbage collection is off (see ``serve``): collect after engine work,
        once its result is out, in the engine thread (a few ms: the long-lived objects are
        frozen), so a check never pays for a collection in the middle of a parse."""
        if self.gc_pending or self.exiting:
            return
        self.gc_pending = True

        def collect() -> None:
            self.gc_pending = False
            gc.collect()

        try:
            self.engine.submit(collect)
        except RuntimeError:  # shut down
            pass

    def spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.log_error(f"internal error: {type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc)))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        if self.exiting:
            return
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:
            log.exception("cannot send a log message")

    def log_error(self, message: str, detail: str = "") -> None:
        log.error("%s\n%s", message, detail)
        self.log(f"pitfalls: {message}" + (f"\n{detail}" if detail else ""), types.MessageType.Error)

    def log_rule_errors(self, errors: Iterable[str]) -> None:
        for error in errors:
            if error not in self.logged:
                if len(self.logged) > 1000:
                    self.logged.clear()
                self.logged.add(error)
                self.log(f"pitfalls: internal error: {error}", types.MessageType.Error)

    def warn_user(self, message: str) -> None:
        log.warning("%s", message)
        if self.exiting:
            return
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"pitfalls: {message}"))

    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        if self.exiting or self.shutdown_requested:
            return
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    def terminate(self, code: int) -> None:
        """Exit now: no waiting for a running check, the stdin reader or worker processes."""
        self.exiting = True
        self.engine.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():  # a scan's worker processes
            child.kill()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)

    # -- projects -------------------------------------------------------------------------

    def make_project(self, root: Path, uri: str | None, raw: Any, previous: Project | None = None) -> Project | None:
        """A project for ``root`` with ``raw`` editor settings. Bad settings: a warning, and
        the previous configuration kept (None returned when there is one)."""
        overrides, options, unknown = split_settings(raw)
        for key in unknown:
            if f"setting:{key}" not in self.logged:
                self.logged.add(f"setting:{key}")
                self.log(f"pitfalls: ignoring the editor setting '{key}' (not a pitfalls setting)")
        try:
            config, run = build_config(root, overrides, options)
        except ConfigError as exc:
            if previous is not None:
                self.warn_user(f"{exc} (keeping the previous settings)")
                return None
            self.warn_user(str(exc))
            try:
                config, run = load_config(None, root), "onType"
            except ConfigError as file_exc:
                if str(file_exc) != str(exc):
                    self.warn_user(str(file_exc))
                config, run = ProjectConfig(Settings(), root, None), "onType"
        ready = asyncio.Event()
        return Project(root, uri, config, run, overrides, ProjectWorkspace(config), ready)

    def replace(self, root: str, project: Project) -> None:
        old = self.projects.get(root)
        self.projects[root] = project
        if old is not None:
            old.ready.set()  # checks waiting on it wake up, see the new project and wait on it
            if old.live is not None:
                old.live.cancel()

    def folder_settings(self, folder_raw: Any) -> dict[str, Any]:
        return {**settings_dict(self.global_raw), **settings_dict(folder_raw)}

    def project_for(self, path: str | None) -> Project | None:
        if path is None:
            return None
        best: Project | None = None
        for project in self.projects.values():
            if project.contains(path) and (best is None or len(str(project.root)) > len(str(best.root))):
                best = project
        if best is not None:
            return best
        config_root = _loose_root(path)
        project = self.loose.get(str(config_root))
        if project is None:
            project = self.make_project(config_root, None, self.folder_settings({}))
            assert project is not None
            project.ready.set()  # not scanned: the index holds the files opened from it
            self.loose[str(config_root)] = project
        return project

    # -- open documents -------------------------------------------------------------------

    def document(self, uri: str) -> TextDocument | None:
        return self.workspace.text_documents.get(unquote(uri))

    def schedule(self, uri: str) -> None:
        state = self.docs.get(uri)
        if state is None:
            return
        if state.task is not None and not state.task.done():
            state.dirty = True  # picked up when the running check finishes
            return
        state.task = self.spawn(self.check_document(state))

    async def check_document(self, state: DocState) -> None:
        while self.docs.get(state.uri) is state and not self.exiting:
            state.dirty = False
            doc = self.document(state.uri)
            if doc is None:
                return
            version, source = doc.version, doc.source
            project = self.project_for(state.path)
            if project is not None:
                await project.ready.wait()
                if self.project_for(state.path) is not project:
                    continue  # reconfigured meanwhile
            try:
                result = await self.run_engine(self.check_buffer, project, state.path, source, version, list(self.open_paths))
            except Exception as exc:
                self.log_error(f"checking {state.uri} failed: {type(exc).__name__}: {exc}", traceback.format_exc())
                result = _converted(source, self.encoding, [], version)
            current = self.document(state.uri)
            moved = self.project_for(state.path) is not project  # re-configured while it ran
            if (
                self.docs.get(state.uri) is state
                and current is not None
                and current.version == version
                and current.source == source
                and not moved
            ):
                state.published = result
                state.version = version
                self.publish(state.uri, result.lsp, version)
            self.log_rule_errors(result.errors)
            if result.affected and project is not None and not moved:
                self.affect(project, result.affected)
            if not state.dirty and not moved:
                return

    def check_buffer(self, project: Project | None, path: str | None, source: str, version: int | None, open_paths: list[str]) -> Checked:
        """(engine thread) Check an open buffer; the index takes its text."""
        if project is None or path is None:  # an untitled buffer: on its own, default settings
            return _converted(source, self.encoding, _check_alone(source), version)
        if project.config.is_excluded(Path(path)):
            return _converted(source, self.encoding, [], version)
        failure = too_deep(path, source)
        if failure is not None:
            return _converted(source, self.encoding, [failure], version)
        affected = project.workspace.apply(path, source, open_paths)
        outcome = project.workspace.check(path, source)
        return _converted(source, self.encoding, outcome.diagnostics, version, affected=affected, errors=outcome.errors)

    def affect(self, project: Project, paths: Iterable[str]) -> None:
        """Re-check files whose results may have changed with another file's."""
        closed = []
        for path in paths:
            uri = self.open_paths.get(path)
            if uri is not None:
                self.schedule(uri)
            elif project.is_source(path):
                closed.append(path)
        self.enqueue_closed(closed)

    # -- closed files ---------------------------------------------------------------------

    def enqueue_closed(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.closed_queue[path] = None
        if self.closed_queue and (self.closed_task is None or self.closed_task.done()):
            self.closed_task = self.spawn(self.drain_closed())

    async def drain_closed(self) -> None:
        """Re-check closed files one at a time, so open documents' checks never wait for
        more than one of them."""
        while self.closed_queue and not self.exiting:
            path = next(iter(self.closed_queue))
            del self.closed_queue[path]
            project = self.project_for(path)
            if project is None or path in self.open_paths:
                continue
            await project.ready.wait()
            try:
                result = await self.run_engine(self.check_closed, project, path, list(self.open_paths))
            except Exception as exc:
                self.log_error(f"checking {path} failed: {type(exc).__name__}: {exc}", traceback.format_exc())
                continue
            if result is None:
                continue
            self.log_rule_errors(result.errors)
            if path not in self.open_paths and self.project_for(path) is project:
                self.publish_closed(path, result.lsp)
            if result.affected:
                self.affect(project, result.affected)

    def check_closed(self, project: Project, path: str, open_paths: list[str]) -> Checked | None:
        """(engine thread) Check a closed file from disk (the index takes its text)."""
        ws = project.workspace
        if not project.is_source(path):
            if os.path.exists(path):
                return _converted("", self.encoding, [], None)
            return Checked(Text("", self.encoding), "", [], [], ws.remove(path), removed=True)
        text, failure = read_source(path)
        if text is None and failure is None:
            if os.path.exists(path):
                return None  # unreadable for now: keep what is shown
            return Checked(Text("", self.encoding), "", [], [], ws.remove(path), removed=True)
        assert text is not None
        if failure is not None:
            return _converted(text, self.encoding, [failure], None)
        failure = too_deep(path, text)
        if failure is not None:
            return _converted(text, self.encoding, [failure], None)
        affected = ws.apply(path, text, open_paths)
        outcome = ws.check(path, text)
        ws.forget(path)
        return _converted(text, self.encoding, outcome.diagnostics, None, affected=affected, errors=outcome.errors)

    def publish_closed(self, path: str, diagnostics: list[types.Diagnostic]) -> None:
        if not diagnostics and path not in self.closed_published:
            return
        if diagnostics:
            self.closed_published.add(path)
        else:
            self.closed_published.discard(path)
        self.publish(from_fs_path(path), diagnostics)

    # -- scanning -------------------------------------------------------------------------

    async def scan(self, project: Project) -> None:
        """Check the whole project from disk, with work-done progress; publish closed
        files' diagnostics; then check the open documents against the fresh index."""
        token: str | None = None
        if self.supports_progress:
            token = f"pitfalls-scan-{uuid.uuid4()}"
            try:
                await self.work_done_progress.create_async(token)
            except Exception:
                token = None
        name = project.root.name or str(project.root)
        if token:
            self.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="pitfalls", message=f"Finding files in {name}", percentage=0))
        summary = "failed"
        try:
            results: dict[str, Checked] = {}
            affected: set[str] = set()
            try:
                files = await self.run_engine(project.workspace.files)
                if token:
                    self.work_done_progress.report(token, types.WorkDoneProgressReport(message=f"Checking {len(files)} files", percentage=5))
                buffers = {p: d.source for p, uri in self.open_paths.items() if (d := self.document(uri)) is not None}
                results, affected = await self.run_engine(self.scan_project, project, files, buffers)
                self.log_rule_errors(project.workspace.errors)
                findings = sum(len(r.lsp) for r in results.values())
                summary = f"{len(files)} files, {findings} finding{'s' if findings != 1 else ''}"
            except Exception as exc:
                self.log_error(f"scanning {project.root} failed: {type(exc).__name__}: {exc}", traceback.format_exc())
            project.scanned = True
            project.ready.set()
            if self.projects.get(str(project.root)) is not project:
                return  # re-configured meanwhile: the new project's scan publishes
            for path, result in results.items():
                if path not in self.open_paths and path not in affected:
                    self.publish_closed(path, result.lsp)
            for path in list(self.closed_published):
                if project.contains(path) and path not in results and self.project_for(path) is project:
                    self.publish_closed(path, [])
            self.log(f"pitfalls: {project.root}: {summary}")
            for path, uri in list(self.open_paths.items()):
                state = self.docs.get(uri)
                # A check already waiting for this scan runs against the fresh index anyway.
                if state is not None and (state.task is None or state.task.done()) and self.project_for(path) is project:
                    self.schedule(uri)
            self.enqueue_closed(p for p in affected if p not in self.open_paths)
            if project.live is None and project.has_schema_sources:
                project.live = self.spawn(self.keep_live(project))
        finally:
            project.ready.set()
            if token:
                self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=summary))

    # -- live schemas ---------------------------------------------------------------------

    async def keep_live(self, project: Project) -> None:
        """Fetch the project's schemas now and every ``directus.refresh-minutes``: an edit
        never waits on the network, it checks against the last schema fetched."""
        while not self.shutdown_requested:
            await self.refresh_schemas(project)
            minutes = project.config.settings.directus.refresh_minutes
            if not minutes:
                return
            await asyncio.sleep(minutes * 60)

    async def refresh_schemas(self, project: Project) -> LoadedSchemas:
        """Read the schema sources again (off the engine thread); re-scan when they changed."""
        loaded = await asyncio.to_thread(load_schemas, project.config)
        for warning in loaded.warnings:
            if warning not in project.warned:
                self.warn_user(warning)
        project.warned = set(loaded.warnings)
        current = self.projects.get(str(project.root)) is project
        if current and loaded.schemas.fingerprint() != project.workspace.schemas.fingerprint():
            await self.run_engine(setattr, project.workspace, "schemas", loaded.schemas)
            self.log(f"pitfalls: {project.root}: schema changed, checking again")
            await self.scan(project)
        return loaded

    def scan_project(self, project: Project, files: list[Path], buffers: dict[str, str]) -> tuple[dict[str, Checked], set[str]]:
        """(engine thread) The scan, then the open buffers' text into the index; returns
        closed files' results and the files the buffers may change."""
        ws = project.workspace
        found = ws.scan(files)
        results: dict[str, Checked] = {}
        for path, diagnostics in found.items():
            if diagnostics:
                text, _ = read_source(path)
                results[path] = _converted(text or "", self.encoding, diagnostics, None)
            else:
                results[path] = Checked(Text("", self.encoding), "", [], [])
        affected: set[str] = set()
        for path, text in buffers.items():
            if project.is_source(path) and too_deep(path, text) is None:
                affected |= ws.apply(path, text, buffers)
        gc.collect()
        gc.freeze()  # the index and the rest that lives on: never scanned by a collection again
        return results, affected

    async def reconfigure(self, folders: dict[str, Any]) -> None:
        """New settings for each folder (root -> raw settings): rebuild and re-scan the
        folders whose configuration changed."""
        for root, raw in folders.items():
            old = self.projects.get(root)
            if old is None:
                continue
            project = self.make_project(old.root, old.uri, raw, previous=old)
            if project is None:
                continue
            same = (
                project.config.root == old.config.root
                and project.config.settings.fingerprint() == old.config.settings.fingerprint()
            )
            if same:
                old.run = project.run
                continue
            self.replace(root, project)
            await self.scan(project)
        for key, old in list(self.loose.items()):
            project = self.make_project(old.root, None, self.folder_settings({}), previous=old)
            if project is not None and project.config.settings.fingerprint() != old.config.settings.fingerprint():
                project.ready.set()
                self.loose[key] = project
                for path, uri in list(self.open_paths.items()):
                    if self.project_for(path) is project:
                        self.schedule(uri)

    async def pull_configuration(self) -> dict[str, Any]:
        """Per-folder settings from ``workspace/configuration``, over initializationOptions."""
        roots = list(self.projects)
        if not self.supports_config:
            return {root: self.folder_settings({}) for root in roots}
        items = [types.ConfigurationItem(scope_uri=self.projects[r].uri, section=CONFIG_SECTION) for r in roots]
        items.append(types.ConfigurationItem(section=CONFIG_SECTION))
        try:
            answers = await asyncio.wait_for(
                self.workspace_configuration_async(types.ConfigurationParams(items=items)), timeout=10
            )
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return {root: self.folder_settings({}) for root in roots}
        answers = list(answers or [])
        if len(answers) == len(items) and isinstance(answers[-1], dict) and answers[-1]:
            self.global_raw = {**settings_dict(self.initialization_options), **answers[-1]}
        return {root: self.folder_settings(answers[i] if i < len(answers) else {}) for i, root in enumerate(roots)}

    # -- code actions ---------------------------------------------------------------------

    def current(self, uri: str) -> tuple[TextDocument | None, Text | None]:
        doc = self.document(uri)
        if doc is None:
            path = to_fs_path(uri)
            if path is None:
                return None, None
            text, failure = read_source(path)
            if text is None or failure is not None:
                return None, None
            return None, Text(text, self.encoding)
        return doc, Text(doc.source, self.encoding)

    def diagnostic_data(self, uri: str, diagnostic: types.Diagnostic, text_digest: str) -> dict[str, Any] | None:
        """What a code action needs of a diagnostic: its ``data``, or the server's copy of it
        (clients without ``dataSupport``); None when it was made for other text."""
        data = diagnostic.data if isinstance(diagnostic.data, dict) else None
        if data is None:
            state = self.docs.get(uri)
            published = state.published if state else None
            if published is None or published.digest != text_digest:
                return None
            for lsp in published.lsp:
                if lsp.code == diagnostic.code and lsp.range == diagnostic.range:
                    data = lsp.data
                    break
        if not data or data.get("hash") != text_digest:
            return None
        return data

    def workspace_edit(self, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        if self.document_changes:
            return types.WorkspaceEdit(
                document_changes=[
                    types.TextDocumentEdit(
                        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                        edits=edits,
                    )
                ]
            )
        return types.WorkspaceEdit(changes={uri: edits})

    def fix_all(self, project: Project | None, path: str | None, source: str) -> str:
        """(engine thread) The text with every safe fix applied, re-checking between rounds
        (fixes that overlapped one already taken get their turn) until nothing changes."""
        current = source
        for _ in range(MAX_FIX_ROUNDS):
            if project is None or path is None:
                diagnostics = _check_alone(current)
            elif project.config.is_excluded(Path(path)):
                return source
            else:
                diagnostics = project.workspace.check_detached(path, current).diagnostics
            applied = apply_fixes(current, diagnostics, unsafe=False)
            if not applied.fixed or applied.text == current or not still_parses(applied.text):
                break
            current = applied.text
        return current


def _loose_root(path: str) -> Path:
    """The project of a file outside every workspace folder: its pyproject.toml's folder,
    else the file's own folder."""
    from pitfalls.config import find_pyproject

    found = find_pyproject(Path(path))
    return found.parent if found is not None else Path(path).parent


def _check_alone(source: str) -> list[Diagnostic]:
    path = "untitled.py"
    failure = too_deep(path, source)
    if failure is not None:
        return [failure]
    rules = [r for code, r in RULES_BY_CODE.items() if code != "PF000"]
    return check_source(source, path=path, rules=rules, settings=Settings()).diagnostics


def fix_edits(fix: dict[str, Any], text: Text) -> list[types.TextEdit]:
    parsed = Fix.from_json(fix)
    return [
        types.TextEdit(range=text.range((e.start.line, e.start.column), (e.end.line, e.end.column)), new_text=e.content)
        for e in parsed.edits
    ]


def diff_edits(text: Text, new: str) -> list[types.TextEdit]:
    """Line-granular edits turning ``text`` into ``new`` (all relative to ``text``)."""
    old_lines = _LINE_WITH_END.findall(text.source)
    new_lines = _LINE_WITH_END.findall(new)
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        start = text.position(i1, 0) if i1 < len(text.starts) else text.position(len(text.starts), 0)
        end = text.position(i2, 0) if i2 < len(text.starts) else text.position(len(text.starts), 0)
        edits.append(types.TextEdit(range=types.Range(start=start, end=end), new_text="".join(new_lines[j1:j2])))
    return edits


def _line_ends_in_string(source: str, line1: int) -> bool | None:
    """Whether line ``line1`` ends inside a multi-line string (a comment there would be
    part of the string); None when the source cannot be tokenized that far."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.start[0] > line1:
                return False
            if tok.type == tokenize.STRING and tok.start[0] <= line1 < tok.end[0]:
                return True
    except (tokenize.TokenError, SyntaxError):
        return None
    return False


def noqa_edit(text: Text, line1: int, code: str) -> types.TextEdit | None:
    """Add ``code`` to the line's ``# noqa:`` (or append ``  # noqa: CODE``)."""
    i = line1 - 1
    if not 0 <= i < len(text.starts):
        return None
    line = text.line(i)
    if line.rstrip().endswith("\\") or _line_ends_in_string(text.source, line1) is not False:
        return None
    for match in NOQA.finditer(line):
        codes = match.group("codes")
        if codes is None:
            return None  # a bare noqa comment already silences the whole line
        if code in {c.upper() for c in re.split(r"[,\s]+", codes) if c}:
            return None
        at = text.position(i, match.end("codes"))
        return types.TextEdit(range=types.Range(start=at, end=at), new_text=f", {code}")
    stripped = len(line.rstrip())
    return types.TextEdit(
        range=types.Range(start=text.position(i, stripped), end=text.position(i, len(line))),
        new_text=f"  # noqa: {code}",
    )


def _wants(only: list[str] | None, kind: str) -> bool:
    if not only:
        return True
    return any(kind == k or kind.startswith(f"{k}.") for k in only)


def _markdown_doc(codes: Iterable[str]) -> str:
    docs = []
    for code in dict.fromkeys(codes):
        rule = RULES_BY_CODE.get(code)
        if rule is not None:
            docs.append(f"{rule.doc()}\n[{code} documentation]({rule.url()})\n")
    return "\n---\n\n".join(docs)


# ---------------------------------------------------------------------------------------
# LSP handlers


def create_server() -> PitfallsServer:
    server = PitfallsServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: PitfallsServer, params: types.InitializeParams) -> None:
        ls.workspace.__class__ = _DocumentStore  # LSP lines, offset-based incremental changes
        ls.encoding = _encoding(ls.workspace.position_encoding)
        caps = params.capabilities
        ls.supports_config = bool(get_capability(caps, "workspace.configuration", False))
        ls.supports_progress = bool(get_capability(caps, "window.work_done_progress", False))
        ls.supports_watch = bool(get_capability(caps, "workspace.did_change_watched_files.dynamic_registration", False))
        ls.document_changes = bool(get_capability(caps, "workspace.workspace_edit.document_changes", False))
        formats = get_capability(caps, "text_document.hover.content_format", None)
        ls.markdown = formats is None or types.MarkupKind.Markdown in formats
        ls.initialization_options = params.initialization_options
        ls.global_raw = settings_dict(params.initialization_options)
        folders = list(params.workspace_folders or [])
        if not folders:
            root_uri = params.root_uri or (from_fs_path(params.root_path) if params.root_path else None)
            if root_uri:
                folders = [types.WorkspaceFolder(uri=root_uri, name=os.path.basename(root_uri))]
        for folder in folders:
            path = to_fs_path(folder.uri)
            if path is None:
                continue
            root = Path(os.path.abspath(path))
            project = ls.make_project(root, folder.uri, ls.folder_settings({}))
            if project is not None:
                ls.projects[str(root)] = project
        if params.process_id:
            ls.parent_watch = asyncio.ensure_future(watch_parent(ls, params.process_id))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: PitfallsServer, params: types.InitializedParams) -> None:
        if ls.supports_watch:
            try:
                await ls.client_register_capability_async(
                    types.RegistrationParams(
                        registrations=[
                            types.Registration(
                                id=f"pitfalls-watch-{uuid.uuid4()}",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                    watchers=[
                                        types.FileSystemWatcher(glob_pattern="**/*.py"),
                                        types.FileSystemWatcher(glob_pattern="**/*.pyi"),
                                        types.FileSystemWatcher(glob_pattern="**/pyproject.toml"),
                                    ]
                                ),
                            )
                        ]
                    )
                )
            except Exception as exc:
                log.warning("cannot register the file watcher: %s", exc)
        if ls.supports_config:
            settings = await ls.pull_configuration()
            for root, raw in settings.items():
                old = ls.projects.get(root)
                if old is None:
                    continue
                project = ls.make_project(old.root, old.uri, raw, previous=old)
                if project is not None:
                    ls.replace(root, project)
        for project in list(ls.projects.values()):
            await ls.scan(project)

    @server.feature(REFRESH_SCHEMA_REQUEST)
    async def refresh_live_schema(ls: PitfallsServer, params: Any) -> list[dict[str, Any]]:
        """Re-read every project's schema sources now; say what each one has."""
        out = []
        for project in list(ls.projects.values()):
            if not project.has_schema_sources:
                continue
            loaded = await ls.refresh_schemas(project)
            schemas = loaded.schemas
            out.append({
                "root": str(project.root),
                "directus": schemas.directus.source if schemas.directus else None,
                "database": schemas.database.source if schemas.database else None,
                "warnings": loaded.warnings,
            })
        return out

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: PitfallsServer, params: None) -> None:
        ls.shutdown_requested = True
        for task in list(ls.tasks):
            task.cancel()  # pending checks and scans (the parent watch stays)

    @server.feature(types.EXIT)
    def exit_(ls: PitfallsServer, params: None) -> None:
        ls.terminate(0 if ls.shutdown_requested else 1)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PitfallsServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        path = to_fs_path(item.uri)
        if path is not None:
            path = os.path.abspath(path)
            if not (path.endswith(SOURCE_SUFFIXES) or item.language_id == "python"):
                return
        elif item.language_id != "python":
            return
        old = ls.docs.get(item.uri)
        if old is not None and old.task is not None:
            old.task.cancel()
        ls.docs[item.uri] = DocState(item.uri, path)
        if path is not None:
            ls.open_paths[path] = item.uri
            ls.closed_queue.pop(path, None)
        ls.schedule(item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PitfallsServer, params: types.DidChangeTextDocumentParams) -> None:
        state = ls.docs.get(params.text_document.uri)
        if state is None:
            return
        project = ls.project_for(state.path)
        if project is None or project.run == "onType":
            ls.schedule(state.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PitfallsServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PitfallsServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        state = ls.docs.pop(uri, None)
        if state is None:
            return
        if state.path is not None and ls.open_paths.get(state.path) == uri:
            del ls.open_paths[state.path]
        project = ls.project_for(state.path)
        if state.path is not None and project is not None and project.is_source(state.path):
            # The disk's text is the truth again: shown as a closed file, index updated.
            ls.publish(uri, [])
            ls.closed_published.discard(state.path)
            ls.enqueue_closed([state.path])
        else:
            ls.publish(uri, [])

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: PitfallsServer, params: types.DidChangeConfigurationParams) -> None:
        if ls.supports_config:
            folders = await ls.pull_configuration()
        else:
            settings = params.settings
            if isinstance(settings, dict) and isinstance(settings.get(CONFIG_SECTION), dict):
                ls.global_raw = {**settings_dict(ls.initialization_options), **settings[CONFIG_SECTION]}
            folders = {root: ls.folder_settings({}) for root in ls.projects}
        await ls.reconfigure(folders)  # re-scans what changed, then re-checks its documents

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: PitfallsServer, params: types.DidChangeWatchedFilesParams) -> None:
        changed_sources: list[str] = []
        reload: dict[str, Any] = {}
        for change in params.changes:
            path = to_fs_path(change.uri)
            if path is None:
                continue
            path = os.path.abspath(path)
            if os.path.basename(path) == "pyproject.toml":
                folder = os.path.dirname(path)
                for root in ls.projects:
                    if Path(root).is_relative_to(folder):  # the pyproject.toml its config is looked for in
                        reload[root] = None
                continue
            if path.endswith(SOURCE_SUFFIXES) and path not in ls.open_paths:
                changed_sources.append(path)
        if reload:
            settings = await ls.pull_configuration() if ls.supports_config else {r: ls.folder_settings({}) for r in ls.projects}
            for root in reload:
                old = ls.projects.get(root)
                if old is None:
                    continue
                project = ls.make_project(old.root, old.uri, settings.get(root, {}), previous=old)
                if project is None:
                    continue
                ls.replace(root, project)  # always re-scan: the file's settings may have changed
                await ls.scan(project)
        ls.enqueue_closed(p for p in changed_sources if ls.project_for(p) is not None)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: PitfallsServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed or []:
            path = to_fs_path(folder.uri)
            if path is None:
                continue
            project = ls.projects.pop(str(Path(os.path.abspath(path))), None)
            if project is None:
                continue
            for closed in list(ls.closed_published):
                if project.contains(closed) and ls.project_for(closed) is not project:
                    ls.publish_closed(closed, [])
        added = []
        settings = await ls.pull_configuration() if ls.supports_config else {}
        for folder in params.event.added or []:
            path = to_fs_path(folder.uri)
            if path is None:
                continue
            root = Path(os.path.abspath(path))
            project = ls.make_project(root, folder.uri, settings.get(str(root), ls.folder_settings({})))
            if project is not None:
                ls.projects[str(root)] = project
                added.append(project)
        for project in added:
            await ls.scan(project)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False),
    )
    async def code_action(ls: PitfallsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        try:
            return await _code_actions(ls, params)
        except Exception as exc:
            ls.log_error(f"code actions failed: {type(exc).__name__}: {exc}", traceback.format_exc())
            return None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: PitfallsServer, params: types.HoverParams) -> types.Hover | None:
        try:
            return _hover(ls, params)
        except Exception as exc:
            ls.log_error(f"hover failed: {type(exc).__name__}: {exc}", traceback.format_exc())
            return None

    return server


async def _code_actions(ls: PitfallsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    doc, text = ls.current(uri)
    if text is None:
        return None
    version = doc.version if doc is not None else None
    text_digest = digest(text.source)
    only = [_encoding(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []
    quickfix = _wants(only, types.CodeActionKind.QuickFix.value)
    safe_fixes = 0
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        data = ls.diagnostic_data(uri, diagnostic, text_digest)
        if data is None:
            continue  # made for other text: fresh diagnostics are on their way
        fix = data.get("fix")
        if fix:
            safe = fix.get("applicability") == Applicability.SAFE.value
            safe_fixes += safe
            if quickfix:
                actions.append(
                    types.CodeAction(
                        title=fix["message"],
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=safe,
                        edit=ls.workspace_edit(uri, version, fix_edits(fix, text)),
                    )
                )
        if quickfix and diagnostic.code != "PF000":
            edit = noqa_edit(text, int(data.get("line") or diagnostic.range.start.line + 1), diagnostic.code)
            if edit is not None:
                actions.append(
                    types.CodeAction(
                        title=f"Disable {diagnostic.code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=False,
                        edit=ls.workspace_edit(uri, version, [edit]),
                    )
                )
    if (only is not None and _wants(only, FIX_ALL_KIND)) or (only is None and safe_fixes):
        path = to_fs_path(uri)
        path = os.path.abspath(path) if path is not None else None
        project = ls.project_for(path)
        if project is not None:
            await project.ready.wait()
        fixed = await ls.run_engine(ls.fix_all, project, path, text.source)
        _, current = ls.current(uri)
        if fixed != text.source and current is not None and current.source == text.source:
            actions.append(
                types.CodeAction(
                    title="pitfalls: fix all safe fixes",
                    kind=FIX_ALL_KIND,
                    edit=ls.workspace_edit(uri, version, diff_edits(text, fixed)),
                )
            )
    return actions


def _hover(ls: PitfallsServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    _, text = ls.current(uri)
    if text is None:
        return None
    line, column = text.locate(params.position)
    source_line = text.line(line)
    for match in NOQA.finditer(source_line):
        if match.group("codes") is None or not match.start("codes") <= column <= match.end("codes"):
            continue
        for code in _CODE.finditer(match.group("codes")):
            start, end = match.start("codes") + code.start(), match.start("codes") + code.end()
            if start <= column <= end and code.group(0).upper() in RULES_BY_CODE:
                return _hover_result(ls, [code.group(0).upper()], text.range((line + 1, start), (line + 1, end)))
    state = ls.docs.get(uri)
    published = state.published if state is not None else None
    if published is None or published.digest != digest(text.source):
        return None
    here = (line + 1, column)
    hits = [
        (d, lsp) for d, lsp in zip(published.diagnostics, published.lsp)
        if (d.start.line, d.start.column) <= here <= (d.end.line, d.end.column)
    ]
    if not hits:
        return None
    return _hover_result(ls, [d.code for d, _ in hits], hits[0][1].range)


def _hover_result(ls: PitfallsServer, codes: list[str], where: types.Range) -> types.Hover | None:
    doc = _markdown_doc(codes)
    if not doc:
        return None
    kind = types.MarkupKind.Markdown if ls.markdown else types.MarkupKind.PlainText
    return types.Hover(contents=types.MarkupContent(kind=kind, value=doc), range=where)


async def watch_parent(ls: PitfallsServer, pid: int) -> None:
    """Exit when the editor that started us is gone (its pipe may outlive it)."""
    while not ls.exiting:
        await asyncio.sleep(PARENT_POLL_SECONDS)
        if not _alive(pid):
            log.warning("parent process %s is gone; exiting", pid)
            ls.terminate(0 if ls.shutdown_requested else 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def serve() -> int:
    """Run the server over stdio until ``exit`` (or until stdin closes or the parent dies)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="pitfalls server: %(levelname)s %(name)s: %(message)s")
    # The protocol gets its own copies of stdin and stdout. Anything else writing to fd 1 (a
    # stray print, a worker process) goes to stderr instead of corrupting the stream; and
    # sys.stdin is not the object the reader thread blocks in: a scan's worker processes are
    # forked, and multiprocessing closes sys.stdin in the child, which would deadlock on the
    # lock the reader thread held at fork time.
    protocol_in = os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process' lifetime
    server = create_server()
    # Collections are run explicitly after engine work (PitfallsServer.collect_garbage):
    # automatic ones land in the middle of parses, which allocate a whole tree each, and
    # traverse every long-lived object (+100 ms on a 2,000-line file, one check in two).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        server.start_io(protocol_in, protocol_out)  # type: ignore[arg-type]
    finally:
        server.terminate(0 if server.shutdown_requested else 1)
    return 0
