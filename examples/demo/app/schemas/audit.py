from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from pydantic import BaseModel, Field


class AuditEvent(BaseModel):
    action: str
    entity_id: Optional[int] = None
    user_id: Optional[int] = None
    correlation_id: str
    changes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
