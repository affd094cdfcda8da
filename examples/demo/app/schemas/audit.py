from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from pydantic import BaseModel, Field

from app.framework.mixins import AuditableMixin, EventPublisherMixin


class AuditEvent(BaseModel):
    action: str
    entity_id: Optional[int] = None
    user_id: Optional[int] = None
    correlation_id: str
    changes: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))


class PartnerChangeEvent(EventPublisherMixin, AuditableMixin, BaseModel):
    """A change made to a partner outside the database (an import, a sync), published and
    audited like the model's own changes. A pydantic model: no table, no declarative base."""

    __event_stream__ = "partner_events"

    id: int
    company_id: int
    changes: dict[str, Any] = Field(default_factory=dict)
