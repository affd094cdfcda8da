"""The pydantic schemas business object schemas derive from."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class CompanyBusinessObjectSchema(BaseModel):
    company_id: int = Field(..., description="Company ID is required")


class Page(BaseModel, Generic[T]):
    """One page of a list endpoint: `response_model=Page[PartnerRead]`."""

    items: list[T]
    total: int
