from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import get_current_user_company
from app.db.session import get_db
from app.schemas import PartnerCreate, PartnerCreateBase, PartnerRead
from app.services.partners import PartnerService

router = APIRouter(prefix="/partners", tags=["partners"])


@router.post("/", response_model=PartnerRead, status_code=201)
async def create_partner(
    partner_data: PartnerCreateBase,
    company_id: int = Depends(get_current_user_company),
    db: AsyncSession = Depends(get_db),
):
    # Add company_id automatically
    full_data = PartnerCreate(
        **partner_data.dict(),
        company_id=company_id,
    )
    return await PartnerService(db).create_partner(full_data)


@router.post("/import")
async def import_partners(
    rows: list[dict[str, Any]],
    company_id: int = Depends(get_current_user_company),
    db: AsyncSession = Depends(get_db),
) -> dict[str, Any]:
    service = PartnerService(db)
    created: list[int] = []
    rejected: list[dict[str, Any]] = []
    for row in rows:
        try:
            data = PartnerCreate(**row, company_id=company_id)
        except ValidationError as e:
            rejected.append({"row": row, "missing": [error["loc"] for error in e.errors]})
            continue
        created.append((await service.create_partner(data)).id)
    return {"created": created, "rejected": rejected}


@router.get("/{partner_id}/extensions")
async def partner_extensions(partner_id: int, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    extensions = await PartnerService(db).get_extensions(partner_id)
    return {"partner_id": partner_id, "extensions": extensions.dict()}


@router.post("/validate")
async def validate_partner(row: dict[str, Any]) -> dict[str, Any]:
    try:
        PartnerCreate(**row)
    except ValidationError as e:
        return {"valid": False, "errors": [{"field": err["loc"], "msg": err["msg"]} for err in e.errors()]}
    return {"valid": True, "errors": []}
