"""Request bodies are read by this middleware, whole, before any route code runs: at most
a size limit (checked against Content-Length before reading anything, and counted while
reading a chunked body) and within a time limit. Too large is 413, too slow is 408; both
close the connection, so the rest of the body is never read. Routes then look at
credentials and parse JSON from a body already in memory.

The limit is OPSGRAPH_MAX_BODY_BYTES, except for AMS's publish (OPSGRAPH_MAX_PUBLISH_BYTES),
which carries a batch of messages. Errors speak each surface's error shape: AMS's on /v1,
GraphQL's on /graphql, ARGO's on /api/v2 and /api/v3, the feeds' elsewhere."""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domains.common.errors import CommonRule
from gateway.compat.argo.envelope import ArgoError
from gateway.compat.gocdbpi.write_request import WriteApiError

_PUBLISH = re.compile(r"^/v1/projects/[^/]+/topics/[^/]+:publish$")


def _reply(scope: Scope, status: int, message: str, rule: str) -> bytes:
    path: str = scope.get("path", "")
    body: dict[str, Any]
    if path.startswith("/gocdbpi/"):  # GOCDB's write API's error object
        body = WriteApiError(status, message).body()
    elif path.startswith(("/api/v2/", "/api/v3/")):  # ARGO web API's error body
        words = {408: "Request Timeout", 413: "Request Entity Too Large"}.get(status, "Bad Request")
        return ArgoError(status, words, message).body_bytes()
    elif path.startswith("/v1/"):
        ams_status = "TIMEOUT" if status == 408 else "INVALID_ARGUMENT"
        body = {"error": {"code": status, "message": message, "status": ams_status}}
    elif path == "/graphql":
        extensions = {"code": "BAD_USER_INPUT", "field": "body", "rule": rule}
        body = {"errors": [{"message": message, "extensions": extensions}]}
    else:
        body = {"error": {"code": "BAD_USER_INPUT", "message": message, "rule": rule}}
    return json.dumps(body).encode()


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, max_publish_bytes: int, timeout: float
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_publish_bytes = max_publish_bytes
        self.timeout = timeout

    def limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and _PUBLISH.match(scope.get("path", "")):
            return self.max_publish_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit = self.limit(scope)
        too_large = f"request body too large: at most {limit} bytes"
        declared = headers.get(b"content-length", b"").strip()
        if declared and (not declared.isdigit() or int(declared) > limit):
            await _refuse(scope, send, 413, too_large, CommonRule.BODY_TOO_LARGE)
            return
        if not (declared.strip(b"0") or b"transfer-encoding" in headers):
            await self.app(scope, receive, send)  # no body to read
            return
        chunks: list[bytes] = []
        size = 0
        with anyio.move_on_after(self.timeout) as waited:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # the client went away: nobody to answer
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    await _refuse(scope, send, 413, too_large, CommonRule.BODY_TOO_LARGE)
                    return
                chunks.append(chunk)
                more = bool(message.get("more_body", False))
        if waited.cancelled_caught:
            late = f"request body not received in time: sent within {self.timeout:g} seconds"
            await _refuse(scope, send, 408, late, CommonRule.BODY_TOO_SLOW)
            return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # e.g. a streaming response waiting for disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse(scope: Scope, send: Send, status: int, message: str, rule: CommonRule) -> None:
    """Answer and close the connection: what is left of the body is never read."""
    content = _reply(scope, status, message, rule.code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content, "more_body": False})
