"""Everything a rule author imports, in one place: ``from pitfalls.rules.api import ...``."""

from pitfalls.core.context import NodeEdit, PendingFix, RuleContext
from pitfalls.core.diagnostics import Applicability, Severity
from pitfalls.core.kept_reports import name_mediated
from pitfalls.core.rule import Example, Invalid, Rule, Valid

__all__ = [
    "Applicability", "Example", "Invalid", "NodeEdit", "PendingFix", "Rule", "RuleContext", "Severity", "Valid",
    "name_mediated",
]
