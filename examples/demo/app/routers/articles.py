from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.services.articles import ArticleService
from app.services.directus import DirectusClient

router = APIRouter(prefix="/articles", tags=["articles"])


class ArticleIn(BaseModel):
    title: str
    body: str = ""


def get_article_service() -> ArticleService:
    return ArticleService(DirectusClient())


@router.post("/", status_code=201)
def create_article(payload: ArticleIn, service: ArticleService = Depends(get_article_service)) -> dict[str, int]:
    article_id = service.create_article(payload.title, payload.body, user_id=1)
    return {"id": article_id}
