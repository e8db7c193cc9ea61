"""The monitoring catalogue: probes, metrics, and ARGO's profiles and reports.

Every kind is versioned by date as ARGO's are: a thing has an `uuid` (ARGO's `id`), shared by
all its versions, and each version a `date` from which it is valid. The version of a thing
valid on day D is the one with the latest `date` <= D (ARGO's `?date=` on its profiles, and
what a report computed for a past day uses). A version is never changed in place by a
newer one: an update on the same date replaces that date's version, an update on a later
date adds a version.

The profiles keep ARGO's JSON document as loaded (`document`, rendered back unchanged by
`profiles.py`) plus the columns the engine and the queries look things up by.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

NAME_MAX = 255
DESCRIPTION_MAX = 2000
UUID_MAX = 36
PROBE_VERSION_MAX = 64
OPERATION_MAX = 64


class Versioned(SQLModel):
    """The columns every catalogue kind shares (not a table)."""

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=UUID_MAX)
    date: dt.date
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=NAME_MAX)


def _versions(table: str) -> tuple[Any, ...]:
    return (
        UniqueConstraint("uuid", "date", name=f"uq_{table}_uuid_date"),
        Index(f"ix_{table}_name_date", "name", "date"),
    )


def _document() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ProbeKind(enum.StrEnum):
    """BUILTIN: one of opsgraph's own probes (`builtin` names it: tcp, http, tls, apel-pub,
    apel-sync); PLUGIN: an external Nagios plugin run from the probe plugin directory
    (`command`)."""

    BUILTIN = "BUILTIN"
    PLUGIN = "PLUGIN"


class Probe(Versioned, table=True):
    """How a metric is checked: a built-in probe, or an external Nagios plugin's command
    line (argv templates substituting only registered values: host, port, URL). Several
    software versions of one probe (`version`, POEM's) may coexist."""

    __tablename__ = "monitoring_probe"
    __table_args__ = (
        *_versions("monitoring_probe"),
        Index("ix_monitoring_probe_name_version", "name", "version"),
    )

    version: str = Field(max_length=PROBE_VERSION_MAX)
    kind: ProbeKind = Field(sa_column=enum_column(ProbeKind, "monitoring_probe_kind"))
    builtin: str | None = Field(default=None, max_length=64)
    # the argv of an external plugin: its executable (relative to the plugin directory)
    # and argument templates such as "-H", "{host}", "-p", "{port}"
    command: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    timeout_seconds: int = 30


class Metric(Versioned, table=True):
    """A probe with parameters, run every `interval_seconds`, and every
    `retry_interval_seconds` after a non-OK result until `max_check_attempts`."""

    __tablename__ = "monitoring_metric"
    __table_args__ = _versions("monitoring_metric")

    probe_name: str = Field(max_length=NAME_MAX, index=True)
    probe_version: str = Field(max_length=PROBE_VERSION_MAX)
    parameters: dict[str, Any] = _document()
    interval_seconds: int = 300
    retry_interval_seconds: int = 180
    max_check_attempts: int = 3


class MetricProfile(Versioned, table=True):
    """ARGO's metric profile (POEM's): which metrics are expected for each service type.
    `document` is ARGO's JSON; its `services` are also rows of MetricProfileEntry."""

    __tablename__ = "monitoring_metric_profile"
    __table_args__ = _versions("monitoring_metric_profile")

    document: dict[str, Any] = _document()


class MetricProfileEntry(SQLModel, table=True):
    """One (service type, metric) of one version of a metric profile."""

    __tablename__ = "monitoring_metric_profile_entry"
    __table_args__ = (
        UniqueConstraint(
            "profile_id",
            "service_type",
            "metric",
            name="uq_monitoring_metric_profile_entry_profile_id",
        ),
        Index("ix_monitoring_metric_profile_entry_service_type", "service_type", "metric"),
    )

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("monitoring_metric_profile.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    service_type: str = Field(max_length=NAME_MAX)
    metric: str = Field(max_length=NAME_MAX)


class OperationsProfile(Versioned, table=True):
    """ARGO's operations profile: `available_states`, `defaults` and the truth tables of
    each operation, looked up cell by cell (engine/operations.py reads `document`)."""

    __tablename__ = "monitoring_operations_profile"
    __table_args__ = _versions("monitoring_operations_profile")

    document: dict[str, Any] = _document()


class AggregationProfile(Versioned, table=True):
    """ARGO's aggregation profile: the metric operation, groups of service types with their
    operations, the profile operation (engine/aggregation.py reads `document`)."""

    __tablename__ = "monitoring_aggregation_profile"
    __table_args__ = _versions("monitoring_aggregation_profile")

    endpoint_group: str = Field(default="sites", max_length=NAME_MAX)
    metric_operation: str = Field(max_length=OPERATION_MAX)
    profile_operation: str = Field(max_length=OPERATION_MAX)
    metric_profile_name: str = Field(default="", max_length=NAME_MAX)
    document: dict[str, Any] = _document()


class ThresholdsProfile(Versioned, table=True):
    """ARGO's thresholds profile: rules re-grading a metric's status from its perfdata."""

    __tablename__ = "monitoring_thresholds_profile"
    __table_args__ = _versions("monitoring_thresholds_profile")

    document: dict[str, Any] = _document()


class Weights(Versioned, table=True):
    """ARGO's weights: a value per group (e.g. HEPSPEC per site) for supergroup means."""

    __tablename__ = "monitoring_weights"
    __table_args__ = _versions("monitoring_weights")

    weight_type: str = Field(default="", max_length=NAME_MAX)
    group_type: str = Field(default="", max_length=NAME_MAX)
    document: dict[str, Any] = _document()


class Report(Versioned, table=True):
    """ARGO's report: a metric, an operations and an aggregation profile (and optionally
    thresholds and weights), named by their uuids (the version valid on the computed day is
    used), the topology schema (group type above endpoint group type, e.g. NGI > SITE),
    filter tags and thresholds (in `document`). Which downtimes count: ARGO's EGI behaviour
    (SCHEDULED and OUTAGE) unless the flags widen it."""

    __tablename__ = "monitoring_report"
    __table_args__ = _versions("monitoring_report")

    disabled: bool = False
    group_type: str = Field(default="NGI", max_length=NAME_MAX)
    endpoint_group_type: str = Field(default="SITE", max_length=NAME_MAX)
    metric_profile_uuid: str = Field(max_length=UUID_MAX)
    operations_profile_uuid: str = Field(max_length=UUID_MAX)
    aggregation_profile_uuid: str = Field(max_length=UUID_MAX)
    thresholds_profile_uuid: str | None = Field(default=None, max_length=UUID_MAX)
    weights_uuid: str | None = Field(default=None, max_length=UUID_MAX)
    # count UNSCHEDULED downtimes too / WARNING-severity downtimes too
    downtimes_unscheduled: bool = False
    downtimes_warning: bool = False
    document: dict[str, Any] = _document()
