"""The evaluation of alert rules: `evaluate(session, now=...)`, one transaction, run by the
`monitoring.alerts` job of workers/monitoring.py until it reports nothing left.

It reads the StatusChange rows (written by ingestion) past a committed cursor, in id order,
and folds each into the state of every enabled rule whose scope holds the metric's endpoint
(the site and NGI of the registered service with that host name and type; a service-type
rule holds every endpoint of that type). Then, for the open problems, it checks what time
and counting decide: N consecutive failing results, reminders, the end of flapping.

An alert fires by inserting its AlertFired row, UNIQUE per (rule, subject, transition),
and emitting its outbox event (`monitoring.alert`), in the same transaction that moves the
cursor: a worker that dies before the commit leaves everything to be done again, and
nothing is told twice. Transitions are named by what caused them (the change's id, the
episode's first change id and a reminder's number), never by the evaluation's clock.

The cursor only moves over contiguous ids: on PostgreSQL an ingest still in flight may
commit a lower id after a higher one is visible. A gap is waited for GAP_GRACE, then
skipped (a rolled-back transaction leaves one for ever).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import outbox
from domains.common.models import pk
from domains.monitoring.models.alerts import (
    AlertCursor,
    AlertFired,
    AlertKind,
    AlertRule,
    AlertState,
)
from domains.monitoring.models.results import MetricResult
from domains.monitoring.models.status import StatusChange
from domains.monitoring.service.alerts import ALERT_EVENT
from domains.topology.models import Ngi, Service, ServiceType, Site

CURSOR = "alerts"
GAP_GRACE = timedelta(seconds=60)
BATCH = 1000
OK = "OK"
CRITICAL = "CRITICAL"

Subject = tuple[str, str, str]  # host name, service type, metric
Place = tuple[str, str]  # site short name, NGI name


@dataclass(frozen=True, slots=True)
class Evaluation:
    changes: int  # status changes evaluated
    fired: int  # alerts fired
    more: bool  # changes are left past the batch


def _cursor(session: Session) -> AlertCursor:
    query = select(AlertCursor).where(col(AlertCursor.name) == CURSOR).with_for_update()
    found = session.scalars(query).first()
    if found is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(AlertCursor)
            .values(name=CURSOR, last_change_id=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        found = session.scalars(query).one()
    return found


def contiguous(
    ids: Sequence[int], last: int, gap_seen_at: datetime | None, now: datetime
) -> tuple[int, datetime | None]:
    """How many of `ids` (ascending, all > last) may be evaluated now, and the gap mark
    to keep: ids must follow each other, a gap is waited for GAP_GRACE from when it was
    first seen."""
    taken = 0
    for change_id in ids:
        if change_id != last + 1:
            if gap_seen_at is None:
                return taken, now
            if now - gap_seen_at < GAP_GRACE:
                return taken, gap_seen_at
            gap_seen_at = None  # waited long enough: skip it
        last = change_id
        taken += 1
    return taken, None


def places(
    session: Session, endpoints: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Place]]:
    """(host name, service type) -> the (site, NGI) of each registered service of them."""
    wanted = set(endpoints)
    out: dict[tuple[str, str], list[Place]] = defaultdict(list)
    hosts = sorted({host for host, _ in wanted})
    for start in range(0, len(hosts), 500):
        rows = session.execute(
            select(
                col(Service.host_name),
                col(ServiceType.name),
                col(Site.short_name),
                col(Ngi.name),
            )
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .join(Site, col(Site.id) == col(Service.site_id))
            .join(Ngi, col(Ngi.id) == col(Site.ngi_id))
            .where(col(Service.host_name).in_(hosts[start : start + 500]))
        ).all()
        for host, stype, site, ngi in rows:
            if (host, stype) in wanted:
                out[(host, stype)].append((site, ngi))
    return out


def place_of(rule: AlertRule, service_type: str, found: Sequence[Place]) -> Place | None:
    """Where the rule's scope holds the endpoint (its site and NGI), None when it does not;
    ("", "") for a service-type rule over an endpoint the topology no longer has."""
    if rule.service_type is not None and rule.service_type != service_type:
        return None
    for site, ngi in found:
        if (rule.site is None or rule.site == site) and (rule.ngi is None or rule.ngi == ngi):
            return site, ngi
    if rule.site is None and rule.ngi is None:
        return ("", "")
    return None


class _Run:
    """One evaluation's rules, states and fired alerts."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.fired = 0
        self.rules = {
            pk(r): r
            for r in session.scalars(
                select(AlertRule)
                .where(col(AlertRule.enabled).is_(True))
                .order_by(col(AlertRule.id))
            )
        }
        self.states: dict[tuple[int, Subject], AlertState] = {}

    def load_states(self, subjects: Iterable[Subject]) -> None:
        keys = sorted(set(subjects))
        for start in range(0, len(keys), 300):
            for state in self.session.scalars(
                select(AlertState).where(
                    tuple_(
                        col(AlertState.hostname),
                        col(AlertState.service_type),
                        col(AlertState.metric),
                    ).in_(keys[start : start + 300]),
                    col(AlertState.rule_id).in_(list(self.rules)),
                )
            ):
                self.states[(state.rule_id, _subject(state))] = state

    # --- firing ----------------------------------------------------------------------------

    def fire(
        self, rule: AlertRule, state: AlertState, kind: AlertKind, transition: str, **extra: Any
    ) -> bool:
        """Once per (rule, subject, transition): False when it had fired already."""
        session = self.session
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            "rule_id": pk(rule),
            "hostname": state.hostname,
            "service_type": state.service_type,
            "metric": state.metric,
            "transition": transition,
        }
        new = session.execute(
            insert(AlertFired)
            .values(**values, kind=kind, status=state.status, fired_at=self.now, event_id=0)
            .on_conflict_do_nothing(
                index_elements=["rule_id", "hostname", "service_type", "metric", "transition"]
            )
            .returning(col(AlertFired.id))
        ).scalar()
        if new is None:
            return False
        event = outbox.emit(
            session,
            ALERT_EVENT,
            {
                "alert": kind.value,
                "ruleId": pk(rule),
                "rule": rule.name,
                "transition": transition,
                "hostname": state.hostname,
                "serviceType": state.service_type,
                "metric": state.metric,
                "site": state.site,
                "ngi": state.ngi,
                "status": state.status,
                "problemSince": _iso(state.problem_since),
                "at": _iso(self.now),
                **extra,
            },
        )
        fired = session.get(AlertFired, new)
        assert fired is not None
        fired.event_id = pk(event)
        self.fired += 1
        return True

    def notice(
        self, rule: AlertRule, state: AlertState, kind: AlertKind, transition: str, **extra: Any
    ) -> None:
        """A notice of the open problem, unless flapping suppresses it."""
        if state.flapping:
            state.suppressed += 1
            return
        if self.fire(rule, state, kind, transition, **extra):
            state.notified = True
            state.last_notice_at = self.now

    # --- flapping --------------------------------------------------------------------------

    def flap(self, rule: AlertRule, state: AlertState, at: datetime, change_id: int | None) -> None:
        """Keep the changes within the window (one more at `at` when change_id is given) and
        start or stop flapping by their number."""
        window = timedelta(minutes=rule.flap_window_minutes)
        recent = [t for t in state.recent_changes if datetime.fromisoformat(t) > at - window]
        if change_id is not None:
            recent.append(at.isoformat())
        state.recent_changes = recent[-rule.flap_changes :] if rule.flap_changes else []
        if not rule.flap_changes:
            return
        flapping = len(recent) >= rule.flap_changes
        if flapping and not state.flapping:
            state.flapping = True
            state.flapping_since = at
            state.suppressed = 0
            self.fire(
                rule,
                state,
                AlertKind.FLAPPING,
                f"flapping:{change_id}",
                changes=len(recent),
                windowMinutes=rule.flap_window_minutes,
            )
        elif state.flapping and not flapping:
            started = _iso(state.flapping_since)
            state.flapping = False
            state.flapping_since = None
            if self.fire(
                rule,
                state,
                AlertKind.FLAPPING_STOPPED,
                f"flapping-stopped:{started}",
                suppressed=state.suppressed,
            ):
                state.notified = state.status != OK
                state.last_notice_at = self.now if state.notified else None

    # --- a status change -------------------------------------------------------------------

    def change(self, rule: AlertRule, change: StatusChange, place: Place) -> None:
        key = (pk(rule), _change_subject(change))
        state = self.states.get(key)
        if state is None:
            state = AlertState(
                rule_id=pk(rule),
                hostname=change.hostname,
                service_type=change.service_type,
                metric=change.metric,
                status=change.previous_status or OK,
                since=change.timestamp,
                recent_changes=[],
            )
            self.session.add(state)
            self.states[key] = state
        state.site, state.ngi = place[0] or None, place[1] or None
        previous = state.status
        state.status = change.status
        state.since = change.timestamp
        change_id = pk(change)
        self.flap(rule, state, change.timestamp, change_id)
        if change.status != OK:
            if state.problem_since is None:
                state.episode = change_id
                state.problem_since = change.timestamp
                state.notified = state.failures_fired = False
                state.reminders = 0
                state.last_notice_at = None
            if change.status == CRITICAL and previous != CRITICAL and rule.on_critical:
                self.notice(
                    rule,
                    state,
                    AlertKind.CRITICAL,
                    f"critical:{change_id}",
                    previousStatus=previous,
                    summary=change.summary,
                )
        elif state.problem_since is not None:
            if state.notified and rule.on_recovery:
                self.notice(
                    rule,
                    state,
                    AlertKind.RECOVERED,
                    f"recovered:{state.episode}",
                    previousStatus=previous,
                    summary=change.summary,
                )
            state.episode = None
            state.problem_since = None
            state.notified = state.failures_fired = False
            state.reminders = 0
            state.last_notice_at = None

    # --- what time and counting decide -----------------------------------------------------

    def open_states(self) -> list[AlertState]:
        query = select(AlertState).where(
            col(AlertState.rule_id).in_(list(self.rules)),
            (col(AlertState.problem_since).is_not(None)) | col(AlertState.flapping).is_(True),
        )
        self.session.flush()
        found = {pk(s): s for s in self.states.values()}
        for state in self.session.scalars(query):
            found.setdefault(pk(state), state)
        return [found[k] for k in sorted(found)]

    def tick(self) -> None:
        for state in self.open_states():
            rule = self.rules[state.rule_id]
            if state.flapping:
                self.flap(rule, state, self.now, None)
            if state.problem_since is None:
                continue
            if rule.after_failures and not state.failures_fired:
                failures = _failures_since(self.session, state)
                if failures >= rule.after_failures:
                    state.failures_fired = True
                    self.notice(
                        rule,
                        state,
                        AlertKind.FAILING,
                        f"failures:{state.episode}",
                        failures=failures,
                    )
            if (
                rule.remind_hours
                and state.notified
                and not state.flapping
                and state.last_notice_at is not None
                and self.now >= state.last_notice_at + timedelta(hours=rule.remind_hours)
            ):
                state.reminders += 1
                self.notice(
                    rule, state, AlertKind.REMINDER, f"reminder:{state.episode}:{state.reminders}"
                )


