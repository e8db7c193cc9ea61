"""Downtime subscriptions (the Operations Portal's) and what downtimes give the shared
notification channels (domains.notifications): their tables, which subscriptions an event
matches, and how a downtime event reads on each channel.

- subscribe / update_subscription / delete_subscription / list_subscriptions /
  subscriptions_page: a user's own subscriptions (platform administrators: anyone's).
  Filters are null for "all".
- Outbox handlers `downtimes.notify.<kind>` (one per downtime event kind): the matching
  subscriptions' notifications, written by CHANNELS.notify (one row per subscription,
  event and channel; the topic published at once, e-mail and webhook left PENDING for the
  `downtimes.deliver` job of workers/downtimes.py).
- CHANNELS.recent: what subscribers see of their notifications; `downtimes.notifications.
  prune`: the hourly job dropping old delivered ones.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, false, or_, select
from sqlalchemy.orm import Session, sessionmaker

from domains.common import audit, outbox
from domains.common.authz import Caller, authorize, can
from domains.common.egress import STRICT, EgressPolicy
from domains.common.errors import Forbidden, Invalid, NotFound
from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, on_event
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page
from domains.common.time import utcnow
from domains.downtimes.events import EventKind
from domains.downtimes.models import (
    SUBSCRIPTION_NAME_MAX,
    DowntimeNotification,
    DowntimeSubscription,
)
from domains.downtimes.rules import (
    MAX_SUBSCRIPTIONS_PER_USER,
    SUBSCRIPTION_FILTER_MAX,
    Action,
    DowntimeRule,
)
from domains.identity.models import User
from domains.notifications.channels import Channels, Delivery
from domains.notifications.checks import TopicRef, channel_values, owner_principal
from domains.topology import service as topology

T_SUBSCRIPTION: Table = DowntimeSubscription.__table__  # type: ignore[attr-defined]

DELIVER_JOB = "downtimes.deliver"
PRUNE_JOB = "downtimes.notifications.prune"


def event_column(kind: EventKind) -> str:
    """The subscription's flag for `kind`: on_declared, on_changed, ..."""
    return f"on_{kind.name.lower()}"


KIND_OF_EVENT = {kind.value: kind for kind in EventKind}


# --- subscriptions --------------------------------------------------------------------


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
        raise Invalid(field, DowntimeRule.DOWNTIME_SUBSCRIPTION_FILTER_EMPTY)
    if len(value) > SUBSCRIPTION_FILTER_MAX:
        raise Invalid(field, DowntimeRule.DOWNTIME_SUBSCRIPTION_FILTER_TOO_LONG)
    return value


def _validated(
    session: Session, spec: SubscriptionSpec, owner: User, *, egress: EgressPolicy
) -> dict[str, Any]:
    """The column values of a valid spec; Invalid naming the GraphQL field otherwise."""
    name = spec.name.strip()
    if not name:
        raise Invalid("input.name", DowntimeRule.DOWNTIME_SUBSCRIPTION_NAME_EMPTY)
    if len(name) > SUBSCRIPTION_NAME_MAX:
        raise Invalid("input.name", DowntimeRule.DOWNTIME_SUBSCRIPTION_NAME_TOO_LONG)
    if not spec.events:
        raise Invalid("input.events", DowntimeRule.DOWNTIME_SUBSCRIPTION_EVENTS_REQUIRED)
    ngi = _filter(spec.ngi, "input.ngi")
    site = _filter(spec.site, "input.site")
    host = _filter(spec.host, "input.host")
    service_type = _filter(spec.service_type, "input.serviceType")
    vo = _filter(spec.vo, "input.vo")
    owner_p = owner_principal(owner)
    if ngi is not None and topology.get_ngi_by_name(session, owner_p, name=ngi) is None:
        raise Invalid("input.ngi", DowntimeRule.DOWNTIME_SUBSCRIPTION_NGI_UNKNOWN)
    if site is not None and (
        topology.get_site_by_short_name(session, owner_p, short_name=site) is None
    ):
        raise Invalid("input.site", DowntimeRule.DOWNTIME_SUBSCRIPTION_SITE_UNKNOWN)
    if service_type is not None and (
        topology.get_service_type_by_name(session, owner_p, name=service_type) is None
    ):
        raise Invalid("input.serviceType", DowntimeRule.DOWNTIME_SUBSCRIPTION_SERVICE_TYPE_UNKNOWN)
    channels = channel_values(
        session,
        owner,
        email=spec.email,
        topic=spec.topic,
        webhook_url=spec.webhook_url,
        egress=egress,
    )
    return {
        "name": name,
        "ngi": ngi,
        "site": site,
        "host": host,
        "service_type": service_type,
        "vo": vo,
        **{event_column(kind): kind in spec.events for kind in EventKind},
        **channels,
        "enabled": spec.enabled,
    }


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def _caller(session: Session, principal: Principal) -> User:
    authorize(session, principal, Caller.SIGNED_IN)
    if principal.user_id is None:
        raise Forbidden("only users hold downtime subscriptions")
    return _user(session, principal.user_id)


