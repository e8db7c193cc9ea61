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
from domains.monitoring.models.catalogue import Metric
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
