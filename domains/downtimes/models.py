"""Tables of the downtimes domain, modelled on GOCDB's Downtime entity (one site per
downtime, services and endpoint locations as links)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow
from domains.notifications.models import (
    NOTIFICATION_ERROR_MAX,
    WEBHOOK_URL_MAX,
    Channel,
    NotificationStatus,
)

DESCRIPTION_MAX = 4000


class Severity(enum.StrEnum):
    """OUTAGE: unavailable, counted as maintenance by availability; WARNING: available
    but possibly degraded, notified but ignored by availability."""

    OUTAGE = "OUTAGE"
    WARNING = "WARNING"


class Classification(enum.StrEnum):
    """Computed, never chosen: SCHEDULED iff the start is more than 24 h ahead."""

    SCHEDULED = "SCHEDULED"
    UNSCHEDULED = "UNSCHEDULED"


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Downtime(SQLModel, table=True):
    __tablename__ = "downtime"
    __table_args__ = (
        Index("ix_downtime_window", "starts_at", "ends_at"),
        Index("ix_downtime_ends_at", "ends_at"),
        # what the transitions job scans: not yet announced as started / ended
        Index("ix_downtime_start_pending", "started_notified", "starts_at"),
        Index("ix_downtime_end_pending", "ended_notified", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    site_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    severity: Severity = Field(sa_column=enum_column(Severity, "downtime_severity"))
    classification: Classification = Field(
        sa_column=enum_column(Classification, "downtime_classification")
    )
    description: str = Field(max_length=DESCRIPTION_MAX)
    starts_at: datetime = Field(sa_column=_time())
    ends_at: datetime = Field(sa_column=_time())
    declared_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    declared_by: str = Field(max_length=255)
    # Whether the "started" / "ended" events were emitted (by the transitions job, exactly
    # once each; an edit that moves the start or end back into the future clears them).
    started_notified: bool = False
    ended_notified: bool = False


class DowntimeService(SQLModel, table=True):
    """A service affected by a downtime. `all_endpoints`: no endpoint of this service was
    chosen, so every endpoint of it is affected. `ended_at`: the service was ended early
    (partial ending) while the downtime goes on for the others."""

    __tablename__ = "downtime_service"
    __table_args__ = (Index("ix_downtime_service_service", "service_id", "downtime_id"),)

    downtime_id: int = Field(
        sa_column=Column(Integer, ForeignKey("downtime.id", ondelete="CASCADE"), primary_key=True)
    )
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    all_endpoints: bool = True
    ended_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class DowntimeEndpoint(SQLModel, table=True):
    __tablename__ = "downtime_endpoint"

    downtime_id: int = Field(
        sa_column=Column(Integer, ForeignKey("downtime.id", ondelete="CASCADE"), primary_key=True)
    )
    endpoint_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("endpoint.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


# ---------------------------------------------------------------------------------------
# Subscriptions (the Operations Portal's dt_subscription) and their notifications: the
# tables downtimes gives the shared notification channels (domains/notifications), which
# say what columns they need (SUBSCRIPTION_COLUMNS, DELIVERY_COLUMNS)

SUBSCRIPTION_NAME_MAX = 100


class DowntimeSubscription(SQLModel, table=True):
    """A user's wish to hear about downtimes. Each filter is null for "all"; a downtime
    matches when every non-null filter does (host, service type and VO: one of its
    services has it). The channels: e-mail to the user's address, a message in the user's
    own messaging topic, a POST to a webhook."""

    __tablename__ = "downtime_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    name: str = Field(max_length=SUBSCRIPTION_NAME_MAX)
    ngi: str | None = Field(default=None, max_length=255)
    site: str | None = Field(default=None, max_length=255)
    host: str | None = Field(default=None, max_length=255)
    service_type: str | None = Field(default=None, max_length=255)
    vo: str | None = Field(default=None, max_length=255)
    on_declared: bool = True
    on_started: bool = True
    on_ended: bool = True
    on_changed: bool = False
    on_cancelled: bool = True
    email: bool = False
    topic_project: str | None = Field(default=None, max_length=255)
    topic_name: str | None = Field(default=None, max_length=255)
    webhook_url: str | None = Field(default=None, max_length=WEBHOOK_URL_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    enabled: bool = True


class DowntimeNotification(SQLModel, table=True):
    """One per (subscription, event, channel): the UNIQUE constraint is what makes a
    subscriber hear of an event once per channel, whatever runs twice. The event's
    payload is kept here: outbox rows are pruned, a waiting e-mail is not."""

    __tablename__ = "downtime_notification"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", "channel"),
        # what the delivery job scans: pending rows by due time
        Index("ix_downtime_notification_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("downtime_subscription.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    # (subscription_id is the unique constraint's first column: no index of its own)
    # the outbox event (no foreign key: outbox rows are pruned by age)
    event_id: int
    kind: str = Field(max_length=64)
    channel: Channel = Field(sa_column=enum_column(Channel, "downtime_notification_channel"))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: NotificationStatus = Field(
        sa_column=enum_column(NotificationStatus, "downtime_notification_status")
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=NOTIFICATION_ERROR_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    # the lease of the worker delivering it; another takes it only once this has passed
    claimed_until: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
