"""The reporting database, and the legacy sync session the admin reports still use."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

REPORTING_DATABASE_URL = "postgresql+psycopg2://localhost:5432/merp_reports"

reporting_engine = create_async_engine(REPORTING_DATABASE_URL, pool_pre_ping=True)
ReportingSession = async_sessionmaker(reporting_engine, expire_on_commit=False)

legacy_engine = create_engine("postgresql+psycopg2://localhost:5432/merp")
LegacySession = sessionmaker(bind=legacy_engine, autoflush=False)

router = APIRouter()


def get_legacy_db():
    db = LegacySession()
    try:
        yield db
    finally:
        db.close()


@router.get("/reports/partners/count")
async def partner_count(db: Session = Depends(get_legacy_db)) -> int:
    return db.execute(text("SELECT count(*) FROM partners")).scalar_one()


@router.get("/reports/partners/active")
def active_partner_count(db: Session = Depends(get_legacy_db)) -> int:
    return db.execute(text("SELECT count(*) FROM partners WHERE is_active")).scalar_one()
