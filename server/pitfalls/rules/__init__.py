"""The rule catalog: every ``pfNNN_*.py`` module in this package, collected by code.

A rule is added by writing its module; nothing else needs to list it.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable

from pitfalls.core.rule import Rule


def _collect() -> list[type[Rule]]:
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if not (info.name.startswith("pf") and info.name[2:5].isdigit()):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two rules claim {value.code}: {found[value.code].__name__}, {value.__name__}")
                found[value.code] = value
    return [found[code] for code in sorted(found)]


ALL_RULES: list[type[Rule]] = _collect()
RULES_BY_CODE: dict[str, type[Rule]] = {rule.code: rule for rule in ALL_RULES}


def runnable(rules: Iterable[type[Rule]]) -> list[type[Rule]]:
    """The rules a traversal runs: PF000 (a file that cannot be read or parsed) is not
    one of them, parsing reports it."""
    return [rule for rule in rules if rule.code != "PF000"]
