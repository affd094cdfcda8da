"""The long fuzz campaign of issue 17: hostile input through the real CLI and the real server.

    .venv/bin/python bench/fuzz.py [--shared ../shared] [--seed 17] [--files 10000] [--edits 2000]
        [--batch 200] [--timeout 300] [--request-timeout 60] [--results DIR] [--quick]

Not a test: too slow for CI. It prints counts and exits 1 when anything went wrong.

1. CLI: ``--files`` mutated copies of real files (the ``.py`` files of the projects in
   ``../shared/ecosystem/*.tar.xz``), each mutated one to three times, seeded: lines deleted,
   duplicated, swapped, re-indented; characters and tokens deleted or inserted; brackets and
   operators; truncation; form feeds, tabs, a BOM, NUL, CR and CRLF mixes; bytes that are
   not UTF-8; coding cookies (known, unknown, odd codecs); very long lines; nesting a few
   hundred levels deep (brackets, ``not``, unary minus, attribute chains, blocks); long
   operator chains; thousands of concatenated strings. They go through
   ``python -m pitfalls check --output-format json --no-cache`` in batches (one temporary
   project and one process per ``--batch`` files, ``--timeout`` seconds each). A batch that
   crashes (exit not 0 or 1, a signal, output that is not JSON), hangs or writes a traceback
   is bisected down to the files that do it, which are saved in ``--results``.
   Each file is also compiled in this process with CPython's ``compile()``: a file CPython
   refuses without a PF000, or a PF000 on a file CPython compiles, is a disagreement; a
   PF000 that names a limit (nesting, size) on a file CPython compiles is counted apart as
   a limit refusal.
2. Server: ``--edits`` random incremental ``didChange`` edits (out-of-range and reversed
   ranges among them) on three documents opened in a copy of the smallest ecosystem
   project, through ``python -m pitfalls server`` over stdio (a client the server pushes
   diagnostics to), with hover and code-action requests in between. Counted: the server dying, requests
   not answered within ``--request-timeout``, error responses, tracebacks on its stderr,
   error messages it sends; and, at four checkpoints, each document's diagnostics against
   ``pitfalls check --stdin-filename`` on the same text.

``--quick`` is a smoke run (300 files, 200 edits). Examples of every failure are written to
``--results`` (default: a folder in the temporary directory, printed at the end).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

CLI = [sys.executable, "-m", "pitfalls", "check", "--output-format", "json", "--no-cache"]
SERVER = [sys.executable, "-m", "pitfalls", "server"]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
# A PF000 that refuses a file CPython compiles, and says so: pitfalls' own bounds (nesting,
# size) and what libcst cannot parse. Never a syntax verdict.
LIMIT = re.compile(r"^not checked: ")
EXAMPLES = 5  # files saved and printed per kind of disagreement


# ---------------------------------------------------------------------------------------
# The corpus and its mutations (bytes in, bytes out)


def unpack(shared: Path, work: Path) -> dict[str, Path]:
    projects = {}
    for archive in sorted((shared / "ecosystem").glob("*.tar.xz")):
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        projects[archive.name.removesuffix(".tar.xz")] = work / archive.name.removesuffix(".tar.xz")
    return projects


def corpus(projects: dict[str, Path]) -> list[tuple[str, bytes]]:
    """(project/path, bytes) of every non-empty .py file, in a stable order."""
    files = []
    for name, folder in projects.items():
        for path in sorted(folder.rglob("*.py")):
            data = path.read_bytes()
            if data.strip():
                files.append((f"{name}/{path.relative_to(folder)}", data))
    return files


TOKENS = [b"if ", b"else", b"elif ", b"def ", b"class ", b"lambda", b"lambda x: ", b"yield ", b"await ", b"async ",
          b"return ", b"import ", b"from ", b"with ", b"try:", b"except", b"finally:", b"global x", b"nonlocal x",
          b"match x:", b"case _:", b"pass", b"break", b"continue", b"del ", b"assert ", b"raise ", b"in ", b"not ",
          b"is ", b"and ", b"or ", b"None", b"True", b"...", b"*", b"**", b"@", b":=", b"->", b"=", b"==", b",", b":",
          b";", b".", b"'", b'"', b'"""', b"'''", b"f'", b"rb'", b"#", b"\\", b"\\\n", b"0x", b"1e", b"1_", b"$", b"?",
          b"!", b"`", b"print(", b"x[", b"{x}"]
BRACKETS_OPERATORS = [b"(", b")", b"[", b"]", b"{", b"}", b"+", b"-", b"*", b"/", b"//", b"%", b"**", b"<<", b">>",
                      b"&", b"|", b"^", b"~", b"<", b">", b"<=", b">=", b"!=", b"==", b"=", b"+=", b"->", b":=", b"@"]
CHARACTERS = [b" ", b"x", b"_", b"1", b"(", b")", b":", b"'", b'"', b"#", b"\n", b"\t", b".", b",", b"\\",
              "é".encode(), "😀".encode(), "\u2028".encode(), "\u00a0".encode(), "ℌ".encode()]
