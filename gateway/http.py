"""The gateway's outbound HTTP for checks that domains ask for but never perform themselves
(a push endpoint's verification). One function, shared by GraphQL and the REST routes,
through the egress policy (domains.common.egress)."""

from __future__ import annotations

from functools import partial

from domains.common.context import HttpGet
from domains.common.egress import STRICT, EgressPolicy

TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 64 * 1024  # a verification hash is 40 characters; nothing needs more


def http_get(
    url: str, *, egress: EgressPolicy = STRICT, timeout: float = TIMEOUT_SECONDS
) -> tuple[int, str]:
    """GET `url` without following redirects: (status, body as text, at most MAX_BODY_BYTES).
    Network failures (an address the policy refuses among them: EgressRefused) raise
    httpx2's errors; the caller decides what they mean."""
    with egress.client(timeout=timeout) as client, client.stream("GET", url) as response:
        body = b""
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) >= MAX_BODY_BYTES:
                body = body[:MAX_BODY_BYTES]
                break
        return response.status_code, body.decode("utf-8", errors="replace")


def http_getter(egress: EgressPolicy) -> HttpGet:
    """`http_get` bound to a policy: what a request context lends to the domains."""
    return partial(http_get, egress=egress)
