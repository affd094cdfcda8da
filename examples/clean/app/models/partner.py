"""SQLAlchemy models of the partner business object."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.framework.base import Base, CompanyBaseModel
from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin

if TYPE_CHECKING:
    # app.services.partner_service imports this module: only the type checker follows this import.
    from app.services.partner_service import PartnerFrameworkService


class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
    __tablename__ = "partners"
    __event_stream__ = "partner_events"

    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[Optional[str]] = mapped_column(String(320))

    extensions: Mapped[list["PartnerExtension"]] = relationship(back_populates="partner")

    async def deactivate(self, service: PartnerFrameworkService) -> None:
        """Deactivate through the service, so that the change is audited and published."""
        await service.deactivate(self.id)


class PartnerExtension(Base):
    __tablename__ = "business_object_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(50), default="partners")
    entity_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    field_name: Mapped[str] = mapped_column(String(100))
    field_type: Mapped[str] = mapped_column(String(20))
    field_value: Mapped[Optional[str]]

    partner: Mapped[Partner] = relationship(back_populates="extensions")
