"""Tables of the messaging domain (AMS-compatible pub/sub).

Offsets are per topic and start at 0; `msg_topic.next_offset` is the next one to assign
(Kafka's high-water mark, AMS's "max" offset). Messages are keyed by (topic_id, offset):
that primary key is the one index the hot read "topic_id = ? AND offset >= ? ORDER BY
offset LIMIT n" needs, and inserts maintain it plus one (topic_id, published_at) index for
timeToOffset and retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.time import UTCDateTime, utcnow

ROLE_PROJECT_ADMIN = "project_admin"
ROLE_PUBLISHER = "publisher"
ROLE_CONSUMER = "consumer"
PROJECT_ROLES = (ROLE_PROJECT_ADMIN, ROLE_PUBLISHER, ROLE_CONSUMER)


def _fk(target: str, *, primary_key: bool = False) -> Column[int]:
    """A cascading foreign key; not indexed on its own: it leads a primary key or a unique
    constraint wherever it is used."""
    return Column(
        Integer, ForeignKey(target, ondelete="CASCADE"), nullable=False, primary_key=primary_key
    )


def _time(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _count() -> Column[int]:
    return Column(BigInteger, nullable=False, default=0)


class MsgProject(SQLModel, table=True):
    __tablename__ = "msg_project"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, unique=True)
    description: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    modified_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    created_by: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )


class MsgMember(SQLModel, table=True):
    """A user's roles in a project: a non-empty subset of PROJECT_ROLES."""

    __tablename__ = "msg_member"

    project_id: int = Field(sa_column=_fk("msg_project.id", primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class MsgTopic(SQLModel, table=True):
    __tablename__ = "msg_topic"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=_fk("msg_project.id"))
    name: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    next_offset: int = Field(default=0, sa_column=_count())
    message_count: int = Field(default=0, sa_column=_count())
    bytes_in: int = Field(default=0, sa_column=_count())
    published_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class MsgMessage(SQLModel, table=True):
    __tablename__ = "msg_message"
    __table_args__ = (Index("ix_msg_message_topic_published", "topic_id", "published_at"),)

    topic_id: int = Field(
        sa_column=Column(Integer, ForeignKey("msg_topic.id", ondelete="CASCADE"), primary_key=True)
    )
    offset: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    size: int = Field(sa_column=Column(Integer, nullable=False))
    published_at: datetime = Field(sa_column=_time())


class MsgSubscription(SQLModel, table=True):
    __tablename__ = "msg_subscription"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(sa_column=_fk("msg_project.id"))
    name: str = Field(max_length=255)
    # SET NULL: a deleted topic leaves its subscriptions behind, unable to pull (409)
    topic_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("msg_topic.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    # the topic's name, kept when the topic goes: AMS still names it (and the library
    # cannot parse a subscription without a topic name)
    topic_name: str = Field(max_length=255)
    ack_deadline: int = Field(default=10, sa_column=Column(Integer, nullable=False))
    offset: int = Field(default=0, sa_column=_count())
    next_offset: int = Field(default=0, sa_column=_count())
    pending_ack_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())

    # push configuration ('' push_type: a pull subscription)
    push_type: str = Field(default="", max_length=16)
    push_endpoint: str = Field(default="", max_length=2048)
    push_max_messages: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    auth_header_type: str = Field(default="", max_length=16)
    auth_header_value: str = Field(default="", max_length=255)
    retry_type: str = Field(default="", max_length=16)
    retry_period_ms: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    verification_hash: str = Field(default="", max_length=255)
    verified: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    base64_decode: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    mattermost_url: str = Field(default="", max_length=2048)
    mattermost_username: str = Field(default="", max_length=255)
    mattermost_channel: str = Field(default="", max_length=255)

    # push delivery state (owned by the push worker)
    push_status: str = Field(default="", sa_column=Column(String(255), nullable=False))
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=_time(nullable=True, index=True)
    )
    backoff_ms: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    consecutive_failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    last_error: str | None = Field(default=None, max_length=2000)
    delivered_count: int = Field(default=0, sa_column=_count())

    # counters (messages and bytes out)
    message_count: int = Field(default=0, sa_column=_count())
    bytes_out: int = Field(default=0, sa_column=_count())


class MsgTopicAcl(SQLModel, table=True):
    __tablename__ = "msg_topic_acl"

    topic_id: int = Field(sa_column=_fk("msg_topic.id", primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class MsgSubscriptionAcl(SQLModel, table=True):
    __tablename__ = "msg_subscription_acl"

    subscription_id: int = Field(sa_column=_fk("msg_subscription.id", primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )


class MsgUsage(SQLModel, table=True):
    """Messages and bytes a user published into and pulled out of a project."""

    __tablename__ = "msg_usage"

    project_id: int = Field(sa_column=_fk("msg_project.id", primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        )
    )
    messages_in: int = Field(default=0, sa_column=_count())
    bytes_in: int = Field(default=0, sa_column=_count())
    messages_out: int = Field(default=0, sa_column=_count())
    bytes_out: int = Field(default=0, sa_column=_count())
