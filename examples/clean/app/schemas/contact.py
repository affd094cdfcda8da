from __future__ import annotations

from typing import Optional

from pydantic import ConfigDict

from app.framework.schemas import CompanyBusinessObjectSchema


class ContactBase(CompanyBusinessObjectSchema):
    partner_id: int
    name: str
    email: Optional[str] = None
    phone: Optional[str] = None


class ContactCreate(ContactBase):
    pass


class ContactRead(ContactBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
