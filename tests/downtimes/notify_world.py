"""What the notification tests share: subscribers, a site of the demo data with two
services (one of them serving a VO), downtimes declared through the service, and the
outbox handlers run as the relay runs them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, handlers_for, run_handler
from domains.downtimes import notifications as notes
from domains.downtimes import service as downtimes
from domains.downtimes.events import EventKind
from domains.downtimes.models import Downtime, DowntimeNotification, Severity
from domains.downtimes.notifications import SubscriptionSpec
from domains.identity.service import ensure_user
from domains.topology import service as topology

ISSUER = "https://aai.test/oidc/"
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
VO = "notify.vo.test"
ALL_EVENTS = frozenset(EventKind)


def subscriber(session: Session, subject: str, *, email: str | None = "") -> Principal:
    """A user (with an e-mail address unless `email` is None) as a principal."""
    address = f"{subject.split('@')[0]}@example.org" if email == "" else email
    user = ensure_user(session, issuer=ISSUER, subject=subject, email=address)
    user.email = address
    session.flush()
    return Principal(subject=user.subject, email=address, user_id=pk(user))


@dataclass(frozen=True)
class Target:
    site: str
    ngi: str
    services: tuple[int, int]
    hosts: tuple[str, str]
    types: tuple[str, str]
    other_site: str  # of another NGI


def target(session: Session) -> Target:
    """A demo site with two services of different types; the second serves VO."""
    rows = session.execute(
        text(
            "SELECT sv.id, sv.host_name, st.name, s.short_name, n.name FROM service sv "
            "JOIN service_type st ON st.id = sv.service_type_id "
            "JOIN site s ON s.id = sv.site_id JOIN ngi n ON n.id = s.ngi_id "
            "WHERE s.id = (SELECT s2.id FROM site s2 JOIN service a ON a.site_id = s2.id "
            "  JOIN service b ON b.site_id = s2.id "
            "  WHERE a.service_type_id <> b.service_type_id AND a.host_name <> b.host_name "
            "  ORDER BY s2.id LIMIT 1) "
            "ORDER BY sv.id"
        )
    ).all()
    first = rows[0]
    second = next(r for r in rows if r[2] != first[2] and r[1] != first[1])
    other = session.execute(
        text(
            "SELECT s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE n.name <> :ngi ORDER BY s.id LIMIT 1"
        ),
        {"ngi": first[4]},
    ).scalar_one()
    table, fk = topology.PROPERTY_TABLES["service"]
    session.execute(table.insert().values(**{fk: second[0], "key": "vo", "value": f"ops, {VO}"}))
    session.flush()
    return Target(
        site=first[3],
        ngi=first[4],
        services=(int(first[0]), int(second[0])),
        hosts=(first[1], second[1]),
        types=(first[2], second[2]),
        other_site=other,
    )


def spec(**fields: Any) -> SubscriptionSpec:
    values: dict[str, Any] = {"name": "mine", "events": ALL_EVENTS, "email": True}
    values.update(fields)
    return SubscriptionSpec(**values)


def declare(
    session: Session,
    service_ids: tuple[int, ...],
    *,
    now: datetime = NOW,
    start_in: timedelta = timedelta(hours=1),
    length: timedelta = timedelta(hours=2),
) -> Downtime:
    return downtimes.declare_downtime(
        session,
        PLATFORM,
        declaration=downtimes.Declaration(
            service_ids=list(service_ids),
            severity=Severity.OUTAGE,
            starts_at=now + start_in,
            ends_at=now + start_in + length,
            description="Replacing the storage controller",
        ),
        now=now,
    )


def events(session: Session, kind: str | None = None) -> list[OutboxEvent]:
    stmt = select(OutboxEvent).order_by(OutboxEvent.id)  # type: ignore[arg-type]
    if kind is not None:
        stmt = stmt.where(OutboxEvent.kind == kind)  # type: ignore[arg-type]
    return list(session.execute(stmt).scalars())


def handle(session: Session, event: OutboxEvent) -> list[bool]:
    """Run the event's handlers as the relay does; whether each did anything."""
    return [run_handler(session, h.name, pk(event)) for h in handlers_for(event.kind)]


def handle_all(session: Session) -> None:
    for event in events(session):
        if event.kind in notes.KIND_OF_EVENT:
            handle(session, event)


def notifications(session: Session) -> list[DowntimeNotification]:
    session.expire_all()
    return list(
        session.execute(
            select(DowntimeNotification).order_by(DowntimeNotification.id)  # type: ignore[arg-type]
        ).scalars()
    )


def count_notifications(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(DowntimeNotification)).scalar_one())


# fixtures of the notification tests, given to them by their conftest.py files


@pytest.fixture
def where(session: Session) -> Target:
    return target(session)


@pytest.fixture
def alice(session: Session) -> Principal:
    return subscriber(session, "alice@egi.eu")


@pytest.fixture
def bob(session: Session) -> Principal:
    return subscriber(session, "bob@egi.eu")
