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

from gateway.auth.authenticator import SESSION_TOKEN_KEY
from gateway.config import Settings

log = logging.getLogger("opsgraph.auth")

SCOPES = "openid profile email eduperson_entitlement voperson_id"
_NEXT = "login_next"
_ID_TOKEN = "id_token"


def _safe_next(value: str | None) -> str:
    """Only local paths: a login must not become an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def login_routes(settings: Settings) -> list[Route]:
    """The /auth routes, or none when login is not configured (no issuer, client or
    session secret)."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.session_secret):
        return []
    oauth = OAuth()
    client: Any = oauth.register(
        name="opsgraph",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=settings.oidc_issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPES, "code_challenge_method": "S256"},
    )

    def callback_url(request: Request) -> str:
        base = settings.public_url or str(request.base_url).rstrip("/")
        return base + "/auth/callback"

    async def login(request: Request) -> Response:
        request.session[_NEXT] = _safe_next(request.query_params.get("next"))
        response: Response = await client.authorize_redirect(request, callback_url(request))
        return response

    async def callback(request: Request) -> Response:
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
        if metadata.get("end_session_endpoint") and id_token:
            base = settings.public_url or str(request.base_url).rstrip("/")
            response: Response = await client.logout_redirect(
                request, post_logout_redirect_uri=base + "/", id_token_hint=id_token
            )
            return response
        return RedirectResponse("/", status_code=303)

    return [
        Route("/auth/login", login, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
        Route("/auth/logout", logout, methods=["GET", "POST"]),
    ]
