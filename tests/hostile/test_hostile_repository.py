"""A checked repository is untrusted: nothing in it runs, whatever it is named."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from pitfalls.core.check import check_text
from pitfalls.core.source import ParseFailure, decode
from pitfalls.rules import ALL_RULES
from sqlalchemy import make_url

from tests.conftest import write_project
from tests.services.postgres import PostgresServer

# Modules pitfalls imports, planted at the repository's root as a trap.
_TRAP = "from pathlib import Path\nPath(__file__).with_name('RAN').write_text('repository code ran')\nraise SystemExit(99)\n"


def test_python_m_pitfalls_never_imports_from_the_checked_repository(tmp_path: Path, cli) -> None:
    repo = write_project(
        tmp_path,
        {
            "pyproject.toml": "[tool.pitfalls]\n",
            "libcst.py": _TRAP,
            "pydantic/__init__.py": _TRAP,
            "app.py": "import requests\n\nrequests.get('http://x')\n",
        },
    )
    proc = cli("check", "app.py", "--no-cache", cwd=repo)
    assert not (repo / "RAN").exists() and not (repo / "pydantic" / "RAN").exists()
    assert proc.returncode == 1, proc.stderr
    assert "app.py:3:1: PF103" in proc.stdout


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Nesting spread over short lines, which libcst's native parser answers with SIGSEGV.
        ("x = " + "(\n" * 1500 + "1" + "\n)" * 1500 + "\n", "too many nested parentheses"),
        ("x = (" + "not\n" * 20000 + "y)\n", "nested too deeply"),
        ("x = (" + "-\n" * 600 + "1)\n", None),  # within CPython's limits: parsed, no crash
    ],
    ids=["brackets", "not", "unary-minus"],
)
def test_deep_nesting_over_short_lines_is_one_pf000_not_a_crash(source: str, message: str | None) -> None:
    outcome = check_text("deep.py", source, list(ALL_RULES), name="deep")
    found = [(d.code, d.message) for d in outcome.diagnostics]
    if message is None:
        assert all(code != "PF000" for code, _ in found), found
    else:
        assert len(found) == 1 and found[0][0] == "PF000" and message in found[0][1], found


# --- issue 17, items 9, 10 and 12: long expressions, slow inputs, PF000 as CPython says ----

_FINDING = "import requests\nrequests.get('u')\n"  # PF103 on line 2: positions are computed


@pytest.mark.parametrize(
    "source",
    [
        _FINDING + "x = " + "+".join(["1"] * 490) + "\n",  # was RecursionError in positions
        _FINDING + "x = " + "-" * 600 + "1\n",
        _FINDING + "x = (" + "+\n".join(["1"] * 900) + ")\n",  # a long chain over short lines
        _FINDING + "x = a" + "[0]" * 900 + "\n",
        _FINDING + "x = (" + "\n".join(['"a"'] * 2900) + ")\n",  # implicit concatenation
        _FINDING + "if (" + " and\n".join(["a"] * 2900) + "):\n    pass\n",  # was quadratic in PF701 (fuzz: minutes)
    ],
    ids=["490-terms", "600-unary", "900-terms-on-lines", "900-subscripts", "2900-strings", "2900-and"],
)
def test_long_valid_expressions_are_checked_not_refused(source: str) -> None:
    outcome = check_text("long.py", source, list(ALL_RULES), name="long")
    assert [(d.code, d.start.line) for d in outcome.diagnostics] == [("PF103", 2)], outcome.diagnostics
    assert outcome.errors == []


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # Python compiles these; pitfalls says it does not analyse them, and why.
        ("x = a" + "[0]" * 2000 + "\n", "not checked: code nested 2,003 levels deep, over the limit of 1,000"),
        ("x = (" + "\n".join(['"a"'] * 4000) + ")\n", "not checked: libcst cannot parse this file, which Python compiles"),
        # CPython refuses these: PF000 with its own message, without libcst's minutes.
        ("x = a" + ".b" * 5000 + "\n", "syntax error: nested too deeply for Python's compiler"),
        ("x = " + "+".join(["1"] * 2000) + " +\n", "syntax error: invalid syntax"),
        ("x = 1\n\ufeffy = 2\n", "syntax error: invalid non-printable character U+FEFF"),
        ("x = " + "(" * 300 + "1" + ")" * 300 + "\n", "syntax error: too many nested parentheses"),
        ("return 1\n", "syntax error: 'return' outside function"),
    ],
    ids=["2000-subscripts", "4000-strings", "5000-attributes", "2000-terms-and-an-error", "bom-mid-file", "300-parens", "return"],
)
def test_pf000_is_what_cpython_says_or_names_the_limit(source: str, message: str) -> None:
    outcome = check_text("x.py", source, list(ALL_RULES), name="x")
    assert [(d.code, d.message) for d in outcome.diagnostics] == [("PF000", message)] or (
        len(outcome.diagnostics) == 1 and outcome.diagnostics[0].message.startswith(message)
    ), outcome.diagnostics


@pytest.mark.parametrize(
    "source",
    ["if True:\n    x = 1\n\x0c    y = 2\n", "if True:\n  \x0c  x = 1\n", "x = 1 \x0c\n"],
    ids=["form-feed-line", "form-feed-in-indent", "form-feed-after-code"],
)
def test_form_feeds_python_accepts_are_not_pf000(source: str) -> None:
    outcome = check_text("ff.py", source, list(ALL_RULES), name="ff")
    assert outcome.diagnostics == [], outcome.diagnostics


@pytest.mark.parametrize(("requires", "found"), [(">=3.14", []), (">=3.10", ["app.py:3:8: PF000 syntax error: multiple exception types must be parenthesized"])])
def test_grammar_newer_than_this_python_is_judged_by_the_projects_python(tmp_path: Path, run_main, requires: str, found: list[str]) -> None:
    """`except A, B:` is Python 3.14 (PEP 758): a project that requires 3.14 is not told
    it has a syntax error by a pitfalls running on an older Python (full-stack-fastapi-template)."""
    if sys.version_info >= (3, 14):
        pytest.skip("this Python knows the grammar")
    source = "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n"
    repo = write_project(tmp_path, {"pyproject.toml": f'[project]\nname = "app"\nrequires-python = "{requires}"\n', "app.py": source})
    code, out, err = run_main("check", "--no-cache", ".", cwd=repo)
    assert [line for line in out.splitlines() if "PF" in line] == found, out + err


def test_fifo_device_link_and_oversized_files_are_never_read(tmp_path: Path, run_main) -> None:
    """A FIFO named *.py blocked the run for ever; a link to /dev/zero read until memory ran
    out; a 5 MB file took minutes and gigabytes. Walked: the first two are skipped; named:
    one PF000 each. The size cap is a setting."""
    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\nmax-file-size = 0.5\n", "app/ok.py": _FINDING})
    os.mkfifo(repo / "app" / "fifo.py")
    os.symlink("/dev/zero", repo / "app" / "zero.py")
    (repo / "app" / "big.py").write_text("x = 1\n" * 100_000)  # 600 kB
    code, out, err = run_main("check", "--no-cache", ".", cwd=repo)
    assert (code, err) == (1, ""), err
    assert out.splitlines()[:2] == [
        "app/big.py:1:1: PF000 not checked: 0.6 MB is over max-file-size (0.5 MB)",
        "app/ok.py:2:1: PF103 `requests.get()` has no timeout: it waits forever when the server does not answer; pass `timeout=`",
    ], out
    code, out, err = run_main("check", "--no-cache", "app/fifo.py", "app/zero.py", cwd=repo)
    assert code == 1 and out.splitlines()[:2] == [
        "app/fifo.py:1:1: PF000 cannot read file: not a regular file",
        "app/zero.py:1:1: PF000 cannot read file: not a regular file",
    ], out + err


def test_escape_sequences_in_file_names_and_messages_never_reach_the_terminal(tmp_path: Path, run_main) -> None:
    repo = write_project(
        tmp_path,
        {"pyproject.toml": "[tool.pitfalls]\n", "\x1b]0;pwned\x07app.py": "import requests\n\nrequests.get('http://x')\n"},
    )
    for fmt in ("text", "github"):
        code, out, err = run_main("check", "--no-cache", "--output-format", fmt, ".", cwd=repo)
        assert code == 1, err
        assert "\x1b" not in out + err and "\x07" not in out + err
        assert "\\x1b]0;pwned\\x07app.py" in out


# -- Credentials go only where the user says -------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A Directus that records what reaches it (and refuses everything)."""

    received: list[tuple[str, str, str]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        type(self).received.append((self.path, self.headers.get("Authorization") or "", body))
        payload = b'{"errors": [{"message": "no"}]}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recording_server():
    _Recorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def database_listener():
    """A TCP port standing in for PostgreSQL: it records every byte a client sends."""
    received: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    received.append(conn.recv(4096))
                except OSError:
                    received.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], received
    stop.set()
    thread.join(2)
    listener.close()


