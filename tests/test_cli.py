"""``pitfalls`` as a user runs it: a subprocess on a small project written to a temp folder.

Exit codes: 0 clean, 1 findings, 2 usage/configuration error (one line on stderr, never a
traceback). Each subprocess costs about half a second, so related assertions share one.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from pitfalls.rules import ALL_RULES

LINE = re.compile(r"^(?P<path>[^:]+):(?P<row>\d+):(?P<col>\d+): (?P<code>PF\d{3})(?: \[\*\])? (?P<message>.+)$")
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def findings(stdout: str) -> list[tuple[str, int, int, str]]:
    """(path, row, col, code) of every finding line of the text format."""
    out = []
    for line in stdout.splitlines():
        match = LINE.match(line)
        if match:
            out.append((match["path"], int(match["row"]), int(match["col"]), match["code"]))
    return out


def assert_usage_error(proc, *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pitfalls: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert proc.stdout == ""


# ---------------------------------------------------------------------------------------
# Exit codes


def test_clean_project_exits_0_with_only_the_summary(project, cli) -> None:
    root = project({"app/__init__.py": "", "app/main.py": "def add(a: int, b: int) -> int:\n    return a + b\n"})
    proc = cli("check", ".", cwd=root)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "All checks passed!\n", "")


def test_findings_exit_1_and_exit_zero_flag(project, cli) -> None:
    root = project({"bad.py": "def f(:\n    pass\n"})
    proc = cli("check", ".", cwd=root)
    assert proc.returncode == 1
    assert proc.stdout == "bad.py:1:7: PF000 syntax error: invalid syntax\nFound 1 error.\n"
    proc = cli("check", "--exit-zero", ".", cwd=root)
    assert proc.returncode == 0 and "bad.py:1:7: PF000" in proc.stdout


@pytest.mark.parametrize(
    ("pyproject", "fragments"),
    [
        ('[tool.pitfalls]\nselecct = ["PF"]\n', ["pyproject.toml", "unknown key 'selecct'"]),
        ('[tool.pitfalls.secrets]\nextra-name = ["pin"]\n', ["unknown key 'secrets.extra-name'"]),
        ('[tool.pitfalls]\nselect = ["XYZ"]\n', ["bad value for 'select'", "'XYZ'"]),
        ('[tool.pitfalls]\nselect = "PF"\n', ["bad value for 'select'"]),
        ('[tool.pitfalls]\nper-file-ignores = {"tests/*" = ["E501"]}\n', ["per-file-ignores", "'E501'"]),
        ("[tool.pitfalls\nselect = []\n", ["pyproject.toml", "invalid TOML"]),
    ],
    ids=["unknown-key", "unknown-nested-key", "bad-code", "bad-type", "bad-per-file-code", "invalid-toml"],
)
def test_bad_configuration_exits_2_with_one_line(project, cli, pyproject, fragments) -> None:
    root = project({"a.py": "x = 1\n", "pyproject.toml": pyproject})
    assert_usage_error(cli("check", ".", cwd=root), *fragments)


def test_usage_errors_exit_2_with_one_line(project, cli) -> None:
    root = project({"a.py": "x = 1\n"})
    assert_usage_error(cli("check", "does/not/exist.py", cwd=root), "does/not/exist.py", "no such file")
    assert_usage_error(cli("check", "--config", "missing.toml", ".", cwd=root), "missing.toml", "no such config file")
    assert_usage_error(cli("check", "--select", "XYZ", ".", cwd=root), "unknown rule code or prefix in --select: XYZ")
    assert_usage_error(cli("check", "--jobs", "0", ".", cwd=root), "--jobs")
    assert_usage_error(cli("check", "--fix", "--diff", ".", cwd=root), "--diff")
    assert_usage_error(cli("rule", "PF999", cwd=root), "unknown rule code 'PF999'")


def test_bad_extend_select_code_exits_2(project, cli) -> None:
    root = project({"a.py": "x = 1\n"})
    assert_usage_error(cli("check", "--extend-select", "XYZ", ".", cwd=root), "in --extend-select: XYZ")


def test_config_flag_uses_the_given_file(project, cli) -> None:
    root = project(
        {
            "bad.py": "def f(:\n",
            "pyproject.toml": '[tool.pitfalls]\nselecct = ["PF"]\n',  # would be an error
            "ci/pitfalls.toml": "exclude = ['bad.py']\n",
        }
    )
    proc = cli("check", "--config", "ci/pitfalls.toml", ".", cwd=root)
    assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n"), proc.stderr


def test_config_flag_paths_are_relative_to_the_working_directory(project, cli) -> None:
    root = project({"app/bad.py": "def f(:\n", "ci/pitfalls.toml": "exclude = ['app/bad.py']\n"})
    proc = cli("check", "--config", "ci/pitfalls.toml", ".", cwd=root)
    assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n"), proc.stderr


# ---------------------------------------------------------------------------------------
# Rule documentation


def test_rule_prints_its_documentation(cli, tmp_path) -> None:
    proc = cli("rule", "pf000", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = proc.stdout
    assert doc.startswith("# PF000 parse-error\n")
    positions = [doc.find(s) for s in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety")]
    assert -1 not in positions and positions == sorted(positions), positions


def test_rules_lists_every_code(cli, tmp_path) -> None:
    proc = cli("rules", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == [r.code for r in ALL_RULES]
    fixable = {line.split()[0] for line in proc.stdout.splitlines() if line.endswith("(fix)")}
    assert fixable == {r.code for r in ALL_RULES if r.fix_applicability is not None}


# ---------------------------------------------------------------------------------------
# PF000: files that cannot be analysed; the rest of the project still is


def test_unanalysable_files_get_one_pf000_each(project, cli) -> None:
    root = project(
        {
            "app/__init__.py": "",
            "app/broken.py": "import os\n\n\ndef create(data:\n    return data\n",
            "app/also_broken.py": "x = (1,\n",
            "app/client.py": "import requests\n\n\ndef fetch(url):\n    return requests.get(url)\n",
        }
    )
    (root / "app" / "latin1.py").write_bytes(b"# caf\xe9\nx = '\xff'\n")
    (root / "app" / "binary.py").write_bytes(b"x = 1\x00\x00\n")
    proc = cli("check", "--output-format", "json", ".", cwd=root)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    by_file = {}
    items = json.loads(proc.stdout)
    # The file next to the broken ones is still checked.
    assert [(i["filename"], i["code"], i["location"]["row"]) for i in items if i["code"] != "PF000"] == [("app/client.py", "PF103", 5)]
    for item in items:
        if item["code"] != "PF000":
            continue
        assert item["filename"] not in by_file, "one PF000 per file"
        by_file[item["filename"]] = item
    assert sorted(by_file) == ["app/also_broken.py", "app/binary.py", "app/broken.py", "app/latin1.py"]
    assert by_file["app/broken.py"]["location"]["row"] == 4
    assert by_file["app/broken.py"]["message"].startswith("syntax error")
    assert by_file["app/also_broken.py"]["message"].startswith("syntax error")
    latin1 = by_file["app/latin1.py"]
    assert "not valid UTF-8" in latin1["message"] and latin1["location"]["row"] == 1
    assert "NUL" in by_file["app/binary.py"]["message"]


def test_declared_source_encoding_is_respected(project, cli) -> None:
    root = project({})
    (root / "legacy.py").write_bytes(b"# -*- coding: latin-1 -*-\nGREETING = 'caf\xe9'\n")
    (root / "wrong.py").write_bytes(b"# -*- coding: ascii -*-\nGREETING = 'caf\xc3\xa9'\n")
    proc = cli("check", ".", cwd=root)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.splitlines() == [
        "wrong.py:2:1: PF000 file is not valid ascii (byte 39, line 2): ordinal not in range(128)",
        "Found 1 error.",
    ]


def test_unknown_declared_encoding_is_pf000(project, cli) -> None:
    # Python refuses this module: "SyntaxError: unknown encoding: klingon".
    root = project({})
    (root / "unknown.py").write_bytes(b"# -*- coding: klingon -*-\nGREETING = 1\n")
    proc = cli("check", ".", cwd=root)
    assert proc.stdout.startswith("unknown.py:1:1: PF000 "), proc.stdout
    assert "klingon" in proc.stdout


def test_unreadable_file_is_one_pf000(project, cli) -> None:
    """Unreadable even as root: a dangling symlink met while walking a folder.

    (chmod 000 does not stop root, and these tests often run as root.)
    """
    root = project({"app/main.py": "def f(:\n"})
    os.symlink("moved_away.py", root / "app" / "models.py")
    proc = cli("check", ".", cwd=root)
    assert proc.returncode == 1
    rows = findings(proc.stdout)
    assert ("app/main.py", 1, 7, "PF000") in rows
    unreadable = [line for line in proc.stdout.splitlines() if "cannot read file" in line]
    assert len(unreadable) == 1, proc.stdout
    assert "Traceback" not in proc.stderr


def test_findings_name_the_file_as_walked_not_its_symlink_target(project, cli) -> None:
    root = project({"app/main.py": "def f(:\n"})
    os.symlink("moved_away.py", root / "app" / "models.py")
    proc = cli("check", ".", cwd=root)
    assert "app/models.py:1:1: PF000 cannot read file" in proc.stdout, proc.stdout


@pytest.mark.skipif(AS_ROOT, reason="root reads a chmod 000 file")
def test_chmod_000_file_is_one_pf000(project, cli) -> None:
    root = project({"app/main.py": "x = 1\n", "app/secret.py": "x = 1\n"})
    (root / "app" / "secret.py").chmod(0)
    try:
        proc = cli("check", ".", cwd=root)
    finally:
        (root / "app" / "secret.py").chmod(0o644)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0].startswith("app/secret.py:1:1: PF000 cannot read file")


# ---------------------------------------------------------------------------------------
# Text output, selection and suppression (on PF103, PF105 and PF403 findings)

CLIENT = """\
import os

