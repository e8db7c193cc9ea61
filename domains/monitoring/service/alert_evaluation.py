"""The evaluation of alert rules: `evaluate(session, now=...)`, one transaction, run by the
`monitoring.alerts` job of workers/monitoring.py until it reports nothing left.

A rule follows service endpoints (a host name with a service type), the status of each the
one its report combines from the endpoint's metrics (`levels.endpoint_lines`: the A/R
engine's timelines, metric profile, truth tables and downtimes; no second way to combine).
It reads the StatusChange rows (written by ingestion) past a committed cursor, in id order;
the endpoints they touch get their timeline computed again from just before the earliest of
their changes, and each change of an endpoint's status after what its state last saw is
folded into the state of every enabled rule whose scope holds the endpoint (its site and
NGI in the report's topology; a service-type rule holds every endpoint of that type). Then,
for the open problems, it checks what time and counting decide: N consecutive failing
results of the failing metrics, reminders, the end of flapping.

A rule enabled again (`AlertRule.baseline_at`) first gets its states afresh from its
endpoints' status now: what changed while it was disabled tells nothing, and each endpoint
failing now is told once (REMINDER, transition "enabled:<baseline_at>"); one MISSING (the
operations profile's `defaults.missing`, no result at all) opens its problem untold, as a
change to MISSING does, and one in a downtime stays quiet.

A declared downtime (the endpoint's status is the profile's `defaults.down`; its start and
end reach the evaluation as downtime moments among the status changes) pages no one: its
start closes the problem episode and any flapping without a notice, so no CRITICAL,
FAILING or REMINDER comes while it lasts, and its start and end are not counted as
flapping changes. Its end is a change from a clean slate: CRITICAL then is a new
transition, N failures count from then, OK is silent.

An alert fires by inserting its AlertFired row, UNIQUE per (rule, endpoint, transition),
and emitting its outbox event (`monitoring.alert`), in the same transaction that moves the
cursor: a worker that dies before the commit leaves everything to be done again, and
nothing is told twice. Transitions are named by what caused them (the time of the
endpoint's change, the episode's start and a reminder's number, the re-enabling), never by
the evaluation's clock.

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

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common import outbox
from domains.common.errors import Invalid
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
from domains.monitoring.service import levels
from domains.monitoring.service.alerts import ALERT_EVENT, last_change_id
from domains.monitoring.service.levels import EndpointLine
from domains.monitoring.service.timelines import Point

CURSOR = "alerts"
GAP_GRACE = timedelta(seconds=60)
BATCH = 1000
OK = "OK"
CRITICAL = "CRITICAL"

Endpoint = tuple[str, str]  # host name, service type


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


def in_scope(rule: AlertRule, line: EndpointLine) -> bool:
    """Whether the rule's scope holds the endpoint (at the site the report places it)."""
    return (
        (rule.service_type is None or rule.service_type == line.service_type)
        and (rule.site is None or rule.site == line.site)
        and (rule.ngi is None or rule.ngi == line.ngi)
    )