@pytest.fixture
def user_env(tmp_path: Path, monkeypatch):
    """The user's credentials in the environment, and their approvals list in a temp folder."""
    monkeypatch.setenv("DIRECTUS_TOKEN", "user-secret-token")
    monkeypatch.setenv("PGPASSWORD", "user-secret-password")
    monkeypatch.delenv("PITFALLS_DATABASE_URL", raising=False)
    monkeypatch.setenv("PITFALLS_APPROVALS", str(tmp_path / "approvals"))


def test_a_repository_named_directus_gets_nothing_until_the_user_approves_it(
    tmp_path: Path, run_main, recording_server, user_env
) -> None:
    url, received = recording_server
    repo = write_project(
        tmp_path / "repo",
        {"pyproject.toml": f'[tool.pitfalls.directus]\nurl = "{url}"\n', "app.py": "import requests\n\nrequests.get('http://x')\n"},
    )
    code, out, err = run_main("check", "--no-cache", ".", cwd=repo)
    assert received == []
    assert code == 1 and "app.py:3:1: PF103" in out  # the static checks still run
    assert f"pitfalls approve {url}" in err and err.count("\n") <= 2, err
    # Named by the user: it is theirs to trust.
    run_main("check", "--no-cache", "--directus-url", url, ".", cwd=repo)
    assert received and all(auth == "Bearer user-secret-token" for _, auth, _ in received)
    received.clear()
    # Approved once: from then on, as if the user had named it.
    assert run_main("approve", url + "/", cwd=repo)[0] == 0
    run_main("check", "--no-cache", ".", cwd=repo)
    assert received and received[0][1] == "Bearer user-secret-token"


