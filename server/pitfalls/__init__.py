"""pitfalls: static analysis for FastAPI + SQLAlchemy + pydantic + Directus backends."""

__version__ = "0.1.0"
