"""Forged and broken tokens are refused at the API with UNAUTHENTICATED and no detail;
key rotation at the issuer is followed; no token at all is the anonymous caller."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.auth.issuer import OIDCIssuer
from tests.conftest import AppFactory, Callers, GraphQLClient

VIEWER = "{ viewer { subject } }"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def with_token(callers: Callers, token: str) -> GraphQLClient:
    return GraphQLClient(callers.client.client, headers={"authorization": f"Bearer {token}"})


def refused(client: GraphQLClient) -> None:
    body = client.post(VIEWER)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "invalid token"  # nothing that helps an attacker


def claims(issuer: OIDCIssuer) -> dict[str, object]:
    now = int(time.time())
    return {"iss": issuer.issuer, "sub": "forger@egi.eu", "iat": now, "nbf": now, "exp": now + 600}


def test_alg_none(callers: Callers, oidc_issuer: OIDCIssuer) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims(oidc_issuer))}."
    refused(with_token(callers, token))


def test_hs256_signed_with_the_public_key(callers: Callers, oidc_issuer: OIDCIssuer) -> None:
    # The classic confusion attack, forged by hand (joserfc itself refuses to build it).
    public_pem = oidc_issuer.signing_key.as_pem(private=False)
    header = _b64({"alg": "HS256", "kid": oidc_issuer.signing_kid})
    signing_input = f"{header}.{_b64(claims(oidc_issuer))}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    refused(with_token(callers, token))


@pytest.mark.parametrize(
    "kind", ["expired", "not_yet_valid", "wrong_issuer", "bad_signature", "foreign_key"]
)
def test_broken_tokens(callers: Callers, oidc_issuer: OIDCIssuer, kind: str) -> None:
    from joserfc.jwk import RSAKey

    subject = {"sub": "broken@egi.eu"}
    if kind == "expired":
        token = oidc_issuer.issue_access_token(subject, expires_in=-3600)
    elif kind == "not_yet_valid":
        token = oidc_issuer.issue_access_token(subject, not_before=time.time() + 3600)
    elif kind == "wrong_issuer":
        token = oidc_issuer.issue_access_token({**subject, "iss": "https://aai.example.org/x"})
    elif kind == "bad_signature":
        head, body, sig = oidc_issuer.issue_access_token(subject).split(".")
        token = f"{head}.{body}.{sig[:-4]}AAAA"
    else:
        token = oidc_issuer.issue_access_token(
            subject, signing_key=RSAKey.generate_key(2048, auto_kid=True)
        )
    refused(with_token(callers, token))


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Token abc"])
def test_malformed_authorization_headers(callers: Callers, header: str) -> None:
    client = GraphQLClient(callers.client.client, headers={"authorization": header})
    body = client.post(VIEWER)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_no_token_is_the_anonymous_caller(callers: Callers) -> None:
    assert callers.anonymous.data(VIEWER) == {"viewer": None}


def test_key_rotation(callers: Callers, oidc_issuer: OIDCIssuer) -> None:
    old_kid = oidc_issuer.signing_kid
    old_token = oidc_issuer.issue_access_token({"sub": "rotating@egi.eu"})
    assert with_token(callers, old_token).data(VIEWER)["viewer"]["subject"] == "rotating@egi.eu"
    oidc_issuer.rotate_keys(retire_old=True)
    assert oidc_issuer.signing_kid != old_kid
    new_token = oidc_issuer.issue_access_token({"sub": "rotating@egi.eu"})
    assert with_token(callers, new_token).data(VIEWER)["viewer"]["subject"] == "rotating@egi.eu"
    # a token signed with the retired key is no longer accepted once the JWKS was refetched
    stale = oidc_issuer.issue_access_token({"sub": "rotating@egi.eu"}, kid=old_kid)
    refused(with_token(callers, stale))


def test_a_server_without_an_issuer_refuses_tokens(make_client: AppFactory) -> None:
    client = make_client()
    client.headers["authorization"] = "Bearer whatever"
    body = client.post(VIEWER)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
