"""The mixins of a business object model, in the documented order:

    class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Optional

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

if TYPE_CHECKING:
    # app.services.events imports this module: only the type checker follows this import.
    from app.services.events import MessagingService


class BusinessObjectMixin:
    """Soft delete and timestamps."""

    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[Optional[datetime]] = mapped_column(onupdate=func.now())

    def to_dict(self) -> dict[str, Any]:
        return {column.key: getattr(self, column.key) for column in self.__table__.columns}


class AuditableMixin:
    """Changes to the object are written to the audit log."""

    __audit_exclude__: tuple[str, ...] = ("created_at", "updated_at")

    def audit_changes(self, old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            key: {"old": old.get(key), "new": value}
            for key, value in new.items()
            if key not in self.__audit_exclude__ and old.get(key) != value
        }

    def get_audit_service(self, db: AsyncSession):
        # app.services.audit_service imports this module: import it when it is needed.
        from app.services.audit_service import AuditService

        return AuditService(db)


class EventPublisherMixin:
    """Creating and changing the object publishes events to a Redis stream."""

    __event_stream__ = "business_object_events"

    def event_payload(self) -> dict[str, Any]:
        return {"id": getattr(self, "id", None), "company_id": getattr(self, "company_id", None)}

    async def publish_event(self, messaging: MessagingService, event: str, correlation_id: Optional[str] = None) -> str:
        return await messaging.publish_entity_event(self, event, correlation_id)
