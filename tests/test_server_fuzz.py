"""1,000 seeded random edits through the real server: it stays alive, and what it last
publishes is what `pitfalls check` reports for the same text on disk."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from test_server import APP, _lines, session, write

pytestmark = pytest.mark.asyncio

SEED = 20240611
EDITS = 1000

STATEMENTS = [
    "import requests\n",
    "requests.get(u)\n",
    "requests.post(u, data=d)\n",
    "requests.get(u, timeout=5)\n",
    "x = item.dict()\n",
    "def f{n}(item: Item):\n    return item.dict()\n",
    "class M{n}(BaseModel):\n    a: int\n",
    "y{n} = M{n}(a=1).json()\n",
    "def half(:\n",
    "s = 'é😀'; requests.get(s)  # noqa: PF103\n",
    "requests.get(u)  # noqa: E501\n",
    "z = (1,\n",
    "\n",
    "if x:\n    requests.get(u)\n",
    "async def h{n}():\n    return requests.get(u)\n",
    "from pydantic import BaseModel\n",
    "t = '''\nrequests.get(u)\n'''\n",
    "w = '😀😀'  # comment with é\n",
]
CHARACTERS = ["(", ")", ":", " ", "é", "😀", "x", "#", "'", "\n", "\t", ".", "    ", "requests.get(u)"]


def position(text: str, offset: int) -> types.Position:
    """LSP position (UTF-16 columns) of a code-point offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return types.Position(line=line, character=len(text[start:offset].encode("utf-16-le")) // 2)


def line_offsets(text: str) -> list[int]:
    return [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]


def random_edit(rnd: random.Random, text: str, n: int) -> tuple[types.Range, str]:
    starts = line_offsets(text)
    roll = rnd.random()
    if roll < 0.02:  # out of range: the end of the text, as the spec clamps it
        far = types.Position(line=10**6, character=rnd.choice([0, 10**6]))
        return types.Range(start=far, end=far), rnd.choice(STATEMENTS).format(n=n)
    if roll < 0.45:  # a statement inserted at the start of a line
        at = rnd.choice(starts)
        return types.Range(start=position(text, at), end=position(text, at)), rnd.choice(STATEMENTS).format(n=n)
    if roll < 0.70 and len(starts) > 2:  # a line deleted
        i = rnd.randrange(len(starts) - 1)
        return types.Range(start=position(text, starts[i]), end=position(text, starts[i + 1])), ""
    at = rnd.randrange(len(text) + 1)
    if roll < 0.85 or not text:  # a character typed
        return types.Range(start=position(text, at), end=position(text, at)), rnd.choice(CHARACTERS)
    end = min(len(text), at + rnd.randint(1, 3))  # a few characters deleted
    return types.Range(start=position(text, at), end=position(text, end)), ""


def undo(text: str, good: str) -> types.TextEdit:
    """One edit turning ``text`` back into ``good`` (the span between their common ends)."""
    head = 0
    while head < min(len(text), len(good)) and text[head] == good[head]:
        head += 1
    tail = 0
    while tail < min(len(text), len(good)) - head and text[-1 - tail] == good[-1 - tail]:
        tail += 1
    where = types.Range(start=position(text, head), end=position(text, len(text) - tail))
    return types.TextEdit(range=where, new_text=good[head : len(good) - tail])


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


def cli_findings(root: Path, rel: str, text: str) -> list[tuple[str, int, int]]:
    (root / rel).write_text(text, encoding="utf-8", newline="")
    proc = subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", "--no-cache", "--output-format", "json", rel],
        cwd=root, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((d["code"], d["location"]["row"], d["location"]["column"]) for d in json.loads(proc.stdout))


def lsp_findings(text: str, diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int]]:
    """(code, 1-based line, 1-based code-point column), as the CLI's JSON has them."""
    lines = _lines(text)
    out = []
    for d in diagnostics:
        line = lines[d.range.start.line].rstrip("\r\n") if d.range.start.line < len(lines) else ""
        units, column = 0, 0
        for column, ch in enumerate(line + "\0"):
            if units >= d.range.start.character:
                break
            units += 2 if ord(ch) > 0xFFFF else 1
        out.append((str(d.code), d.range.start.line + 1, column + 1))
    return sorted(out)


async def test_a_thousand_random_edits(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    write(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": APP})
    async with session(tmp_path) as s:
        opened = len(s.published)
        uri = s.open("app.py")
        await s.diagnostics(uri, version=1)
        checkpoints = {EDITS // 3, 2 * EDITS // 3}
        good, broken_for = s.texts[uri], 0
        compared = 0
        for n in range(1, EDITS + 1):
            changes = [random_edit(rnd, s.texts[uri], n) for _ in range(rnd.choice([1, 1, 1, 2, 3]))]
            if rnd.random() < 0.05:  # now and then the whole text at once
                s.texts[uri] += "# whole\n"
                s.versions[uri] += 1
                s.client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=s.versions[uri]),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=s.texts[uri])],
                ))
            for where, new in changes[:-1]:  # several changes: sent one by one, as they apply
                s.change(uri, [types.TextEdit(range=where, new_text=new)])
            s.change(uri, [types.TextEdit(range=changes[-1][0], new_text=changes[-1][1])])
            if _parses(s.texts[uri]):
                good, broken_for = s.texts[uri], 0
            else:
                broken_for += 1
                if broken_for > rnd.randint(1, 8):  # undo back to the last text that parsed
                    s.change(uri, [undo(s.texts[uri], good)])
                    good, broken_for = s.texts[uri], 0
            if n % 10 == 0:
                await asyncio.sleep(0.01)  # let some checks run on intermediate texts
            if n % 100 == 0:  # requests in the middle of it all, at random places
                at = position(s.texts[uri], rnd.randrange(len(s.texts[uri]) + 1))
                await s.hover(uri, at)
                await s.actions(uri, list(s.latest(uri).diagnostics), at=types.Range(start=at, end=at))  # type: ignore[union-attr]
            if n in checkpoints:
                final = await s.diagnostics(uri, version=s.versions[uri])
                expected = cli_findings(tmp_path, "app.py", s.texts[uri])
                assert lsp_findings(s.texts[uri], final) == expected
                assert expected  # the undo keeps the text parsing most of the time
                compared += 1

        # The text as the edits left it (whatever state that is)...
        last = await s.diagnostics(uri, version=s.versions[uri])
        assert lsp_findings(s.texts[uri], last) == cli_findings(tmp_path, "app.py", s.texts[uri])

        # ...then keep the longest prefix that parses and add the original code again, so the last
        # comparison has rules' findings to compare (a user pasting over a broken tail).
        text = s.texts[uri]
        starts = line_offsets(text) + [len(text)]
        keep = next(k for k in range(len(starts) - 1, -1, -1) if _parses(text[: starts[k]]))
        tail = types.Range(start=position(text, starts[keep]), end=position(text, len(text)))
        s.change(uri, [types.TextEdit(range=tail, new_text="\n" + APP)])
        ast.parse(s.texts[uri])
        last = await s.diagnostics(uri, version=s.versions[uri])
        expected = cli_findings(tmp_path, "app.py", s.texts[uri])
        assert lsp_findings(s.texts[uri], last) == expected
        assert {c for c, _, _ in expected} >= {"PF103", "PF401"}
        assert compared == 2 and s.versions[uri] > EDITS
        versions = [p.version for p in s.published[opened:] if p.uri == uri]
        assert None not in versions and versions == sorted(versions)  # never an older version after a newer one
