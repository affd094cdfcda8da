"""The declarative base and the company-scoped base model of every business object."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class CompanyBaseModel(Base):
    """A business object belongs to one company; every query is scoped by `company_id`."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(index=True)
