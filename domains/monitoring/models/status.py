"""Live status, kept current as results arrive (domains.monitoring.service.status).

- `MetricStatus`: the latest status of each metric on each endpoint (ARGO's endpoint: a
  host name with a service type), with the time it took that status (`since`).
- `StatusChange`: one row per change of a metric's status on an endpoint, in the order the
  results' timestamps give: the history that status timelines and alerts read. A row whose
  metric is `DOWNTIME_MOMENT` ("") is no metric's change but a downtime's moment on the
  endpoint (its start, the end of its effect, an edit; `service/downtime_moments.py`): the
  `statusChanges` streams compute the levels above the metric again there, in the same
  order of ids as the results' changes; alert rules read it as their endpoints' change.
- `DowntimeMomentCursor`: up to when those moments were recorded (one row), moved in the
  transaction that records them, so that a worker restart records none twice.
- `ChangePoint`: the stored results that the A/R reads (`service/change_points.py`): each
  series' first result of each UTC day and every result whose status differs from the one
  before it in the series (by time, then arrival), late ones included.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.time import UTCDateTime
from domains.monitoring.models.results import BIG_ID, NAME_MAX, STATUS_MAX


class MetricStatus(SQLModel, table=True):
    __tablename__ = "monitoring_metric_status"

    hostname: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    service_type: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    metric: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    status: str = Field(max_length=STATUS_MAX)
    # the latest result's time, and when the status took its current value
    timestamp: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    since: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    monitoring_host: str | None = Field(default=None, max_length=NAME_MAX)


class StatusChange(SQLModel, table=True):
    __tablename__ = "monitoring_status_change"
    __table_args__ = (
        Index(
            "ix_monitoring_status_change_series",
            "hostname",
            "service_type",
            "metric",
            "timestamp",
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    timestamp: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    hostname: str = Field(max_length=NAME_MAX)
    service_type: str = Field(max_length=NAME_MAX)
    metric: str = Field(max_length=NAME_MAX)
    status: str = Field(max_length=STATUS_MAX)
    # None for the first status a metric on an endpoint ever had
    previous_status: str | None = Field(default=None, max_length=STATUS_MAX)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


DOWNTIME_MOMENT = ""  # the metric of a StatusChange row that marks a downtime's moment


class DowntimeMomentCursor(SQLModel, table=True):
    """`moments_until`: the starts and ends of effect up to then are recorded;
    `edits_until`: the declarations and edits up to then (it lags, as an edit committing
    late may carry an earlier time)."""

    __tablename__ = "monitoring_downtime_moment_cursor"

    name: str = Field(max_length=64, primary_key=True)
    moments_until: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    edits_until: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ChangePoint(SQLModel, table=True):
    """A stored result that starts a UTC day of its series or changes its status (by time,
    then id: `id` keeps the arrival order of results at one instant). Kept by ingestion
    beside the results, so that a report-day reads about a tenth of them."""

    __tablename__ = "monitoring_change_point"
    __table_args__ = (
        Index(
            "ix_monitoring_change_point_series",
            "hostname",
            "service_type",
            "metric",
            "timestamp",
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    timestamp: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    hostname: str = Field(max_length=NAME_MAX)
    service_type: str = Field(max_length=NAME_MAX)
    metric: str = Field(max_length=NAME_MAX)
    status: str = Field(max_length=STATUS_MAX)
    monitoring_host: str | None = Field(default=None, max_length=NAME_MAX)
