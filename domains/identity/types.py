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
from domains.identity.models import ApiToken, User
from domains.identity.service import own_user, tokens


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
    client_dn: str | None = strawberry.field(
        description="The verified X.509 client certificate's subject DN (OpenSSL slash "
        "form) that came with the request, directly or through a trusted proxy; null "
        "without one. A DN linked to no user is the viewer's subject too, with no user."
    )
    user_id: strawberry.Private[int | None]

    viewer_can_create_api_token = viewer_can("createApiToken", thing="yourself")

    # The caller's own profile, as GOCDB keeps a person (set by the GOCDB import): read
    # from the user row on demand (one statement for all of them, the session keeps it).
    @strawberry.field(description="Your forename (GOCDB's FORENAME).")
    def forename(self, info: Info) -> str | None:
        return _profile(info, "forename")

    @strawberry.field(description="Your surname (GOCDB's SURNAME).")
    def surname(self, info: Info) -> str | None:
        return _profile(info, "surname")

    @strawberry.field(description="Your title, e.g. Dr (GOCDB's TITLE).")
    def title(self, info: Info) -> str | None:
        return _profile(info, "title")

    @strawberry.field(description="Your telephone number (GOCDB's TEL).")
    def telephone(self, info: Info) -> str | None:
        return _profile(info, "telephone")

    @strawberry.field(description="When your working hours start (GOCDB's WORKING_HOURS_START).")
    def working_hours_start(self, info: Info) -> str | None:
        return _profile(info, "working_hours_start")

    @strawberry.field(description="When your working hours end (GOCDB's WORKING_HOURS_END).")
    def working_hours_end(self, info: Info) -> str | None:
        return _profile(info, "working_hours_end")

    @strawberry.field(description="The caller's API tokens, revoked ones included.")
    def api_tokens(self, info: Info) -> list[ApiTokenNode]:
        ctx = info.context
        rows = tokens.list_api_tokens(ctx.session, ctx.principal)
        return [ApiTokenNode.from_row(t) for t in rows]


def _own_row(info: Info) -> User | None:
    ctx = info.context
    return own_user(ctx.session, ctx.principal)


def _profile(info: Info, field: str) -> str | None:
    user = _own_row(info)
    value = None if user is None else getattr(user, field)
    assert value is None or isinstance(value, str)
    return value


def viewer_home_site_id(info: Info) -> int | None:
    """The caller's home site (topology's site id), for the field topology adds."""
    user = _own_row(info)
    return None if user is None else user.home_site_id


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
