"""A small federation for the status above the metric, hand-checkable under egi_ops:

NGI_LVL holds three sites; the report "lvl-report" expects metrics m1 and m2 of lvl.compute
and m1 of lvl.storage; its aggregation: endpoints of a type OR, groups compute (lvl.compute)
and storage (lvl.storage) OR, metrics AND, groups AND (profile_operation).

- LVL-A: ce.a (lvl.compute: m2 CRITICAL from 06:00), se.a (lvl.storage: OK);
- LVL-B: ce1.b (lvl.compute: m1 CRITICAL from 08:00), ce2.b (lvl.compute: OK; an OUTAGE
  SCHEDULED downtime 10:00-12:00, so DOWNTIME until 12:01);
- LVL-C: se.c (lvl.storage: no result, MISSING; a downtime 10:00-12:00).

Every result of DAY is at 00:00 unless said."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.downtimes.models import Classification, Downtime, DowntimeService, Severity
from domains.monitoring.models import (
    AggregationProfile,
    MetricProfile,
    MetricProfileEntry,
    MetricResult,
    OperationsProfile,
    Report,
)
from domains.monitoring.service import change_points
from domains.topology.models import (
    CertificationStatus,
    Country,
    Endpoint,
    Ngi,
    ProductionInfrastructure,
    Service,
    ServiceType,
    Site,
)
from tests.monitoring.argo_profiles import operations_doc

DAY = dt.date(2025, 5, 10)
REPORT = "lvl-report"
NGI_NAME = "NGI_LVL"
COMPUTE, STORAGE = "lvl.compute", "lvl.storage"
SITES = {
    "LVL-A": [("ce.a.lvl.example.org", COMPUTE), ("se.a.lvl.example.org", STORAGE)],
    "LVL-B": [("ce1.b.lvl.example.org", COMPUTE), ("ce2.b.lvl.example.org", COMPUTE)],
    "LVL-C": [("se.c.lvl.example.org", STORAGE)],
}
IN_DOWNTIME = ("ce2.b.lvl.example.org", "se.c.lvl.example.org")


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def _result(host: str, stype: str, metric: str, moment: dt.datetime, status: str) -> MetricResult:
    return MetricResult(
        timestamp=moment,
        hostname=host,
        service_type=stype,
        metric=metric,
        status=status,
        monitoring_host="mon.lvl.example.org",
        source="test",
    )


def build(session: Session) -> dict[str, Any]:
    """The world above; the ids of its sites, services and NGI by name."""
    country = int(session.scalars(select(col(Country.id)).limit(1)).one() or 0)
    ngi = Ngi(name=NGI_NAME)
    types = {name: ServiceType(name=name) for name in (COMPUTE, STORAGE)}
    session.add_all([ngi, *types.values()])
    session.flush()
    assert ngi.id is not None
    type_ids = {name: int(t.id or 0) for name, t in types.items()}
    ids: dict[str, Any] = {"ngi": ngi.id, "sites": {}, "services": {}}
    for short_name, services in SITES.items():
        site = Site(
            short_name=short_name,
            certification_status=CertificationStatus.CERTIFIED,
            production_infrastructure=ProductionInfrastructure.PRODUCTION,
            ngi_id=ngi.id,
            country_id=country,
        )
        session.add(site)
        session.flush()
        assert site.id is not None
        ids["sites"][short_name] = site.id
        for host, stype in services:
            service = Service(site_id=site.id, service_type_id=type_ids[stype], host_name=host)
            session.add(service)
            session.flush()
            assert service.id is not None
            ids["services"][host] = service.id
            if host == "ce2.b.lvl.example.org":  # a GOCDB endpoint: its service's status
                session.add(Endpoint(service_id=service.id, name="ce2-ep", interface_name="x"))
            if host in IN_DOWNTIME:
                downtime = Downtime(
                    severity=Severity.OUTAGE,
                    classification=Classification.SCHEDULED,
                    description="levels test",
                    site_id=site.id,
                    declared_by="test",
                    starts_at=at(10),
                    ends_at=at(12),
                )
                session.add(downtime)
                session.flush()
                assert downtime.id is not None
                session.add(DowntimeService(downtime_id=downtime.id, service_id=service.id))
    _report(session)
    for host, stype, metric, moment, status in (
        ("ce.a.lvl.example.org", COMPUTE, "m1", at(0), "OK"),
        ("ce.a.lvl.example.org", COMPUTE, "m2", at(0), "OK"),
        ("ce.a.lvl.example.org", COMPUTE, "m2", at(6), "CRITICAL"),
        ("se.a.lvl.example.org", STORAGE, "m1", at(0), "OK"),
        ("ce1.b.lvl.example.org", COMPUTE, "m1", at(0), "OK"),
        ("ce1.b.lvl.example.org", COMPUTE, "m2", at(0), "OK"),
        ("ce1.b.lvl.example.org", COMPUTE, "m1", at(8), "CRITICAL"),
        ("ce2.b.lvl.example.org", COMPUTE, "m1", at(0), "OK"),
        ("ce2.b.lvl.example.org", COMPUTE, "m2", at(0), "OK"),
    ):
        session.add(_result(host, stype, metric, moment, status))
    session.flush()
    change_points.rebuild(session, since=DAY)  # stored past ingestion
    return ids


def _report(session: Session) -> None:
    since = dt.date(2025, 1, 1)
    ops = OperationsProfile(
        uuid=str(uuid.uuid4()), date=since, name="lvl-ops", document=operations_doc()
    )
    agg_doc = {
        "name": "lvl-agg",
        "endpoint_group": "sites",
        "metric_operation": "AND",
        "profile_operation": "AND",
        "groups": [
            {
                "name": "compute",
                "operation": "OR",
                "services": [{"name": COMPUTE, "operation": "OR"}],
            },
            {
                "name": "storage",
                "operation": "OR",
                "services": [{"name": STORAGE, "operation": "OR"}],
            },
        ],
    }
    agg = AggregationProfile(
        uuid=str(uuid.uuid4()),
        date=since,
        name="lvl-agg",
        metric_operation="AND",
        profile_operation="AND",
        document=agg_doc,
    )
    mp = MetricProfile(uuid=str(uuid.uuid4()), date=since, name="lvl-mp", document={})
    session.add_all([ops, agg, mp])
    session.flush()
    assert mp.id is not None
    for stype, metric in ((COMPUTE, "m1"), (COMPUTE, "m2"), (STORAGE, "m1")):
        session.add(MetricProfileEntry(profile_id=mp.id, service_type=stype, metric=metric))
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
