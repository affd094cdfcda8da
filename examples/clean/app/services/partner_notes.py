"""Notes on partners: edits are written to the audit log, new notes published as events."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from app.framework.services import CompanyBusinessObjectService
from app.models.note import PartnerNote
from app.schemas.note import PartnerNoteCreate, PartnerNoteUpdate
from app.services.audit_service import AuditService
from app.services.events import MessagingService


class PartnerNoteService(CompanyBusinessObjectService[PartnerNote, PartnerNoteCreate, PartnerNoteUpdate]):
    def __init__(
        self,
        db: AsyncSession,
        messaging_service: Optional[MessagingService] = None,
        audit_service: Optional[AuditService] = None,
    ) -> None:
        super().__init__(db, PartnerNote, messaging_service, audit_service)
