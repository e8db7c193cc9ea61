"""The demo's week of metric results: hourly series over the demo federation's monitored
endpoints, with failures, a flapping endpoint and the demo downtimes' endpoints, and a live
status that says what the last results say (as `service/status.py` would have kept it)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.downtimes.seed import seed_demo_downtimes
from domains.monitoring.models.catalogue import MetricProfile, MetricProfileEntry
from domains.monitoring.models.results import MetricResult, RecomputeDay
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.seed.demo_results import (
    DAYS,
    downtime_windows,
    profile_metrics,
    seed_demo_results,
)

NOW = dt.datetime(2026, 11, 20, 14, 37, 12, tzinfo=dt.UTC)

Key = tuple[str, str, str]


def _series(session: Session) -> dict[Key, list[Any]]:
    """Each series' results in time order (rows, not ORM objects: a week is 100,000)."""
    out: dict[Key, list[Any]] = defaultdict(list)
    t = MetricResult.__table__  # type: ignore[attr-defined]
    query = select(
        t.c.hostname, t.c.service_type, t.c.metric, t.c.timestamp, t.c.status, t.c.summary
    ).order_by(t.c.timestamp)
    for r in session.execute(query):
        out[(r.hostname, r.service_type, r.metric)].append(r)
    return out


def test_a_demo_week_of_results_and_the_live_status_agree(session: Session) -> None:
    seed_demo_downtimes(session, now=NOW)
    week = seed_demo_results(session, now=NOW)  # for the seeded catalogue's metric profile
    profile = profile_metrics(session)
    assert "generic.tcp.connect" in profile["ARC-CE"]
    series = _series(session)
    assert week.results == sum(len(s) for s in series.values()) > 1000
    assert week.series == len(series)
    assert {stype for _, stype, _ in series} == set(profile)
    for (_, stype, metric), results in series.items():
        assert metric in profile[stype]
        # hourly over the week, ending at the seeding moment
        assert results[0].timestamp < NOW - dt.timedelta(days=DAYS - 1)
        assert NOW - dt.timedelta(hours=1) < results[-1].timestamp <= NOW
        steps = {b.timestamp - a.timestamp for a, b in zip(results, results[1:], strict=False)}
        assert steps == {dt.timedelta(hours=1)}
    statuses = {
        (s.hostname, s.service_type, s.metric): s for s in session.scalars(select(MetricStatus))
    }
    assert set(statuses) == set(series)
    changes: dict[Key, list[StatusChange]] = defaultdict(list)
    for c in session.scalars(select(StatusChange).order_by(col(StatusChange.timestamp))):
        changes[(c.hostname, c.service_type, c.metric)].append(c)
    assert sum(len(c) for c in changes.values()) == week.changes
    for key, results in series.items():
        # the status history is the series' runs of one status, the status its last run
        runs = [r for i, r in enumerate(results) if i == 0 or r.status != results[i - 1].status]
        history = changes[key]
        assert [(c.timestamp, c.status) for c in history] == [(r.timestamp, r.status) for r in runs]
        assert [c.previous_status for c in history] == [None, *(r.status for r in runs[:-1])]
        status = statuses[key]
        assert (status.status, status.timestamp, status.since, status.summary) == (
            results[-1].status,
            results[-1].timestamp,
            runs[-1].timestamp,
            results[-1].summary,
        )
    seen = {r.status for results in series.values() for r in results}
    assert seen == {"OK", "WARNING", "CRITICAL", "UNKNOWN"}
    # failing now, flapping over the last two days, a certificate about to expire
    assert week.failing
    assert all(statuses[(h, t, profile[t][0])].status == "CRITICAL" for h, t in week.failing)
    assert week.flapping is not None
    host, stype = week.flapping
    assert len(changes[(host, stype, profile[stype][0])]) >= 40
    assert week.expiring is not None
    host, stype = week.expiring
    assert statuses[(host, stype, "generic.certificate.validity")].status == "WARNING"
    # the demo downtimes' endpoints: CRITICAL while an OUTAGE lasts
    windows = downtime_windows(session, NOW - dt.timedelta(days=DAYS), NOW)
    assert week.in_downtime
    assert set(week.in_downtime) <= set(windows)
    outage = 0
    for (host, stype, _), results in series.items():
        for window in windows.get((host, stype), ()):
            during = [r for r in results if window.start <= r.timestamp < window.end]
            if window.status == "CRITICAL":
                outage += len(during)
                assert {r.status for r in during} <= {"CRITICAL"}
    assert outage > 0
    # the finished days are to be computed
    marked = set(session.scalars(select(col(RecomputeDay.day))))
    assert marked == {NOW.date() - dt.timedelta(days=d) for d in range(1, DAYS + 1)}


def test_the_same_moment_gives_the_same_week(session: Session) -> None:
    def week() -> list[tuple[object, ...]]:
        nested = session.begin_nested()
        seed_demo_results(session, now=NOW, profile={"SRM": ("generic.tcp.connect",)})
        rows: list[tuple[object, ...]] = [
            (r.timestamp, r.hostname, r.status, r.summary, r.perfdata)
            for r in session.scalars(select(MetricResult).order_by(col(MetricResult.id)))
        ]
        nested.rollback()
        return rows

    first = week()
    assert first
    assert week() == first


def test_the_results_follow_the_latest_metric_profile(session: Session) -> None:
    profile_uuid = str(uuid.uuid4())
    for day, metrics in (
        (dt.date(2024, 1, 1), ["old.metric"]),
        (dt.date(2025, 1, 1), ["m.b", "m.a"]),
    ):
        version = MetricProfile(uuid=profile_uuid, date=day, name="DEMO")
        session.add(version)
        session.flush()
        assert version.id is not None
        session.add_all(
            MetricProfileEntry(profile_id=version.id, service_type="SRM", metric=m) for m in metrics
        )
    session.flush()
    assert profile_metrics(session, "DEMO") == {"SRM": ("m.b", "m.a")}
    week = seed_demo_results(session, now=NOW, profile_name="DEMO")
    assert week.series > 0
    assert set(session.scalars(select(col(MetricResult.metric)).distinct())) == {"m.a", "m.b"}
