"""A second user of the channels beside downtimes, as monitoring's alerts will be: its own
subscription and delivery tables (created for this test only, in its transaction), its
own rendering, one Channels; nothing copied from downtimes. Its events are written,
claimed, sent over the shared sender, finished and shown to their subscriber."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from domains.common import outbox
from domains.common.egress import EgressPolicy
from domains.common.time import utcnow
from domains.notifications.channels import Channels, Delivery
from domains.notifications.models import Channel, NotificationStatus
from tests.downtimes.notify_world import subscriber
from tests.notifications.smtp import SmtpServer
from workers.notifications import NotifyConfig, deliver_due


class Base(DeclarativeBase):
    metadata = MetaData()  # not the application's: no migration, no drift


class AlertSubscription(Base):
    __tablename__ = "test_alert_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    probe: Mapped[str] = mapped_column(String(64))  # the user's own filter
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    topic_project: Mapped[str | None] = mapped_column(String(255), nullable=True)
    topic_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class AlertNotification(Base):
    __tablename__ = "test_alert_notification"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertMessages:
    def email(self, delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = delivery.email or ""
        message["Subject"] = f"[alert] {delivery.payload['probe']} is {delivery.payload['status']}"
        message["Message-ID"] = delivery.message_id(sender.rpartition("@")[2])
        message.set_content(json.dumps(dict(delivery.payload)))
        return message

    def webhook_body(self, delivery: Delivery) -> bytes:
        return json.dumps({"alert": delivery.payload}).encode()

    def topic_message(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"data": "", "attributes": {"event": kind}}


ALERTS: Channels[AlertNotification] = Channels(
    about="alert",
    subscriptions=AlertSubscription,
    notifications=AlertNotification,
    rendering=AlertMessages(),
    deliver_job="tests.alerts.deliver",
)


@pytest.fixture
def tables(session: Session) -> Iterator[None]:
    Base.metadata.create_all(session.connection())
    session.commit()
    yield
    Base.metadata.drop_all(session.connection())
    session.commit()


@pytest.mark.usefixtures("tables")
def test_alerts_go_through_the_shared_channels(
    session: Session, session_factory: sessionmaker[Session], smtp: SmtpServer
) -> None:
    alice = subscriber(session, "alice.alerts@egi.eu")
    assert alice.user_id is not None
    sub = AlertSubscription(user_id=alice.user_id, probe="ping", email=True)
    session.add(sub)
    event = outbox.emit(session, "alert.raised", {"probe": "ping", "status": "CRITICAL"})
    session.flush()

    assert ALERTS.notify(session, event, [sub]) == 1
    assert ALERTS.notify(session, event, [sub]) == 0  # once per (subscription, event, channel)
    session.commit()

    config = NotifyConfig(
        smtp_url=smtp.url,
        smtp_from="alerts@ops.example.org",
        timeout=5.0,
        egress=EgressPolicy(allow_loopback=True),
    )
    assert deliver_due(session_factory, ALERTS, config) == 1
    (mail,) = smtp.received()
    assert mail["Subject"] == "[alert] ping is CRITICAL"
    assert mail["Message-ID"] == f"<alert-{event.id}-{sub.id}@ops.example.org>"

    session.expire_all()
    shown = ALERTS.recent(session, alice, subscription_ids=[sub.id], limit=5)
    ((row,),) = shown.values()
    assert (row.channel, row.status, row.attempts) == (Channel.EMAIL, NotificationStatus.SENT, 1)
    assert (
        ALERTS.claim_due(
            session, now=utcnow() + timedelta(hours=2), limit=5, lease=timedelta(seconds=30)
        )
        == []
    )
