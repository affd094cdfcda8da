"""A partner with its extension fields, for the partner detail page."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db.session import SessionLocal
from app.models.partner import Partner


class ExtensionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    field_name: str
    field_value: Optional[str] = None


class PartnerOverview(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    extensions: list[ExtensionRead] = []


async def extension_fields(partner_id: int) -> dict[str, Optional[str]]:
    async with SessionLocal() as db:
        partner = await db.get(Partner, partner_id, options=[selectinload(Partner.extensions)])
        print(f"Loaded partner {partner.id}: {partner.name}")
        return {ext.field_name: ext.field_value for ext in partner.extensions}


async def partner_overview(db: AsyncSession, partner_id: int) -> PartnerOverview:
    result = await db.execute(
        select(Partner).where(Partner.id == partner_id).options(selectinload(Partner.extensions))
    )
    partner = result.scalar_one()
    return PartnerOverview.model_validate(partner)
