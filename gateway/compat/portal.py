"""The EGI accounting portal's URL API over the same pivot function as GraphQL's
`accounting` (domains/accounting/service/pivot.py). The `/egi/...` views are public; the
`/user/...` views (same shape) give the caller's own usage (their certificate's DN and the DNs
linked to their account), the `/vo_admin/...` views one VO's per-user usage to its managers:

    /accounting/egi/<metric>/<row>/<col>/<YYYY>/<MM>/<YYYY>/<MM>/<vo_group>/<local_job_filter>/<format>
    /accounting/egi/htc/[<scope>/]<metric>/...        (scope: operations_centres, countries,
        operation_centre/<NGI>, country/<name>, resource_centre/<site>)
    /accounting/egi/site/<SITE>/<metric>/...
    /accounting/wlcg/[htc/[<scope>/] | site/<SITE>/]<metric>/...   (as /egi/, of the LHC VOs)
    /accounting/user/htc/[<scope>/]<metric>/...       (as /egi/htc/...: the caller's own DNs)
    /accounting/vo_admin/htc/<scope>/<vo>/<metric>/<row>/<col>/<YYYY>/<MM>/<YYYY>/<MM>[/<vo_group>/<local_job_filter>]/<format>
    /accounting/cloud/[site/<SITE>/]<metric>/...      (the cloud summaries' metrics)
    /accounting/user/cloud/[<scope>/]<metric>/...     (the caller's own cloud usage)
    /accounting/vo_admin/cloud/[<scope>/]<vo>/...     (a VO's per-user cloud usage)

`/wlcg/...` is /egi/'s view with the WLCG VOs (pivot.LHC_VOS) as its data set, the VO group
choosing among them. The portal's reports (service/reports.py: columns ours, the real
portal's are not published), over WLCG's federations and pledges and the VOs' disciplines
that accounting holds (service/reportdata.py):

    /accounting/wlcg/report/<tier1|tier2|countries>/<YYYY>/<MM>/<YYYY>/<MM>[/<hours|days>][/<format>]
    /accounting/report/disciplines/<YYYY>/<MM>/<YYYY>/<MM>/<htc|cloud>/<include_parent>/<d1;d2;...>[/<format>]

A report's JSON is a list of row objects (`{"id": <key>, <column>: value, ...}`, the total
row last) then `{"id": "var", "columns": [...], "report", "from", "to", "unit", "query"}`;
its CSV a header (the key's name, the columns) and the rows. JSON when no format is given.

The per-user cloud forms are ours (the reference names only the htc ones): `cloud` in the
place of `htc`, the same scopes, the cloud metrics.

`<metric>` may carry a unit (`normcpu-hour`; hours by default), `<format>` is CSV or JSON (any
case, a trailing slash allowed). JSON is the portal's legacy list: a row object per row key
(`{<column key>: value, "id": <row key>, "Total": n, "Percent": p}`), then the rows `Total`
and `Percent` (the columns'), `xlegend` and `ylegend` (the dimensions' names) and `var`
(`xrange`, `yrange`: the column and row keys; `query`: the metric). CSV: a header row (the
row dimension, the column keys, Total, Percent), the rows, then Total and Percent. A cell with
no rows is 0 (empty for cpueff). Rows or columns may be USER (alias DN) where per-user figures
are allowed. A bad argument is 400 with the feeds' error body naming it and its rule; no
credentials where they are needed 401, a view that is not the caller's 403 naming the rule.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from domains.accounting.rules import AccountingRule
from domains.accounting.service import export, reports
from domains.accounting.service import pivot as pivots
from domains.accounting.service.pivot import (
    CloudMetric,
    Dimension,
    LocalJobs,
    Metric,
    Month,
    Pivot,
    PivotQuery,
    Unit,
)
from domains.common.db import unit_of_work
from domains.common.deadline import RequestTimeout
from domains.common.errors import DomainError, Invalid
from domains.common.identity import Principal
from domains.common.text import check_storable
from domains.downtimes.formats import CSV_TYPE, JSON_TYPE, csv_cell
from gateway import deadlines
from gateway.feeds import error_response
from gateway.rest import RestApi

PREFIX = "/accounting"
VIEWS = ("egi", "wlcg", "user", "vo_admin", "cloud")
REPORT_UNITS = {"hours": Unit.HOUR, "days": Unit.DAY}
TRUTH = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
T = TypeVar("T")
EXPORT_CHUNK = 500  # rows per piece of a streamed export (/accounting/csv, /accounting/json)

# the portal's names of rows and columns (any case), and what each is called back
DIMENSIONS: dict[str, Dimension] = {
    "site": Dimension.SITE,
    "region": Dimension.NGI,
    "ngi": Dimension.NGI,
    "country": Dimension.COUNTRY,
    "vo": Dimension.VO,
    "date": Dimension.MONTH,
    "month": Dimension.MONTH,
    "year": Dimension.YEAR,
    "submithost": Dimension.SUBMIT_HOST,
    "processors": Dimension.PROCESSORS,
    "infrastructure": Dimension.INFRASTRUCTURE,
    "user": Dimension.USER,
    "dn": Dimension.USER,
}
LEGENDS: dict[Dimension, str] = {
    Dimension.SITE: "SITE",
    Dimension.NGI: "REGION",
    Dimension.COUNTRY: "COUNTRY",
    Dimension.VO: "VO",
    Dimension.MONTH: "DATE",
    Dimension.YEAR: "Year",
    Dimension.SUBMIT_HOST: "SUBMITHOST",
    Dimension.PROCESSORS: "PROCESSORS",
    Dimension.INFRASTRUCTURE: "INFRASTRUCTURE",
    Dimension.USER: "USER",
}
FORMATS = ("csv", "json")
QUERY_SEGMENTS = 10  # metric, row, col, 4 date parts, vo group, local job filter, format
SHORT_SEGMENTS = 8  # /vo_admin's without the vo group and the local job filter


@dataclass(frozen=True, slots=True)
class PortalCall:
    query: PivotQuery
    format: str


def _dimension(name: str, text: str) -> Dimension:
    try:
        return DIMENSIONS[text.lower()]
    except KeyError:
        raise Invalid(name, AccountingRule.ACCOUNTING_DIMENSION_UNKNOWN) from None


def _kind(cloud: bool) -> str:
    """The path segment naming the usage a view is of: grid (`htc`) or cloud."""
    return "cloud" if cloud else "htc"


def _scope(segments: list[str], kind: str) -> dict[str, str]:
    """The scope before the query's segments: site, ngi or country (or none); `kind`
    (htc or cloud) introduces the portal's named scopes."""
    none: dict[str, str] = {}
    if not segments:
        return none
    if segments[0] == "site" and len(segments) == 2:
        return {"site": segments[1]}
    if segments[0] == kind:
        rest = segments[1:]
        if not rest or (len(rest) == 1 and rest[0] in ("operations_centres", "countries")):
            return none
        if len(rest) == 2:
            name = {
                "operation_centre": "ngi",
                "country": "country",
                "resource_centre": "site",
            }.get(rest[0])
            if name is not None:
                return {name: rest[1]}
    raise Invalid("scope", AccountingRule.ACCOUNTING_SCOPE_UNKNOWN)


