"""What the web app asks before it shows a way to sign in.

`GET /auth/status` (always there): `{"loginEnabled": bool, "demoPersonas": bool}`: whether
the OIDC login routes exist (a "Sign in" link to /auth/login) and whether the demo personas
can be had (a persona switcher).

`GET /auth/demo/personas` exists only when `opsgraph serve --demo` listens on a loopback
address: `{"personas": [{"key", "name", "description", "token"}]}`, the demo personas with
their API tokens (gateway/demo.py), read from the personas file at each request. It hands
out working credentials, so it also answers only a browser that reached the server by a
loopback name: a page of another site that rebinds its own name to 127.0.0.1 (DNS
rebinding) sends its own name as Host and is refused."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from domains.common.egress import is_loopback_host
from gateway import demo
from gateway.config import Settings

_NO_STORE = {"Cache-Control": "no-store"}


def demo_personas_served(settings: Settings) -> bool:
    """`serve --demo`, listening on loopback only."""
    return settings.demo and settings.host is not None and is_loopback_host(settings.host)


def browser_auth_routes(settings: Settings) -> list[Route]:
    personas_served = demo_personas_served(settings)

    async def status(_request: Request) -> JSONResponse:
        return JSONResponse(
            {"loginEnabled": settings.login_enabled, "demoPersonas": personas_served},
            headers=_NO_STORE,
        )

    async def personas(request: Request) -> JSONResponse:
        if not is_loopback_host(request.url.hostname or ""):
            return JSONResponse(
                {
                    "error": "the demo personas are handed out only to a browser that reached "
                    "this server by a loopback name (127.0.0.1, localhost, [::1])"
                },
                status_code=403,
                headers=_NO_STORE,
            )
        path = demo.personas_file(settings.database_url)
        issued = await anyio.to_thread.run_sync(demo.read_personas, path) or []
        return JSONResponse(
            {
                "personas": [
                    {
                        "key": p.key,
                        "name": p.name,
                        "description": p.description,
                        "token": p.token,
                    }
                    for p in issued
                ]
            },
            headers=_NO_STORE,
        )

    routes = [Route("/auth/status", status, methods=["GET"])]
    if personas_served:
        routes.append(Route("/auth/demo/personas", personas, methods=["GET"]))
    return routes
