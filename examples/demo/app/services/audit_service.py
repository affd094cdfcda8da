"""The audit log of business objects."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Optional

from sqlalchemy.ext.asyncio import AsyncSession

from app.framework.mixins import AuditableMixin
from app.schemas import AuditEvent

logger = logging.getLogger(__name__)


class AuditService:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self.entries: list[AuditEvent] = []

    def log_change(
        self,
        entity: AuditableMixin,
        action: str,
        old: dict[str, Any],
        new: dict[str, Any],
        user_id: Optional[int] = None,
        correlation_id: Optional[str] = None,
    ) -> AuditEvent:
        entry = AuditEvent(
            action=action,
            entity_id=getattr(entity, "id", None),
            user_id=user_id,
            correlation_id=correlation_id or str(uuid.uuid4()),
            changes=entity.audit_changes(old, new),
        )
        self.entries.append(entry)
        logger.info("Audit %s on %s: %s", action, entry.entity_id, sorted(entry.changes))
        return entry
