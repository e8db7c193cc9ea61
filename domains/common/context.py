"""What a resolver gets from the gateway for one request. Built by gateway/view.py
(`GraphQLView.get_context`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from domains.common.deadline import Deadline
from domains.common.egress import STRICT, EgressPolicy
from domains.common.identity import ANONYMOUS, Principal
from domains.common.loaders import LoaderRegistry
from domains.common.pagination import PageRequest
from domains.common.scopes import ScopeDefaults
from domains.common.settings import CoreSettings
from domains.common.time import changing_at, instant, next_midnight, utcnow


@dataclass(slots=True)
class Limits:
    default_page_size: int = 20
    max_page_size: int = 100
    max_message_bytes: int = 1_572_864  # a published message's payload plus attributes


# An HTTP GET the gateway lends to the few rules that must reach outside (a push endpoint's
# ownership check): url -> (status, body). Domains never do network I/O themselves.
HttpGet = Callable[[str], tuple[int, str]]


def no_http(url: str) -> tuple[int, str]:
    raise RuntimeError(f"no HTTP client in this context (GET {url})")


T = TypeVar("T")


class Transact(Protocol):
    """Runs `fn(session, principal)` in its own transaction, off the event loop; `write`
    False for a step that only reads (its transaction takes no write lock)."""

    def __call__(
        self, fn: Callable[[Session, Principal], T], *, write: bool = True
    ) -> Awaitable[T]: ...


@dataclass(slots=True)
class RequestContext:
    session: Session
    principal: Principal = ANONYMOUS
    limits: Limits = field(default_factory=Limits)
    scope_defaults: ScopeDefaults = field(default_factory=ScopeDefaults)
    request_id: str = ""
    restrict_personal_data: bool = True
    loaders: LoaderRegistry = field(default_factory=LoaderRegistry)
    # what this request learnt once and reuses (e.g. whose personal data it may show)
    memo: dict[str, Any] = field(default_factory=dict)
    # Subscriptions (long-lived): each step of their work is a transaction of its own,
    # run through `transact`; `session` is not used by them.
    transact: Transact | None = None
    # what a graphql-transport-ws client sent in connection_init
    connection_params: dict[str, Any] | None = None
    http_get: HttpGet = no_http
    # where outbound calls may go (push endpoints, webhooks): checked at input time
    egress: EgressPolicy = STRICT
    # the time rules read (downtimes' 24- and 48-hour rules); tests move it. Reading it
    # keeps the answer out of the response cache; `now_changing_at` does not.
    clock: Callable[[], datetime] = utcnow
    # the same clock, read without that mark (for `now_changing_at`)
    instant: Callable[[], datetime] = instant
    # the server's settings, for the few a resolver reads (the accounting `egi` VO group)
    settings: CoreSettings = field(default_factory=CoreSettings)
    # when the request's work must stop (OPSGRAPH_REQUEST_TIMEOUT); None: no limit
    deadline: Deadline | None = None

    def now_changing_at(self, *moments: datetime | None) -> datetime:
        """The request's time, for a value computed from it that changes only at `moments`:
        a cached answer holding it expires at the first of them still ahead
        (domains/common/time.py's changing_at)."""
        return changing_at(self.instant(), moments)

    def today(self) -> date:
        """The request's day (UTC), for a value read as of it (the profiles valid today): a
        cached answer holding it expires at the next midnight."""
        now = self.instant()
        return changing_at(now, [next_midnight(now)]).astimezone(UTC).date()

    def page(self, first: int | None, after: str | None) -> PageRequest:
        return PageRequest.build(
            first, after, default=self.limits.default_page_size, maximum=self.limits.max_page_size
        )
