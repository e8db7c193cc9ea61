"""Metric results and what their ingestion keeps beside them.

- `MetricResult`: one result as a monitoring engine (opsgraph's probes, an external Nagios
  publishing ARGO's `metric_data`, a monitoring host over GraphQL) reported it. Rows are
  only inserted and, past OPSGRAPH_MONITORING_RETENTION_DAYS, deleted; the series index
  (hostname, service type, metric, timestamp) is what the A/R engine and the status
  timelines read, the timestamp index what retention deletes by.
- `ResultRejectionCount`: bad results refused, per source and rule, with the last reason.
- `RecomputeDay`: a (report, day) whose A/R must be computed again because a late result
  of a series the report covers landed in it (or in the day before, whose last result
  seeds it at 00:00).
- `MonitoringHostGrant`: a principal allowed to publish results (a platform administrator
  grants it): a user's subject (an OIDC subject or client, or the user an API token stands
  for) or an X.509 DN.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

NAME_MAX = 255
STATUS_MAX = 16
SUMMARY_MAX = 4096
MESSAGE_MAX = 65536
IDENTIFIER_MAX = 512

# an integer primary key that is SQLite's rowid there, a bigint on PostgreSQL
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class MetricResult(SQLModel, table=True):
    __tablename__ = "monitoring_metric_result"
    __table_args__ = (
        Index(
            "ix_monitoring_metric_result_series", "hostname", "service_type", "metric", "timestamp"
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BIG_ID, primary_key=True))
    timestamp: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    hostname: str = Field(max_length=NAME_MAX)
    service_type: str = Field(max_length=NAME_MAX)
    metric: str = Field(max_length=NAME_MAX)
    status: str = Field(max_length=STATUS_MAX)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Nagios perfdata (ARGO's `actual_data`)
    perfdata: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    monitoring_host: str | None = Field(default=None, max_length=NAME_MAX)
    tags: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # who sent it: "opsgraph-probes", "topic:<project>/<topic>", "graphql:<subject>"
    source: str = Field(max_length=NAME_MAX)
    ingested_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ResultRejectionCount(SQLModel, table=True):
    __tablename__ = "monitoring_result_rejection"

    source: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    rule: str = Field(sa_column=Column(String(64), primary_key=True))
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    last_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_field: str = Field(max_length=64)
    last_reason: str = Field(max_length=1000)


class RecomputeDay(SQLModel, table=True):
    """A day of one report to compute again: a late result landed in a series the report's
    metric profile and topology cover that day; the engine deletes the row when it has
    asked for the computation."""

    __tablename__ = "monitoring_recompute_day"

    report_uuid: str = Field(primary_key=True, max_length=36)  # the catalogue's UUID_MAX
    day: dt.date = Field(primary_key=True)
    marked_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class GrantKind(enum.StrEnum):
    """SUBJECT: a user's subject (OIDC subject or client; an API token stands for its user);
    X509_DN: a client certificate's subject DN (OpenSSL slash form)."""

    SUBJECT = "SUBJECT"
    X509_DN = "X509_DN"


class MonitoringHostGrant(SQLModel, table=True):
    __tablename__ = "monitoring_host_grant"

    id: int | None = Field(default=None, primary_key=True)
    kind: GrantKind = Field(sa_column=enum_column(GrantKind, "monitoring_grant_kind"))
    identifier: str = Field(max_length=IDENTIFIER_MAX, unique=True)
    note: str = Field(default="", max_length=NAME_MAX)
    granted_by: str = Field(default="", max_length=IDENTIFIER_MAX)
    granted_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class TopicCursor(SQLModel, table=True):
    """How far the ingester has read a messaging topic of ARGO `metric_data` messages: the
    next offset to ingest (its own cursor, so that no AMS subscription of a user is used)."""

    __tablename__ = "monitoring_topic_cursor"

    project: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    topic: str = Field(sa_column=Column(String(NAME_MAX), primary_key=True))
    next_offset: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: dt.datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
