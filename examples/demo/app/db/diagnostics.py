"""Framework health checks: database, extension tables, Redis."""

from __future__ import annotations

import logging

import redis
from sqlalchemy import text

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
        for table in EXTENSION_TABLES:
            try:
                await db.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))
                status[table] = True
            except Exception as e:
                logger.warning("Table %s missing: %s", table, e)
                status[table] = False
    return status



async def find_extension_fields(search: str) -> list[str]:
    """Extension fields whose name contains what the admin typed in the search box."""
    async with get_db_session() as db:
        result = await db.execute(
            text(f"SELECT field_name FROM business_object_extensions WHERE field_name LIKE '%{search}%'")
        )
        return list(result.scalars())

async def check_redis_connection() -> bool:
    try:
        redis_client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
        redis_client.ping()
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
