"""A checked repository is untrusted: nothing in it runs, whatever it is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pitfalls.core.check import check_text
from pitfalls.rules import ALL_RULES
from tests.conftest import write_project

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
