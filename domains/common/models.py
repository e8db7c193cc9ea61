"""Shared table metadata: one naming convention so that Alembic batch mode on SQLite and
PostgreSQL see the same constraint names."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Column, Enum
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


def enum_column(enum_cls: type[enum.StrEnum], name: str, *, length: int = 32) -> Column[Any]:
    """A string column holding the enum's values, guarded by a named CHECK constraint
    (portable: no native enum types to migrate on PostgreSQL)."""
    return Column(
        Enum(
            enum_cls,
            name=name,
            native_enum=False,
            create_constraint=True,
            values_callable=lambda e: [m.value for m in e],
            length=length,
        ),
        nullable=False,
    )


def pk(obj: Any) -> int:
    """The database id of a flushed row, typed as present."""
    value = obj.id
    if not isinstance(value, int):
        raise ValueError(f"{type(obj).__name__} has no id yet: flush it first")
    return value


def legacy_key(entity_id: int) -> str:
    """GOCDB's primary-key form for entities created here: `<n>G0`."""
    return f"{entity_id}G0"
