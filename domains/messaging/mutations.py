"""GraphQL mutations of the messaging service. Each is one service call (a delete also
reads the id it reports) inside the request's transaction; every rule is the service's.

Pull and acknowledge are mutations: they move the subscription's offsets. Pull never
waits; the `subscriptionMessages` subscription is the way to wait for messages."""

from __future__ import annotations

from typing import Any

import strawberry

from domains.common.authz import Caller, requires
from domains.common.graphql import Deleted, Info, Long
from domains.messaging import service as msg
from domains.messaging.rules import Action
from domains.messaging.types import (
    MessagingMember,
    MessagingProject,
    MessagingRole,
    MessagingSubscription,
    ReceivedMessageType,
    Topic,
)


@strawberry.input
class CreateMessagingProjectInput:
    name: str
    description: str = ""


@strawberry.input
class DeleteMessagingProjectInput:
    name: str


@strawberry.input(description="Give a user (by subject) these roles, replacing any they had.")
class AddProjectMemberInput:
    project: str
    subject: str
    roles: list[MessagingRole]


@strawberry.input
class RemoveProjectMemberInput:
    project: str
    subject: str


@strawberry.input
class CreateTopicInput:
    project: str
    name: str


@strawberry.input
class DeleteTopicInput:
    project: str
    name: str


@strawberry.input(description="Replace the topic's ACL by these project members (subjects).")
class SetTopicAclInput:
    project: str
    topic: str
    users: list[str]


@strawberry.input
class MessageAttributeInput:
    key: str
    value: str


@strawberry.input
class PublishMessageInput:
    data: str = strawberry.field(description="The payload, base64-encoded.")
    attributes: list[MessageAttributeInput] | None = None


@strawberry.input
class PublishInput:
    project: str
    topic: str
    messages: list[PublishMessageInput]


@strawberry.type
class PublishPayload:
    message_ids: list[str] = strawberry.field(description="The messages' ids, in order.")


@strawberry.input
class RetryPolicyInput:
    type: str | None = strawberry.field(default=None, description="linear (default), slowstart.")
    period: int | None = strawberry.field(default=None, description="Milliseconds (linear).")


@strawberry.input
class AuthorizationHeaderInput:
    type: str | None = strawberry.field(default=None, description="autogen (default), disabled.")


@strawberry.input(
    description="AMS's pushConfig. All blank makes a pull subscription. A new endpoint must "
    "be verified (verifyPushEndpoint) before anything is pushed to it."
)
class PushConfigInput:
    type: str | None = strawberry.field(
        default=None, description="http_endpoint (default with an endpoint) or mattermost."
    )
    push_endpoint: str | None = None
    max_messages: int | None = None
    retry_policy: RetryPolicyInput | None = None
    authorization_header: AuthorizationHeaderInput | None = None
    base64_decode: bool | None = None
    mattermost_url: str | None = None
    mattermost_username: str | None = None
    mattermost_channel: str | None = None

    def to_ams(self) -> dict[str, Any]:
        """The camelCase object the service parses, with what was given only."""
        raw: dict[str, Any] = {
            "type": self.type,
            "pushEndpoint": self.push_endpoint,
            "maxMessages": self.max_messages,
            "base64Decode": self.base64_decode,
            "mattermostUrl": self.mattermost_url,
            "mattermostUsername": self.mattermost_username,
            "mattermostChannel": self.mattermost_channel,
        }
        if self.retry_policy is not None:
            raw["retryPolicy"] = {
                "type": self.retry_policy.type,
                "period": self.retry_policy.period,
            }
        if self.authorization_header is not None:
            raw["authorizationHeader"] = {"type": self.authorization_header.type}
        return {k: v for k, v in raw.items() if v is not None}


@strawberry.input
class CreateSubscriptionInput:
    project: str
    name: str
    topic: str = strawberry.field(description="The name of a topic of the same project.")
    ack_deadline_seconds: int | None = strawberry.field(
        default=None, description="0 to 600; 0 or null means 10."
    )
    push_config: PushConfigInput | None = None


@strawberry.input
class DeleteSubscriptionInput:
    project: str
    name: str


@strawberry.input(description="Replace the subscription's ACL by these project members.")
class SetSubscriptionAclInput:
    project: str
    subscription: str
    users: list[str]


@strawberry.input
class PullInput:
    project: str
    subscription: str
    max_messages: int = strawberry.field(default=1, description="1 to 10000.")


@strawberry.input(description="Acks are cumulative: the highest ack id commits all before it.")
class AcknowledgeInput:
    project: str
    subscription: str
    ack_ids: list[str]


@strawberry.input
class ModifyAckDeadlineInput:
    project: str
    subscription: str
    ack_deadline_seconds: int = strawberry.field(description="0 to 600; 0 means 10.")


@strawberry.input
class ModifyPushConfigInput:
    project: str
    subscription: str
    push_config: PushConfigInput | None = strawberry.field(
        default=None, description="Null (or all blank) turns it into a pull subscription."
    )


@strawberry.input
class VerifyPushEndpointInput:
    project: str
    subscription: str