def test_a_repository_named_database_gets_nothing_and_doctor_says_why(
    tmp_path: Path, run_main, database_listener, user_env
) -> None:
    port, received = database_listener
    url = f"postgresql://app@127.0.0.1:{port}/app"
    repo = write_project(tmp_path / "repo", {"pyproject.toml": f'[tool.pitfalls.database]\nurl = "{url}"\ntimeout = 2\n', "app.py": "X = 1\n"})
    code, out, err = run_main("check", "--no-cache", ".", cwd=repo)
    assert code == 0 and "pitfalls approve postgresql://127.0.0.1:" in err, err
    code, out, err = run_main("doctor", ".", cwd=repo)
    assert code == 1 and "FAIL  not contacted:" in out, out
    time.sleep(0.5)
    assert received == []


def test_a_real_postgresql_named_by_the_repository_sees_no_connection_until_approved(
    tmp_path: Path, run_main, postgres_server: PostgresServer, user_env, monkeypatch
) -> None:
    """The role's password is the user's (PGPASSWORD); the URL is the repository's."""
    real = make_url(postgres_server.url)
    monkeypatch.setenv("PGPASSWORD", real.password)
    url = f"postgresql://{real.username}@127.0.0.1:{real.port}/{real.database}"
    log = postgres_server.home / "postgres.log"
    connections = lambda: log.read_text(errors="replace").count("connection received")  # noqa: E731
    repo = write_project(tmp_path / "repo", {"pyproject.toml": f'[tool.pitfalls.database]\nurl = "{url}"\n', "app.py": "X = 1\n"})
    before = connections()
    assert run_main("check", "--no-cache", ".", cwd=repo)[0] == 0
    assert run_main("doctor", ".", cwd=repo)[0] == 1
    time.sleep(0.5)
    assert connections() == before
    assert run_main("approve", url, cwd=repo)[0] == 0
    code, out, err = run_main("doctor", ".", cwd=repo)
    assert connections() > before and f"user={real.username}" in log.read_text(errors="replace"), out + err


# -- The cache is this user's own ----------------------------------------------------------


