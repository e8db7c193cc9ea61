"""GraphQL types of the status above the metric: an endpoint's, a service's, a group's, a
site's or an NGI's timeline over a day under a report, and its status now."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domains.monitoring.models.availability import ArLevel
from domains.monitoring.service.levels import LevelStatus, StatusDay
from domains.monitoring.types.availability import AvailabilityLevelEnum

__all__ = ["AvailabilityLevelEnum", "StatusPoint", "StatusTimeline"]


@strawberry.type(description="A status from `timestamp` until the next point.")
class StatusPoint:
    timestamp: datetime
    status: str


@strawberry.type(
    description="An item's status over a day under a report, as the A/R engine builds it "
    "(downtimes give DOWNTIME while they last; no result the day: MISSING)."
)
class StatusTimeline:
    report: str = strawberry.field(description="The report's name.")
    level: ArLevel
    name: str = strawberry.field(
        description="A host name, service type, group, site or NGI name, by level."
    )
    site: str | None = strawberry.field(description="The site (null for an NGI).")
    ngi: str = strawberry.field(description="The NGI (of the site).")
    service_type: str | None = strawberry.field(description="An endpoint's service type.")
    day: date
    until: datetime = strawberry.field(
        description="Where the timeline stops: now for today, 23:59:59 for a past day."
    )
    status: str = strawberry.field(description="The status at `until` (now, for today).")
    points: list[StatusPoint] = strawberry.field(
        description="The changes of the day, the first at 00:00, oldest first."
    )

    @classmethod
    def from_row(cls, row: LevelStatus, found: StatusDay) -> StatusTimeline:
        return cls(
            report=found.report,
            level=row.level,
            name=row.name,
            site=row.site or None,
            ngi=row.ngi,
            service_type=row.service_type or None,
            day=found.day,
            until=found.until,
            status=row.status,
            points=[StatusPoint(timestamp=p.timestamp, status=p.status) for p in row.points],
        )
