"""Every rule is documented in Ruff's shape, and rules/PFnnn.md match the docstrings."""

from __future__ import annotations

import re

import pytest
from pitfalls.rules import ALL_RULES

from scripts.update_readme import stale_parts
from scripts.update_rule_docs import DEFAULT_FOLDER, stale_docs

SECTIONS = ["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_doc_has_ruff_sections_in_order(rule) -> None:
    doc = rule.doc()
    positions = [doc.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), f"{rule.code} lacks {[s for s, p in zip(SECTIONS, positions) if p < 0]}"
    assert positions == sorted(positions), f"{rule.code}: sections out of order"
    assert re.fullmatch(r"PF\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name), rule.name


def test_markdown_docs_are_generated_from_rules() -> None:
    assert stale_docs(DEFAULT_FOLDER) == [], "run: .venv/bin/python scripts/update_rule_docs.py"


def test_readme_generated_parts_are_current() -> None:
    assert stale_parts() == [], "run: .venv/bin/python scripts/update_readme.py"
