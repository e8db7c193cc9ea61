"""GraphQL types of identity and access: the viewer, roles, API tokens."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.graphql import (
    Info,
    Node,
    node_type,
    viewer_can,
)
from domains.identity.models import ApiToken
from domains.identity.service import tokens


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

    viewer_can_create_api_token = viewer_can("createApiToken", thing="yourself")

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

    viewer_can_revoke = viewer_can("revokeApiToken", on=lambda t, _i: t.db_id, thing="this token")

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


@node_type("ApiToken")
def _resolve_api_token(info: Info, pk: int) -> ApiTokenNode | None:
    ctx = info.context
    if ctx.principal.is_anonymous:
        return None
    for token in tokens.list_api_tokens(ctx.session, ctx.principal):
        if token.id == pk:
            return ApiTokenNode.from_row(token)
    return None
