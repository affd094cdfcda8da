from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from app.framework.schemas import CompanyBusinessObjectSchema


class PartnerCreateBase(BaseModel):
    """The request body: the company comes from the token, not from the client."""

    name: str = Field(..., description="Partner name is required")
    email: Optional[str] = None


class PartnerBase(CompanyBusinessObjectSchema):
    name: str = Field(..., description="Partner name is required")
    email: Optional[str] = None


class PartnerCreate(PartnerBase):
    pass


class PartnerUpdate(BaseModel):
    name: Optional[str] = None
    email: Optional[str] = None
    is_active: Optional[bool] = None


class PartnerRead(PartnerBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    is_active: bool = True
