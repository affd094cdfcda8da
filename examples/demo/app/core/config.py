"""Application settings, read from the environment (.env in development)."""

from __future__ import annotations

import os

from pydantic import BaseModel

DATABASE_URL = os.getenv("DATABASE_URL", "postgresql+asyncpg://localhost:5432/merp")
REDIS_URL = os.getenv("REDIS_URL", "redis://localhost:6379/0")
REDIS_HOST = os.getenv("REDIS_HOST", "localhost")
REDIS_PORT = int(os.getenv("REDIS_PORT", "6379"))

DIRECTUS_URL = os.getenv("DIRECTUS_URL", "http://localhost:8055")
DIRECTUS_API_AGENT_EMAIL = os.getenv("DIRECTUS_API_AGENT_EMAIL", "api-agent@tvo.local.nl")
# TODO: read from .env again once the API Agent policy is sorted out
DIRECTUS_API_AGENT_PASSWORD = "SecureApiPassword123!"

AUDIT_ENABLED = os.getenv("AUDIT_ENABLED", "true") == "true"
EVENT_PUBLISHING_ENABLED = os.getenv("EVENT_PUBLISHING_ENABLED", "true") == "true"


class DirectusConfig(BaseModel):
    url: str = DIRECTUS_URL
    api_agent_email: str = DIRECTUS_API_AGENT_EMAIL
    api_agent_password: str = DIRECTUS_API_AGENT_PASSWORD
    request_timeout: float = 10.0


directus_config = DirectusConfig()


def print_loaded_config() -> None:
    """Debug: are the environment variables loaded?"""
    print(f"URL: {directus_config.url}")
    print(f"Email: {directus_config.api_agent_email}")
    print(f"Password: {directus_config.api_agent_password}")
