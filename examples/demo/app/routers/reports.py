"""Partner reports (work in progress)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.session import get_db
from app.services.partners import PartnerService

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/partners/{company_id}")
async def partner_report(company_id: int, db: AsyncSession = Depends(get_db):
    partners = await PartnerService(db).get_list(company_id)
    return {"company_id": company_id, "partners": len(partners)}
