"""ARGO web API's request checks (argo-web-api `respond/validators.go`, `utils.ParseZuluDate`,
the results' `Validate`), with ARGO's messages: the `Accept` header, the `start_time` /
`end_time` window of results and status (zulu form, both required), `granularity`
(daily, monthly or custom; results only), `exec_time` of a metric result, the `date`
(YYYY-MM-DD) that picks a profile's version, and the flat lists' `pageSize` /
`nextPageToken`."""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from starlette.datastructures import QueryParams

from gateway.compat.argo.envelope import (
    ZULU_EXAMPLE,
    Problem,
    bad_request,
    bad_request_details,
    not_acceptable,
)

JSON = "application/json"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def check_accept(header: str | None) -> None:
    """ARGO answers only an `Accept` naming its content types (no header, `*/*` or XML
    alone is 406); opsgraph speaks JSON only, so the header must name application/json
    (parameters and other listed types are ignored)."""
    if header is None:
        raise not_acceptable()
    types = {part.split(";", 1)[0].strip().lower() for part in header.split(",")}
    if JSON not in types:
        raise not_acceptable()


def parse_zulu(value: str) -> datetime | None:
    """`2006-01-02T15:04:05Z` exactly (Go's `time.Parse(zuluForm, …)`), in UTC; None if not."""
    if not value.endswith("Z"):
        return None
    try:
        # the literal Z, read as +0000 by %z
        return datetime.strptime(value.removesuffix("Z") + "+0000", "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _zulu_problems(
    query: QueryParams, name: str, what: str
) -> tuple[datetime | None, Problem | None]:
    raw = query.get(name)
    if raw is None:
        return None, Problem(
            f"{name} not set",
            400,
            f"Please use {name} url parameter in zulu format (like {ZULU_EXAMPLE}) to indicate "
            f"the query {what} time",
        )
    parsed = parse_zulu(raw)
    if parsed is None:
        return None, Problem(
            f"{name} parsing error",
            400,
            f"Error parsing date string {raw} please use zulu format like {ZULU_EXAMPLE}",
        )
    return parsed, None


class Granularity(enum.StrEnum):
    DAILY = "daily"
    MONTHLY = "monthly"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    granularity: Granularity | None  # None for status timelines


def _window(query: QueryParams) -> tuple[datetime | None, datetime | None, list[Problem]]:
    problems: list[Problem] = []
    if "start_time" not in query and "end_time" not in query:
        problems.append(
            Problem(
                "No time span set",
                400,
                "Please use start_time and end_time url parameters to set the prefered time span",
            )
        )
        return None, None, problems
    end, end_problem = _zulu_problems(query, "end_time", "end")
    start, start_problem = _zulu_problems(query, "start_time", "start")
    problems.extend(p for p in (end_problem, start_problem) if p is not None)
    if start is not None and end is not None and end < start:
        problems.append(
            Problem("time parsing error", 400, "start_time should be a timestamp before end_time")
        )
    return start, end, problems


def results_window(query: QueryParams) -> Window:
    """The A/R results' window and granularity (default daily), or ARGO's 400 listing
    every problem."""
    start, end, problems = _window(query)
    raw = query.get("granularity")
    granularity = Granularity.DAILY
    if raw is not None:
        try:
            granularity = Granularity(raw.lower())
        except ValueError:
            problems.append(
                Problem(
                    "Wrong Granularity",
                    400,
                    f"{raw} is not accepted as granularity parameter, please provide either "
                    "daily, monthly or custom",
                )
            )
    if problems or start is None or end is None:
        raise bad_request(problems)
    return Window(start, end, granularity)


def status_window(query: QueryParams) -> Window:
    """The status timelines' window; `granularity` is refused there, as ARGO documents."""
    start, end, problems = _window(query)
    if "granularity" in query:
        problems.append(
            Problem(
                "Granularity parameter should not be used in status results",
                400,
                "Granularity parameter is valid only for a/r result requests, not for status "
                "results",
            )
        )
    if problems or start is None or end is None:
        raise bad_request(problems)
    return Window(start, end, None)


def exec_time(query: QueryParams) -> datetime:
    """A metric result's `exec_time`, required, in zulu form."""
    raw = query.get("exec_time")
    if raw is None:
        raise bad_request(
            [
                Problem(
                    "exec_time not set",
                    400,
                    f"Please use exec_time url parameter in zulu format (like {ZULU_EXAMPLE}) "
                    "to indicate the exact probe execution time",
                )
            ]
        )
    parsed = parse_zulu(raw)
    if parsed is None:
        raise bad_request(
            [
                Problem(
                    "exec_time parsing error",
                    400,
                    f"Error parsing date string {raw} please use zulu format like {ZULU_EXAMPLE}",
                )
            ]
        )
    return parsed


def history_date(query: QueryParams, today: date) -> date:
    """`?date=YYYY-MM-DD` (a profile's version valid that day), today when absent."""
    raw = query.get("date")
    if not raw:
        return today
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request_details(
            f"date parameter value: {raw} is not in the valid form of YYYY-MM-DD"
        ) from None


def page(query: QueryParams) -> tuple[int, int]:
    """A flat list's (`pageSize`, the offset `nextPageToken` names): the size -1 (the
    default: all) or positive, the token the base64 of an offset, as ARGO's; 400 naming the
    parameter if not."""
    raw_size = query.get("pageSize", "-1")
    try:
        size = int(raw_size)
    except ValueError:
        size = 0
    if size == 0 or size < -1:
        raise bad_request_details(f"pageSize: {raw_size} is not -1 or a positive number")
    token = query.get("nextPageToken")
    if token is None or token == "":
        return size, 0
    try:
        offset = int(base64.b64decode(token, validate=True).decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset = -1
    if offset < 0:
        raise bad_request_details(f"nextPageToken: {token} is not a token of this list")
    return size, offset


def page_token(offset: int) -> str:
    """The `nextPageToken` of the page that starts at `offset`."""
    return base64.b64encode(str(offset).encode("ascii")).decode("ascii")
