"""Publishing business object events to Redis streams."""

from __future__ import annotations

import json
import uuid
from typing import Any

from redis import asyncio as aioredis

from app.core.config import EVENT_PUBLISHING_ENABLED, REDIS_URL
from app.framework.mixins import EventPublisherMixin


class MessagingService:
    def __init__(self, url: str = REDIS_URL) -> None:
        self.client = aioredis.Redis.from_url(url)

    async def ping(self) -> bool:
        return await self.client.ping()

    async def publish(self, stream: str, event: str, payload: dict[str, Any], correlation_id: str | None = None) -> str:
        if not EVENT_PUBLISHING_ENABLED:
            return ""
        message = {
            "event": event,
            "payload": json.dumps(payload, default=str),
            "correlation_id": correlation_id or str(uuid.uuid4()),
        }
        return await self.client.xadd(stream, message)

    async def publish_partner_created(self, partner_id: int, partner_data: dict[str, Any], correlation_id: str) -> str:
        return await self.publish("partner_events", "partner.created", {"id": partner_id, **partner_data}, correlation_id)

    async def publish_entity_event(self, entity: EventPublisherMixin, event: str, correlation_id: str | None = None) -> str:
        return await self.publish(entity.__event_stream__, event, entity.event_payload(), correlation_id)
