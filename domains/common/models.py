"""Shared table metadata: one naming convention so that Alembic batch mode on SQLite and
PostgreSQL see the same constraint names."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata


def pk(obj: Any) -> int:
    """The database id of a flushed row, typed as present."""
    value = obj.id
    if not isinstance(value, int):
        raise ValueError(f"{type(obj).__name__} has no id yet: flush it first")
    return value


def legacy_key(entity_id: int) -> str:
    """GOCDB's primary-key form for entities created here: `<n>G0`."""
    return f"{entity_id}G0"
