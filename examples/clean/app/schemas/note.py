from __future__ import annotations

from typing import Optional

from pydantic import BaseModel

from app.framework.schemas import CompanyBusinessObjectSchema


class PartnerNoteCreate(CompanyBusinessObjectSchema):
    partner_id: int
    body: str


class PartnerNoteUpdate(BaseModel):
    body: Optional[str] = None
