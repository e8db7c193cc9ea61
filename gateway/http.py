"""The gateway's outbound HTTP for checks that domains ask for but never perform themselves
(a push endpoint's verification). One function, shared by GraphQL and the REST routes."""

from __future__ import annotations

import httpx2

TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 64 * 1024  # a verification hash is 40 characters; nothing needs more


def http_get(url: str, *, timeout: float = TIMEOUT_SECONDS) -> tuple[int, str]:
    """GET `url` without following redirects: (status, body as text, at most MAX_BODY_BYTES).
    Network failures raise httpx2's errors; the caller decides what they mean."""
    with httpx2.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= MAX_BODY_BYTES:
                body = body[:MAX_BODY_BYTES]
                break
        return response.status_code, body.decode("utf-8", errors="replace")
