from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.db.diagnostics import run_framework_diagnostics
from app.routers import articles, health, partners, reports


@asynccontextmanager
async def lifespan(app: FastAPI):
    await run_framework_diagnostics()
    yield


app = FastAPI(title="M-ERP backend", lifespan=lifespan)
app.include_router(partners.router)
app.include_router(articles.router)
app.include_router(health.router)
app.include_router(reports.router)
