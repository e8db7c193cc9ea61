"""Alerting (domains.monitoring.service.alerts, .alert_evaluation).

- `AlertRule`: a user's rule over the service endpoints of a site, an NGI or a service type
  (and a subscription of the shared notification channels: e-mail, the owner's topic, a
  webhook), whose status is the one a report combines from their metrics. What it alerts
  on: a change to CRITICAL, N consecutive failing results, reminders every M hours while
  not OK, a recovery notice; flapping (K changes within a window) suppresses them while it
  lasts. Re-enabling it asks the evaluation for a new baseline (`baseline_at`).
- `AlertState`: per (rule, endpoint): the endpoint's status, its failing metrics, the open
  problem episode, what was told of it, and whether it is flapping (what the API shows).
- `AlertFired`: one row per (rule, subject, transition) — UNIQUE — written in the same
  transaction as the outbox event that asks for its delivery and as the cursor over the
  status changes: an alert fires once per transition, whatever crashes or runs twice.
- `AlertNotification`: the channels' delivery rows (domains.notifications.models).
- `AlertCursor`: the last StatusChange id evaluated (and since when a gap below newer rows
  has been seen: a transaction still in flight, or one rolled back).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow
from domains.monitoring.models.results import BIG_ID, NAME_MAX, STATUS_MAX
from domains.notifications.models import (
    NOTIFICATION_ERROR_MAX,
    WEBHOOK_URL_MAX,
    Channel,
    NotificationStatus,
)

ALERT_RULE_NAME_MAX = 255
TRANSITION_MAX = 128


class AlertKind(enum.StrEnum):
    """What an alert tells."""

    CRITICAL = "CRITICAL"  # the endpoint changed to CRITICAL
    FAILING = "FAILING"  # N consecutive results were not OK
    REMINDER = "REMINDER"  # still not OK, M hours after the last notice (or on re-enabling)
    RECOVERED = "RECOVERED"  # OK again after a notice
    FLAPPING = "FLAPPING"  # K changes within the window: notices suppressed
    FLAPPING_STOPPED = "FLAPPING_STOPPED"  # fewer changes within the window again


def _time(*, nullable: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable)


def _rule_fk() -> Any:
    return Column(
        Integer, ForeignKey("monitoring_alert_rule.id", ondelete="CASCADE"), nullable=False
    )


class AlertRule(SQLModel, table=True):
    __tablename__ = "monitoring_alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=ALERT_RULE_NAME_MAX)
    # the scope: a site, or an NGI, or (platform administrators) every site; narrowed to
    # one service type when it is set
    site: str | None = Field(default=None, max_length=NAME_MAX)
    ngi: str | None = Field(default=None, max_length=NAME_MAX)
    service_type: str | None = Field(default=None, max_length=NAME_MAX)
    on_critical: bool = True
    after_failures: int | None = None  # N consecutive results not OK; None: off
    remind_hours: int | None = None  # every M hours while not OK; None: off
    on_recovery: bool = True
    flap_changes: int | None = None  # K changes within the window; None: no detection
    flap_window_minutes: int = 60
    email: bool = False
    topic_project: str | None = Field(default=None, max_length=255)
    topic_name: str | None = Field(default=None, max_length=255)
    webhook_url: str | None = Field(default=None, max_length=WEBHOOK_URL_MAX)
    # the report whose profiles combine an endpoint's metrics into its status
    report: str = Field(max_length=NAME_MAX)
    enabled: bool = True
    # set when the rule is enabled again: the evaluation starts its states afresh from the
    # endpoints' status then, telling each problem once (transition "enabled:<this>")
    baseline_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    # status changes up to this id happened before the rule: it ignores them
    from_change_id: int = Field(default=0, sa_column=Column(BIG_ID, nullable=False))


class AlertState(SQLModel, table=True):
    __tablename__ = "monitoring_alert_state"
    __table_args__ = (
        UniqueConstraint("rule_id", "hostname", "service_type"),
        Index("ix_monitoring_alert_state_open", "problem_since"),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    rule_id: int = Field(sa_column=_rule_fk())
    hostname: str = Field(max_length=NAME_MAX)
    service_type: str = Field(max_length=NAME_MAX)
    # where the rule's scope holds the endpoint
    site: str | None = Field(default=None, max_length=NAME_MAX)
    ngi: str | None = Field(default=None, max_length=NAME_MAX)
    status: str = Field(max_length=STATUS_MAX)  # the endpoint's, as the rule's report says
    since: datetime = Field(sa_column=_time())
    # the metrics not OK at `since` and their statuses (what notices name)
    failing: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # the open problem episode (not OK since the last OK): its first change's epoch second
    # and time
    episode: int | None = Field(default=None, sa_column=Column(BIG_ID, nullable=True))
    problem_since: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    notified: bool = False  # a notice of this episode was fired
    failures_fired: bool = False
    reminders: int = 0
    last_notice_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    # the times of the changes within the flapping window (ISO strings, oldest first)
    recent_changes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flapping: bool = False
    flapping_since: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    suppressed: int = 0  # notices not fired because of flapping (this flapping period)


class AlertFired(SQLModel, table=True):
    __tablename__ = "monitoring_alert_fired"
    __table_args__ = (UniqueConstraint("rule_id", "hostname", "service_type", "transition"),)

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    rule_id: int = Field(sa_column=_rule_fk())
    hostname: str = Field(max_length=NAME_MAX)
    service_type: str = Field(max_length=NAME_MAX)
    # what makes it once: e.g. "critical:<the time of the change>", "reminder:<episode>:<n>",
    # "enabled:<baseline_at>" (rows of before 0029: change ids, per metric)
    transition: str = Field(max_length=TRANSITION_MAX)
    kind: AlertKind = Field(sa_column=enum_column(AlertKind, "monitoring_alert_kind"))
    status: str = Field(max_length=STATUS_MAX)
    fired_at: datetime = Field(sa_column=_time())
    event_id: int = Field(sa_column=Column(BIG_ID, nullable=False))  # the outbox event


class AlertNotification(SQLModel, table=True):
    """One per (rule, alert event, channel): see domains.notifications.models."""

    __tablename__ = "monitoring_alert_notification"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", "channel"),
        Index("ix_monitoring_alert_notification_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(sa_column=_rule_fk())
    event_id: int
    kind: str = Field(max_length=64)
    channel: Channel = Field(
        sa_column=enum_column(Channel, "monitoring_alert_notification_channel")
    )
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: NotificationStatus = Field(
        sa_column=enum_column(NotificationStatus, "monitoring_alert_notification_status")
    )
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=NOTIFICATION_ERROR_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    claimed_until: datetime | None = Field(default=None, sa_column=_time(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class AlertCursor(SQLModel, table=True):
    __tablename__ = "monitoring_alert_cursor"

    name: str = Field(max_length=64, primary_key=True)
    last_change_id: int = Field(default=0, sa_column=Column(BIG_ID, nullable=False))
    gap_seen_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))
