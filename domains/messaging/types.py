"""GraphQL types of the messaging service (AMS pub/sub), each built from a service row by
its `from_row`. Resolvers translate only: arguments to a service call, rows to types; every
rule is the service's.

Lists of topics and subscriptions are Relay connections over the service's AMS paging
(ascending ids: `after` the cursor of id n is the AMS page token of id n+1). Nested fields
(ACLs, a topic's subscriptions, offsets, a subscription's topic) load through the
per-request batch loaders of `loaders`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry

from domains.common.errors import DomainError, Invalid
from domains.common.graphql import (
    Connection,
    Info,
    Long,
    Node,
    node_type,
    viewer_can,
)
from domains.common.query import Record, RecordPage
from domains.identity.types import Viewer
from domains.messaging import service as msg
from domains.messaging.loaders import (
    hint_subscriptions,
    hint_topics,
    offsets_loader,
    sub_acl_loader,
    topic_acl_loader,
    topic_loader,
    topic_subs_loader,
)
from domains.messaging.rows import (
    KeysetPage,
    MemberView,
    ProjectMetrics,
    ProjectView,
    ReceivedMessage,
    SubscriptionView,
    TopicView,
    Usage,
)
from domains.messaging.rules import MessagingRule


@strawberry.enum(name="MessagingRole", description="A user's role in a messaging project.")
class MessagingRole(Enum):
    PROJECT_ADMIN = "project_admin"
    PUBLISHER = "publisher"
    CONSUMER = "consumer"


# --- per-request helpers ---------------------------------------------------------------


def _reads_push_secrets(info: Info, project: str) -> bool:
    """What the service decides of the caller and the project's push secrets; once per
    request and project."""
    ctx = info.context
    key = f"messaging.push_secrets:{project}"
    found = ctx.memo.get(key)
    if found is None:
        found = ctx.memo[key] = msg.reads_push_secrets(ctx.session, ctx.principal, project=project)
    return bool(found)


def project_node(info: Info, name: str) -> MessagingProject:
    ctx = info.context
    key = f"messaging.project:{name}"
    found = ctx.memo.get(key)
    if found is None:
        view = msg.get_project(ctx.session, ctx.principal, project=name)
        found = ctx.memo[key] = MessagingProject.from_row(view)
    return cast(MessagingProject, found)


def keyset_connection(page: KeysetPage[Any], build: Callable[[Any], Any]) -> Connection[Any]:
    """A Relay connection of one of the service's keyset pages (the rows have `.id`,
    which is all the cursors need)."""
    total = page.total_count
    record_page = RecordPage(
        items=cast(list[Record], page.items),
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        _count=lambda: total,
    )
    return Connection(page=record_page, node_list=[build(v) for v in page.items])


# --- value types ------------------------------------------------------------------------


@strawberry.type(name="MessagingMember", description="A user's roles in a messaging project.")
class MessagingMember:
    subject: str
    roles: list[MessagingRole]

    @classmethod
    def from_row(cls, view: MemberView) -> MessagingMember:
        return cls(subject=view.subject, roles=[MessagingRole(r) for r in view.roles])


@strawberry.type(name="MessagingUsage", description="Messages and bytes in and out.")
class MessagingUsage:
    messages_in: Long
    bytes_in: Long
    messages_out: Long
    bytes_out: Long

    @classmethod
    def from_row(cls, usage: Usage) -> MessagingUsage:
        return cls(
            messages_in=Long(usage.messages_in),
            bytes_in=Long(usage.bytes_in),
            messages_out=Long(usage.messages_out),
            bytes_out=Long(usage.bytes_out),
        )


@strawberry.type(name="MessagingUserUsage")
class MessagingUserUsage:
    subject: str
    usage: MessagingUsage


@strawberry.type(name="MessagingProjectMetrics")
class MessagingProjectMetrics:
    topics: int
    subscriptions: int
    usage: MessagingUsage
    per_user: list[MessagingUserUsage]

    @classmethod
    def from_row(cls, view: ProjectMetrics) -> MessagingProjectMetrics:
        return cls(
            topics=view.topics,
            subscriptions=view.subscriptions,
            usage=MessagingUsage.from_row(view.usage),
            per_user=[
                MessagingUserUsage(subject=s, usage=MessagingUsage.from_row(u))
                for s, u in view.per_user.items()
            ],
        )


@strawberry.type(description="A message attribute.")
class MessageAttribute:
    key: str
    value: str


@strawberry.type(
    name="ReceivedMessage",
    description="A pulled message. Acknowledge it (or a later one: acks are cumulative) "
    "with its ackId within the subscription's ack deadline, or it comes again.",
)
class ReceivedMessageType:
    ack_id: str
    message_id: str
    data: str = strawberry.field(description="The payload, base64-encoded.")
    attributes: list[MessageAttribute]
    publish_time: datetime

    @classmethod
    def from_row(cls, message: ReceivedMessage) -> ReceivedMessageType:
        return cls(
            ack_id=message.ack_id,
            message_id=message.message_id,
            data=base64.b64encode(message.data).decode("ascii"),
            attributes=[MessageAttribute(key=k, value=v) for k, v in message.attributes.items()],
            publish_time=message.publish_time,
        )


@strawberry.type(name="SubscriptionOffsets", description="Offsets in the topic's message log.")
class SubscriptionOffsets:
    min: Long = strawberry.field(description="The oldest message still kept.")
    max: Long = strawberry.field(description="The offset the next message will get.")
    current: Long = strawberry.field(description="The next message a pull returns.")


@strawberry.type
class RetryPolicy:
    type: str = strawberry.field(description="linear or slowstart.")
    period: int = strawberry.field(description="Milliseconds between attempts (linear).")


@strawberry.type
class AuthorizationHeader:
    type: str = strawberry.field(description="autogen or disabled.")
    value: str | None = strawberry.field(
        description="What the push sends in `Authorization`; project admins only."
    )


@strawberry.type(description="How a push subscription delivers.")
class PushConfig:
    type: str = strawberry.field(description="http_endpoint or mattermost.")
    push_endpoint: str
    max_messages: int
    retry_policy: RetryPolicy
    authorization_header: AuthorizationHeader
    verified: bool
    verification_hash: str | None = strawberry.field(
        description="Serve it at {scheme}://{host}/ams_verification_hash to verify the "
        "endpoint; project admins only."
    )
    base64_decode: bool
    mattermost_url: str
    mattermost_username: str
    mattermost_channel: str


@strawberry.type(description="Where the push worker stands with a push subscription.")
class PushDeliveryState:
    status: str
    last_error: str | None
    consecutive_failures: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    delivered_count: Long


# --- node types ---------------------------------------------------------------------------

# The rows the services authorize each action on: `viewerCan…` fields ask of the same ones.


def _row(kind: str, *, its_project: bool = False) -> Callable[[Node, Info], object]:
    return lambda root, info: msg.target_row(
        info.context.session, kind, root.db_id, its_project=its_project
    )


_MANAGE = ("addProjectMember", "removeProjectMember", "createTopic", "createSubscription")


@strawberry.type(name="MessagingProject", description="A messaging (AMS) project.")
class MessagingProject(Node):
    name: str
    description: str
    created_at: datetime
    modified_at: datetime
    created_by: str | None = strawberry.field(description="The creator's subject.")

    viewer_can_administer = viewer_can(*_MANAGE, on=_row("project"), thing="this project")
    viewer_can_delete = viewer_can("deleteMessagingProject", on=_row("project"), thing="it")

    @classmethod
    def from_row(cls, view: ProjectView) -> MessagingProject:
        return cls(
            db_id=view.id,
            name=view.name,
            description=view.description,
            created_at=view.created_at,
            modified_at=view.modified_at,
            created_by=view.created_by,
        )

    @strawberry.field(description="Members and their roles; project admins only.")
    def members(self, info: Info) -> list[MessagingMember]:
        ctx = info.context
        views = msg.list_members(ctx.session, ctx.principal, project=self.name)
        return [MessagingMember.from_row(v) for v in views]

    @strawberry.field(
        description="Topics, by creation; a publisher sees those whose ACL lists them."
    )
    def topics(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Topic]:
        ctx = info.context
        ctx.memo.setdefault(f"messaging.project:{self.name}", self)

        request = ctx.page(first, after)
        page = msg.list_topics(
            ctx.session, ctx.principal, project=self.name, first=request.first, after=request.after
        )
        connection = keyset_connection(page, Topic.from_row)
        hint_topics(info, self.name, [t.view for t in connection.node_list])
        return connection

    @strawberry.field(
        description="Subscriptions, by creation; a consumer sees those whose ACL lists them."
    )
    def subscriptions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[MessagingSubscription]:
        ctx = info.context
        ctx.memo.setdefault(f"messaging.project:{self.name}", self)

        request = ctx.page(first, after)
        page = msg.list_subscriptions(
            ctx.session, ctx.principal, project=self.name, first=request.first, after=request.after
        )
        connection = keyset_connection(page, MessagingSubscription.from_row)
        hint_subscriptions(info, self.name, [s.view for s in connection.node_list])
        return connection

    @strawberry.field(description="Counts and usage; project admins only.")
    def metrics(self, info: Info) -> MessagingProjectMetrics:
        ctx = info.context
        view = msg.project_metrics(ctx.session, ctx.principal, project=self.name)
        return MessagingProjectMetrics.from_row(view)


@strawberry.type(description="A topic of a messaging project.")
class Topic(Node):
    name: str
    full_name: str = strawberry.field(description="/projects/{project}/topics/{name}")
    created_at: datetime
    message_count: Long = strawberry.field(description="Messages published, in all.")
    bytes: Long = strawberry.field(description="Bytes published, in all.")
    published_at: datetime | None = strawberry.field(description="Of the latest message.")
    next_offset: Long = strawberry.field(description="The offset the next message will get.")
    project_name: strawberry.Private[str]
    view: strawberry.Private[TopicView]

    viewer_can_publish = viewer_can("publish", on=_row("topic"), thing="this topic")
    viewer_can_delete = viewer_can("deleteTopic", on=_row("topic", its_project=True), thing="it")
    viewer_can_edit_acl = viewer_can(
        "setTopicAcl", on=_row("topic", its_project=True), thing="this topic"
    )

    @classmethod
    def from_row(cls, view: TopicView) -> Topic:
        return cls(
            db_id=view.id,
            name=view.name,
            full_name=view.full_name,
            created_at=view.created_at,
            message_count=Long(view.message_count),
            bytes=Long(view.bytes_in),
            published_at=view.published_at,
            next_offset=Long(view.next_offset),
            project_name=view.project,
            view=view,
        )

    @strawberry.field
    def project(self, info: Info) -> MessagingProject:
        return project_node(info, self.project_name)

    @strawberry.field(description="Subjects of the publishers allowed; project admins only.")
    def acl(self, info: Info) -> list[str]:
        found: list[str] = topic_acl_loader(info, self.project_name).load(self.db_id)
        return found

    @strawberry.field(description="The topic's subscriptions; project admins only.")
    def subscriptions(self, info: Info) -> list[MessagingSubscription]:
        views = topic_subs_loader(info, self.project_name).load(self.db_id)
        return [MessagingSubscription.from_row(v) for v in views]


@strawberry.type(
    name="MessagingSubscription",
    description="A subscription to a topic: pull (push config null) or push.",
)
class MessagingSubscription(Node):
    name: str
    full_name: str = strawberry.field(description="/projects/{project}/subscriptions/{name}")
    topic_name: str = strawberry.field(
        description="Its topic's name, kept after the topic is deleted."
    )
    ack_deadline_seconds: int
    created_at: datetime
    pending_ack_since: datetime | None = strawberry.field(
        description="When the messages awaiting acknowledgement were pulled."
    )
    message_count: Long = strawberry.field(description="Messages pulled or pushed, in all.")
    bytes: Long = strawberry.field(description="Bytes pulled or pushed, in all.")
    project_name: strawberry.Private[str]
    view: strawberry.Private[SubscriptionView]

    viewer_can_pull = viewer_can("pull", on=_row("subscription"), thing="this subscription")
    viewer_can_acknowledge = viewer_can(
        "acknowledge", "modifyAckDeadline", "modifyOffset", on=_row("subscription"), thing="it"
    )
    viewer_can_modify = viewer_can(
        "modifyPushConfig",
        "setSubscriptionAcl",
        "verifyPushEndpoint",
        on=_row("subscription", its_project=True),
        thing="this subscription",
    )
    viewer_can_delete = viewer_can(
        "deleteSubscription", on=_row("subscription", its_project=True), thing="it"
    )

    @classmethod
    def from_row(cls, view: SubscriptionView) -> MessagingSubscription:
        return cls(
            db_id=view.id,
            name=view.name,
            full_name=view.full_name,
            topic_name=view.topic,
            ack_deadline_seconds=view.ack_deadline,
            created_at=view.created_at,
            pending_ack_since=view.pending_ack_at,
            message_count=Long(view.message_count),
            bytes=Long(view.bytes_out),
            project_name=view.project,
            view=view,
        )

    @strawberry.field
    def project(self, info: Info) -> MessagingProject:
        return project_node(info, self.project_name)

    @strawberry.field(description="Null when the topic was deleted or the caller may not read it.")
    def topic(self, info: Info) -> Topic | None:
        if self.view.topic_id is None:
            return None
        found = topic_loader(info, self.project_name).load(self.topic_name)
        return None if found is None else Topic.from_row(found)

    @strawberry.field(description="Null for a pull subscription.")
    def push_config(self, info: Info) -> PushConfig | None:
        push = self.view.push
        if not push.is_push:
            return None
        admin = _reads_push_secrets(info, self.project_name)
        return PushConfig(
            type=push.push_type,
            push_endpoint=push.push_endpoint,
            max_messages=push.push_max_messages,
            retry_policy=RetryPolicy(type=push.retry_type, period=push.retry_period_ms),
            authorization_header=AuthorizationHeader(
                type=push.auth_header_type,
                value=push.auth_header_value if admin and push.auth_header_value else None,
            ),
            verified=push.verified,
            verification_hash=push.verification_hash if admin else None,
            base64_decode=push.base64_decode,
            mattermost_url=push.mattermost_url,
            mattermost_username=push.mattermost_username,
            mattermost_channel=push.mattermost_channel,
        )

    @strawberry.field(description="Push delivery state; null for a pull subscription.")
    def push_delivery(self) -> PushDeliveryState | None:
        if not self.view.push.is_push:
            return None
        d = self.view.delivery
        return PushDeliveryState(
            status=d.status,
            last_error=d.last_error,
            consecutive_failures=d.consecutive_failures,
            next_attempt_at=d.next_attempt_at,
            last_attempt_at=d.last_attempt_at,
            last_success_at=d.last_success_at,
            delivered_count=Long(d.delivered_count),
        )

    @strawberry.field(description="Null when the subscription's topic was deleted.")
    def offsets(self, info: Info) -> SubscriptionOffsets | None:
        found = offsets_loader(info, self.project_name).load(self.name)
        if found is None:
            return None
        return SubscriptionOffsets(
            min=Long(found.min), max=Long(found.max), current=Long(found.current)
        )

    @strawberry.field(description="Subjects of the consumers allowed; project admins only.")
    def acl(self, info: Info) -> list[str]:
        found: list[str] = sub_acl_loader(info, self.project_name).load(self.db_id)
        return found

    @strawberry.field(
        description="The offset of the first message published at or after `time` (AMS's "
        "timeToOffset), for `modifyOffset`; CONFLICT when no retained message is that late."
    )
    def offset_at(self, info: Info, time: datetime) -> Long:
        if time.tzinfo is None:
            raise Invalid("time", MessagingRule.MESSAGING_TIME_WITHOUT_OFFSET)
        ctx = info.context
        found = msg.time_to_offset(
            ctx.session, ctx.principal, project=self.project_name, subscription=self.name, time=time
        )
        return Long(found)


@node_type("MessagingProject")
def _resolve_project(info: Info, pk: int) -> MessagingProject | None:
    ctx = info.context
    try:
        return MessagingProject.from_row(
            msg.get_project_by_id(ctx.session, ctx.principal, project_id=pk)
        )
    except DomainError:
        return None


@node_type("Topic")
def _resolve_topic(info: Info, pk: int) -> Topic | None:
    ctx = info.context
    try:
        return Topic.from_row(msg.get_topic_by_id(ctx.session, ctx.principal, topic_id=pk))
    except DomainError:
        return None


@node_type("MessagingSubscription")
def _resolve_subscription(info: Info, pk: int) -> MessagingSubscription | None:
    ctx = info.context
    try:
        view = msg.get_subscription_by_id(ctx.session, ctx.principal, subscription_id=pk)
    except DomainError:
        return None
    return MessagingSubscription.from_row(view)


def identity_fields() -> dict[type, dict[str, Any]]:
    """The fields messaging adds to identity's types (new ones at each call: a field
    belongs to one schema type)."""
    return {Viewer: {"viewer_can_create_messaging_project": viewer_can("createMessagingProject")}}
