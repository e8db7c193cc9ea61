"""What the alert tests share: a registered endpoint that a seeded report covers (its site
and NGI, the metric the tests vary and the others its metric profile expects), a rule owner,
results fed through ingest_results, the evaluation, and the fired rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, handlers_for, run_handler
from domains.downtimes.models import Classification, Downtime, DowntimeService, Severity
from domains.identity.service import ensure_user
from domains.monitoring.models.alerts import AlertCursor, AlertFired, AlertRule
from domains.monitoring.models.catalogue import MetricProfile, MetricProfileEntry, Report
from domains.monitoring.models.status import StatusChange
from domains.monitoring.service import alert_evaluation, downtime_moments, results
from domains.monitoring.service import alerts as svc
from tests.monitoring import ingest_world

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Place:
    host: str
    service_type: str
    site: str
    ngi: str
    other_site: str  # of another NGI
    other_type: str
    report: str  # a report whose metric profile expects `metric` of the endpoint's type
    metric: str
    others: tuple[str, ...]  # the other metrics the profile expects of that type

    @property
    def endpoint(self) -> tuple[str, str]:
        return (self.host, self.service_type)


def place(session: Session) -> Place:
    (host, stype), metric, uuids = ingest_world.covered_series(session)
    report = session.scalars(
        select(Report).where(col(Report.uuid).in_(sorted(uuids))).order_by(col(Report.name))
    ).first()
    assert report is not None
    expected = session.scalars(
        select(col(MetricProfileEntry.metric))
        .join(MetricProfile, col(MetricProfile.id) == col(MetricProfileEntry.profile_id))
        .where(
            col(MetricProfile.uuid) == report.metric_profile_uuid,
            col(MetricProfileEntry.service_type) == stype,
        )
    )
    others = tuple(sorted({str(m) for m in expected} - {metric}))
    site, ngi = session.execute(
        text(
            "SELECT s.short_name, n.name FROM service sv JOIN service_type st "
            "ON st.id = sv.service_type_id JOIN site s ON s.id = sv.site_id "
            "JOIN ngi n ON n.id = s.ngi_id WHERE sv.host_name = :h AND st.name = :t "
            "ORDER BY sv.id LIMIT 1"
        ),
        {"h": host, "t": stype},
    ).one()
    other = session.execute(
        text(
            "SELECT s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE n.name <> :ngi ORDER BY s.id LIMIT 1"
        ),
        {"ngi": ngi},
    ).scalar_one()
    other_type = session.execute(
        text("SELECT name FROM service_type WHERE name <> :t ORDER BY id LIMIT 1"), {"t": stype}
    ).scalar_one()
    return Place(
        host, stype, str(site), str(ngi), str(other), str(other_type), report.name, metric, others
    )


def user(session: Session, subject: str, *, admin: bool = False) -> Principal:
    address = f"{subject.split('@')[0]}@example.org"
    row = ensure_user(session, issuer="https://aai.test/oidc/", subject=subject, email=address)
    row.email = address
    session.flush()
    return Principal(subject=row.subject, email=address, user_id=pk(row), is_admin=admin)


def cursor_at_end(session: Session) -> None:
    """The evaluation's cursor just before the next status change (ids rolled back by
    earlier tests' transactions are gone on PostgreSQL's sequence, not on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        last, called = session.execute(
            text("SELECT last_value, is_called FROM monitoring_status_change_id_seq")
        ).one()
        end = int(last) if called else int(last) - 1
    else:
        end = int(session.execute(select(func.max(col(StatusChange.id)))).scalar_one() or 0)
    row = session.get(AlertCursor, alert_evaluation.CURSOR)
    if row is None:
        session.add(AlertCursor(name=alert_evaluation.CURSOR, last_change_id=end))
    else:
        row.last_change_id = end
        row.gap_seen_at = None
    session.flush()


def rule(session: Session, owner: Principal, **fields: Any) -> AlertRule:
    values: dict[str, Any] = {"name": "mine", "email": True}
    values.update(fields)
    return svc.create_rule(session, owner, spec=svc.AlertRuleSpec(**values), now=NOW)


def feed(
    session: Session,
    where: Place,
    statuses: str,
    *,
    start: dt.datetime = NOW,
    others: str | None = None,
) -> dt.datetime:
    """One result of `where.metric` per status letter (O=OK, W, C, U) every STEP from
    `start`, each with one of every other metric the report expects, by the letter at the
    same place in `others` (default all OK: the endpoint's status is then the metric's);
    the time after the last."""
    names = {"O": "OK", "W": "WARNING", "C": "CRITICAL", "U": "UNKNOWN"}
    at = start
    batch = []
    for n, letter in enumerate(statuses):
        other = names[others[n]] if others else "OK"
        batch.append(
            ingest_world.result(where.endpoint, at=at, status=names[letter], metric=where.metric)
        )
        batch.extend(
            ingest_world.result(where.endpoint, at=at, status=other, metric=m) for m in where.others
        )
        at += STEP
    outcome = results.ingest_results(session, "test-alerts", batch, now=at)
    assert outcome.rejected == []
    return at


def evaluate(session: Session, at: dt.datetime) -> alert_evaluation.Evaluation:
    return alert_evaluation.evaluate(session, now=at)


def fired(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(select(AlertFired).order_by(col(AlertFired.id)))
    return [(row.kind.value, row.transition.split(":")[0]) for row in rows]


def kinds(session: Session) -> list[str]:
    return [kind for kind, _ in fired(session)]


def alert_events(session: Session) -> list[OutboxEvent]:
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(col(OutboxEvent.kind) == svc.ALERT_EVENT)
            .order_by(col(OutboxEvent.id))
        )
    )


def handle_all(session: Session) -> list[bool]:
    """Run every alert event's handlers as the relay does; whether each did anything."""
    return [
        run_handler(session, h.name, pk(event))
        for event in alert_events(session)
        for h in handlers_for(event.kind)
    ]


def downtime(session: Session, where: Place, starts: dt.datetime, ends: dt.datetime) -> None:
    """A scheduled OUTAGE of the endpoint's service (what the seeded reports count), the
    downtime moments' job started before it (its first run records nothing before itself)."""
    site_id, service_id = session.execute(
        text(
            "SELECT sv.site_id, sv.id FROM service sv JOIN service_type st "
            "ON st.id = sv.service_type_id WHERE sv.host_name = :h AND st.name = :t "
            "ORDER BY sv.id LIMIT 1"
        ),
        {"h": where.host, "t": where.service_type},
    ).one()
    row = Downtime(
        severity=Severity.OUTAGE,
        classification=Classification.SCHEDULED,
        description="alerts test",
        site_id=site_id,
        declared_by="test",
        starts_at=starts,
        ends_at=ends,
        declared_at=starts - dt.timedelta(days=1),
        updated_at=starts - dt.timedelta(days=1),
    )
    session.add(row)
    session.flush()
    session.add(DowntimeService(downtime_id=pk(row), service_id=service_id))
    session.flush()


def moments(session: Session, at: dt.datetime) -> int:
    """The downtime moments' job run at `at`."""
    done = downtime_moments.record_moments(session, now=at)
    session.flush()
    return done
