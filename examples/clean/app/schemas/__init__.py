from .article import DirectusArticle
from .audit import AuditEvent
from .partner import PartnerCreate, PartnerCreateBase, PartnerRead

__all__ = ["AuditEvent", "DirectusArticle", "PartnerCreate", "PartnerCreateBase", "PartnerRead"]