@strawberry.input(description="Move the subscription's offset within [min, max].")
class ModifyOffsetInput:
    project: str
    subscription: str
    offset: Long


@strawberry.type
class CreateMessagingProjectPayload:
    project: MessagingProject


@strawberry.type
class AddProjectMemberPayload:
    member: MessagingMember


@strawberry.type
class RemoveProjectMemberPayload:
    project: MessagingProject


@strawberry.type
class CreateTopicPayload:
    topic: Topic


@strawberry.type
class SetTopicAclPayload:
    topic: Topic


@strawberry.type
class CreateSubscriptionPayload:
    subscription: MessagingSubscription


@strawberry.type
class SetSubscriptionAclPayload:
    subscription: MessagingSubscription


@strawberry.type
class PullPayload:
    received_messages: list[ReceivedMessageType] = strawberry.field(
        description="Up to maxMessages messages, in offset order; empty when none waits."
    )


@strawberry.type
class AcknowledgePayload:
    subscription: MessagingSubscription


@strawberry.type
class ModifyAckDeadlinePayload:
    subscription: MessagingSubscription


@strawberry.type
class ModifyPushConfigPayload:
    subscription: MessagingSubscription


@strawberry.type
class VerifyPushEndpointPayload:
    subscription: MessagingSubscription


@strawberry.type
class ModifyOffsetPayload:
    subscription: MessagingSubscription


def _subscription(info: Info, project: str, name: str) -> MessagingSubscription:
    ctx = info.context
    view = msg.get_subscription(ctx.session, ctx.principal, project=project, subscription=name)
    return MessagingSubscription.from_row(view)


