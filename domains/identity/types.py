"""GraphQL types of identity and access: the viewer, roles, API tokens."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.errors import Invalid
from domains.common.graphql import (
    Info,
    Node,
    from_global_id,
    node_type,
    to_global_id,
)
from domains.identity import service as identity
from domains.identity.models import ApiToken
from domains.identity.service import RoleView, tokens

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


@node_type("Role")
def _resolve_role(info: Info, pk: int) -> RoleNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for view in identity.visible_roles(ctx.session, ctx.principal, role_ids=[pk]):
        return RoleNode.from_view(view)
    return None


@node_type("ApiToken")
def _resolve_api_token(info: Info, pk: int) -> ApiTokenNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for token in tokens.list_api_tokens(ctx.session, ctx.principal):
        if token.id == pk:
            return ApiTokenNode.from_row(token)
    return None
