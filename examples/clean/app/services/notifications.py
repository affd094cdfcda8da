"""Partner notifications: the events a partner change publishes."""

from __future__ import annotations

from app.framework import EventPublisherMixin
from app.services.events import MessagingService


async def notify_partner_changed(entity: EventPublisherMixin, messaging: MessagingService) -> str:
    return await messaging.publish(entity.__event_stream__, "partner.changed", entity.event_payload())
