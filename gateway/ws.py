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


class CheckedTransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """strawberry's handler, plus the re-checks. The view supplies `recheck` and
    `recheck_delay` (gateway.view.GraphQLView)."""

    _watchdog: asyncio.Task[None] | None = None
    _ended: bool = False

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload = message.get("payload")
        if self.connection_acknowledged and isinstance(payload, dict):
            try:
                query = await self._view().stream_document(self.context, payload)
            except DomainError as refused:
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
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next" and not self._ended:
            await self._check()
        if self._ended:
            if message["type"] == "next":
                # the operation's task ends here, its stream closed by the cancellation
                raise asyncio.CancelledError
            return  # the socket is closing: nothing more goes out
        await super().send_message(message)

    async def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with suppress(asyncio.CancelledError):
                await self._watchdog
        await super().shutdown()

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
        text = reason.encode()[:MAX_REASON_BYTES].decode(errors="ignore")
        with suppress(Exception):  # the peer may be gone already
            await self.websocket.close(code=code, reason=text)
