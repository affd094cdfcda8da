"""Report formats for the CLI: text (like Ruff), json (Ruff's fields), sarif 2.1.0, github,
gitlab (Code Quality), junit; and ``--statistics`` as text or json (Ruff's).

Internally columns are 0-based code points; every format here shows them 1-based.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO
from urllib.parse import quote

from pitfalls import __version__
from pitfalls.cli.errors import UsageError
from pitfalls.cli.terminal import BLUE, BOLD, CYAN, RED, YELLOW, Style, printable
from pitfalls.core.diagnostics import Applicability, Diagnostic, Edit, Severity
from pitfalls.core.fixes import fix_allowed
from pitfalls.core.source import source_lines
from pitfalls.project.files import read_source, replace_file
from pitfalls import rules as catalog

def _loc(line: int, column: int) -> dict[str, int]:
    return {"row": line, "column": column + 1}


def _name(code: str) -> str | None:
    return catalog.NAMES.get(code)


_SEVERITY_COLOUR = {Severity.ERROR: RED, Severity.WARNING: YELLOW, Severity.INFO: BLUE}


def line(d: Diagnostic, *, unsafe: bool = False, style: Style = Style()) -> str:
    """``path:line:column: CODE message``, columns 1-based as in Ruff; ``[*]`` marks a fix
    ``--fix`` applies. For a person (``style.human``) the severity comes before the code,
    as compilers print it: ``app.py:3:5: warning: PF103 ...``."""
    marker = f" [{style.paint('*', CYAN)}]" if fix_allowed(d.fix, unsafe) else ""
    colon = style.paint(":", CYAN)
    where = colon.join([style.paint(printable(d.path), BOLD), str(d.start.line), str(d.start.column + 1)])
    severity = f"{style.paint(d.severity.value, BOLD, _SEVERITY_COLOUR[d.severity])}: " if style.human else ""
    return f"{where}{colon} {severity}{style.paint(d.code, BOLD, RED)}{marker} {printable(d.message)}"


def text(
    diagnostics: list[Diagnostic], *, fixable_hint: bool = True, unsafe: bool = False, style: Style = Style()
) -> str:
    lines = [line(d, unsafe=unsafe, style=style) for d in diagnostics]
    lines.append(summary_line(diagnostics, fixable_hint=fixable_hint, unsafe=unsafe))
    return "\n".join(lines) + "\n"


def summary_line(diagnostics: list[Diagnostic], *, fixable_hint: bool = True, unsafe: bool = False) -> str:
    if not diagnostics:
        return "All checks passed!"
    count = len(diagnostics)
    out = f"Found {count} error{'s' if count != 1 else ''}."
    if fixable_hint:
        fixable = sum(1 for d in diagnostics if d.fix and (unsafe or d.fix.applicability is Applicability.SAFE))
        hidden = sum(1 for d in diagnostics if d.fix and d.fix.applicability is Applicability.UNSAFE)
        if fixable:
            out += f"\n[*] {fixable} fixable with the `--fix` option."
        if hidden and not unsafe:
            out += f"\n({hidden} more fix{'es' if hidden != 1 else ''} available with `--unsafe-fixes`.)"
    return out


def _edit_json(edit: Edit) -> dict[str, Any]:
    return {
        "content": edit.content,
        "location": _loc(edit.start.line, edit.start.column),
        "end_location": _loc(edit.end.line, edit.end.column),
    }


def as_json(diagnostics: list[Diagnostic]) -> str:
    items = []
    for d in diagnostics:
        items.append(
            {
                "code": d.code,
                "name": _name(d.code),
                "message": d.message,
                "filename": d.path,
                "location": _loc(d.start.line, d.start.column),
                "end_location": _loc(d.end.line, d.end.column),
                "fix": None
                if d.fix is None
                else {
                    "applicability": d.fix.applicability.value,
                    "message": d.fix.message,
                    "edits": [_edit_json(e) for e in d.fix.edits],
                },
                "noqa_row": d.start.line,
                "severity": d.severity.value,
                "url": None,  # Ruff's key; the docs are offline: `pitfalls rule CODE`
            }
        )
    return json.dumps(items, indent=2) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(path: str) -> dict[str, str]:
    """A relative path is a URI reference against the checkout (%SRCROOT%); an absolute one
    is a file: URI of its own."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path.replace("\\", "/")), "uriBaseId": "%SRCROOT%"}


