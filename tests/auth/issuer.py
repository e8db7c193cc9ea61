"""A real OIDC issuer for the tests, shaped like EGI Check-in (Keycloak paths).

Served by uvicorn on 127.0.0.1 in a background thread. Tokens are RS256 (or ES256) JWTs
signed with joserfc; like Check-in, access tokens leave the entitlements out: they come from
introspection and userinfo only.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

REALM = "/auth/realms/egi"
OIDC = "/protocol/openid-connect"
# Check-in keeps these out of the access token (userinfo and introspection only).
NOT_IN_ACCESS_TOKEN = frozenset({"eduperson_entitlement", "entitlements"})

GATEWAY_CLIENT = ("opsgraph-gateway", "gateway-secret")
SPA_CLIENT = "opsgraph-spa"
SPA_REDIRECT = "http://127.0.0.1/spa/callback"


def default_user() -> dict[str, Any]:
    return {
        "sub": "3f6d8d4c1a7e4b0a9c2e5f7a8b9c0d1e@egi.eu",
        "voperson_id": "3f6d8d4c1a7e4b0a9c2e5f7a8b9c0d1e@egi.eu",
        "name": "Ada Operator",
        "email": "ada.operator@example.org",
        "eduperson_assurance": ["https://refeds.org/assurance/IAP/medium"],
        "eduperson_entitlement": [
            "urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu",
            "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu",
        ],
    }


@dataclass
class Client:
    client_id: str
    secret: str | None = None  # None: a public client (PKCE only)
    redirect_uris: tuple[str, ...] = ()
    claims: dict[str, Any] = field(default_factory=dict)  # for client_credentials tokens


@dataclass
class _Grant:
    token_claims: dict[str, Any]
    user: dict[str, Any]
    expires_at: float
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    nonce: str | None
    user: dict[str, Any]
    expires_at: float


class OIDCIssuer:
    def __init__(self) -> None:
        self._keys: dict[str, RSAKey] = {}
        self._published: list[str] = []
        self._signing_kid = ""
        self.rotate_keys()
        self._ec_key = ECKey.generate_key("P-256", auto_kid=True)
        self.current_user: dict[str, Any] = default_user()
        self.clients: dict[str, Client] = {}
        self.register_client(GATEWAY_CLIENT[0], secret=GATEWAY_CLIENT[1])
        self.register_client(SPA_CLIENT, redirect_uris=(SPA_REDIRECT,))
        self.discovery_fetches = 0
        self.jwks_fetches = 0
        self.introspections = 0
        self._grants: dict[str, _Grant] = {}
        self._codes: dict[str, _Code] = {}
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.app = Starlette(
            routes=[
                Route(REALM + "/.well-known/openid-configuration", self._discovery),
                Route(REALM + OIDC + "/certs", self._jwks),
                Route(REALM + OIDC + "/auth", self._authorize),
                Route(REALM + OIDC + "/token", self._token, methods=["POST"]),
                Route(REALM + OIDC + "/token/introspect", self._introspect, methods=["POST"]),
                Route(REALM + OIDC + "/userinfo", self._userinfo, methods=["GET", "POST"]),
            ]
        )

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}{REALM}"

    def endpoint(self, name: str) -> str:
        """``auth``, ``token``, ``token/introspect``, ``userinfo`` or ``certs``."""
        return f"{self.issuer}{OIDC}/{name}"

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", ws="none", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test OIDC issuer did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()

    # -- keys and clients ------------------------------------------------------------------

    def rotate_keys(self, *, retire_old: bool = False) -> str:
        """A new RSA key with a new kid signs from now on; returns its kid."""
        key = RSAKey.generate_key(2048, auto_kid=True)
        assert key.kid is not None
        if retire_old:
            self._published.clear()
        self._keys[key.kid] = key
        self._published.append(key.kid)
        self._signing_kid = key.kid
        return key.kid

    @property
    def signing_kid(self) -> str:
        return self._signing_kid

    @property
    def signing_key(self) -> RSAKey:
        return self._keys[self._signing_kid]

    def jwks(self) -> dict[str, Any]:
        keys = [
            self._keys[kid].as_dict(private=False, use="sig", alg="RS256")
            for kid in self._published
        ]
        keys.append(self._ec_key.as_dict(private=False, use="sig", alg="ES256"))
        return {"keys": keys}

    def register_client(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        redirect_uris: tuple[str, ...] = (),
        claims: dict[str, Any] | None = None,
    ) -> Client:
        client = Client(client_id, secret, redirect_uris, dict(claims or {}))
        self.clients[client_id] = client
        return client

    # -- minting ---------------------------------------------------------------------------

    def issue_access_token(
        self,
        claims: dict[str, Any],
        *,
        expires_in: int = 3600,
        not_before: float | None = None,
        audience: str | list[str] | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        signing_key: Key | None = None,
        client_id: str = SPA_CLIENT,
        scope: str = "openid profile email eduperson_entitlement voperson_id",
    ) -> str:
        """A signed JWT access token. ``claims`` override the defaults (so a test can set a
        wrong ``iss``); entitlements stay out of the JWT and are told by introspection.
        ``kid`` names a (possibly retired) issuer key to sign with, or else only sets the
        header. ``signing_key`` signs with a foreign key."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": claims.get("sub", self.current_user["sub"]),
            "iat": now,
            "nbf": int(not_before) if not_before is not None else now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
            "typ": "Bearer",
            "azp": client_id,
            "scope": scope,
        }
        if audience is not None:
            payload["aud"] = audience
        payload.update({k: v for k, v in claims.items() if k not in NOT_IN_ACCESS_TOKEN})
        key: Key
        if signing_key is not None:
            key = signing_key
        elif algorithm == "ES256":
            key = self._ec_key
        else:
            key = self._keys.get(kid or self._signing_kid, self.signing_key)
        header = {"alg": algorithm, "kid": kid or key.kid}
        token = jwt.encode(header, payload, key, algorithms=[algorithm])
        self._grants[token] = _Grant(payload, dict(claims), float(payload["exp"]))
        return token

    def issue_opaque_token(
        self, claims: dict[str, Any], *, expires_in: int = 3600, client_id: str = SPA_CLIENT
    ) -> str:
        """A random token that only introspection and userinfo can explain."""
        now = int(time.time())
        token = secrets.token_urlsafe(32)
        token_claims = {
            "iss": self.issuer,
            "sub": claims.get("sub", self.current_user["sub"]),
            "iat": now,
            "exp": now + expires_in,
            "client_id": client_id,
            "scope": "openid profile email eduperson_entitlement",
            "token_type": "Bearer",
        }
        self._grants[token] = _Grant(token_claims, dict(claims), float(now + expires_in))
        return token

    def revoke(self, token: str) -> None:
        self._grants[token].revoked = True

    def _id_token(self, client_id: str, user: dict[str, Any], nonce: str | None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": client_id, "typ": "ID"}
        claims |= {"azp": client_id, "sub": user["sub"], "iat": now, "exp": now + 300}
        claims |= {k: v for k, v in user.items() if k in ("voperson_id", "name", "email")}
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode({"alg": "RS256", "kid": self._signing_kid}, claims, self.signing_key)

    def _live_grant(self, token: str) -> _Grant | None:
        grant = self._grants.get(token)
        if grant is None or grant.revoked or grant.expires_at <= time.time():
            return None
        return grant

    # -- endpoints -------------------------------------------------------------------------

    async def _discovery(self, request: Request) -> Response:
        self.discovery_fetches += 1
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.endpoint("auth"),
                "token_endpoint": self.endpoint("token"),
                "introspection_endpoint": self.endpoint("token/introspect"),
                "userinfo_endpoint": self.endpoint("userinfo"),
                "jwks_uri": self.endpoint("certs"),
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "scopes_supported": ["openid", "profile", "email", "eduperson_entitlement"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        return JSONResponse(self.jwks())

    async def _authorize(self, request: Request) -> Response:
        """Auto-approves `current_user`. Unknown clients and unregistered redirect URIs get
        an error page, never a redirect."""
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return PlainTextResponse("invalid client_id or redirect_uri", status_code=400)
        params: dict[str, str] = {"iss": self.issuer}
        if "state" in q:
            params["state"] = q["state"]
        if q.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            params["error"] = "invalid_request"
            params["error_description"] = "Missing parameter: code_challenge_method"
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = _Code(
                client.client_id,
                redirect_uri,
                q["code_challenge"],
                q.get("scope", "openid"),
                q.get("nonce"),
                dict(self.current_user),
                time.time() + 60,
            )
            params["code"] = code
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + sep + urlencode(params), status_code=302)

    async def _form(self, request: Request) -> dict[str, str]:
        return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))

    def _basic_client(self, request: Request) -> Client | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(encoded).decode("utf-8").partition(":")
        except ValueError:
            return None
        client = self.clients.get(unquote(client_id))
        if client is None or client.secret is None:
            return None
        return client if secrets.compare_digest(client.secret, unquote(secret)) else None

    def _authenticate(self, request: Request, form: dict[str, str]) -> Client | None:
        """client_secret_basic, client_secret_post, or a public client naming itself."""
        if "authorization" in request.headers:
            return self._basic_client(request)
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            return None
        if client.secret is None:
            return client if "client_secret" not in form else None
        ok = secrets.compare_digest(client.secret, form.get("client_secret", ""))
        return client if ok else None

    @staticmethod
    def _error(error: str, status: int = 400) -> Response:
        return JSONResponse({"error": error}, status_code=status)

    async def _token(self, request: Request) -> Response:
        form = await self._form(request)
        client = self._authenticate(request, form)
        if client is None:
            return self._error("invalid_client", 401)
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            if client.secret is None:
                return self._error("unauthorized_client")
            sub = f"{uuid.uuid5(uuid.NAMESPACE_URL, client.client_id).hex}@egi.eu"
            claims = {"sub": sub, "client_id": client.client_id, **client.claims}
            access = self.issue_access_token(
                claims, client_id=client.client_id, scope=form.get("scope", "")
            )
            return JSONResponse(
                {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
            )
        if grant_type != "authorization_code":
            return self._error("unsupported_grant_type")
        code = self._codes.pop(form.get("code", ""), None)
        if (
            code is None
            or code.expires_at < time.time()
            or code.client_id != client.client_id
            or code.redirect_uri != form.get("redirect_uri")
        ):
            return self._error("invalid_grant")
        verifier = form.get("code_verifier", "")
        if not verifier or not secrets.compare_digest(
            create_s256_code_challenge(verifier), code.challenge
        ):
            return self._error("invalid_grant")
        access = self.issue_access_token(code.user, client_id=client.client_id, scope=code.scope)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": code.scope,
                "id_token": self._id_token(client.client_id, code.user, code.nonce),
            }
        )

    async def _introspect(self, request: Request) -> Response:
        """RFC 7662; only confidential clients authenticated with client_secret_basic."""
        self.introspections += 1
        if self._basic_client(request) is None:
            return self._error("invalid_client", 401)
        grant = self._live_grant((await self._form(request)).get("token", ""))
        if grant is None:
            return JSONResponse({"active": False})
        return JSONResponse({**grant.token_claims, **grant.user, "active": True})

    async def _userinfo(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        grant = self._live_grant(token) if scheme.lower() == "bearer" else None
        if grant is None:
            return Response(
                status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return JSONResponse({"sub": grant.token_claims["sub"], **grant.user})
