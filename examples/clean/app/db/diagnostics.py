"""Framework health checks: database, extension tables, Redis."""

from __future__ import annotations

import logging

from redis import asyncio as aioredis
from sqlalchemy import literal_column, select, table, text

from app.core.config import REDIS_HOST, REDIS_PORT
from app.db.session import get_db_session

logger = logging.getLogger(__name__)

EXTENSION_TABLES = [
    "business_object_extensions",
    "business_object_validators",
    "business_object_field_definitions",
]


async def check_database_connection() -> bool:
    try:
        async with get_db_session() as db:
            await db.execute(text("SELECT 1"))
        return True
    except Exception as e:
        logger.error("Database connection failed: %s", e)
        return False


async def check_extension_tables() -> dict[str, bool]:
    status: dict[str, bool] = {}
    async with get_db_session() as db:
        for name in EXTENSION_TABLES:
            try:
                await db.execute(select(literal_column("1")).select_from(table(name)).limit(1))
                status[name] = True
            except Exception as e:
                logger.warning("Table %s missing: %s", name, e)
                status[name] = False
    return status



async def find_extension_fields(search: str) -> list[str]:
    """Extension fields whose name contains what the admin typed in the search box."""
    async with get_db_session() as db:
        result = await db.execute(
            text("SELECT field_name FROM business_object_extensions WHERE field_name LIKE :pattern"),
            {"pattern": f"%{search}%"},
        )
        return list(result.scalars())

async def check_redis_connection() -> bool:
    try:
        redis_client = aioredis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
        await redis_client.ping()
        await redis_client.aclose()
        return True
    except Exception as e:
        logger.error("Redis error: %s", e)
        return False


async def run_framework_diagnostics() -> dict[str, bool]:
    extensions = await check_extension_tables()
    return {
        "database": await check_database_connection(),
        "extensions": all(extensions.values()),
        "redis": await check_redis_connection(),
    }
