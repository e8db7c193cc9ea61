"""Browser login for the SPA: OIDC authorization code with PKCE (S256) through authlib's
Starlette client. The tokens live in the signed session cookie (HttpOnly, SameSite=Lax);
requests carrying it are authenticated like Bearer requests, and those that could change
state must come from our own origin (see authenticator.py)."""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError  # type: ignore[import-untyped]
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from domains.common.egress import is_loopback_host
from gateway.auth.authenticator import SESSION_TOKEN_KEY
from gateway.config import Settings

log = logging.getLogger("opsgraph.auth")

SCOPES = "openid profile email eduperson_entitlement voperson_id"
_NEXT = "login_next"
_ID_TOKEN = "id_token"  # noqa: S105 (a name, not a secret)


def _safe_next(value: str | None) -> str:
    """Only local paths: a login must not become an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def login_routes(settings: Settings) -> list[Route]:
    """The /auth routes, or none when login is not configured (no issuer, client or
    session secret)."""
    if not settings.login_enabled:
        return []
    assert settings.oidc_issuer is not None
    oauth = OAuth()
    client: Any = oauth.register(
        name="opsgraph",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256"},
    )

    def public_base(request: Request) -> str | None:
        """Where the issuer sends the browser back. Without OPSGRAPH_PUBLIC_URL only a
        loopback Host is believed: anyone can send any Host header, and a login whose
        callback followed it would hand the authorization code to the header's author."""
        if settings.public_url:
            return settings.public_url
        if is_loopback_host(request.url.hostname or ""):
            return str(request.base_url).rstrip("/")
        return None

    def untrusted_host() -> Response:
        return JSONResponse(
            {
                "error": "login needs OPSGRAPH_PUBLIC_URL: the server is not reached on "
                "loopback, and the Host header is not trusted"
            },
            status_code=400,
        )

    async def login(request: Request) -> Response:
        base = public_base(request)
        if base is None:
            return untrusted_host()
        request.session[_NEXT] = _safe_next(request.query_params.get("next"))
        response: Response = await client.authorize_redirect(request, base + "/auth/callback")
        return response

    async def callback(request: Request) -> Response:
        if public_base(request) is None:
            return untrusted_host()
        try:
            token = await client.authorize_access_token(request)
        except OAuthError as exc:
            log.info("login refused by the issuer or the state check: %s", exc.error)
            return JSONResponse({"error": "login failed"}, status_code=400)
        next_path = _safe_next(request.session.pop(_NEXT, None))
        request.session[SESSION_TOKEN_KEY] = token["access_token"]
        if token.get("id_token"):
            request.session[_ID_TOKEN] = token["id_token"]
        return RedirectResponse(next_path, status_code=303)

    async def logout(request: Request) -> Response:
        id_token = request.session.get(_ID_TOKEN)
        request.session.clear()
        metadata = await client.load_server_metadata()
        base = public_base(request)
        if metadata.get("end_session_endpoint") and id_token and base is not None:
            response: Response = await client.logout_redirect(
                request, post_logout_redirect_uri=base + "/", id_token_hint=id_token
            )
            return response
        return RedirectResponse("/", status_code=303)

    return [
        Route("/auth/login", login, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
        # POST only: a GET could be fired by any page (an <img>) to sign the user out
        Route("/auth/logout", logout, methods=["POST"]),
    ]
