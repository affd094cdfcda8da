"""The business object framework: a company-scoped base model, the mixins every business
object combines, the schemas and generic services built on them, and extension fields."""

from .base import Base, CompanyBaseModel
from .extensions import SUPPORTED_FIELD_TYPES
from .mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin
from .schemas import CompanyBusinessObjectSchema, Page
from .services import BusinessObjectService, CompanyBusinessObjectService, CreateT, ModelT, UpdateT

__all__ = [
    "AuditableMixin",
    "Base",
    "BusinessObjectMixin",
    "BusinessObjectService",
    "CompanyBaseModel",
    "CompanyBusinessObjectSchema",
    "CompanyBusinessObjectService",
    "CreateT",
    "EventPublisherMixin",
    "ModelT",
    "Page",
    "SUPPORTED_FIELD_TYPES",
    "UpdateT",
]
