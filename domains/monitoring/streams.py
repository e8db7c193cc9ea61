"""`statusChanges`: status changes live over graphql-transport-ws: a metric's on an endpoint
(the default) and, for a filter naming levels above it, its endpoint's, service's, site's
and NGI's in each report (`service.level_changes`), where results or a downtime's moments
(`service.downtime_moments`) change them.

Like downtimeEvents (domains.downtimes.streams) the stream polls the database, each read a
transaction of its own (`context.transact`), so it works the same on every replica and with
any broker: a result published through one replica reaches a subscriber of another within
a poll. Between reads it sleeps POLL_SECONDS when a read brought nothing new; a read is one
indexed query (domains.monitoring.service.changes). A client that reconnects passes the `id`
of the last change it got as `after`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.graphql import Info, Long, as_tuple
from domains.common.identity import Principal
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import changes
from domains.monitoring.service.changes import ChangeCursor, ChangeFilter
from domains.monitoring.service.level_changes import LevelTracker, StatusLevel

# a result published reaches a subscriber within about this (plus the read), well under
# a second, while an idle stream costs its replica four indexed reads a second
POLL_SECONDS = 0.25

StatusLevelType = strawberry.enum(
    StatusLevel,
    name="StatusLevel",
    description="The level of a status change: a metric on an endpoint, or an endpoint "
    "(host name and service type), a service (a service type at a site), a site or an NGI "
    "in a report, as the A/R engine combines their metrics' statuses.",
)


@strawberry.type(
    name="StatusChangeEvent",
    description="A change of a metric's status on an endpoint (the first result of a metric "
    "on an endpoint too, without a previous status), with the endpoint's site and NGI; or, "
    "with `level` above METRIC, of an endpoint's, service's, site's or NGI's status in a "
    'report. hostname, serviceType and metric are "" where the level has none.',
)
class StatusChangeEventType:
    id: Long = strawberry.field(description="Increasing; pass the last one seen as `after`.")
    timestamp: datetime = strawberry.field(description="The result's.")
    hostname: str
    service_type: str
    metric: str
    status: str
    previous_status: str | None
    summary: str | None
    site: str | None = strawberry.field(
        description="The short name of the endpoint's site; null if the topology does not "
        "register the endpoint (any more)."
    )
    ngi: str | None
    level: StatusLevel = strawberry.field(description="METRIC for a metric's change.")
    name: str = strawberry.field(
        description="The metric, host name, service type, site or NGI, by level."
    )
    report: str | None = strawberry.field(
        description="The report of a change above the metric; null for a metric's."
    )

    @classmethod
    def from_event(cls, event: changes.StatusChangeEvent) -> StatusChangeEventType:
        return cls(
            id=Long(event.id),
            timestamp=event.timestamp,
            hostname=event.hostname,
            service_type=event.service_type,
            metric=event.metric,
            status=event.status,
            previous_status=event.previous_status,
            summary=event.summary,
            site=event.site,
            ngi=event.ngi,
            level=event.level,
            name=event.name,
            report=event.report,
        )


@strawberry.input(
    name="StatusChangeFilter",
    description="Conditions combine with AND; one left out matches all, a list matches any of "
    "its (1 to 100) values. Site and NGI hold when the endpoint is registered at such a site. "
    "Above the metric a condition holds where the level has no such field (serviceType for a "
    "site), but for site (no NGI event matches it) and metric (none matches it).",
)
class StatusChangeFilterInput:
    site: list[str] | None = None
    ngi: list[str] | None = None
    service_type: list[str] | None = None
    hostname: list[str] | None = None
    metric: list[str] | None = None
    status: list[str] | None = strawberry.field(
        default=None,
        description="OK, WARNING, CRITICAL or UNKNOWN; above the metric MISSING and DOWNTIME too.",
    )
    level: list[StatusLevel] | None = strawberry.field(
        default=None,
        description="The levels to stream; left out: METRIC only, as before levels existed.",
    )
    report: list[str] | None = strawberry.field(
        default=None, description="The reports of the changes above the metric (any if left out)."
    )

    def to_domain(self) -> ChangeFilter:
        return ChangeFilter(
            sites=as_tuple(self.site),
            ngis=as_tuple(self.ngi),
            service_types=as_tuple(self.service_type),
            hosts=as_tuple(self.hostname),
            metrics=as_tuple(self.metric),
            statuses=as_tuple(self.status),
            levels=as_tuple(self.level),
            reports=as_tuple(self.report),
        )


async def change_stream(
    info: Info, filter: ChangeFilter, after: int | None
) -> AsyncGenerator[StatusChangeEventType, None]:
    transact = info.context.transact
    if transact is None:  # only the WebSocket transport streams (gateway.schema.Schema)
        raise Invalid("subscription", MonitoringRule.STATUS_CHANGES_OVER_WEBSOCKET_ONLY)
    if after is not None and after < 0:
        raise Invalid("after", MonitoringRule.STATUS_CHANGE_AFTER_NEGATIVE)
    filter.check()

    def start(session: Session, principal: Principal) -> int:
        return changes.last_change_id(session, principal)

    cursor = ChangeCursor(high=after if after is not None else await transact(start, write=False))
    wanted = filter.wanted_levels
    tracker = LevelTracker(wanted) if wanted != {StatusLevel.METRIC} else None

    def read(
        session: Session, principal: Principal
    ) -> tuple[list[changes.StatusChangeEvent], bool]:
        return changes.read_changes(
            session, principal, cursor=cursor, filter=filter, tracker=tracker
        )

    while True:
        found, full = await transact(read, write=False)
        for event in found:
            yield StatusChangeEventType.from_event(event)
        if not full:
            await asyncio.sleep(POLL_SECONDS)


@strawberry.type
class MonitoringSubscriptionRoot:
    @strawberry.subscription(
        description="Metric status changes as results arrive, on any replica, optionally from "
        "after an `id` seen before; with `filter.level`, the changes they make to endpoints', "
        "services', sites' and NGIs' status in each report too (each after the metric changes "
        "that made it, with the id of the last of them), and those a downtime makes when it "
        "starts, stops counting or is edited. Public, like metricStatuses."
    )
    async def status_changes(
        self,
        info: Info,
        filter: StatusChangeFilterInput | None = None,
        after: Long | None = None,
    ) -> AsyncGenerator[StatusChangeEventType, None]:
        stream = change_stream(info, (filter or StatusChangeFilterInput()).to_domain(), after)
        try:
            async for event in stream:
                yield event
        finally:
            await stream.aclose()