def parse_path(path: str, egi_vos: tuple[str, ...], *, cloud: bool = False) -> PortalCall:
    """The portal path after /accounting/egi/ (or, `cloud`: its cloud form, scoped by
    `cloud/...` instead of `htc/...`, the cloud metrics); Invalid naming the segment at fault."""
    segments = path.strip("/").split("/")
    check_storable([(str(i), s) for i, s in enumerate(segments)])
    if len(segments) < QUERY_SEGMENTS or any(not s for s in segments):
        raise Invalid("path", AccountingRule.ACCOUNTING_PATH_INVALID)
    scope = _scope(segments[:-QUERY_SEGMENTS], _kind(cloud))
    metric_text, row, column, y0, m0, y1, m1, vo_group, local, kind = segments[-QUERY_SEGMENTS:]
    metric, unit = pivots.parse_metric(metric_text, cloud=cloud)
    try:
        local_jobs = LocalJobs(local.lower())
    except ValueError:
        raise Invalid("local_job_filter", AccountingRule.ACCOUNTING_LOCAL_JOBS_UNKNOWN) from None
    if kind.lower() not in FORMATS:
        raise Invalid("format", AccountingRule.ACCOUNTING_FORMAT_UNKNOWN)
    query = PivotQuery(
        metric=metric,
        rows=_dimension("row", row),
        columns=_dimension("col", column),
        start=Month.of("from", y0, m0),
        end=Month.of("to", y1, m1),
        unit=unit,
        vo_group=vo_group,
        local_jobs=local_jobs,
        site=scope.get("site"),
        ngi=scope.get("ngi"),
        country=scope.get("country"),
        egi_vos=egi_vos,
    )
    return PortalCall(query, kind.lower())


