"""Downtime subscriptions (the Operations Portal's) and the notifications they produce.

- subscribe / update_subscription / delete_subscription / list_subscriptions: a user's
  own subscriptions (platform administrators: anyone's). Filters are null for "all".
- Outbox handlers `downtimes.notify.<kind>` (one per downtime event kind): insert one
  `downtime_notification` row per (matching subscription, event, channel). Each handler
  runs once per event (processed_event) and the rows are UNIQUE on (subscription, event,
  channel), so a subscriber hears of an event once per channel. The topic channel is
  published right there, in the handler's transaction: exactly once by construction.
  E-mail and webhook rows stay PENDING for the delivery job.
- Delivery, as database steps the worker (workers/downtimes.py) runs around its own I/O:

      batch = claim_due(session, now=..., limit=..., lease=..., channels=...)   # tx 1
      error = send(item)                                     # no transaction: SMTP, HTTP
      finish_delivery(session, item.id, error=error, now=...)                  # tx 2

  A worker that dies between the send and tx 2 leaves the row PENDING with a lease; once
  the lease has passed, another delivers it again (at least once). The e-mail's
  Message-ID is derived from (subscription, event), so such a resend is recognisable.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from domains.common import audit, outbox
from domains.common.db import unit_of_work
from domains.common.egress import STRICT, EgressPolicy, EgressRefused
from domains.common.errors import DomainError, Forbidden, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, on_event
from domains.common.time import utcnow
from domains.downtimes.events import EventKind
from domains.downtimes.models import (
    NOTIFICATION_ERROR_MAX,
    SUBSCRIPTION_NAME_MAX,
    WEBHOOK_URL_MAX,
    Channel,
    DowntimeNotification,
    DowntimeSubscription,
    NotificationStatus,
)
from domains.identity import service as identity
from domains.identity.models import User
from domains.messaging import service as messaging
from domains.topology import service as topology

log = logging.getLogger("opsgraph.downtimes.notify")

T_SUBSCRIPTION: Table = DowntimeSubscription.__table__  # type: ignore[attr-defined]
T_NOTIFICATION: Table = DowntimeNotification.__table__  # type: ignore[attr-defined]
T_USER: Table = User.__table__  # type: ignore[attr-defined]

DELIVER_JOB = "downtimes.deliver"
FILTER_MAX = 255
MAX_SUBSCRIPTIONS_PER_USER = 100


def event_column(kind: EventKind) -> str:
    """The subscription's flag for `kind`: on_declared, on_changed, ..."""
    return f"on_{kind.name.lower()}"


KIND_OF_EVENT = {kind.value: kind for kind in EventKind}


# --- subscriptions --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicRef:
    project: str
    topic: str


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """What a subscription says (the whole of it: an update replaces every field)."""

    name: str
    events: frozenset[EventKind]
    ngi: str | None = None
    site: str | None = None
    host: str | None = None
    service_type: str | None = None
    vo: str | None = None
    email: bool = False
    topic: TopicRef | None = None
    webhook_url: str | None = None
    enabled: bool = True


