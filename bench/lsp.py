"""Benchmark the language server through a real LSP client over stdio.

    .venv/bin/python bench/lsp.py [--lines 2000] [--edits 50] [--rounds 1] [--modules 1000] [--cycle-edits 20]
        [--ecosystem NAME [--shared DIR] [--edit-file PATH]] [--baseline DIR] [--keep]

1. Latency: in a fresh temporary project, opens a generated file of ``--lines`` lines (about
   one finding every 12 lines: pydantic v1 calls, HTTP calls without a timeout), then sends
   ``--edits`` single-character edits one after the other, each as a `didChange`, and times
   each from sending it to the `publishDiagnostics` for that version. Prints p50/p95 (targets
   p50 <= 30 ms, p95 <= 50 ms) and the number of findings each time (they must not change). Then the
   same as a client that pulls (VS Code does): didChange -> the answer to the
   `textDocument/diagnostic` sent right after it. With ``--rounds N`` each of the two is
   measured N times, each time with a fresh server, and the lowest p50 and p95 of the
   rounds are printed last (this machine's speed drifts from one minute to the next).
   Then, once and with no target, the same code as the methods of one class: edits inside
   a long class (services run to thousands of lines), and in its last statement (where
   code is added to a class).
2. Memory: starts a fresh server on a generated project of ``--modules`` modules (models
   that import each other's base classes, routes using them: cross-file findings), opens
   module 0 right away (an editor restoring its tabs), waits for the start-up scan's
   `$/progress` end and prints the server's RSS (target <= 200 MB), its peak RSS, the
   scan's wall time, the findings published and when module 0's first diagnostics came
   (no target). Then ``--cycle-edits`` times it adds or removes an import of module 7
   (which imports module 0) in module 0: didChange -> the publication showing or dropping
   PF301 (target p95 <= 100 ms).
3. With ``--ecosystem NAME`` (e.g. dispatch, unpacked from ``SHARED/ecosystem/NAME.tar.xz``):
   a server on a fresh copy of that project (no cache), its file of median size opened
   right away: when that file's diagnostics came and when the scan of every file ended
   (no target). Then real code: on another fresh copy, its largest file (or
   ``--edit-file``) open, ``--edits`` edits typing ``0 or `` before the value of an
   assignment in a function body (spread over the file), each timed from didChange to the
   publication of its version (no target).

With ``--baseline DIR`` (a folder holding another `pitfalls` package, as for `bench/cli.py`),
each measurement is made with that code's server too, right after this tree's, and both
are printed: on a machine whose speed drifts, figures from separate runs do not compare.

Nothing is written outside the temporary folders (removed unless ``--keep``). The numbers
depend on the machine: its CPU, core count and load average are printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli import median_file  # noqa: E402
from ecosystem import unpack  # noqa: E402

TARGET_P50_MS = 30.0
TARGET_P95_MS = 50.0
TARGET_CYCLE_P95_MS = 100.0
TARGET_RSS_MB = 200.0
SERVER = [sys.executable, "-m", "pitfalls", "server"]


# ---------------------------------------------------------------------------------------
# Generated code


def big_file(lines: int) -> str:
    out = ["import requests", "from pydantic import BaseModel", "", ""]
    i = 0
    while len(out) < lines:
        i += 1
        kind = i % 4
        if kind == 0:
            out += [f"class Model{i}(BaseModel):", "    name: str", f"    value: int = {i}", "", "",
                    f"def use_{i}(m: Model{i}):", "    return m.dict()", "", ""]
        elif kind == 1:
            out += [f"def fetch_{i}(url):", "    return requests.get(url)", "", ""]
        elif kind == 2:
            out += [f"def compute_{i}(a, b):", f"    total = a + b * {i}", f"    for k in range({i}):",
                    "        total += k", "    return total", "", ""]
        else:
            out += [f"async def handler_{i}(x):", f"    data = {{'a': x, 'b': {i}}}", "    return data", "", ""]
    return "\n".join(out[:lines]) + "\n"


def big_class(lines: int) -> str:
    """:func:`big_file`'s code as one class's body (services of thousands of lines are
    common): every edit is inside the class."""
    text = big_file(lines - 3)
    imports = "import requests\nfrom pydantic import BaseModel\n\n\n"
    body = text.removeprefix(imports).splitlines(keepends=True)
    return imports + "class Big:\n" + "".join("    " + line if line.strip() else line for line in body)


def project_module(i: int) -> str:
    """Module i: a model deriving from an earlier module's, a route using it, an HTTP call."""
    parts = ["import requests", "from pydantic import BaseModel"]
    base = "BaseModel"
    if i > 0:
        j = (i * 7) % i
        parts.append(f"from app.models.m{j:04d} import Model{j}")
        base = f"Model{j}"
    parts += [
        "",
        "",
        f"class Model{i}({base}):",
        f"    field_{i}: int = {i}",
        "    label: str = ''",
        "",
        "",
        f"def build_{i}(data: dict) -> Model{i}:",
        f"    return Model{i}(**data)",
        "",
        "",
        f"def export_{i}(item: Model{i}) -> dict:",
        "    return item.dict()" if i % 3 == 0 else "    return item.model_dump()",
        "",
        "",
        f"def notify_{i}(url: str) -> int:",
        "    return requests.post(url, json={}, timeout=5).status_code" if i % 5 else "    return requests.post(url, json={}).status_code",
        "",
        "",
        f"class Helper{i}:",
        "    def __init__(self, values):",
        "        self.values = list(values)",
        "",
        "    def total(self):",
        "        return sum(v * 2 for v in self.values if v > 0)",
        "",
        "    def describe(self):",
        "        return ', '.join(str(v) for v in self.values)",
        "",
    ]
    return "\n".join(parts) + "\n"


