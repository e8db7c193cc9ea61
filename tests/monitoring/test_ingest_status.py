"""An endpoint's status under a report, from the live status of its metrics: the expected
metrics combined by the aggregation profile's metric operation in the loaded truth table,
MISSING for a metric without a result, DOWNTIME while a downtime the report counts lasts;
a different truth table loaded gives a different answer (both backends)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.common.models import pk
from domains.common.time import utcnow
from domains.downtimes.models import Classification, Downtime, DowntimeService, Severity
from domains.monitoring.models import (
    AggregationProfile,
    Metric,
    MetricProfile,
    MetricProfileEntry,
    OperationsProfile,
    Report,
)
from domains.monitoring.service import results as ingest
from domains.monitoring.service import status as svc
from domains.topology.models import Service, ServiceType
from tests.conftest import AppFactory, GraphQLClient, StatementCounter
from tests.gateway.response_cache import cached_at
from tests.monitoring.argo_profiles import operations_doc
from tests.monitoring.ingest_world import result

FIRST, SECOND = "org.opsgraph.status-a", "org.opsgraph.status-b"
REPORT = "status-test"


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """A report expecting two metrics of the first service's type; the service."""
    host, stype, service_id, site_id = session.execute(
        select(
            col(Service.host_name),
            col(ServiceType.name),
            col(Service.id),
            col(Service.site_id),
        )
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .order_by(col(Service.id))
        .limit(1)
    ).one()
    since = dt.date(2025, 1, 1)
    for name in (FIRST, SECOND):
        session.add(
            Metric(uuid=str(uuid.uuid4()), date=since, name=name, probe_name="t", probe_version="1")
        )
    ops = OperationsProfile(
        uuid=str(uuid.uuid4()), date=since, name="egi_ops", document=operations_doc()
    )
    agg_doc = {
        "name": "status-agg",
        "endpoint_group": "sites",
        "metric_operation": "AND",
        "profile_operation": "AND",
        "groups": [
            {"name": "all", "operation": "OR", "services": [{"name": stype, "operation": "OR"}]}
        ],
    }
    agg = AggregationProfile(
        uuid=str(uuid.uuid4()),
        date=since,
        name="status-agg",
        metric_operation="AND",
        profile_operation="AND",
        document=agg_doc,
    )
    mp = MetricProfile(uuid=str(uuid.uuid4()), date=since, name="status-mp", document={})
    session.add_all([ops, agg, mp])
    session.flush()
    for name in (FIRST, SECOND):
        session.add(MetricProfileEntry(profile_id=pk(mp), service_type=stype, metric=name))
    session.add(
        Report(
            uuid=str(uuid.uuid4()),
            date=since,
            name=REPORT,
            metric_profile_uuid=mp.uuid,
            operations_profile_uuid=ops.uuid,
            aggregation_profile_uuid=agg.uuid,
        )
    )
    session.flush()
    return {"host": host, "stype": stype, "service_id": service_id, "site_id": site_id, "ops": ops}


def _status(session: Session, world: dict[str, Any], now: dt.datetime) -> svc.EndpointStatusRow:
    return svc.endpoint_status(
        session,
        ANONYMOUS,
        report=REPORT,
        hostname=world["host"],
        service_type=world["stype"],
        now=now,
    )


def _outage(
    session: Session, world: dict[str, Any], starts: dt.datetime, ends: dt.datetime
) -> None:
    """A scheduled OUTAGE of the world's service (what the report counts), flushed."""
    downtime = Downtime(
        severity=Severity.OUTAGE,
        classification=Classification.SCHEDULED,
        description="status test",
        site_id=world["site_id"],
        declared_by="test",
        starts_at=starts,
        ends_at=ends,
    )
    session.add(downtime)
    session.flush()
    session.add(DowntimeService(downtime_id=pk(downtime), service_id=world["service_id"]))
    session.flush()


