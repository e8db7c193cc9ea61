"""The ARGO routes' plumbing: a request's `Call` (credentials, body, work run through the
callers), a route's `Spec`, ARGO's 404 and 405 (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from domains.common.deadline import RequestTimeout
from domains.common.errors import DomainError
from domains.common.text import check_storable, unstorable
from domains.common.time import utcnow
from gateway import jsonlimits
from gateway.auth.authenticator import Credentials
from gateway.compat.argo import envelope, params
from gateway.compat.argo.auth import Callers, Work
from gateway.compat.argo.envelope import ArgoError

READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Call:
    """One request to a route: what handlers read and run their work through."""

    request: Request
    credentials: Credentials
    callers: Callers

    @property
    def query(self) -> Any:
        return self.request.query_params

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def today(self) -> date:
        return utcnow().date()

    def base_url(self) -> str:
        """This server's public base (OPSGRAPH_PUBLIC_URL, else the request's own)."""
        configured = self.callers.settings.public_url
        return (configured or f"{self.request.url.scheme}://{self.request.url.netloc}").rstrip("/")

    async def read(self, work: Work[Any]) -> Any:
        return await self.callers.run(self.credentials, work, write=False)

    async def write(self, work: Work[Any]) -> Any:
        return await self.callers.run(self.credentials, work, write=True)

    async def body(self) -> bytes:
        """The body as sent; `json_object` reads it, inside the work, once the caller is
        known (ARGO refuses a key before it reads a body)."""
        return await self.request.body()


def json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object sent (whatever its Content-Type, as ARGO reads it), or ARGO's 400
    "Request Body contains malformed JSON"."""
    try:
        value = jsonlimits.loads(raw, max_depth=jsonlimits.MAX_DEPTH)
    except jsonlimits.TooDeep as deep:
        raise envelope.bad_request_details(str(deep)) from None
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
        raise envelope.bad_request_details(envelope.INVALID_JSON) from None
    if not isinstance(value, dict):
        raise envelope.bad_request_details(envelope.INVALID_JSON)
    found = unstorable(value)
    if found is not None:
        raise envelope.bad_request_details(f"{found.path}: {found.problem}")
    return value


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Spec:
    """A route of a module's ROUTES: its path (relative to /api/v2 or /api/v3), handler,
    methods, and whether it looks at credentials at all (the version does not)."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    authenticate: bool = True


def route(
    path: str, handler: Handler, methods: Sequence[str] = ("GET",), *, authenticate: bool = True
) -> Spec:
    return Spec(path, handler, tuple(methods), authenticate)


def endpoint(callers: Callers, spec: Spec) -> Callable[[Request], Awaitable[Response]]:
    """The route's handler in ARGO's order: credentials (401), Accept (406), parameters no
    database stores (400), then the handler; every failure in ARGO's shape."""

    async def run(request: Request) -> Response:
        try:
            if spec.authenticate:
                credentials = await callers.credentials(request, write=request.method not in READS)
            else:
                credentials = Credentials()
            params.check_accept(request.headers.get("accept"))
            _check_storable(request)
            answer = await spec.handler(Call(request, credentials, callers))
        except ArgoError as refused:
            return refused.response()
        except RequestTimeout as late:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
            return envelope.unavailable(late.message).response()
        except DomainError as error:
            return envelope.from_domain_error(error).response()
        if isinstance(answer, Response):
            return answer
        return envelope.respond(answer)

    return run


class ArgoRoute(Route):
    """One path's route, each method to its own spec's endpoint; another method gets
    ARGO's 405 (Starlette's is plain text)."""

    def __init__(self, path: str, callers: Callers, specs: Sequence[Spec]) -> None:
        self.by_method = {
            method: endpoint(callers, spec) for spec in specs for method in spec.methods
        }
        if "GET" in self.by_method:
            self.by_method["HEAD"] = self.by_method["GET"]

        async def dispatch(request: Request) -> Response:
            return await self.by_method[request.method](request)

        super().__init__(path, dispatch, methods=sorted(self.by_method))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            refused = envelope.method_not_allowed(scope["method"], self.methods)
            await refused.response()(scope, receive, send)
            return
        await super().handle(scope, receive, send)


def _check_storable(request: Request) -> None:
    """A path or query parameter no database stores (`%00`) is ARGO's 400."""
    try:
        check_storable((*request.path_params.items(), *request.query_params.multi_items()))
    except DomainError as bad:
        raise envelope.bad_request_details(bad.message) from None


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """ARGO's 404 for a path under /api/v2 or /api/v3 that names no route."""
    if scope["type"] != "http":  # pragma: no cover - the app routes no WebSocket here
        return
    refused = envelope.not_found("the path is not found on the server")
    await refused.response()(scope, receive, send)


async def api_version(_call: Call) -> Any:
    """ARGO's `GET /api/v2/version` (no envelope, as ARGO answers it)."""
    return {"release": version("opsgraph"), "implementation": "opsgraph"}


VERSION_ROUTES = (route("/version", api_version, authenticate=False),)
