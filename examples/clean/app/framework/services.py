"""The generic services of the business object framework."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Optional, TypeVar

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.framework.base import CompanyBaseModel
from app.framework.extensions import extension_filter, serialize_value, validate_field_type

if TYPE_CHECKING:
    from app.services.audit_service import AuditService
    from app.services.events import MessagingService

ModelT = TypeVar("ModelT", bound=CompanyBaseModel)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)


class BusinessObjectService(Generic[ModelT]):
    """Look-ups of one model. It holds no session: each call is given one."""

    def __init__(self, model: type[ModelT], messaging_service: Optional[MessagingService] = None) -> None:
        self.model = model
        self.messaging_service = messaging_service

    async def get(self, db: AsyncSession, entity_id: int) -> Optional[ModelT]:
        return await db.get(self.model, entity_id)


class CompanyBusinessObjectService(BusinessObjectService[ModelT], Generic[ModelT, CreateT, UpdateT]):
    """Company-scoped CRUD of one business object, with extension fields, events and an
    audit trail."""

    def __init__(
        self,
        db: AsyncSession,
        model: type[ModelT],
        messaging_service: Optional[MessagingService] = None,
        audit_service: Optional[AuditService] = None,
    ) -> None:
        super().__init__(model, messaging_service)
        self.db = db
        self.audit_service = audit_service

    async def create(self, data: CreateT) -> ModelT:
        obj = self.model(**data.model_dump())
        self.db.add(obj)
        await self.db.commit()
        await self.db.refresh(obj)
        if self.messaging_service is not None:
            await self.messaging_service.publish_entity_event(obj, f"{self.model.__tablename__}.created")
        return obj

    async def get_list(self, company_id: int, extension_filters: Optional[dict[str, Any]] = None) -> list[ModelT]:
        query = select(self.model).where(self.model.company_id == company_id, self.model.is_active.is_(True))
        for key, value in (extension_filters or {}).items():
            query = query.where(self.model.id.in_(extension_filter(self.model.__tablename__, key, value)))
        result = await self.db.execute(query)
        return list(result.scalars())

    async def update(self, entity_id: int, data: UpdateT) -> Optional[ModelT]:
        obj = await self.get(self.db, entity_id)
        if obj is None:
            return None
        changes = data.model_dump(exclude_unset=True)
        old = {key: getattr(obj, key) for key in changes}
        for key, value in changes.items():
            setattr(obj, key, value)
        await self.db.commit()
        if self.audit_service is not None:
            self.audit_service.log_change(obj, f"{self.model.__tablename__}.updated", old, changes)
        return obj

    async def set_extension(self, entity_id: int, field_name: str, field_type: str, field_value: Any) -> None:
        validate_field_type(field_type)
        await self.db.execute(
            text(
                "INSERT INTO business_object_extensions"
                " (entity_type, entity_id, field_name, field_type, field_value)"
                " VALUES (:entity_type, :entity_id, :field_name, :field_type, :field_value)"
            ),
            {
                "entity_type": self.model.__tablename__,
                "entity_id": entity_id,
                "field_name": field_name,
                "field_type": field_type,
                "field_value": serialize_value(field_type, field_value),
            },
        )
        await self.db.commit()
