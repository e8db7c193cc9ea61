"""Downtime feeds: /feeds/downtimes.{ics,rss,csv,json}, for calendar programs, feed readers,
spreadsheets and scripts.

Downtimes are public, so anonymous callers get the public feed. A calendar program cannot
log in through OIDC, so the user's API token (the "personal feed token") may come in the
URL as `?token=` or `?key=`; `x-api-key` and `Authorization: Bearer` work as everywhere.
A bad or revoked token is 401, never a silent fall-back to the public feed. The access log
records the path only, so a token in the query string stays out of the logs.

Errors: `{"error": {"code", "message", "parameter"?, "rule"?}}` with 400 (bad parameter),
401, 403 or 404; anything else is the server's 500 without details.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    RuleCode,
    Unauthenticated,
)
from domains.common.graphql import to_global_id
from domains.common.scopes import ScopeSelection
from domains.common.text import check_storable
from domains.common.time import utcnow
from domains.downtimes import formats
from domains.downtimes.feeds import FeedDowntime, feed_downtimes
from domains.downtimes.models import Severity
from domains.downtimes.service import DowntimeFilter
from gateway import deadlines
from gateway.auth.authenticator import Credentials
from gateway.rest import RestApi

FEED_LIMIT = 1000
DEFAULT_HISTORY = timedelta(days=31)
LIST_PARAMETERS = ("site", "ngi", "serviceType", "scope", "severity")
SINGLE_PARAMETERS = ("ongoing", "from", "to", "mine", "limit", "token", "key")
PARAMETERS = frozenset(LIST_PARAMETERS + SINGLE_PARAMETERS)


class FeedRule(RuleCode):
    """The feeds' query-string rules: the name is the code of the error body's `rule`, the
    value the rule in words (the message says it after the parameter's name)."""

    FEED_PARAMETER_UNKNOWN = "unknown parameter; known: " + ", ".join(
        LIST_PARAMETERS + SINGLE_PARAMETERS
    )
    FEED_PARAMETER_REPEATED = "at most once"
    FEED_VALUE_EMPTY = "a non-empty value"
    FEED_SEVERITY_UNKNOWN = "OUTAGE or WARNING"
    FEED_BOOLEAN_INVALID = "true or false"
    FEED_TIME_INVALID = "an ISO 8601 time with a UTC offset, or a date (YYYY-MM-DD)"
    FEED_WINDOW_REVERSED = "must not be before from"
    FEED_TIME_OUT_OF_RANGE = (
        "a moment from 0001-01-01 to 9999-12-31 in UTC (to=<date>: at most 9999-12-30)"
    )
    FEED_LIMIT_OUT_OF_RANGE = f"an integer from 1 to {FEED_LIMIT}"
    FEED_CREDENTIAL_REPEATED = "one credential only (token, key, x-api-key or Authorization)"


# `from=...T10:00:00+02:00` typed into a URL unencoded arrives with a space for the plus
_OFFSET_AS_SPACE = re.compile(r"^(.*T[0-9:.]+) ([0-9]{2}(?::?[0-9]{2})?)$")
# service-layer field names -> the feed's parameter names
_FIELDS = {"filter.windowStart": "from", "filter.windowEnd": "to"}


@dataclass(frozen=True, slots=True)
class FeedQuery:
    filter: DowntimeFilter
    mine: bool
    limit: int


def _values(request: Request, name: str) -> tuple[str, ...] | None:
    """Repeated and comma-separated values, stripped; None when the parameter is absent."""
    raw = request.query_params.getlist(name)
    if not raw:
        return None
    values = tuple(v.strip() for item in raw for v in item.split(",") if v.strip())
    if not values and name != "scope":  # `scope=` means "any scope", as in GOCDB
        raise Invalid(name, FeedRule.FEED_VALUE_EMPTY)
    return values


def _single(request: Request, name: str) -> str | None:
    raw = request.query_params.getlist(name)
    if len(raw) > 1:
        raise Invalid(name, FeedRule.FEED_PARAMETER_REPEATED)
    if not raw:
        return None
    if not raw[0].strip():
        raise Invalid(name, FeedRule.FEED_VALUE_EMPTY)
    return raw[0].strip()


def _boolean(request: Request, name: str) -> bool | None:
    value = _single(request, name)
    if value is None:
        return None
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise Invalid(name, FeedRule.FEED_BOOLEAN_INVALID)
    return lowered == "true"


def _moment(request: Request, name: str, *, end_of_day: bool) -> datetime | None:
    """A time with an offset, or a date: its first moment (`from`), or the first moment of
    the next day (`to`, so that `to=<date>` includes that whole day)."""
    value = _single(request, name)
    if value is None:
        return None
    match = _OFFSET_AS_SPACE.match(value)
    if match:
        value = f"{match[1]}+{match[2]}"
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        parsed = datetime.fromisoformat(value)
    except OverflowError as exc:  # the day after 9999-12-31
        raise Invalid(name, FeedRule.FEED_TIME_OUT_OF_RANGE) from exc
    except ValueError as exc:
        raise Invalid(name, FeedRule.FEED_TIME_INVALID) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Invalid(name, FeedRule.FEED_TIME_INVALID)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-14:00 is in the year 10000 in UTC
        raise Invalid(name, FeedRule.FEED_TIME_OUT_OF_RANGE) from exc


def _severities(request: Request) -> tuple[Severity, ...] | None:
    values = _values(request, "severity")
    if values is None:
        return None
    try:
        return tuple(Severity(v.upper()) for v in values)
    except ValueError as exc:
        raise Invalid("severity", FeedRule.FEED_SEVERITY_UNKNOWN) from exc


def _limit(request: Request) -> int:
    value = _single(request, "limit")
    if value is None:
        return FEED_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= FEED_LIMIT:
        raise Invalid("limit", FeedRule.FEED_LIMIT_OUT_OF_RANGE)
    return int(value)


def parse_query(request: Request, *, now: datetime) -> FeedQuery:
    """The query string as a DowntimeFilter; raises Invalid naming the parameter.

    Without `from` and `to` the feed starts DEFAULT_HISTORY ago: the list is by start and
    capped, so years of history would otherwise crowd out what is current and coming."""
    check_storable(request.query_params.multi_items())
    for name in request.query_params:
        if name not in PARAMETERS:
            raise Invalid(name, FeedRule.FEED_PARAMETER_UNKNOWN)
    for name in ("token", "key"):  # an empty token is refused (401) by the authenticator
        if len(request.query_params.getlist(name)) > 1:
            raise Invalid(name, FeedRule.FEED_PARAMETER_REPEATED)
    window_start = _moment(request, "from", end_of_day=False)
    window_end = _moment(request, "to", end_of_day=True)
    if window_start is not None and window_end is not None and window_end < window_start:
        raise Invalid("to", FeedRule.FEED_WINDOW_REVERSED)
    if window_start is None and window_end is None:
        window_start = now - DEFAULT_HISTORY
    scopes = _values(request, "scope")
    return FeedQuery(
        filter=DowntimeFilter(
            sites=_values(request, "site"),
            ngis=_values(request, "ngi"),
            service_types=_values(request, "serviceType"),
            scopes=ScopeSelection(names=scopes),
            severities=_severities(request),
            ongoing=_boolean(request, "ongoing"),
            window_start=window_start,
            window_end=window_end,
        ),
        mine=bool(_boolean(request, "mine")),
        limit=_limit(request),
    )


def _error(status: int, code: str, message: str, **extra: str) -> Response:
    body = {"error": {"code": code, "message": message, **extra}}
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return Response(
        json.dumps(body), status_code=status, media_type=formats.JSON_TYPE, headers=headers
    )


def error_response(error: DomainError) -> Response:
    if isinstance(error, Invalid):
        parameter = _FIELDS.get(error.field, error.field)
        return _error(
            400,
            error.code,
            f"{parameter}: {error.words}",
            parameter=parameter,
            rule=error.rule_code,
        )
    statuses = {Unauthenticated: 401, Forbidden: 403, NotFound: 404, Conflict: 409}
    status = statuses.get(type(error), 429 if isinstance(error, RateLimited) else 400)
    return _error(status, error.code, error.message)


@dataclass(frozen=True, slots=True)
class FeedContext:
    title: str
    link: str
    now: datetime


Renderer = Callable[[Sequence[FeedDowntime], FeedContext], bytes]


def _global_id(pk: int) -> str:
    return to_global_id("Downtime", pk)


RENDERERS: dict[str, tuple[str, Renderer]] = {
    "ics": (
        formats.ICAL_TYPE,
        lambda d, c: formats.render_ical(d, title=c.title, now=c.now),
    ),
    "rss": (
        formats.RSS_TYPE,
        lambda d, c: formats.render_rss(d, title=c.title, link=c.link, now=c.now),
    ),
    "csv": (formats.CSV_TYPE, lambda d, _c: formats.render_csv(d)),
    "json": (formats.JSON_TYPE, lambda d, _c: formats.render_json(d, global_id=_global_id)),
}


class FeedsApi(RestApi):
    def routes(self) -> list[Route]:
        return [
            Route(f"/feeds/downtimes.{kind}", self._endpoint(kind), methods=["GET"])
            for kind in RENDERERS
        ]

    async def _credentials(self, request: Request) -> Credentials:
        """`?token=` is the personal feed token: the user's API token, like `?key=`."""
        tokens = request.query_params.getlist("token")
        if not tokens:
            return await self.authenticator.credentials(request, allow_query_key=True)
        others = ("key" in request.query_params) or any(
            h in request.headers for h in ("x-api-key", "authorization")
        )
        if others:
            raise Invalid("token", FeedRule.FEED_CREDENTIAL_REPEATED)
        return await self.authenticator.credentials_from(authorization=None, api_key=tokens[0])

    def _endpoint(self, kind: str) -> Callable[[Request], Any]:
        media_type, render = RENDERERS[kind]

        async def endpoint(request: Request) -> Response:
            now = utcnow()
            try:
                query = parse_query(request, now=now)
                credentials = await self._credentials(request)
            except DomainError as error:
                return error_response(error)

            base = self.settings.public_url or str(request.base_url).rstrip("/")
            context = FeedContext(
                title="My sites' downtimes" if query.mine else "Downtimes",
                link=f"{base}/feeds/downtimes.rss",
                now=now,
            )

            def run() -> bytes:
                """Read in one transaction, then render; both off the event loop."""
                with unit_of_work(self.session_factory, write=False) as session:
                    deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                    principal = self.authenticator.principal_for_reading(
                        session, self.session_factory, credentials
                    )
                    downtimes = feed_downtimes(
                        session,
                        principal,
                        filter=query.filter,
                        scope_defaults=self.settings.scope_defaults,
                        mine=query.mine,
                        now=now,
                        limit=query.limit,
                    )
                return render(downtimes, context)

            try:
                body = await anyio.to_thread.run_sync(run)
            except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
                return _error(503, error.code, error.message)
            except DomainError as error:
                return error_response(error)
            personal = credentials.api_key is not None or credentials.claims is not None
            return Response(
                body,
                media_type=media_type,
                headers={
                    # a personal feed must not be kept by shared caches
                    "cache-control": "private, max-age=300" if personal else "public, max-age=300",
                    "vary": "authorization, x-api-key",
                },
            )

        return endpoint
