"""How a SQLAlchemy ``relationship(...)`` (or SQLModel ``Relationship(...)``) class attribute
loads, read from its call for the module summary (``ClassInfo.relationships``)."""

from __future__ import annotations

from typing import Callable

import libcst as cst

from pitfalls.core import names

# SQLAlchemy's `relationship` and its aliases, SQLModel's `Relationship`.
FACTORIES = frozenset({"relationship", "relation", "dynamic_loader", "Relationship"})
ANNOTATIONS = {"DynamicMapped": "dynamic", "WriteOnlyMapped": "write_only"}
CONSTANTS = {"True": "select", "False": "joined", "None": "noload"}


def loader_strategy(
    value: cst.BaseExpression | None, annotation: cst.BaseExpression | None, qualify: Callable[[str], str]
) -> str | None:
    """The ``lazy=`` strategy of a relationship attribute assigned ``value`` (``"select"``
    by default; ``"dynamic"``/``"write_only"`` from the annotation; ``"?"`` when the source
    does not say); None when ``value`` is no relationship. ``qualify`` resolves a dotted
    name through the module's imports."""
    if not isinstance(value, cst.Call) or names.dotted(value.func) is None:
        return None
    module, _, factory = qualify(names.dotted(value.func) or "").rpartition(".")
    if factory not in FACTORIES:
        return None
    if module.partition(".")[0] not in ("sqlalchemy", "sqlmodel"):
        return "?"  # a project's own `relationship()` may set its own default
    outer = names.last_name(annotation.value) if isinstance(annotation, cst.Subscript) else None
    if outer in ANNOTATIONS:
        return ANNOTATIONS[outer]
    if factory == "dynamic_loader":
        return "dynamic"
    lazy: cst.BaseExpression | None = None
    for arg in value.args:
        if arg.star:
            return "?"
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword == "lazy":
            lazy = arg.value
        elif keyword == "sa_relationship":  # SQLModel: the relationship itself
            return loader_strategy(arg.value, None, qualify) or "?"
        elif keyword == "sa_relationship_kwargs":
            if not isinstance(arg.value, cst.Dict):
                return "?"
            for element in arg.value.elements:
                if not isinstance(element, cst.DictElement):
                    return "?"
                if names.string_value(element.key) == "lazy":
                    lazy = element.value
    if lazy is None:
        return "select"
    text = names.string_value(lazy)
    return text if text is not None else CONSTANTS.get(names.dotted(lazy) or "", "?")
