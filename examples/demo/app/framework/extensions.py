"""Extension (custom) fields: values stored in `business_object_extensions`, validated by type."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

SUPPORTED_FIELD_TYPES = ["string", "integer", "decimal", "boolean", "date", "datetime", "json"]

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
