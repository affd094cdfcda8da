from __future__ import annotations

import asyncio
import time

import httpx
import requests
from fastapi import APIRouter

from app.core.config import DIRECTUS_URL
from app.db.diagnostics import check_database_connection, run_framework_diagnostics

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, bool]:
    return await run_framework_diagnostics()


@router.get("/health/directus")
async def directus_health() -> dict[str, str]:
    response = requests.get(f"{DIRECTUS_URL}/server/ping", timeout=5)
    return {"directus": response.text}


@router.get("/health/directus/info")
async def directus_info() -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{DIRECTUS_URL}/server/info")
    return response.json()


@router.post("/health/wait-for-db")
async def wait_for_db(attempts: int = 5) -> dict[str, int]:
    for attempt in range(1, attempts + 1):
        if await check_database_connection():
            return {"attempts": attempt}
        time.sleep(2)
    return {"attempts": attempts}


@router.post("/health/wait-for-directus")
async def wait_for_directus(attempts: int = 5) -> dict[str, int]:
    async with httpx.AsyncClient(timeout=5) as client:
        for attempt in range(1, attempts + 1):
            try:
                await client.get(f"{DIRECTUS_URL}/server/ping")
                return {"attempts": attempt}
            except httpx.TransportError:
                await asyncio.sleep(2)
    return {"attempts": attempts}
