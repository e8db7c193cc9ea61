"""Identity's mutations: API tokens and role requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.graphql import (
    Info,
    id_of_type,
)
from domains.identity import service as identity
from domains.identity.service import tokens
from domains.identity.types import ApiTokenNode, CreatedApiToken, RoleNode, owned_entity


def _role_node(info: Info, role: Any) -> RoleNode:
    return RoleNode.from_view(identity.view_of(info.context.session, role))


@strawberry.input
class RequestRoleInput:
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of a Project, NGI, Site or ServiceGroup."
    )


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for, e.g. 'nagios publisher'.")
    expires_at: datetime | None = strawberry.field(default=None, description="Never if null.")
    user_subject: str | None = strawberry.field(
        default=None, description="Administrators only: create the token for this user."
    )


def _role_id(global_id: str) -> int:
    return id_of_type(global_id, "Role", argument="roleId")


def _token_id(global_id: str) -> int:
    return id_of_type(global_id, "ApiToken", argument="tokenId")


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Create an API token acting as you (or, for admins, a user).")
    def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreatedApiToken:
        ctx = info.context
        token, secret = tokens.create_api_token(
            ctx.session,
            ctx.principal,
            name=input.name,
            expires_at=input.expires_at,
            user_subject=input.user_subject,
        )
        return CreatedApiToken(token=ApiTokenNode.from_row(token), secret=secret)

    @strawberry.mutation(description="Revoke one of your API tokens; it stops working at once.")
    def revoke_api_token(self, info: Info, token_id: strawberry.ID) -> ApiTokenNode:
        ctx = info.context
        token = tokens.revoke_api_token(ctx.session, ctx.principal, token_id=_token_id(token_id))
        return ApiTokenNode.from_row(token)

    @strawberry.mutation(description="Ask for a role; it waits in PENDING for a decision.")
    def request_role(self, info: Info, input: RequestRoleInput) -> RoleNode:
        ctx = info.context
        kind, entity_id = owned_entity(input.entity_id, argument="input.entityId")
        role = identity.request_role(
            ctx.session,
            ctx.principal,
            role_type=input.role_type,
            kind=identity.entity_kind(kind),
            entity_id=entity_id,
        )
        return _role_node(info, role)

    @strawberry.mutation(description="Grant a pending role request.")
    def grant_role(self, info: Info, role_id: strawberry.ID) -> RoleNode:
        ctx = info.context
        return _role_node(
            info, identity.grant_role(ctx.session, ctx.principal, role_id=_role_id(role_id))
        )

    @strawberry.mutation(description="Reject a pending role request.")
    def reject_role(self, info: Info, role_id: strawberry.ID) -> RoleNode:
        ctx = info.context
        return _role_node(
            info, identity.reject_role(ctx.session, ctx.principal, role_id=_role_id(role_id))
        )

    @strawberry.mutation(description="Revoke a granted role (your own, or one you may revoke).")
    def revoke_role(self, info: Info, role_id: strawberry.ID) -> RoleNode:
        ctx = info.context
        return _role_node(
            info, identity.revoke_role(ctx.session, ctx.principal, role_id=_role_id(role_id))
        )