def sarif(diagnostics: list[Diagnostic]) -> str:
    rules = []
    for rule in catalog.ALL_RULES:
        rules.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": rule.doc(), "markdown": rule.doc()},
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            }
        )
    rule_index = {code: i for i, code in enumerate(catalog.CODES)}
    occurrences: Counter[tuple[str, str, str]] = Counter()
    results = []
    for d in diagnostics:
        key = (d.code, d.path, d.message)
        occurrences[key] += 1
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(d.path),
                        "region": {
                            "startLine": d.start.line,
                            "startColumn": d.start.column + 1,
                            "endLine": max(d.end.line, d.start.line),
                            "endColumn": max(d.end.column + 1, 1),
                        },
                    }
                }
            ],
            # Stable across line moves, so code scanning keeps one alert per finding.
            "partialFingerprints": {"pitfalls/v1": f"{d.code}:{d.path}:{d.message}:{occurrences[key]}"},
        }
        if d.code in rule_index:
            result["ruleIndex"] = rule_index[d.code]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pitfalls",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        level = {"error": "error", "warning": "warning", "info": "notice"}[d.severity.value]
        props = ",".join(
            [
                f"file={printable(_escape_property(d.path))}",
                f"line={d.start.line}",
                f"endLine={d.end.line}",
                f"col={d.start.column + 1}",
                f"endColumn={d.end.column + 1}",
                f"title={_escape_property(d.code)}",
            ]
        )
        lines.append(f"::{level} {props}::{printable(_escape_data(f'{d.code} {d.message}'))}")
    return "\n".join(lines) + ("\n" if lines else "")


_GITLAB_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


