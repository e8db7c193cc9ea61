"""ARGO's flat A/R list and v3's A/R of an endpoint by resource id, over the availability
service (`availability(...)`, the one GraphQL calls) and the topology's endpoint info
(`service/endpoint_info.py`):

- `GET /results/{report}/endpoints?start_time=&end_time=[&granularity=&pageSize=
  &nextPageToken=&supergroup=&service=]`: every endpoint's A/R, `{"results": [{"name",
  "type": "endpoint", "service", "supergroup" (its site), "info"?: {"Url"}, "results":
  [{"timestamp", "availability", "reliability", "unknown", "uptime", "downtime"}]}]
  [, "nextPageToken", "pageSize"]}`; `supergroup` and `service` keep one site's or one
  service type's. As ARGO's (`FlatListEndpointResults`), a page holds `pageSize` result
  rows (an endpoint's day, month or period) in the order host name, service type, site,
  date, so an endpoint's rows may go on over the next page; `pageSize` is in the answer only
  when the request gave one. No row (none in the window, none of that site or service
  type, a page past the last) is ARGO's 404 `{"message": "No results found for given
  query", "code": 404}`, as every v2 results route answers it.
- v3's `GET /api/v3/results/{report}/id/{id}?start_time=&end_time=[&granularity=]`: the
  endpoints whose resource id (the service's primary key, ARGO's `info_ID`) is `id`,
  `{"id", "endpoints": [{"name", "service", "group", "info"?: {"URL"}, "results":
  [{"date", …}]}]}`.

An unknown report is 404, and so is an id no endpoint of the report has results for."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.monitoring.models import ArLevel
from domains.monitoring.service import availability_periods, endpoint_info
from domains.monitoring.service.availability_periods import ArRow
from gateway.compat.argo import envelope, params
from gateway.compat.argo.params import Granularity, Window
from gateway.compat.argo.results import item_of, results_report
from gateway.compat.argo.routing import Call, Spec, route
from gateway.compat.argo.status import info_of


def _endpoint_rows(
    session: Session, principal: Principal, report_name: str, window: Window
) -> list[ArRow]:
    """The report's endpoint A/R over the window (404 for an unknown report), in ARGO's
    flat order: host name, service type, site, date."""
    report = results_report(session, report_name)
    rows = availability_periods.availability(
        session,
        principal,
        report=report.name,
        level=ArLevel.ENDPOINT,
        name=None,
        start=window.start.date(),
        end=window.end.date(),
        granularity=(window.granularity or Granularity.DAILY).value,
    )
    return sorted(rows, key=lambda r: (r.name, r.service, r.parent, r.start))


def _key(row: ArRow) -> tuple[str, str, str]:
    return row.name, row.service, row.parent


async def flat_endpoints(call: Call) -> Any:
    window = params.results_window(call.query)
    size, offset = params.page(call.query)  # a bad page is 400 before any work
    site, service = call.query.get("supergroup"), call.query.get("service")
    granularity = window.granularity or Granularity.DAILY

    def work(session: Session, principal: Principal) -> Any:
        results_report(session, call.path("report"))  # ARGO's results package's 404
        rows = [
            r
            for r in _endpoint_rows(session, principal, call.path("report"), window)
            if (site is None or r.parent == site) and (service is None or r.service == service)
        ]
        end = len(rows) if size == -1 else offset + size
        shown = rows[offset:end]
        hosts = {r.name for r in shown}
        infos = endpoint_info.endpoint_info(session, principal, hostnames=hosts) if hosts else {}
        return shown, infos, end < len(rows) and size != -1, end

    shown, infos, more, end = await call.read(work)
    if not shown:  # none at all, or a page past the last: ARGO's query found no row
        raise envelope.no_results()
    body: dict[str, Any] = {
        "results": [
            {
                "name": name,
                "type": "endpoint",
                "service": stype,
                "supergroup": parent,
                **info_of(infos.get((name, stype))),
                "results": [item_of(r, granularity) for r in found],
            }
            for (name, stype, parent), found in groupby(shown, key=_key)
        ]
    }
    if more:
        body["nextPageToken"] = params.page_token(end)
    if size != -1:
        body["pageSize"] = size
    return body


async def v3_by_id(call: Call) -> Any:
    window = params.results_window(call.query)
    granularity = window.granularity or Granularity.DAILY
    resource_id, report_name = call.path("id"), call.path("report")

    def work(session: Session, principal: Principal) -> Any:
        results_report(session, report_name)  # 404 first for an unknown report
        infos = endpoint_info.endpoint_info(session, principal, resource_id=resource_id)
        if not infos:
            return infos, []
        rows = [
            r
            for r in _endpoint_rows(session, principal, report_name, window)
            if (info := infos.get((r.name, r.service))) is not None and info.site == r.parent
        ]
        return infos, rows

    infos, rows = await call.read(work)
    if not rows:
        raise envelope.not_found(
            f"No endpoint with resource id: {resource_id} has results in report: {report_name}"
        )
    return {
        "id": resource_id,
        "endpoints": [
            {
                "name": name,
                "service": stype,
                "group": parent,
                **info_of(infos[(name, stype)], "URL"),
                "results": [item_of(r, granularity, "date") for r in found],
            }
            for (name, stype, parent), found in groupby(rows, key=_key)
        ],
    }


V3_ROUTES: tuple[Spec, ...] = (route("/results/{report}/id/{id}", v3_by_id),)
ROUTES: tuple[Spec, ...] = (route("/results/{report}/endpoints", flat_endpoints),)
