"""Availability/reliability export: `GET /monitoring/availability.csv` and `.json`, with the
parameters of the GraphQL `availability` query (`report`, `level`, `name`, `from`, `to`,
`granularity`) and its service function (`domains.monitoring.service.availability`), so
the same numbers and the same authorization (public, as ARGO's results are; a key or bearer
token is read as usual, a bad one is 401).

CSV: a header row, then one row per item and period (`level, parent, service_type, name,
start, end, availability, reliability, uptime, unknown, downtime`), an undefined value an
empty cell, text guarded against spreadsheet formulas. JSON: `{"availability": [{"level",
"parent", "serviceType", "name", "start", "end", "availability", "reliability", "uptime",
"unknown", "downtime"}]}` as GraphQL names them, undefined as null. Errors are the feeds'
`{"error": {"code", "message", "parameter"?, "rule"?}}`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import DomainError, Invalid, RuleCode
from domains.common.text import check_storable
from domains.downtimes.formats import CSV_TYPE, JSON_TYPE, csv_cell
from domains.monitoring.models import ArLevel
from domains.monitoring.service import availability_periods
from domains.monitoring.service.availability_periods import ArRow
from gateway import deadlines
from gateway.feeds import error_response
from gateway.rest import RestApi

PARAMETERS = ("report", "level", "name", "from", "to", "granularity")
COLUMNS = (
    "level",
    "parent",
    "service_type",
    "name",
    "start",
    "end",
    "availability",
    "reliability",
    "uptime",
    "unknown",
    "downtime",
)


class ExportRule(RuleCode):
    """The export's query-string rules (the error body's `rule`)."""

    EXPORT_PARAMETER_UNKNOWN = "unknown parameter; known: " + ", ".join(PARAMETERS)
    EXPORT_PARAMETER_REQUIRED = "required"
    EXPORT_PARAMETER_REPEATED = "at most once"
    EXPORT_LEVEL_UNKNOWN = "ENDPOINT, SERVICE, GROUP, SITE or SUPERGROUP"
    EXPORT_DATE_INVALID = "a date as YYYY-MM-DD"


@dataclass(frozen=True, slots=True)
class ExportQuery:
    report: str
    level: ArLevel
    name: str | None
    start: date
    end: date
    granularity: str


def _single(request: Request, name: str, *, required: bool = True) -> str | None:
    raw = request.query_params.getlist(name)
    if len(raw) > 1:
        raise Invalid(name, ExportRule.EXPORT_PARAMETER_REPEATED)
    value = raw[0].strip() if raw else ""
    if not value:
        if required:
            raise Invalid(name, ExportRule.EXPORT_PARAMETER_REQUIRED)
        return None
    return value


def _date(request: Request, name: str) -> date:
    value = _single(request, name)
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Invalid(name, ExportRule.EXPORT_DATE_INVALID) from None


def parse_query(request: Request) -> ExportQuery:
    """The query string; Invalid naming the parameter (the service checks the rest:
    the report, the granularity, a reversed period)."""
    check_storable(request.query_params.multi_items())
    for name in request.query_params:
        if name not in PARAMETERS:
            raise Invalid(name, ExportRule.EXPORT_PARAMETER_UNKNOWN)
    try:
        level = ArLevel(str(_single(request, "level")).upper())
    except ValueError:
        raise Invalid("level", ExportRule.EXPORT_LEVEL_UNKNOWN) from None
    return ExportQuery(
        report=str(_single(request, "report")),
        level=level,
        name=_single(request, "name", required=False),
        start=_date(request, "from"),
        end=_date(request, "to"),
        granularity=(_single(request, "granularity", required=False) or "daily").lower(),
    )


def _cells(row: ArRow) -> list[Any]:
    return [
        row.level.value,
        row.parent,
        row.service,
        row.name,
        row.start.isoformat(),
        row.end.isoformat(),
        row.availability,
        row.reliability,
        row.up,
        row.unknown,
        row.down,
    ]


def render_csv(rows: Sequence[ArRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            "" if v is None else csv_cell(v) if isinstance(v, str) else repr(v) for v in _cells(row)
        )
    return buffer.getvalue().encode("utf-8")


def render_json(rows: Sequence[ArRow]) -> bytes:
    names = ("serviceType" if c == "service_type" else c for c in COLUMNS)
    keys = list(names)
    items = [dict(zip(keys, _cells(row), strict=True)) for row in rows]
    for item in items:
        item["serviceType"] = item["serviceType"] or None
    return json.dumps({"availability": items}, ensure_ascii=False).encode("utf-8")


RENDERERS: dict[str, tuple[str, Callable[[Sequence[ArRow]], bytes]]] = {
    "csv": (CSV_TYPE, render_csv),
    "json": (JSON_TYPE, render_json),
}


class AvailabilityExport(RestApi):
    def routes(self) -> list[Route]:
        return [
            Route(f"/monitoring/availability.{kind}", self._endpoint(kind), methods=["GET"])
            for kind in RENDERERS
        ]

    def _endpoint(self, kind: str) -> Callable[[Request], Any]:
        media_type, render = RENDERERS[kind]

        async def endpoint(request: Request) -> Response:
            try:
                query = parse_query(request)
                credentials = await self.authenticator.credentials(request)
            except DomainError as error:
                return error_response(error)

            def run() -> bytes:
                with unit_of_work(self.session_factory, write=False) as session:
                    deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                    principal = self.authenticator.principal_for_reading(
                        session, self.session_factory, credentials
                    )
                    rows = availability_periods.availability(
                        session,
                        principal,
                        report=query.report,
                        level=query.level,
                        name=query.name,
                        start=query.start,
                        end=query.end,
                        granularity=query.granularity,
                    )
                return render(rows)

            try:
                body = await anyio.to_thread.run_sync(run)
            except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
                late = {"error": {"code": error.code, "message": error.message}}
                return Response(json.dumps(late), status_code=503, media_type=JSON_TYPE)
            except DomainError as error:
                return error_response(error)
            return Response(body, media_type=media_type)

        return endpoint