def _emptied(node):
    """A cache payload with every stored finding removed (what a forged cache would say)."""
    if isinstance(node, dict):
        return {k: ([] if k == "diagnostics" else _emptied(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_emptied(v) for v in node]
    return node


def test_a_cache_this_user_did_not_write_is_ignored(tmp_path: Path, run_main, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    repo = write_project(tmp_path / "repo", {"pyproject.toml": "[tool.pitfalls]\n", "app.py": "import requests\n\nrequests.get('http://x')\n"})
    assert run_main("check", ".", cwd=repo)[0] == 1
    [cache_file] = (repo / ".pitfalls_cache").rglob("*.json")
    _, _, payload = cache_file.read_bytes().partition(b"\n")
    main, _, summaries = payload.partition(b"\n")
    forged = json.dumps(_emptied(json.loads(main))).encode() + b"\n" + summaries
    attacker_key = b"k" * 32  # signed, but not with this user's key
    cache_file.write_bytes(hmac.new(attacker_key, forged, hashlib.sha256).hexdigest().encode() + b"\n" + forged)
    code, out, _ = run_main("check", ".", cwd=repo)
    assert code == 1 and "app.py:3:1: PF103" in out
    # Garbage, or a cache of the old unsigned format: ignored too, never a traceback.
    for junk in (b"\xff\x00not json", forged):
        cache_file.write_bytes(junk)
        code, out, err = run_main("check", ".", cwd=repo)
        assert code == 1 and "PF103" in out and "Traceback" not in err


# --- issue 17, item 13: `--fix` loses no save, follows symlinks, keeps newline styles ------

_CREDENTIAL = 'DIRECTUS_API_AGENT_EMAIL = "api-agent@tvo.local.nl"\nDIRECTUS_API_AGENT_PASSWORD = "SecureApiPassword123!"\n'
_CREDENTIAL_FIXED = (
    'import os\nDIRECTUS_API_AGENT_EMAIL = "api-agent@tvo.local.nl"\n'
    'DIRECTUS_API_AGENT_PASSWORD = os.environ["DIRECTUS_API_AGENT_PASSWORD"]\n'
)


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_fix_keeps_the_files_newline_style_in_inserted_lines(tmp_path: Path, run_main, newline: str) -> None:
    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n"})
    (repo / "app.py").write_bytes(_CREDENTIAL.replace("\n", newline).encode())
    code, _, err = run_main("check", "app.py", "--no-cache", "--fix", "--unsafe-fixes", cwd=repo)
    assert code == 0, err
    assert (repo / "app.py").read_bytes() == _CREDENTIAL_FIXED.replace("\n", newline).encode()


def test_fix_through_a_symlink_fixes_its_target_and_keeps_the_link(tmp_path: Path, run_main) -> None:
    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "real/target.py": _CREDENTIAL})
    (repo / "app.py").symlink_to(Path("real") / "target.py")
    code, _, err = run_main("check", "app.py", "--no-cache", "--fix", "--unsafe-fixes", cwd=repo)
    assert code == 0, err
    assert (repo / "app.py").is_symlink() and (repo / "app.py").readlink() == Path("real") / "target.py"
    assert (repo / "real" / "target.py").read_text() == _CREDENTIAL_FIXED
    assert sorted(p.name for p in (repo / "real").iterdir()) == ["target.py"]  # no temp file left


def test_fix_leaves_a_file_saved_while_it_writes_alone(tmp_path: Path, run_main, monkeypatch) -> None:
    from pitfalls.project import files

    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": _CREDENTIAL})
    saved = "# the user's save\n" + _CREDENTIAL
    real_fsync = files.os.fsync

    def fsync_then_save(fd):  # the race: the editor saves once the fixed text is written
        real_fsync(fd)
        (repo / "app.py").write_text(saved)

    monkeypatch.setattr(files.os, "fsync", fsync_then_save)
    code, _, err = run_main("check", "app.py", "--no-cache", "--fix", "--unsafe-fixes", cwd=repo)
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert code == 1
    assert (repo / "app.py").read_text() == saved
    errors = [line for line in err.splitlines() if "error:" in line]
    assert errors == ["pitfalls: error: app.py: file changed while pitfalls was running; fixes not applied"], err
    assert "Traceback" not in err
    assert sorted(p.name for p in repo.iterdir() if "pitfalls-tmp" in p.name) == []


# --- issue 17, item 11: one line where one line is promised -----------------------------

@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("tool = 1\n", "[tool] must be a table"),
        ("[tool]\npitfalls = 1\n", "[tool.pitfalls] must be a table"),
        ("[tool.pitfalls]\nx = " + "[" * 5000 + "]" * 5000 + "\n", "invalid TOML: nested more than 100 levels deep"),
        ('[tool.pitfalls.directus]\nsnapshot = "a\\u0000b.json"\n', "a path cannot contain a NUL character"),
        # tomllib alone: minutes, then the out-of-memory killer
        ("[tool.pitfalls]\n" + ".".join(["a"] * 100_000) + " = 1\n", "a key of more than 100 dotted parts (line 2)"),
        ('[tool.pitfalls.directus]\nurl = "http://[::1"\n', "bad value for 'directus.url': not a URL: Invalid IPv6 URL"),
        ('[tool.pitfalls.database]\nurl = "postgresql://u@db:99999/app"\n', "bad value for 'database.url': not a URL: Port out of range"),
    ],
    ids=["tool-int", "pitfalls-int", "deep-toml", "nul-snapshot", "dotted-key", "directus-url", "database-url"],
)
def test_bad_configuration_is_one_error_line(tmp_path: Path, run_main, pyproject: str, message: str) -> None:
    repo = write_project(tmp_path, {"pyproject.toml": pyproject, "app.py": "x = 1\n"})
    code, out, err = run_main("check", "app.py", "--no-cache", cwd=repo)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pitfalls: error: {repo / 'pyproject.toml'}: "), err
    assert message in err and "Traceback" not in err