import requests


def fetch(url):
    return requests.get(url)


def quiet(url):
    return requests.get(url)  # noqa: PF103


def bare(url):
    return requests.get(url)  # noqa


def other(url):
    return requests.get(url)  # noqa: E501


def several(url):
    return requests.get(url)  # noqa: E501, PF103


def restart(service):
    os.system(f"docker restart {service}")
"""
DB = """\
def get(cursor, partner_id):
    cursor.execute("SELECT * FROM partners WHERE id = '%s'" % partner_id)
"""
ALL_FINDINGS = [
    ("app/client.py", 7, 12, "PF103"),
    ("app/client.py", 19, 12, "PF103"),  # `# noqa: E501` names another tool's code
    ("app/client.py", 27, 5, "PF105"),
    ("app/db.py", 2, 5, "PF403"),
    ("legacy/db.py", 2, 5, "PF403"),
    ("tests/test_db.py", 2, 5, "PF403"),
]


@pytest.fixture
def findings_project(project):
    return project({"app/__init__.py": "", "app/client.py": CLIENT, "app/db.py": DB, "tests/test_db.py": DB, "legacy/db.py": DB})


def test_text_format_lines_and_summary(findings_project, cli) -> None:
    proc = cli("check", ".", cwd=findings_project)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert findings(proc.stdout) == ALL_FINDINGS
    assert all(LINE.match(line) for line in lines[: len(ALL_FINDINGS)]), lines
    assert lines[6:] == ["Found 6 errors.", "(2 more fixes available with `--unsafe-fixes`.)"]
    assert lines[0].startswith("app/client.py:7:12: PF103 `requests.get()`")
    # With --unsafe-fixes the unsafe fixes are offered, and marked.
    proc = cli("check", "--unsafe-fixes", "app/client.py", cwd=findings_project)
    assert proc.stdout.splitlines()[0].startswith("app/client.py:7:12: PF103 [*] ")
    assert "--unsafe-fixes" not in proc.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "PF103"], {"PF103"}),
        (["--select", "PF4"], {"PF403"}),
        (["--select", "PF1", "--ignore", "PF105"], {"PF103"}),
        (["--ignore", "PF1"], {"PF403"}),
        (["--select", "PF4", "--extend-select", "PF105"], {"PF403", "PF105"}),
    ],
    ids=["select-code", "select-prefix", "select-and-ignore", "ignore-prefix", "extend-select"],
)
def test_select_and_ignore(findings_project, cli, args, expected) -> None:
    proc = cli("check", *args, ".", cwd=findings_project)
    assert proc.returncode == 1, proc.stderr
    assert findings(proc.stdout) == [f for f in ALL_FINDINGS if f[3] in expected]


def test_config_selection_per_file_ignores_and_exclude(findings_project, cli) -> None:
    (findings_project / "pyproject.toml").write_text(
        "[tool.pitfalls]\n"
        'ignore = ["PF105"]\n'
        'exclude = ["legacy"]\n'
        '[tool.pitfalls.per-file-ignores]\n"tests/*" = ["PF4"]\n'
    )
    proc = cli("check", ".", cwd=findings_project)
    assert proc.returncode == 1, proc.stderr
    assert findings(proc.stdout) == [f for f in ALL_FINDINGS if f[3] != "PF105" and f[0] not in ("legacy/db.py", "tests/test_db.py")]
    # per-file-ignores and exclude still apply when --select replaces the selection.
    proc = cli("check", "--select", "PF4", ".", cwd=findings_project)
    assert findings(proc.stdout) == [("app/db.py", 2, 5, "PF403")]
    # Everything left is ignored for this file: exit 0 and only the summary.
    proc = cli("check", "--select", "PF4", "tests", cwd=findings_project)
    assert (proc.returncode, proc.stdout) == (0, "All checks passed!\n")


def test_noqa_after_a_form_feed(project, cli) -> None:
    root = project({})
    (root / "a.py").write_text(
        "import requests\n\f\n\ndef fetch(url):\n    return requests.get(url)  # noqa: PF103\n\n\n"
        "def fetch2(url):\n    x = 1  # noqa\n    return requests.get(url)\n"
    )
    proc = cli("check", ".", cwd=root)
    assert findings(proc.stdout) == [("a.py", 10, 12, "PF103")]


def test_cli_select_overrides_configured_ignore(findings_project, cli) -> None:
    (findings_project / "pyproject.toml").write_text('[tool.pitfalls]\nignore = ["PF105"]\n')
    proc = cli("check", "--select", "PF105", ".", cwd=findings_project)
    assert findings(proc.stdout) == [("app/client.py", 27, 5, "PF105")]


# ---------------------------------------------------------------------------------------
# The parallel path: over 400 KB of source is split across worker processes

# Runs the real CLI in a subprocess, reporting the size of each worker pool on stderr.
POOL_PROBE = """
import sys
from pitfalls.project import pool
from pitfalls.cli.main import main

