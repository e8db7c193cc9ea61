"""uvicorn's h11 HTTP protocol with a header timeout.

uvicorn bounds the idle time between two requests of a kept-alive connection, but not a
connection that never sends anything, nor one that sends part of a request line or headers
and stalls (slowloris): each would hold a socket for ever. Here a connection must deliver a
complete request line and headers within OPSGRAPH_HEADER_TIMEOUT seconds of being opened,
or of the previous response; otherwise it is closed. The body that follows is bounded by
gateway/body.py (OPSGRAPH_BODY_TIMEOUT), which reads it before any route runs.

This subclasses uvicorn's H11Protocol and relies on its internals (`conn`, `transport`,
`on_response_complete`): pyproject.toml pins uvicorn's minor version, and
tests/security/test_http.py checks the behaviour against a real `opsgraph serve`. It also
hands a TLS client certificate to the application (gateway/tls.py's TLSScope).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.tls import TLSScope


class TimedH11Protocol(TLSScope, H11Protocol):
    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _expire(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # headers complete (or switched, closed)
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # waiting for the next request on a kept-alive connection
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def timed_h11(header_timeout: float) -> type[TimedH11Protocol]:
    """The protocol class to give uvicorn (`http=`), with this header timeout."""
    return type("TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": header_timeout})
