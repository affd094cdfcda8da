"""Extension fields of partners: credit limit, VAT number, loyalty tier."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from sqlalchemy.ext.asyncio import AsyncSession

from app.framework import CompanyBusinessObjectService
from app.models import Partner
from app.services.events import MessagingService


class PartnerExtensionService(CompanyBusinessObjectService[Partner]):
    def __init__(self, db: AsyncSession, messaging_service: Optional[MessagingService] = None) -> None:
        super().__init__(db, Partner, messaging_service)

    async def set_credit_limit(self, partner_id: int, limit: Decimal) -> None:
        await self.set_extension(
            entity_id=partner_id,
            field_name="credit_limit",
            field_type="decimal",
            field_value=str(limit),
        )

    async def set_vat_number(self, partner_id: int, vat_number: str) -> None:
        await self.set_extension(partner_id, "vat_number", "strng", vat_number.replace(" ", "").upper())

    async def gold_partners_over(self, company_id: int, limit: Decimal) -> list[Partner]:
        return await self.get_list(
            company_id,
            extension_filters={"loyalty_tier": "gold", "credit_limit__greater_than": str(limit)},
        )

    async def set_loyalty_tier(self, partner_id: int, tier: str) -> None:
        await self.set_extension(
            entity_id=partner_id,
            field_name="loyalty_tier",
            field_type="custom_type",
            field_value=tier,
        )
