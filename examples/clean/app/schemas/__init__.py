from .article import DirectusArticle
from .audit import AuditEvent, PartnerChangeEvent
from .contact import ContactCreate, ContactRead
from .partner import PartnerBase, PartnerCreate, PartnerCreateBase, PartnerRead, PartnerUpdate

__all__ = [
    "AuditEvent",
    "ContactCreate",
    "ContactRead",
    "DirectusArticle",
    "PartnerBase",
    "PartnerChangeEvent",
    "PartnerCreate",
    "PartnerCreateBase",
    "PartnerRead",
    "PartnerUpdate",
]
