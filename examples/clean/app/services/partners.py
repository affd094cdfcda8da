"""The partner business object service."""

from __future__ import annotations

import uuid
from typing import Iterable, Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Partner, PartnerExtension
from app.schemas import PartnerCreate
from app.services.events import MessagingService


class ExtensionValues:
    """The custom field values of one partner (a plain class, not a pydantic model)."""

    def __init__(self, rows: Iterable[PartnerExtension]) -> None:
        self._values = {row.field_name: row.field_value for row in rows}

    def dict(self) -> dict[str, Optional[str]]:
        return dict(self._values)


class PartnerService:
    def __init__(self, db: AsyncSession, messaging: Optional[MessagingService] = None) -> None:
        self.db = db
        self.messaging = messaging or MessagingService()

    async def create_partner(self, data: PartnerCreate) -> Partner:
        partner = Partner(**data.model_dump())
        self.db.add(partner)
        await self.db.commit()
        await self.db.refresh(partner)
        await self.messaging.publish_partner_created(
            partner.id, data.model_dump(), correlation_id=str(uuid.uuid4())
        )
        return partner

    async def get_list(self, company_id: int) -> list[Partner]:
        result = await self.db.execute(
            select(Partner).where(Partner.company_id == company_id, Partner.is_active.is_(True))
        )
        return list(result.scalars())

    async def get_extensions(self, partner_id: int) -> ExtensionValues:
        result = await self.db.execute(
            select(PartnerExtension).where(PartnerExtension.entity_id == partner_id)
        )
        return ExtensionValues(result.scalars())
