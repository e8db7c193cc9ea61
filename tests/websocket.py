"""Receiving from Starlette's test WebSocket with a time limit: a stream that never sends
fails its test instead of hanging the run."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.testclient import WebSocketTestSession
from starlette.types import Message

RECEIVE_SECONDS = 30.0


def receive_json(socket: WebSocketTestSession, seconds: float = RECEIVE_SECONDS) -> Any:
    """The next JSON message; TimeoutError after `seconds`, WebSocketDisconnect on close."""

    async def within() -> Message:
        with anyio.fail_after(seconds):
            # the session's own receive, bounded (Starlette offers no timeout of its own)
            message: Message = await socket._send_rx.receive()
            return message

    message = socket.portal.call(within)
    socket._raise_on_close(message)
    return json.loads(message["text"])
