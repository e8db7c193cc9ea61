"""compute_report_day on the demo federation (both backends): profiles valid that day, the
monitored production services, the day's results and the previous day's last, the
downtimes a report counts; idempotent per (report, day); and the availability queries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.monitoring.engine.pipeline import Period, Recomputations, SourceExclusion
from domains.monitoring.models import (
    AggregationProfile,
    ArLevel,
    DailyAvailability,
    MetricProfile,
    MetricProfileEntry,
    MetricResult,
    OperationsProfile,
    Report,
    Weights,
)
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import availability as svc
from domains.monitoring.service import availability_periods as periods
from domains.monitoring.service import change_points
from domains.topology.models import Service, ServiceType, Site
from tests.monitoring.argo_profiles import operations_doc

DAY = dt.date(2025, 5, 10)
METRIC = "org.opsgraph.test-ar"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A report over the first monitored production service's type: one metric, an
    aggregation with that type alone; the service's host, type and site."""
    host, stype, site, service_id, site_id = session.execute(
        select(
            col(Service.host_name),
            col(ServiceType.name),
            col(Site.short_name),
            col(Service.id),
            col(Site.id),
        )
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .join(Site, col(Site.id) == col(Service.site_id))
        .where(col(Service.monitored).is_(True), col(Service.production).is_(True))
        .order_by(col(Service.id))
        .limit(1)
    ).one()
    ops = OperationsProfile(
        uuid=str(uuid.uuid4()), date=dt.date(2025, 1, 1), name="egi_ops", document=operations_doc()
    )
    agg_doc = {
        "name": "ar-test",
        "endpoint_group": "sites",
        "metric_operation": "AND",
        "profile_operation": "AND",
        "groups": [
            {"name": "all", "operation": "OR", "services": [{"name": stype, "operation": "OR"}]}
        ],
    }
    agg = AggregationProfile(
        uuid=str(uuid.uuid4()),
        date=dt.date(2025, 1, 1),
        name="ar-test",
        metric_operation="AND",
        profile_operation="AND",
        document=agg_doc,
    )
    mp = MetricProfile(
        uuid=str(uuid.uuid4()), date=dt.date(2025, 1, 1), name="ar-test-mp", document={}
    )
    session.add_all([ops, agg, mp])
    session.flush()
    assert mp.id is not None
    session.add(MetricProfileEntry(profile_id=mp.id, service_type=stype, metric=METRIC))
    report = Report(
        uuid=str(uuid.uuid4()),
        date=dt.date(2025, 1, 1),
        name="ar-test-report",
        metric_profile_uuid=mp.uuid,
        operations_profile_uuid=ops.uuid,
        aggregation_profile_uuid=agg.uuid,
    )
    session.add(report)
    session.flush()
    return {
        "host": host,
        "stype": stype,
        "site": site,
        "report": report,
        "service_id": service_id,
        "site_id": site_id,
    }


def add_result(
    session: Session,
    world: dict[str, Any],
    moment: dt.datetime,
    status: str,
    source: str = "mon.example.org",
) -> None:
    session.add(
        MetricResult(
            timestamp=moment,
            hostname=world["host"],
            service_type=world["stype"],
            metric=METRIC,
            status=status,
            monitoring_host=source,
            source="test",
        )
    )
    session.flush()
    # stored past ingestion: the A/R's change points computed from the stored results
    change_points.rebuild(session, since=moment.date() - dt.timedelta(days=3))


def stored(session: Session, level: ArLevel, name: str) -> list[DailyAvailability]:
    return list(
        session.scalars(
            select(DailyAvailability).where(
                col(DailyAvailability.level) == level, col(DailyAvailability.name) == name
            )
        )
    )


