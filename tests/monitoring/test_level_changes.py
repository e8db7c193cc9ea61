"""Status changes above the metric (domains.monitoring.service.level_changes, through
`changes.read_changes` as the `statusChanges` stream reads them), both backends, over
tests/monitoring/levels_world.py at 04:00 (every endpoint OK but se.c, MISSING): a result
that turns site LVL-A CRITICAL tells the endpoint's, service's, site's and NGI's changes
after the metric's; a second identical result tells nothing; a change that leaves the site
as it was tells only what did change; the filter picks levels and reports."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.monitoring.models.catalogue import Metric
from domains.monitoring.service import changes
from domains.monitoring.service import results as ingest
from domains.monitoring.service.changes import ChangeCursor, ChangeFilter
from domains.monitoring.service.level_changes import LevelTracker, StatusLevel
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
