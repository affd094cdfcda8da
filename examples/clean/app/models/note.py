"""Notes on a partner: call and meeting minutes, audited and published to the partner's event stream."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.framework.base import CompanyBaseModel
from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin


class PartnerNote(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
    __tablename__ = "partner_notes"
    __event_stream__ = "partner_events"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
