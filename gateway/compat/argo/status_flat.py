"""ARGO's flat status lists and v3's lookup of an endpoint by resource id, over the same
service functions as the nested status routes (`service/levels.py`, `service/timelines.py`)
and the topology's endpoint info (`service/endpoint_info.py`):

- `GET /status/{report}/endpoints?start_time=&end_time=[&pageSize=&nextPageToken=]`: every
  endpoint of the report with its status timeline, `{"results": [{"name", "type":
  "endpoint", "service", "supergroup" (its site), "info"?, "statuses": [{"timestamp",
  "value"}]}], "pageSize"[, "nextPageToken"]}` (ARGO's page of the flat A/R list, with the
  statuses of its nested status routes, and their `affected_by_threshold_rule` marks with
  `view=details`);
- `GET /status/{report}/metrics/{metric}?…`: that metric's timeline on every endpoint of
  the report that has it, `{"results": [{"type": "endpoint_metric", "name", "service",
  "supergroup", "metric", "statuses": […]}], "pageSize"[, "nextPageToken"]}`, each
  status as the nested metric view gives it: under the report's thresholds profile (the
  version valid on the window's last day) re-graded, with `view=details` with
  `actual_data`, `threshold_rule_applied` and `original_status` where a rule changed it;
- v3's `GET /api/v3/status/{report}/id/{id}[?view=details&start_time=&end_time=]`: the
  endpoint whose resource id (the service's primary key, ARGO's `info_ID`) is `id`,
  `{"id", "endpoints": [{"hostname", "service", "group", "info"?: {"URL"}, "statuses"}]}`,
  with its latest status, or its whole timeline over the window with `view=details` (the
  window defaults to today up to now, as v3's other view).

`pageSize` is how many items a page holds (-1, the default: all) and `nextPageToken` the
token the previous page gave (base64 of the next item's offset, as ARGO's); an unknown
report, or an id no endpoint of the report has, is 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.monitoring.models import ArLevel, Report
from domains.monitoring.service import availability, endpoint_info, levels, timelines
from gateway.compat.argo import envelope, params
from gateway.compat.argo.routing import Call, Spec, route
from gateway.compat.argo.status import (
    details,
    find_report,
    info_of,
    metric_status,
    statuses_of,
    threshold_marks,
    v3_window,
)


def _paged(call: Call, items: list[dict[str, Any]]) -> dict[str, Any]:
    size, offset = params.page(call.query)
    end = len(items) if size == -1 else offset + size
    body: dict[str, Any] = {"results": items[offset:end], "pageSize": size}
    if end < len(items):
        body["nextPageToken"] = params.page_token(end)
    return body


def _report_endpoints(
    session: Session,
    principal: Principal,
    report: Report,
    window: params.Window,
    sites: list[str] | None = None,
    hostnames: list[str] | None = None,
) -> list[levels.LevelStatus]:
    """The endpoints of the report over the window."""
    return levels.status_span(
        session,
        principal,
        report=report.name,
        start=window.start,
        end=window.end,
        levels=(ArLevel.ENDPOINT,),
        sites=sites,
        hostnames=hostnames,
    )


async def flat_endpoints(call: Call) -> Any:
    window = params.status_window(call.query)
    params.page(call.query)  # a bad page is 400 before any work

    def work(session: Session, principal: Principal) -> Any:
        report = find_report(session, call.path("report"))
        items = _report_endpoints(session, principal, report, window)
        hosts = {item.name for item in items}
        infos = endpoint_info.endpoint_info(session, principal, hostnames=hosts)
        marks = threshold_marks(session, principal, report, window, call)
        return items, infos, marks

    items, infos, marks = await call.read(work)
    return _paged(
        call,
        [
            {
                "name": item.name,
                "type": "endpoint",
                "service": item.service_type,
                "supergroup": item.site,
                **info_of(infos.get((item.name, item.service_type))),
                "statuses": statuses_of(item, marked=marks.of(item)),
            }
            for item in items
        ],
    )


async def flat_metrics(call: Call) -> Any:
    window = params.status_window(call.query)
    params.page(call.query)
    metric = call.path("metric")

    def work(session: Session, principal: Principal) -> Any:
        report = find_report(session, call.path("report"))
        items = _report_endpoints(session, principal, report, window)
        by_key = {(item.name, item.service_type): item for item in items}
        # the thresholds as the nested metric view applies them (status.metric_timelines)
        grading = availability.grading_on(
            session,
            report,
            window.end.astimezone(dt.UTC).date(),
            {key: item.site for key, item in by_key.items()},
        )
        lines = timelines.metric_timelines_of(
            session,
            principal,
            endpoints=list(by_key),
            metric=metric,
            start=window.start,
            end=window.end,
            grading=grading,
        )
        return [(by_key[(line.hostname, line.service_type)], line) for line in lines]

    found: list[tuple[levels.LevelStatus, timelines.MetricTimeline]] = await call.read(work)
    shown = details(call)
    return _paged(
        call,
        [
            {
                "type": "endpoint_metric",
                "name": item.name,
                "service": item.service_type,
                "supergroup": item.site,
                "metric": line.metric,
                "statuses": [metric_status(p, shown) for p in line.points],
            }
            for item, line in found
        ],
    )


async def v3_by_id(call: Call) -> Any:
    window = v3_window(call, utcnow())
    whole = details(call)
    resource_id, report_name = call.path("id"), call.path("report")

    def work(session: Session, principal: Principal) -> Any:
        report = find_report(session, report_name, v3=True)  # 404 first if unknown
        infos = endpoint_info.endpoint_info(session, principal, resource_id=resource_id)
        items = []
        if infos:
            sites = sorted({info.site for info in infos.values()})
            hosts = sorted({info.hostname for info in infos.values()})
            items = _report_endpoints(session, principal, report, window, sites, hosts)
        return [
            (item, infos[key]) for item in items if (key := (item.name, item.service_type)) in infos
        ]

    found: list[tuple[levels.LevelStatus, endpoint_info.EndpointInfo]] = await call.read(work)
    if not found:
        raise envelope.not_found(
            f"No endpoint with resource id: {resource_id} in report: {report_name}"
        )
    return {
        "id": resource_id,
        "endpoints": [
            {
                "hostname": item.name,
                "service": item.service_type,
                "group": item.site,
                **info_of(info, "URL"),
                "statuses": statuses_of(item, latest=not whole),
            }
            for item, info in found
        ],
    }


V3_ROUTES: tuple[Spec, ...] = (route("/status/{report}/id/{id}", v3_by_id),)
ROUTES: tuple[Spec, ...] = (
    route("/status/{report}/endpoints", flat_endpoints),
    route("/status/{report}/metrics/{metric:path}", flat_metrics),
)