def parse_cloud_path(path: str, egi_vos: tuple[str, ...]) -> PortalCall:
    """The path after /accounting/cloud/: /egi/'s query segments, a cloud metric, optionally
    after `site/<SITE>/`."""
    return parse_path(path, egi_vos, cloud=True)


def _is_cloud(path: str) -> bool:
    """Whether a /user or /vo_admin path is of cloud usage (`cloud/...`; else grid)."""
    return path.strip("/").split("/", 1)[0] == _kind(cloud=True)


def parse_user_path(path: str, egi_vos: tuple[str, ...]) -> PortalCall:
    """The path after /accounting/user/: as /egi/'s (or, `cloud/...`, as /cloud/'s with
    /egi/htc's scopes), for the caller's own DNs."""
    call = parse_path(path, egi_vos, cloud=_is_cloud(path))
    return PortalCall(dataclasses.replace(call.query, mine=True), call.format)


def parse_vo_admin_path(path: str, egi_vos: tuple[str, ...]) -> PortalCall:
    """The path after /accounting/vo_admin/: `htc/[<scope>/]<vo>/` (or `cloud/...`, of cloud
    usage), then /egi/'s query segments, the vo group and local job filter optional (all,
    onlyinfrajobs); a per-user view of that VO."""
    segments = path.strip("/").split("/")
    short = len(segments) < 2 or segments[-2].lower() not in {f.value for f in LocalJobs}
    taken = SHORT_SEGMENTS if short else QUERY_SEGMENTS
    before = segments[:-taken]
    cloud = _is_cloud(path)
    if len(segments) < taken + 2 or before[0] != _kind(cloud) or any(not s for s in segments):
        raise Invalid("path", AccountingRule.ACCOUNTING_VO_ADMIN_PATH_INVALID)
    query = segments[-taken:]
    if short:
        query = [*query[:-1], "all", LocalJobs.ONLY_INFRA.value, query[-1]]
    call = parse_path("/".join([*before[:-1], *query]), egi_vos, cloud=cloud)
    detail = dataclasses.replace(call.query, vo=before[-1], detail=True)
    return PortalCall(detail, call.format)


def parse_wlcg_path(path: str, egi_vos: tuple[str, ...]) -> PortalCall:
    """The path after /accounting/wlcg/: /egi/'s forms over the WLCG (LHC) VOs only."""
    call = parse_path(path, egi_vos)
    return PortalCall(dataclasses.replace(call.query, vos=pivots.LHC_VOS), call.format)


@dataclass(frozen=True, slots=True)
class ReportCall:
    compute: Callable[[Session, Principal], reports.Report]
    format: str


def _segments(path: str) -> list[str]:
    segments = path.strip("/").split("/")
    check_storable([(str(i), s) for i, s in enumerate(segments)])
    if any(not s for s in segments):
        raise Invalid("path", AccountingRule.ACCOUNTING_REPORT_PATH_INVALID)
    return segments