def write_project(root: Path, modules: int) -> None:
    (root / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    models = root / "app" / "models"
    models.mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (models / "__init__.py").write_text("", encoding="utf-8")
    for i in range(modules):
        (models / f"m{i:04d}.py").write_text(project_module(i), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# The client


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("pitfalls-bench", "1")
        self.published: dict[str, list[tuple[float, types.PublishDiagnosticsParams]]] = {}
        self.waiters: list[tuple[Any, asyncio.Future]] = []
        self.scans_ended = 0
        self.findings = 0

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            now = time.perf_counter()
            self.published.setdefault(params.uri, []).append((now, params))
            if params.version is None:
                self.findings += len(params.diagnostics)
            self._wake()

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            if isinstance(params.value, dict) and params.value.get("kind") == "end":
                self.scans_ended += 1
                self._wake()

        @self.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            return None

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [None for _ in params.items]

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            if params.type == types.MessageType.Error:
                print(f"server error: {params.message}", file=sys.stderr)

    def _wake(self) -> None:
        for condition, future in list(self.waiters):
            if not future.done() and condition():
                future.set_result(True)

    async def until(self, condition: Any, timeout: float = 600.0) -> None:
        if condition():
            return
        future = asyncio.get_running_loop().create_future()
        self.waiters.append((condition, future))
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self.waiters.remove((condition, future))

    def version_published(self, uri: str, version: int) -> float | None:
        for when, params in self.published.get(uri, []):
            if params.version == version:
                return when
        return None


async def forward_stderr(stream: asyncio.StreamReader) -> None:
    """The server's log lines, passed on (unread, a full pipe would block the server)."""
    while line := await stream.readline():
        sys.stderr.buffer.write(line)


async def start(root: Path, pull: bool = False, env: dict[str, str] | None = None) -> Client:
    client = Client()
    await client.start_io(*SERVER, env=env)
    assert client._server is not None and client._server.stderr is not None
    client.stderr_task = asyncio.ensure_future(forward_stderr(client._server.stderr))  # type: ignore[attr-defined]
    caps = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(configuration=True),
        text_document=types.TextDocumentClientCapabilities(
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
            diagnostic=types.DiagnosticClientCapabilities() if pull else None,
        ),
    )
    uri = from_fs_path(str(root))
    await client.initialize_async(
        types.InitializeParams(
            capabilities=caps, process_id=os.getpid(), root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name=root.name)],
        )
    )
    client.initialized(types.InitializedParams())
    return client


async def stop(client: Client) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    if client._server is not None:
        await asyncio.wait_for(client._server.wait(), 30)
    client.stderr_task.cancel()  # type: ignore[attr-defined]
    await client.stop()


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process, in MB (Linux /proc)."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# ---------------------------------------------------------------------------------------
# The two measurements


async def diagnosed(client: Client, uri: str, version: int, pull: bool) -> tuple[float, int]:
    """When the diagnostics of ``version`` arrived, and how many: pushed, or the answer to
    a pull sent now (right after the change, as VS Code sends it)."""
    if pull:
        report = await asyncio.wait_for(client.text_document_diagnostic_async(
            types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))), 60)
        return time.perf_counter(), len(report.items)
    await client.until(lambda: client.version_published(uri, version) is not None, timeout=60)
    return client.version_published(uri, version) or 0.0, len(client.published[uri][-1][1].diagnostics)


