"""GraphQL types of availability/reliability: an item's A/R over a day, a month or a custom
period, undefined (ARGO's -1, argo-web-api's "nan") as null."""

from __future__ import annotations

import enum
from datetime import date

import strawberry

from domains.monitoring.models.availability import ArLevel
from domains.monitoring.service.availability_periods import ArRow

AvailabilityLevelEnum = strawberry.enum(
    ArLevel,
    name="AvailabilityLevel",
    description="ENDPOINT: a host's service of one type at a site; SERVICE: a service type at "
    "a site; GROUP: an aggregation profile's group (e.g. compute) at a site; SITE: a site; "
    "SUPERGROUP: an NGI, the weight + 1 mean of its sites.",
)


@strawberry.enum(
    description="DAILY: each day; MONTHLY: each calendar month; CUSTOM: the whole period (as "
    "argo-web-api's granularity)."
)
class AvailabilityGranularity(enum.Enum):
    DAILY = "daily"
    MONTHLY = "monthly"
    CUSTOM = "custom"


@strawberry.type(description="An item's availability and reliability over a period.")
class Availability:
    level: ArLevel
    name: str = strawberry.field(
        description="A host name, service type, group, site or NGI name, by level."
    )
    parent: str = strawberry.field(
        description="The site of an endpoint, service or group; the NGI of a site; empty for "
        "an NGI."
    )
    service_type: str | None = strawberry.field(description="An endpoint's service type.")
    start: date = strawberry.field(description="The period's first day.")
    end: date = strawberry.field(description="The period's last day.")
    availability: float | None = strawberry.field(
        description="Percent of the known time up (null: undefined)."
    )
    reliability: float | None = strawberry.field(
        description="Percent of the known time outside downtimes up (null: undefined)."
    )
    uptime: float | None = strawberry.field(description="The fraction of the time up.")
    unknown: float | None = strawberry.field(description="The fraction unknown or missing.")
    downtime: float | None = strawberry.field(description="The fraction in downtime.")

    @classmethod
    def from_row(cls, row: ArRow) -> Availability:
        return cls(
            level=row.level,
            name=row.name,
            parent=row.parent,
            service_type=row.service or None,
            start=row.start,
            end=row.end,
            availability=row.availability,
            reliability=row.reliability,
            uptime=row.up,
            unknown=row.unknown,
            downtime=row.down,
        )
