"""Status changes above the metric (domains.monitoring.service.level_changes, through
`changes.read_changes` as the `statusChanges` stream reads them), both backends, over
tests/monitoring/levels_world.py at 04:00 (every endpoint OK but se.c, MISSING): a result
that turns site LVL-A CRITICAL tells the endpoint's, service's, site's and NGI's changes
after the metric's; a second identical result tells nothing; a change that leaves the site
as it was tells only what did change; the filter picks levels and reports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.downtimes import service as downtimes
from domains.downtimes.models import Downtime, Severity
from domains.monitoring.models import Report
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.service import changes, downtime_moments
from domains.monitoring.service import results as ingest
from domains.monitoring.service.changes import ChangeCursor, ChangeFilter
from domains.monitoring.service.level_changes import LevelTracker, StatusLevel
from domains.topology.models import Service
from tests.monitoring import levels_world as w
from tests.monitoring.ingest_world import result

SE_A = ("se.a.lvl.example.org", w.STORAGE)
CE_A = ("ce.a.lvl.example.org", w.COMPUTE)
EVERY = tuple(StatusLevel)


def _world(session: Session) -> int:
    """The levels world with m1 in the catalogue; the last change id before the test's."""
    w.build(session)
    session.add(
        Metric(
            uuid=str(uuid.uuid4()),
            date=dt.date(2025, 1, 1),
            name="m1",
            probe_name="p",
            probe_version="1",
        )
    )
    session.flush()
    return changes.last_change_id(session, ANONYMOUS)


def _publish(session: Session, endpoint: tuple[str, str], at: dt.datetime, status: str) -> None:
    outcome = ingest.ingest_results(
        session, "test-levels", [result(endpoint, at=at, status=status, metric="m1")], now=at
    )
    assert not outcome.rejected, outcome.rejected
    session.flush()


def _read(
    session: Session,
    cursor: ChangeCursor,
    tracker: LevelTracker | None,
    now: dt.datetime,
    **conditions: tuple[str, ...],
) -> list[tuple[str, str, str, str, str | None, str | None]]:
    levels = conditions.pop("levels", None)
    filter = ChangeFilter(levels=levels, **conditions)  # type: ignore[arg-type]
    found, _ = changes.read_changes(
        session, ANONYMOUS, cursor=cursor, filter=filter, now=now, tracker=tracker
    )
    return [(e.level, e.name, e.status, e.previous_status or "", e.site, e.report) for e in found]


def test_a_site_turning_critical_tells_every_level_once(session: Session) -> None:
    start = _world(session)
    cursor, tracker = ChangeCursor(high=start), LevelTracker(frozenset(EVERY))
    # a result's time has microseconds, the engine's timelines whole seconds
    _publish(session, SE_A, w.at(4) + dt.timedelta(microseconds=250_000), "CRITICAL")
    found = _read(session, cursor, tracker, w.at(4, 1), levels=EVERY)
    report = w.REPORT
    assert found == [
        (StatusLevel.METRIC, "m1", "CRITICAL", "", "LVL-A", None),
        (StatusLevel.ENDPOINT, SE_A[0], "CRITICAL", "OK", "LVL-A", report),
        (StatusLevel.SERVICE, w.STORAGE, "CRITICAL", "OK", "LVL-A", report),
        (StatusLevel.SITE, "LVL-A", "CRITICAL", "OK", "LVL-A", report),
        (StatusLevel.NGI, w.NGI_NAME, "CRITICAL", "MISSING", None, report),
    ]
    # the same result again changes no metric: nothing at all
    _publish(session, SE_A, w.at(4, 10), "CRITICAL")
    assert _read(session, cursor, tracker, w.at(4, 11), levels=EVERY) == []
    # ce.a's m1 WARNING: its endpoint and service change, the CRITICAL site and NGI do not
    _publish(session, CE_A, w.at(4, 20), "WARNING")
    assert _read(session, cursor, tracker, w.at(4, 21), levels=EVERY) == [
        (StatusLevel.METRIC, "m1", "WARNING", "", "LVL-A", None),  # its first change
        (StatusLevel.ENDPOINT, CE_A[0], "WARNING", "OK", "LVL-A", report),
        (StatusLevel.SERVICE, w.COMPUTE, "WARNING", "OK", "LVL-A", report),
    ]


