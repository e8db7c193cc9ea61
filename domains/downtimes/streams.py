"""`downtimeEvents`: downtime events live over graphql-transport-ws.

The stream reads the outbox, where every downtime change and every start and end was
recorded in the transaction that made it, so it works the same on every replica and with
any broker. Each read is a transaction of its own (`context.transact`); between reads it
sleeps POLL_SECONDS when nothing came. A client that reconnects passes the `sequence` of
the last event it got as `after` and misses nothing that is still in the outbox (kept 7
days after delivery, domains.common.outbox.RETENTION).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.graphql import Info, Long, as_tuple, to_global_id
from domains.common.identity import Principal
from domains.downtimes import events
from domains.downtimes.events import EventCursor, EventFilter, EventKind
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.types import ClassificationEnum, EventKindEnum, SeverityEnum

POLL_SECONDS = 1.0
# the GraphQL enums DowntimeSeverity, DowntimeClassification and DowntimeEventKind (defined
# by the types module, which must run first: a plain enum met here would become a second
# GraphQL type)
assert SeverityEnum is Severity
assert ClassificationEnum is Classification
assert EventKindEnum is EventKind


@strawberry.type(description="A service affected by the downtime, as it was at the event.")
class DowntimeEventService:
    host_name: str
    service_type: str
    ended_at: datetime | None = strawberry.field(
        description="When the service left the downtime early, if it did."
    )


@strawberry.type(
    name="DowntimeEvent",
    description="A change, start or end of a downtime, with the downtime as it was then "
    "(a cancelled downtime no longer exists).",
)
class DowntimeEventType:
    sequence: Long = strawberry.field(
        description="Increasing; pass the last one seen as `after` to resume."
    )
    kind: EventKind
    occurred_at: datetime
    downtime_id: strawberry.ID = strawberry.field(description="The Downtime's global id.")
    primary_key: str | None
    site: str
    ngi: str
    severity: Severity
    classification: Classification
    starts_at: datetime
    ends_at: datetime
    description: str
    services: list[DowntimeEventService]

    @classmethod
    def from_event(cls, event: events.DowntimeEvent) -> DowntimeEventType:
        snap = event.snapshot
        return cls(
            sequence=Long(event.sequence),
            kind=event.kind,
            occurred_at=event.occurred_at,
            downtime_id=strawberry.ID(to_global_id("Downtime", int(snap["id"]))),
            primary_key=snap.get("primaryKey"),
            site=snap["site"],
            ngi=snap["ngi"],
            severity=Severity(snap["severity"]),
            classification=Classification(snap["classification"]),
            starts_at=datetime.fromisoformat(snap["startsAt"]),
            ends_at=datetime.fromisoformat(snap["endsAt"]),
            description=snap["description"],
            services=[
                DowntimeEventService(
                    host_name=s["hostName"],
                    service_type=s["serviceType"],
                    ended_at=None if s["endedAt"] is None else datetime.fromisoformat(s["endedAt"]),
                )
                for s in snap["services"]
            ],
        )


@strawberry.input(
    name="DowntimeEventFilter",
    description="Conditions combine with AND; one left out matches all. Host, service type "
    "and VO match when one affected service has them.",
)
class DowntimeEventFilterInput:
    kind: list[EventKind] | None = None
    ngi: list[str] | None = None
    site: list[str] | None = None
    host_name: list[str] | None = None
    service_type: list[str] | None = None
    vo: list[str] | None = None
    severity: list[Severity] | None = None

    def to_domain(self) -> EventFilter:
        return EventFilter(
            kinds=as_tuple(self.kind),
            ngis=as_tuple(self.ngi),
            sites=as_tuple(self.site),
            hosts=as_tuple(self.host_name),
            service_types=as_tuple(self.service_type),
            vos=as_tuple(self.vo),
            severities=None if self.severity is None else tuple(str(s) for s in self.severity),
        )


async def event_stream(
    info: Info, filter: EventFilter, after: int | None
) -> AsyncGenerator[DowntimeEventType, None]:
    transact = info.context.transact
    if transact is None:  # only the WebSocket transport streams (gateway.schema.Schema)
        raise Invalid("subscription", DowntimeRule.DOWNTIME_EVENTS_OVER_WEBSOCKET_ONLY)
    if after is not None and after < 0:
        raise Invalid("after", DowntimeRule.DOWNTIME_EVENT_SEQUENCE_NEGATIVE)

    def start(session: Session, principal: Principal) -> int:
        return events.last_sequence(session, principal)

    cursor = EventCursor(low=after if after is not None else await transact(start, write=False))

    def read(session: Session, principal: Principal) -> list[events.DowntimeEvent]:
        return events.read_events(session, principal, cursor=cursor, filter=filter)

    while True:
        found = await transact(read, write=False)
        for event in found:
            yield DowntimeEventType.from_event(event)
        if not found:
            await asyncio.sleep(POLL_SECONDS)


@strawberry.type
class DowntimeSubscriptionRoot:
    @strawberry.subscription(
        description="Downtime events as they happen (declared, changed, cancelled, started, "
        "ended), optionally from after a `sequence` seen before. Public, like downtimes."
    )
    async def downtime_events(
        self,
        info: Info,
        filter: DowntimeEventFilterInput | None = None,
        after: Long | None = None,
    ) -> AsyncGenerator[DowntimeEventType, None]:
        stream = event_stream(info, (filter or DowntimeEventFilterInput()).to_domain(), after)
        try:
            async for event in stream:
                yield event
        finally:
            await stream.aclose()
