"""A report's thresholds profile applied where statuses are derived per report (both
backends): a result OK by its probe with perfdata over the critical threshold is CRITICAL
in the report's live endpoint status and in the day's A/R, the probe's status kept beside
it; under a report without thresholds the same result stays OK."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import ANONYMOUS, Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, run_handler
from domains.common.time import utcnow
from domains.monitoring.models import (
    AggregationProfile,
    ArLevel,
    DailyAvailability,
    Metric,
    MetricProfile,
    MetricProfileEntry,
    MetricResult,
    OperationsProfile,
    Report,
    ThresholdsProfile,
)
from domains.monitoring.models.status import MetricStatus
from domains.monitoring.profiles import ProfileKind
from domains.monitoring.service import availability, catalogue, change_points, status, timelines
from domains.monitoring.service import results as ingest
from domains.topology.models import Service, ServiceType, Site
from tests.conftest import GraphQLClient
from tests.monitoring.argo_profiles import operations_doc
from tests.monitoring.ingest_world import result

METRIC = "org.opsgraph.thresholds"
RULE = "time=1s;2:5;5:"  # WARNING above 2 s, CRITICAL above 5 s
OVER = "time=12.5s;;;0"
DAY = dt.date(2025, 5, 10)
SINCE = dt.date(2025, 1, 1)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """Two reports over the first monitored production service's type and one metric,
    `with` naming a thresholds profile with a rule for that metric on its site, `without`
    none."""
    host, stype, site = session.execute(
        select(col(Service.host_name), col(ServiceType.name), col(Site.short_name))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .join(Site, col(Site.id) == col(Service.site_id))
        .where(col(Service.monitored).is_(True), col(Service.production).is_(True))
        .order_by(col(Service.id))
        .limit(1)
    ).one()
    session.add(
        Metric(uuid=str(uuid.uuid4()), date=SINCE, name=METRIC, probe_name="t", probe_version="1")
    )
    ops = OperationsProfile(
        uuid=str(uuid.uuid4()), date=SINCE, name="egi_ops", document=operations_doc()
    )
    agg = AggregationProfile(
        uuid=str(uuid.uuid4()),
        date=SINCE,
        name="thr-agg",
        metric_operation="AND",
        profile_operation="AND",
        document={
            "name": "thr-agg",
            "endpoint_group": "sites",
            "metric_operation": "AND",
            "profile_operation": "AND",
            "groups": [
                {"name": "all", "operation": "OR", "services": [{"name": stype, "operation": "OR"}]}
            ],
        },
    )
    mp = MetricProfile(uuid=str(uuid.uuid4()), date=SINCE, name="thr-mp", document={})
    rules = [{"endpoint_group": site, "metric": METRIC, "thresholds": RULE}]
    thr = ThresholdsProfile(
        uuid=str(uuid.uuid4()),
        date=SINCE,
        name="thr",
        document={"name": "thr", "rules": rules},
    )
    session.add_all([ops, agg, mp, thr])
    session.flush()
    session.add(MetricProfileEntry(profile_id=pk(mp), service_type=stype, metric=METRIC))
    for name, thresholds in (("with", thr.uuid), ("without", None)):
        session.add(
            Report(
                uuid=str(uuid.uuid4()),
                date=SINCE,
                name=name,
                metric_profile_uuid=mp.uuid,
                operations_profile_uuid=ops.uuid,
                aggregation_profile_uuid=agg.uuid,
                thresholds_profile_uuid=thresholds,
            )
        )
    session.flush()
    return {"host": host, "stype": stype, "site": site}


def _result(session: Session, world: dict[str, Any], moment: dt.datetime, perfdata: str) -> None:
    session.add(
        MetricResult(
            timestamp=moment,
            hostname=world["host"],
            service_type=world["stype"],
            metric=METRIC,
            status="OK",
            perfdata=perfdata,
            monitoring_host="mon.example.org",
            source="test",
        )
    )
    session.flush()
    # stored past ingestion: the A/R's change points computed from the stored results
    change_points.rebuild(session, since=moment.date() - dt.timedelta(days=2))


def test_the_live_status_under_each_report(
    session: Session, gql: GraphQLClient, world: dict[str, Any]
) -> None:
    now = utcnow()
    endpoint = (world["host"], world["stype"])
    found = [result(endpoint, at=now - dt.timedelta(minutes=5), metric=METRIC, actual_data=OVER)]
    ingest.ingest_results(session, "t", found, now=now)

    def under(report: str) -> status.EndpointStatusRow:
        return status.endpoint_status(
            session,
            ANONYMOUS,
            report=report,
            hostname=world["host"],
            service_type=world["stype"],
            now=now,
        )

    graded = under("with")
    assert (graded.status, graded.metrics) == ("CRITICAL", ((METRIC, "CRITICAL"),))
    [(metric, how)] = graded.regraded
    assert (metric, how.original_status, how.rule_applied) == (METRIC, "OK", RULE)
    plain = under("without")
    assert (plain.status, plain.metrics, plain.regraded) == ("OK", ((METRIC, "OK"),), ())
    # the live status itself stays the probe's, shared by the reports
    [row] = status.metric_statuses(session, ANONYMOUS, hostname=world["host"])
    assert row.status == "OK"
    query = (
        "query($r: String!, $h: String!, $t: String!) { endpointStatus(report: $r, "
        "hostname: $h, serviceType: $t) { status metrics { metric status originalStatus "
        "thresholdRuleApplied } } }"
    )
    names = {"h": world["host"], "t": world["stype"]}
    assert gql.data(query, {"r": "with", **names})["endpointStatus"] == {
        "status": "CRITICAL",
        "metrics": [
            {
                "metric": METRIC,
                "status": "CRITICAL",
                "originalStatus": "OK",
                "thresholdRuleApplied": RULE,
            }
        ],
    }
    [plain_metric] = gql.data(query, {"r": "without", **names})["endpointStatus"]["metrics"]
    assert plain_metric == {
        "metric": METRIC,
        "status": "OK",
        "originalStatus": None,
        "thresholdRuleApplied": None,
    }


def test_the_days_availability_under_each_report(session: Session, world: dict[str, Any]) -> None:
    # OK all along by the probe; from 06:00 its perfdata is over the critical threshold,
    # from 18:00 under the warning one again (WARNING counts as up)
    _result(session, world, dt.datetime(2025, 5, 9, 22, tzinfo=dt.UTC), "time=0.5s")
    _result(session, world, dt.datetime(2025, 5, 10, 6, tzinfo=dt.UTC), OVER)
    _result(session, world, dt.datetime(2025, 5, 10, 12, tzinfo=dt.UTC), OVER)  # a repeat
    _result(session, world, dt.datetime(2025, 5, 10, 18, tzinfo=dt.UTC), "time=0.5s")
    for report in ("with", "without"):
        availability.compute_report_day(session, report, DAY)

    def endpoint(report: str) -> float | None:
        uuid_ = availability.report_on(session, report, DAY).uuid
        return session.scalars(
            select(col(DailyAvailability.availability)).where(
                col(DailyAvailability.report_uuid) == uuid_,
                col(DailyAvailability.level) == ArLevel.ENDPOINT,
                col(DailyAvailability.name) == world["host"],
            )
        ).one()

    assert endpoint("with") == 50.0  # CRITICAL from 06:00 to 18:00
    assert endpoint("without") == 100.0
    # the stored results keep the probe's status
    assert set(session.scalars(select(col(MetricResult.status)))) == {"OK"}

    # the report's metric timeline (ARGO's status metric view) shows the re-graded status
    # with the probe's and the rule (a metric with a live status has a timeline)
    last = dt.datetime(2025, 5, 10, 18, tzinfo=dt.UTC)
    session.add(
        MetricStatus(
            hostname=world["host"],
            service_type=world["stype"],
            metric=METRIC,
            status="OK",
            timestamp=last,
            since=last,
        )
    )
    session.flush()
    version = availability.report_on(session, "with", DAY)
    grading = availability.grading_on(
        session, version, DAY, {(world["host"], world["stype"]): world["site"]}
    )
    assert grading is not None
    [line] = timelines.metric_timelines(
        session,
        ANONYMOUS,
        hostname=world["host"],
        service_type=world["stype"],
        start=dt.datetime(2025, 5, 10, tzinfo=dt.UTC),
        end=dt.datetime(2025, 5, 10, 23, 59, 59, tzinfo=dt.UTC),
        grading=grading,
    )
    assert [(p.timestamp.hour, p.status, p.original_status) for p in line.points] == [
        (22, "OK", None),
        (6, "CRITICAL", "OK"),
        (18, "OK", None),
        (23, "OK", None),
    ]
    assert (line.points[1].rule_applied, line.points[1].perfdata) == (RULE, OVER)
    # the flat list's batched read grades the same way; the endpoint is marked affected
    window = {
        "start": dt.datetime(2025, 5, 10, tzinfo=dt.UTC),
        "end": dt.datetime(2025, 5, 10, 23, 59, 59, tzinfo=dt.UTC),
    }
    key = (world["host"], world["stype"])
    [flat] = timelines.metric_timelines_of(
        session, ANONYMOUS, endpoints=[key], metric=METRIC, grading=grading, **window
    )
    assert flat.points == line.points
    marks = timelines.threshold_marks(session, ANONYMOUS, report=version, **window)
    assert marks == timelines.ThresholdMarks(
        frozenset({key}),
        frozenset({(world["site"], world["stype"])}),
        frozenset({world["site"]}),
    )


def test_a_new_thresholds_version_recomputes_the_stored_days_from_its_date(
    session: Session, world: dict[str, Any]
) -> None:
    # 4 s all along: WARNING (up) by RULE; CRITICAL by a rule critical above 3 s
    days = [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
    for day in days:
        _result(session, world, dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), "time=4s")
    for report in ("with", "without"):
        for day in days:
            availability.compute_report_day(session, report, day)
    uuids = {r: availability.report_on(session, r, DAY).uuid for r in ("with", "without")}
    thr = session.scalars(select(ThresholdsProfile).where(col(ThresholdsProfile.name) == "thr"))
    profile_uuid = thr.first().uuid  # type: ignore[union-attr]
    admin = Principal(subject="root", user_id=2, is_admin=True)

    def version(day: dt.date, rule: str) -> set[tuple[str, dt.date]]:
        """Write the version dated `day`; the (report, day) requests it made."""
        since = session.scalars(select(func.max(col(OutboxEvent.id)))).one() or 0
        rules = [{"endpoint_group": world["site"], "metric": METRIC, "thresholds": rule}]
        document = {"date": day.isoformat(), "name": "thr", "rules": rules}
        catalogue.update_profile(session, admin, ProfileKind.THRESHOLDS, profile_uuid, document)
        requested = session.scalars(
            select(OutboxEvent).where(
                col(OutboxEvent.kind) == availability.AVAILABILITY_REQUESTED,
                col(OutboxEvent.id) > since,
            )
        ).all()
        for event in requested:  # the workers' handler
            assert run_handler(session, availability.COMPUTE_HANDLER, pk(event))
        return {(e.payload["report"], dt.date.fromisoformat(e.payload["day"])) for e in requested}

    def endpoint(report: str) -> list[float | None]:
        return list(
            session.scalars(
                select(col(DailyAvailability.availability))
                .where(
                    col(DailyAvailability.report_uuid) == uuids[report],
                    col(DailyAvailability.level) == ArLevel.ENDPOINT,
                    col(DailyAvailability.name) == world["host"],
                )
                .order_by(col(DailyAvailability.day))
            )
        )

    assert endpoint("with") == endpoint("without") == [100.0, 100.0, 100.0]
    # a version dated the last day: that day only, of the report using the profile only
    assert version(days[2], "time=1s;2:3;3:") == {(uuids["with"], days[2])}
    assert endpoint("with") == [100.0, 100.0, 0.0]
    # one dated the day before it decides that day alone (the next version the last one)
    assert version(DAY, "time=1s;2:3;3:") == {(uuids["with"], DAY)}
    assert endpoint("with") == [100.0, 0.0, 0.0]
    assert endpoint("without") == [100.0, 100.0, 100.0]
