"""Partner notifications: the events a partner change publishes."""

from __future__ import annotations

from app.framework import EventPublisherMixin, MessagingService
from app.framework.events import partner_stream


async def notify_partner_changed(entity: EventPublisherMixin, messaging: MessagingService) -> str:
    return await messaging.publish(partner_stream(entity), "partner.changed", entity.event_payload())