ODD_BYTES = [b"\x0c", b"\t", b"\xef\xbb\xbf", b"\x00", b"\r", b"\r\n", b"\x0b", b"\x1a", b"\x7f"]
CODECS = [b"latin-1", b"utf-8", b"ascii", b"cp1252", b"utf-16", b"utf-8-sig", b"punycode", b"idna", b"euc-jp",
          b"rot13", b"hex", b"no-such-codec", b"uTf_8", b"iso-8859-15"]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _at_line_start(rnd: Any, data: bytes, chunk: bytes) -> bytes:
    """``chunk`` as a statement: at the end of the file, or before a line with its indentation
    (so the file stays valid when the mutation alone is hostile, not broken)."""
    if rnd.random() < 0.5:
        return data + (b"" if data.endswith(b"\n") else b"\n") + chunk + b"\n"
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip(b" \t"))]
    return b"".join(lines[:i]) + indent + chunk + b"\n" + b"".join(lines[i:])


def _at_random(rnd: Any, data: bytes, chunk: bytes) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + chunk + data[at:]


def delete_line(rnd: Any, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rnd.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(rnd: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    lines.insert(rnd.randrange(len(lines) + 1), lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n")
    return b"".join(lines)


def swap_lines(rnd: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def delete_characters(rnd: Any, data: bytes) -> bytes:
    at = rnd.randrange(len(data) + 1)
    return data[:at] + data[at + rnd.randint(1, 8):]


def insert_characters(rnd: Any, data: bytes) -> bytes:
    return _at_random(rnd, data, b"".join(rnd.choice(CHARACTERS) for _ in range(rnd.randint(1, 4))))


def insert_token(rnd: Any, data: bytes) -> bytes:
    return _at_random(rnd, data, rnd.choice(TOKENS))


def insert_brackets_operators(rnd: Any, data: bytes) -> bytes:
    return _at_random(rnd, data, b"".join(rnd.choice(BRACKETS_OPERATORS) for _ in range(rnd.randint(1, 12))))


def truncate(rnd: Any, data: bytes) -> bytes:
    return data[: rnd.randrange(len(data) + 1)]


def reindent(rnd: Any, data: bytes) -> bytes:
    lines = _lines(data)
    i = rnd.randrange(len(lines))
    body = lines[i].lstrip(b" \t")
    lines[i] = rnd.choice([b"", b" ", b"  ", b"\t", b" \t", b"\t ", b"        ", b"     ", b" " * rnd.randint(1, 40)]) + body
    return b"".join(lines)


def odd_whitespace(rnd: Any, data: bytes) -> bytes:
    chunk = rnd.choice(ODD_BYTES)
    if rnd.random() < 0.5:  # inside the indentation, where it matters most
        lines = _lines(data)
        i = rnd.randrange(len(lines))
        cut = rnd.randint(0, len(lines[i]) - len(lines[i].lstrip(b" \t")))
        lines[i] = lines[i][:cut] + chunk + lines[i][cut:]
        return b"".join(lines)
    return _at_random(rnd, data, chunk)


def mix_newlines(rnd: Any, data: bytes) -> bytes:
    share = rnd.random()
    parts = data.split(b"\n")
    return b"".join(p + (rnd.choice([b"\r\n", b"\r"]) if rnd.random() < share else b"\n") for p in parts[:-1]) + parts[-1]


def not_utf8(rnd: Any, data: bytes) -> bytes:
    return _at_random(rnd, data, bytes(rnd.randint(0x80, 0xFF) for _ in range(rnd.randint(1, 3))))


def coding_cookie(rnd: Any, data: bytes) -> bytes:
    cookie = rnd.choice([b"# -*- coding: %s -*-\n", b"# coding=%s\n", b"# vim: set fileencoding=%s :\n"]) % rnd.choice(CODECS)
    head = rnd.choice([b"", b"#!/usr/bin/env python\n", b"\xef\xbb\xbf", b"\n", b"x = 1\n"])
    return head + cookie + data


def long_line(rnd: Any, data: bytes) -> bytes:
    n = rnd.choice([1_000, 5_000, 20_000, 100_000, 300_000])
    chunk = rnd.choice([
        b"s = '" + b"a" * n + b"'",
        b"# " + b"x" * n,
        b"t = (" + b"x, " * (n // 3) + b")",
        b"u = " + b"'" * 3 + b"b" * n + b"'" * 3,
        b"v = '" + b"a" * n,  # unterminated as well
    ])
    return _at_line_start(rnd, data, chunk)


def deep_nesting(rnd: Any, data: bytes) -> bytes:
    n = rnd.choice([50, 99, 100, 101, 199, 200, 201, 300, 499, 500, 501, 700, 1000])
    opener, closer = rnd.choice([(b"(", b")"), (b"[", b"]"), (b"{", b"}"), (b"f(", b")")])
    pick = rnd.randrange(9)
    if pick == 0:
        chunk = b"x = " + opener * n + b"1" + closer * n
    elif pick == 1:  # spread over short lines
        chunk = b"x = " + (opener + b"\n") * n + b"1" + (b"\n" + closer) * n
    elif pick == 2:
        chunk = b"x = " + b"not " * n + b"y"
    elif pick == 3:
        chunk = b"x = " + rnd.choice([b"-", b"+", b"~", b"- "]) * n + b"1"
    elif pick == 4:
        chunk = b"x = a" + b".b" * (n * rnd.choice([1, 10]))
    elif pick == 5:  # blocks: CPython stops at 100 indentation levels
        depth = min(n, rnd.choice([20, 99, 100, 101, 150]))
        chunk = b"".join(b" " * i + b"if x:\n" for i in range(depth)) + b" " * depth + b"pass"
    elif pick == 6:
        chunk = b"x = " + b"lambda: " * n + b"1"
    elif pick == 7:
        chunk = b"x = " + opener * n + b"1" + closer * (n - rnd.randint(1, 3))  # unbalanced
    else:
        chunk = b"x = " + b"[" * (n // 2) + b"(" * (n // 2) + b"1" + b")" * (n // 2) + b"]" * (n // 2)
    return _at_line_start(rnd, data, chunk)


def operator_chain(rnd: Any, data: bytes) -> bytes:
    n = rnd.choice([100, 490, 500, 1_000, 2_000, 5_000])
    op = rnd.choice([b" + ", b"+", b" * ", b" and ", b" or ", b" | ", b" < ", b" == ", b" if x else ", b", "])
    chunk = b"x = 1" + (op + b"1") * n
    if rnd.random() < 0.2:
        chunk += b" +"  # and a syntax error at the end of it
    return _at_line_start(rnd, data, chunk)


def string_concatenation(rnd: Any, data: bytes) -> bytes:
    n = rnd.choice([100, 1_000, 4_000, 10_000])
    piece = rnd.choice([b"'a' ", b'"b"\n    ', b"f'{x}' ", b"'a' + "])
    chunk = b"x = (" + piece * n + b"'end')"
    return _at_line_start(rnd, data, chunk)


MUTATIONS: list[tuple[Callable[[Any, bytes], bytes], int]] = [
    (delete_line, 6), (duplicate_line, 5), (swap_lines, 5), (delete_characters, 8), (insert_characters, 8),
    (insert_token, 8), (insert_brackets_operators, 6), (truncate, 4), (reindent, 6), (odd_whitespace, 6),
    (mix_newlines, 3), (not_utf8, 3), (coding_cookie, 3), (long_line, 2), (deep_nesting, 4), (operator_chain, 3),
    (string_concatenation, 2),
]


def mutate(rnd: Any, data: bytes) -> tuple[bytes, list[str]]:
    names = []
    for _ in range(rnd.choice([1, 1, 2, 2, 3])):
        fn = rnd.choices([m for m, _ in MUTATIONS], weights=[w for _, w in MUTATIONS])[0]
        data = fn(rnd, data)
        names.append(fn.__name__)
    return data, names


def cpython_verdict(data: bytes, filename: str) -> str | None:
    """None when CPython compiles the file, else why it refuses it.

    ``python file.py`` (and every CPython from 3.12) also refuses bytes invalid in the
    declared encoding anywhere, comments included; 3.11's ``compile`` of bytes skips the
    bytes of a comment, which ``import`` then accepts. pitfalls follows the stricter rule."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
        compile(data, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, LookupError, UnicodeError) as exc:
        return f"{type(exc).__name__}: {getattr(exc, 'msg', None) or exc}"
    return None


# ---------------------------------------------------------------------------------------
# Part 1: the CLI


@dataclass
class Mutant:
    name: str  # file name in its batch folder
    origin: str
    mutations: list[str]
    refused: str | None  # CPython's verdict


@dataclass
class Run:
    problems: set[str]  # "crash", "hang", "traceback"
    pf000: dict[str, list[str]]  # file -> PF000 messages
    detail: str


@dataclass
class CliTally:
    files: int = 0
    refused: int = 0  # files compile() refuses
    runs: int = 0
    problems: Counter = field(default_factory=Counter)
    unreproduced: int = 0  # failing runs whose files all pass alone
    agree: int = 0
    limits: list[tuple[Mutant, str]] = field(default_factory=list)  # PF000 naming a limit, CPython compiles
    skipped: int = 0  # files of a crash, hang or traceback: nothing to compare
    missed: list[tuple[Mutant, str]] = field(default_factory=list)  # CPython refuses, no PF000
    extra: list[tuple[Mutant, str]] = field(default_factory=list)  # PF000, CPython compiles
    culprits: list[str] = field(default_factory=list)


def run_cli(folder: Path, names: list[str], timeout: float) -> Run:
    proc = subprocess.Popen(
        [*CLI, *names], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=ENV, start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its workers: its own process group
        proc.communicate()
        return Run({"hang"}, {}, f"no answer within {timeout:g} s")
    stderr = err.decode("utf-8", "replace")
    problems = {"traceback"} if "Traceback" in stderr else set()
    detail = f"exit {proc.returncode}\n{stderr[-4000:]}"
    if proc.returncode not in (0, 1):
        return Run(problems | {"crash"}, {}, detail)
    try:
        items = json.loads(out)
    except ValueError:
        return Run(problems | {"crash"}, {}, f"output is not JSON: {out[:300]!r}\n{detail}")
    pf000: dict[str, list[str]] = {name: [] for name in names}
    for item in items:
        if item["code"] == "PF000":
            pf000.setdefault(item["filename"], []).append(item["message"])
    return Run(problems, pf000, detail)


def check_batch(folder: Path, names: list[str], args: argparse.Namespace, tally: CliTally,
                mutants: dict[str, Mutant], results: Path) -> dict[str, list[str]]:
    """PF000 messages per file; a failing run is split in halves until the files that fail
    alone are found (saved in ``results``; they get no entry)."""
    timeout = max(60.0, args.timeout * len(names) / args.batch)
    tally.runs += 1
    run = run_cli(folder, names, timeout)
    if not run.problems:
        return run.pf000
    if len(names) == 1:
        m = mutants[names[0]]
        for kind in sorted(run.problems):
            tally.problems[kind] += 1
        tag = f"{'-'.join(sorted(run.problems))}-{len(tally.culprits) + 1}"
        shutil.copyfile(folder / m.name, results / f"{tag}.py")
        (results / f"{tag}.txt").write_text(f"from {m.origin}, mutations {m.mutations}\n{run.detail}\n", encoding="utf-8")
        tally.culprits.append(f"{tag}: {m.origin} {m.mutations}: {run.detail.strip().splitlines()[-1][:160]}")
        return {}
    found = len(tally.culprits)
    half = len(names) // 2
    pf000 = check_batch(folder, names[:half], args, tally, mutants, results)
    pf000 |= check_batch(folder, names[half:], args, tally, mutants, results)
    if len(tally.culprits) == found:  # no single file does it: the batch as a whole did
        tally.unreproduced += 1
        last = run.detail.strip().splitlines()[-1][:160]
        tally.culprits.append(f"{folder.name} ({len(names)} files, {'/'.join(sorted(run.problems))}, no single culprit): {last}")
    return pf000


def compare(tally: CliTally, m: Mutant, messages: list[str]) -> None:
    if m.refused is not None and messages:
        tally.agree += 1
    elif m.refused is None and not messages:
        tally.agree += 1
    elif m.refused is None and all(LIMIT.search(msg) for msg in messages):
        tally.limits.append((m, messages[0]))
    elif m.refused is not None:
        tally.missed.append((m, m.refused))
    else:
        tally.extra.append((m, messages[0]))


def cli_campaign(corpus_files: list[tuple[str, bytes]], args: argparse.Namespace, work: Path, results: Path) -> CliTally:
    rnd = random.Random(args.seed)
    tally = CliTally()
    batches = (args.files + args.batch - 1) // args.batch
    for b in range(batches):
        folder = work / f"batch-{b:04d}"
        folder.mkdir()
        (folder / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
        mutants: dict[str, Mutant] = {}
        for i in range(min(args.batch, args.files - b * args.batch)):
            origin, data = rnd.choice(corpus_files)
            data, names = mutate(rnd, data)
            name = f"f{b * args.batch + i:05d}.py"
            (folder / name).write_bytes(data)
            mutants[name] = Mutant(name, origin, names, cpython_verdict(data, name))
        pf000 = check_batch(folder, list(mutants), args, tally, mutants, results)
        tally.files += len(mutants)
        tally.refused += sum(m.refused is not None for m in mutants.values())
        for name, m in mutants.items():
            if name in pf000:
                compare(tally, m, pf000[name])
            else:
                tally.skipped += 1
        for kind, items in (("missed", tally.missed), ("extra", tally.extra)):
            for m, _ in items[:EXAMPLES]:
                if (folder / m.name).exists():
                    shutil.copyfile(folder / m.name, results / f"pf000-{kind}-{m.name}")
        shutil.rmtree(folder)
        print(f"  batch {b + 1}/{batches}: {tally.files} files, {sum(tally.problems.values())} failing, "
              f"{len(tally.missed)} missed, {len(tally.extra)} extra PF000 so far", flush=True)
    return tally


def normalise(message: str) -> str:
    """A message with its numbers and quoted names blanked, to group alike ones."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'", "'…'", message))[:110]


def print_cli(tally: CliTally) -> None:
    print(f"\nCLI: {tally.files} files in {tally.runs} runs")
    for line in tally.culprits:
        print(f"  ! {line}")
    for items, what in ((tally.missed, "CPython refuses, no PF000"), (tally.extra, "PF000, CPython compiles"),
                        (tally.limits, "limit refusals (CPython compiles; not a failure)")):
        print(f"  {what}: {len(items)}")
        groups = Counter(normalise(msg) for _, msg in items)
        for message, count in groups.most_common(8):
            m = next(m for m, msg in items if normalise(msg) == message)
            print(f"    {count:>5}  {message}   e.g. {m.name} ({m.origin}; {', '.join(m.mutations)})")


# ---------------------------------------------------------------------------------------
# Part 2: the server


LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
STATEMENTS = ["import requests\n", "requests.get(u)\n", "requests.post(u, data=d)\n", "x = item.dict()\n",
              "def half(:\n", "class M(BaseModel):\n    a: int\n", "z = (1,\n", "\n", "if x:\n    requests.get(u)\n",
              "s = 'é😀'; requests.get(s)  # noqa: PF103\n", "t = '''\n", "return 1\n", "\f\n", "\tx = 1\n",
              "x = " + "(" * 300 + "1" + ")" * 300 + "\n", "x = " + "not " * 600 + "y\n", "x = 1" + "+1" * 600 + "\n",
              "x = a" + ".b" * 2000 + "\n", "s = (" + "'a' " * 2000 + ")\n", "y = '" + "a" * 5000 + "'\n"]
FINDINGS = """
import requests
from pydantic import BaseModel


class FuzzItem(BaseModel):
    name: str


def fuzz_fetch(u, item: FuzzItem):
    requests.get(u)
    requests.post(u, data=item.dict())
    return item.dict()
"""  # appended to each document: rules have something to find while the text parses
TYPED = ["(", ")", "[", "]", ":", " ", "é", "😀", "x", "#", "'", '"', "\n", "\r\n", "\r", "\t", "\f", ".", "    ",
         "\\", "\ufeff", "\x00", "\u2028", "requests.get(u)", "lambda", "await ", "**"]


def lsp_lines(text: str) -> list[str]:
    return LINE_WITH_END.findall(text) or [""]


def utf16(s: str) -> int:
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def position(text: str, offset: int) -> types.Position:
    line = len(re.findall(r"\r\n|\r|\n", text[:offset]))
    start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    return types.Position(line=line, character=utf16(text[start:offset]))


def offset(text: str, pos: types.Position) -> int:
    """Offset of an LSP position, clamped as the spec says (past a line's end: its end; past
    the last line: the end of the text; inside a character: after it)."""
    lines = lsp_lines(text)
    if pos.line >= len(lines):
        return len(text)
    before = sum(len(line) for line in lines[: pos.line])
    line = lines[pos.line].rstrip("\r\n")
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return before + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return before + len(line)


def apply(text: str, where: types.Range, new: str) -> str:
    start, end = sorted((offset(text, where.start), offset(text, where.end)))  # reversed: as the server does
    return text[:start] + new + text[end:]


def random_edit(rnd: Any, text: str) -> tuple[types.Range, str]:
    roll = rnd.random()
    at = rnd.randrange(len(text) + 1)
    if roll < 0.04:  # past the end of the text or of a line
        far = types.Position(line=rnd.choice([10**6, len(lsp_lines(text))]), character=rnd.choice([0, 10**6]))
        near = position(text, at)
        odd = types.Position(line=near.line, character=near.character + rnd.randint(1, 10**5))
        return types.Range(start=rnd.choice([far, odd, near]), end=rnd.choice([far, odd])), rnd.choice(TYPED)
    if roll < 0.07:  # reversed
        end = min(len(text), at + rnd.randint(1, 20))
        return types.Range(start=position(text, end), end=position(text, at)), rnd.choice(["", *TYPED])
    if roll < 0.40:
        starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
        where = position(text, rnd.choice(starts))
        return types.Range(start=where, end=where), rnd.choice(STATEMENTS)
    if roll < 0.55:  # a line deleted
        lines = lsp_lines(text)
        i = rnd.randrange(len(lines))
        return types.Range(start=types.Position(line=i, character=0), end=types.Position(line=i + 1, character=0)), ""
    if roll < 0.85:
        where = position(text, at)
        return types.Range(start=where, end=where), rnd.choice(TYPED)
    end = min(len(text), at + rnd.randint(1, 12))
    return types.Range(start=position(text, at), end=position(text, end)), ""


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


class Client(LanguageClient):
    """Records publications, error messages and progress; answers the server's requests."""

    def __init__(self) -> None:
        super().__init__("pitfalls-fuzz", "1")
        self.published: dict[str, list[types.PublishDiagnosticsParams]] = {}
        self.last_publication = time.monotonic()
        self.errors: list[str] = []
        self.scans_ended = 0

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params)
            self.last_publication = time.monotonic()

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            if isinstance(params.value, dict) and params.value.get("kind") == "end":
                self.scans_ended += 1

        @self.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            return None

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [None for _ in params.items]

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            if params.type == types.MessageType.Error:
                self.errors.append(f"logMessage: {params.message}")

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def show_message(params: types.ShowMessageParams) -> None:
            if params.type == types.MessageType.Error or "Error in server" in params.message:
                self.errors.append(f"showMessage: {params.message}")


@dataclass
class ServerTally:
    edits: int = 0
    requests: int = 0
    crashed: str = ""
    hangs: list[str] = field(default_factory=list)
    request_errors: list[str] = field(default_factory=list)
    tracebacks: int = 0
    errors: list[str] = field(default_factory=list)  # error messages the server sent
    stderr_tail: list[str] = field(default_factory=list)
    comparisons: int = 0
    compared_findings: int = 0  # diagnostics in the comparisons: they are not all empty
    mismatches: list[str] = field(default_factory=list)


async def read_stderr(stream: asyncio.StreamReader, tally: ServerTally) -> None:
    """Counts tracebacks; the stream is read to the end, a full pipe would block the server."""
    while line := await stream.readline():
        text = line.decode("utf-8", "replace").rstrip()
        if "Traceback" in text:
            tally.tracebacks += 1
        tally.stderr_tail = (tally.stderr_tail + [text])[-40:]


def as_cli(text: str, diagnostics: list[types.Diagnostic]) -> list[tuple[str, int, int]]:
    """(code, 1-based line, 1-based code-point column) of each diagnostic, as the CLI's JSON has them."""
    lines = lsp_lines(text)
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


def cli_on(root: Path, rel: str, text: str) -> list[tuple[str, int, int]] | str:
    proc = subprocess.run(
        [*CLI, "--stdin-filename", rel], cwd=root, input=text.encode("utf-8", "surrogatepass"),
        capture_output=True, timeout=300, env=ENV,
    )
    if proc.returncode not in (0, 1):
        return f"CLI exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[-300:]}"
    return sorted((d["code"], d["location"]["row"], d["location"]["column"]) for d in json.loads(proc.stdout))


class Fuzzer:
    def __init__(self, client: Client, root: Path, docs: dict[str, str], args: argparse.Namespace,
                 tally: ServerTally, results: Path) -> None:
        self.client, self.root, self.args, self.tally, self.results = client, root, args, tally, results
        self.originals = dict(docs)  # rel -> text on disk
        self.texts = {from_fs_path(str(root / rel)): text for rel, text in docs.items()}
        self.rels = {from_fs_path(str(root / rel)): rel for rel in docs}
        self.versions = {uri: 1 for uri in self.texts}

    def alive(self) -> bool:
        server = self.client._server
        if server is not None and server.returncode is not None and not self.tally.crashed:
            self.tally.crashed = f"the server exited with {server.returncode}"
        return not self.tally.crashed

    def change(self, uri: str, changes: list[types.TextDocumentContentChangeEvent]) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=changes,
        ))

    def restore(self, uri: str, text: str) -> None:
        """Back to an earlier text, in one edit over the whole document."""
        old = self.texts[uri]
        whole = types.Range(start=types.Position(line=0, character=0), end=position(old, len(old)))
        self.texts[uri] = text
        self.change(uri, [types.TextDocumentContentChangePartial(range=whole, text=text)])

    async def request(self, what: str, coro: Any) -> Any:
        self.tally.requests += 1
        try:
            return await asyncio.wait_for(coro, self.args.request_timeout)
        except asyncio.TimeoutError:
            self.tally.hangs.append(f"{what}: no answer within {self.args.request_timeout:.0f} s")
        except Exception as exc:  # an error response: the server failed on it
            self.tally.request_errors.append(f"{what}: {type(exc).__name__}: {str(exc)[:200]}")
        return None

    async def requests(self, rnd: Any, uri: str) -> None:
        text = self.texts[uri]
        at = position(text, rnd.randrange(len(text) + 1))
        if rnd.random() < 0.1:
            at = types.Position(line=rnd.choice([at.line, 10**6]), character=rnd.choice([at.character + 10**5, 0]))
        doc = types.TextDocumentIdentifier(uri=uri)
        await self.request("hover", self.client.text_document_hover_async(types.HoverParams(text_document=doc, position=at)))
        latest = self.client.published.get(uri, [])
        diagnostics = list(latest[-1].diagnostics) if latest else []
        where = rnd.choice([d.range for d in diagnostics] or [types.Range(start=at, end=at)]) if rnd.random() < 0.7 \
            else types.Range(start=at, end=at)
        await self.request("codeAction", self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=doc, range=where, context=types.CodeActionContext(diagnostics=diagnostics[:5]))))

    async def settled(self, uri: str) -> list[types.Diagnostic] | None:
        """The diagnostics the server publishes for the current text, once it is quiet."""
        deadline = time.monotonic() + self.args.request_timeout
        while time.monotonic() < deadline and self.alive():
            latest = self.client.published.get(uri, [])
            if latest and latest[-1].version == self.versions[uri] and time.monotonic() - self.client.last_publication > 1:
                return list(latest[-1].diagnostics)
            await asyncio.sleep(0.05)
        if self.alive():
            self.tally.hangs.append(f"no diagnostics for {self.rels[uri]} version {self.versions[uri]}")
        return None

    async def checkpoint(self, label: str) -> None:
        """Each document's diagnostics against the CLI's for the same text, the other
        documents' texts on disk (the compared one's disk copy stays stale, as in an editor)."""
        server_side = {uri: await self.settled(uri) for uri in self.texts}
        for uri, diagnostics in server_side.items():
            if diagnostics is None:
                continue
            for other, rel in self.rels.items():
                disk = self.originals[rel] if other == uri else self.texts[other]
                (self.root / rel).write_bytes(disk.encode("utf-8", "surrogatepass"))
            expected = cli_on(self.root, self.rels[uri], self.texts[uri])
            got = as_cli(self.texts[uri], diagnostics)
            self.tally.comparisons += 1
            self.tally.compared_findings += len(got)
            if got != expected:
                n = len(self.tally.mismatches) + 1
                (self.results / f"server-mismatch-{n}.py").write_bytes(self.texts[uri].encode("utf-8", "surrogatepass"))
                if isinstance(expected, str):
                    self.tally.mismatches.append(f"{label} {self.rels[uri]}: {expected}")
                else:
                    only_server, only_cli = sorted(set(got) - set(expected)), sorted(set(expected) - set(got))
                    self.tally.mismatches.append(f"{label} {self.rels[uri]} (server-mismatch-{n}.py): "
                                                 f"server only {only_server[:4]}, CLI only {only_cli[:4]}")

    async def run(self, rnd: Any) -> None:
        for uri, text in self.texts.items():
            self.client.text_document_did_open(types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        good = dict(self.texts)
        broken_for = dict.fromkeys(self.texts, 0)
        checkpoints = {self.args.edits * k // 4 for k in (1, 2, 3, 4)}
        for n in range(1, self.args.edits + 1):
            if not self.alive():
                return
            uri = rnd.choice(list(self.texts))
            roll = rnd.random()
            if roll < 0.03:  # the whole text at once
                self.texts[uri] = self.texts[uri] + "# whole\n"
                self.change(uri, [types.TextDocumentContentChangeWholeDocument(text=self.texts[uri])])
            else:  # one to three incremental changes, each applying to the previous one's result
                changes: list[types.TextDocumentContentChangeEvent] = []
                for _ in range(rnd.choice([1, 1, 1, 2, 3])):
                    where, new = random_edit(rnd, self.texts[uri])
                    self.texts[uri] = apply(self.texts[uri], where, new)
                    changes.append(types.TextDocumentContentChangePartial(range=where, text=new))
                self.change(uri, changes)
            self.tally.edits += 1
            if parses(self.texts[uri]) and len(self.texts[uri]) < 200_000:
                good[uri], broken_for[uri] = self.texts[uri], 0
            else:
                broken_for[uri] += 1
                if broken_for[uri] > rnd.randint(1, 10):
                    self.restore(uri, good[uri])
                    broken_for[uri] = 0
            if rnd.random() < 0.01:  # saved: on disk too
                (self.root / self.rels[uri]).write_bytes(self.texts[uri].encode("utf-8", "surrogatepass"))
                self.client.text_document_did_save(types.DidSaveTextDocumentParams(
                    text_document=types.TextDocumentIdentifier(uri=uri)))
            if n % 10 == 0:
                await asyncio.sleep(rnd.choice([0, 0.01, 0.05]))  # let some checks run on intermediate texts
            if rnd.random() < 0.1:
                await self.requests(rnd, uri)
            if n in checkpoints:
                for doc in self.texts:  # half of the documents compared as they parsed last: rules' findings too
                    if rnd.random() < 0.5:
                        self.restore(doc, good[doc])
                        broken_for[doc] = 0
                await self.checkpoint(f"after {n} edits:")
                print(f"  {n}/{self.args.edits} edits, {len(self.tally.mismatches)} mismatches so far", flush=True)


def pick_project(projects: dict[str, Path]) -> Path:
    """The smallest project with a few Python files: the start-up scan stays short."""
    sizes = {name: len(list(folder.rglob("*.py"))) for name, folder in projects.items()}
    return projects[min((n for n in sizes if sizes[n] >= 3), key=lambda n: (sizes[n], n))]


async def server_campaign(projects: dict[str, Path], args: argparse.Namespace, work: Path, results: Path) -> ServerTally:
    rnd = random.Random(args.seed)
    tally = ServerTally()
    source = pick_project(projects)
    root = work / "server" / source.name
    shutil.copytree(source, root, symlinks=True)
    if not (root / "pyproject.toml").exists():
        (root / "pyproject.toml").write_text("[tool.pitfalls]\n", encoding="utf-8")
    # Copies of three real files at the root: nothing imports them, so one document's edits
    # do not change another's findings (the CLI sees the others on disk, not in buffers).
    candidates = sorted(p for p in root.rglob("*.py") if 200 < p.stat().st_size < 30_000)
    chosen = rnd.sample(candidates, min(3, len(candidates)))
    docs = {}
    for i, path in enumerate(chosen):
        docs[f"fuzz_doc_{i}.py"] = path.read_text(encoding="utf-8", errors="replace").rstrip("\n") + "\n\n" + FINDINGS
        (root / f"fuzz_doc_{i}.py").write_text(docs[f"fuzz_doc_{i}.py"], encoding="utf-8")
    print(f"\nserver: {source.name}, documents copied from {', '.join(str(p.relative_to(root)) for p in chosen)}",
          flush=True)
    client = Client()
    await client.start_io(*SERVER, cwd=str(work), env=ENV)  # never started inside the workspace
    assert client._server is not None and client._server.stderr is not None
    stderr = asyncio.ensure_future(read_stderr(client._server.stderr, tally))
    fuzzer = Fuzzer(client, root, docs, args, tally, results)
    try:
        caps = types.ClientCapabilities(
            window=types.WindowClientCapabilities(work_done_progress=True),
            workspace=types.WorkspaceClientCapabilities(configuration=True),
            text_document=types.TextDocumentClientCapabilities(
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True),
            ),
        )
        uri = from_fs_path(str(root))
        await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            capabilities=caps, process_id=os.getpid(), root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name=root.name)],
        )), args.request_timeout)
        client.initialized(types.InitializedParams())
        deadline = time.monotonic() + 300
        while client.scans_ended < 1 and time.monotonic() < deadline and fuzzer.alive():
            await asyncio.sleep(0.05)
        await fuzzer.run(rnd)
        if fuzzer.alive():
            try:
                await asyncio.wait_for(client.shutdown_async(None), args.request_timeout)
                client.exit(None)
                code = await asyncio.wait_for(client._server.wait(), 30)
                if code != 0:
                    tally.crashed = f"the server exited with {code} after shutdown and exit"
            except asyncio.TimeoutError:
                tally.hangs.append("shutdown or exit not answered")
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await asyncio.wait_for(stderr, 10)
        await client.stop()
        tally.errors = client.errors
    return tally