def test_nul_in_the_snapshot_option_is_one_error_line(tmp_path: Path, run_main) -> None:
    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": "x = 1\n"})
    code, out, err = run_main("check", "app.py", "--no-cache", "--directus-snapshot", "a\x00b.json", cwd=repo)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "a path cannot contain a NUL character" in err, err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("nested.json", "[" * 100_000 + "]" * 100_000),
        ("data.json", '{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("nested.yaml", "a:\n" + "".join("  " * i + "- \n" for i in range(3000))),
        ("shape.json", '{"collections": 1}'),
    ],
    ids=["json", "json-data", "yaml", "shape"],
)
def test_unusable_snapshot_is_one_warning_and_the_static_checks_run(tmp_path: Path, run_main, name: str, content: str) -> None:
    repo = write_project(
        tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": "import requests\n\nrequests.get('http://x')\n", name: content}
    )
    code, out, err = run_main("check", "app.py", "--no-cache", "--directus-snapshot", name, cwd=repo)
    assert code == 1 and "app.py:3:1: PF103" in out
    assert "Traceback" not in err
    warnings = err.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("pitfalls: warning:") and "PF5xx rules are off" in warnings[0]


@pytest.mark.parametrize(
    ("cookie", "message"),
    [("punycode", "cannot decode file as 'punycode'"), ("no-such-codec", "unknown encoding: no-such-codec"), ("hex", "unknown source encoding 'hex'")],
)
def test_bad_coding_cookie_is_a_pf000_for_the_file(tmp_path: Path, run_main, cookie: str, message: str) -> None:
    repo = write_project(tmp_path, {"pyproject.toml": "[tool.pitfalls]\n", "app.py": f"# coding: {cookie}\nx = 1\n", "ok.py": "x = 1\n"})
    code, out, err = run_main("check", "app.py", "ok.py", "--no-cache", cwd=repo)
    assert code == 1 and "Traceback" not in err
    assert out.splitlines()[0].startswith("app.py:1:1: PF000") and message in out, out


def test_a_cookie_after_a_lone_cr_counts_as_cpython_counts_it() -> None:
    """CPython ends a line at a lone CR, so this cookie is on line 2 (found by bench/fuzz.py)."""
    with pytest.raises(ParseFailure) as failure:
        decode("app.py", b"\r# vim: set fileencoding=rot13 :\nx = 1\n")
    assert failure.value.diagnostic.message == "unknown source encoding 'rot13'"


@pytest.mark.parametrize("url", ["http://[::1", "http://directus:99999"])
def test_approving_what_is_not_a_url_is_one_error_line(tmp_path: Path, run_main, user_env, url: str) -> None:
    code, out, err = run_main("approve", url, cwd=tmp_path)
    assert code == 2 and out == "" and err.startswith(f"pitfalls: error: {url}: not a URL ("), err
    assert err.count("\n") == 1 and not (tmp_path / "approvals").exists()
