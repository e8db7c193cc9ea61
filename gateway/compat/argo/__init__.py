"""ARGO web API compatibility (argo-web-api v2 and v3) over the monitoring domain's service
functions, the same ones GraphQL calls: `/api/v2/…` and `/api/v3/…`.

A request goes (ARGO's order, `respond/wrappers.go`): the credentials presented (auth.py:
a refused one, or none for a write, is ARGO's 401) -> the `Accept` header (params.py: 406
unless it names application/json) -> the route's handler, which checks its query
parameters (400 with ARGO's messages) and runs its work in one transaction
(`call.read(work)` / `call.write(work)`: an API token that is not valid is 401, the
service's refusals 403/404/409/422). Every answer is ARGO's JSON (envelope.py); a path
under /api/v2 or /api/v3 that names no route is ARGO's 404, a known path with another
method ARGO's 405, and a DomainError is never a 500.

To add a route: write `async def handler(call: Call) -> Any` in the module of its area
(`profiles.py`, `results.py`, `results_flat.py`, `status.py`, `status_flat.py`,
`recomputations.py`)
returning the body (`envelope.success(...)`) or a Response, and list `route(path, handler,
methods)` in that module's `ROUTES` (paths relative to /api/v2); a new module: one line in
`ArgoApi.routes`. Routes are tried in that order: a fixed path segment (`/status/{report}/
endpoints`) must come before a placeholder in its place (`/status/{report}/{group_type}`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Router

from gateway.auth.authenticator import Authenticator
from gateway.compat.argo import (
    profiles,
    recomputations,
    results,
    results_flat,
    status,
    status_flat,
)
from gateway.compat.argo.auth import Callers
from gateway.compat.argo.routing import VERSION_ROUTES, ArgoRoute, Spec, not_found
from gateway.config import Settings


class ArgoApi:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        authenticator: Authenticator,
    ) -> None:
        self.callers = Callers(settings, session_factory, authenticator)

    def route(self, path: str, specs: Sequence[Spec]) -> ArgoRoute:
        return ArgoRoute(path, self.callers, specs)

    def _mount(self, prefix: str, specs: Sequence[Spec]) -> Mount:
        paths: dict[str, list[Spec]] = {}
        for spec in specs:
            paths.setdefault(spec.path, []).append(spec)
        routes: list[BaseRoute] = [self.route(path, found) for path, found in paths.items()]
        return Mount(prefix, app=Router(routes=routes, redirect_slashes=False, default=not_found))

    def routes(self) -> list[BaseRoute]:
        return [
            self._mount(
                "/api/v2",
                [
                    *VERSION_ROUTES,
                    *profiles.ROUTES,
                    *status_flat.ROUTES,  # before status's /status/{report}/{group_type}
                    *status.ROUTES,
                    *results_flat.ROUTES,  # before results's /results/{report}/{type}
                    *results.ROUTES,
                    *recomputations.ROUTES,
                ],
            ),
            self._mount(
                "/api/v3",
                [
                    *results.V3_ROUTES,
                    *results_flat.V3_ROUTES,
                    *status.V3_ROUTES,
                    *status_flat.V3_ROUTES,
                ],
            ),
        ]
