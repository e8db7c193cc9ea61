"""GraphQL of identity and access: the viewer, roles and their requests, API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.errors import Invalid
from domains.common.graphql import (
    Info,
    Node,
    from_global_id,
    id_of_type,
    node_type,
    to_global_id,
)
from domains.identity import service as identity
from domains.identity import tokens
from domains.identity.models import ApiToken
from domains.identity.service import RoleView

_ENTITY_TYPES = {
    "Project": "project",
    "NGI": "ngi",
    "Site": "site",
    "ServiceGroup": "service_group",
}
_TYPE_NAMES = {v: k for k, v in _ENTITY_TYPES.items()}


def owned_entity(global_id: str, *, argument: str) -> tuple[str, int]:
    """A global id of something roles are held over (project, NGI, site, service group)."""
    type_name, pk = from_global_id(global_id, argument=argument)
    if type_name not in _ENTITY_TYPES:
        raise Invalid(argument, "the id of a Project, NGI, Site or ServiceGroup")
    return _ENTITY_TYPES[type_name], pk


def _role_id(global_id: str) -> int:
    return id_of_type(global_id, "Role", argument="roleId")


@strawberry.type(name="Role", description="A role over a project, NGI, site or service group.")
class RoleNode(Node):
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_type: str = strawberry.field(description="project, ngi, site or service_group.")
    entity_name: str
    status: str = strawberry.field(description="PENDING, GRANTED, REJECTED or REVOKED.")
    user_subject: str | None = strawberry.field(description="Whose role this is.")
    raw_entity_id: strawberry.Private[int]

    @strawberry.field(description="Global id of the entity the role is over.")
    def entity_id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id(_TYPE_NAMES[self.entity_type], self.raw_entity_id))

    @classmethod
    def from_view(cls, view: RoleView) -> RoleNode:
        return cls(
            db_id=view.id,
            role_type=view.role_type,
            entity_type=view.entity_type,
            entity_name=view.entity_name,
            status=view.status,
            user_subject=view.user_subject,
            raw_entity_id=view.entity_id,
        )


@strawberry.type(description="A VO the caller belongs to, from the token's entitlements.")
class VoMembershipType:
    name: str
    roles: list[str]


@strawberry.type(description="The authenticated caller.")
class Viewer:
    subject: str
    name: str | None
    email: str | None
    is_admin: bool
    assurance: list[str]
    vos: list[VoMembershipType]
    user_id: strawberry.Private[int | None]

    @strawberry.field(description="The caller's roles, of every status.")
    def roles(self, info: Info) -> list[RoleNode]:
        if self.user_id is None:
            return []
        ctx = info.context
        views = identity.roles_of_user(ctx.session, ctx.principal, user_id=self.user_id)
        return [RoleNode.from_view(v) for v in views]

    @strawberry.field(description="The caller's API tokens, revoked ones included.")
    def api_tokens(self, info: Info) -> list[ApiTokenNode]:
        ctx = info.context
        rows = tokens.list_api_tokens(ctx.session, ctx.principal)
        return [ApiTokenNode.from_row(t) for t in rows]


@strawberry.type(
    name="ApiToken",
    description="A personal token for clients that cannot use OIDC (x-api-key); the secret "
    "is shown only when it is created.",
)
class ApiTokenNode(Node):
    name: str
    prefix: str = strawberry.field(description="The secret's first characters.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, token: ApiToken) -> ApiTokenNode:
        assert token.id is not None
        return cls(
            db_id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type(description="A new API token and its secret, which is never shown again.")
class CreatedApiToken:
    token: ApiTokenNode
    secret: str


def _role_node(info: Info, role: Any) -> RoleNode:
    return RoleNode.from_view(identity.view_of(info.context.session, role))


@node_type("Role")
def _resolve_role(info: Info, pk: int) -> RoleNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for view in identity.visible_roles(ctx.session, ctx.principal, role_ids=[pk]):
        return RoleNode.from_view(view)
    return None


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The authenticated caller; null for anonymous callers.")
    def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        if principal.is_anonymous or principal.subject is None:
            return None
        return Viewer(
            subject=principal.subject,
            name=principal.name,
            email=principal.email,
            is_admin=principal.is_superuser,
            assurance=list(principal.assurance),
            vos=[VoMembershipType(name=vo.name, roles=sorted(vo.roles)) for vo in principal.vos],
            user_id=principal.user_id,
        )

    @strawberry.field(description="Role requests the caller may grant or reject.")
    def pending_roles(self, info: Info) -> list[RoleNode]:
        ctx = info.context
        return [RoleNode.from_view(v) for v in identity.pending_roles(ctx.session, ctx.principal)]


@strawberry.input
class RequestRoleInput:
    role_type: str = strawberry.field(description="e.g. Site Administrator.")
    entity_id: strawberry.ID = strawberry.field(
        description="Global id of a Project, NGI, Site or ServiceGroup."
    )


@node_type("ApiToken")
def _resolve_api_token(info: Info, pk: int) -> ApiTokenNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for token in tokens.list_api_tokens(ctx.session, ctx.principal):
        if token.id == pk:
            return ApiTokenNode.from_row(token)
    return None


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for, e.g. 'nagios publisher'.")
    expires_at: datetime | None = strawberry.field(default=None, description="Never if null.")
    user_subject: str | None = strawberry.field(
        default=None, description="Administrators only: create the token for this user."
    )


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
