"""From an HTTP request to a Principal: Bearer tokens (validated against the issuer), per-user
API tokens (`x-api-key`, as the AMS clients send them), for the browser the session cookie
set by the login flow, and a verified X.509 client certificate (directly, or its DN from a
trusted TLS-terminating proxy: gateway/auth/x509.py). No credentials at all is the
anonymous caller; bad credentials are refused, never downgraded to anonymous."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from domains.common.db import unit_of_work
from domains.common.errors import Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.common.replica import set_caller
from domains.identity import service as identity
from domains.identity.service.tokens import (
    lookup_principal_from_api_token,
    principal_from_api_token,
    recheck_api_token,
)
from gateway.auth.tokens import TokenValidator
from gateway.auth.x509 import client_dn_from_scope, header_dn, peer_is_trusted
from gateway.config import Settings

log = logging.getLogger("opsgraph.auth")

SESSION_TOKEN_KEY = "access_token"  # noqa: S105 (a name, not a secret)


@dataclass(frozen=True, slots=True)
class Credentials:
    claims: Mapping[str, Any] | None = None
    refused: Unauthenticated | None = None
    via_cookie: bool = False
    # checked against the database inside the request's transaction
    api_key: str | None = None
    # the verified client certificate's DN (slash form), with or without the others
    client_dn: str | None = None

    @property
    def caller(self) -> str | None:
        """Who these credentials name, for remembering their writes (domains/common/
        replica.py): never the secret itself; None for none, or refused ones."""
        if self.refused is not None:
            return None
        if self.api_key is not None:
            return "key:" + hashlib.sha256(self.api_key.encode()).hexdigest()
        if self.claims is not None:
            return f"sub:{self.claims.get('iss', '')}|{self.claims.get('sub', '')}"
        return None if self.client_dn is None else f"dn:{self.client_dn}"


def _refuse(message: str) -> Credentials:
    return Credentials(refused=Unauthenticated(message))


class Authenticator:
    def __init__(self, settings: Settings, validator: TokenValidator | None) -> None:
        self.settings = settings
        self.validator = validator

    async def credentials(
        self, connection: HTTPConnection, *, allow_query_key: bool = False
    ) -> Credentials:
        """What the caller presented. `allow_query_key` also takes an API token from
        `?key=` (the AMS routes do; elsewhere a secret in a URL would end up in logs)."""
        try:
            client_dn = self.client_dn(connection)
        except Unauthenticated as refused:
            return Credentials(refused=refused)
        presented = await self._presented(connection, allow_query_key=allow_query_key)
        if client_dn is not None and presented.refused is None:
            presented = dataclasses.replace(presented, client_dn=client_dn)
        set_caller(presented.caller)  # this request's task, and the threads it starts
        return presented

    def client_dn(self, connection: HTTPConnection) -> str | None:
        """The verified client DN: from OPSGRAPH_CLIENT_DN_HEADER when the peer is one of
        OPSGRAPH_TRUSTED_PROXIES (their own certificate is not the caller's), else from
        the connection's client certificate. Unauthenticated for that header from any
        other peer (a forged identity is refused, not ignored) and for a proxy
        certificate whose owner is not known."""
        header = self.settings.client_dn_header
        peer = connection.client.host if connection.client else None
        if header:
            value = connection.headers.get(header)
            trusted = peer_is_trusted(peer, self.settings.trusted_proxies)
            if trusted:
                return None if value is None else header_dn(value)
            if value is not None:
                raise Unauthenticated(
                    f"the {header} header is accepted only from a trusted proxy "
                    "(OPSGRAPH_TRUSTED_PROXIES), not from this peer"
                )
        return client_dn_from_scope(connection.scope)

    async def _presented(self, connection: HTTPConnection, *, allow_query_key: bool) -> Credentials:
        api_key = connection.headers.get("x-api-key")
        if api_key is None and allow_query_key:
            api_key = connection.query_params.get("key")
        if api_key is not None:
            if not api_key.strip():
                return _refuse("empty API token")
            return Credentials(api_key=api_key.strip())
        header = connection.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return Credentials(
                    refused=Unauthenticated("expected: Authorization: Bearer <token>")
                )
            return await self._validate(token.strip(), via_cookie=False)
        session = connection.scope.get("session")
        cookie_token = session.get(SESSION_TOKEN_KEY) if isinstance(session, dict) else None
        if isinstance(cookie_token, str) and cookie_token:
            if not self._same_origin(connection):
                # A cookie travels with cross-site requests; the bearer header never does.
                return Credentials(
                    refused=Unauthenticated("cross-site request with a session cookie")
                )
            return await self._validate(cookie_token, via_cookie=True)
        return Credentials()

    async def credentials_from(
        self, *, authorization: str | None, api_key: str | None, client_dn: str | None = None
    ) -> Credentials:
        """Credentials sent in a message rather than in headers (graphql-transport-ws's
        connection_init payload), under the same rules; `client_dn`: the connection's."""
        presented = await self._sent(authorization=authorization, api_key=api_key)
        if client_dn is not None and presented.refused is None:
            presented = dataclasses.replace(presented, client_dn=client_dn)
        set_caller(presented.caller)
        return presented

    async def _sent(self, *, authorization: str | None, api_key: str | None) -> Credentials:
        if api_key is not None:
            return (
                Credentials(api_key=api_key.strip())
                if api_key.strip()
                else _refuse("empty API token")
            )
        if authorization is None:
            return Credentials()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _refuse("expected: Authorization: Bearer <token>")
        return await self._validate(token.strip(), via_cookie=False)

    async def _validate(self, token: str, *, via_cookie: bool) -> Credentials:
        if self.validator is None:
            return Credentials(
                refused=Unauthenticated("this server accepts no tokens (no OIDC issuer set)")
            )
        try:
            claims = await self.validator.validate(token)
        except Unauthenticated as refused:
            return Credentials(refused=refused)
        return Credentials(claims=claims, via_cookie=via_cookie)

    def _same_origin(self, connection: HTTPConnection) -> bool:
        """Cookie-authenticated requests that can change state must come from our own
        pages: the Origin (or Referer) header must be this server's origin."""
        # A WebSocket handshake is a GET, but browsers open sockets cross-site with the
        # cookie attached: like a POST, it must come from our own origin.
        safe = connection.scope.get("method", "GET") in ("GET", "HEAD", "OPTIONS")
        if connection.scope["type"] == "http" and safe:
            return True
        origin = connection.headers.get("origin") or connection.headers.get("referer")
        if not origin:
            return False
        parts = urlsplit(origin)
        wanted = urlsplit(self.settings.public_url or str(connection.base_url))
        scheme = {"ws": "http", "wss": "https"}.get(wanted.scheme, wanted.scheme)
        return (parts.scheme, parts.netloc) == (scheme, wanted.netloc)

    def principal(self, session: Session, credentials: Credentials) -> Principal:
        """Raises Unauthenticated for refused credentials or an invalid API token. Writes
        what the caller's records are owed (a user created on first sight, a token's last
        use): for a writer's session; a reader's goes through principal_for_reading."""
        principal = self._resolve(session, credentials, write=True)
        if principal is None:  # the writing resolvers always give one
            raise RuntimeError("no principal from a writer's resolution")
        return principal

    def _resolve(
        self, session: Session, credentials: Credentials, *, write: bool
    ) -> Principal | None:
        """The caller; `write` False: without writing, None when the caller's records are
        owed a write."""
        if credentials.refused is not None:
            raise credentials.refused
        principal: Principal | None
        if credentials.api_key is not None:
            by_token = principal_from_api_token if write else lookup_principal_from_api_token
            principal = by_token(session, credentials.api_key)
        elif credentials.claims is not None:
            assert self.settings.oidc_issuer is not None  # no validator without an issuer
            by_claims = (
                identity.principal_from_claims if write else identity.lookup_principal_from_claims
            )
            principal = by_claims(
                session,
                credentials.claims,
                issuer=self.settings.oidc_issuer,
                admin_entitlements=self.settings.admin_entitlements,
            )
        elif credentials.client_dn is not None:
            # a certificate alone: its linked user, or the DN itself (no user row is made)
            return identity.principal_for_client_dn(session, credentials.client_dn)
        else:
            return ANONYMOUS
        if principal is None or credentials.client_dn is None:
            return principal
        # a token and a certificate: the token's user, who also presented the certificate
        return dataclasses.replace(principal, client_dn=credentials.client_dn)

    def recheck(
        self, session: Session | None, credentials: Credentials, principal: Principal
    ) -> None:
        """Whether credentials accepted earlier still hold (a live stream asks on every
        event and every OPSGRAPH_STREAM_RECHECK_SECONDS). Reads only. Unauthenticated once
        the credential ended (an API token revoked or expired, a token past its `exp`),
        Forbidden once it no longer allows what it did. `session` is needed only for API
        tokens (`needs_database`)."""
        if credentials.api_key is not None:
            assert session is not None
            recheck_api_token(
                session,
                credentials.api_key,
                user_id=principal.user_id,
                was_admin=principal.is_admin,
            )
            return
        expires = self.expires_at(credentials)
        if expires is not None and time.time() >= expires:
            raise Unauthenticated("the token has expired")

    @staticmethod
    def needs_database(credentials: Credentials) -> bool:
        return credentials.api_key is not None

    @staticmethod
    def expires_at(credentials: Credentials) -> float | None:
        """The token's `exp` (seconds since the epoch), if it has one. A stream ends there,
        without the clock-skew leeway that accepting a token allows."""
        exp = (credentials.claims or {}).get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            return float(exp)
        return None

    def lookup(self, session: Session, credentials: Credentials) -> Principal | None:
        """`principal` without writing: None when the caller's records are owed a write."""
        return self._resolve(session, credentials, write=False)

    def principal_for_reading(
        self, session: Session, factory: sessionmaker[Session], credentials: Credentials
    ) -> Principal:
        """The caller, for a request whose transaction (`session`'s) only reads. What the
        caller's records are owed is written in a short writer's transaction of its own,
        between two of the reader's: the reader's transaction never writes (on SQLite, a
        read transaction that then writes fails at once if another writer committed since
        it began), and the one it goes on with sees what was written."""
        principal = self.lookup(session, credentials)
        if principal is not None:
            return principal
        session.rollback()
        with unit_of_work(factory, write=True) as writer:
            return self.principal(writer, credentials)

    async def aclose(self) -> None:
        if self.validator is not None:
            await self.validator.aclose()


def build_authenticator(settings: Settings) -> Authenticator:
    validator = None
    if settings.oidc_issuer:
        from gateway.auth.tokens import OIDCSettings

        validator = TokenValidator(
            OIDCSettings(
                issuer=settings.oidc_issuer,
                audience=settings.oidc_audience,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret,
                http_timeout_seconds=settings.oidc_http_timeout,
            )
        )
    return Authenticator(settings, validator)
