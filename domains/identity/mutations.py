"""Identity's mutations: API tokens and role requests."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.authz import Caller, requires
from domains.common.graphql import (
    Info,
    id_of_type,
)
from domains.identity.service import tokens
from domains.identity.types import ApiTokenNode


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for, e.g. 'nagios publisher'.")
    expires_at: datetime | None = strawberry.field(default=None, description="Never if null.")
    user_subject: str | None = strawberry.field(
        default=None, description="Administrators only: create the token for this user."
    )


@strawberry.type(description="A new API token and its secret, which is never shown again.")
class CreateApiTokenPayload:
    api_token: ApiTokenNode
    secret: str


@strawberry.input
class RevokeApiTokenInput:
    token_id: strawberry.ID


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiTokenNode


def _token_id(global_id: str) -> int:
    return id_of_type(global_id, "ApiToken", argument="input.tokenId")


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Create an API token acting as you (or, for admins, a user).")
    @requires(Caller.REGISTERED_USER)
    def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreateApiTokenPayload:
        ctx = info.context
        token, secret = tokens.create_api_token(
            ctx.session,
            ctx.principal,
            name=input.name,
            expires_at=input.expires_at,
            user_subject=input.user_subject,
        )
        return CreateApiTokenPayload(api_token=ApiTokenNode.from_row(token), secret=secret)

    @strawberry.mutation(description="Revoke one of your API tokens; it stops working at once.")
    @requires(Caller.SIGNED_IN)
    def revoke_api_token(self, info: Info, input: RevokeApiTokenInput) -> RevokeApiTokenPayload:
        ctx = info.context
        token_id = _token_id(input.token_id)
        token = tokens.revoke_api_token(ctx.session, ctx.principal, token_id=token_id)
        return RevokeApiTokenPayload(api_token=ApiTokenNode.from_row(token))