_init = pool.Pool.__init__

def _probe(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    print(f"pool-size={self.size}", file=sys.stderr)

pool.Pool.__init__ = _probe
sys.exit(main(sys.argv[1:]))
"""
# Bulk that costs the parser little: a long module docstring.
PADDING = "    Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\n" * 125
MODULES = 40


def probe(*args: str, cwd) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-c", POOL_PROBE, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300,
        stdin=subprocess.DEVNULL,
    )
    sizes = [int(m) for m in re.findall(r"^pool-size=(\d+)$", proc.stderr, re.M)]
    return proc, sizes


@pytest.fixture
def big_project(project):
    files = {
        "app/__init__.py": "",
        "app/base.py": "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n",
        "app/broken.py": "def f(:\n",
    }
    for i in range(MODULES):
        j = (i + 1) % MODULES  # every module uses the next one's model: findings cross workers
        files[f"app/m{i}.py"] = (
            f'"""Module {i}.\n\n{PADDING}"""\n\nimport requests\n\nfrom app.base import Base\nfrom app.m{j} import Model{j}\n\n\n'
            f"class Model{i}(Base):\n    name: str\n\n\n"
            f"def export() -> dict:\n    return Model{j}(name='x').dict()\n\n\n"
            f"def fetch(url):\n    return requests.get(url)  # noqa: PF103\n\n\n"
            f"def fetch_more(url):\n    return requests.post(url)\n"
        )
    root = project(files)
    assert sum(p.stat().st_size for p in root.rglob("*.py")) > 400_000
    return root


def test_parallel_check_matches_single_process(big_project, cli) -> None:
    parallel, sizes = probe("check", "--jobs", "3", "--output-format", "json", ".", cwd=big_project)
    assert parallel.returncode == 1, parallel.stderr
    assert max(sizes) > 1, "the big project must be checked by worker processes"
    sequential, sizes = probe("check", "--jobs", "1", "--no-cache", "--output-format", "json", ".", cwd=big_project)
    assert sizes == [1]
    assert parallel.stdout == sequential.stdout
    items = json.loads(parallel.stdout)
    counts = {code: sum(1 for i in items if i["code"] == code) for code in {i["code"] for i in items}}
    # Every module imports the next one at module level: one ring, so PF301 in each.
    assert counts == {"PF000": 1, "PF401": MODULES, "PF103": MODULES, "PF301": MODULES}
    assert {i["filename"] for i in items if i["code"] == "PF401"} == {f"app/m{i}.py" for i in range(MODULES)}

    # Warm, in parallel: the same; then a change to the shared base reaches every module.
    warm = cli("check", "--jobs", "3", "--output-format", "json", ".", cwd=big_project)
    assert warm.stdout == parallel.stdout
    (big_project / "app" / "base.py").write_text("class Base:\n    pass\n")
    after = cli("check", "--jobs", "3", "--output-format", "json", ".", cwd=big_project)
    cold = cli("check", "--jobs", "1", "--no-cache", "--output-format", "json", ".", cwd=big_project)
    assert after.stdout == cold.stdout
    assert not any(i["code"] == "PF401" for i in json.loads(after.stdout))

    # One file, as a pre-commit hook passes it: checked in this process, with a lazy index
    # that reads only the modules its check needs (tests/test_lazy_index.py).
    one, sizes = probe("check", "--jobs", "3", "--no-cache", "--output-format", "json", "app/m7.py", cwd=big_project)
    assert sizes == [1]
    assert json.loads(one.stdout) == [i for i in json.loads(cold.stdout) if i["filename"] == "app/m7.py"] != []


def test_checking_one_file_still_sees_the_rest_of_the_project(project, cli) -> None:
    """What a pre-commit hook does: pass only the changed files."""
    root = project(
        {
            "app/__init__.py": "",
            "app/schemas.py": "from pydantic import BaseModel\n\n\nclass Article(BaseModel):\n    title: str\n",
            "app/routes.py": "from app.schemas import Article\n\n\ndef show():\n    return Article(title='x').dict()\n",
        }
    )
    whole = cli("check", "--no-cache", ".", cwd=root)
    assert "app/routes.py:5:12: PF401" in whole.stdout
    one = cli("check", "--no-cache", "app/routes.py", cwd=root)
    assert "app/routes.py:5:12: PF401" in one.stdout


def test_pathological_nesting_is_pf000_not_a_crash(project, cli) -> None:
    """libcst's native parser crashes on 2,000 open brackets and crawls on 5,000-long
    attribute chains; CPython refuses both, and so does pitfalls, with one PF000 each."""
    root = project(
        {
            "deep.py": "x = " + "[" * 2000 + "\n",
            "chain.py": "a" + ".b" * 5000 + "\n",
            "fine.py": "import requests\nrequests.get('u')\n",
        }
    )
    result = cli("check", "--no-cache", ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "deep.py:1:" in result.stdout and "too many nested" in result.stdout
    assert "chain.py:1:1: PF000" in result.stdout
    assert "fine.py:2:1: PF103" in result.stdout


def test_force_exclude_applies_exclude_to_named_files(project, cli) -> None:
    """What the pre-commit hook runs: it names changed files, excluded ones included."""
    root = project(
        {
            "pyproject.toml": "[tool.pitfalls]\nexclude = ['vendored']\n",
            "vendored/client.py": "import requests\nrequests.get('u')\n",
            "app.py": "import requests\nrequests.get('u')\n",
        }
    )
    named = cli("check", "--no-cache", "vendored/client.py", "app.py", cwd=root)
    assert "vendored/client.py:2:1: PF103" in named.stdout  # named explicitly: checked, as in Ruff
    forced = cli("check", "--no-cache", "--force-exclude", "vendored/client.py", "app.py", cwd=root)
    assert "vendored/client.py" not in forced.stdout
    assert "app.py:2:1: PF103" in forced.stdout
    assert forced.returncode == 1


# ---------------------------------------------------------------------------------------
# CLI basics a Ruff user reaches for, in-process (`run_main`): statistics, stdin, output
# file, show settings/files, exclusion and .gitignore, colour and progress, unknown codes


def test_statistics_count_findings_per_code_as_text_and_json(findings_project, run_main) -> None:
    code, out, _ = run_main("check", "--select", "PF1,PF4", "--statistics", ".", cwd=findings_project)
    assert code == 1
    assert out.splitlines()[:4] == [
        "3\tPF403\tsql-built-from-data",
        "2\tPF103\thttp-call-without-timeout",
        "1\tPF105\tshell-command-from-data",
        "Found 6 errors.",
    ]
    # With --unsafe-fixes PF103's fix applies: `[*]` marks it and the others get `[ ]`.
    _, out, _ = run_main("check", "--select", "PF1,PF4", "--statistics", "--unsafe-fixes", ".", cwd=findings_project)
    assert out.splitlines()[1] == "2\tPF103\t[*] http-call-without-timeout"
    assert out.splitlines()[0] == "3\tPF403\t[ ] sql-built-from-data"
    _, out, _ = run_main(
        "check", "--select", "PF1,PF4", "--statistics", "--unsafe-fixes", "--output-format", "json", ".", cwd=findings_project
    )
    assert json.loads(out) == [
        {"code": "PF403", "name": "sql-built-from-data", "count": 3, "fixable": False},
        {"code": "PF103", "name": "http-call-without-timeout", "count": 2, "fixable": True},
        {"code": "PF105", "name": "shell-command-from-data", "count": 1, "fixable": False},
    ]
    code, out, err = run_main("check", "--statistics", "--output-format", "sarif", ".", cwd=findings_project)
    assert (code, out) == (2, "") and err.startswith("pitfalls: error: --statistics")


STDIN_PROJECT = {
    "pyproject.toml": '[tool.pitfalls]\nper-file-ignores = {"app/routes.py" = ["PF103"]}\n',
    "app/__init__.py": "",
    "app/schemas.py": "from pydantic import BaseModel\n\n\nclass Article(BaseModel):\n    title: str\n",
    "app/routes.py": "def show():\n    return 1\n",  # what is on disk is clean
}
BUFFER = b"""\
import requests

from app.schemas import Article


def show(url):
    requests.get(url)
    return Article(title='x').dict()
"""


def test_stdin_filename_checks_the_buffer_as_that_file_of_its_project(project, run_main) -> None:
    root = project(STDIN_PROJECT)
    code, out, err = run_main("check", "--no-cache", "--stdin-filename", "app/routes.py", cwd=root, stdin=BUFFER)
    # PF401 needs the index (Article is a model of app/schemas.py) and the module name;
    # PF103 is off for app/routes.py in its pyproject.toml.
    assert (code, err) == (1, "")
    assert findings(out) == [("app/routes.py", 8, 12, "PF401")]
    assert (root / "app" / "routes.py").read_text() == STDIN_PROJECT["app/routes.py"]
    # `-` for the path is accepted, as editors pass it; other paths are a usage error.
    assert run_main("check", "--no-cache", "--stdin-filename", "app/routes.py", "-", cwd=root, stdin=BUFFER)[0] == 1
    code, out, err = run_main("check", "--stdin-filename", "app/routes.py", "app", cwd=root, stdin=BUFFER)
    assert (code, out) == (2, "") and err.startswith("pitfalls: error: --stdin-filename")


def test_stdin_filename_with_fix_writes_the_fixed_source_to_stdout(project, run_main) -> None:
    root = project(STDIN_PROJECT)
    args = ("check", "--no-cache", "--stdin-filename", "app/client.py", "--unsafe-fixes")
    code, out, err = run_main(*args, "--fix", cwd=root, stdin=b"import requests\n\nrequests.get('u')\n")
    assert (code, out, err) == (0, "import requests\n\nrequests.get('u', timeout=10)\n", "All checks passed!\n")
    assert not (root / "app" / "client.py").exists()
    # What is left is reported on stderr; the source is passed through unchanged.
    left = b'import os\nimport requests\n\n\ndef restart(service):\n    os.system(f"docker restart {service}")\n    requests.get("u")\n'
    code, out, err = run_main(*args, "--fix", "--select", "PF105", cwd=root, stdin=left)
    assert (code, out.encode()) == (1, left)
    assert findings(err) == [("app/client.py", 6, 5, "PF105")]
    code, out, _ = run_main(*args, "--diff", cwd=root, stdin=b"import requests\n\nrequests.get('u')\n")
    assert code == 1 and "+requests.get('u', timeout=10)" in out and out.startswith("--- a/app/client.py\n")


def test_output_file_takes_the_report_instead_of_stdout(findings_project, run_main) -> None:
    code, out, _ = run_main("check", "--output-format", "json", "--output-file", "reports/pf.json", ".", cwd=findings_project)
    assert (code, out) == (1, "")
    report = json.loads((findings_project / "reports" / "pf.json").read_text())
    assert {item["code"] for item in report} >= {"PF103", "PF403"}
    (findings_project / "blocker").write_text("a file, not a folder\n")
    code, out, err = run_main("check", "-o", "blocker/pf.txt", ".", cwd=findings_project)
    assert (code, out) == (2, "")
    assert err.startswith("pitfalls: error: --output-file blocker/pf.txt: cannot write") and err.count("\n") == 1


def test_output_file_writes_through_links_pipes_and_devices(findings_project, run_main) -> None:
    """`-o /dev/null`, `-o fifo`, `-o link`: what the name leads to gets the report; the
    name stays what it was (replacing it would turn /dev/null into a file, run as root)."""
    import stat
    import threading

    (findings_project / "real.txt").write_text("old\n")
    (findings_project / "link.txt").symlink_to("real.txt")
    code, _, _ = run_main("check", "-o", "link.txt", ".", cwd=findings_project)
    assert code == 1 and (findings_project / "link.txt").is_symlink()
    assert "PF103" in (findings_project / "real.txt").read_text()
    fifo = findings_project / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = run_main("check", "-o", "report.fifo", ".", cwd=findings_project)
    reader.join(30)
    assert (code, err) == (1, "") and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert b"PF103" in received[0]
    code, out, err = run_main("check", "-o", os.devnull, ".", cwd=findings_project)
    assert (code, out, err) == (1, "", "") and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_show_settings_and_show_files_check_nothing(project, run_main) -> None:
    root = project(
        {
            "pyproject.toml": '[tool.pitfalls]\nignore = ["PF103"]\n[tool.pitfalls.database]\nurl = "postgresql://app:s3cret@db/app"\n',
            "app/__init__.py": "",
            "app/main.py": "def f(:\n",
        }
    )
    code, out, err = run_main("check", "--show-settings", "--extend-select", "PF4", "app/main.py", cwd=root)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == ["Resolved settings for: app/main.py", f"Settings path: {root / 'pyproject.toml'}", f"Project root: {root}"]
    assert "PF103" not in lines[3] and "PF401" in lines[3]
    assert 'ignore = ["PF103"]' in lines and 'select = ["PF", "PF4"]' in lines and "respect-gitignore = true" in lines
    assert 'database.url = "postgresql://app:***@db/app"' in lines
    code, out, err = run_main("check", "--show-files", cwd=root)
    assert (code, out, err) == (0, "app/__init__.py\napp/main.py\n", "")


def test_exclude_options_and_gitignore_shape_discovery(project, run_main) -> None:
    root = project(
        {
            "pyproject.toml": '[tool.pitfalls]\nexclude = ["legacy"]\n',
            ".git/HEAD": "ref: refs/heads/main\n",
            ".gitignore": "generated/\n*_pb2.py\n!keep_pb2.py\n",
            "app/.gitignore": "local_*.py\n",
            "app/main.py": "", "app/local_settings.py": "", "app/api_pb2.py": "", "app/keep_pb2.py": "",
            "generated/models.py": "", "legacy/old.py": "", "scripts/tool.py": "",
        }
    )

    def shown(*args: str) -> list[str]:
        code, out, err = run_main("check", "--show-files", *args, cwd=root)
        assert (code, err) == (0, "")
        return out.splitlines()

    assert shown() == ["app/keep_pb2.py", "app/main.py", "scripts/tool.py"]
    assert shown("--extend-exclude", "scripts,keep_pb2.py") == ["app/main.py"]
    assert shown("--exclude", "scripts") == ["app/keep_pb2.py", "app/main.py", "legacy/old.py"]
    assert shown("app/local_settings.py", "app") == ["app/keep_pb2.py", "app/local_settings.py", "app/main.py"]
    (root / "pyproject.toml").write_text("[tool.pitfalls]\nrespect-gitignore = false\n")
    assert "generated/models.py" in shown() and "app/api_pb2.py" in shown()
    # Outside a git repository .gitignore files mean nothing, as in git (and Ruff).
    (root / "pyproject.toml").write_text("[tool.pitfalls]\n")
    (root / ".git" / "HEAD").unlink()
    (root / ".git").rmdir()
    assert "generated/models.py" in shown()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_and_severity_only_on_a_terminal(project, run_main, monkeypatch) -> None:
    root = project({"app.py": "import requests\nrequests.get('u')\n"})
    plain = "app.py:2:1: PF103 `requests.get()`"
    _, out, _ = run_main("check", "--no-cache", ".", cwd=root)
    assert out.startswith(plain) and "\x1b[" not in out
    pipe, terminal = sys.stdout, Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    run_main("check", "--no-cache", ".", cwd=root)
    coloured = terminal.getvalue()
    assert "\x1b[" in coloured and re.sub(r"\x1b\[\d+m", "", coloured).startswith("app.py:2:1: warning: PF103 `requests")
    monkeypatch.setenv("NO_COLOR", "1")
    terminal.truncate(0)
    terminal.seek(0)
    run_main("check", "--no-cache", ".", cwd=root)
    assert terminal.getvalue().startswith("app.py:2:1: warning: PF103 `requests")
    monkeypatch.setattr(sys, "stdout", pipe)  # a pipe again, but FORCE_COLOR
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run_main("check", "--no-cache", ".", cwd=root)
    assert "\x1b[" in out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_on_a_terminals_stderr_only(project, run_main, monkeypatch, jobs) -> None:
    from pitfalls.cli import terminal
    from pitfalls.project import pool, run

    root = project({f"m{i}.py": "import requests\nrequests.get('u')\n" for i in range(3)})
    monkeypatch.delenv("CI", raising=False)  # .ci/run sets it: no progress there
    monkeypatch.delenv("TERM", raising=False)  # not a dumb terminal
    monkeypatch.setattr(terminal, "PROGRESS_AFTER_SECONDS", 0)
    monkeypatch.setattr(terminal, "PROGRESS_REDRAW_SECONDS", 0)
    monkeypatch.setattr(pool, "PROGRESS_INTERVAL_SECONDS", 0)  # workers report every file
    monkeypatch.setattr(run, "PARALLEL_THRESHOLD_BYTES", 0)
    _, _, err = run_main("check", "--no-cache", "--jobs", jobs, ".", cwd=root)
    assert err == ""  # stderr is no terminal
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    code, out, _ = run_main("check", "--no-cache", "--jobs", jobs, ".", cwd=root)
    assert code == 1 and len(findings(out)) == 3
    drawn = stderr.getvalue()
    assert drawn.endswith(terminal.CLEAR_LINE)  # wiped before the report
    steps = re.findall(r"(Reading|Checking) (\d+)/(\d+) files", drawn)
    assert steps[-1] == ("Checking", "3", "3") and ("Reading", "3", "3") in steps
    assert all(int(done) <= int(total) for _, done, total in steps)  # nothing counted twice


def test_unknown_rule_codes_are_errors_wherever_they_are_given(project, run_main) -> None:
    from pitfalls.core.settings import ConfigError
    from pitfalls.lsp.settings import build_config

    root = project({"app.py": "x = 1\n"})
    for option in ("--select", "--ignore", "--extend-select"):
        code, out, err = run_main("check", option, "PF1,PF999", ".", cwd=root)
        assert (code, out, err) == (2, "", f"pitfalls: error: unknown rule code or prefix in {option}: PF999\n")
    assert run_main("check", "--select", "PF1,PF40", "--ignore", "PF", ".", cwd=root)[0] == 0  # prefixes of rules
    (root / "pyproject.toml").write_text('[tool.pitfalls]\nper-file-ignores = {"app.py" = ["PF109"]}\n')
    code, out, err = run_main("check", ".", cwd=root)
    assert (code, out) == (2, "")
    assert err == f"pitfalls: error: {root / 'pyproject.toml'}: [tool.pitfalls] unknown rule code or prefix in 'per-file-ignores.app.py': PF109\n"
    # The editor's settings go through the same check, named as theirs.
    (root / "pyproject.toml").write_text("[tool.pitfalls]\n")
    with pytest.raises(ConfigError, match=r"^editor settings: unknown rule code or prefix in 'extend-select': PF8$"):
        build_config(root, {"extend-select": ["PF8"]}, {})


def test_invalid_escapes_in_checked_code_print_no_warnings(project, cli) -> None:
    """Evaluating the checked code's literals (`"\\d"`, an invalid escape) makes CPython
    warn; none of it reaches the user's terminal, even with every warning switched on."""
    root = project(
        {
            "app/__init__.py": "",
            "app/settings.py": 'import os\n\nPASSWORD = "s3cr\\et\\d"\nname = os.getenv("A\\w")\nx = "\\i" "\\j"\n',
        }
    )
    assert 'PASSWORD = "s3cr\\et\\d"' in (root / "app" / "settings.py").read_text()
    proc = cli("check", "--no-cache", "--exit-zero", ".", cwd=root, env={"PYTHONWARNINGS": "always"})
    assert proc.returncode == 0
    assert proc.stderr == ""