def _report_format(text: str) -> str:
    if text.lower() not in FORMATS:
        raise Invalid("format", AccountingRule.ACCOUNTING_FORMAT_UNKNOWN)
    return text.lower()


def parse_tier_report(path: str) -> ReportCall:
    """The path after /accounting/wlcg/report/: `<tier1|tier2|countries>/<YYYY>/<MM>/<YYYY>/
    <MM>`, then optionally the unit (hours, days; hours by default) and the format."""
    segments = _segments(path)
    if not 5 <= len(segments) <= 7:
        raise Invalid("path", AccountingRule.ACCOUNTING_REPORT_PATH_INVALID)
    try:
        kind = reports.ReportKind(segments[0].lower())
    except ValueError:
        raise Invalid("report", AccountingRule.ACCOUNTING_REPORT_KIND_UNKNOWN) from None
    start, end = Month.of("from", *segments[1:3]), Month.of("to", *segments[3:5])
    rest = segments[5:]
    if len(rest) == 1 and rest[0].lower() in FORMATS:
        rest = ["hours", *rest]
    unit = REPORT_UNITS.get((rest or ["hours"])[0].lower())
    if unit is None:
        raise Invalid("unit", AccountingRule.ACCOUNTING_REPORT_UNIT_UNKNOWN)
    form = _report_format(rest[1]) if len(rest) == 2 else "json"
    return ReportCall(
        lambda session, principal: reports.tier_report(session, kind, start, end, unit, principal),
        form,
    )


def parse_discipline_report(path: str) -> ReportCall:
    """The path after /accounting/report/: `disciplines/<YYYY>/<MM>/<YYYY>/<MM>/<htc|cloud>/
    <include_parent>/<disciplines, ;-separated>[/<format>]`."""
    segments = _segments(path)
    if not 8 <= len(segments) <= 9 or segments[0].lower() != "disciplines":
        raise Invalid("path", AccountingRule.ACCOUNTING_REPORT_PATH_INVALID)
    start, end = Month.of("from", *segments[1:3]), Month.of("to", *segments[3:5])
    infrastructure = segments[5].lower()
    if infrastructure not in ("htc", "cloud"):
        raise Invalid("infrastructure", AccountingRule.ACCOUNTING_INFRASTRUCTURE_UNKNOWN)
    include_parent = TRUTH.get(segments[6].lower())
    if include_parent is None:
        raise Invalid("include_parent", AccountingRule.ACCOUNTING_INCLUDE_PARENT_INVALID)
    names = [n.strip() for n in segments[7].split(";") if n.strip()]
    if not names:
        raise Invalid("disciplines", AccountingRule.ACCOUNTING_DISCIPLINE_UNKNOWN)
    form = _report_format(segments[8]) if len(segments) == 9 else "json"
    return ReportCall(
        lambda session, principal: reports.discipline_report(
            session,
            start,
            end,
            cloud=infrastructure == "cloud",
            include_parent=include_parent,
            names=names,
            principal=principal,
        ),
        form,
    )


def report_json(found: reports.Report) -> list[dict[str, Any]]:
    """The rows as objects (id first, then the columns in order), then `var`."""
    out = [{"id": row["id"], **{c: row.get(c) for c in found.columns}} for row in found.rows]
    out.append({"id": "var", "columns": [found.key, *found.columns], **found.var})
    return out


def _report_cell(value: Any) -> str:
    if value is None:
        return ""
    return csv_cell(value) if isinstance(value, str) else repr(value)


