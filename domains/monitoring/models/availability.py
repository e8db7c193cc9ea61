"""Daily availability and reliability per report, level, item and day, as ARGO's batch job
stores them (its `endpoint_ar`, `service_ar`, `endpoint_group_ar` collections): the A/R in
percent (-1: undefined) and the fractions of the day up, unknown and down. Supergroups (NGIs)
keep their weighted daily A/R (None: undefined, argo-web-api's "nan") and no fractions.

An item is named by `name` within `parent`: an endpoint by its host name within its site
(`service` its service type), a service type or an aggregation group within its site, a
site within its NGI, an NGI within nothing (""). Rows of one (report, day) are replaced
together: computing a day again is idempotent.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.models import enum_column
from domains.common.time import UTCDateTime, utcnow

NAME_MAX = 255
UUID_MAX = 36


class ArLevel(enum.StrEnum):
    """ENDPOINT: a (host, service type) of a site; SERVICE: a service type at a site; GROUP:
    an aggregation profile's group (e.g. compute) at a site; SITE: an endpoint group;
    SUPERGROUP: a group of sites (an NGI)."""

    ENDPOINT = "ENDPOINT"
    SERVICE = "SERVICE"
    GROUP = "GROUP"
    SITE = "SITE"
    SUPERGROUP = "SUPERGROUP"


class DailyAvailability(SQLModel, table=True):
    __tablename__ = "monitoring_daily_availability"
    __table_args__ = (
        UniqueConstraint(
            "report_uuid",
            "day",
            "level",
            "parent",
            "service",
            "name",
            name="uq_monitoring_daily_availability_item_day",
        ),
        Index("ix_monitoring_daily_availability_lookup", "report_uuid", "level", "name", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_uuid: str = Field(max_length=UUID_MAX)
    day: dt.date
    level: ArLevel = Field(sa_column=enum_column(ArLevel, "monitoring_ar_level"))
    parent: str = Field(default="", max_length=NAME_MAX)
    service: str = Field(default="", max_length=NAME_MAX)
    name: str = Field(max_length=NAME_MAX)
    availability: float | None
    reliability: float | None
    up: float | None = None
    unknown: float | None = None
    down: float | None = None
    weight: float = 0.0  # a site's weight (e.g. HEPSPEC) that day, for its NGI's mean
    computed_at: dt.datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
