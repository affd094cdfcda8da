"""Creating articles in Directus, with an audit trail."""

from __future__ import annotations

import logging
import uuid

from app.schemas import AuditEvent, DirectusArticle
from app.services.directus import DirectusClient

logger = logging.getLogger(__name__)


class ArticleService:
    def __init__(self, directus: DirectusClient) -> None:
        self.directus = directus
        self.audit_trail: list[AuditEvent] = []

    def create_article(self, title: str, body: str, user_id: int) -> int:
        correlation_id = str(uuid.uuid4())
        article_data = DirectusArticle(
            title=title,
            body=body,
            processing_status="pending",
        )
        result = self.directus.create_item("articles", article_data)
        article_id = result["data"]["id"]  # the database assigns it
        self.audit_trail.append(
            AuditEvent(
                action="article.created",
                entity_id=article_id,
                user_id=user_id,
                correlation_id=correlation_id,
                changes={"title": {"old": None, "new": title}},
            )
        )
        logger.info("Created article %s (correlation %s)", article_id, correlation_id)
        return article_id

    def recent_titles(self) -> list[str]:
        result = self.directus.read_items("articles")
        return [item["title"] for item in result["data"]]
