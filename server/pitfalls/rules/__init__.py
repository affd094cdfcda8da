"""The rule catalog: every ``pfNNN_<name>.py`` module in this package, collected by code.

A rule is added by writing its module; nothing else needs to list it. A module's file name
says its rule's code and name (``pf101_manual_uuid_id.py``: PF101 ``manual-uuid-id``), so
:data:`CODES` and :data:`NAMES` are known without importing a rule: a run whose results all
come from the cache never loads the rules (nor libcst, which they need). ``ALL_RULES`` and
``RULES_BY_CODE`` import every rule module on first use, and check that each holds the rule
its file name says.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from pitfalls.core.rule import Rule

_RULE_MODULE = re.compile(r"pf(\d{3})_(\w+)")


def _modules() -> dict[str, tuple[str, str]]:
    """Code -> (module name, rule name), from the file names alone."""
    found: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(__path__):
        match = _RULE_MODULE.fullmatch(info.name)
        if match is not None:
            found[f"PF{match.group(1)}"] = (info.name, match.group(2).replace("_", "-"))
    return dict(sorted(found.items()))


_MODULES = _modules()
CODES: tuple[str, ...] = tuple(_MODULES)
NAMES: dict[str, str] = {code: name for code, (_, name) in _MODULES.items()}


@functools.cache
def load() -> list[type[Rule]]:
    """Every rule class, by code: their modules imported (once)."""
    from pitfalls.core.rule import Rule

    rules: list[type[Rule]] = []
    for code, (module_name, name) in _MODULES.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        found = [
            value for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule
            and value.__module__ == module.__name__
        ]
        if [(r.code, r.name) for r in found] != [(code, name)]:
            raise RuntimeError(f"{module.__name__} must hold one rule, {code} {name}: it holds {found}")
        rules.extend(found)
    return rules


def __getattr__(attribute: str) -> Any:
    """``ALL_RULES`` and ``RULES_BY_CODE``, the rule classes, imported when first asked for."""
    if attribute == "ALL_RULES":
        value: Any = load()
    elif attribute == "RULES_BY_CODE":
        value = {rule.code: rule for rule in load()}
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
    globals()[attribute] = value
    return value


def runnable(rules: Iterable[type[Rule]]) -> list[type[Rule]]:
    """The rules a traversal runs: PF000 (a file that cannot be read or parsed) is not
    one of them, parsing reports it."""
    return [rule for rule in rules if rule.code != "PF000"]
