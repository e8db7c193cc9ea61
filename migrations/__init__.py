"""Alembic migrations; the schema of both databases is owned here."""
