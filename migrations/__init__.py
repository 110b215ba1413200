"""Alembic migrations (one per schema change); run through ``salesops db upgrade``."""
