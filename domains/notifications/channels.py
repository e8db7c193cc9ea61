"""The delivery rows of one user of the notification channels, as database steps.

- `Channels.notify` (in an outbox handler's transaction): one delivery row per (matching
  subscription, event, channel); the rows are UNIQUE on those three, so a subscriber hears
  of an event once per channel whatever runs twice. The topic channel is published right
  there, in the handler's transaction: exactly once by construction. E-mail and webhook
  rows stay PENDING for the delivery job, which the handler wakes after its commit.
- Delivery, the steps the worker (workers/notifications.py) runs around its own I/O:

      batch = channels.claim_due(session, now=..., limit=..., lease=..., channels=...)  # tx 1
      error = send(item)                                      # no transaction: SMTP, HTTP
      channels.finish_delivery(session, item.id, error=error, now=..., max_attempts=...)  # tx 2

  A worker that dies between the send and tx 2 leaves the row PENDING with a lease; once
  the lease has passed, another delivers it again (at least once). The e-mail's
  Message-ID and the webhook's X-Opsgraph-Delivery are derived from (subscription, event),
  so such a resend is recognisable. Failures back off from RETRY_BASE to RETRY_CAP.
- `recent` (what subscribers see of their notifications) and `prune` (rows delivered or
  given up, after NOTIFICATION_RETENTION).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from domains.common import outbox
from domains.common.authz import Caller, authorize
from domains.common.db import unit_of_work
from domains.common.errors import DomainError, Invalid
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent
from domains.common.time import utcnow
from domains.identity.models import User
from domains.messaging import service as messaging
from domains.notifications.checks import owner_principal
from domains.notifications.models import (
    DELIVERY_COLUMNS,
    NOTIFICATION_ERROR_MAX,
    SUBSCRIPTION_COLUMNS,
    Channel,
    NotificationStatus,
)
from domains.notifications.rules import HISTORY_MAX, NotificationRule

log = logging.getLogger("opsgraph.notifications")

T_USER: Table = User.__table__  # type: ignore[attr-defined]

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)
# Long past any redelivery of their event: outbox rows and their processed_event rows go
# 7 days after delivery (outbox.RETENTION), so the unique row is no longer needed then.
NOTIFICATION_RETENTION = timedelta(days=30)
PRUNE_BATCH = 5000


def retry_delay(attempts: int) -> timedelta:
    """After `attempts` failures: 30 s, 1 min, 2 min, ... at most 1 h."""
    factor: int = 2 ** max(0, min(attempts - 1, 20))
    return min(RETRY_CAP, RETRY_BASE * factor)


class Subscription(Protocol):
    """What the channels read of a subscription row (models.SUBSCRIPTION_COLUMNS)."""

    @property
    def id(self) -> int | None: ...
    @property
    def user_id(self) -> int: ...
    @property
    def email(self) -> bool: ...
    @property
    def topic_project(self) -> str | None: ...
    @property
    def topic_name(self) -> str | None: ...
    @property
    def webhook_url(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claimed notification: everything the worker needs to send it."""

    id: int
    subscription_id: int
    event_id: int
    kind: str
    channel: Channel
    payload: Mapping[str, Any]
    attempts: int
    email: str | None  # the subscriber's address now (it may have changed since)
    webhook_url: str | None
    about: str  # what the notifications are about (Channels.about): "downtime"

    def message_id(self, domain: str) -> str:
        """The same for every attempt of this (subscription, event): a resend after a
        crash mid-send is recognisable as the same message."""
        return f"<{self.about}-{self.event_id}-{self.subscription_id}@{domain}>"


