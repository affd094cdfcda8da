"""The editor's path on every rule's own examples: what a buffer keeps from one keystroke
to the next (the tree re-parsed in place, the rules' walks, node facts, report places,
`# noqa` tokens, its view of the index) must never show in its diagnostics.

Each example's top-level statements are removed one at a time and put back, and so are
its indented lines (a method, a field, a line of a body), each text going through
``Workspace.check`` as an open buffer's does and through a full parse and check against
the same index; the two must agree. Removing a statement changes what the others see (an
import, a class, a constant gone), so kept state that should have been dropped shows
here, on code written for every rule; ``test_reparse``'s random edits cover the in-place
re-parse on longer files.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from pitfalls.core.rule import Example, Rule
from pitfalls.project.workspace import Workspace
from pitfalls.rules import ALL_RULES
from test_reparse import full_check
from test_rule_examples import example_project


def _workspace(rule: type[Rule], example: Example, root: Path) -> tuple[Workspace, str]:
    """The example's project scanned, as an editor's server has it; and its file's path."""
    workspace = Workspace(example_project(rule, example, root), root, use_cache=False)
    workspace.scan()
    return workspace, str((root / example.path).resolve())


def _edits(code: str) -> list[str]:
    """``code`` without each of its top-level statements (when it has more than one), then
    without each of its indented lines (some of those texts do not parse: a buffer's often
    does not)."""
    module = cst.parse_module(code)
    body = list(module.body)
    statements = [module.with_changes(body=[*body[:i], *body[i + 1 :]]).code for i in range(len(body))]
    lines = code.splitlines(keepends=True)
    indented = ["".join(lines[:i] + lines[i + 1 :]) for i, line in enumerate(lines) if line[:1] in (" ", "\t")]
    return [*(statements if len(body) > 1 else []), *indented]


@pytest.mark.parametrize("rule", ALL_RULES, ids=[rule.code for rule in ALL_RULES])
def test_a_buffer_without_each_statement_or_line_and_with_it_again_is_checked_as_afresh(
    rule: type[Rule], tmp_path: Path
) -> None:
    compared = reported = 0
    for i, example in enumerate([*rule.INVALID, *rule.VALID]):
        texts = _edits(example.code)
        if not texts:
            continue
        workspace, path = _workspace(rule, example, tmp_path / str(i))
        original = workspace.check(path, example.code).diagnostics
        assert original == full_check(workspace, path, example.code).diagnostics, (i, "as opened")
        for n, text in enumerate(texts):
            for step, now in (("removed", text), ("put back", example.code)):
                found = workspace.check(path, now).diagnostics
                assert found == full_check(workspace, path, now).diagnostics, (i, n, step)
                compared += 1
            assert found == original, (i, n)
        reported += bool(original)
    if rule.INVALID and any(_edits(e.code) for e in rule.INVALID):
        assert compared and reported, (compared, reported)
