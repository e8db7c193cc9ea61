"""What every user of the notification channels shares: the channels, the states of a
delivery row, and the columns its two tables must have.

No table is declared here: each user declares its own subscription table (its filters are
its own) and its own delivery table, whose foreign key points at that subscription table;
`domains.notifications.channels.Channels` checks at start-up that they hold these columns.
`domains/downtimes/models.py` (DowntimeSubscription, DowntimeNotification) is the model.
"""

from __future__ import annotations

import enum

WEBHOOK_URL_MAX = 2000
NOTIFICATION_ERROR_MAX = 1000

# The channel columns of a subscription row: `email` (bool: to the owner's address),
# `topic_project`/`topic_name` (the owner's messaging topic, or null), `webhook_url`.
SUBSCRIPTION_COLUMNS = ("id", "user_id", "email", "topic_project", "topic_name", "webhook_url")

# A delivery row: one per (subscription, event, channel), UNIQUE on those three columns.
DELIVERY_COLUMNS = (
    "id",
    "subscription_id",  # the user's subscription table, ON DELETE CASCADE
    "event_id",  # the outbox event (no foreign key: outbox rows are pruned by age)
    "kind",  # the event's kind
    "channel",
    "payload",  # the event's payload (JSON), kept: outbox rows are pruned, a waiting e-mail not
    "status",
    "attempts",
    "last_error",  # at most NOTIFICATION_ERROR_MAX characters
    "created_at",
    "next_attempt_at",
    "claimed_until",  # the lease of the worker delivering it
    "sent_at",
)


class Channel(enum.StrEnum):
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"
    TOPIC = "TOPIC"


class NotificationStatus(enum.StrEnum):
    """PENDING: still to deliver (e-mail, webhook); SENT: delivered (a topic message is
    SENT when written); FAILED: given up after the last attempt."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
