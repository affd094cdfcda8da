"""Partner notifications: the events a partner change publishes."""

from __future__ import annotations

from directus_sdk_py import DirectusClient

from app.framework import EventPublisherMixin, MessagingService
from app.framework.events import partner_stream


async def notify_partner_changed(entity: EventPublisherMixin, messaging: MessagingService) -> str:
    return await messaging.publish(partner_stream(entity), "partner.changed", entity.event_payload())


def directus_client(url: str, token: str) -> DirectusClient:
    return DirectusClient(url, token=token)