def test_the_filter_picks_levels_and_reports(session: Session) -> None:
    start = _world(session)
    _publish(session, SE_A, w.at(4), "CRITICAL")
    now = w.at(4, 1)

    def read(**conditions: tuple[str, ...]) -> list[tuple[str, str]]:
        levels = conditions.get("levels")
        tracker = LevelTracker(frozenset(levels)) if levels else None  # type: ignore[arg-type]
        found = _read(session, ChangeCursor(high=start), tracker, now, **conditions)
        return [(level, name) for level, name, *_ in found]

    assert read() == [(StatusLevel.METRIC, "m1")]  # no levels: the metric's, as before
    assert read(levels=(StatusLevel.SITE,)) == [(StatusLevel.SITE, "LVL-A")]
    assert read(levels=(StatusLevel.SITE, StatusLevel.NGI), sites=("LVL-A",)) == [
        (StatusLevel.SITE, "LVL-A")  # an NGI's change is at no site
    ]
    assert read(levels=(StatusLevel.ENDPOINT, StatusLevel.SERVICE), service_types=(w.STORAGE,)) == [
        (StatusLevel.ENDPOINT, SE_A[0]),
        (StatusLevel.SERVICE, w.STORAGE),
    ]
    assert read(levels=(StatusLevel.SITE,), reports=("Critical",)) == []
    assert read(levels=(StatusLevel.SITE,), statuses=("OK",)) == []


def test_level_filters_take_the_statuses_above_the_metric() -> None:
    ChangeFilter(levels=(StatusLevel.SITE,), statuses=("MISSING", "DOWNTIME")).check()
    with pytest.raises(Invalid) as refused:
        ChangeFilter(statuses=("MISSING",)).check()  # no metric's status
    assert refused.value.field == "filter.status"
    with pytest.raises(Invalid) as empty:
        ChangeFilter(levels=()).check()
    assert empty.value.field == "filter.level"


# --- downtimes' moments (service.downtime_moments) --------------------------------------------

ABOVE = frozenset(EVERY) - {StatusLevel.METRIC}
CE2_B, SE_C = ("ce2.b.lvl.example.org", w.COMPUTE), ("se.c.lvl.example.org", w.STORAGE)


def _moments(session: Session, now: dt.datetime) -> int:
    done = downtime_moments.record_moments(session, now=now)
    session.flush()
    return done


def _levels(session: Session, cursor: ChangeCursor, tracker: LevelTracker, now: dt.datetime) -> Any:
    return _read(session, cursor, tracker, now, levels=tuple(ABOVE))


def _declare_on_se_a(session: Session, starts_at: dt.datetime, now: dt.datetime) -> Downtime:
    """An OUTAGE of se.a from `starts_at` to 11:00, declared at `now` (unscheduled: the
    report counts those here, as the test's other downtimes are)."""
    session.execute(
        update(Report).where(col(Report.name) == w.REPORT).values(downtimes_unscheduled=True)
    )
    service_id = session.scalars(
        select(col(Service.id)).where(col(Service.host_name) == SE_A[0])
    ).one()
    assert service_id is not None
    return downtimes.declare_downtime(
        session,
        PLATFORM,
        declaration=downtimes.Declaration(
            service_ids=[service_id],
            severity=Severity.OUTAGE,
            starts_at=starts_at,
            ends_at=w.at(11),
            description="declared by a test",
        ),
        now=now,
    )


def test_a_downtime_tells_its_levels_when_it_starts_and_when_its_effect_ends(
    session: Session,
) -> None:
    """The world's OUTAGE downtimes of ce2.b (LVL-B) and se.c (LVL-C), 10:00-12:00: the
    endpoints turn DOWNTIME at 10:00 and back at 12:01 (the engine resumes a minute after
    the end), told when those moments come; a run again, as after a restart, records
    nothing twice, and a stream of the metric's changes only gets nothing from them."""
    start = _world(session)
    cursor, tracker = ChangeCursor(high=start), LevelTracker(ABOVE)
    metric_only = ChangeCursor(high=start)
    report = w.REPORT
    assert _moments(session, w.at(9, 59)) == 0  # the first run: from now on
    assert _levels(session, cursor, tracker, w.at(9, 59)) == []
    assert _moments(session, w.at(9, 59) + dt.timedelta(seconds=50)) == 0  # not yet
    started = w.at(10) + dt.timedelta(seconds=5)
    assert _moments(session, started) == 2
    assert _moments(session, started) == 0  # again (a restarted worker): nothing twice
    told = _levels(session, cursor, tracker, started)
    endpoints = [e for e in told if e[0] is StatusLevel.ENDPOINT]
    assert endpoints == [
        (StatusLevel.ENDPOINT, CE2_B[0], "DOWNTIME", "OK", "LVL-B", report),
        (StatusLevel.ENDPOINT, SE_C[0], "DOWNTIME", "MISSING", "LVL-C", report),
    ]
    assert all(e[2] != e[3] for e in told)  # each one a change
    assert (StatusLevel.SITE, "LVL-C", "DOWNTIME", "MISSING", "LVL-C", report) in told
    assert _read(session, metric_only, None, started) == []
    assert _levels(session, cursor, tracker, started) == []  # read: told once

    assert _moments(session, w.at(12) + dt.timedelta(seconds=30)) == 0  # ended, in effect
    assert _levels(session, cursor, tracker, w.at(12, 0) + dt.timedelta(seconds=30)) == []
    resumed = w.at(12, 1) + dt.timedelta(seconds=5)
    assert _moments(session, resumed) == 2
    back = _levels(session, cursor, tracker, resumed)
    assert [e for e in back if e[0] is StatusLevel.ENDPOINT] == [
        (StatusLevel.ENDPOINT, CE2_B[0], "OK", "DOWNTIME", "LVL-B", report),
        (StatusLevel.ENDPOINT, SE_C[0], "MISSING", "DOWNTIME", "LVL-C", report),
    ]
    assert {(e[0], e[1]) for e in back} == {(e[0], e[1]) for e in told}  # each one back


