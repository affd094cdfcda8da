"""Partner import from a CSV upload, and the nightly count for the dashboard."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.session import get_db, get_db_session
from app.models.partner import Partner
from app.schemas import PartnerCreate
from app.services.partner_service import PartnerFrameworkService


async def import_partners(rows: list[dict], db: Session = Depends(get_db)) -> list[int]:
    service = PartnerFrameworkService(db)
    created = []
    for row in rows:
        if db.query(Partner).filter(Partner.email == row["email"]).first():
            continue
        partner = service.create_partner(PartnerCreate(**row))
        created.append(partner.id)
    db.commit()
    return created


async def count_partners() -> int:
    async with get_db() as db:
        return await db.scalar(select(func.count(Partner.id)))


async def count_partners_from_session() -> int:
    async with get_db_session() as db:
        return await db.scalar(select(func.count(Partner.id)))


def partner_from_row(row: dict, company_id: int) -> Partner:
    return Partner(
        company_id=company_id,
        name=row["name"],
        email=row.get("email"),
        website=row.get("website"),
    )
