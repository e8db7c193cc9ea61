"""Validate OIDC bearer tokens (EGI Check-in style issuers).

JWT access tokens are verified locally against the issuer's JWKS with joserfc; when client
credentials are configured every token is also introspected (RFC 7662), which proves it is
still live and supplies the claims Check-in keeps out of the access token (entitlements,
assurance, name, e-mail). Opaque tokens are accepted only through introspection.

Every refusal raises ``Unauthenticated("invalid token")``; the reason goes to the
``opsgraph.auth`` logger at DEBUG and nowhere else.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jws import JWSRegistry

from domains.common.errors import Unauthenticated

log = logging.getLogger("opsgraph.auth")

REFUSAL = "invalid token"
MAX_TOKEN_CHARS = 16_384
INTROSPECTION_CACHE_SIZE = 10_000
DISCOVERY_PATH = "/.well-known/openid-configuration"

# Asymmetric signatures only: "none" and HS* (a shared secret) make no sense for tokens an
# identity provider signs, and HS* with an RSA public key as secret is the classic forgery.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_ACCESS_TOKEN_TYP = "bearer"  # noqa: S105 (a name, not a secret)


@dataclass(frozen=True)
class OIDCSettings:
    """Where tokens come from and how strictly they are checked.

    ``client_id``/``client_secret`` are a confidential client of the issuer, used for
    introspection (client_secret_basic); without them only JWT access tokens are accepted.
    """

    issuer: str
    audience: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: int = 30
    jwks_refetch_cooldown_seconds: float = 30.0
    http_timeout_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not self.issuer:
            raise ValueError("OIDC issuer is required")
        if not self.algorithms:
            raise ValueError("at least one signature algorithm is required")
        for alg in self.algorithms:
            if _key_type(alg) is None:
                raise ValueError(f"signature algorithm {alg!r} is not allowed for access tokens")
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("client_id and client_secret go together")
        if self.leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")

    @property
    def introspects(self) -> bool:
        return self.client_id is not None and self.client_secret is not None


def _key_type(alg: str) -> str | None:
    if alg in ("EdDSA", "Ed25519"):
        return "OKP"
    if alg[:2] in ("RS", "PS", "ES") and alg[2:] in ("256", "384", "512"):
        return _KEY_TYPES[alg[:2]]
    return None


class _Refused(Exception):
    """Why a token was refused: logged at DEBUG, never shown to the caller."""


@dataclass(frozen=True)
class _Introspected:
    claims: dict[str, Any]
    expires_at: float


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class TokenValidator:
    """Turns a bearer token into the issuer's claims about it, or refuses it.

    Keeps three caches: the discovery document (for the process lifetime), the JWKS
    (refetched only for an unknown ``kid``, at most once per cooldown), and introspection
    answers (by SHA-256 of the token, until the token expires, bounded in size).
    """

    def __init__(
        self,
        settings: OIDCSettings,
        *,
        http: httpx2.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._owns_http = http is None
        self._http = (
            http
            if http is not None
            else httpx2.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
        )
        self._clock = clock
        self._registry = JWSRegistry(algorithms=list(settings.algorithms))
        self._discovery: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._next_refetch_at = -math.inf
        self._discovery_lock = asyncio.Lock()
        self._jwks_lock = asyncio.Lock()
        self._introspected: OrderedDict[str, _Introspected] = OrderedDict()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def validate(self, token: str) -> dict[str, Any]:
        """The token's claims (introspection claims merged over the JWT's), or
        `Unauthenticated`."""
        try:
            return await self._validate(token)
        except _Refused as refused:
            log.debug("bearer token refused: %s", refused)
            raise Unauthenticated(REFUSAL) from None

    async def _validate(self, token: str) -> dict[str, Any]:
        if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise _Refused("empty, oversized or non-ASCII token")
        if any(c.isspace() for c in token):
            raise _Refused("whitespace in token")
        header = self._jws_header(token)
        jwt_claims = await self._verify_jwt(token, header) if header is not None else None
        if not self._settings.introspects:
            if jwt_claims is None:
                raise _Refused("opaque token and no introspection client configured")
            return jwt_claims
        introspected = await self._introspect(token, jwt_claims)
        claims = {**(jwt_claims or {}), **introspected}
        if jwt_claims is None:
            self._check_audience(claims)
        self._check_type(claims)
        return claims

    # -- JWT -------------------------------------------------------------------------------

    def _jws_header(self, token: str) -> dict[str, Any] | None:
        """The protected header if the token looks like a JWS compact serialization."""
        if token.count(".") != 2:
            return None
        try:
            header = dict(jws.extract_compact(token.encode("ascii")).headers())
        except (JoseError, ValueError, TypeError):
            return None
        return header if "alg" in header else None

    async def _verify_jwt(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._settings.algorithms:
            raise _Refused(f"algorithm {alg!r} not allowed")
        if "crit" in header or "b64" in header:
            raise _Refused("critical or unencoded-payload header")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _Refused("kid is not a string")
        # The key comes from our JWKS only: header jwk/jku/x5u/x5c are never looked at.
        key = await self._key_for(kid, alg)
        try:
            claims = dict(jwt.decode(token, key, registry=self._registry).claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise _Refused(f"signature: {exc!r}") from exc
        self._check_claims(claims)
        self._check_type(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        settings = self._settings
        options: dict[str, jwt.ClaimsOption] = {
            "iss": {"essential": True, "value": settings.issuer},
            "exp": {"essential": True},
        }
        if settings.audience is not None:
            options["aud"] = {"essential": True, "value": settings.audience}
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()), leeway=settings.leeway_seconds, **options
        )
        try:
            registry.validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise _Refused(f"claims: {exc!r}") from exc

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = self._settings.audience
        if audience is None:
            return
        aud = claims.get("aud")
        if not (aud == audience or (isinstance(aud, list) and audience in aud)):
            raise _Refused("audience missing or wrong")

    def _check_type(self, claims: dict[str, Any]) -> None:
        """Keycloak marks ID and refresh tokens with a payload ``typ`` other than Bearer;
        they are signed by the same keys and must not pass as access tokens."""
        typ = claims.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() != _ACCESS_TOKEN_TYP):
            raise _Refused(f"token typ {typ!r} is not an access token")

    # -- keys ------------------------------------------------------------------------------

    async def _key_for(self, kid: str | None, alg: str) -> Key:
        if self._keys is None:
            async with self._jwks_lock:
                if self._keys is None:
                    self._keys = await self._fetch_jwks()
        key = self._pick(kid, alg)
        if key is not None:
            return key
        if kid is None:
            raise _Refused("no kid and no single key for the algorithm")
        async with self._jwks_lock:
            # a concurrent request may just have refetched
            key = self._pick(kid, alg)
            if key is not None:
                return key
            now = self._clock()
            if now < self._next_refetch_at:
                raise _Refused("unknown kid; JWKS refetch cooling down")
            self._next_refetch_at = now + self._settings.jwks_refetch_cooldown_seconds
            log.info("unknown signing key id, refetching the issuer's JWKS")
            self._keys = await self._fetch_jwks()
        key = self._pick(kid, alg)
        if key is None:
            raise _Refused("unknown kid")
        return key

    def _pick(self, kid: str | None, alg: str) -> Key | None:
        keys = [
            k
            for k in self._keys or ()
            if k.key_type == _key_type(alg)
            and k.get("use") in (None, "sig")
            and k.get("alg") in (None, alg)
        ]
        if kid is not None:
            keys = [k for k in keys if k.kid == kid]
        return keys[0] if len(keys) == 1 else None

    async def _fetch_jwks(self) -> KeySet:
        jwks_uri = (await self._discovery_document()).get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise _Refused("discovery has no jwks_uri")
        document = await self._get_json(jwks_uri)
        try:
            return KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _Refused(f"JWKS unusable: {exc!r}") from exc

    # -- discovery and HTTP ----------------------------------------------------------------

    async def _discovery_document(self) -> dict[str, Any]:
        if self._discovery is None:
            async with self._discovery_lock:
                if self._discovery is None:
                    url = self._settings.issuer.rstrip("/") + DISCOVERY_PATH
                    document = await self._get_json(url)
                    if document.get("issuer") != self._settings.issuer:
                        raise _Refused("discovery issuer differs from the configured issuer")
                    self._discovery = document
        return self._discovery

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(
                url,
                headers={"Accept": "application/json"},
                timeout=self._settings.http_timeout_seconds,
            )
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            raise _Refused(f"GET {url}: {exc!r}") from exc
        return self._json_body(response)

    @staticmethod
    def _json_body(response: httpx2.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise _Refused(f"{response.request.url}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise _Refused(f"{response.request.url}: not JSON") from exc
        if not isinstance(body, dict):
            raise _Refused(f"{response.request.url}: not a JSON object")
        return body

    # -- introspection ---------------------------------------------------------------------

    async def _introspect(self, token: str, jwt_claims: dict[str, Any] | None) -> dict[str, Any]:
        digest = hashlib.sha256(token.encode("ascii")).hexdigest()
        now = self._clock()
        cached = self._introspected.get(digest)
        if cached is not None:
            if now < cached.expires_at:
                return dict(cached.claims)
            del self._introspected[digest]
        claims = await self._ask_issuer(token)
        if claims.get("active") is not True:
            raise _Refused("introspection: token not active")
        del claims["active"]
        if "iss" in claims and claims["iss"] != self._settings.issuer:
            raise _Refused("introspection: iss differs from the configured issuer")
        exp = claims.get("exp", (jwt_claims or {}).get("exp"))
        if exp is not None and not _is_time(exp):
            raise _Refused("introspection: exp is not a NumericDate")
        if exp is not None and exp <= now - self._settings.leeway_seconds:
            raise _Refused("introspection: token expired")
        if exp is not None:  # without a known expiry the answer is not kept
            self._introspected[digest] = _Introspected(dict(claims), float(exp))
            while len(self._introspected) > INTROSPECTION_CACHE_SIZE:
                self._introspected.popitem(last=False)
        return claims

    async def _ask_issuer(self, token: str) -> dict[str, Any]:
        url = (await self._discovery_document()).get("introspection_endpoint")
        if not isinstance(url, str):
            raise _Refused("discovery has no introspection_endpoint")
        # RFC 6749 2.3.1: client_secret_basic form-encodes id and secret before base64
        client_id = quote(self._settings.client_id or "", safe="")
        secret = quote(self._settings.client_secret or "", safe="")
        try:
            response = await self._http.post(
                url,
                data={"token": token, "token_type_hint": "access_token"},
                headers={"Accept": "application/json"},
                auth=httpx2.BasicAuth(client_id, secret),
                timeout=self._settings.http_timeout_seconds,
            )
        except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
            raise _Refused(f"POST {url}: {exc!r}") from exc
        return self._json_body(response)