def _own(session: Session, principal: Principal, subscription_id: int) -> DowntimeSubscription:
    """The subscription, if the caller may see it: theirs, or any for an administrator.
    Someone else's is NOT_FOUND: its existence is not the caller's business."""
    authorize(session, principal, Caller.SIGNED_IN)
    row = session.get(DowntimeSubscription, subscription_id)
    if row is None or not can(session, principal, Action.MANAGE_SUBSCRIPTION, row):
        raise NotFound(f"downtime subscription {subscription_id} does not exist")
    return row


def subscription_row(session: Session, subscription_id: int) -> DowntimeSubscription | None:
    """The row MANAGE_SUBSCRIPTION is decided on (what `viewerCanEdit` asks about); no
    check: the caller got the subscription from a read that made them."""
    return session.get(DowntimeSubscription, subscription_id)


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
        raise Invalid("input", DowntimeRule.DOWNTIME_SUBSCRIPTIONS_OVER_LIMIT)
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
    authorize(session, principal, Caller.PLATFORM_ADMIN if all_users else Caller.SIGNED_IN)
    stmt = select(DowntimeSubscription).order_by(T_SUBSCRIPTION.c.id)
    if not all_users:
        if principal.user_id is None:
            return []
        stmt = stmt.where(T_SUBSCRIPTION.c.user_id == principal.user_id)
    return list(session.execute(stmt).scalars())


def subscriptions_page(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    """A page of the caller's subscriptions, oldest first (the columns of each)."""
    authorize(session, principal, Caller.SIGNED_IN)
    mine = (
        T_SUBSCRIPTION.c.user_id == principal.user_id if principal.user_id is not None else false()
    )
    stmt = select(*T_SUBSCRIPTION.c).where(mine)
    return keyset_page(session, stmt, T_SUBSCRIPTION.c.id, page)


def get_subscription(
    session: Session, principal: Principal, *, subscription_id: int
) -> DowntimeSubscription | None:
    """The subscription if the caller may see it; None otherwise (the anonymous caller
    included: a node that is not theirs does not exist for them)."""
    if not can(session, principal, Caller.SIGNED_IN):
        return None
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


# --- how a downtime event reads, and the channels ----------------------------------------


def _utc(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_VERBS = {kind: kind.name.lower() for kind in EventKind}


def _body(kind: str, payload: Mapping[str, Any]) -> str:
    """The JSON a webhook receives and a topic message carries as data."""
    return json.dumps({"event": kind, "downtime": payload}, separators=(",", ":"))


class DowntimeMessages:
    """What a downtime event says on each channel (domains.notifications.channels.Rendering)."""

    def email(self, delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
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

    def webhook_body(self, delivery: Delivery) -> bytes:
        return _body(delivery.kind, delivery.payload).encode()

    def topic_message(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The webhook's JSON body as data."""
        return {
            "data": base64.b64encode(_body(kind, payload).encode()).decode(),
            "attributes": {"event": kind, "downtime": str(payload.get("primaryKey") or "")},
        }


CHANNELS: Channels[DowntimeNotification] = Channels(
    about="downtime",
    subscriptions=DowntimeSubscription,
    notifications=DowntimeNotification,
    rendering=DowntimeMessages(),
    deliver_job=DELIVER_JOB,
)


def notify(session: Session, event: OutboxEvent) -> int:
    """The notifications of one downtime event; how many rows were written."""
    kind = KIND_OF_EVENT[event.kind]
    return CHANNELS.notify(session, event, matching_subscriptions(session, kind, event.payload))


def _handler(session: Session, event: OutboxEvent) -> None:
    notify(session, event)


for _kind in EventKind:
    on_event(_kind.value, f"downtimes.notify.{_kind.name.lower()}")(_handler)


@outbox.periodic(PRUNE_JOB, every_seconds=3600)
def prune_notifications(factory: sessionmaker[Session]) -> int:
    """Old delivered and given-up downtime notifications go (CHANNELS.prune)."""
    return CHANNELS.prune(factory)