def test_a_day_from_stored_results_and_the_previous_days_last(
    session: Session, world: dict[str, Any]
) -> None:
    # previous day: CRITICAL at 22:00 seeds 00:00; OK from 06:00: A = R = 18/24 = 75
    add_result(session, world, at(DAY - dt.timedelta(days=1), 22), "CRITICAL")
    add_result(session, world, at(DAY, 6), "OK")
    written = svc.compute_report_day(session, "ar-test-report", DAY)
    assert written > 0
    [endpoint] = stored(session, ArLevel.ENDPOINT, world["host"])
    assert (endpoint.parent, endpoint.service) == (world["site"], world["stype"])
    assert (endpoint.availability, endpoint.reliability, endpoint.up) == (75.0, 75.0, 0.75)
    # the other services of that type have no data: MISSING all day, undefined
    [site] = stored(session, ArLevel.SITE, world["site"])
    assert site.parent != ""  # its NGI
    # computing again replaces the rows
    assert svc.compute_report_day(session, world["report"].uuid, DAY) == written
    count = session.execute(
        select(func.count())
        .select_from(DailyAvailability)
        .where(col(DailyAvailability.report_uuid) == world["report"].uuid)
    ).scalar_one()
    assert count == written
    rows = periods.availability(
        session,
        ANONYMOUS,
        report="ar-test-report",
        level=ArLevel.ENDPOINT,
        name=world["host"],
        start=DAY,
        end=DAY,
    )
    assert [(r.availability, r.start) for r in rows] == [(75.0, DAY)]
    # the other services of that type had no data at all: MISSING all day, undefined (None)
    everyone = periods.availability(
        session,
        ANONYMOUS,
        report="ar-test-report",
        level=ArLevel.ENDPOINT,
        name=None,
        start=DAY,
        end=DAY,
    )
    assert {r.availability for r in everyone if r.name != world["host"]} <= {None}


