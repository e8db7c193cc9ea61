"""The status above the metric under a report: the `status` query, and the `status` fields
the monitoring domain adds to the topology's NGI, Site, Service and Endpoint (joined where
the schema is assembled, gateway/schema.py). Public, as ARGO's status is."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import strawberry

from domains.common.graphql import Info
from domains.monitoring import loaders
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.service import levels
from domains.monitoring.types.levels import StatusTimeline
from domains.topology.types import EndpointNode, NgiNode, ServiceNode, SiteNode

ReportArg = Annotated[str, strawberry.argument(description="The report's name or id.")]
DayArg = Annotated[
    date | None, strawberry.argument(description="A day up to today (UTC); default today.")
]


@strawberry.type
class MonitoringStatusQuery:
    @strawberry.field(
        description="The status timelines over a day (up to now, for today) and the status now "
        "of a report's items of one level: all of them, or the one `name`d (a host name, "
        "service type, group, site or NGI), at one `site` (below the site level)."
    )
    def status(
        self,
        info: Info,
        report: ReportArg,
        level: ArLevel,
        name: str | None = None,
        site: str | None = None,
        day: DayArg = None,
    ) -> list[StatusTimeline]:
        ctx = info.context
        named = None if name is None else [name]
        found = levels.status_levels(
            ctx.session,
            ctx.principal,
            report=report,
            day=day,
            now=ctx.instant(),  # unmarked: the service marks a running day
            levels=(level,),
            ngis=named if level is ArLevel.SUPERGROUP else None,
            sites=named if level is ArLevel.SITE else None if site is None else [site],
            service_types=named if level is ArLevel.SERVICE else None,
            hostnames=named if level is ArLevel.ENDPOINT else None,
        )
        return [
            StatusTimeline.from_row(item, found)
            for item in found.items
            if level is not ArLevel.GROUP or name in (None, item.name)
        ]


def _timeline(found: loaders.Found | None) -> StatusTimeline | None:
    return None if found is None else StatusTimeline.from_row(found[1], found[0])


def _status_of_ngi(
    root: strawberry.Parent[NgiNode],
    info: Info,
    report: ReportArg = levels.DEFAULT_REPORT,
    day: DayArg = None,
) -> StatusTimeline | None:
    return _timeline(loaders.status_of_ngi(info.context, report, day, root.db_id))


def _status_of_site(
    root: strawberry.Parent[SiteNode],
    info: Info,
    report: ReportArg = levels.DEFAULT_REPORT,
    day: DayArg = None,
) -> StatusTimeline | None:
    return _timeline(loaders.status_of_site(info.context, report, day, root.db_id))


def _status_of_service(
    root: strawberry.Parent[ServiceNode],
    info: Info,
    report: ReportArg = levels.DEFAULT_REPORT,
    day: DayArg = None,
) -> StatusTimeline | None:
    return _timeline(loaders.status_of_service(info.context, report, day, root.db_id))


def _status_of_endpoint(
    root: strawberry.Parent[EndpointNode],
    info: Info,
    report: ReportArg = levels.DEFAULT_REPORT,
    day: DayArg = None,
) -> StatusTimeline | None:
    return _timeline(loaders.status_of_service(info.context, report, day, root.service_id))


def topology_fields() -> dict[type, dict[str, Any]]:
    """The `status` fields monitoring adds to topology's types (new ones at each call: a
    field belongs to one schema type)."""
    null = " Null when the report covers none of its services."
    return {
        NgiNode: {
            "status": strawberry.field(
                resolver=_status_of_ngi,
                description="Its status timeline over a day under a report: its sites' "
                "folded with the aggregation profile's profile_operation." + null,
            )
        },
        SiteNode: {
            "status": strawberry.field(
                resolver=_status_of_site,
                description="Its status timeline over a day under a report." + null,
            )
        },
        ServiceNode: {
            "status": strawberry.field(
                resolver=_status_of_service,
                description="Its status timeline over a day under a report (ARGO's endpoint: "
                "host name and service type). Null unless monitored, in production and of a "
                "service type the report's profiles name.",
            )
        },
        EndpointNode: {
            "status": strawberry.field(
                resolver=_status_of_endpoint,
                description="Its service's status timeline over a day under a report (ARGO "
                "monitors the service, host name and service type).",
            )
        },
    }
