"""A thin Directus REST client for the API Agent user."""

from __future__ import annotations

import logging
from typing import Any, Optional

import httpx
import requests

from app.core.config import DirectusConfig, directus_config
from app.schemas import DirectusArticle

logger = logging.getLogger(__name__)


class DirectusAuthenticationError(Exception):
    pass


class DirectusClient:
    def __init__(self, config: DirectusConfig = directus_config) -> None:
        self.config = config
        self.base_url = config.url.rstrip("/")
        self.token: Optional[str] = None

    def login(self) -> str:
        logger.debug("Authenticating as %s", self.config.api_agent_email)
        auth_response = requests.post(f"{self.base_url}/auth/login", json={
            "email": self.config.api_agent_email,
            "password": self.config.api_agent_password,
        }, timeout=self.config.request_timeout)
        if auth_response.status_code != 200:
            raise DirectusAuthenticationError(f"Invalid API Agent credentials: {auth_response.json()}")
        self.token = auth_response.json()["data"]["access_token"]
        logger.debug("Authenticated with Directus")
        return self.token

    def _headers(self) -> dict[str, str]:
        if self.token is None:
            self.login()
        return {"Authorization": f"Bearer {self.token}"}

    def get_items(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        response = requests.get(
            f"{self.base_url}/items/{collection}",
            params=params,
            headers=self._headers(),
            timeout=self.config.request_timeout,
        )
        response.raise_for_status()
        return response.json()["data"]

    def read_items(self, collection: str, **params: Any) -> dict[str, Any]:
        return {"data": self.get_items(collection, **params)}

    def create_item(self, collection: str, item: DirectusArticle) -> dict[str, Any]:
        response = requests.post(
            f"{self.base_url}/items/{collection}",
            json=item.model_dump(exclude_none=True),
            headers=self._headers(),
            timeout=self.config.request_timeout,
        )
        response.raise_for_status()
        return response.json()


def server_info(base_url: str = directus_config.url) -> dict[str, Any]:
    """Is Directus reachable? (httpx has a 5 s default timeout.)"""
    response = httpx.get(f"{base_url}/server/info")
    return response.json()
