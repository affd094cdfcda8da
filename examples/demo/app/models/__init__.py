from app.framework.base import Base

from .contact import Contact
from .note import PartnerNote
from .partner import Partner, PartnerExtension

__all__ = ["Base", "Contact", "Partner", "PartnerExtension", "PartnerNote"]