def _failing(line: EndpointLine, moment: datetime) -> dict[str, str]:
    return {m: status for m, status in line.metrics_at(moment).items() if status != OK}


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
        self.states: dict[tuple[int, Endpoint], AlertState] = {}

    def load_states(self, endpoints: Iterable[Endpoint]) -> None:
        keys = sorted(set(endpoints))
        for start in range(0, len(keys), 300):
            for state in self.session.scalars(
                select(AlertState).where(
                    tuple_(col(AlertState.hostname), col(AlertState.service_type)).in_(
                        keys[start : start + 300]
                    ),
                    col(AlertState.rule_id).in_(list(self.rules)),
                )
            ):
                self.states[(state.rule_id, (state.hostname, state.service_type))] = state

    # --- firing ----------------------------------------------------------------------------

    def fire(
        self, rule: AlertRule, state: AlertState, kind: AlertKind, transition: str, **extra: Any
    ) -> bool:
        """Once per (rule, endpoint, transition): False when it had fired already."""
        session = self.session
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values = {
            "rule_id": pk(rule),
            "hostname": state.hostname,
            "service_type": state.service_type,
            "transition": transition,
        }
        new = session.execute(
            insert(AlertFired)
            .values(**values, kind=kind, status=state.status, fired_at=self.now, event_id=0)
            .on_conflict_do_nothing(
                index_elements=["rule_id", "hostname", "service_type", "transition"]
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
                "report": rule.report,
                "transition": transition,
                "hostname": state.hostname,
                "serviceType": state.service_type,
                "site": state.site,
                "ngi": state.ngi,
                "status": state.status,
                "failingMetrics": [
                    {"metric": m, "status": status} for m, status in sorted(state.failing.items())
                ],
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

    def flap(self, rule: AlertRule, state: AlertState, at: datetime, change: str | None) -> None:
        """Keep the changes within the window (one more at `at` when `change` names one) and
        start or stop flapping by their number."""
        window = timedelta(minutes=rule.flap_window_minutes)
        recent = [t for t in state.recent_changes if datetime.fromisoformat(t) > at - window]
        if change is not None:
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
                f"flapping:{change}",
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

    # --- an endpoint's status changes -------------------------------------------------------

    def _state(self, rule: AlertRule, line: EndpointLine, base: Point) -> AlertState:
        """The rule's state of the endpoint, a new one starting from `base` (told nothing)."""
        key = (pk(rule), (line.hostname, line.service_type))
        state = self.states.get(key)
        if state is None:
            state = AlertState(
                rule_id=pk(rule),
                hostname=line.hostname,
                service_type=line.service_type,
                status=base.status,
                since=base.timestamp,
                failing=_failing(line, base.timestamp),
                recent_changes=[],
            )
            self.session.add(state)
            self.states[key] = state
        state.site, state.ngi = line.site or None, line.ngi or None
        return state

    def follow(self, rule: AlertRule, line: EndpointLine, first: datetime) -> None:
        """The endpoint's changes from `first` (its earliest status change the rule reads)
        on, after what the rule's state saw; a new state starts from the status before."""
        first = first.replace(microsecond=0)  # the engine's timelines count whole seconds
        before = [p for p in line.points if p.timestamp < first][-1:] or list(line.points[:1])
        if not before:
            return
        state = self._state(rule, line, before[0])
        for point in line.points:
            if point.timestamp >= state.since and point.status != state.status:
                self.change(rule, state, line, point)
        if line.points:
            state.failing = _failing(line, max(self.now, line.points[-1].timestamp))

    def change(self, rule: AlertRule, state: AlertState, line: EndpointLine, point: Point) -> None:
        previous = state.status
        at = point.timestamp
        state.status = point.status
        state.since = at
        state.failing = _failing(line, at)
        if point.status == line.down:
            self.quiet(state)
            return
        if previous != line.down:  # a downtime's own start and end are no flapping
            self.flap(rule, state, at, at.isoformat())
        if point.status != OK:
            if state.problem_since is None:
                self.open(state, at)
            if point.status == CRITICAL and previous != CRITICAL and rule.on_critical:
                self.notice(
                    rule,
                    state,
                    AlertKind.CRITICAL,
                    f"critical:{at.isoformat()}",
                    previousStatus=previous,
                )
        elif state.problem_since is not None:
            if state.notified and rule.on_recovery:
                self.notice(
                    rule,
                    state,
                    AlertKind.RECOVERED,
                    f"recovered:{_iso(state.problem_since)}",
                    previousStatus=previous,
                )
            state.episode = None
            state.problem_since = None
            state.notified = state.failures_fired = False
            state.reminders = 0
            state.last_notice_at = None

    @staticmethod
    def quiet(state: AlertState) -> None:
        """A declared downtime starts: planned work pages no one. Its problem episode and
        flapping end without a notice (no recovery: nothing was fixed), so no FAILING or
        REMINDER comes while it lasts; the status after it is a change from a clean slate
        (CRITICAL then is told as a new transition, OK is silent)."""
        state.episode = None
        state.problem_since = None
        state.notified = state.failures_fired = False
        state.reminders = 0
        state.last_notice_at = None
        state.flapping = False
        state.flapping_since = None
        state.suppressed = 0
        state.recent_changes = []

    @staticmethod
    def open(state: AlertState, at: datetime) -> None:
        """A problem episode starts at `at`."""
        state.episode = int(at.timestamp())
        state.problem_since = at
        state.notified = state.failures_fired = False
        state.reminders = 0
        state.last_notice_at = None

    def changes(self, changes: Sequence[StatusChange]) -> None:
        """The endpoints' status changes the metric changes made, per report of the rules."""
        by_report: dict[str, list[AlertRule]] = defaultdict(list)
        for rule in self.rules.values():
            by_report[rule.report].append(rule)
        for report, rules in by_report.items():
            firsts: dict[int, dict[Endpoint, datetime]] = defaultdict(dict)
            for change in changes:
                endpoint = (change.hostname, change.service_type)
                for rule in rules:
                    if pk(change) <= rule.from_change_id:
                        continue
                    if rule.service_type not in (None, change.service_type):
                        continue
                    known = firsts[pk(rule)].get(endpoint)
                    if known is None or change.timestamp < known:
                        firsts[pk(rule)][endpoint] = change.timestamp
            endpoints = {e for found in firsts.values() for e in found}
            if not endpoints:
                continue
            since = min(t for found in firsts.values() for t in found.values())
            until = max(self.now, max(c.timestamp for c in changes))
            try:
                lines = levels.endpoint_lines(
                    self.session,
                    report=report,
                    since=since - timedelta(seconds=1),
                    until=until,
                    hostnames={host for host, _ in endpoints},
                    service_types={stype for _, stype in endpoints},
                )
            except Invalid:  # the report, or a profile it names, is not there that day
                continue
            self.load_states(endpoints)
            for rule in rules:
                done: set[Endpoint] = set()
                for line in lines:
                    endpoint = (line.hostname, line.service_type)
                    first = firsts[pk(rule)].get(endpoint)
                    if first is not None and endpoint not in done and in_scope(rule, line):
                        done.add(endpoint)
                        self.follow(rule, line, first)

    # --- a rule enabled again --------------------------------------------------------------

    def baseline(self, rule: AlertRule) -> None:
        """The rule's states afresh from its endpoints' status now; one notice per endpoint
        not OK (keyed by the re-enabling: told once, whatever runs twice)."""
        session = self.session
        session.execute(delete(AlertState).where(col(AlertState.rule_id) == pk(rule)))
        self.states = {k: v for k, v in self.states.items() if k[0] != pk(rule)}
        rule.from_change_id = max(rule.from_change_id, last_change_id(session))
        transition = f"enabled:{_iso(rule.baseline_at)}"
        rule.baseline_at = None
        try:
            lines = levels.endpoint_lines(
                session,
                report=rule.report,
                since=self.now,
                until=self.now,
                sites=None if rule.site is None else [rule.site],
                ngis=None if rule.ngi is None else [rule.ngi],
                service_types=None if rule.service_type is None else [rule.service_type],
            )
        except Invalid:
            return
        done: set[Endpoint] = set()
        for line in lines:
            endpoint = (line.hostname, line.service_type)
            if not line.points or endpoint in done or not in_scope(rule, line):
                continue
            done.add(endpoint)
            state = self._state(rule, line, line.points[-1])
            if state.status in (OK, line.down):
                continue  # in a downtime: quiet, its end is a change as any other
            oks = [p.timestamp for p in line.points if p.status in (OK, line.down)]
            started = [p for p in line.points if not oks or p.timestamp > oks[-1]]
            self.open(state, started[0].timestamp)
            if state.status == line.missing:
                continue  # no result at all: a change to it tells nothing either
            if self.fire(rule, state, AlertKind.REMINDER, transition, reenabled=True):
                state.notified = True
                state.last_notice_at = self.now

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
                        f"failures:{_iso(state.problem_since)}",
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
                    rule,
                    state,
                    AlertKind.REMINDER,
                    f"reminder:{_iso(state.problem_since)}:{state.reminders}",
                )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _failures_since(session: Session, state: AlertState) -> int:
    """The most results in a row that are not OK among the endpoint's failing metrics, in
    the problem episode (a metric's OK result starts its count again)."""
    most = 0
    for metric in sorted(state.failing):
        series = (
            col(MetricResult.hostname) == state.hostname,
            col(MetricResult.service_type) == state.service_type,
            col(MetricResult.metric) == metric,
            col(MetricResult.timestamp) >= state.problem_since,
        )
        last_ok = session.execute(
            select(func.max(col(MetricResult.timestamp))).where(
                *series, col(MetricResult.status) == OK
            )
        ).scalar_one()
        failing = select(func.count()).where(*series, col(MetricResult.status) != OK)
        if last_ok is not None:
            failing = failing.where(col(MetricResult.timestamp) > last_ok)
        most = max(most, int(session.execute(failing).scalar_one()))
    return most


def evaluate(session: Session, *, now: datetime, limit: int = BATCH) -> Evaluation:
    """Rules enabled again get their baseline, then one batch of status changes past the
    cursor, then the open problems' timers; the caller commits (the cursor, states, fired
    alerts and their events together)."""
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
    for rule in run.rules.values():
        if rule.baseline_at is not None:
            run.baseline(rule)
    # a downtime's moment (service.downtime_moments) changes its endpoints' status without
    # any result: read like a metric's change, so that the rules fall quiet as it starts
    if changes and run.rules:
        run.changes(changes)
    if changes:
        cursor.last_change_id = pk(changes[-1])
    if run.rules:
        run.tick()
    session.flush()
    return Evaluation(changes=len(changes), fired=run.fired, more=taken == limit)
