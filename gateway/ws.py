"""graphql-transport-ws connections that end with their credential.

A stream outlives the request that opened it, so the credential it was opened with is
checked again before every event sent (`next`) and at least every
OPSGRAPH_STREAM_RECHECK_SECONDS (sooner when a token's `exp` comes first). Once it no
longer holds, the socket is closed — whatever the streams on it were doing:

- 4401 Unauthorized: the credential ended (an API token revoked or expired, an OIDC token
  past its `exp`). As with HTTP's 401, the client may come back with a fresh one.
- 4403 Forbidden: the credential still stands but no longer allows what it did (an API
  token's user is no longer a platform administrator). The same code the server uses when
  it refuses a credential at `connection_init`.

What each stream may read is authorised again by each of its own reads (a consumer dropped
from a subscription's ACL gets FORBIDDEN on that operation, the socket stays open).
Re-checking reads only: nothing is written per event.

A subscribe message's document goes through the same persisted-operations rules as an HTTP
request's (gateway/persisted.py): named by `extensions.persistedQuery`, and with
OPSGRAPH_TRUSTED_DOCUMENTS=only refused (an `error` message) unless trusted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from contextlib import suppress
from typing import Any, Protocol, cast

from graphql import GraphQLError, GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)

from domains.common.context import RequestContext
from domains.common.errors import DomainError
from gateway.errors import format_error
from gateway.metrics import OTHER, Metrics

log = logging.getLogger("opsgraph.ws")

UNAUTHORIZED = 4401
FORBIDDEN = 4403
INTERNAL_ERROR = 1011
MAX_REASON_BYTES = 123  # RFC 6455: a close frame's reason


class Rechecking(Protocol):
    """What the view offers the handler."""

    async def recheck(self, context: RequestContext) -> tuple[int, str] | None:
        """None while the credential holds, else (close code, reason)."""

    def recheck_delay(self, context: RequestContext) -> float:
        """Seconds until the next periodic re-check."""

    async def stream_document(self, context: RequestContext, payload: Mapping[str, Any]) -> str:
        """The document a subscribe message runs; raises a DomainError to refuse it."""

    @property
    def metrics(self) -> Metrics | None:
        """The app's metrics (None: none kept)."""


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """strawberry's handler, plus the re-checks. The view supplies `recheck` and
    `recheck_delay` (gateway.view.GraphQLView)."""

    _watchdog: asyncio.Task[None] | None = None
    _ended: bool = False
    _counted: bool = False  # in opsgraph_ws_connections
    _operations: dict[str, str] | None = None  # operation id -> its metrics label

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())
            metrics = self._view().metrics
            if metrics is not None and not self._counted:
                self._counted = True
                metrics.ws_connections.inc()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            try:
                query = await self._view().stream_document(self.context, payload)
            except DomainError as refused:
                self._count_subscribe(message["id"], OTHER, "refused")
                error = GraphQLError(refused.message, original_error=refused)
                formatted = cast(
                    GraphQLFormattedError, format_error(error, self.context.request_id)
                )
                refusal: ErrorMessage = {
                    "id": message["id"],
                    "type": "error",
                    "payload": [formatted],
                }
                await self.send_message(refusal)
                return
            message = cast(SubscribeMessage, {**message, "payload": {**payload, "query": query}})
            metrics = self._view().metrics
            if metrics is not None:
                name = payload.get("operationName")
                label = metrics.operation_label(query, name if isinstance(name, str) else None)
                self._count_subscribe(message["id"], label, "accepted")
        await super().handle_subscribe(message)

    def _count_subscribe(self, operation_id: object, label: str, outcome: str) -> None:
        metrics = self._view().metrics
        if metrics is None:
            return
        metrics.ws_subscribes.labels(label, outcome).inc()
        if outcome == "accepted" and isinstance(operation_id, str):
            if self._operations is None:
                self._operations = {}
            self._operations[operation_id] = label

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next" and not self._ended:
            await self._check()
        if self._ended:
            if message["type"] == "next":
                # the operation's task ends here, its stream closed by the cancellation
                raise asyncio.CancelledError
            return  # the socket is closing: nothing more goes out
        await super().send_message(message)
        metrics = self._view().metrics
        if metrics is not None and message["type"] in ("next", "error", "complete"):
            operation_id = str(cast(Mapping[str, Any], message).get("id"))
            known = self._operations or {}
            metrics.ws_message_sent(known.get(operation_id, OTHER), message["type"])
            if message["type"] != "next" and operation_id in known:
                del known[operation_id]  # the operation is over

    async def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with suppress(asyncio.CancelledError):
                await self._watchdog
        await super().shutdown()
        metrics = self._view().metrics
        if self._counted and metrics is not None:
            self._counted = False
            metrics.ws_connections.dec()

    def _view(self) -> Rechecking:
        return cast(Rechecking, self.view)

    async def _watch(self) -> None:
        while not self._ended:
            await asyncio.sleep(self._view().recheck_delay(self.context))
            await self._check()

    async def _check(self) -> None:
        try:
            ended = await self._view().recheck(self.context)
        except Exception:
            log.exception("re-checking a stream's credential failed; closing it")
            ended = (INTERNAL_ERROR, "Internal Error")
        if ended is not None:
            await self._end(*ended)

    async def _end(self, code: int, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        metrics = self._view().metrics
        if metrics is not None:
            metrics.ws_closed_by_recheck(code)
        text = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
        with suppress(Exception):  # the peer may be gone already
            await self.websocket.close(code=code, reason=text)
