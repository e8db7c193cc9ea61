"""A request's time limit (OPSGRAPH_REQUEST_TIMEOUT), as plain data any layer can check.

The gateway starts one per request and makes the database honour it (gateway/deadlines.py);
the GraphQL executor checks it between objects; long loops in service code may call
`check()` too. When it has passed, the work stops with `RequestTimeout` and the request's
transaction is rolled back.
"""

from __future__ import annotations

import time

from domains.common.errors import DomainError


class RequestTimeout(DomainError):
    """The request ran out of time and was stopped; nothing it did was kept."""

    code = "TIMEOUT"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"The request was stopped after {seconds:g} s, the server's time limit "
            "(OPSGRAPH_REQUEST_TIMEOUT); nothing was written. Ask for less (a smaller "
            "`first`, fewer fields) or try again later."
        )
        self.seconds = seconds


class Deadline:
    """`seconds` from now, on the monotonic clock (wall-clock steps do not move it)."""

    __slots__ = ("at", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise RequestTimeout(self.seconds)

    def error(self) -> RequestTimeout:
        return RequestTimeout(self.seconds)
