from .partner import Base, Partner, PartnerExtension

__all__ = ["Base", "Partner", "PartnerExtension"]
