"""What a domain must give the shared channels: tables with the channel and delivery
columns (checked when its Channels is built), and how its events read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table

from domains.downtimes import notifications as notes
from domains.downtimes.models import DowntimeNotification, DowntimeSubscription
from domains.notifications.channels import Channels, Delivery
from domains.notifications.models import DELIVERY_COLUMNS, Channel


class _Model:
    """A stand-in for a table model: only its __table__ is read."""

    def __init__(self, table: Table) -> None:
        self.__table__ = table


def _table(name: str, columns: tuple[str, ...]) -> Table:
    return Table(name, MetaData(), *(Column(c, Integer) for c in columns))


def _channels(subscriptions: Any, notifications: Any) -> Channels[Any]:
    return Channels(
        about="alert",
        subscriptions=subscriptions,
        notifications=notifications,
        rendering=notes.DowntimeMessages(),
        deliver_job="alerts.deliver",
    )


def test_downtimes_tables_have_what_the_channels_need() -> None:
    assert notes.CHANNELS.notifications is DowntimeNotification.__table__  # type: ignore[attr-defined]
    assert _channels(DowntimeSubscription, DowntimeNotification).deliver_job == "alerts.deliver"


def test_a_subscription_table_without_the_channel_columns_is_refused() -> None:
    plain = _Model(_table("alert_subscription", ("id", "user_id", "email")))
    with pytest.raises(TypeError) as caught:
        _channels(plain, DowntimeNotification)
    assert str(caught.value) == (
        "alert_subscription lacks the columns topic_project, topic_name, webhook_url"
    )


def test_a_delivery_table_without_the_lease_is_refused() -> None:
    columns = tuple(c for c in DELIVERY_COLUMNS if c != "claimed_until")
    rows = _Model(_table("alert_notification", columns))
    with pytest.raises(TypeError) as caught:
        _channels(DowntimeSubscription, rows)
    assert str(caught.value) == "alert_notification lacks the columns claimed_until"


def test_the_message_id_names_what_is_notified_and_stays_the_same_for_a_resend() -> None:
    delivery = Delivery(
        id=7,
        subscription_id=3,
        event_id=42,
        kind="alert.raised",
        channel=Channel.EMAIL,
        payload={},
        attempts=2,
        email="a@example.org",
        webhook_url=None,
        about="alert",
    )
    assert delivery.message_id("ops.example.org") == "<alert-42-3@ops.example.org>"
