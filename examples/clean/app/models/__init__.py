from app.framework.base import Base

from .contact import Contact
from .partner import Partner, PartnerExtension

__all__ = ["Base", "Contact", "Partner", "PartnerExtension"]