def test_the_expected_metrics_combine_in_the_loaded_truth_table(
    session: Session, world: dict[str, Any]
) -> None:
    now = utcnow()
    endpoint = (world["host"], world["stype"])
    ingest.ingest_results(
        session, "t", [result(endpoint, at=now - dt.timedelta(minutes=5), metric=FIRST)], now=now
    )
    found = _status(session, world, now)
    assert found.metrics == ((FIRST, "OK"), (SECOND, "MISSING"))
    assert (found.status, found.in_downtime) == ("MISSING", False)

    ingest.ingest_results(
        session,
        "t",
        [result(endpoint, at=now - dt.timedelta(minutes=4), metric=SECOND, status="CRITICAL")],
        now=now,
    )
    assert _status(session, world, now).status == "CRITICAL"
    # a truth table loaded at run time decides: here AND(OK, CRITICAL) is WARNING
    doc = operations_doc()
    for op in doc["operations"]:
        if op["name"] == "AND":
            for row in op["truth_table"]:
                if {row["a"], row["b"]} == {"OK", "CRITICAL"}:
                    row["x"] = "WARNING"
    world["ops"].document = doc
    session.flush()
    assert _status(session, world, now).status == "WARNING"

    # a scheduled outage the report counts: DOWNTIME while it lasts
    _outage(session, world, now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    during = _status(session, world, now)
    assert (during.status, during.in_downtime) == ("DOWNTIME", True)
    after = _status(session, world, now + dt.timedelta(hours=2))
    assert (after.status, after.in_downtime) == ("WARNING", False)


def test_a_service_type_the_report_does_not_expect_is_named(
    session: Session, world: dict[str, Any]
) -> None:
    with pytest.raises(Invalid) as caught:
        svc.endpoint_status(
            session, ANONYMOUS, report=REPORT, hostname=world["host"], service_type="None.Such"
        )
    assert caught.value.field == "serviceType"
    with pytest.raises(Invalid) as caught:
        svc.endpoint_status(
            session, ANONYMOUS, report="no-report", hostname="h", service_type=world["stype"]
        )
    assert caught.value.field == "report"


def test_endpoint_status_over_graphql(gql: GraphQLClient, world: dict[str, Any]) -> None:
    data = gql.data(
        "query($r: String!, $h: String!, $t: String!) { endpointStatus(report: $r, "
        "hostname: $h, serviceType: $t) { status inDowntime metrics { metric status } } }",
        {"r": REPORT, "h": world["host"], "t": world["stype"]},
    )["endpointStatus"]
    assert data == {
        "status": "MISSING",
        "inDowntime": False,
        "metrics": [
            {"metric": FIRST, "status": "MISSING"},
            {"metric": SECOND, "status": "MISSING"},
        ],
    }


def test_endpoint_status_is_kept_until_a_downtime_starts_or_ends_or_the_day_turns(
    make_client: AppFactory,
    session: Session,
    world: dict[str, Any],
    statements: StatementCounter,
) -> None:
    """In the response cache (gateway/cache.py) the answer holds until the first moment it
    may change (domains/common/time.py's changing_at): a counted downtime's start or end,
    the next midnight (the profiles are the day's)."""
    starts = dt.datetime(2031, 5, 4, 10, tzinfo=dt.UTC)
    ends = starts + dt.timedelta(hours=6)
    _outage(session, world, starts, ends)
    # the metric profile's next version, from the next day on, expects the first metric alone
    mp = session.scalars(select(MetricProfile).where(col(MetricProfile.name) == "status-mp")).one()
    later = MetricProfile(uuid=mp.uuid, date=dt.date(2031, 5, 5), name=mp.name, document={})
    session.add(later)
    session.flush()
    session.add(MetricProfileEntry(profile_id=pk(later), service_type=world["stype"], metric=FIRST))
    session.commit()
    moment = [starts - dt.timedelta(hours=1)]
    client = cached_at(make_client, moment)
    query = (
        "query($r: String!, $h: String!, $t: String!) { endpointStatus(report: $r, "
        "hostname: $h, serviceType: $t) { status inDowntime metrics { metric } } }"
    )

    def read() -> tuple[str, bool]:
        found = client.data(query, {"r": REPORT, "h": world["host"], "t": world["stype"]})
        metrics.append(len(found["endpointStatus"]["metrics"]))
        return found["endpointStatus"]["status"], found["endpointStatus"]["inDowntime"]

    metrics: list[int] = []

    assert read() == ("MISSING", False)
    statements.reset()
    assert read() == ("MISSING", False)  # kept: nothing changes before the start
    assert statements.count == 0
    moment[0] = starts
    assert read() == ("DOWNTIME", True)
    moment[0] = ends
    assert read() == ("MISSING", False)
    moment[0] = dt.datetime(2031, 5, 4, 23, 59, 59, tzinfo=dt.UTC)
    statements.reset()
    assert read() == ("MISSING", False)  # kept until midnight
    assert statements.count == 0
    assert metrics[-1] == 2
    moment[0] = dt.datetime(2031, 5, 5, tzinfo=dt.UTC)  # a new day: the profile's next version
    assert read() == ("MISSING", False)
    assert metrics[-1] == 1
