"""Articles live in the Directus `articles` collection (auto-increment integer ids)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field


class DirectusArticle(BaseModel):
    id: Optional[str] = None
    title: Optional[str] = None
    body: Optional[str] = None
    authors: Optional[list[dict[str, Any]]] = None
    references: Optional[list[dict[str, Any]]] = None
    processing_status: Optional[str] = Field(
        None,
        pattern="^(pending|in_progress|completed|failed)$",
    )
