"""The evaluation of alert rules over the status changes ingestion writes, on the status of
service endpoints as their report combines their metrics: a change to CRITICAL, N
consecutive failures, reminders, recovery, flapping, a rule enabled again; each alert once
per transition, whatever runs twice or dies before its commit; quiet in a declared downtime
(both backends)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.identity import Principal
from domains.monitoring.models.alerts import (
    AlertCursor,
    AlertFired,
    AlertNotification,
    AlertState,
)
from domains.monitoring.service import alert_evaluation, results
from domains.monitoring.service import alerts as svc
from domains.notifications.models import Channel, NotificationStatus
from tests.monitoring import alerts_world as w
from tests.monitoring import ingest_world
from tests.monitoring.alerts_world import NOW, Place
from workers import monitoring as worker

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def where(session: Session) -> Place:
    found = w.place(session)
    w.cursor_at_end(session)
    return found


@pytest.fixture
def owner(session: Session) -> Principal:
    return w.user(session, "alert.owner@egi.eu", admin=True)


def test_a_change_to_critical_fires_once_per_transition(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OCC")
    first = w.evaluate(session, at)
    assert (first.changes, first.fired) == (2 + len(where.others), 1)
    assert w.evaluate(session, at).fired == 0  # nothing new: nothing again
    assert w.kinds(session) == ["CRITICAL"]
    # WARNING stays within the problem, CRITICAL again is a new transition
    at = w.feed(session, where, "WC", start=at)
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL", "CRITICAL"]
    [event, _] = w.alert_events(session)
    assert event.payload["site"] == where.site
    assert event.payload["ngi"] == where.ngi
    assert event.payload["previousStatus"] == "OK"
    assert event.payload["report"] == "Critical"
    assert event.payload["failingMetrics"] == [{"metric": where.metric, "status": "CRITICAL"}]


def test_the_endpoint_is_the_subject_with_its_metrics_combined(
    session: Session, where: Place, owner: Principal
) -> None:
    """Under the seeded profiles (AND of the metrics): the endpoint is CRITICAL while one
    of its metrics is; a second failing metric is no new alert but is named; a metric the
    report does not expect changes nothing."""
    assert where.others, "the seeded profile expects two metrics of the endpoint's type"
    w.rule(session, owner, site=where.site, remind_hours=1)
    at = w.feed(session, where, "OCC", others="OOC")
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL"]
    state = session.scalars(select(AlertState)).one()
    assert (state.hostname, state.service_type, state.status) == (*where.endpoint, "CRITICAL")
    assert state.failing == dict.fromkeys((where.metric, *where.others), "CRITICAL")
    # the first metric recovers, the other still fails: CRITICAL still, reminded of it
    at = w.feed(session, where, "O", start=at, others="C")
    w.evaluate(session, at + HOUR)
    assert w.kinds(session) == ["CRITICAL", "REMINDER"]
    failing = w.alert_events(session)[-1].payload["failingMetrics"]
    assert failing == [{"metric": m, "status": "CRITICAL"} for m in where.others]
    # a metric outside the report's profile
    ingest_world.add_endpoint(session)
    outside = [ingest_world.result(where.endpoint, at=at + HOUR, status="OK")]
    results.ingest_results(session, "test-alerts", outside, now=at + HOUR)
    w.evaluate(session, at + HOUR)
    assert w.kinds(session) == ["CRITICAL", "REMINDER"]
    at = w.feed(session, where, "O", start=at + HOUR)
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL", "REMINDER", "RECOVERED"]


def test_rules_see_only_their_scope_and_changes_after_them(
    session: Session, where: Place, owner: Principal
) -> None:
    at = w.feed(session, where, "OC")  # before any rule
    w.rule(session, owner, name="elsewhere", site=where.other_site)
    w.rule(session, owner, name="other type", ngi=where.ngi, service_type=where.other_type)
    w.rule(session, owner, name="every site", service_type=where.service_type)
    w.rule(session, owner, name="the NGI", ngi=where.ngi)
    w.evaluate(session, at)
    assert w.kinds(session) == []
    at = w.feed(session, where, "OC", start=at)
    w.evaluate(session, at)
    names = sorted(e.payload["rule"] for e in w.alert_events(session))
    assert names == ["every site", "the NGI"]


def test_n_consecutive_failures(session: Session, where: Place, owner: Principal) -> None:
    w.rule(session, owner, site=where.site, on_critical=False, after_failures=3)
    at = w.feed(session, where, "OWW")
    w.evaluate(session, at)
    assert w.kinds(session) == []
    at = w.feed(session, where, "C", start=at)  # the third failure in a row
    w.evaluate(session, at)
    at = w.feed(session, where, "CC", start=at)
    w.evaluate(session, at)
    assert w.kinds(session) == ["FAILING"]
    assert w.alert_events(session)[0].payload["failures"] == 3
    # an OK starts the count again
    at = w.feed(session, where, "OWWW", start=at)
    w.evaluate(session, at)
    assert w.kinds(session) == ["FAILING", "RECOVERED", "FAILING"]


def test_reminders_while_not_ok_then_recovery(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site, remind_hours=2)
    at = w.feed(session, where, "OC")
    w.evaluate(session, at)
    for later in (HOUR, 2 * HOUR - dt.timedelta(seconds=1)):
        w.evaluate(session, at + later)
    assert w.kinds(session) == ["CRITICAL"]
    w.evaluate(session, at + 2 * HOUR)
    w.evaluate(session, at + 2 * HOUR)
    w.evaluate(session, at + 3 * HOUR)
    assert w.kinds(session) == ["CRITICAL", "REMINDER"]
    w.evaluate(session, at + 4 * HOUR)
    assert w.kinds(session) == ["CRITICAL", "REMINDER", "REMINDER"]
    end = w.feed(session, where, "O", start=at + 5 * HOUR)
    w.evaluate(session, end)
    w.evaluate(session, end + 10 * HOUR)
    assert w.kinds(session) == ["CRITICAL", "REMINDER", "REMINDER", "RECOVERED"]


def test_no_recovery_notice_for_a_problem_never_told(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OWUO")
    w.evaluate(session, at)
    assert w.kinds(session) == []


def test_flapping_suppresses_notices_and_is_visible(
    session: Session, where: Place, owner: Principal
) -> None:
    rule = w.rule(
        session, owner, site=where.site, flap_changes=4, flap_window_minutes=60, remind_hours=1
    )
    at = w.feed(session, where, "OCOCOCOC")
    w.evaluate(session, at)
    # the first CRITICAL and its recovery, then the 4th change within the hour: flapping
    assert w.kinds(session) == ["CRITICAL", "RECOVERED", "FLAPPING"]
    [state] = svc.alert_states(session, owner, rule_id=rule.id or 0, flapping_only=True)
    assert state.flapping
    assert state.status == "CRITICAL"
    assert state.suppressed == 3  # each CRITICAL from the 4th change on
    w.evaluate(session, at + dt.timedelta(minutes=30))  # no reminder while flapping
    assert w.kinds(session)[-1] == "FLAPPING"
    # an hour without changes: no longer flapping, told with the status it is left in
    w.evaluate(session, at + 2 * HOUR)
    assert w.kinds(session) == ["CRITICAL", "RECOVERED", "FLAPPING", "FLAPPING_STOPPED"]
    [event] = [e for e in w.alert_events(session) if e.payload["alert"] == "FLAPPING_STOPPED"]
    assert event.payload["status"] == "CRITICAL"
    assert svc.alert_states(session, owner, rule_id=rule.id or 0, flapping_only=True) == []
    # still CRITICAL, so reminders follow the notice
    w.evaluate(session, at + 3 * HOUR)
    assert w.kinds(session)[-1] == "REMINDER"


def test_an_evaluation_that_dies_before_its_commit_is_done_again_once(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OC")
    with session.begin_nested() as attempt:
        assert w.evaluate(session, at).fired == 1
        attempt.rollback()  # the worker died before the commit
    session.expire_all()
    assert w.kinds(session) == []
    assert w.evaluate(session, at).fired == 1
    assert w.evaluate(session, at).fired == 0
    assert w.kinds(session) == ["CRITICAL"]


def test_a_fired_alert_is_delivered_once_per_channel(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OC")
    w.evaluate(session, at)
    assert w.handle_all(session) == [True]
    assert w.handle_all(session) == [False]  # the relay sent it twice
    rows = list(session.scalars(select(AlertNotification)))
    assert [(r.channel, r.status) for r in rows] == [(Channel.EMAIL, NotificationStatus.PENDING)]
    assert rows[0].payload["alert"] == "CRITICAL"


def test_the_worker_job_across_a_restart(
    session: Session, session_factory: sessionmaker[Session], where: Place, owner: Principal
) -> None:
    """The job as a worker runs it, twice (a restarted worker starts from the committed
    cursor): once."""
    w.rule(session, owner, site=where.site)
    at = w.feed(session, where, "OCOC")
    session.commit()  # the test's savepoint: what the worker's own sessions see
    assert worker.evaluate_alerts(session_factory, clock=lambda: at) == 3
    assert worker.evaluate_alerts(session_factory, clock=lambda: at) == 0
    assert worker.evaluate_alerts_job(session_factory) == 0  # as scheduled, on the real clock
    assert w.kinds(session) == ["CRITICAL", "RECOVERED", "CRITICAL"]


def test_gaps_in_the_change_ids_are_waited_for_then_skipped() -> None:
    t = NOW
    assert alert_evaluation.contiguous([1, 2, 3], 0, None, t) == (3, None)
    assert alert_evaluation.contiguous([1, 2, 4], 0, None, t) == (2, t)
    assert alert_evaluation.contiguous([4, 5], 2, t, t + dt.timedelta(seconds=59)) == (0, t)
    later = t + alert_evaluation.GAP_GRACE
    assert alert_evaluation.contiguous([4, 5], 2, t, later) == (2, None)
    assert alert_evaluation.contiguous([], 2, t, later) == (0, None)  # no gap below nothing


def test_a_gap_holds_the_cursor_for_a_while(
    session: Session, where: Place, owner: Principal
) -> None:
    w.rule(session, owner, site=where.site)
    cursor = session.get(AlertCursor, alert_evaluation.CURSOR)
    assert cursor is not None
    cursor.last_change_id -= 1  # the id after it is still in flight, or rolled back
    at = w.feed(session, where, "OC")
    assert w.evaluate(session, at).changes == 0
    assert w.evaluate(session, at + dt.timedelta(seconds=30)).changes == 0
    assert session.execute(select(func.count()).select_from(AlertState)).scalar_one() == 0
    assert w.evaluate(session, at + alert_evaluation.GAP_GRACE).changes == 2 + len(where.others)
    assert w.kinds(session) == ["CRITICAL"]


def _told_on_enabling(session: Session) -> list[tuple[tuple[str, str], str, str]]:
    """(endpoint, status, transition) of each alert of a rule enabled again."""
    rows = session.scalars(select(AlertFired).order_by(col(AlertFired.id)))
    return [
        ((r.hostname, r.service_type), r.status, r.transition)
        for r in rows
        if r.transition.startswith("enabled:")
    ]


def test_a_rule_enabled_again_tells_each_current_problem_once(
    session: Session, session_factory: sessionmaker[Session], where: Place, owner: Principal
) -> None:
    """Disabled, a rule tells nothing; enabled again, it starts from its endpoints' status
    then: one notice per endpoint not OK (the site's others have no results: MISSING), not
    repeated by a restarted worker, none for what changed meanwhile; an endpoint OK then
    stays silent."""
    rule = w.rule(session, owner, site=where.site)
    spec = svc.AlertRuleSpec(name="mine", email=True, site=where.site)
    at = w.feed(session, where, "OC")
    w.evaluate(session, at)
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=replace(spec, enabled=False))
    at = w.feed(session, where, "OCOWC", start=at)
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL"]
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=spec, now=at)
    at = w.feed(session, where, "C", start=at)  # arrives before the next evaluation
    session.commit()
    told = worker.evaluate_alerts(session_factory, clock=lambda: at)
    assert worker.evaluate_alerts(session_factory, clock=lambda: at) == 0  # restarted
    session.expire_all()
    first = _told_on_enabling(session)
    assert told == len(first) == len({e for e, _, _ in first}) == len(w.kinds(session)) - 1
    assert [(e, s) for e, s, _ in first] == [(where.endpoint, "CRITICAL")]
    # the site's other endpoints, without results (MISSING), open their problem untold, as
    # a change to MISSING does
    missing = session.scalars(
        select(AlertState).where(
            col(AlertState.rule_id) == rule.id, col(AlertState.status) == "MISSING"
        )
    ).all()
    assert missing
    assert all(m.problem_since is not None and not m.notified for m in missing)
    event = [e for e in w.alert_events(session) if e.payload["hostname"] == where.host][-1]
    assert (event.payload["alert"], event.payload["reenabled"]) == ("REMINDER", True)
    # the problem it told ends: a recovery notice
    at = w.feed(session, where, "O", start=at)
    w.evaluate(session, at)
    assert w.kinds(session)[-1] == "RECOVERED"
    # disabled while it fails, enabled again once OK: silent for it
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=replace(spec, enabled=False))
    at = w.feed(session, where, "CO", start=at)
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=spec, now=at)
    w.evaluate(session, at)
    assert _told_on_enabling(session) == first
    assert w.kinds(session).count("RECOVERED") == 1


def test_a_declared_downtime_pages_no_one(session: Session, where: Place, owner: Principal) -> None:
    """While the endpoint is DOWNTIME (its downtime's moments among the status changes):
    no FAILING, REMINDER or CRITICAL, and its start and end count as no flapping; after
    it, still CRITICAL is told once as a new transition, failures count from its end; a
    rule enabled again in it is quiet; an endpoint OK after one stays silent."""
    rule = w.rule(
        session,
        owner,
        site=where.site,
        after_failures=3,
        remind_hours=1,
        flap_changes=3,
        flap_window_minutes=1440,
    )
    at = w.feed(session, where, "OC")  # 10:00, 10:05
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL"]
    starts, ends = NOW + dt.timedelta(minutes=30), NOW + 2 * HOUR
    w.downtime(session, where, starts, ends)
    assert w.moments(session, at) == 0
    assert w.moments(session, starts + dt.timedelta(seconds=5)) == 1
    # failing results and the hours pass in it; the rule is enabled again meanwhile
    at = w.feed(session, where, "CCCC", start=starts + dt.timedelta(minutes=5))
    spec = svc.AlertRuleSpec(
        name="mine",
        email=True,
        site=where.site,
        after_failures=3,
        remind_hours=1,
        flap_changes=3,
        flap_window_minutes=1440,
    )
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=replace(spec, enabled=False))
    svc.update_rule(session, owner, rule_id=rule.id or 0, spec=spec, now=at)
    for later in (at, at + 30 * dt.timedelta(minutes=1), ends):
        w.evaluate(session, later)
    assert w.kinds(session) == ["CRITICAL"]
    state = session.scalars(
        select(AlertState).where(
            col(AlertState.rule_id) == rule.id, col(AlertState.hostname) == where.host
        )
    ).one()
    assert (state.status, state.problem_since, state.flapping) == ("DOWNTIME", None, False)
    # its effect ends a minute after its end: still failing, told once, anew
    resumed = ends + dt.timedelta(minutes=1, seconds=5)
    assert w.moments(session, resumed) == 1
    w.evaluate(session, resumed)
    w.evaluate(session, resumed)
    assert w.fired(session) == [("CRITICAL", "critical"), ("CRITICAL", "critical")]
    assert w.alert_events(session)[-1].payload["previousStatus"] == "DOWNTIME"
    at = w.feed(session, where, "CC", start=resumed)
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL", "CRITICAL"]  # two failures since its end
    at = w.feed(session, where, "C", start=at)
    w.evaluate(session, at)
    assert w.kinds(session) == ["CRITICAL", "CRITICAL", "FAILING"]
    # a second downtime, fixed in it: silent after it
    starts, ends = at + dt.timedelta(minutes=5), at + HOUR
    w.downtime(session, where, starts, ends)
    assert w.moments(session, starts + dt.timedelta(seconds=5)) == 1
    w.evaluate(session, starts + dt.timedelta(seconds=5))
    at = w.feed(session, where, "OO", start=starts + dt.timedelta(minutes=5))
    resumed = ends + dt.timedelta(minutes=1, seconds=5)
    assert w.moments(session, resumed) == 1
    w.evaluate(session, resumed)
    w.evaluate(session, resumed + 3 * HOUR)
    assert w.kinds(session) == ["CRITICAL", "CRITICAL", "FAILING"]
