"""Users, their linked identities, and roles (a role request is a role in PENDING)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=255, unique=True)
    name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    # what GOCDB keeps of a person (its User entity) and renders in get_user; set by the
    # GOCDB import, empty for users who only ever came by token
    forename: str | None = Field(default=None, max_length=255)
    surname: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=64)
    telephone: str | None = Field(default=None, max_length=255)
    working_hours_start: str | None = Field(default=None, max_length=32)
    working_hours_end: str | None = Field(default=None, max_length=32)
    # topology's site id, without a foreign key: identity lies below topology and knows
    # nothing of its tables (as Role.entity_id); a reader resolves it through topology
    home_site_id: int | None = Field(default=None, index=True)
    is_admin: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_seen_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class UserIdentity(SQLModel, table=True):
    """One identity (issuer + subject) of a user; several may point at one user."""

    __tablename__ = "user_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    )
    issuer: str = Field(max_length=512)
    subject: str = Field(max_length=255)


class RoleStatus(enum.StrEnum):
    PENDING = "PENDING"
    GRANTED = "GRANTED"
    REJECTED = "REJECTED"
    REVOKED = "REVOKED"


class EntityKind(enum.StrEnum):
    PROJECT = "project"
    NGI = "ngi"
    SITE = "site"
    SERVICE_GROUP = "service_group"


class Role(SQLModel, table=True):
    """A role type held (or requested) by a user over one owned entity."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("user_id", "role_type", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    )
    role_type: str = Field(max_length=64)
    entity_type: EntityKind = Field(sa_column=enum_column(EntityKind, "role_entity_type"))
    entity_id: int = Field(index=True)
    status: RoleStatus = Field(sa_column=enum_column(RoleStatus, "role_status", length=16))
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    decided_by: str | None = Field(default=None, max_length=255)


class ApiToken(SQLModel, table=True):
    """A long-lived secret that stands for its user where no OIDC token can be sent: the AMS
    clients' `x-api-key`, calendar feeds, automation. Only the SHA-256 of the secret is kept."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=8, description="First characters, to tell tokens apart.")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