@strawberry.type
class MessagingMutation:
    @strawberry.mutation(description="Create a messaging project; platform admins only.")
    @requires(Caller.PLATFORM_ADMIN)
    def create_messaging_project(
        self, info: Info, input: CreateMessagingProjectInput
    ) -> CreateMessagingProjectPayload:
        ctx = info.context
        view = msg.create_project(
            ctx.session, ctx.principal, name=input.name, description=input.description
        )
        return CreateMessagingProjectPayload(project=MessagingProject.from_row(view))

    @strawberry.mutation(
        description="Delete a project with all its topics, messages and subscriptions; "
        "platform admins only."
    )
    @requires(Caller.PLATFORM_ADMIN)
    def delete_messaging_project(self, info: Info, input: DeleteMessagingProjectInput) -> Deleted:
        ctx = info.context
        project = MessagingProject.from_row(
            msg.get_project(ctx.session, ctx.principal, project=input.name)
        )
        msg.delete_project(ctx.session, ctx.principal, project=input.name)
        return Deleted(id=project.id())

    @strawberry.mutation(description="Give a user roles in a project; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def add_project_member(
        self, info: Info, input: AddProjectMemberInput
    ) -> AddProjectMemberPayload:
        ctx = info.context
        view = msg.add_member(
            ctx.session,
            ctx.principal,
            project=input.project,
            subject=input.subject,
            roles=[r.value for r in input.roles],
        )
        return AddProjectMemberPayload(member=MessagingMember.from_row(view))

    @strawberry.mutation(
        description="Remove a user from a project and its ACLs; project admins only."
    )
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def remove_project_member(
        self, info: Info, input: RemoveProjectMemberInput
    ) -> RemoveProjectMemberPayload:
        ctx = info.context
        msg.remove_member(ctx.session, ctx.principal, project=input.project, subject=input.subject)
        view = msg.get_project(ctx.session, ctx.principal, project=input.project)
        return RemoveProjectMemberPayload(project=MessagingProject.from_row(view))

    @strawberry.mutation(description="Create a topic; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def create_topic(self, info: Info, input: CreateTopicInput) -> CreateTopicPayload:
        ctx = info.context
        view = msg.create_topic(ctx.session, ctx.principal, project=input.project, topic=input.name)
        return CreateTopicPayload(topic=Topic.from_row(view))

    @strawberry.mutation(
        description="Delete a topic and its messages; its subscriptions stay, unable to pull."
    )
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def delete_topic(self, info: Info, input: DeleteTopicInput) -> Deleted:
        ctx = info.context
        topic = Topic.from_row(
            msg.get_topic(ctx.session, ctx.principal, project=input.project, topic=input.name)
        )
        msg.delete_topic(ctx.session, ctx.principal, project=input.project, topic=input.name)
        return Deleted(id=topic.id())

    @strawberry.mutation(description="Replace a topic's ACL; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def set_topic_acl(self, info: Info, input: SetTopicAclInput) -> SetTopicAclPayload:
        ctx = info.context
        msg.modify_topic_acl(
            ctx.session, ctx.principal, project=input.project, topic=input.topic, users=input.users
        )
        view = msg.get_topic(ctx.session, ctx.principal, project=input.project, topic=input.topic)
        return SetTopicAclPayload(topic=Topic.from_row(view))

    @strawberry.mutation(
        description="Publish messages to a topic; project admins and publishers in its ACL."
    )
    @requires(Action.PUBLISH, on="the topic input.topic of project input.project")
    def publish(self, info: Info, input: PublishInput) -> PublishPayload:
        ctx = info.context
        messages = [
            {
                "data": m.data,
                "attributes": {a.key: a.value for a in m.attributes or ()},
            }
            for m in input.messages
        ]
        ids = msg.publish(
            ctx.session,
            ctx.principal,
            project=input.project,
            topic=input.topic,
            messages=messages,
            max_message_bytes=ctx.limits.max_message_bytes,
        )
        return PublishPayload(message_ids=[str(i) for i in ids])

    @strawberry.mutation(
        description="Create a subscription (pull, or push with pushConfig); it sees messages "
        "published from now on. Project admins only."
    )
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def create_subscription(
        self, info: Info, input: CreateSubscriptionInput
    ) -> CreateSubscriptionPayload:
        ctx = info.context
        view = msg.create_subscription(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.name,
            topic=f"projects/{input.project}/topics/{input.topic}",
            ack_deadline=input.ack_deadline_seconds,
            push_config=None if input.push_config is None else input.push_config.to_ams(),
            egress=ctx.egress,
        )
        return CreateSubscriptionPayload(subscription=MessagingSubscription.from_row(view))

    @strawberry.mutation(description="Delete a subscription; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def delete_subscription(self, info: Info, input: DeleteSubscriptionInput) -> Deleted:
        ctx = info.context
        sub = _subscription(info, input.project, input.name)
        msg.delete_subscription(
            ctx.session, ctx.principal, project=input.project, subscription=input.name
        )
        return Deleted(id=sub.id())

    @strawberry.mutation(description="Replace a subscription's ACL; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def set_subscription_acl(
        self, info: Info, input: SetSubscriptionAclInput
    ) -> SetSubscriptionAclPayload:
        ctx = info.context
        msg.modify_subscription_acl(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            users=input.users,
        )
        return SetSubscriptionAclPayload(
            subscription=_subscription(info, input.project, input.subscription)
        )

    @strawberry.mutation(
        description="Take up to maxMessages messages from the acknowledged offset on (what "
        "was pulled and not acknowledged comes again). Never waits."
    )
    @requires(Action.PULL, on="the subscription input.subscription of project input.project")
    def pull(self, info: Info, input: PullInput) -> PullPayload:
        ctx = info.context
        received = msg.pull(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            max_messages=input.max_messages,
        )
        return PullPayload(received_messages=[ReceivedMessageType.from_row(m) for m in received])

    @strawberry.mutation(description="Acknowledge pulled messages within the ack deadline.")
    @requires(Action.CONSUME, on="the subscription input.subscription of project input.project")
    def acknowledge(self, info: Info, input: AcknowledgeInput) -> AcknowledgePayload:
        ctx = info.context
        msg.acknowledge(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            ack_ids=input.ack_ids,
        )
        return AcknowledgePayload(
            subscription=_subscription(info, input.project, input.subscription)
        )

    @strawberry.mutation(description="Change the ack deadline; admins and consumers in the ACL.")
    @requires(Action.CONSUME, on="the subscription input.subscription of project input.project")
    def modify_ack_deadline(
        self, info: Info, input: ModifyAckDeadlineInput
    ) -> ModifyAckDeadlinePayload:
        ctx = info.context
        view = msg.modify_ack_deadline(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            ack_deadline=input.ack_deadline_seconds,
        )
        return ModifyAckDeadlinePayload(subscription=MessagingSubscription.from_row(view))

    @strawberry.mutation(description="Change (or remove) the push config; project admins only.")
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def modify_push_config(
        self, info: Info, input: ModifyPushConfigInput
    ) -> ModifyPushConfigPayload:
        ctx = info.context
        view = msg.modify_push_config(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            push_config=None if input.push_config is None else input.push_config.to_ams(),
            egress=ctx.egress,
        )
        return ModifyPushConfigPayload(subscription=MessagingSubscription.from_row(view))

    @strawberry.mutation(
        description="Verify a push endpoint: GET {scheme}://{host}/ams_verification_hash must "
        "answer 200 with the verification hash. Project admins only."
    )
    @requires(Action.MANAGE_PROJECT, on="the project input.project")
    def verify_push_endpoint(
        self, info: Info, input: VerifyPushEndpointInput
    ) -> VerifyPushEndpointPayload:
        ctx = info.context
        view = msg.verify_push_endpoint(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            fetch=ctx.http_get,
        )
        return VerifyPushEndpointPayload(subscription=MessagingSubscription.from_row(view))

    @strawberry.mutation(description="Move the offset; pending acks are dropped.")
    @requires(Action.CONSUME, on="the subscription input.subscription of project input.project")
    def modify_offset(self, info: Info, input: ModifyOffsetInput) -> ModifyOffsetPayload:
        ctx = info.context
        msg.modify_offset(
            ctx.session,
            ctx.principal,
            project=input.project,
            subscription=input.subscription,
            offset=int(input.offset),
        )
        return ModifyOffsetPayload(
            subscription=_subscription(info, input.project, input.subscription)
        )