@dataclass
class Version:
    """A pitfalls to measure: this tree's (``env`` None), or a baseline's, first on PYTHONPATH;
    ``label`` names it in the output when there are two."""

    name: str
    env: dict[str, str] | None = None
    label: str = ""


@dataclass
class Latency:
    p50: float
    p95: float
    ok: bool  # the targets met and the findings steady


async def latency(
    work: Path, lines: int, edits: int, code: Version, pull: bool = False, round_: int = 0, in_class: bool = False,
    at_end: bool = False,
) -> Latency:
    kind = "pull-latency" if pull else "class-end-latency" if at_end else "class-latency" if in_class else "latency"
    root = work / f"{kind}-{code.name}-{round_}"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    text = big_class(lines) if in_class else big_file(lines)
    # (At the end of the class: into the field name of its last statement, a nested model.)
    field = "        name" if at_end else "        value: int = " if in_class else "    value: int = "
    client = await start(root, pull, code.env)
    try:
        await client.until(lambda: client.scans_ended >= 1)
        uri = from_fs_path(str(root / "big.py"))
        t0 = time.perf_counter()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
        )
        arrived, baseline = await diagnosed(client, uri, 1, pull)
        first = arrived - t0
        # Single characters typed into the integer literals of the models' fields.
        targets = [i for i, line in enumerate(text.splitlines()) if line.startswith(field)]
        targets = targets[-1:] if at_end else targets
        times: list[float] = []
        counts: set[int] = set()
        # This client's collector would pause it while it reads an answer (it keeps every
        # publication, thousands of objects): what is timed is the server, not that pause.
        gc.collect()
        gc.disable()
        for n in range(edits):
            line = targets[n % len(targets)]
            at = types.Position(line=line, character=len(field))
            version = n + 2
            sent = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="1")],
                )
            )
            arrived, count = await diagnosed(client, uri, version, pull)
            times.append(arrived - sent)
            counts.add(count)
    finally:
        gc.enable()
        await stop(client)
    ms = sorted(t * 1000 for t in times)
    p50, p95 = percentiles(ms)
    ok = p95 <= TARGET_P95_MS and p50 <= TARGET_P50_MS
    figures = f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, min {ms[0]:.0f} ms, max {ms[-1]:.0f} ms"
    if in_class:
        where = "in the last statement of a class" if at_end else "in a class"
        print(f"latency {where}{code.label}: the same code as one class's methods, {baseline} findings")
        there = "there" if at_end else "inside the class"
        print(f"  {edits} single-character edits {there}, didChange -> publishDiagnostics of that version:")
        print(f"  {figures} (no target: the targets are the file's above)")
        ok = True
    else:
        if pull:
            print(f"pull latency{code.label}: the same, pulled; first diagnostics after didOpen {first * 1000:.0f} ms")
            print(f"  {edits} single-character edits, didChange -> the answer to textDocument/diagnostic:")
        else:
            print(f"latency{code.label}: {lines}-line file, {baseline} findings; first diagnostics after didOpen {first * 1000:.0f} ms")
            print(f"  {edits} single-character edits, didChange -> publishDiagnostics of that version:")
        print(f"  {figures} (targets p50 <= {TARGET_P50_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms: {'met' if ok else 'NOT met'})")
    if counts != {baseline}:
        print(f"  findings changed during the edits: {sorted(counts)} (expected {baseline})")
        ok = False
    return Latency(p50, p95, ok)


async def memory(work: Path, modules: int, cycle_edits: int, version: Version) -> bool:
    root = work / f"project-{version.name}"
    root.mkdir()
    write_project(root, modules)
    source_lines = sum(p.read_text(encoding="utf-8").count("\n") for p in root.rglob("*.py"))
    t0 = time.perf_counter()
    client = await start(root, env=version.env)
    try:
        uri, opened, ended, first = await open_at_start(client, root / "app" / "models" / "m0000.py")  # module 7 imports it
        scanned = ended - t0
        await asyncio.sleep(0.5)  # let the closed files' diagnostics arrive
        assert client._server is not None
        rss, peak = rss_mb(client._server.pid)
        files_with_findings = sum(1 for items in client.published.values() if items[-1][1].diagnostics)
        findings = client.findings
        cycle_ms = await cycle_updates(client, uri, cycle_edits)
    finally:
        await stop(client)
    ok = rss <= TARGET_RSS_MB
    print(f"memory{version.label}: {modules}-module project ({source_lines} lines), start-up scan done in {scanned:.1f} s "
          f"(server start included), {findings} findings in {files_with_findings} files published; a module open "
          f"from the start had its diagnostics {first - opened:.1f} s after didOpen")
    print(f"  server RSS after the scan {rss:.0f} MB (peak {peak:.0f} MB) "
          f"(target <= {TARGET_RSS_MB:.0f} MB: {'met' if ok else 'NOT met'})")
    if cycle_ms is None:
        print("  import-cycle update: the cycle was not reported")
        return False
    p50, p95 = percentiles(cycle_ms)
    met = p95 <= TARGET_CYCLE_P95_MS
    print(f"  import-cycle update: {cycle_edits} edits adding or removing an import that closes a cycle, didChange -> "
          f"publishDiagnostics with PF301 shown or gone: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
          f"(target p95 <= {TARGET_CYCLE_P95_MS:.0f} ms: {'met' if met else 'NOT met'})")
    return ok and met


