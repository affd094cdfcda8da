"""The LSP methods the server answers, each mapped onto :class:`PitfallsServer`.

Diagnostics are pulled by a client that can (see :mod:`pitfalls.lsp.pull`), pushed to the
others. Buffers win over disk in the project index;
``workspace/didChangeWatchedFiles`` keeps closed files (and the configuration files) in step.
Settings come from ``initializationOptions`` and ``workspace/configuration`` (see
:mod:`pitfalls.lsp.settings`); ``pitfalls/refreshLiveSchema`` re-reads the schema sources.
"""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
import uuid
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.uris import from_fs_path

from pitfalls.lsp import actions, pull, scanning
from pitfalls.lsp.session import DocState, PitfallsServer, fs_path
from pitfalls.lsp.settings import CONFIG_SECTION, settings_dict
from pitfalls.lsp.text import DocumentStore, encoding_name
from pitfalls.project.config import CONFIG_FILES
from pitfalls.project.dependencies import DEPENDENCY_FILE_PATTERNS, is_dependency_file
from pitfalls.project.environment import WATCHED_PATTERNS, is_environment_file
from pitfalls.project.gitignore import IGNORE_FILE
from pitfalls.project.discovery import SOURCE_SUFFIXES
from pitfalls.sources.directus import SNAPSHOT_SUFFIXES

log = logging.getLogger("pitfalls.server")

REFRESH_SCHEMA_REQUEST = "pitfalls/refreshLiveSchema"


def _serve_pulls(server: PitfallsServer) -> None:
    """``textDocument/diagnostic`` and ``workspace/diagnostic``, for a client that pulls. A
    client that does not (or, like the VS Code extension, keeps push so that its middleware
    sees every diagnostic) is never told the server could: it would pull as well, and show
    each finding twice."""

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, pull.OPTIONS)
    async def document_diagnostic(ls: PitfallsServer, params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        return await pull.document_report(ls, params)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls: PitfallsServer, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        return await pull.workspace_report(ls, params)


def create_server() -> PitfallsServer:
    server = PitfallsServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: PitfallsServer, params: types.InitializeParams) -> None:
        ls.workspace.__class__ = DocumentStore  # LSP lines, offset-based incremental changes
        ls.encoding = encoding_name(ls.workspace.position_encoding)
        caps = params.capabilities
        ls.supports_config = bool(get_capability(caps, "workspace.configuration", False))
        ls.supports_progress = bool(get_capability(caps, "window.work_done_progress", False))
        ls.supports_watch = bool(get_capability(caps, "workspace.did_change_watched_files.dynamic_registration", False))
        ls.pull = get_capability(caps, "text_document.diagnostic", None) is not None
        ls.refresh_support = ls.pull and bool(get_capability(caps, "workspace.diagnostics.refresh_support", False))
        if ls.pull:
            _serve_pulls(ls)  # registered here, before pygls computes the capabilities: advertised only to pullers
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
            path = fs_path(folder.uri)
            if path is None:
                continue
            root = Path(path)
            project = ls.make_project(root, folder.uri, ls.folder_settings({}))
            if project is not None:
                ls.projects[str(root)] = project
        if params.process_id:
            ls.parent_watch = asyncio.ensure_future(ls.watch_parent(params.process_id))

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
                                        *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES),
                                        *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in DEPENDENCY_FILE_PATTERNS),
                                        *(types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in WATCHED_PATTERNS),
                                        *(types.FileSystemWatcher(glob_pattern=f"**/*{suffix}") for suffix in SNAPSHOT_SUFFIXES),
                                        types.FileSystemWatcher(glob_pattern=f"**/{IGNORE_FILE}"),
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
                project = ls.remake(root, raw)
                if project is not None:
                    ls.replace(root, project)
        await ls.scan(*ls.projects.values())

    @server.feature(REFRESH_SCHEMA_REQUEST)
    async def refresh_live_schema(ls: PitfallsServer, params: Any) -> list[dict[str, Any]]:
        """Re-read every project's schema sources now; say what each configuration has."""
        out = []
        for project in list(ls.projects.values()):
            if not project.has_schema_sources:
                continue
            loaded = await ls.refresh_schemas(project)
            for config, each in loaded.by_config.items():
                schemas = each.schemas
                out.append({
                    "root": str(config.root),
                    "directus": schemas.directus.source if schemas.directus else None,
                    "database": schemas.database.source if schemas.database else None,
                    "warnings": each.warnings,
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
        path = fs_path(item.uri)
        if path is not None:
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
            if ls.document(params.text_document.uri) is None:
                ls.client_mistake(f"a change to {params.text_document.uri}, which is not open")
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
        if state.path is not None and project is not None and project.workspace.is_source(state.path):
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
        snapshots: set[str] = set()
        came_or_went = False
        for change in params.changes:
            path = fs_path(change.uri)
            if path is None:
                continue
            if path.endswith(SNAPSHOT_SUFFIXES):
                snapshots.add(os.path.normpath(path))
            name = os.path.basename(path)
            # What a configuration's settings are read from: its file, the dependency files,
            # and the files defining environment variables (PF701); and git's ignore files,
            # which decide what its check covers.
            if name in CONFIG_FILES or name == IGNORE_FILE or is_dependency_file(name) or is_environment_file(path):
                folder = Path(os.path.dirname(path))
                for root in ls.projects:
                    # A file its folder's configuration is looked for in, or a service's inside it.
                    if Path(root).is_relative_to(folder) or folder.is_relative_to(root):
                        reload[root] = None
                continue
            if path.endswith(SOURCE_SUFFIXES):
                came_or_went |= change.type != types.FileChangeType.Changed
                if path not in ls.open_paths:
                    changed_sources.append(path)
        if reload:
            settings = await ls.pull_configuration() if ls.supports_config else {r: ls.folder_settings({}) for r in ls.projects}
            remade = []
            for root in reload:
                project = ls.remake(root, settings.get(root, {}))
                if project is None:
                    continue
                ls.replace(root, project)  # always re-scan: the file's settings may have changed
                remade.append(project)
            await ls.scan(*remade)
        if snapshots:
            await ls.snapshots_changed(snapshots, skip=set(reload))
        scanning.disk_changed(ls, changed_sources)
        if came_or_went:
            await scanning.disk_answers_changed(ls, skip=set(reload))

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_workspace_folders(ls: PitfallsServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for folder in params.event.removed or []:
            path = fs_path(folder.uri)
            if path is None:
                continue
            project = ls.projects.pop(str(Path(path)), None)
            if project is None:
                continue
            for closed in list(ls.closed_published):
                if project.contains(closed) and ls.project_for(closed) is not project:
                    ls.publish_closed(closed, [])
        added = []
        settings = await ls.pull_configuration() if ls.supports_config else {}
        for folder in params.event.added or []:
            path = fs_path(folder.uri)
            if path is None:
                continue
            root = Path(path)
            project = ls.make_project(root, folder.uri, settings.get(str(root), ls.folder_settings({})))
            if project is not None:
                ls.projects[str(root)] = project
                added.append(project)
        await ls.scan(*added)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND], resolve_provider=False),
    )
    async def code_action(ls: PitfallsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        try:
            return await actions.code_actions(ls, params)
        except Exception as exc:
            ls.log_error(f"code actions failed: {type(exc).__name__}: {exc}", traceback.format_exc())
            return None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: PitfallsServer, params: types.HoverParams) -> types.Hover | None:
        try:
            return actions.hover(ls, params)
        except Exception as exc:
            ls.log_error(f"hover failed: {type(exc).__name__}: {exc}", traceback.format_exc())
            return None

    return server
