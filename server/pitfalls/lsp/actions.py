"""Code actions and hover: what the editor offers on a diagnostic or a ``# noqa`` code.

- A ``quickfix`` per fixable diagnostic, ``# noqa: PFnnn`` for any (on the line
  :meth:`pitfalls.core.noqa.NoqaComments.insertion` says its comment goes), and
  ``source.fixAll.pitfalls``: every safe fix, re-checked until nothing changes
  (:meth:`pitfalls.project.workspace.Workspace.fix_all`, what ``pitfalls check --fix`` does).
- Hover over a ``# noqa`` code or a diagnosed range shows the rule's documentation.

Actions are only offered for the text their diagnostic was made for (its digest).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument

from pitfalls.core.diagnostics import Applicability
from pitfalls.core.noqa import NoqaComments, code_spans
from pitfalls.lsp.convert import SOURCE, diff_edits, fix_edits, noqa_edit
from pitfalls.lsp.project import fix_all
from pitfalls.lsp.session import PitfallsServer, fs_path
from pitfalls.lsp.text import Text, digest, encoding_name
from pitfalls.project.files import read_source
from pitfalls.rules import RULES_BY_CODE

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.pitfalls"


def current(ls: PitfallsServer, uri: str) -> tuple[TextDocument | None, Text | None]:
    doc = ls.document(uri)
    if doc is None:
        path = fs_path(uri)
        if path is None:
            return None, None
        text, failure = read_source(path)
        if text is None or failure is not None:
            return None, None
        return None, Text(text, ls.encoding)
    return doc, Text(doc.source, ls.encoding)


def diagnostic_data(ls: PitfallsServer, uri: str, diagnostic: types.Diagnostic, text_digest: str) -> dict[str, Any] | None:
    """What a code action needs of a diagnostic: its ``data``, or the server's copy of it
    (clients without ``dataSupport``); None when it was made for other text."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else None
    if data is None:
        state = ls.docs.get(uri)
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


def workspace_edit(ls: PitfallsServer, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    if ls.document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                    edits=edits,
                )
            ]
        )
    return types.WorkspaceEdit(changes={uri: edits})



async def code_actions(ls: PitfallsServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    doc, text = current(ls, uri)
    if text is None:
        return None
    version = doc.version if doc is not None else None
    text_digest = digest(text.source)
    comments = NoqaComments(text.source)
    only = [encoding_name(k) for k in params.context.only] if params.context.only else None
    actions: list[types.CodeAction] = []
    quickfix = _wants(only, types.CodeActionKind.QuickFix.value)
    safe_fixes = 0
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        data = diagnostic_data(ls, uri, diagnostic, text_digest)
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
                        edit=workspace_edit(ls, uri, version, fix_edits(fix, text)),
                    )
                )
        if quickfix and diagnostic.code != "PF000":
            edit = noqa_edit(text, comments, int(data.get("line") or diagnostic.range.start.line + 1), diagnostic.code)
            if edit is not None:
                actions.append(
                    types.CodeAction(
                        title=f"Disable {diagnostic.code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        is_preferred=False,
                        edit=workspace_edit(ls, uri, version, [edit]),
                    )
                )
    if (only is not None and _wants(only, FIX_ALL_KIND)) or (only is None and safe_fixes):
        path = fs_path(uri)
        project = ls.project_for(path)
        if project is not None:
            await project.indexed.wait()
        fixed = await ls.run_editor(fix_all, project, path, text.source)
        _, now = current(ls, uri)
        if fixed != text.source and now is not None and now.source == text.source:
            actions.append(
                types.CodeAction(
                    title="pitfalls: fix all safe fixes",
                    kind=FIX_ALL_KIND,
                    edit=workspace_edit(ls, uri, version, diff_edits(text, fixed)),
                )
            )
    return actions


def hover(ls: PitfallsServer, params: types.HoverParams) -> types.Hover | None:
    uri = params.text_document.uri
    _, text = current(ls, uri)
    if text is None:
        return None
    line, column = text.locate(params.position)
    for start, end, code in code_spans(text.line(line)):
        if start <= column <= end and code in RULES_BY_CODE:
            return _hover_result(ls, [code], text.range((line + 1, start), (line + 1, end)))
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


def _wants(only: list[str] | None, kind: str) -> bool:
    if not only:
        return True
    return any(kind == k or kind.startswith(f"{k}.") for k in only)


def _markdown_doc(codes: Iterable[str]) -> str:
    docs = []
    for code in dict.fromkeys(codes):
        rule = RULES_BY_CODE.get(code)
        if rule is not None:
            docs.append(rule.doc())
    return "\n---\n\n".join(docs)
