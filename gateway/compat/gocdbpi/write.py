"""GOCDB's REST write API: `/gocdbpi/v5/{Site|Service|Endpoint}/{id}/{property}[/{key}]`.

What GOCDB's API writes, and nothing else: a site's extension properties; a service's
scalar fields (hostname, description, production, beta, monitored, notify, host_dn,
host_ip, host_ip_v6, host_os, host_arch, url, email), extension properties and endpoints;
an endpoint's name, url, interfacename, description, email, monitored and extension
properties. POST sets what is not set yet (never a boolean), PUT sets or overwrites, DELETE
removes. Success is 204 with no body; a refusal is GOCDB's JSON error object with its code
(400, 403, 404, 405, 409, 501; 500 only for a fault of ours).

The request is read first (write_request: path, method, body, GOCDB's schema), then, in one
transaction: the caller (403 without a credential), the target and its site's API
credential (topology's `writes.api.api_target`: 404, 403), what the property and method
allow (501, 405), and the write (topology's `writes.api`), audited as the credential."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    Unauthenticated,
)
from domains.topology.rules import TopologyRule
from domains.topology.service.writes import api
from gateway import deadlines
from gateway.compat.gocdbpi.write_request import (
    DOCS_URL,
    EXTENSIONS,
    WriteApiError,
    WriteRequest,
    as_boolean,
    as_text,
    parse,
)
from gateway.rest import RestApi

log = logging.getLogger("opsgraph.gocdbpi")

PREFIX = "/gocdbpi"
_VERSIONED = re.compile(r"v\d+(/|$)", re.IGNORECASE)
_HINT = f"For more details see: {DOCS_URL}"

# GOCDB's name of a service field -> ours
SERVICE_FIELDS = {
    "hostname": "host_name",
    "description": "description",
    "production": "production",
    "beta": "beta",
    "monitored": "monitored",
    "notify": "notify",
    "host_dn": "host_dn",
    "host_ip": "ipv4_address",
    "host_ip_v6": "ipv6_address",
    "host_os": "operating_system",
    "host_arch": "architecture",
    "url": "url",
    "email": "email",
}
ENDPOINT_FIELDS = {
    "name": "name",
    "url": "url",
    "interfacename": "interface_name",
    "description": "description",
    "email": "email",
    "monitored": "monitored",
}
_BOOLEANS = frozenset({"production", "beta", "monitored", "notify"})
_ENTITY_TYPES = frozenset({"site", "service", "endpoint"})
# domain rules GOCDB answers with another code than 400
_RULE_CODES = {
    # GOCDB's updateServiceProp answers a production service left unmonitored with 403
    TopologyRule.SERVICE_PRODUCTION_UNMONITORED: 403,
    TopologyRule.ENDPOINT_NAME_TAKEN: 409,
    TopologyRule.PROPERTY_LIMIT_REACHED: 409,
}


def _typed(field: str, value: Any) -> str | bool:
    """The JSON value as the field takes it (write_request checked that it converts)."""
    if field in _BOOLEANS:
        boolean = as_boolean(value)
        assert boolean is not None
        return boolean
    text = as_text(value)
    assert text is not None
    return text


def _property_pairs(request: WriteRequest) -> dict[str, Any]:
    """The extension properties named: the key in the path with its value, or the body's."""
    if request.key is not None:
        return {request.key: request.value}
    return dict(request.pairs or {})


def _extension_properties(session: Session, target: api.ApiTarget, request: WriteRequest) -> None:
    pairs = _property_pairs(request)
    if request.method == "DELETE":
        api.remove_properties(
            session, target, {k: (None if v is None else as_text(v)) for k, v in pairs.items()}
        )
        return
    texts = {key: as_text(value) or "" for key, value in pairs.items()}
    api.add_properties(session, target, texts, overwrite=request.method == "PUT")


def _field(
    session: Session,
    target: api.ApiTarget,
    request: WriteRequest,
    fields: dict[str, str],
    write: Callable[..., None],
) -> None:
    if request.method == "DELETE":
        raise request.unsupported_method()
    if request.method == "POST" and request.prop in _BOOLEANS:
        raise WriteApiError(405, f"The POST method is not supported for boolean values. {_HINT}")
    field = fields[request.prop]
    write(
        session,
        target,
        field,
        _typed(request.prop, request.value),
        api_name=request.prop,
        only_if_unset=request.method == "POST",
    )


