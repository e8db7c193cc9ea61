"""The availability/reliability query: a report's stored daily A/R, per day, month or
custom period (public, as ARGO's results are)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domains.common.graphql import Connection, Info, list_connection
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.service import availability_periods as periods
from domains.monitoring.types.availability import Availability, AvailabilityGranularity
from domains.topology.queries import After, First


@strawberry.type
class MonitoringAvailabilityQuery:
    @strawberry.field(
        description="A report's availability and reliability from `from` to `to` (days, both "
        "included) for the items of one level, or the one named."
    )
    def availability(
        self,
        info: Info,
        report: Annotated[str, strawberry.argument(description="The report's name or id.")],
        level: ArLevel,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        name: str | None = None,
        granularity: AvailabilityGranularity = AvailabilityGranularity.DAILY,
        first: First = None,
        after: After = None,
    ) -> Connection[Availability]:
        ctx = info.context
        request = ctx.page(first, after)
        rows = periods.availability(
            ctx.session,
            ctx.principal,
            report=report,
            level=level,
            name=name,
            start=from_,
            end=to,
            granularity=granularity.value,
        )
        return list_connection([Availability.from_row(r) for r in rows], request)