def _subject(state: AlertState) -> Subject:
    return (state.hostname, state.service_type, state.metric)


def _change_subject(change: StatusChange) -> Subject:
    return (change.hostname, change.service_type, change.metric)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _failures_since(session: Session, state: AlertState) -> int:
    """The results not OK since the problem began (no OK among them: an OK would have
    closed it)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(MetricResult)
            .where(
                col(MetricResult.hostname) == state.hostname,
                col(MetricResult.service_type) == state.service_type,
                col(MetricResult.metric) == state.metric,
                col(MetricResult.timestamp) >= state.problem_since,
                col(MetricResult.status) != OK,
            )
        ).scalar_one()
    )


def evaluate(session: Session, *, now: datetime, limit: int = BATCH) -> Evaluation:
    """One batch of status changes past the cursor, then the open problems' timers; the
    caller commits (the cursor, states, fired alerts and their events together)."""
    cursor = _cursor(session)
    changes = list(
        session.scalars(
            select(StatusChange)
            .where(col(StatusChange.id) > cursor.last_change_id)
            .order_by(col(StatusChange.id))
            .limit(limit)
        )
    )
    taken, cursor.gap_seen_at = contiguous(
        [pk(c) for c in changes], cursor.last_change_id, cursor.gap_seen_at, now
    )
    changes = changes[:taken]
    run = _Run(session, now)
    if changes and run.rules:
        found = places(session, {(c.hostname, c.service_type) for c in changes})
        run.load_states(_change_subject(c) for c in changes)
        for change in changes:
            for rule in run.rules.values():
                if pk(change) <= rule.from_change_id:
                    continue
                place = place_of(
                    rule, change.service_type, found.get((change.hostname, change.service_type), ())
                )
                if place is not None:
                    run.change(rule, change, place)
    if changes:
        cursor.last_change_id = pk(changes[-1])
    if run.rules:
        run.tick()
    session.flush()
    return Evaluation(changes=len(changes), fired=run.fired, more=taken == limit)
