"""GraphQL types of the monitoring catalogue: ARGO's profiles, weights and reports (one
type, `MonitoringProfile`, its `kind` telling which; `document` is ARGO's own JSON), probes
and metrics."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

import strawberry

from domains.common.graphql import Info, Node, node_type, viewer_can
from domains.monitoring.models.catalogue import Metric, Probe, ProbeKind, Versioned
from domains.monitoring.profiles import REPORT, ProfileKind
from domains.monitoring.service import catalogue as svc


@strawberry.enum(description="What an ARGO document of the catalogue is.")
class MonitoringProfileKind(enum.Enum):
    METRIC = ProfileKind.METRIC.value
    OPERATIONS = ProfileKind.OPERATIONS.value
    AGGREGATION = ProfileKind.AGGREGATION.value
    THRESHOLDS = ProfileKind.THRESHOLDS.value
    WEIGHTS = ProfileKind.WEIGHTS.value
    REPORT = REPORT


KINDS: tuple[str, ...] = tuple(svc.TABLES)
ProbeKindType = strawberry.enum(
    ProbeKind, name="MonitoringProbeKind", description="How a probe runs."
)


@strawberry.type(
    description="One version of an ARGO profile, weights or report: valid from `date` until "
    "the next version's date. `document` is ARGO's JSON of it, as argo-web-api renders it."
)
class MonitoringProfile(Node):
    kind: MonitoringProfileKind
    profile_id: str = strawberry.field(description="ARGO's id, shared by all its versions.")
    name: str
    description: str
    date: dt.date
    document: strawberry.scalars.JSON

    # the catalogue's writes are for platform administrators, whatever the profile
    viewer_can_edit = viewer_can("updateMonitoringProfile", thing="it")
    viewer_can_delete = viewer_can("deleteMonitoringProfile", thing="it")

    @classmethod
    def from_row(cls, kind: str, row: Versioned) -> MonitoringProfile:
        assert row.id is not None
        return cls(
            # the kinds are rows of six tables: the global id holds the kind too
            db_id=row.id * (len(KINDS) + 1) + KINDS.index(kind),
            kind=MonitoringProfileKind(kind),
            profile_id=row.uuid,
            name=row.name,
            description=row.description,
            date=row.date,
            document=cast(Any, svc.as_argo(kind, row)),
        )


@strawberry.type(description="How a metric is checked: a built-in probe or a Nagios plugin.")
class MonitoringProbe(Node):
    name: str
    version: str
    kind: ProbeKindType  # type: ignore[valid-type]
    builtin: str | None
    command: list[str]
    timeout_seconds: int
    description: str
    date: dt.date

    viewer_can_edit = viewer_can("updateMonitoringProbe", thing="it")
    viewer_can_delete = viewer_can("deleteMonitoringProbe", thing="it")

    @classmethod
    def from_row(cls, row: Probe) -> MonitoringProbe:
        assert row.id is not None
        return cls(
            db_id=row.id,
            name=row.name,
            version=row.version,
            kind=row.kind,
            builtin=row.builtin,
            command=list(row.command),
            timeout_seconds=row.timeout_seconds,
            description=row.description,
            date=row.date,
        )


@strawberry.type(description="A probe with parameters, and how often it runs (seconds).")
class MonitoringMetric(Node):
    name: str
    probe_name: str
    probe_version: str
    parameters: strawberry.scalars.JSON
    interval: int
    retry_interval: int
    max_check_attempts: int
    description: str
    date: dt.date

    viewer_can_edit = viewer_can("updateMonitoringMetric", thing="it")
    viewer_can_delete = viewer_can("deleteMonitoringMetric", thing="it")

    @classmethod
    def from_row(cls, row: Metric) -> MonitoringMetric:
        assert row.id is not None
        return cls(
            db_id=row.id,
            name=row.name,
            probe_name=row.probe_name,
            probe_version=row.probe_version,
            parameters=cast(Any, dict(row.parameters)),
            interval=row.interval_seconds,
            retry_interval=row.retry_interval_seconds,
            max_check_attempts=row.max_check_attempts,
            description=row.description,
            date=row.date,
        )


@node_type("MonitoringProfile")
def _resolve_profile(info: Info, pk: int) -> MonitoringProfile | None:
    row_id, code = divmod(pk, len(KINDS) + 1)
    if code >= len(KINDS):
        return None
    kind = KINDS[code]
    row = info.context.session.get(svc.TABLES[kind], row_id)
    return None if row is None else MonitoringProfile.from_row(kind, row)


@node_type("MonitoringProbe")
def _resolve_probe(info: Info, pk: int) -> MonitoringProbe | None:
    row = info.context.session.get(Probe, pk)
    return None if row is None else MonitoringProbe.from_row(row)


@node_type("MonitoringMetric")
def _resolve_metric(info: Info, pk: int) -> MonitoringMetric | None:
    row = info.context.session.get(Metric, pk)
    return None if row is None else MonitoringMetric.from_row(row)
