"""The messaging service's `Query` fields."""

from __future__ import annotations

import strawberry

from domains.common.graphql import Connection, Info
from domains.messaging import service as msg
from domains.messaging.types import (
    MessagingProject,
    MessagingSubscription,
    Topic,
    keyset_connection,
    project_node,
)


@strawberry.type
class MessagingQuery:
    @strawberry.field(
        description="Messaging projects: all for platform admins, else the caller's own."
    )
    def messaging_projects(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[MessagingProject]:
        ctx = info.context
        request = ctx.page(first, after)
        page = msg.list_projects(
            ctx.session, ctx.principal, first=request.first, after=request.after
        )
        return keyset_connection(page, MessagingProject.from_row)

    @strawberry.field(description="A messaging project the caller belongs to.")
    def messaging_project(self, info: Info, name: str) -> MessagingProject:
        return project_node(info, name)

    @strawberry.field(description="A topic; project admins and publishers in its ACL.")
    def topic(self, info: Info, project: str, name: str) -> Topic:
        ctx = info.context
        view = msg.get_topic(ctx.session, ctx.principal, project=project, topic=name)
        return Topic.from_row(view)

    @strawberry.field(description="A subscription; project admins and consumers in its ACL.")
    def subscription(self, info: Info, project: str, name: str) -> MessagingSubscription:
        ctx = info.context
        view = msg.get_subscription(ctx.session, ctx.principal, project=project, subscription=name)
        return MessagingSubscription.from_row(view)