def open_file(client: Client, path: Path) -> str:
    """Open ``path`` as version 1; its URI."""
    uri = from_fs_path(str(path))
    text = path.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    return uri


async def open_at_start(client: Client, path: Path) -> tuple[str, float, float, float]:
    """Open ``path`` as the scan starts (as an editor restores its tabs), wait for the scan's
    end and for the file's first diagnostics: its URI, and when it was opened, when the scan
    ended and when those diagnostics came (``time.perf_counter()``)."""
    uri = open_file(client, path)
    opened = time.perf_counter()
    await client.until(lambda: client.scans_ended >= 1)
    ended = time.perf_counter()
    await client.until(lambda: client.version_published(uri, 1) is not None, timeout=60)
    return uri, opened, ended, client.version_published(uri, 1) or opened


async def cycle_updates(client: Client, uri: str, edits: int) -> list[float] | None:
    """In module 0 (open), alternately add and remove an import of module 7 as its first
    line: each closes or opens an import cycle. The times from each didChange to the
    publication of that version, or None when PF301 did not follow."""
    line = "from app.models.m0007 import Model7\n"
    start = types.Position(line=0, character=0)
    times = []
    for n in range(edits):
        version = n + 2
        adding = n % 2 == 0
        end = start if adding else types.Position(line=1, character=0)
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangePartial(
                    range=types.Range(start=start, end=end), text=line if adding else "")],
            )
        )
        await client.until(lambda v=version: client.version_published(uri, v) is not None, timeout=60)
        times.append(((client.version_published(uri, version) or sent) - sent) * 1000)
        shown = any(d.code == "PF301" for d in client.published[uri][-1][1].diagnostics)
        if shown != adding:
            return None
    return times


async def start_up(work: Path, project: Path, version: Version) -> None:
    """A server on a fresh copy of ``project`` (no cache), its file of median size opened
    right away (an editor restoring its tabs): when that file's diagnostics came, and when
    the scan of every file ended; then the same again, a second server finding the cache
    the first one wrote (the editor opened again on the same project)."""
    root = work / f"{project.name}-{version.name}"
    shutil.copytree(project, root, symlinks=True)
    path = median_file(sorted(root.rglob("*.py")))
    for start_kind in ("", ", again (the first one's cache)"):
        client = await start(root, env=version.env)
        try:
            _, opened, ended, first = await open_at_start(client, path)
        finally:
            await stop(client)
        print(f"start-up on {project.name}{version.label}{start_kind}: {path.relative_to(root)}, open from the start, had its "
              f"diagnostics {first - opened:.1f} s after didOpen; the scan of every file ended after {ended - opened:.1f} s (no target)")


