"""What the ingest tests share: a catalogue metric and a registered (host, service type)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.avro import MetricResultIn
from domains.monitoring.models.catalogue import Metric, MetricProfile, MetricProfileEntry, Report
from domains.topology.models import Service, ServiceType

METRIC = "org.opsgraph.test-ingest"


def add_endpoint(session: Session) -> tuple[str, str]:
    """Add the metric METRIC to the catalogue; a registered service's (host, type)."""
    session.add(
        Metric(
            uuid=str(uuid.uuid4()),
            date=dt.date(2026, 1, 1),
            name=METRIC,
            probe_name="tcp",
            probe_version="1",
        )
    )
    session.flush()
    host, stype = session.execute(
        select(col(Service.host_name), col(ServiceType.name))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .order_by(col(Service.id))
        .limit(1)
    ).one()
    return str(host), str(stype)


def covered_series(session: Session) -> tuple[tuple[str, str], str, set[str]]:
    """A series some report of the seeded catalogue covers: a monitored production
    service's (host, type), a metric its report's metric profile lists for that type, and
    the uuids of every report whose profile lists them (the seeded versions are valid on
    every day the tests use)."""
    entry = (
        select(col(MetricProfileEntry.service_type), col(MetricProfileEntry.metric))
        .join(MetricProfile, col(MetricProfile.id) == col(MetricProfileEntry.profile_id))
        .join(Report, col(Report.metric_profile_uuid) == col(MetricProfile.uuid))
    )
    for stype, metric in session.execute(entry.order_by(col(MetricProfileEntry.id))).all():
        host = session.scalars(
            select(col(Service.host_name))
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .where(
                col(ServiceType.name) == stype,
                col(Service.monitored).is_(True),
                col(Service.production).is_(True),
            )
            .order_by(col(Service.id))
        ).first()
        if host is not None:
            reports = set(
                session.scalars(
                    entry.with_only_columns(col(Report.uuid)).where(
                        col(MetricProfileEntry.service_type) == stype,
                        col(MetricProfileEntry.metric) == metric,
                    )
                )
            )
            return (str(host), str(stype)), str(metric), reports
    raise AssertionError("the seeded catalogue covers no registered service")


def result(
    endpoint: tuple[str, str], *, at: dt.datetime, status: str = "OK", **changes: Any
) -> MetricResultIn:
    base = MetricResultIn(
        timestamp=at,
        service=endpoint[1],
        hostname=endpoint[0],
        metric=METRIC,
        status=status,
        monitoring_host="mon.example.org",
        actual_data="time=0.1s;1;2",
        summary=f"{status}: fine",
        message=None,
        tags={"vofqan": "ops"},
    )
    return replace(base, **changes)
