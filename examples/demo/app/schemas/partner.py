from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class PartnerCreateBase(BaseModel):
    name: str = Field(..., description="Partner name is required")
    email: Optional[str] = None


class PartnerCreate(PartnerCreateBase):
    company_id: int = Field(..., description="Company ID is required")


class PartnerRead(PartnerCreate):
    model_config = ConfigDict(from_attributes=True)

    id: int
    is_active: bool = True
