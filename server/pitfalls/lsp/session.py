"""The language server's state: projects, open documents, and when to check what.

Checks run off the event loop, one at a time, in a single engine thread (the Workspace is
not thread-safe; the loop keeps reading messages). Per document, edits that arrive while a
check runs only mark it dirty: when the check finishes its result is published only if the
document is still at the version it checked, and the newest text is checked next. No
sleep-based debounce. Closed files an edit may affect are re-checked one at a time, so an
open document's check never waits for more than one of them. Each folder is scanned at
start-up (``$/progress``) and whenever its configuration or schemas change (see
:mod:`~pitfalls.lsp.scanning`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.exceptions import FeatureNotificationError, FeatureRequestError, JsonRpcException, JsonRpcInternalError
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from pitfalls import __version__
from pitfalls.core.settings import ConfigError
from pitfalls.lsp.convert import Checked, converted
from pitfalls.lsp import scanning
from pitfalls.lsp.jobs import EditorJob
from pitfalls.lsp.project import Project, check_buffer, check_closed
from pitfalls.lsp.protocol import PitfallsProtocol, converter
from pitfalls.lsp.pull import Reports
from pitfalls.lsp.settings import (
    CONFIG_SECTION,
    build_config,
    fallback_config,
    loose_root,
    settings_dict,
    split_settings,
)
from pitfalls.sources.load import ConfigSchemas, has_sources, load_each, snapshot_path

log = logging.getLogger("pitfalls.server")
T = TypeVar("T")

PARENT_POLL_SECONDS = 1.0
# The old generation (the open files' trees, the index: tens of ms to scan) is collected once
# the engine has been idle this long, and after this many engine runs without a pause.
FULL_COLLECTION_AFTER_IDLE_SECONDS = 1.0
FULL_COLLECTION_AT_LEAST_EVERY = 256
# Closed files an edit affects wait until the open documents have not changed for this
# long: while someone types, each keystroke's check never queues behind one of theirs.
TYPING_PAUSE_SECONDS = 0.25


def fs_path(uri: str) -> str | None:
    """The absolute path of a ``file:`` URI; None for any other (an untitled buffer)."""
    path = to_fs_path(uri)
    return os.path.abspath(path) if path is not None else None


@dataclass
class DocState:
    uri: str
    path: str | None  # None for untitled buffers
    task: asyncio.Task | None = None
    dirty: bool = False
    published: Checked | None = None  # the last result published (for hover, code actions)
    version: int | None = None


class PitfallsServer(LanguageServer):
    """pygls' server plus the state of one editor session (touched on the event loop only;
    the engine work goes through :meth:`run_engine`)."""

    def __init__(self) -> None:
        super().__init__(
            "pitfalls", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental, protocol_cls=PitfallsProtocol,
            converter_factory=converter,
        )
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
        self.changed_at = 0.0  # when an open document last changed (time.monotonic())
        self.rescans: dict[str, asyncio.Task] = {}  # by project root: see scanning.disk_changed
        self.rescan_wanted: set[str] = set()
        self.tasks: set[asyncio.Task] = set()
        self.logged: set[str] = set()
        self.shutdown_requested = False
        self.exiting = False
        self.supports_config = False
        self.supports_progress = False
        self.supports_watch = False
        self.document_changes = False
        self.markdown = True
        self.pull = False  # the client pulls diagnostics (see pitfalls.lsp.pull): none are pushed
        self.refresh_support = False
        self.reports = Reports()
        self.pulling: dict[str, int] = {}  # report keys -> pulls waiting for their check
        self.refresh_wanted = False
        self.refresh_task: asyncio.Task | None = None
        self.initialization_options: Any = None
        self.parent_watch: asyncio.Task | None = None
        self.gc_pending = False
        self.collections = 0  # engine runs since the last full collection
        self.idle_collection: asyncio.TimerHandle | None = None
        self.editor_jobs: deque[EditorJob] = deque()  # see run_editor

    # -- plumbing -------------------------------------------------------------------------

    async def run_engine(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.engine, fn, *args)
        finally:
            self.collect_garbage()

    async def run_editor(self, fn: Callable[..., T], *args: Any) -> T:
        """:meth:`run_engine` for the work an editor waits on (an open document's check):
        the engine thread runs it in turn, or sooner, between the files of a scan's long
        check (see :meth:`editor_work`)."""
        loop = asyncio.get_running_loop()
        job = EditorJob(fn, args, loop, loop.create_future())
        self.editor_jobs.append(job)
        self.engine.submit(self._run_in_turn, job)
        try:
            return await job.done
        finally:
            self.collect_garbage()

    def _run_in_turn(self, job: EditorJob) -> None:
        try:
            self.editor_jobs.remove(job)
        except ValueError:
            return  # a scan ran it
        job.run()

    def editor_work(self) -> None:
        """Engine thread, between the files of a scan: run the editor's work waiting (it
        reads the index the scan replaces only when it ends)."""
        while self.editor_jobs:
            self.editor_jobs.popleft().run()

    def collect_garbage(self) -> None:
        """Automatic garbage collection is off (see :func:`pitfalls.lsp.server.serve`): collect after engine work,
        once its result is out, in the engine thread, so a check never pays for a collection
        in the middle of a parse. What one check leaves (rules and their context hold each
        other) is young: the young generations are collected each time (under a ms). The
        old one, which holds the open files' trees and the index (tens of ms to scan, and
        seldom anything to free), waits until the engine is idle: a collection then does not
        hold up the next keystroke's check. Typing without a pause still gets one every
        ``FULL_COLLECTION_AT_LEAST_EVERY`` runs."""
        if self.gc_pending or self.exiting:
            return
        self.gc_pending = True
        self.collections += 1
        full = self.collections >= FULL_COLLECTION_AT_LEAST_EVERY

        def collect() -> None:
            self.gc_pending = False
            gc.collect(2 if full else 1)

        # Once the caller has sent the result (it does so before it next awaits): a
        # collection holds the interpreter lock, and publishing needs it.
        loop = asyncio.get_running_loop()
        loop.call_soon(self._submit, collect)
        if full:
            self.collections = 0
        if self.idle_collection is not None:
            self.idle_collection.cancel()
        self.idle_collection = loop.call_later(FULL_COLLECTION_AFTER_IDLE_SECONDS, self._collect_when_idle)

    def _collect_when_idle(self) -> None:
        self.idle_collection = None
        if self.collections and not self.exiting:
            self.collections = 0
            self._submit(lambda: gc.collect(2))

    def _submit(self, work: Callable[[], None]) -> None:
        try:
            self.engine.submit(work)
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

    def client_mistake(self, message: str) -> None:
        """A message from the client that cannot be served: in the log, never a pop-up (a
        request's answer says so too)."""
        log.warning("ignored a bad message from the client: %s", message)
        if not self.shutdown_requested:
            self.log(f"pitfalls: ignored a bad message from the client: {message}", types.MessageType.Warning)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls shows every error it meets as an "Error in server" pop-up (and answers the
        request, if it was one). Log them instead: a body that is not JSON or a method the
        server does not have is the client's mistake, the rest an internal error."""
        if source is JsonRpcException and isinstance(error, ValueError):  # the read loop's
            self.client_mistake(f"message: not JSON ({error})")
        elif isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
            self.client_mistake(error.message)
        else:
            data = getattr(error, "data", None)
            tb = data.get("traceback") if isinstance(data, dict) else None
            what = {FeatureRequestError: "a request", FeatureNotificationError: "a notification"}.get(source, "a message")
            self.log_error(f"{what} failed: {error}", "".join(tb or traceback.format_tb(error.__traceback__)))

    def log_rule_errors(self, errors: Iterable[str]) -> None:
        for error in errors:
            if error not in self.logged:
                if len(self.logged) > 1000:
                    self.logged.clear()
                self.logged.add(error)
                self.log(f"pitfalls: internal error: {error}", types.MessageType.Error)

    def engine_failed(self, exc: Exception, doing: str) -> None:
        """Engine work raised: a bad configuration file is the user's to fix (said once,
        see :meth:`config_error`), anything else is ours (logged with its traceback)."""
        if isinstance(exc, ConfigError):
            self.config_error(exc)
        else:
            self.log_error(f"{doing} failed: {type(exc).__name__}: {exc}", traceback.format_exc())

    def config_error(self, exc: ConfigError) -> None:
        """A configuration file the engine met is bad (a service's, deep in the folder): say
        so once; its files are not checked until it is fixed."""
        if f"config:{exc}" not in self.logged:
            self.logged.add(f"config:{exc}")
            self.warn_user(str(exc))

    def warn_user(self, message: str) -> None:
        log.warning("%s", message)
        if self.exiting:
            return
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"pitfalls: {message}"))

    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None = None) -> None:
        if self.exiting or self.shutdown_requested:
            return
        key = self.report_key(uri)
        changed = self.reports.record(key, uri, diagnostics, version)
        if not self.pull:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
            )
        elif changed and key not in self.pulling and (key in self.open_paths or uri in self.docs):
            self.refresh_pulls()

    def report_key(self, uri: str) -> str:
        """Results are kept by path: an open document's URI (as the client spelt it) and the
        one its closed file is published under may differ."""
        return fs_path(uri) or uri

    def refresh_pulls(self) -> None:
        """Ask a pulling client to pull again: one request at a time, and one more when a
        result changed while it was out."""
        if not self.refresh_support:
            return
        self.refresh_wanted = True
        if self.refresh_task is None or self.refresh_task.done():
            self.refresh_task = self.spawn(self._refresh())

    async def _refresh(self) -> None:
        while self.refresh_wanted and not (self.exiting or self.shutdown_requested):
            self.refresh_wanted = False
            try:
                await asyncio.wait_for(self.workspace_diagnostic_refresh_async(None), timeout=10)
            except Exception as exc:
                log.warning("workspace/diagnostic/refresh failed: %s", exc)
                return

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
            config, errors = fallback_config(root, exc)
            for error in errors:
                self.warn_user(error)
            run = "onType"
        return Project.open(root, uri, config, run)

    def remake(self, root: str, raw: Any) -> Project | None:
        """Folder ``root``'s project made again with ``raw`` editor settings (None: no such
        folder, or bad settings and the old project kept)."""
        old = self.projects.get(root)
        if old is None:
            return None
        return self.make_project(old.root, old.uri, raw, previous=old)

    def replace(self, root: str, project: Project) -> None:
        old = self.projects.get(root)
        self.projects[root] = project
        if old is not None:
            old.release()  # checks waiting on it wake up, see the new project and wait on it
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
        config_root = loose_root(path)
        project = self.loose.get(str(config_root))
        if project is None:
            project = self.make_project(config_root, None, self.folder_settings({}))
            assert project is not None
            project.release()  # not scanned: the index holds the files opened from it
            self.loose[str(config_root)] = project
        return project

    # -- open documents -------------------------------------------------------------------

    def document(self, uri: str) -> TextDocument | None:
        return self.workspace.text_documents.get(unquote(uri))

    def schedule(self, uri: str) -> None:
        state = self.docs.get(uri)
        if state is None:
            return
        self.changed_at = time.monotonic()
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
                await project.indexed.wait()
                if self.project_for(state.path) is not project:
                    continue  # reconfigured meanwhile
            try:
                result = await self.run_editor(check_buffer, project, state.path, source, version, self.encoding)
            except Exception as exc:
                self.engine_failed(exc, f"checking {state.uri}")
                result = converted(source, self.encoding, [], version)
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

    def affect(self, project: Project, paths: Iterable[str]) -> None:
        """Re-check files whose results may have changed with another file's (closed ones
        in the engine thread, which skips those the folder's check does not cover)."""
        closed = []
        for path in paths:
            uri = self.open_paths.get(path)
            if uri is not None:
                self.schedule(uri)
            else:
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
        more than one of them, and none while someone types (see TYPING_PAUSE_SECONDS)."""
        while self.closed_queue and not self.exiting:
            typing = TYPING_PAUSE_SECONDS - (time.monotonic() - self.changed_at)
            if typing > 0:
                await asyncio.sleep(typing)
                continue
            path = next(iter(self.closed_queue))
            del self.closed_queue[path]
            project = self.project_for(path)
            if project is None or path in self.open_paths:
                continue
            await project.ready.wait()
            try:
                result = await self.run_engine(check_closed, project, path, self.encoding)
            except Exception as exc:
                self.engine_failed(exc, f"checking {path}")
                continue
            if result is None:
                continue
            self.log_rule_errors(result.errors)
            if path not in self.open_paths and self.project_for(path) is project:
                self.publish_closed(path, result.lsp)
            if result.affected:
                self.affect(project, result.affected)

    def publish_closed(self, path: str, diagnostics: list[types.Diagnostic]) -> None:
        if not diagnostics and path not in self.closed_published:
            return
        if diagnostics:
            self.closed_published.add(path)
        else:
            self.closed_published.discard(path)
        self.publish(from_fs_path(path), diagnostics)

    # -- scanning -------------------------------------------------------------------------

    async def scan(self, *projects: Project) -> None:
        """Check each project's files from disk (see :func:`pitfalls.lsp.scanning.scan`)."""
        await scanning.scan(self, *projects)

    def buffers(self) -> dict[str, str]:
        """The open documents' text, by path."""
        return {p: d.source for p, uri in self.open_paths.items() if (d := self.document(uri)) is not None}

    # -- live schemas ---------------------------------------------------------------------

    async def keep_live(self, project: Project) -> None:
        """Fetch the project's schemas now and every ``directus.refresh-minutes``: an edit
        never waits on the network, it checks against the last schema fetched."""
        while not self.shutdown_requested:
            await self.refresh_schemas(project)
            minutes = project.config.folder_config(project.root).settings.directus.refresh_minutes
            if not minutes:
                return
            await asyncio.sleep(minutes * 60)

    async def refresh_schemas(self, project: Project) -> ConfigSchemas:
        """Read the schema sources of each configuration again (off the engine thread, which
        alone touches the resolver and the configurations); re-scan when they changed."""
        configs = await self.run_engine(project.config.configs)
        loaded = await asyncio.to_thread(load_each, [config for config in configs if has_sources(config)])
        for warning in loaded.warnings:
            if warning not in project.warned:
                self.warn_user(warning)
        project.warned = set(loaded.warnings)
        current = self.projects.get(str(project.root)) is project
        if current and loaded.changed():
            await self.run_engine(loaded.attach)
            self.log(f"pitfalls: {project.root}: schema changed, checking again")
            await self.scan(project)
        return loaded

    async def snapshots_changed(self, paths: set[str], skip: set[str]) -> None:
        """Files that may be Directus snapshots changed on disk: re-read the schemas of the
        projects that name one of them (but those in ``skip``, made again already)."""
        for root, project in list(self.projects.items()):
            if root in skip:
                continue
            configs = await self.run_engine(project.config.configs)
            if any(os.path.normpath(named) in paths for config in configs if (named := snapshot_path(config))):
                await self.refresh_schemas(project)

    async def reconfigure(self, folders: dict[str, Any]) -> None:
        """New settings for each folder (root -> raw settings): rebuild and re-scan the
        folders whose configuration changed."""
        changed = []
        for root, raw in folders.items():
            project = self.remake(root, raw)
            if project is None:
                continue
            old = self.projects[root]
            if project.configured() == old.configured():
                old.run = project.run
                continue
            self.replace(root, project)
            changed.append(project)
        await self.scan(*changed)
        for key, old in list(self.loose.items()):
            project = self.make_project(old.root, None, self.folder_settings({}), previous=old)
            if project is not None and project.configured() != old.configured():
                project.release()
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

    # -- the editor's process ----------------------------------------------------------------

    async def watch_parent(self, pid: int) -> None:
        """Exit when the editor that started us is gone (its pipe may outlive it)."""
        while not self.exiting:
            await asyncio.sleep(PARENT_POLL_SECONDS)
            if not _alive(pid):
                log.warning("parent process %s is gone; exiting", pid)
                self.terminate(0 if self.shutdown_requested else 1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