def print_server(tally: ServerTally) -> None:
    print(f"\nserver: {tally.edits} edits, {tally.requests} requests, {tally.comparisons} comparisons with the CLI")
    if tally.crashed:
        print(f"  ! crashed: {tally.crashed}")
        for line in tally.stderr_tail[-15:]:
            print(f"    | {line}")
    for what, items in (("hang", tally.hangs), ("request error", tally.request_errors),
                        ("error message", tally.errors),
                        ("mismatch", tally.mismatches)):
        for item in items[:EXAMPLES]:
            print(f"  ! {what}: {item[:300]}")
        if len(items) > EXAMPLES:
            print(f"  ! ... and {len(items) - EXAMPLES} more")


# ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--files", type=int, default=10_000, help="mutated files through the CLI")
    parser.add_argument("--edits", type=int, default=2_000, help="random edits through the server")
    parser.add_argument("--batch", type=int, default=200, help="files per CLI run")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per batch of --batch files")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="seconds for the server to answer")
    parser.add_argument("--results", type=Path, help="where failing files go (default: in the temporary folder)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 files, 200 edits")
    args = parser.parse_args()
    if args.quick:
        args.files, args.edits = 300, 200
    if not (args.shared / "ecosystem").is_dir():
        sys.exit(f"fuzz: no {args.shared / 'ecosystem'} (pass --shared)")
    results = args.results or Path(tempfile.gettempdir()) / f"pitfalls-fuzz-{args.seed}"
    results.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pitfalls-fuzz-") as tmp:
        work = Path(tmp)
        projects = unpack(args.shared, work / "ecosystem")
        files = corpus(projects)
        print(f"fuzz: seed {args.seed}, {len(files)} real files from {len(projects)} projects; "
              f"{args.files} mutated files through the CLI, {args.edits} edits through the server", flush=True)
        cli = cli_campaign(files, args, work, results) if args.files else CliTally()
        print_cli(cli)
        cli_time = time.monotonic() - started
        server = asyncio.run(server_campaign(projects, args, work, results)) if args.edits else ServerTally()
        print_server(server)
    rows = [
        ("CLI files", cli.files), ("  of which compile() refuses", cli.refused), ("CLI crashes", cli.problems["crash"]), ("CLI hangs", cli.problems["hang"]),
        ("CLI tracebacks", cli.problems["traceback"]),
        ("CLI failures without a single culprit", cli.unreproduced),
        ("PF000 agrees with compile()", cli.agree), ("PF000 missing (CPython refuses)", len(cli.missed)),
        ("PF000 wrong (CPython compiles)", len(cli.extra)), ("limit refusals", len(cli.limits)),
        ("files not compared (their run failed)", cli.skipped),
        ("server edits", server.edits), ("server requests", server.requests),
        ("server crashes", int(bool(server.crashed))), ("server hangs", len(server.hangs)),
        ("server error responses", len(server.request_errors)), ("server tracebacks", server.tracebacks),
        ("server error messages", len(server.errors)),
        ("server vs CLI comparisons", server.comparisons),
        ("  diagnostics compared", server.compared_findings), ("server vs CLI mismatches", len(server.mismatches)),
    ]
    print("\nsummary")
    for label, value in rows:
        print(f"  {label:<40} {value:>7}")
    total = time.monotonic() - started
    print(f"  {'time':<40} {total:>6.0f}s (CLI {cli_time:.0f} s, server {total - cli_time:.0f} s)")
    print(f"  failing files and examples in {results}")
    failed = (sum(cli.problems.values()) + cli.unreproduced + len(cli.missed) + len(cli.extra)
              + bool(server.crashed) + len(server.hangs) + len(server.request_errors) + server.tracebacks
              + len(server.errors) + len(server.mismatches))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