def _service_endpoint(session: Session, target: api.ApiTarget, request: WriteRequest) -> None:
    if request.method == "DELETE":
        if request.key is None:
            raise WriteApiError(400, f"The ID of the endpoint must be specified. See: {DOCS_URL}")
        api.delete_service_endpoint(session, target, int(request.key))
        return
    # write_request saw to an object of pairs (a key or no body is refused there)
    values: dict[str, Any] = {}
    for name, value in (request.pairs or {}).items():
        field = ENDPOINT_FIELDS.get(name.lower())
        if field is None:
            raise WriteApiError(400, f'"{name}" is not a field of an endpoint. {_HINT}')
        values[field] = _typed(name.lower(), value)
    api.put_endpoint(session, target, values, create_only=request.method == "POST")


def perform(session: Session, target: api.ApiTarget, request: WriteRequest) -> None:
    """The write the request asks of its (authorized) target; 501 for a property GOCDB's
    API does not write, 405 for a method it does not take."""
    prop = request.prop
    if prop == EXTENSIONS:
        _extension_properties(session, target, request)
    elif request.entity_type == "service" and prop in SERVICE_FIELDS:
        _field(session, target, request, SERVICE_FIELDS, api.set_service_field)
    elif request.entity_type == "service" and prop == "endpoint":
        _service_endpoint(session, target, request)
    elif request.entity_type == "endpoint" and prop in ENDPOINT_FIELDS:
        _field(session, target, request, ENDPOINT_FIELDS, api.set_endpoint_field)
    else:
        raise request.unsupported_property()


def refusal(error: DomainError) -> WriteApiError:
    """GOCDB's answer to a refusal of the service layer."""
    if isinstance(error, Unauthenticated | Forbidden):
        return WriteApiError(403, error.message)
    if isinstance(error, NotFound):
        return WriteApiError(404, error.message)
    if isinstance(error, Conflict):
        return WriteApiError(409, error.message)
    if isinstance(error, Invalid):
        code = _RULE_CODES.get(error.rule, 400) if isinstance(error.rule, TopologyRule) else 400
        return WriteApiError(code, error.message)
    log.error("write API: unexpected refusal %s: %s", type(error).__name__, error.message)
    return WriteApiError(500, f"Internal error. Please contact the administrators. {error}")


def _error(error: WriteApiError) -> Response:
    return JSONResponse(error.body(), status_code=error.code)


class WriteApi(RestApi):
    async def endpoint(self, request: Request) -> Response:
        if not _VERSIONED.match(request.path_params["rest"]):
            # not the write API's (GOCDB's is /gocdbpi/v<n>/...): the server's plain 404,
            # as for any other path nothing answers
            return PlainTextResponse("Not Found", status_code=404)
        try:
            write = parse(request.method, request.path_params["rest"], await request.body())
            credentials = await self.authenticator.credentials(request)

            def run() -> None:
                with unit_of_work(self.session_factory, write=True) as session:
                    deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                    principal = self.authenticator.principal(session, credentials)
                    if principal.is_anonymous:  # GOCDB asks this before the entity type
                        raise Unauthenticated(api.NOT_AUTHENTICATED)
                    if write.entity_type not in _ENTITY_TYPES:
                        raise WriteApiError(
                            501,
                            f"Updating {write.entity_type}s is not currently supported through "
                            f"the API, for details of the currently supported methods see: "
                            f"{DOCS_URL}",
                        )
                    target = api.api_target(
                        session,
                        principal,
                        write.entity_type,
                        write.entity_id,
                        restrict_personal_data=self.settings.restrict_personal_data,
                    )
                    perform(session, target, write)

            await anyio.to_thread.run_sync(run)
        except WriteApiError as error:
            return _error(error)
        except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
            return _error(WriteApiError(503, error.message))
        except DomainError as error:
            return _error(refusal(error))
        return Response(status_code=204)

    def routes(self) -> list[BaseRoute]:
        """The writing methods, then every other (GET and the rest answer GOCDB's 405, not
        Starlette's)."""
        path = PREFIX + "/{rest:path}"
        return [
            Route(path, self.endpoint, methods=["POST", "PUT", "DELETE"]),
            Route(path, _AnyMethod(request_response(self.endpoint))),
        ]


class _AnyMethod:
    """An ASGI app as a route's endpoint: Starlette then lets every method through (a
    function endpoint would be GET only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
