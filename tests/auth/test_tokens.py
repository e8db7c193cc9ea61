"""TokenValidator against a real OIDC issuer served over HTTP (tests/auth/issuer.py)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
    AsyncOAuth2Client,
    OAuthError,
)
from joserfc import jwt
from joserfc.jwk import RSAKey

from domains.common.errors import Unauthenticated
from gateway.auth import tokens
from gateway.auth.tokens import OIDCSettings, TokenValidator
from tests.auth.issuer import GATEWAY_CLIENT, SPA_CLIENT, SPA_REDIRECT, OIDCIssuer, default_user
from tests.server import free_port

ENTITLEMENTS = default_user()["eduperson_entitlement"]


class FakeClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


def settings_for(idp: OIDCIssuer, /, *, introspect: bool = False, **overrides: Any) -> OIDCSettings:
    settings = OIDCSettings(issuer=idp.issuer)
    if introspect:
        settings = replace(settings, client_id=GATEWAY_CLIENT[0], client_secret=GATEWAY_CLIENT[1])
    return replace(settings, **overrides)


@asynccontextmanager
async def validating(
    idp: OIDCIssuer,
    clock: FakeClock | None = None,
    /,
    *,
    introspect: bool = False,
    **overrides: Any,
) -> AsyncIterator[TokenValidator]:
    """A validator for `idp`; ``overrides`` replace OIDCSettings fields (even ``issuer``)."""
    validator = TokenValidator(
        settings_for(idp, introspect=introspect, **overrides), clock=clock or FakeClock()
    )
    try:
        yield validator
    finally:
        await validator.aclose()


async def assert_refused(validator: TokenValidator, token: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        await validator.validate(token)
    assert refused.value.message == "invalid token"
    assert str(refused.value) == "invalid token"
    assert refused.value.code == "UNAUTHENTICATED"
    assert refused.value.__cause__ is None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def user_claims() -> dict[str, Any]:
    return default_user()


# -- accepted ------------------------------------------------------------------------------


def test_valid_jwt_is_accepted_with_its_claims(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims())

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            claims = await validator.validate(token)
        assert claims["iss"] == oidc_issuer.issuer
        assert claims["sub"] == claims["voperson_id"] == user_claims()["voperson_id"]
        assert claims["name"] == "Ada Operator"
        assert claims["azp"] == SPA_CLIENT
        # Check-in keeps entitlements out of the access token; no introspection here
        assert "eduperson_entitlement" not in claims

    run(scenario)


def test_es256_token_is_accepted_only_when_allowed(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims(), algorithm="ES256")

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            assert (await validator.validate(token))["sub"] == user_claims()["sub"]
        async with validating(oidc_issuer, algorithms=("RS256",)) as validator:
            await assert_refused(validator, token)

    run(scenario)


def test_unsafe_algorithms_cannot_be_configured() -> None:
    for algs in [("none",), ("HS256",), ("RS256", "HS512"), ()]:
        with pytest.raises(ValueError, match="algorithm"):
            OIDCSettings(issuer="https://aai.egi.eu/auth/realms/egi", algorithms=algs)


# -- refused: forgeries --------------------------------------------------------------------


def test_alg_none_is_refused(oidc_issuer: OIDCIssuer) -> None:
    claims = jwt.decode(
        oidc_issuer.issue_access_token(user_claims()), oidc_issuer.signing_key
    ).claims
    token = forge({"alg": "none", "typ": "JWT", "kid": oidc_issuer.signing_kid}, claims)

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            await assert_refused(validator, token)
            await assert_refused(validator, token.rstrip("."))

    run(scenario)


def test_hs256_signed_with_the_rsa_public_key_is_refused(oidc_issuer: OIDCIssuer) -> None:
    genuine = oidc_issuer.issue_access_token(user_claims())
    claims = jwt.decode(genuine, oidc_issuer.signing_key).claims
    public_pem = oidc_issuer.signing_key.as_pem(private=False)
    header = {"alg": "HS256", "typ": "JWT", "kid": oidc_issuer.signing_kid}
    unsigned = forge(header, claims).rsplit(".", 1)[0]
    signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    token = f"{unsigned}.{b64(signature)}"

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            assert await validator.validate(genuine)
            await assert_refused(validator, token)

    run(scenario)


def test_tampered_payload_is_refused(oidc_issuer: OIDCIssuer) -> None:
    genuine = oidc_issuer.issue_access_token(user_claims())
    header_b64, _, signature_b64 = genuine.split(".")
    claims = jwt.decode(genuine, oidc_issuer.signing_key).claims
    claims["sub"] = "someone-else@egi.eu"
    tampered = f"{header_b64}.{b64(json.dumps(claims).encode())}.{signature_b64}"
    flipped = genuine[:-8] + ("A" if genuine[-8] != "A" else "B") + genuine[-7:]

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            assert await validator.validate(genuine)
            await assert_refused(validator, tampered)
            await assert_refused(validator, flipped)

    run(scenario)


def test_token_signed_by_a_key_not_in_the_jwks_is_refused(oidc_issuer: OIDCIssuer) -> None:
    foreign = RSAKey.generate_key(2048, auto_kid=True)
    # claims a kid the issuer publishes, but the signature is the foreign key's
    known_kid = oidc_issuer.issue_access_token(
        user_claims(), signing_key=foreign, kid=oidc_issuer.signing_kid
    )
    unknown_kid = oidc_issuer.issue_access_token(user_claims(), signing_key=foreign)

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            await assert_refused(validator, known_kid)
            await assert_refused(validator, unknown_kid)

    run(scenario)


def test_refusal_reason_goes_to_the_debug_log_only(
    oidc_issuer: OIDCIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    token = oidc_issuer.issue_access_token({**user_claims(), "iss": "https://evil.example/"})

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            await assert_refused(validator, token)

    with caplog.at_level(logging.DEBUG, logger="opsgraph.auth"):
        run(scenario)
    reasons = [r.getMessage() for r in caplog.records if r.name == "opsgraph.auth"]
    assert any("iss" in reason for reason in reasons), reasons
    assert all(token not in reason for reason in reasons)


def test_garbage_is_refused(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            for token in ["", "a.b.c", "not a token", "x" * 20_000, "é.é.é"]:
                await assert_refused(validator, token)

    run(scenario)


# -- refused: claims -----------------------------------------------------------------------


def test_wrong_issuer_is_refused(oidc_issuer: OIDCIssuer) -> None:
    wrong = [
        oidc_issuer.issue_access_token(
            {**user_claims(), "iss": "https://aai.egi.eu/auth/realms/egi"}
        ),
        oidc_issuer.issue_access_token({**user_claims(), "iss": oidc_issuer.issuer + "/"}),
        oidc_issuer.issue_access_token({**user_claims(), "iss": oidc_issuer.issuer.upper()}),
    ]

    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            for token in wrong:
                await assert_refused(validator, token)

    run(scenario)


def test_configured_issuer_must_match_discovery_exactly(oidc_issuer: OIDCIssuer) -> None:
    configured = oidc_issuer.issuer + "/"
    token = oidc_issuer.issue_access_token({**user_claims(), "iss": configured})

    async def scenario() -> None:
        # same discovery URL, but the document's issuer has no trailing slash: no keys are
        # taken from it, even for a token whose iss equals the configured issuer
        async with validating(oidc_issuer, issuer=configured) as validator:
            await assert_refused(validator, token)

    run(scenario)


def test_audience_is_enforced_when_configured(oidc_issuer: OIDCIssuer) -> None:
    mint = oidc_issuer.issue_access_token
    right = mint(user_claims(), audience="opsgraph")
    among = mint(user_claims(), audience=["account", "opsgraph"])
    wrong = mint(user_claims(), audience="another-service")
    missing = mint(user_claims())

    async def scenario() -> None:
        async with validating(oidc_issuer, audience="opsgraph") as validator:
            assert (await validator.validate(right))["aud"] == "opsgraph"
            assert await validator.validate(among)
            await assert_refused(validator, wrong)
            await assert_refused(validator, missing)
        async with validating(oidc_issuer) as validator:  # no audience configured
            assert await validator.validate(wrong)
            assert await validator.validate(missing)

    run(scenario)


def test_expiry_is_enforced_with_the_leeway(oidc_issuer: OIDCIssuer) -> None:
    clock = FakeClock()
    exp = int(clock.now) + 60
    token = oidc_issuer.issue_access_token(
        {**user_claims(), "exp": exp, "iat": exp - 3600, "nbf": exp - 3600}
    )
    claims = jwt.decode(
        oidc_issuer.issue_access_token(user_claims()), oidc_issuer.signing_key
    ).claims
    del claims["exp"]
    header = {"alg": "RS256", "kid": oidc_issuer.signing_kid}
    without_exp = jwt.encode(header, claims, oidc_issuer.signing_key)

    async def scenario() -> None:
        async with validating(oidc_issuer, clock, leeway_seconds=30) as validator:
            assert await validator.validate(token)
            await assert_refused(validator, without_exp)  # exp is required
            clock.now = exp + 29
            assert await validator.validate(token)
            clock.now = exp + 30
            await assert_refused(validator, token)
            clock.now = exp + 3600
            await assert_refused(validator, token)

    run(scenario)


def test_not_before_in_the_future_is_refused(oidc_issuer: OIDCIssuer) -> None:
    clock = FakeClock()
    later = oidc_issuer.issue_access_token(user_claims(), not_before=clock.now + 120)
    skewed = oidc_issuer.issue_access_token(user_claims(), not_before=clock.now + 10)

    async def scenario() -> None:
        async with validating(oidc_issuer, clock, leeway_seconds=30) as validator:
            await assert_refused(validator, later)
            assert await validator.validate(skewed)  # within the clock-skew leeway
            clock.now += 120
            assert await validator.validate(later)

    run(scenario)


def test_id_token_does_not_pass_as_access_token(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        tokens_ = await login_with_pkce(oidc_issuer)
        async with validating(oidc_issuer) as validator:
            assert await validator.validate(tokens_["access_token"])
            await assert_refused(validator, tokens_["id_token"])

    run(scenario)


# -- keys: rotation and refetch limits -----------------------------------------------------


def test_key_rotation_refetches_the_jwks_exactly_once(oidc_issuer: OIDCIssuer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with validating(oidc_issuer, clock) as validator:
            old_token = oidc_issuer.issue_access_token(user_claims())
            assert await validator.validate(old_token)
            fetched = oidc_issuer.jwks_fetches
            discovered = oidc_issuer.discovery_fetches

            new_kid = oidc_issuer.rotate_keys()
            new_token = oidc_issuer.issue_access_token(user_claims())
            assert jwt.decode(new_token, oidc_issuer.signing_key).header["kid"] == new_kid
            assert await validator.validate(new_token)
            assert oidc_issuer.jwks_fetches == fetched + 1
            # further tokens of either key come from the cache
            assert await validator.validate(oidc_issuer.issue_access_token(user_claims()))
            assert await validator.validate(old_token)
            assert oidc_issuer.jwks_fetches == fetched + 1
            assert oidc_issuer.discovery_fetches == discovered

    run(scenario)


def test_retired_key_is_refused_after_refetch(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            old_token = oidc_issuer.issue_access_token(user_claims())
            assert await validator.validate(old_token)
            oidc_issuer.rotate_keys(retire_old=True)
            assert await validator.validate(oidc_issuer.issue_access_token(user_claims()))
            await assert_refused(validator, old_token)

    run(scenario)


def test_unknown_kids_refetch_at_most_once_per_cooldown(oidc_issuer: OIDCIssuer) -> None:
    clock = FakeClock()

    async def scenario() -> None:
        async with validating(oidc_issuer, clock, jwks_refetch_cooldown_seconds=30) as validator:
            assert await validator.validate(oidc_issuer.issue_access_token(user_claims()))
            fetched = oidc_issuer.jwks_fetches
            burst = [
                oidc_issuer.issue_access_token(user_claims(), kid=f"unknown-{i}") for i in range(25)
            ]
            results = await asyncio.gather(
                *(validator.validate(t) for t in burst), return_exceptions=True
            )
            assert all(isinstance(r, Unauthenticated) for r in results)
            for token in burst[:5]:  # one after the other, too
                await assert_refused(validator, token)
            assert oidc_issuer.jwks_fetches == fetched + 1

            # the price of the limit: a key rotated in during the cooldown waits for its end
            oidc_issuer.rotate_keys()
            rotated = oidc_issuer.issue_access_token(user_claims())
            clock.now += 29
            await assert_refused(validator, rotated)
            assert oidc_issuer.jwks_fetches == fetched + 1
            clock.now += 1
            assert await validator.validate(rotated)
            assert oidc_issuer.jwks_fetches == fetched + 2

    run(scenario)


def test_token_without_kid_needs_a_single_candidate_key(oidc_issuer: OIDCIssuer) -> None:
    def without_kid() -> str:
        claims = jwt.decode(oidc_issuer.issue_access_token(user_claims()), oidc_issuer.signing_key)
        return jwt.encode({"alg": "RS256"}, claims.claims, oidc_issuer.signing_key)

    async def scenario() -> None:
        oidc_issuer.rotate_keys(retire_old=True)  # one RSA key (and one EC key) published
        async with validating(oidc_issuer) as validator:
            assert await validator.validate(without_kid())
        oidc_issuer.rotate_keys()  # two RSA keys: which one is meant is a guess
        async with validating(oidc_issuer) as validator:
            fetched = oidc_issuer.jwks_fetches
            await assert_refused(validator, without_kid())
            assert oidc_issuer.jwks_fetches == fetched + 1  # the first fetch, no refetch

    run(scenario)


def test_known_kid_tokens_never_refetch(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        async with validating(oidc_issuer) as validator:
            assert await validator.validate(oidc_issuer.issue_access_token(user_claims()))
            fetched = oidc_issuer.jwks_fetches
            expired = oidc_issuer.issue_access_token(user_claims(), expires_in=-3600)
            for _ in range(5):
                await assert_refused(validator, expired)
                assert await validator.validate(oidc_issuer.issue_access_token(user_claims()))
            assert oidc_issuer.jwks_fetches == fetched

    run(scenario)


# -- introspection -------------------------------------------------------------------------


def test_opaque_token_is_accepted_through_introspection(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_opaque_token(user_claims())

    async def scenario() -> None:
        async with validating(oidc_issuer, introspect=True) as validator:
            claims = await validator.validate(token)
        assert claims["sub"] == user_claims()["sub"]
        assert claims["eduperson_entitlement"] == ENTITLEMENTS
        assert claims["client_id"] == SPA_CLIENT
        assert "active" not in claims

    run(scenario)


def test_opaque_token_is_refused_without_client_credentials(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_opaque_token(user_claims())

    async def scenario() -> None:
        before = oidc_issuer.introspections
        async with validating(oidc_issuer) as validator:
            await assert_refused(validator, token)
        assert oidc_issuer.introspections == before

    run(scenario)


def test_jwt_claims_are_merged_with_introspection_and_cached(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims())

    async def scenario() -> None:
        before = oidc_issuer.introspections
        async with validating(oidc_issuer, introspect=True) as validator:
            first = await validator.validate(token)
            for _ in range(3):
                assert await validator.validate(token) == first
        assert oidc_issuer.introspections == before + 1
        assert first["eduperson_entitlement"] == ENTITLEMENTS
        assert first["eduperson_assurance"] == user_claims()["eduperson_assurance"]
        assert first["jti"]  # from the JWT

    run(scenario)


def test_introspection_cache_ends_at_expiry(oidc_issuer: OIDCIssuer) -> None:
    clock = FakeClock()
    token = oidc_issuer.issue_opaque_token(user_claims(), expires_in=600)

    async def scenario() -> None:
        before = oidc_issuer.introspections
        async with validating(oidc_issuer, clock, introspect=True) as validator:
            assert await validator.validate(token)
            clock.now += 599
            assert await validator.validate(token)
            assert oidc_issuer.introspections == before + 1
            clock.now += 61  # past exp: asked again, and the answer is expired by our clock
            await assert_refused(validator, token)
            assert oidc_issuer.introspections == before + 2

    run(scenario)


def test_introspection_cache_is_bounded(
    oidc_issuer: OIDCIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "INTROSPECTION_CACHE_SIZE", 2)
    opaque = [oidc_issuer.issue_opaque_token(user_claims()) for _ in range(3)]

    async def scenario() -> None:
        before = oidc_issuer.introspections
        async with validating(oidc_issuer, introspect=True) as validator:
            for token in opaque:
                await validator.validate(token)
            await validator.validate(opaque[2])  # newest: still cached
            assert oidc_issuer.introspections == before + 3
            await validator.validate(opaque[0])  # oldest: evicted
            assert oidc_issuer.introspections == before + 4

    run(scenario)


def test_inactive_tokens_are_refused(oidc_issuer: OIDCIssuer) -> None:
    revoked_jwt = oidc_issuer.issue_access_token(user_claims())
    oidc_issuer.revoke(revoked_jwt)
    revoked_opaque = oidc_issuer.issue_opaque_token(user_claims())
    oidc_issuer.revoke(revoked_opaque)

    async def scenario() -> None:
        async with validating(oidc_issuer, introspect=True) as validator:
            await assert_refused(validator, revoked_jwt)  # signature fine, but not live
            await assert_refused(validator, revoked_opaque)
            await assert_refused(validator, "never-issued-" + generate_token(30))
        async with validating(oidc_issuer) as validator:  # without introspection it passes
            assert await validator.validate(revoked_jwt)

    run(scenario)


def test_introspection_with_wrong_client_secret_refuses(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_opaque_token(user_claims())

    async def scenario() -> None:
        async with validating(
            oidc_issuer, client_id=GATEWAY_CLIENT[0], client_secret="wrong"
        ) as validator:
            await assert_refused(validator, token)

    run(scenario)


def test_opaque_token_audience_is_checked_when_configured(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_opaque_token(user_claims())

    async def scenario() -> None:
        async with validating(oidc_issuer, introspect=True, audience="opsgraph") as validator:
            await assert_refused(validator, token)  # introspection tells no aud

    run(scenario)


# -- the issuer is unreachable or wrong ----------------------------------------------------


def test_unreachable_issuer_refuses(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims())
    opaque = oidc_issuer.issue_opaque_token(user_claims())
    nowhere = f"http://127.0.0.1:{free_port()}/auth/realms/egi"

    async def scenario() -> None:
        async with validating(oidc_issuer, issuer=nowhere, http_timeout_seconds=2) as validator:
            await assert_refused(validator, token)
        async with validating(oidc_issuer, issuer=nowhere, introspect=True) as validator:
            await assert_refused(validator, opaque)
        async with validating(oidc_issuer, issuer=oidc_issuer.issuer + "/nope") as validator:
            await assert_refused(validator, token)  # discovery answers 404

    run(scenario)


def test_injected_http_client_is_used_and_left_open(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims())
    calls: list[str] = []

    async def record(request: httpx2.Request) -> None:
        calls.append(request.url.path)

    async def scenario() -> None:
        async with httpx2.AsyncClient(event_hooks={"request": [record]}) as http:
            validator = TokenValidator(settings_for(oidc_issuer), http=http)
            assert await validator.validate(token)
            await validator.aclose()
            assert not http.is_closed
        assert calls == [
            "/auth/realms/egi/.well-known/openid-configuration",
            "/auth/realms/egi/protocol/openid-connect/certs",
        ]

    run(scenario)


# -- the issuer's own flows, with authlib's OAuth client -----------------------------------


async def login_with_pkce(
    issuer: OIDCIssuer, *, verifier_override: str | None = None
) -> dict[str, Any]:
    """What the SPA does: authorize (auto-approved), then code + PKCE verifier for tokens."""
    verifier = generate_token(48)
    async with AsyncOAuth2Client(
        client_id=SPA_CLIENT,
        redirect_uri=SPA_REDIRECT,
        scope="openid profile email eduperson_entitlement",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    ) as client:
        url, state = client.create_authorization_url(
            issuer.endpoint("auth"), code_verifier=verifier, nonce="n-0S6"
        )
        async with httpx2.AsyncClient() as browser:
            response = await browser.get(url, follow_redirects=False)
        assert response.status_code == 302
        location = response.headers["location"]
        assert location.startswith(SPA_REDIRECT + "?")
        assert parse_qs(urlsplit(location).query)["state"] == [state]
        token: dict[str, Any] = await client.fetch_token(
            issuer.endpoint("token"),
            authorization_response=location,
            state=state,
            code_verifier=verifier_override or verifier,
        )
    return token


def test_browser_login_with_pkce_yields_valid_tokens(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        token = await login_with_pkce(oidc_issuer)
        id_claims = jwt.decode(token["id_token"], oidc_issuer.signing_key).claims
        assert id_claims["aud"] == SPA_CLIENT
        assert id_claims["nonce"] == "n-0S6"
        async with validating(oidc_issuer, introspect=True) as validator:
            claims = await validator.validate(token["access_token"])
        assert claims["voperson_id"] == oidc_issuer.current_user["voperson_id"]
        assert claims["eduperson_entitlement"] == ENTITLEMENTS

    run(scenario)


def test_code_exchange_with_wrong_verifier_fails(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        with pytest.raises(OAuthError, match="invalid_grant"):
            await login_with_pkce(oidc_issuer, verifier_override=generate_token(48))

    run(scenario)


def test_authorize_refuses_unregistered_redirect_uri(oidc_issuer: OIDCIssuer) -> None:
    async def scenario() -> None:
        async with httpx2.AsyncClient() as browser:
            for client_id, redirect in [
                (SPA_CLIENT, "https://evil.example/callback"),
                ("unknown-client", SPA_REDIRECT),
            ]:
                response = await browser.get(
                    oidc_issuer.endpoint("auth"),
                    params={
                        "response_type": "code",
                        "client_id": client_id,
                        "redirect_uri": redirect,
                        "code_challenge": "x" * 43,
                        "code_challenge_method": "S256",
                    },
                )
                assert response.status_code == 400
                assert "location" not in response.headers

    run(scenario)


def test_service_account_token_via_client_credentials(oidc_issuer: OIDCIssuer) -> None:
    robot = oidc_issuer.register_client(
        "ops-robot",
        secret="robot-secret",
        claims={"entitlements": ["urn:mace:egi.eu:group:ops:role=member#aai.egi.eu"]},
    )

    async def scenario() -> None:
        async with AsyncOAuth2Client(robot.client_id, robot.secret) as client:
            token = await client.fetch_token(
                oidc_issuer.endpoint("token"), grant_type="client_credentials"
            )
        async with validating(oidc_issuer, introspect=True) as validator:
            claims = await validator.validate(token["access_token"])
        assert claims["client_id"] == "ops-robot"
        assert claims["sub"].endswith("@egi.eu")
        assert claims["entitlements"] == ["urn:mace:egi.eu:group:ops:role=member#aai.egi.eu"]

        async with AsyncOAuth2Client(robot.client_id, "not-the-secret") as client:
            with pytest.raises(OAuthError, match="invalid_client"):
                await client.fetch_token(
                    oidc_issuer.endpoint("token"), grant_type="client_credentials"
                )

    run(scenario)


def test_userinfo_tells_the_entitlements(oidc_issuer: OIDCIssuer) -> None:
    token = oidc_issuer.issue_access_token(user_claims())

    async def scenario() -> None:
        async with httpx2.AsyncClient() as http:
            ok = await http.get(
                oidc_issuer.endpoint("userinfo"), headers={"Authorization": f"Bearer {token}"}
            )
            refused = await http.get(
                oidc_issuer.endpoint("userinfo"), headers={"Authorization": "Bearer nope"}
            )
        assert ok.json()["eduperson_entitlement"] == ENTITLEMENTS
        assert refused.status_code == 401

    run(scenario)