class Rendering(Protocol):
    """How one user's events read on each channel (the user's own, e.g. downtimes')."""

    def email(self, delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
        """The whole e-mail: From `sender`, To `delivery.email`, its Message-ID."""
        ...

    def webhook_body(self, delivery: Delivery) -> bytes:
        """The JSON body POSTed to the webhook."""
        ...

    def topic_message(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The AMS message ({"data": base64, "attributes": {...}}) published to the topic."""
        ...


N = TypeVar("N")  # the user's delivery model


class Channels(Generic[N]):
    """The channels of one user: its subscription model, its delivery model (rows of type
    N), how its events read, and the periodic job that delivers them."""

    def __init__(
        self,
        *,
        about: str,
        subscriptions: type[Any],
        notifications: type[N],
        rendering: Rendering,
        deliver_job: str,
    ) -> None:
        self.about = about
        self.model = notifications
        self.rendering = rendering
        self.deliver_job = deliver_job
        self.subscriptions: Table = subscriptions.__table__
        self.notifications: Table = notifications.__table__  # type: ignore[attr-defined]
        for table, needed in (
            (self.subscriptions, SUBSCRIPTION_COLUMNS),
            (self.notifications, DELIVERY_COLUMNS),
        ):
            missing = [name for name in needed if name not in table.c]
            if missing:
                raise TypeError(f"{table.name} lacks the columns {', '.join(missing)}")
        self.log = logging.getLogger(f"opsgraph.notifications.{about}")

    # --- writing: one outbox event -------------------------------------------------------

    def notify(
        self, session: Session, event: OutboxEvent, subscriptions: Iterable[Subscription]
    ) -> int:
        """The notifications of one event for these (matching) subscriptions; how many
        rows were written."""
        now = utcnow()
        written = pending = 0
        for sub in subscriptions:
            base = {
                "subscription_id": pk(sub),
                "event_id": pk(event),
                "kind": event.kind,
                "payload": event.payload,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
            for channel, wanted in (
                (Channel.EMAIL, sub.email),
                (Channel.WEBHOOK, sub.webhook_url),
            ):
                if wanted and self._insert(
                    session, {**base, "channel": channel, "status": NotificationStatus.PENDING}
                ):
                    written += 1
                    pending += 1
            if sub.topic_name:
                # claim the row first: a second run of this (which run_handler prevents
                # anyway) would find it and publish nothing
                row = {**base, "channel": Channel.TOPIC, "status": NotificationStatus.SENT}
                if self._insert(session, {**row, "attempts": 1, "sent_at": now}):
                    written += 1
                    self._publish(session, sub, event)
        session.flush()
        if pending:
            # after the commit: run now, the job would not see the rows yet
            sa_event.listen(session, "after_commit", self._wake_delivery, once=True)
        return written

    def _insert(self, session: Session, values: dict[str, Any]) -> bool:
        """Insert unless (subscription, event, channel) is there already; whether it was."""
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = (
            insert(self.notifications)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id", "channel"])
            .returning(self.notifications.c.id)
        )
        return session.execute(stmt).first() is not None

    def _publish(self, session: Session, sub: Subscription, event: OutboxEvent) -> None:
        """Publish to the subscriber's topic as the subscriber, in a savepoint: a refusal
        (the right to publish was lost) is recorded on the row instead of failing the
        event."""
        error = self._publish_error(session, sub, event)
        if error is None:
            return
        n = self.notifications.c
        session.execute(
            update(self.notifications)
            .where(
                n.subscription_id == pk(sub),
                n.event_id == pk(event),
                n.channel == Channel.TOPIC,
            )
            .values(status=NotificationStatus.FAILED, sent_at=None, last_error=error)
        )
        self.log.warning("topic notification of subscription %s failed: %s", pk(sub), error)

    def _publish_error(self, session: Session, sub: Subscription, event: OutboxEvent) -> str | None:
        owner = session.get(User, sub.user_id)
        assert owner is not None  # the foreign key cascades
        project, topic = sub.topic_project, sub.topic_name
        if not project or not topic:
            return "no topic is set"
        try:
            with session.begin_nested():
                messaging.publish(
                    session,
                    owner_principal(owner),
                    project=project,
                    topic=topic,
                    messages=[self.rendering.topic_message(event.kind, event.payload)],
                )
        except DomainError as exc:
            return f"{type(exc).__name__}: {exc.message}"[:NOTIFICATION_ERROR_MAX]
        return None

    def _wake_delivery(self, _session: Session) -> None:
        outbox.run_soon(self.deliver_job)

    # --- delivery (e-mail, webhook) ------------------------------------------------------

    def claim_due(
        self,
        session: Session,
        *,
        now: datetime,
        limit: int,
        lease: timedelta,
        channels: Sequence[Channel] = (Channel.EMAIL, Channel.WEBHOOK),
    ) -> list[Delivery]:
        """Up to `limit` due PENDING notifications of `channels`, oldest first, leased to
        the caller until now + lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
        writer). The caller commits at once, then sends outside any transaction."""
        if not channels:
            return []
        n, s = self.notifications.c, self.subscriptions.c
        free = or_(n.claimed_until.is_(None), n.claimed_until <= now)
        due = and_(
            n.status == NotificationStatus.PENDING,
            n.channel.in_(list(channels)),
            n.next_attempt_at <= now,
            free,
        )
        ids = list(
            session.execute(
                select(n.id)
                .where(due)
                .order_by(n.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        if not ids:
            return []
        claimed = set(
            session.execute(
                update(self.notifications)
                .where(n.id.in_(ids), due)
                .values(claimed_until=now + lease)
                .returning(n.id)
            ).scalars()
        )
        rows = session.execute(
            select(
                n.id,
                n.subscription_id,
                n.event_id,
                n.kind,
                n.channel,
                n.payload,
                n.attempts,
                T_USER.c.email,
                s.webhook_url,
            )
            .join(self.subscriptions, s.id == n.subscription_id)
            .join(T_USER, T_USER.c.id == s.user_id)
            .where(n.id.in_(sorted(claimed)))
            .order_by(n.id)
        ).all()
        session.flush()
        return [
            Delivery(
                id=r.id,
                subscription_id=r.subscription_id,
                event_id=r.event_id,
                kind=r.kind,
                channel=Channel(r.channel),
                payload=r.payload,
                attempts=r.attempts,
                email=r.email,
                webhook_url=r.webhook_url,
                about=self.about,
            )
            for r in rows
        ]

    def pending_count(self, session: Session, *, channel: Channel) -> int:
        n = self.notifications.c
        return int(
            session.execute(
                select(func.count())
                .select_from(self.notifications)
                .where(n.status == NotificationStatus.PENDING, n.channel == channel)
            ).scalar_one()
        )

    def finish_delivery(
        self,
        session: Session,
        delivery_id: int,
        *,
        error: str | None,
        now: datetime,
        max_attempts: int,
    ) -> NotificationStatus | None:
        """tx 2: SENT, or the error recorded and the next attempt backed off (FAILED after
        `max_attempts`). None when the row is gone (its subscription was deleted) or is no
        longer PENDING (someone else finished it after this worker's lease ran out)."""
        n = self.notifications.c
        row = session.execute(
            select(n.attempts).where(n.id == delivery_id, n.status == NotificationStatus.PENDING)
        ).first()
        if row is None:
            return None
        attempts = int(row.attempts) + 1
        values: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
        if error is None:
            status = NotificationStatus.SENT
            values.update(status=status, sent_at=now, last_error=None)
        else:
            status = (
                NotificationStatus.FAILED
                if attempts >= max_attempts
                else NotificationStatus.PENDING
            )
            values.update(
                status=status,
                last_error=error[:NOTIFICATION_ERROR_MAX],
                next_attempt_at=now + retry_delay(attempts),
            )
        session.execute(update(self.notifications).where(n.id == delivery_id).values(**values))
        session.flush()
        return status

    # --- what subscribers see of their notifications, and how long rows are kept -------

    def recent(
        self,
        session: Session,
        principal: Principal,
        *,
        subscription_ids: Sequence[int],
        limit: int,
    ) -> dict[int, list[N]]:
        """The newest `limit` notifications of each of these subscriptions (the caller's
        own, or any for an administrator; others' are left out), newest first. One
        statement."""
        authorize(session, principal, Caller.SIGNED_IN)
        if not 1 <= limit <= HISTORY_MAX:
            raise Invalid("first", NotificationRule.NOTIFICATION_HISTORY_SIZE_OUT_OF_RANGE)
        n, s = self.notifications.c, self.subscriptions.c
        ranked = select(
            n.id,
            func.row_number()
            .over(partition_by=n.subscription_id, order_by=n.id.desc())
            .label("rank"),
        ).where(n.subscription_id.in_(list(subscription_ids)))
        if not principal.is_superuser:
            ranked = ranked.where(
                n.subscription_id.in_(select(s.id).where(s.user_id == principal.user_id))
            )
        newest = ranked.subquery()
        rows = session.execute(
            select(self.model, n.subscription_id)
            .join(newest, newest.c.id == n.id)
            .where(newest.c.rank <= limit)
            .order_by(n.subscription_id, n.id.desc())
        )
        out: dict[int, list[N]] = {}
        for row, subscription_id in rows:
            out.setdefault(subscription_id, []).append(row)
        return out

    def prune(self, factory: sessionmaker[Session]) -> int:
        """Drop delivered and given-up notifications older than NOTIFICATION_RETENTION;
        pending ones stay, however old (nothing accepted is lost). The user registers it
        as a periodic job of its own name."""
        cutoff = utcnow() - NOTIFICATION_RETENTION
        n = self.notifications.c
        with unit_of_work(factory) as session:
            ids = list(
                session.execute(
                    select(n.id)
                    .where(n.status != NotificationStatus.PENDING, n.created_at < cutoff)
                    .limit(PRUNE_BATCH)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if ids:
                session.execute(delete(self.notifications).where(n.id.in_(ids)))
        if ids:
            self.log.info("pruned %d old %s notifications", len(ids), self.about)
        return len(ids)
