"""Recomputations (ARGO web API's `/recomputations`, reference §3.2-3.3): a correction of a
report's A/R over a period, asked for by a requester with a reason. It may exclude sites
(their excluded time counts UNKNOWN in their A/R), metrics (optionally of a site, service
type or host: EXCLUDED, counted in the day only), monitoring sources (their results over
their own periods dropped), and apply status changes (a site's, service type's, endpoint's
or metric's timeline overwritten with a state over the period or the change's own).

The entries are kept as ARGO's JSON gives them (keys `exclude_metrics`: metric, hostname,
service, group; `exclude_monitoring_source`: host, start_time, end_time;
`applied_status_changes`: group, service, endpoint, metric, state, start_time, end_time).
`span_start`/`span_end` cover the period and every entry's own one: the days the
recomputation touches, which the engine's reads and the re-runs go by."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.time import UTCDateTime, utcnow
from domains.monitoring.models.results import NAME_MAX

UUID_MAX = 36
REASON_MAX = 1000
RECOMPUTATION_STATUS_MAX = 16
# ARGO's workflow (`POST /recomputations/{id}/status`): pending -> approved | rejected,
# then running -> done as the computation goes; the engine applies only APPLIED ones
RECOMPUTATION_STATUSES = ("pending", "approved", "rejected", "running", "done")
APPLIED = frozenset({"approved", "running", "done"})


def _time() -> Any:
    return Column(UTCDateTime(), nullable=False)


def _json() -> Any:
    return Column(JSON, nullable=False)


class Recomputation(SQLModel, table=True):
    __tablename__ = "monitoring_recomputation"
    __table_args__ = (
        Index("ix_monitoring_recomputation_span", "report_uuid", "span_start", "span_end"),
    )

    id: int | None = Field(default=None, primary_key=True)
    uuid: str = Field(max_length=UUID_MAX, unique=True)
    report_uuid: str = Field(max_length=UUID_MAX)
    requester_name: str = Field(max_length=NAME_MAX)
    requester_email: str = Field(max_length=NAME_MAX)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    start_time: dt.datetime = Field(sa_column=_time())
    end_time: dt.datetime = Field(sa_column=_time())
    span_start: dt.datetime = Field(sa_column=_time())
    span_end: dt.datetime = Field(sa_column=_time())
    exclude: list[str] = Field(default_factory=list, sa_column=_json())  # site short names
    exclude_metrics: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    exclude_monitoring_source: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    applied_status_changes: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    # ARGO's workflow state (RECOMPUTATION_STATUSES); "approved" when created, as only
    # those who may approve one may create it; reset to "pending" or "rejected", it no
    # longer applies
    status: str = Field(default="approved", max_length=RECOMPUTATION_STATUS_MAX)
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=_json())
    created_by: str = Field(default="", max_length=NAME_MAX)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_column=_time())
