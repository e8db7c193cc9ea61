"""Tables of the downtimes domain, modelled on GOCDB's Downtime entity (one site per
downtime, services and endpoint locations as links)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

DESCRIPTION_MAX = 4000


class Severity(enum.StrEnum):
    """OUTAGE: unavailable, counted as maintenance by availability; WARNING: available
    but possibly degraded, notified but ignored by availability."""

    OUTAGE = "OUTAGE"
    WARNING = "WARNING"


class Classification(enum.StrEnum):
    """Computed, never chosen: SCHEDULED iff the start is more than 24 h ahead."""

    SCHEDULED = "SCHEDULED"
    UNSCHEDULED = "UNSCHEDULED"


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Downtime(SQLModel, table=True):
    __tablename__ = "downtime"
    __table_args__ = (
        Index("ix_downtime_window", "starts_at", "ends_at"),
        Index("ix_downtime_ends_at", "ends_at"),
        # what the transitions job scans: not yet announced as started / ended
        Index("ix_downtime_start_pending", "started_notified", "starts_at"),
        Index("ix_downtime_end_pending", "ended_notified", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    primary_key: str | None = Field(default=None, max_length=32, unique=True)
    site_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("site.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    severity: Severity = Field(sa_column=enum_column(Severity, "downtime_severity"))
    classification: Classification = Field(
        sa_column=enum_column(Classification, "downtime_classification")
    )
    description: str = Field(max_length=DESCRIPTION_MAX)
    starts_at: datetime = Field(sa_column=_time())
    ends_at: datetime = Field(sa_column=_time())
    declared_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    declared_by: str = Field(max_length=255)
    # Whether the "started" / "ended" events were emitted (by the transitions job, exactly
    # once each; an edit that moves the start or end back into the future clears them).
    started_notified: bool = False
    ended_notified: bool = False


class DowntimeService(SQLModel, table=True):
    """A service affected by a downtime. `all_endpoints`: no endpoint of this service was
    chosen, so every endpoint of it is affected. `ended_at`: the service was ended early
    (partial ending) while the downtime goes on for the others."""

    __tablename__ = "downtime_service"
    __table_args__ = (Index("ix_downtime_service_service", "service_id", "downtime_id"),)

    downtime_id: int = Field(
        sa_column=Column(Integer, ForeignKey("downtime.id", ondelete="CASCADE"), primary_key=True)
    )
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    )
    all_endpoints: bool = True
    ended_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class DowntimeEndpoint(SQLModel, table=True):
    __tablename__ = "downtime_endpoint"

    downtime_id: int = Field(
        sa_column=Column(Integer, ForeignKey("downtime.id", ondelete="CASCADE"), primary_key=True)
    )
    endpoint_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("endpoint.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