def test_the_days_reads_keep_every_change_in_order(session: Session, world: dict[str, Any]) -> None:
    """day_results returns only change points: the timeline and the A/R are those of every
    stored result, ties in one second and at one instant decided by time, then id."""
    before = DAY - dt.timedelta(days=1)
    add_result(session, world, at(DAY - dt.timedelta(days=2), 23), "OK")  # too old to seed
    add_result(session, world, at(before, 10), "OK")
    add_result(session, world, at(before, 23), "WARNING")
    add_result(session, world, at(before, 23, 30), "CRITICAL")  # the seed
    add_result(session, world, at(DAY, 0), "CRITICAL")  # a repeat of the seed at 00:00
    add_result(session, world, at(DAY, 1), "CRITICAL")  # a repeat
    add_result(session, world, at(DAY, 2) + dt.timedelta(microseconds=100), "WARNING")
    add_result(session, world, at(DAY, 2) + dt.timedelta(microseconds=900), "OK")  # same second
    add_result(session, world, at(DAY, 3), "OK", source="other.example.org")  # a repeat
    add_result(session, world, at(DAY, 6), "CRITICAL")
    add_result(session, world, at(DAY, 6), "UNKNOWN")  # the same instant: the later id counts
    add_result(session, world, at(DAY, 9), "OK")
    add_result(session, world, at(DAY + dt.timedelta(days=1), 0), "CRITICAL")  # the next day
    results, previous = svc.day_results(session, [world["stype"]], DAY)
    key = (world["host"], world["stype"], METRIC)
    assert previous == {key: "CRITICAL"}
    assert [(r.second // 3600, r.status) for r in results[key]] == [
        (2, "WARNING"),
        (2, "OK"),
        (6, "CRITICAL"),
        (6, "UNKNOWN"),
        (9, "OK"),
    ]
    # narrowed to its host the same; to another host nothing
    assert svc.day_results(session, [world["stype"]], DAY, hosts=[world["host"]]) == (
        results,
        previous,
    )
    assert svc.day_results(session, [world["stype"]], DAY, hosts=["elsewhere.example"]) == ({}, {})
    # a monitoring source excluded: every result comes back, and the seed is the previous
    # day's last one not excluded
    excluded = SourceExclusion("mon.example.org", Period(at(before, 23, 15), at(before, 23, 45)))
    every, seed = svc.day_results(
        session, [world["stype"]], DAY, recomputations=Recomputations(sources=(excluded,))
    )
    assert seed == {key: "WARNING"}
    assert len(every[key]) == 8
    svc.compute_report_day(session, "ar-test-report", DAY)
    [endpoint] = stored(session, ArLevel.ENDPOINT, world["host"])
    # CRITICAL 00:00-02:00, OK 02:00-06:00, UNKNOWN 06:00-09:00, OK 09:00-24:00: up 19 h,
    # unknown 3 h: A = R = 19/(24 - 3) = 90.47619
    assert (endpoint.availability, endpoint.reliability, endpoint.unknown) == (
        90.47619,
        90.47619,
        0.125,
    )


def test_months_and_custom_periods_from_the_days(session: Session, world: dict[str, Any]) -> None:
    second = DAY + dt.timedelta(days=1)
    add_result(session, world, at(DAY, 0), "OK")  # day 1 OK all day; day 2 seeded OK too
    add_result(session, world, at(second, 12), "CRITICAL")  # day 2: A = 50
    for day in (DAY, second):
        svc.compute_report_day(session, "ar-test-report", day)
    kwargs: dict[str, Any] = {
        "report": "ar-test-report",
        "level": ArLevel.ENDPOINT,
        "name": world["host"],
        "start": DAY,
        "end": second,
    }
    daily = periods.availability(session, ANONYMOUS, **kwargs)
    assert [r.availability for r in daily] == [100.0, 50.0]
    # up (1 + 0.5)/2 = 0.75: A = 0.75/1.00000001 x 100
    [custom] = periods.availability(session, ANONYMOUS, granularity="custom", **kwargs)
    assert custom.availability == 0.75 / 1.00000001 * 100
    assert (custom.start, custom.end) == (DAY, second)
    [month] = periods.availability(session, ANONYMOUS, granularity="monthly", **kwargs)
    assert month.availability == custom.availability
    # the NGI of the site: one day per row, the monthly mean of the defined days
    ngis = periods.availability(
        session,
        ANONYMOUS,
        report="ar-test-report",
        level=ArLevel.SUPERGROUP,
        name=None,
        start=DAY,
        end=second,
        granularity="monthly",
    )
    assert ngis
    assert all(r.up is None for r in ngis)


def test_downtimes_the_report_counts(session: Session, world: dict[str, Any]) -> None:
    from domains.downtimes.models import Classification, Downtime, DowntimeService, Severity

    service_id, site_id = world["service_id"], world["site_id"]
    for severity, classification, start in (
        (Severity.OUTAGE, Classification.SCHEDULED, 2),  # counts: 02:00-04:00 (+1 min)
        (Severity.OUTAGE, Classification.UNSCHEDULED, 8),  # not by default
        (Severity.WARNING, Classification.SCHEDULED, 12),  # not by default
        (Severity.OUTAGE, Classification.SCHEDULED, 30),  # the next day
    ):
        downtime = Downtime(
            severity=severity,
            classification=classification,
            description="ar test",
            site_id=site_id,
            declared_by="test",
            starts_at=at(DAY, 0) + dt.timedelta(hours=start),
            ends_at=at(DAY, 0) + dt.timedelta(hours=start + 2),
        )
        session.add(downtime)
        session.flush()
        assert downtime.id is not None
        session.add(DowntimeService(downtime_id=downtime.id, service_id=service_id))
    add_result(session, world, at(DAY, 0), "OK")
    svc.compute_report_day(session, "ar-test-report", DAY)
    [endpoint] = stored(session, ArLevel.ENDPOINT, world["host"])
    # DOWNTIME 02:00-04:01 = 121 min: down 121/1440 = 0.08403, A = 1319/1440 -> 91.59722
    assert (endpoint.availability, endpoint.reliability, endpoint.down) == (
        91.59722,
        100.0,
        0.08403,
    )


def test_bad_queries_name_the_field(session: Session, world: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "report": "ar-test-report",
        "level": ArLevel.SITE,
        "name": None,
        "start": DAY,
        "end": DAY,
    }
    with pytest.raises(Invalid) as caught:
        periods.availability(session, ANONYMOUS, **{**base, "granularity": "hourly"})
    assert caught.value.rule == MonitoringRule.MONITORING_GRANULARITY_UNKNOWN
    with pytest.raises(Invalid) as caught:
        periods.availability(session, ANONYMOUS, **{**base, "end": DAY - dt.timedelta(days=1)})
    assert caught.value.rule == MonitoringRule.MONITORING_PERIOD_REVERSED
    with pytest.raises(Invalid) as caught:
        svc.compute_report_day(session, "no-such-report", DAY)
    assert caught.value.rule == MonitoringRule.MONITORING_REPORT_UNKNOWN
    # before the report's first version: unknown too
    with pytest.raises(Invalid):
        svc.compute_report_day(session, "ar-test-report", dt.date(2024, 12, 31))


def test_weights_unknown_profiles_and_today(session: Session, world: dict[str, Any]) -> None:
    report: Report = world["report"]
    weights = Weights(
        uuid=str(uuid.uuid4()),
        date=dt.date(2025, 1, 1),
        name="hepspec",
        document={"groups": [{"name": world["site"], "value": 9}, {"name": "broken"}]},
    )
    session.add(weights)
    report.weights_uuid = weights.uuid
    session.flush()
    add_result(session, world, at(DAY, 0), "OK")
    svc.compute_report_day(session, "ar-test-report", DAY)
    [site] = stored(session, ArLevel.SITE, world["site"])
    assert site.weight == 9.0
    # a weights uuid without a version that day: no weights
    report.weights_uuid = str(uuid.uuid4())
    session.flush()
    svc.compute_report_day(session, "ar-test-report", DAY)
    [site] = stored(session, ArLevel.SITE, world["site"])
    assert site.weight == 0.0
    # today: computed up to now, nothing stored beyond it
    today = dt.datetime.now(dt.UTC).date()
    assert svc.compute_report_day(session, "ar-test-report", today) > 0
    # a profile the report names but that has no version that day
    report.metric_profile_uuid = str(uuid.uuid4())
    session.flush()
    with pytest.raises(Invalid) as caught:
        svc.compute_report_day(session, "ar-test-report", DAY)
    assert caught.value.rule == MonitoringRule.MONITORING_PROFILE_UNKNOWN


def test_requests_are_computed_by_the_handler_and_scheduled_hourly(
    session: Session, world: dict[str, Any]
) -> None:
    from domains.common.outbox import OutboxEvent, run_handler
    from domains.monitoring.models import RecomputeDay

    add_result(session, world, at(DAY, 0), "OK")
    svc.request_availability(session, world["report"].uuid, DAY)
    session.flush()
    event = session.scalars(
        select(OutboxEvent)
        .where(col(OutboxEvent.kind) == svc.AVAILABILITY_REQUESTED)
        .order_by(col(OutboxEvent.id).desc())
    ).first()
    assert event is not None
    assert event.id is not None
    assert run_handler(session, svc.COMPUTE_HANDLER, event.id)
    [endpoint] = stored(session, ArLevel.ENDPOINT, world["host"])
    assert endpoint.availability == 100.0
    # a request for a day the report does not hold is skipped, not retried
    svc.request_availability(session, world["report"].uuid, dt.date(2024, 1, 1))
    session.flush()
    late = session.scalars(select(OutboxEvent).order_by(col(OutboxEvent.id).desc())).first()
    assert late is not None
    assert late.id is not None
    assert run_handler(session, svc.COMPUTE_HANDLER, late.id)
    # the hourly job: yesterday and today for each enabled report, and the day marked for
    # this report (for it only)
    session.execute(delete(RecomputeDay))
    session.add(RecomputeDay(report_uuid=world["report"].uuid, day=DAY, marked_at=at(DAY, 12)))
    session.flush()
    now = at(DAY + dt.timedelta(days=30), 10)
    mark = session.scalar(select(func.max(OutboxEvent.id)))
    requested = svc.schedule_availability(session, now=now)
    assert session.scalars(select(RecomputeDay)).first() is None
    asked: dict[str, set[str]] = {}
    for e in session.scalars(
        select(OutboxEvent).where(
            col(OutboxEvent.kind) == svc.AVAILABILITY_REQUESTED, col(OutboxEvent.id) > mark
        )
    ):
        asked.setdefault(e.payload["report"], set()).add(e.payload["day"])
    two = {now.date().isoformat(), (now.date() - dt.timedelta(days=1)).isoformat()}
    assert asked.pop(world["report"].uuid) == two | {DAY.isoformat()}
    assert all(days == two for days in asked.values())
    assert requested == 3 + 2 * len(asked)
    # a disabled report is not requested; the mark is gone
    world["report"].disabled = True
    session.flush()
    assert svc.schedule_availability(session, now=now) == 2 * len(asked)


def test_the_hourly_job_requests_in_its_own_transaction(
    session_factory: Any, world: dict[str, Any]
) -> None:
    from workers import monitoring as jobs

    assert jobs.schedule_availability(session_factory, clock=lambda: at(DAY, 10)) >= 2