def assignment_edits(text: str, wanted: int) -> list[int]:
    """Up to ``wanted`` lines of ``text``, spread over it, that assign in a function body
    (indented ``name = value``) and still compile with ``0 or `` typed before the value."""
    lines = text.splitlines(keepends=True)
    found = []
    for i, line in enumerate(lines):
        if not re.match(r"^ {4,}\w+ = \S", line):
            continue
        at = line.index("=") + 2
        try:
            compile("".join([*lines[:i], line[:at] + "0 or " + line[at:], *lines[i + 1:]]), "", "exec")
        except (SyntaxError, ValueError):
            continue
        found.append(i)
    step = max(1, len(found) // wanted)
    return found[::step][:wanted]


async def real_edits(work: Path, project: Path, edits: int, version: Version, edited: str | None = None) -> None:
    """A server on a fresh copy of ``project`` with its largest file (or ``edited``) open;
    once the scan has ended, ``edits`` edits typing ``0 or `` before the value of an
    assignment in a function body, spread over the file: didChange -> publishDiagnostics
    of that version."""
    root = work / f"{project.name}-{version.name}-edits"
    shutil.copytree(project, root, symlinks=True)
    path = root / edited if edited else max(sorted(root.rglob("*.py")), key=lambda p: p.stat().st_size)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    client = await start(root, env=version.env)
    times: list[float] = []
    try:
        uri, _, _, _ = await open_at_start(client, path)
        baseline = len(client.published[uri][-1][1].diagnostics)
        gc.collect()
        gc.disable()  # see latency()
        for n, line in enumerate(assignment_edits(text, edits)):
            version_number = n + 2
            at = types.Position(line=line, character=lines[line].index("=") + 2)
            sent = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version_number),
                    content_changes=[
                        types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="0 or ")
                    ],
                )
            )
            arrived, _ = await diagnosed(client, uri, version_number, False)
            times.append((arrived - sent) * 1000)
    finally:
        gc.enable()
        await stop(client)
    if not times:
        print(f"edits in {path.relative_to(root)}{version.label}: no assignment in a function body to edit")
        return
    p50, p95 = percentiles(times)
    which = "a file" if edited else "the largest file"
    print(f"edits in {which} of {project.name}{version.label}: {path.relative_to(root)} ({len(lines):,} lines, "
          f"{baseline} findings), {len(times)} edits typing `0 or ` into assignments, didChange -> publishDiagnostics:")
    print(f"  p50 {p50:.0f} ms, p95 {p95:.0f} ms, min {min(times):.0f} ms, max {max(times):.0f} ms (no target: real code, "
          f"not the generated file the targets are for)")


def percentiles(ms: list[float]) -> tuple[float, float]:
    """p50 and p95 (the nearest rank) of ``ms``."""
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, load average {load}; Python {platform.python_version()}, {platform.system()}"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="measure each latency this many times; print the best")
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--cycle-edits", type=int, default=20)
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="a folder holding another pitfalls package, measured side by side")
    parser.add_argument("--ecosystem", metavar="NAME", help="also time a start-up on the ecosystem project NAME (e.g. dispatch)")
    parser.add_argument("--edit-file", metavar="PATH", help="with --ecosystem: the file to edit, relative to the project (default: its largest)")
    parser.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared",
        help="the folder holding ecosystem/NAME.tar.xz (default: ../shared)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.ecosystem is not None and not (args.shared / "ecosystem" / f"{args.ecosystem}.tar.xz").is_file():
        parser.error(f"no {args.shared / 'ecosystem' / args.ecosystem}.tar.xz (pass --shared)")
    if args.edit_file is not None and args.ecosystem is None:
        parser.error("--edit-file: a file of the --ecosystem project")
    versions = [Version("this")]
    if args.baseline is not None:
        if not (args.baseline / "pitfalls" / "__init__.py").is_file():
            parser.error(f"{args.baseline}: holds no pitfalls package")
        pythonpath = str(args.baseline.resolve())
        versions = [Version("this", None, " (this tree)"), Version("baseline", {**os.environ, "PYTHONPATH": pythonpath}, " (baseline)")]
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="pitfalls-bench-lsp-"))
    try:
        ok = True
        project = None
        if args.ecosystem is not None:  # first: a wrong --edit-file is said before the long measurements
            project = unpack(args.shared, work / "unpacked", {args.ecosystem})[args.ecosystem]
            if args.edit_file is not None and not (project / args.edit_file).is_file():
                print(f"bench: --edit-file: no {args.edit_file} in {args.ecosystem}", file=sys.stderr)
                return 2
        for pull in (False, True):
            rounds: dict[str, list[Latency]] = {version.name: [] for version in versions}
            for round_ in range(args.rounds):
                for version in versions:
                    rounds[version.name].append(await latency(work, args.lines, args.edits, version, pull, round_))
            for version in versions:
                measured = rounds[version.name]
                ok = all(m.ok for m in measured) and ok
                if args.rounds > 1:
                    kind = "pull" if pull else "push"
                    print(f"best of {args.rounds} rounds, {kind}{version.label}: p50 {min(m.p50 for m in measured):.0f} ms, "
                          f"p95 {min(m.p95 for m in measured):.0f} ms")
        for at_end in (False, True):
            for version in versions:
                ok = (await latency(work, args.lines, args.edits, version, in_class=True, at_end=at_end)).ok and ok
        for version in versions:
            ok = await memory(work, args.modules, args.cycle_edits, version) and ok
        if project is not None:
            for version in versions:
                await start_up(work, project, version)
            for version in versions:
                await real_edits(work, project, args.edits, version, args.edit_file)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
