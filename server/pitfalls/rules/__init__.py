"""The rule catalog. Adding a rule: write the module, then list its class here."""

from __future__ import annotations

from pitfalls.rules.base import Rule
from pitfalls.rules.pf000_parse_error import ParseError

ALL_RULES: list[type[Rule]] = [
    ParseError,
]

RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}