def _filter(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise Invalid(field, "must not be empty (null means all)")
    if len(value) > FILTER_MAX:
        raise Invalid(field, f"at most {FILTER_MAX} characters")
    return value


def _check_webhook(url: str | None, *, egress: EgressPolicy) -> str | None:
    """https only, as for push endpoints; plain http only to loopback, and only where the
    instance allows it (OPSGRAPH_ALLOW_INSECURE_PUSH: tests, development); and a
    destination the egress policy allows (checked again when the worker connects)."""
    if url is None:
        return None
    url = url.strip()
    if len(url) > WEBHOOK_URL_MAX:
        raise Invalid("input.webhookUrl", f"at most {WEBHOOK_URL_MAX} characters")
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
    except ValueError:
        host = ""
    if egress.scheme_refusal(parts.scheme, host) is not None:
        raise Invalid("input.webhookUrl", "an https:// URL with a host")
    try:
        egress.check_url(url)
    except EgressRefused as exc:
        raise Invalid(
            "input.webhookUrl", f"a destination the egress policy allows: {exc.reason}"
        ) from exc
    return url


def _owner_principal(user: User) -> Principal:
    return Principal(
        subject=user.subject, email=user.email, user_id=pk(user), is_admin=user.is_admin
    )


def _validated(
    session: Session, spec: SubscriptionSpec, owner: User, *, egress: EgressPolicy
) -> dict[str, Any]:
    """The column values of a valid spec; Invalid naming the GraphQL field otherwise."""
    name = spec.name.strip()
    if not name:
        raise Invalid("input.name", "must not be empty")
    if len(name) > SUBSCRIPTION_NAME_MAX:
        raise Invalid("input.name", f"at most {SUBSCRIPTION_NAME_MAX} characters")
    if not spec.events:
        raise Invalid("input.events", "at least one event")
    ngi = _filter(spec.ngi, "input.ngi")
    site = _filter(spec.site, "input.site")
    host = _filter(spec.host, "input.host")
    service_type = _filter(spec.service_type, "input.serviceType")
    vo = _filter(spec.vo, "input.vo")
    owner_p = _owner_principal(owner)
    if ngi is not None and topology.get_ngi_by_name(session, owner_p, name=ngi) is None:
        raise Invalid("input.ngi", "the name of an existing NGI")
    if site is not None and (
        topology.get_site_by_short_name(session, owner_p, short_name=site) is None
    ):
        raise Invalid("input.site", "the short name of an existing site")
    if service_type is not None and (
        topology.get_service_type_by_name(session, owner_p, name=service_type) is None
    ):
        raise Invalid("input.serviceType", "the name of an existing service type")
    webhook_url = _check_webhook(spec.webhook_url, egress=egress)
    if not spec.email and spec.topic is None and webhook_url is None:
        raise Invalid("input.email", "at least one channel: email, topic or webhookUrl")
    if spec.email and not (owner.email or "").strip():
        raise Invalid("input.email", "the user has no e-mail address")
    if spec.topic is not None:
        _check_topic(session, owner_p, spec.topic)
    return {
        "name": name,
        "ngi": ngi,
        "site": site,
        "host": host,
        "service_type": service_type,
        "vo": vo,
        **{event_column(kind): kind in spec.events for kind in EventKind},
        "email": spec.email,
        "topic_project": spec.topic.project if spec.topic else None,
        "topic_name": spec.topic.topic if spec.topic else None,
        "webhook_url": webhook_url,
        "enabled": spec.enabled,
    }


def _check_topic(session: Session, owner: Principal, topic: TopicRef) -> None:
    """The owner must be allowed to publish to the topic (what messaging.publish checks:
    project_admin, or publisher in the topic's ACL)."""
    try:
        messaging.get_topic(session, owner, project=topic.project, topic=topic.topic)
    except DomainError as exc:  # no such project or topic, or not allowed to publish
        raise Invalid(
            "input.topic", "a topic the subscriber may publish to", f"input.topic: {exc.message}"
        ) from exc


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def _caller(session: Session, principal: Principal) -> User:
    identity.require_authenticated(principal)
    if principal.user_id is None:
        raise Forbidden("only users hold downtime subscriptions")
    return _user(session, principal.user_id)


def _own(session: Session, principal: Principal, subscription_id: int) -> DowntimeSubscription:
    """The subscription, if the caller may see it: theirs, or any for an administrator.
    Someone else's is NOT_FOUND: its existence is not the caller's business."""
    identity.require_authenticated(principal)
    row = session.get(DowntimeSubscription, subscription_id)
    if row is None or (not principal.is_superuser and row.user_id != principal.user_id):
        raise NotFound(f"downtime subscription {subscription_id} does not exist")
    return row


def _audit(
    session: Session,
    principal: Principal,
    verb: str,
    row: DowntimeSubscription,
    changes: Mapping[str, list[Any]],
) -> None:
    audit.record_change(session, principal, "downtime_subscription", verb, row, changes)


def _values(row: DowntimeSubscription) -> dict[str, Any]:
    return {
        c.name: getattr(row, c.name)
        for c in T_SUBSCRIPTION.c
        if c.name not in ("id", "user_id", "created_at")
    }


def subscribe(
    session: Session,
    principal: Principal,
    *,
    spec: SubscriptionSpec,
    now: datetime | None = None,
    egress: EgressPolicy = STRICT,
) -> DowntimeSubscription:
    """A new subscription of the caller's. Only events after it are notified."""
    owner = _caller(session, principal)
    values = _validated(session, spec, owner, egress=egress)
    count = session.execute(
        select(T_SUBSCRIPTION.c.id).where(T_SUBSCRIPTION.c.user_id == pk(owner))
    ).all()
    if len(count) >= MAX_SUBSCRIPTIONS_PER_USER:
        raise Invalid("input", f"a user may hold at most {MAX_SUBSCRIPTIONS_PER_USER}")
    row = DowntimeSubscription(user_id=pk(owner), created_at=now or utcnow(), **values)
    session.add(row)
    session.flush()
    _audit(session, principal, "create", row, audit.diff({}, values))
    return row


def update_subscription(
    session: Session,
    principal: Principal,
    *,
    subscription_id: int,
    spec: SubscriptionSpec,
    egress: EgressPolicy = STRICT,
) -> DowntimeSubscription:
    """Replace the subscription's definition (filters left null mean all)."""
    row = _own(session, principal, subscription_id)
    values = _validated(session, spec, _user(session, row.user_id), egress=egress)
    before = _values(row)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    changes = audit.diff(before, values)
    if changes:
        _audit(session, principal, "update", row, changes)
    return row


def delete_subscription(session: Session, principal: Principal, *, subscription_id: int) -> None:
    """Its undelivered notifications go with it."""
    row = _own(session, principal, subscription_id)
    before = _values(row)
    _audit(session, principal, "delete", row, audit.diff(before, {}))
    session.delete(row)
    session.flush()


def list_subscriptions(
    session: Session, principal: Principal, *, all_users: bool = False
) -> list[DowntimeSubscription]:
    """The caller's subscriptions, oldest first; an administrator may ask for everyone's."""
    identity.require_authenticated(principal)
    stmt = select(DowntimeSubscription).order_by(T_SUBSCRIPTION.c.id)
    if all_users:
        if not principal.is_superuser:
            raise Forbidden("only platform administrators may list everyone's subscriptions")
    elif principal.user_id is None:
        return []
    else:
        stmt = stmt.where(T_SUBSCRIPTION.c.user_id == principal.user_id)
    return list(session.execute(stmt).scalars())


def get_subscription(
    session: Session, principal: Principal, *, subscription_id: int
) -> DowntimeSubscription | None:
    try:
        return _own(session, principal, subscription_id)
    except NotFound:
        return None


# --- matching and the outbox handlers --------------------------------------------------


def _match_column(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    return or_(column.is_(None), column.in_(sorted(set(values))))


def matching_subscriptions(
    session: Session, kind: EventKind, payload: Mapping[str, Any]
) -> list[DowntimeSubscription]:
    """Enabled subscriptions wanting `kind` whose every non-null filter matches the
    downtime snapshot: NGI, site; host, service type, VO: of one of its services."""
    services: Sequence[Mapping[str, Any]] = payload.get("services") or []
    s = T_SUBSCRIPTION.c
    stmt = (
        select(DowntimeSubscription)
        .where(
            s.enabled.is_(True),
            s[event_column(kind)].is_(True),
            _match_column(s.ngi, [payload.get("ngi")]),
            _match_column(s.site, [payload.get("site")]),
            _match_column(s.host, [x["hostName"] for x in services]),
            _match_column(s.service_type, [x["serviceType"] for x in services]),
            _match_column(s.vo, [vo for x in services for vo in x.get("vos") or []]),
        )
        .order_by(s.id)
    )
    return list(session.execute(stmt).scalars())


def _insert_notification(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless (subscription, event, channel) is there already; whether it was new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(T_NOTIFICATION)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["subscription_id", "event_id", "channel"])
        .returning(T_NOTIFICATION.c.id)
    )
    return session.execute(stmt).first() is not None


def topic_message(kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The message a topic channel publishes: the webhook's JSON body as data."""
    body = json.dumps({"event": kind, "downtime": payload}, separators=(",", ":"))
    return {
        "data": base64.b64encode(body.encode()).decode(),
        "attributes": {"event": kind, "downtime": str(payload.get("primaryKey") or "")},
    }


def _publish(session: Session, sub: DowntimeSubscription, kind: str, payload: Any) -> str | None:
    """Publish to the subscriber's topic as the subscriber, in a savepoint: a refusal
    (the right to publish was lost) is recorded on the row instead of failing the event."""
    owner = session.get(User, sub.user_id)
    assert owner is not None  # the foreign key cascades
    project, topic = sub.topic_project, sub.topic_name
    if not project or not topic:
        return "no topic is set"
    try:
        with session.begin_nested():
            messaging.publish(
                session,
                _owner_principal(owner),
                project=project,
                topic=topic,
                messages=[topic_message(kind, payload)],
            )
    except DomainError as exc:
        return f"{type(exc).__name__}: {exc.message}"[:NOTIFICATION_ERROR_MAX]
    return None


def notify(session: Session, event: OutboxEvent) -> int:
    """The notifications of one downtime event; how many rows were written."""
    kind = KIND_OF_EVENT[event.kind]
    now = utcnow()
    written = pending = 0
    for sub in matching_subscriptions(session, kind, event.payload):
        base = {
            "subscription_id": pk(sub),
            "event_id": pk(event),
            "kind": event.kind,
            "payload": event.payload,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for channel, wanted in ((Channel.EMAIL, sub.email), (Channel.WEBHOOK, sub.webhook_url)):
            if wanted and _insert_notification(
                session, {**base, "channel": channel, "status": NotificationStatus.PENDING}
            ):
                written += 1
                pending += 1
        if sub.topic_name:
            # claim the row first: a second run of this (which run_handler prevents anyway)
            # would find it and publish nothing
            row = {**base, "channel": Channel.TOPIC, "status": NotificationStatus.SENT}
            if _insert_notification(session, {**row, "attempts": 1, "sent_at": now}):
                written += 1
                error = _publish(session, sub, event.kind, event.payload)
                if error is not None:
                    session.execute(
                        update(T_NOTIFICATION)
                        .where(
                            T_NOTIFICATION.c.subscription_id == pk(sub),
                            T_NOTIFICATION.c.event_id == pk(event),
                            T_NOTIFICATION.c.channel == Channel.TOPIC,
                        )
                        .values(status=NotificationStatus.FAILED, sent_at=None, last_error=error)
                    )
                    log.warning("topic notification of subscription %s failed: %s", pk(sub), error)
    session.flush()
    if pending:
        # after the commit: run now, the job would not see the rows yet
        sa_event.listen(session, "after_commit", _wake_delivery, once=True)
    return written


def _wake_delivery(_session: Session) -> None:
    outbox.run_soon(DELIVER_JOB)


def _handler(session: Session, event: OutboxEvent) -> None:
    notify(session, event)


for _kind in EventKind:
    on_event(_kind.value, f"downtimes.notify.{_kind.name.lower()}")(_handler)


# --- delivery (e-mail, webhook) ------------------------------------------------------


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

    def message_id(self, domain: str) -> str:
        """The same for every attempt of this (subscription, event): a resend after a
        crash mid-send is recognisable as the same message."""
        return f"<downtime-{self.event_id}-{self.subscription_id}@{domain}>"


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    channels: Sequence[Channel] = (Channel.EMAIL, Channel.WEBHOOK),
) -> list[Delivery]:
    """Up to `limit` due PENDING notifications of `channels`, oldest first, leased to the
    caller until now + lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
    writer). The caller commits at once, then sends outside any transaction."""
    if not channels:
        return []
    n = T_NOTIFICATION.c
    free = or_(n.claimed_until.is_(None), n.claimed_until <= now)
    due = and_(
        n.status == NotificationStatus.PENDING,
        n.channel.in_(list(channels)),
        n.next_attempt_at <= now,
        free,
    )
    ids = list(
        session.execute(
            select(n.id).where(due).order_by(n.id).limit(limit).with_for_update(skip_locked=True)
        ).scalars()
    )
    if not ids:
        return []
    claimed = set(
        session.execute(
            update(T_NOTIFICATION)
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
            T_SUBSCRIPTION.c.webhook_url,
        )
        .join(T_SUBSCRIPTION, T_SUBSCRIPTION.c.id == n.subscription_id)
        .join(T_USER, T_USER.c.id == T_SUBSCRIPTION.c.user_id)
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
        )
        for r in rows
    ]


def pending_count(session: Session, *, channel: Channel) -> int:
    n = T_NOTIFICATION.c
    rows = session.execute(
        select(n.id).where(n.status == NotificationStatus.PENDING, n.channel == channel)
    ).all()
    return len(rows)


RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """After `attempts` failures: 30 s, 1 min, 2 min, ... at most 1 h."""
    factor: int = 2 ** max(0, min(attempts - 1, 20))
    return min(RETRY_CAP, RETRY_BASE * factor)


def finish_delivery(
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
    n = T_NOTIFICATION.c
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
            NotificationStatus.FAILED if attempts >= max_attempts else NotificationStatus.PENDING
        )
        values.update(
            status=status,
            last_error=error[:NOTIFICATION_ERROR_MAX],
            next_attempt_at=now + retry_delay(attempts),
        )
    session.execute(update(T_NOTIFICATION).where(n.id == delivery_id).values(**values))
    session.flush()
    return status


# --- what is sent (pure) ---------------------------------------------------------------


def _utc(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_VERBS = {kind: kind.name.lower() for kind in EventKind}


def email_message(delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
    """The plain-text e-mail of one notification."""
    if not delivery.email:
        raise ValueError("the subscriber has no e-mail address")
    p = delivery.payload
    kind = KIND_OF_EVENT[delivery.kind]
    domain = sender.rpartition("@")[2] or "opsgraph"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.email
    message["Subject"] = (
        f"[downtime {_VERBS[kind]}] {p.get('site')}: {p.get('severity')} "
        f"{_utc(p.get('startsAt'))} - {_utc(p.get('endsAt'))}"
    )
    message["Message-ID"] = delivery.message_id(domain)
    message["Date"] = format_datetime(now)
    message["X-Opsgraph-Event"] = delivery.kind
    lines = [
        f"A downtime was {_VERBS[kind]}.",
        "",
        f"Downtime:       {p.get('primaryKey')}",
        f"Site:           {p.get('site')} (NGI {p.get('ngi')}, {p.get('country')})",
        f"Severity:       {p.get('severity')}",
        f"Classification: {p.get('classification')}",
        f"Starts:         {_utc(p.get('startsAt'))}",
        f"Ends:           {_utc(p.get('endsAt'))}",
        "Services:",
    ]
    for service in p.get("services") or []:
        ended = f", ended {_utc(service.get('endedAt'))}" if service.get("endedAt") else ""
        vos = f" [VOs: {', '.join(service['vos'])}]" if service.get("vos") else ""
        lines.append(f"  - {service['hostName']} ({service['serviceType']}){vos}{ended}")
    changes = p.get("changes")
    if changes:
        lines += ["", "Changes:"]
        lines += [f"  - {key}: {before} -> {after}" for key, (before, after) in changes.items()]
    lines += ["", "Description:", str(p.get("description") or ""), ""]
    message.set_content("\n".join(lines))
    return message


def webhook_body(delivery: Delivery) -> bytes:
    return json.dumps(
        {"event": delivery.kind, "downtime": delivery.payload}, separators=(",", ":")
    ).encode()


# --- what subscribers see of their notifications, and how long rows are kept ------------

# Long past any redelivery of their event: outbox rows and their processed_event rows go
# 7 days after delivery (outbox.RETENTION), so the unique row is no longer needed then.
NOTIFICATION_RETENTION = timedelta(days=30)
PRUNE_JOB = "downtimes.notifications.prune"
PRUNE_BATCH = 5000


def recent_notifications(
    session: Session, principal: Principal, *, subscription_ids: Sequence[int], limit: int
) -> dict[int, list[DowntimeNotification]]:
    """The newest `limit` notifications of each of these subscriptions (the caller's own,
    or any for an administrator; others' are left out), newest first. One statement."""
    identity.require_authenticated(principal)
    if not 1 <= limit <= 100:
        raise Invalid("first", "between 1 and 100")
    n = T_NOTIFICATION.c
    ranked = select(
        n.id,
        func.row_number().over(partition_by=n.subscription_id, order_by=n.id.desc()).label("rank"),
    ).where(n.subscription_id.in_(list(subscription_ids)))
    if not principal.is_superuser:
        ranked = ranked.where(
            n.subscription_id.in_(
                select(T_SUBSCRIPTION.c.id).where(T_SUBSCRIPTION.c.user_id == principal.user_id)
            )
        )
    newest = ranked.subquery()
    rows = session.execute(
        select(DowntimeNotification)
        .join(newest, newest.c.id == n.id)
        .where(newest.c.rank <= limit)
        .order_by(n.subscription_id, n.id.desc())
    ).scalars()
    out: dict[int, list[DowntimeNotification]] = {}
    for row in rows:
        out.setdefault(row.subscription_id, []).append(row)
    return out


@outbox.periodic(PRUNE_JOB, every_seconds=3600)
def prune_notifications(factory: sessionmaker[Session]) -> int:
    """Drop delivered and given-up notifications older than NOTIFICATION_RETENTION;
    pending ones stay, however old (nothing accepted is lost)."""
    cutoff = utcnow() - NOTIFICATION_RETENTION
    n = T_NOTIFICATION.c
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
            session.execute(delete(T_NOTIFICATION).where(n.id.in_(ids)))
    if ids:
        log.info("pruned %d old downtime notifications", len(ids))
    return len(ids)
