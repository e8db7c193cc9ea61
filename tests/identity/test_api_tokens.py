"""Personal API tokens: created and revoked through GraphQL, accepted as `x-api-key`,
refused once revoked or expired, never stored in clear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import PLATFORM, Principal
from domains.common.time import utcnow
from domains.identity.models import ApiToken
from domains.identity.rules import IdentityRule
from domains.identity.service import tokens
from tests.conftest import Callers, GraphQLClient
from tests.identity.helpers import snapshot

CREATE = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret apiToken { id name prefix revokedAt expiresAt } }
}"""
REVOKE = (
    "mutation($id: ID!) { revokeApiToken(input: {tokenId: $id}) { apiToken { id revokedAt } } }"
)
MINE = "{ viewer { subject apiTokens { id name prefix revokedAt lastUsedAt } } }"


def with_key(callers: Callers, secret: str) -> GraphQLClient:
    return GraphQLClient(callers.client.client, headers={"x-api-key": secret})


def test_a_user_creates_a_token_that_acts_as_them(callers: Callers, session: Session) -> None:
    alice = callers.as_user("alice@egi.eu")
    created = alice.data(CREATE, {"input": {"name": "nagios publisher"}})["createApiToken"]
    secret = created["secret"]
    assert len(secret) == 40
    assert created["apiToken"]["prefix"] == secret[:8]
    # only the hash is stored
    stored = [t.token_hash for t in session.execute(select(ApiToken)).scalars()]
    assert secret not in stored
    assert tokens.hash_token(secret) in stored

    viewer = with_key(callers, secret).data(MINE)["viewer"]
    assert viewer["subject"] == "alice@egi.eu"
    assert [t["name"] for t in viewer["apiTokens"]] == ["nagios publisher"]
    assert viewer["apiTokens"][0]["lastUsedAt"] is not None


def test_revoked_token_is_refused_at_once(callers: Callers) -> None:
    alice = callers.as_user("alice@egi.eu")
    created = alice.data(CREATE, {"input": {"name": "cron"}})["createApiToken"]
    revoked = alice.data(REVOKE, {"id": created["apiToken"]["id"]})["revokeApiToken"]["apiToken"]
    assert revoked["revokedAt"] is not None
    error = with_key(callers, created["secret"]).error(MINE)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "invalid API token"


def test_unknown_and_empty_keys_are_refused_not_anonymous(callers: Callers) -> None:
    for key in ("0" * 40, " "):
        body = with_key(callers, key).post(MINE)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_someone_elses_token_cannot_be_revoked(callers: Callers, session: Session) -> None:
    alice = callers.as_user("alice@egi.eu")
    created = alice.data(CREATE, {"input": {"name": "mine"}})["createApiToken"]
    before = snapshot(session)
    error = callers.as_user("bob@egi.eu").error(REVOKE, {"id": created["apiToken"]["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    after = snapshot(session)
    after.pop("user_account")  # bob was seen for the first time
    before.pop("user_account")
    assert before == after
    assert with_key(callers, created["secret"]).data(MINE)["viewer"]["subject"] == "alice@egi.eu"


def test_anonymous_cannot_create_tokens(callers: Callers, session: Session) -> None:
    before = snapshot(session)
    error = callers.anonymous.error(CREATE, {"input": {"name": "x"}})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert snapshot(session) == before


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), ("x" * 101, "name")],
)
def test_bad_names_are_refused(callers: Callers, session: Session, name: str, field: str) -> None:
    alice = callers.as_user("alice@egi.eu")
    alice.data(MINE)  # alice exists before the snapshot
    before = snapshot(session)
    error = alice.error(CREATE, {"input": {"name": name}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert snapshot(session) == before


def test_only_admins_create_tokens_for_others(callers: Callers) -> None:
    error = callers.as_user("alice@egi.eu").error(
        CREATE, {"input": {"name": "x", "userSubject": "bob@egi.eu"}}
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    admin = callers.as_user(
        "root@egi.eu", entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)
    )
    created = admin.data(CREATE, {"input": {"name": "for bob", "userSubject": "bob@egi.eu"}})
    secret = created["createApiToken"]["secret"]
    assert with_key(callers, secret).data(MINE)["viewer"]["subject"] == "bob@egi.eu"


def test_expiry(session: Session) -> None:
    now = utcnow()
    token, secret = tokens.create_api_token(
        session, PLATFORM, name="short", user_subject="carol@egi.eu", expires_at=now + timedelta(1)
    )
    assert tokens.user_for_api_token(session, secret, now=now).subject == "carol@egi.eu"
    with pytest.raises(Unauthenticated):
        tokens.user_for_api_token(session, secret, now=now + timedelta(days=1, seconds=1))
    with pytest.raises(Invalid) as bad:
        tokens.create_api_token(
            session, PLATFORM, name="past", user_subject="carol@egi.eu", expires_at=now
        )
    assert bad.value.field == "expiresAt"
    with pytest.raises(Invalid) as naive:
        tokens.create_api_token(
            session,
            PLATFORM,
            name="naive",
            user_subject="carol@egi.eu",
            expires_at=(now + timedelta(days=1)).replace(tzinfo=None),
        )
    assert naive.value.rule is IdentityRule.TOKEN_EXPIRY_WITHOUT_OFFSET
    assert token.expires_at is not None


def test_service_rules(session: Session) -> None:
    token, _ = tokens.create_api_token(session, PLATFORM, name="a", user_subject="dave@egi.eu")
    stranger = Principal(subject="eve@egi.eu", user_id=None)
    with pytest.raises(Forbidden):
        tokens.create_api_token(session, stranger, name="b", user_subject="dave@egi.eu")
    with pytest.raises(NotFound):
        tokens.revoke_api_token(session, stranger, token_id=token.id or 0)
    with pytest.raises(Unauthenticated):
        tokens.list_api_tokens(session, Principal())
