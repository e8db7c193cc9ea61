"""Unsigned APEL messages posted over HTTP: `POST /accounting/v1/messages`.

The body is one message as SSM sends it, unsigned (APEL's key/value messages, CAR or StAR
XML), at most OPSGRAPH_MAX_BODY_BYTES (the body middleware answers 413 beyond). The caller
authenticates as the gateway's callers do (a client certificate, a bearer token, an API
token); whether it may post, and for which sites, is the accounting service's decision
(`intake.receive_posted`: a site API credential that allows writing, at a site with an
accounting service). An optional `Message-Id` header is the sender's message id (SSM's
`empaid`); without it one is made. One message, one transaction: 200 with the kind and the
records loaded; a refused message is kept whole in the reject store and answered 400 naming
the field (`record[3].EndTime`) and the rule."""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domains.accounting.service.intake import receive_posted
from domains.accounting.service.loading import Outcome
from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import DomainError
from domains.common.time import utcnow
from domains.downtimes.formats import JSON_TYPE
from gateway import deadlines
from gateway.feeds import error_response
from gateway.rest import RestApi

PATH = "/accounting/v1/messages"
MESSAGE_ID_HEADER = "message-id"


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=JSON_TYPE)


def outcome_response(message_id: str, outcome: Outcome) -> Response:
    """200 with what was loaded, or 400 naming what refused the (stored) message."""
    kind = outcome.kind.value if outcome.kind is not None else None
    if outcome.reject_id is None:
        return _json(200, {"messageId": message_id, "kind": kind, "records": outcome.records})
    error = {
        "code": "BAD_USER_INPUT",
        "message": outcome.reason,
        "field": outcome.field,
        "rule": outcome.rule,
        "messageId": message_id,
        "rejectId": outcome.reject_id,
    }
    return _json(400, {"error": error})


class AccountingApi(RestApi):
    def routes(self) -> list[Route]:
        return [Route(PATH, self.post, methods=["POST"])]

    async def post(self, request: Request) -> Response:
        body = await request.body()  # already read, within its limit, by the middleware
        message_id = request.headers.get(MESSAGE_ID_HEADER)
        credentials = await self.authenticator.credentials(request)

        def run() -> tuple[str, Outcome]:
            with unit_of_work(self.session_factory, write=True) as session:
                deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                principal = self.authenticator.principal(session, credentials)
                return receive_posted(session, principal, body, message_id=message_id, now=utcnow())

        try:
            found_id, outcome = await anyio.to_thread.run_sync(run)
        except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
            return _json(503, {"error": {"code": error.code, "message": error.message}})
        except DomainError as error:
            return error_response(error)
        return outcome_response(found_id, outcome)
