from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import get_current_user_company
from app.db.session import get_db
from app.framework import Page
from app.schemas import PartnerCreate, PartnerCreateBase, PartnerRead
from app.services.partner_extensions import PartnerExtensionService
from app.services.partner_service import PartnerFrameworkService, PartnerLookupService
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
        created.append((await service.create(data)).id)
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


@router.post("/quick", response_model=PartnerRead, status_code=201)
async def quick_create_partner(
    name: str,
    email: Optional[str] = None,
    company_id: int = Depends(get_current_user_company),
    db: AsyncSession = Depends(get_db),
):
    data = PartnerCreate(name=name, email=email)
    return await PartnerFrameworkService(db).create_partner(data)


@router.get("/", response_model=Page[PartnerRead])
async def list_partners(
    company_id: int = Depends(get_current_user_company),
    db: AsyncSession = Depends(get_db),
) -> Page[PartnerRead]:
    partners = await PartnerFrameworkService(db).get_list(company_id)
    return Page[PartnerRead](items=[PartnerRead.model_validate(p) for p in partners], total=len(partners))


@router.get("/lookup")
async def lookup_partner(email: str, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    partner = await PartnerLookupService(db).find_by_email(email)
    return {"exists": partner is not None}


@router.put("/{partner_id}/credit-limit")
async def set_credit_limit(partner_id: int, limit: Decimal, db: AsyncSession = Depends(get_db)) -> dict[str, Any]:
    await PartnerExtensionService(db).set_credit_limit(partner_id, limit)
    return {"partner_id": partner_id, "credit_limit": str(limit)}