class SourceLines:
    """A reported file's line by number, each file read once; ``texts`` holds the texts
    that are not on disk (``--stdin-filename``)."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self.lines = {path: source_lines(text) for path, text in (texts or {}).items()}

    def __call__(self, path: str, number: int) -> str:
        if path not in self.lines:
            self.lines[path] = source_lines(read_source(path)[0] or "")
        lines = self.lines[path]
        return lines[number - 1] if 0 < number <= len(lines) else ""


def _project_path(path: str) -> str:
    """Relative to the checkout (``$CI_PROJECT_DIR``, where GitLab looks files up) when
    below it, with forward slashes."""
    base = os.environ.get("CI_PROJECT_DIR")
    full = os.path.abspath(path)
    if base and full.startswith(os.path.abspath(base) + os.sep):
        path = os.path.relpath(full, base)
    return path.replace("\\", "/")


def gitlab(diagnostics: list[Diagnostic], source_line: Callable[[str, int], str]) -> str:
    """GitLab Code Quality: the fingerprint hashes the path, the code and the line's text
    (not its number), so a finding keeps it when lines above move; repeats are numbered."""
    seen: Counter[str] = Counter()
    issues = []
    for d in diagnostics:
        path = _project_path(d.path)
        key = "\0".join([path, d.code, source_line(d.path, d.start.line).strip()])
        seen[key] += 1
        issues.append(
            {
                "description": f"{d.code}: {d.message}",
                "check_name": d.code,
                "fingerprint": hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest(),
                "severity": _GITLAB_SEVERITY[d.severity],
                "location": {"path": path, "lines": {"begin": d.start.line, "end": max(d.end.line, d.start.line)}},
            }
        )
    return json.dumps(issues, indent=2) + "\n"


def junit(diagnostics: list[Diagnostic], files: list[str]) -> str:
    """JUnit XML: a test case per file checked (passed when clean), a failure per finding."""
    from xml.etree import ElementTree as ET  # only this format needs it

    by_file: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_file.setdefault(d.path, []).append(d)
    paths = sorted(set(files) | set(by_file))
    counts = {"tests": str(len(paths)), "failures": str(len(by_file)), "errors": "0"}
    suites = ET.Element("testsuites", name="pitfalls", **counts)
    suite = ET.SubElement(suites, "testsuite", name="pitfalls", skipped="0", **counts)
    for path in paths:
        case = ET.SubElement(suite, "testcase", name=path, classname=path.replace("/", ".").removesuffix(".py"), file=path)
        for d in by_file.get(path, []):
            failure = ET.SubElement(case, "failure", message=f"{d.code} {d.message}", type=d.code)
            failure.text = line(d)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


@dataclass
class Report:
    """What the formats may need besides the findings."""

    diagnostics: list[Diagnostic]
    files: list[str] = field(default_factory=list)  # every file checked, as reported
    unsafe: bool = False
    style: Style = Style()
    source_line: Callable[[str, int], str] = field(default_factory=SourceLines)


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": lambda r: text(r.diagnostics, unsafe=r.unsafe, style=r.style),
    "json": lambda r: as_json(r.diagnostics),
    "sarif": lambda r: sarif(r.diagnostics),
    "github": lambda r: github(r.diagnostics),
    "gitlab": lambda r: gitlab(r.diagnostics, r.source_line),
    "junit": lambda r: junit(r.diagnostics, r.files),
}


def statistics(diagnostics: list[Diagnostic], *, unsafe: bool = False) -> list[dict[str, Any]]:
    """Ruff's ``--statistics`` rows: most frequent code first (then by code); ``fixable``
    when ``--fix`` would fix every finding of the code."""
    by_code: dict[str, list[Diagnostic]] = {}
    for d in sorted(diagnostics, key=lambda d: d.code):
        by_code.setdefault(d.code, []).append(d)
    rows = [
        {"code": code, "name": _name(code), "count": len(found), "fixable": all(fix_allowed(d.fix, unsafe) for d in found)}
        for code, found in by_code.items()
    ]
    return sorted(rows, key=lambda row: -row["count"])


def statistics_text(report: Report) -> str:
    """``count<TAB>code<TAB>[*] name`` per code, aligned as Ruff (and flake8) print them."""
    rows = statistics(report.diagnostics, unsafe=report.unsafe)
    style = report.style
    count_width = max((len(str(row["count"])) for row in rows), default=0)
    code_width = max((len(row["code"]) for row in rows), default=0)
    any_fixable = any(row["fixable"] for row in rows)
    lines = []
    for row in rows:
        marker = (f"[{style.paint('*', CYAN)}] " if row["fixable"] else "[ ] ") if any_fixable else ""
        count = style.paint(str(row["count"]).rjust(count_width), BOLD)
        lines.append(f"{count}\t{style.paint(row['code'].ljust(code_width), BOLD, RED)}\t{marker}{row['name']}")
    lines.append(summary_line(report.diagnostics, unsafe=report.unsafe))
    return "\n".join(lines) + "\n"


STATISTICS: dict[str, Callable[[Report], str]] = {
    "text": statistics_text,
    "json": lambda r: json.dumps(statistics(r.diagnostics, unsafe=r.unsafe), indent=2) + "\n",
}



def write(report: Report, fmt: str, stream: TextIO, *, statistics: bool = False, output_file: Path | None = None) -> None:
    """Render ``report`` in ``fmt`` (its ``--statistics`` form if asked) to ``stream``, in
    the terminal's style there; or, plain, to ``output_file``: a file is replaced whole
    (folders made; through a symbolic link, which stays), anything else (``/dev/null``, a
    pipe) is written to, never replaced."""
    render = (STATISTICS if statistics else FORMATS)[fmt]
    if output_file is None:
        stream.write(render(dataclasses.replace(report, style=Style.for_stream(stream))))
        stream.flush()
        return
    try:
        target = output_file.resolve()
        data = render(report).encode("utf-8")
        if target.exists() and not target.is_file():
            with open(target, "wb") as handle:
                handle.write(data)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        replace_file(target, data)
    except OSError as exc:
        raise UsageError(f"--output-file {output_file}: cannot write: {exc.strerror or exc}") from None
