"""Extension (custom) fields: values stored in `business_object_extensions`, validated by type."""

from __future__ import annotations

import json
import operator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import Numeric, Select, cast, column, select, table

SUPPORTED_FIELD_TYPES = ["string", "integer", "decimal", "boolean", "date", "datetime", "json"]

# `extension_filters={"credit_limit__gte": "5000.00"}`: the operator after the last `__`.
SUPPORTED_FILTER_OPERATORS = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "contains"]

_EXTENSIONS = table(
    "business_object_extensions",
    column("entity_type"),
    column("entity_id"),
    column("field_name"),
    column("field_value"),
)

# Patterns for string extension fields (not field types of their own).
CUSTOM_FIELD_TYPES = {
    "email": {"pattern": r"^[^@]+@[^@]+\.[^@]+$"},
    "phone": {"pattern": r"^\+?[\d\s\-\(\)]+$"},
    "url": {"pattern": r"^https?://.*"},
}


def validate_field_type(field_type: str) -> None:
    if field_type not in SUPPORTED_FIELD_TYPES:
        raise ValueError(
            f"Invalid field type '{field_type}'. Supported types: {', '.join(SUPPORTED_FIELD_TYPES)}"
        )


def serialize_value(field_type: str, value: Any) -> Optional[str]:
    """The text stored for a value of an extension field."""
    if value is None:
        return None
    if field_type == "json":
        return json.dumps(value)
    if field_type == "boolean":
        return "true" if value else "false"
    if field_type in ("date", "datetime") and isinstance(value, (date, datetime)):
        return value.isoformat()
    if field_type == "decimal":
        return str(Decimal(str(value)))
    return str(value)


def extension_filter(entity_type: str, key: str, value: Any) -> Select:
    """The ids of the `entity_type` objects whose extension field matches one filter:
    `credit_limit__gte` compares `credit_limit`; a key without `__` tests equality."""
    field_name, op = key.rsplit("__", 1) if "__" in key else (key, "eq")
    if op not in SUPPORTED_FILTER_OPERATORS:
        raise ValueError(
            f"Unsupported filter operator '{op}'. Supported operators: {', '.join(SUPPORTED_FILTER_OPERATORS)}"
        )
    stored = _EXTENSIONS.c.field_value
    if op == "in":
        condition = stored.in_([str(v) for v in value])
    elif op == "contains":
        condition = stored.contains(str(value))
    elif op in ("eq", "ne"):
        condition = getattr(operator, op)(stored, str(value))
    else:
        compare = getattr(operator, {"gte": "ge", "lte": "le"}.get(op, op))
        condition = compare(cast(stored, Numeric), Decimal(str(value)))
    return select(_EXTENSIONS.c.entity_id).where(
        _EXTENSIONS.c.entity_type == entity_type,
        _EXTENSIONS.c.field_name == field_name,
        condition,
    )