def report_csv(found: reports.Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([found.key, *(csv_cell(c) for c in found.columns)])
    for row in found.rows:
        cells = [_report_cell(row.get(c)) for c in found.columns]
        writer.writerow([_report_cell(row["id"]), *cells])
    return buffer.getvalue()


PARSERS: dict[str, Callable[[str, tuple[str, ...]], PortalCall]] = {
    "egi": parse_path,
    "wlcg": parse_wlcg_path,
    "user": parse_user_path,
    "vo_admin": parse_vo_admin_path,
    "cloud": parse_cloud_path,
}


def _value(value: float | None, metric: Metric | CloudMetric) -> float | None:
    """A cell with no rows: 0, or undefined for cpueff."""
    if value is None:
        return None if metric.is_ratio else 0.0
    return value


def legacy_json(found: Pivot) -> list[dict[str, Any]]:
    metric = found.query.metric
    row_totals = {t.key: t for t in found.row_totals}
    cells = found.by_key()
    out: list[dict[str, Any]] = []
    for row in found.row_keys:
        item: dict[str, Any] = {}
        for column in found.column_keys:
            cell = cells.get((row, column))
            item[column] = _value(None if cell is None else cell.value, metric)
        item |= {"id": row, "Total": row_totals[row].value, "Percent": row_totals[row].percent}
        out.append(item)
    grand_percent = None if metric.is_ratio or found.total is None else 100.0
    total: dict[str, Any] = {t.key: t.value for t in found.column_totals}
    out.append(total | {"id": "Total", "Total": found.total, "Percent": grand_percent})
    percent: dict[str, Any] = {t.key: t.percent for t in found.column_totals}
    out.append(percent | {"id": "Percent", "Total": grand_percent, "Percent": None})
    out.append({"id": "xlegend", "value": LEGENDS[found.query.columns]})
    out.append({"id": "ylegend", "value": LEGENDS[found.query.rows]})
    out.append(
        {
            "id": "var",
            "xrange": found.column_keys,
            "yrange": found.row_keys,
            "query": metric.value,
        }
    )
    return out


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(value)


def legacy_csv(found: Pivot) -> str:
    metric = found.query.metric
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            csv_cell(f"{LEGENDS[found.query.rows]} / {LEGENDS[found.query.columns]}"),
            *(csv_cell(c) for c in found.column_keys),
            "Total",
            "Percent",
        ]
    )
    row_totals = {t.key: t for t in found.row_totals}
    by_key = found.by_key()
    for row in found.row_keys:
        cells = [by_key.get((row, c)) for c in found.column_keys]
        writer.writerow(
            [
                csv_cell(row),
                *(_csv_number(_value(None if c is None else c.value, metric)) for c in cells),
                _csv_number(row_totals[row].value),
                _csv_number(row_totals[row].percent),
            ]
        )
    grand_percent = None if metric.is_ratio or found.total is None else 100.0
    writer.writerow(
        [
            "Total",
            *(_csv_number(t.value) for t in found.column_totals),
            _csv_number(found.total),
            _csv_number(grand_percent),
        ]
    )
    writer.writerow(["Percent", *(_csv_number(t.percent) for t in found.column_totals), "", ""])
    return buffer.getvalue()