def test_a_downtime_declared_ongoing_then_ended_early_is_told_at_once_and_at_its_end(
    session: Session,
) -> None:
    """se.a (LVL-A, OK): an OUTAGE declared at 09:00:30 from 08:30 (already ongoing; the
    report counts unscheduled ones here) is told at the next run, from the status before
    its start; ended early at 09:10 (its end 09:11), it is told back at 09:12."""
    start = _world(session)
    cursor, tracker = ChangeCursor(high=start), LevelTracker(ABOVE)
    assert _moments(session, w.at(9)) == 0
    declared = _declare_on_se_a(session, w.at(8, 30), w.at(9) + dt.timedelta(seconds=30))
    assert _moments(session, w.at(9) + dt.timedelta(seconds=32)) == 0  # settling
    seen = w.at(9) + dt.timedelta(seconds=40)
    assert _moments(session, seen) == 1
    told = _levels(session, cursor, tracker, seen)
    assert told[0] == (StatusLevel.ENDPOINT, SE_A[0], "DOWNTIME", "OK", "LVL-A", w.REPORT)
    assert (StatusLevel.SERVICE, w.STORAGE, "DOWNTIME", "OK", "LVL-A", w.REPORT) in told

    assert declared.id is not None
    downtimes.end_downtime(session, PLATFORM, downtime_id=declared.id, now=w.at(9, 10))
    edited = w.at(9, 10) + dt.timedelta(seconds=10)
    assert _moments(session, edited) == 1  # the edit: still DOWNTIME, nothing to tell
    assert _levels(session, cursor, tracker, edited) == []
    assert _moments(session, w.at(9, 11) + dt.timedelta(seconds=30)) == 0  # in effect still
    back = w.at(9, 12) + dt.timedelta(seconds=1)
    assert _moments(session, back) == 1
    assert _levels(session, cursor, tracker, back)[0] == (
        StatusLevel.ENDPOINT,
        SE_A[0],
        "OK",
        "DOWNTIME",
        "LVL-A",
        w.REPORT,
    )


def test_an_edit_that_takes_an_ongoing_downtime_back_tells_it_to_a_stream_that_told_it(
    session: Session,
) -> None:
    """An ongoing unscheduled OUTAGE of se.a (counted here) whose severity is changed to
    WARNING (counted by no report) at 09:20: the engine's timelines no longer hold it, and a
    stream that told the DOWNTIME is told se.a's OK at the next run."""
    start = _world(session)
    cursor, tracker = ChangeCursor(high=start), LevelTracker(ABOVE)
    assert _moments(session, w.at(9)) == 0
    declared = _declare_on_se_a(session, w.at(9, 5), w.at(9, 1))
    started = w.at(9, 5) + dt.timedelta(seconds=5)
    assert _moments(session, started) == 2  # its declaration, then its start
    assert _levels(session, cursor, tracker, started)[0][:4] == (
        StatusLevel.ENDPOINT,
        SE_A[0],
        "DOWNTIME",
        "OK",
    )
    assert declared.id is not None
    downtimes.update_downtime(
        session, PLATFORM, downtime_id=declared.id, severity=Severity.WARNING, now=w.at(9, 20)
    )
    edited = w.at(9, 20) + dt.timedelta(seconds=10)
    assert _moments(session, edited) == 1
    assert _levels(session, cursor, tracker, edited)[0][:4] == (
        StatusLevel.ENDPOINT,
        SE_A[0],
        "OK",
        "DOWNTIME",
    )
    assert _moments(session, edited) == 0
