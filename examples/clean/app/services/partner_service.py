"""The partner services on the business object framework (replacing app.services.partners)."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.framework.services import BusinessObjectService, CompanyBusinessObjectService
from app.models.partner import Partner
from app.schemas import PartnerCreate, PartnerUpdate


class PartnerFrameworkService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
    def __init__(self, db: AsyncSession):
        super().__init__(db, Partner)

    async def create_partner(self, data: PartnerCreate) -> Partner:
        return await self.create(data)

    async def deactivate(self, partner_id: int) -> Optional[Partner]:
        return await self.update(partner_id, PartnerUpdate(is_active=False))


class PartnerLookupService(BusinessObjectService[Partner]):
    """Look-ups across companies (duplicate checks on import)."""

    def __init__(self, db: AsyncSession):
        super().__init__(Partner)
        self.db = db

    async def find_by_email(self, email: str) -> Optional[Partner]:
        result = await self.db.execute(select(Partner).where(Partner.email == email))
        return result.scalars().first()