def export_csv(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The export as CSV pieces: a header, then the rows (text guarded against formulas)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(export.COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow(
            ["" if v is None else csv_cell(v) if isinstance(v, str) else repr(v) for v in row]
        )
        if n % EXPORT_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def export_json(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """The export as JSON pieces: `{"results": [{"series": [{"name": "summary", "columns":
    [...], "values": [[...], ...]}]}]}`."""
    yield (
        '{"results": [{"series": [{"name": "summary", "columns": '
        + json.dumps(export.COLUMNS)
        + ', "values": ['
    )
    piece: list[str] = []
    first = True
    for row in rows:
        piece.append(json.dumps(row, ensure_ascii=False))
        if len(piece) == EXPORT_CHUNK:
            yield ("" if first else ", ") + ", ".join(piece)
            first, piece = False, []
    if piece:
        yield ("" if first else ", ") + ", ".join(piece)
    yield "]}]}]}"


class PortalApi(RestApi):
    def routes(self) -> list[Route]:
        return [
            # before /wlcg/{path}, which would take them
            Route(f"{PREFIX}/wlcg/report/{{path:path}}", self.tier_report, methods=["GET"]),
            Route(f"{PREFIX}/report/{{path:path}}", self.discipline_report, methods=["GET"]),
            *(
                Route(
                    f"{PREFIX}/{view}/{{path:path}}", self._endpoint(PARSERS[view]), methods=["GET"]
                )
                for view in VIEWS
            ),
            Route(f"{PREFIX}/csv", self.export_endpoint, methods=["GET"]),
            Route(f"{PREFIX}/json", self.export_endpoint, methods=["GET"]),
        ]

    async def export_endpoint(self, request: Request) -> Response:
        """The whole dataset, streamed: the rows come from a server-side cursor in batches
        as the client reads, in one read transaction (not bounded by
        OPSGRAPH_REQUEST_TIMEOUT, which would cut a long download short)."""
        factory = self.session_factory
        credentials = await self.authenticator.credentials(request)

        def signed_in() -> None:
            with unit_of_work(factory, write=False) as session:
                self.authenticator.principal_for_reading(session, factory, credentials)

        try:  # public data, but credentials given must be valid, as on the other views
            await anyio.to_thread.run_sync(signed_in)
        except DomainError as error:
            return error_response(error)
        as_json = request.url.path.endswith("/json")
        render = export_json if as_json else export_csv

        def pieces() -> Iterator[bytes]:
            with unit_of_work(factory, write=False) as session:
                for piece in render(export.export_rows(session)):
                    yield piece.encode()

        media_type = JSON_TYPE if as_json else CSV_TYPE
        return StreamingResponse(pieces(), media_type=media_type)

    def _endpoint(
        self, parse: Callable[[str, tuple[str, ...]], PortalCall]
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self.answer(request, parse)

        return endpoint

    async def tier_report(self, request: Request) -> Response:
        return await self.report(request, parse_tier_report)

    async def discipline_report(self, request: Request) -> Response:
        return await self.report(request, parse_discipline_report)

    async def report(self, request: Request, parse: Callable[[str], ReportCall]) -> Response:
        """A report (public aggregates, as the views): JSON or CSV."""
        try:
            call = parse(str(request.path_params["path"]))
        except DomainError as error:
            return error_response(error)
        found = await self.compute(request, call.compute)
        if isinstance(found, Response):
            return found
        if call.format == "json":
            body = json.dumps(report_json(found), ensure_ascii=False)
            return Response(body, media_type=JSON_TYPE)
        return Response(report_csv(found), media_type=CSV_TYPE)

    async def compute(
        self, request: Request, compute: Callable[[Session, Principal], T]
    ) -> T | Response:
        """`compute` in a read transaction bounded by OPSGRAPH_REQUEST_TIMEOUT, as the
        caller (the credentials given must be valid); an error as the feeds' error body."""
        try:
            credentials = await self.authenticator.credentials(request)
        except DomainError as error:
            return error_response(error)

        def run() -> T:
            with unit_of_work(self.session_factory, write=False) as session:
                deadlines.limit(session, deadlines.start(self.settings.request_timeout))
                principal = self.authenticator.principal_for_reading(
                    session, self.session_factory, credentials
                )
                return compute(session, principal)

        try:
            return await anyio.to_thread.run_sync(run)
        except RequestTimeout as error:  # OPSGRAPH_REQUEST_TIMEOUT; rolled back
            late = {"error": {"code": error.code, "message": error.message}}
            return Response(json.dumps(late), status_code=503, media_type=JSON_TYPE)
        except DomainError as error:
            return error_response(error)

    async def answer(
        self, request: Request, parse: Callable[[str, tuple[str, ...]], PortalCall]
    ) -> Response:
        try:
            call = parse(str(request.path_params["path"]), self.settings.accounting_egi_vos)
        except DomainError as error:
            return error_response(error)
        found = await self.compute(
            request, lambda session, principal: pivots.pivot(session, call.query, principal)
        )
        if isinstance(found, Response):
            return found
        if call.format == "json":
            body = json.dumps(legacy_json(found), ensure_ascii=False)
            return Response(body, media_type=JSON_TYPE)
        return Response(legacy_csv(found), media_type=CSV_TYPE)
