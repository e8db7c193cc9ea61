"""GraphQL of downtime notification subscriptions (wishes to hear of downtime events by
e-mail, topic or webhook; not live streams, which are in streams.py): the caller's
subscriptions, and the mutations that make, replace and delete them. Thin: every rule is
in domains.downtimes.notifications (and the channels' in domains.notifications)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry

from domains.common.authz import Caller, requires
from domains.common.graphql import (
    Connection,
    Deleted,
    Info,
    Node,
    connection,
    id_of_type,
    node_type,
    to_global_id,
    viewer_can,
)
from domains.common.loaders import BatchLoader, loader
from domains.common.models import pk
from domains.common.query import Record
from domains.downtimes import notifications as notes
from domains.downtimes.events import EventKind
from domains.downtimes.models import DowntimeNotification as NotificationRow
from domains.downtimes.models import DowntimeSubscription as SubscriptionRow
from domains.downtimes.notifications import SubscriptionSpec
from domains.downtimes.rules import Action
from domains.downtimes.types import EventKindEnum
from domains.identity.types import Viewer
from domains.notifications.checks import TopicRef
from domains.notifications.models import Channel, NotificationStatus
from domains.topology.queries import After, First

ChannelEnum = strawberry.enum(
    Channel, name="DowntimeNotificationChannel", description="Where a notification goes."
)
StatusEnum = strawberry.enum(NotificationStatus, name="DowntimeNotificationStatus")

TYPE_NAME = "DowntimeSubscription"
# the GraphQL enum DowntimeEventKind, defined once by the types module
assert EventKindEnum is EventKind


@strawberry.type(description="A messaging topic (project and topic names).")
class DowntimeTopicChannel:
    project: str
    topic: str


def _row(root: DowntimeSubscriptionNode, info: Info) -> SubscriptionRow | None:
    return notes.subscription_row(info.context.session, root.db_id)


@strawberry.type(
    name=TYPE_NAME,
    description="A wish to hear about downtimes: filters (null: all), the events wanted, "
    "and where to send them (e-mail to the user's address, the user's messaging topic, a "
    "webhook). Each subscriber hears of an event once per channel.",
)
class DowntimeSubscriptionNode(Node):
    name: str
    ngi: str | None = strawberry.field(description="NGI name; null: any NGI.")
    site: str | None = strawberry.field(description="Site short name; null: any site.")
    host: str | None = strawberry.field(description="A service's host name; null: any.")
    service_type: str | None = strawberry.field(description="A service type; null: any.")
    vo: str | None = strawberry.field(description="A VO one of the services serves; null: any.")
    events: list[EventKind]
    email: bool = strawberry.field(description="Send an e-mail to the user's address.")
    topic: DowntimeTopicChannel | None = strawberry.field(
        description="Publish each event to this topic."
    )
    webhook_url: str | None = strawberry.field(description="POST each event here as JSON.")
    enabled: bool
    created_at: datetime

    viewer_can_edit = viewer_can("updateDowntimeSubscription", on=_row, thing="it")
    viewer_can_delete = viewer_can("deleteDowntimeSubscription", on=_row, thing="it")

    @strawberry.field(description="The newest notifications of this subscription, newest first.")
    def notifications(self, info: Info, first: int = 20) -> list[DowntimeNotificationType]:
        return [
            DowntimeNotificationType.from_row(r) for r in _notifications(info, self.db_id, first)
        ]

    @classmethod
    def from_row(cls, row: SubscriptionRow | Record) -> DowntimeSubscriptionNode:
        """From the ORM row (a mutation's result) or its columns (a page)."""
        topic = (
            DowntimeTopicChannel(project=row.topic_project, topic=row.topic_name)
            if row.topic_project and row.topic_name
            else None
        )
        return cls(
            db_id=pk(row),
            name=row.name,
            ngi=row.ngi,
            site=row.site,
            host=row.host,
            service_type=row.service_type,
            vo=row.vo,
            events=[kind for kind in EventKind if getattr(row, notes.event_column(kind))],
            email=row.email,
            topic=topic,
            webhook_url=row.webhook_url,
            enabled=row.enabled,
            created_at=row.created_at,
        )


@strawberry.type(
    name="DowntimeNotification",
    description="One event told to a subscriber over one channel, and how that went.",
)
class DowntimeNotificationType:
    kind: EventKind
    channel: Channel
    status: NotificationStatus = strawberry.field(
        description="PENDING: still to deliver; SENT; FAILED: given up after the last attempt."
    )
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    downtime_id: strawberry.ID = strawberry.field(description="The Downtime's global id.")

    @classmethod
    def from_row(cls, row: NotificationRow) -> DowntimeNotificationType:
        return cls(
            kind=EventKind(row.kind),
            channel=row.channel,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            downtime_id=strawberry.ID(to_global_id("Downtime", int(row.payload["id"]))),
        )


def _notifications(info: Info, subscription_id: int, first: int) -> list[NotificationRow]:
    """Through a loader per page size: the subscriptions the request listed are fetched in
    one statement."""
    ctx = info.context

    def fetch(ids: Sequence[int]) -> dict[int, list[NotificationRow]]:
        return notes.CHANNELS.recent(ctx.session, ctx.principal, subscription_ids=ids, limit=first)

    found: BatchLoader[int, list[NotificationRow]] = loader(
        ctx, ("downtimes", f"notifications_{first}"), fetch, list
    )
    found.hint(ctx.memo.get(_LISTED, ()))
    return found.load(subscription_id)


_LISTED = "downtimes.listed_subscriptions"


@node_type(TYPE_NAME)
def _resolve(info: Info, db_id: int) -> DowntimeSubscriptionNode | None:
    ctx = info.context
    row = notes.get_subscription(ctx.session, ctx.principal, subscription_id=db_id)
    return None if row is None else DowntimeSubscriptionNode.from_row(row)


@strawberry.input(description="A messaging topic you may publish to.")
class DowntimeTopicInput:
    project: str
    topic: str


@strawberry.input
class SubscribeToDowntimesInput:
    name: str
    events: list[EventKind] = strawberry.field(description="At least one.")
    ngi: str | None = None
    site: str | None = None
    host: str | None = None
    service_type: str | None = None
    vo: str | None = None
    email: bool = False
    topic: DowntimeTopicInput | None = None
    webhook_url: str | None = strawberry.field(default=None, description="http(s)://")
    enabled: bool = True


@strawberry.input(description="The whole new definition: filters left out mean all.")
class UpdateDowntimeSubscriptionInput(SubscribeToDowntimesInput):
    id: strawberry.ID


@strawberry.input
class DeleteDowntimeSubscriptionInput:
    id: strawberry.ID


@strawberry.type
class SubscribeToDowntimesPayload:
    subscription: DowntimeSubscriptionNode


@strawberry.type
class UpdateDowntimeSubscriptionPayload:
    subscription: DowntimeSubscriptionNode


def _spec(input: SubscribeToDowntimesInput) -> SubscriptionSpec:
    return SubscriptionSpec(
        name=input.name,
        events=frozenset(input.events),
        ngi=input.ngi,
        site=input.site,
        host=input.host,
        service_type=input.service_type,
        vo=input.vo,
        email=input.email,
        topic=TopicRef(input.topic.project, input.topic.topic) if input.topic else None,
        webhook_url=input.webhook_url,
        enabled=input.enabled,
    )


@strawberry.type
class DowntimeSubscriptionQuery:
    @strawberry.field(description="Your downtime subscriptions, oldest first.")
    def my_downtime_subscriptions(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[DowntimeSubscriptionNode]:
        ctx = info.context
        page = notes.subscriptions_page(ctx.session, ctx.principal, page=ctx.page(first, after))
        ctx.memo[_LISTED] = [row.id for row in page.items]
        return connection(page, DowntimeSubscriptionNode.from_row)


@strawberry.type
class DowntimeSubscriptionMutation:
    @strawberry.mutation(description="Subscribe to downtimes: events after this one only.")
    @requires(Caller.SIGNED_IN)
    def subscribe_to_downtimes(
        self, info: Info, input: SubscribeToDowntimesInput
    ) -> SubscribeToDowntimesPayload:
        ctx = info.context
        row = notes.subscribe(
            ctx.session,
            ctx.principal,
            spec=_spec(input),
            egress=ctx.egress,
        )
        return SubscribeToDowntimesPayload(subscription=DowntimeSubscriptionNode.from_row(row))

    @strawberry.mutation(description="Replace one of your downtime subscriptions.")
    @requires(Action.MANAGE_SUBSCRIPTION, on="the subscription input.id")
    def update_downtime_subscription(
        self, info: Info, input: UpdateDowntimeSubscriptionInput
    ) -> UpdateDowntimeSubscriptionPayload:
        ctx = info.context
        row = notes.update_subscription(
            ctx.session,
            ctx.principal,
            subscription_id=id_of_type(input.id, TYPE_NAME, argument="input.id"),
            spec=_spec(input),
            egress=ctx.egress,
        )
        return UpdateDowntimeSubscriptionPayload(
            subscription=DowntimeSubscriptionNode.from_row(row)
        )

    @strawberry.mutation(description="Delete one of your downtime subscriptions.")
    @requires(Action.MANAGE_SUBSCRIPTION, on="the subscription input.id")
    def delete_downtime_subscription(
        self, info: Info, input: DeleteDowntimeSubscriptionInput
    ) -> Deleted:
        ctx = info.context
        db_id = id_of_type(input.id, TYPE_NAME, argument="input.id")
        notes.delete_subscription(ctx.session, ctx.principal, subscription_id=db_id)
        return Deleted(id=input.id)


def identity_fields() -> dict[type, dict[str, Any]]:
    """The field downtimes adds to identity's Viewer (a new one at each call)."""
    return {Viewer: {"viewer_can_subscribe_to_downtimes": viewer_can("subscribeToDowntimes")}}
