"""Report formats for the CLI: text (like Ruff), json (Ruff's fields), sarif 2.1.0, github.

Internally columns are 0-based code points; every format here shows them 1-based.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pitfalls import __version__
from pitfalls.core.diagnostics import Applicability, Diagnostic, Edit, Severity
from pitfalls.rules import ALL_RULES, RULES_BY_CODE

INFORMATION_URI = "https://github.com/pitfalls-dev/pitfalls"


def _loc(line: int, column: int) -> dict[str, int]:
    return {"row": line, "column": column + 1}


def _url(code: str) -> str | None:
    rule = RULES_BY_CODE.get(code)
    return rule.url() if rule else None


def _name(code: str) -> str | None:
    rule = RULES_BY_CODE.get(code)
    return rule.name if rule else None


def line(d: Diagnostic, *, unsafe: bool = False) -> str:
    """``path:line:column: CODE message``, columns 1-based as in Ruff; ``[*]`` marks a fix
    ``--fix`` applies."""
    marker = " [*]" if d.fix and (unsafe or d.fix.applicability is Applicability.SAFE) else ""
    return f"{d.path}:{d.start.line}:{d.start.column + 1}: {d.code}{marker} {d.message}"


def text(diagnostics: list[Diagnostic], *, fixable_hint: bool = True, unsafe: bool = False) -> str:
    lines = [line(d, unsafe=unsafe) for d in diagnostics]
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
                "url": _url(d.code),
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
    for rule in ALL_RULES:
        rules.append(
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": rule.doc(), "markdown": rule.doc()},
                "helpUri": rule.url(),
                "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            }
        )
    rule_index = {rule.code: i for i, rule in enumerate(ALL_RULES)}
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
                        "informationUri": INFORMATION_URI,
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
                f"file={_escape_property(d.path)}",
                f"line={d.start.line}",
                f"endLine={d.end.line}",
                f"col={d.start.column + 1}",
                f"endColumn={d.end.column + 1}",
                f"title={_escape_property(d.code)}",
            ]
        )
        lines.append(f"::{level} {props}::{_escape_data(f'{d.code} {d.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")


FORMATS = {"text": text, "json": as_json, "sarif": sarif, "github": github}
