"""ARGO's v2 status timelines and raw metric results, over the monitoring domain's public
reads (`service/timelines.py`):

- `GET /status/{report}/{group_type}/{group}/services/{service}/endpoints/{host}/metrics[/{metric}]
  ?start_time=&end_time=`: each metric's status timeline, nested as ARGO nests it
  (`{"groups": [{"name", "type", "services": [{"name", "type": "service", "endpoints":
  [{"name", "metrics": [{"name", "statuses": [{"timestamp", "value"}]}]}]}]}]}`);
- `GET /metric_result/{host}/{metric}?exec_time=`: the result of that metric at that time;
  `GET /metric_result/{host}?exec_time=[&filter=ok|non-ok|critical|warning]`: every result
  of the host that day (`{"root": [{"Name", "Metrics": [{"Name", "Service", "Details":
  [{"Timestamp", "Value", "Summary", "Message"}]}]}]}`).

A metric's name may hold a `/` (EGI's `org.sam.CONDOR-JobSubmit-/ops`): the last path
element takes the rest of the path.

Above the metric, the report's own timelines (`service/levels.py`, the A/R engine's: the
one function GraphQL's `status` calls), over the window, each with its status at the
window's start (at that change's own time), the changes inside and a closing point at the
end (clipped at now); at most 31 days:

- `GET /status/{report}/{group_type}[/{group}]`: `group_type` the report's endpoint group
  type (SITE): each site's (or that one's) `{"groups": [{"name", "type", "statuses":
  [{"timestamp", "value"}]}]}`; its group type (NGI): the NGIs', in the same shape (an
  addition: argo-web-api's status packages know only the endpoint group type here);
- `GET /status/{report}/{group_type}/{group}/services[/{service}]`: `{"groups": [{"name",
  "type", "services": [{"name", "type": "service", "statuses": […]}]}]}`;
- `GET …/services/{service}/endpoints[/{host}]`: `… "services": [{"name", "type":
  "service", "endpoints": [{"name", "statuses": […]}]}]`; `GET …/{group}/endpoints` the
  same for every service type of the site;
- v3's `GET /api/v3/status/{report}[?start_time=&end_time=&view=latest]` (the window
  defaults to today up to now): each site with its endpoints, `{"groups": [{"name",
  "type", "statuses": […], "endpoints": [{"hostname", "service", "statuses": […]}]}]}`;
  `view=latest` keeps the last status of each, `view=details` adds the
  `affected_by_threshold_rule` marks.

A metric's statuses carry `actual_data`, `threshold_rule_applied` and `original_status`
(where the report's thresholds changed one) only with `view=details`, and the levels
above their `affected_by_threshold_rule` only with it too, as argo-web-api gates them; the
statuses themselves are re-graded either way.

A host the path names that is not an endpoint of that service type at that site (of the
report) is 404; an unknown report is 404 with the body argo-web-api's package for that
route gives (`find_report`), and so is a group type the report does not have (v2's status
packages' `{"message": "The report R does not define endpoint group type: T", "code":
"404"}`): types are compared with the report's topology schema exactly, as ARGO's
`routeCheckGroup` does (`SITES` is not `SITE`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.monitoring.models import ArLevel, Report
from domains.monitoring.service import availability, catalogue, endpoint_info, levels, timelines
from gateway.compat.argo import envelope, params
from gateway.compat.argo.routing import Call, Spec, route

ZULU = "%Y-%m-%dT%H:%M:%SZ"
FILTERS: dict[str, tuple[str, ...] | None] = {
    "ok": ("OK",),
    "non-ok": ("WARNING", "UNKNOWN", "MISSING", "CRITICAL", "DOWNTIME"),
    "critical": ("CRITICAL",),
    "warning": ("WARNING",),
}


def zulu(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(ZULU)


def find_report(session: Session, name: str, *, v3: bool = False) -> Report:
    """ARGO finds a report by its name (its current version: reports are not dated); an
    unknown one is 404 with the body of the package answering the route: v2's status
    packages' `{"message", "code": "404"}`, v3's `{"message", "code": 404}`."""
    found = catalogue.report_by_name(session, name)
    if found is None:
        raise envelope.report_unknown(name) if v3 else envelope.status_report_unknown(name)
    return found


async def metric_timelines(call: Call) -> Any:
    window = params.status_window(call.query)
    report, group_type, group = call.path("report"), call.path("group_type"), call.path("group")
    service, host = call.path("service"), call.path("host")
    metric = call.request.path_params.get("metric")

    def work(session: Session, principal: Principal) -> Any:
        version = find_report(session, report)
        if group_type != version.endpoint_group_type:
            raise envelope.status_type_unknown(report, group_type)
        infos = endpoint_info.endpoint_info(session, principal, hostnames=[host])
        info = infos.get((host, service))
        if info is None or info.site != group:
            raise envelope.not_found(not_in_group(host, service, group_type, group))
        # the thresholds valid on the window's last day, rules naming a group matched
        # against the group of the path (ARGO's endpoint group)
        grading = availability.grading_on(
            session, version, window.end.astimezone(dt.UTC).date(), {(host, service): group}
        )
        found = timelines.metric_timelines(
            session,
            principal,
            hostname=host,
            service_type=service,
            start=window.start,
            end=window.end,
            metric=metric,
            grading=grading,
        )
        return found, infos

    found, infos = await call.read(work)
    shown = details(call)
    metrics = [
        {
            "name": line.metric,
            "statuses": [metric_status(p, shown) for p in line.points],
        }
        for line in found
    ]
    endpoint = {"name": host, **info_of(infos.get((host, service))), "metrics": metrics}
    services = [{"name": service, "type": "service", "endpoints": [endpoint]}]
    return {"groups": [{"name": group, "type": group_type, "services": services}]}


def metric_status(point: timelines.Point, shown: bool) -> dict[str, str]:
    """One status of a metric's timeline (its status re-graded by the report's thresholds
    either way); `shown` (`view=details`): with ARGO's `actual_data`,
    `threshold_rule_applied` and `original_status` when a thresholds rule gave it (left out
    otherwise, as ARGO's omitempty does, and always without `view=details`)."""
    out = {"timestamp": zulu(point.timestamp), "value": point.status}
    if shown and point.original_status is not None:
        out["actual_data"] = point.perfdata or ""
        out["threshold_rule_applied"] = point.rule_applied or ""
        out["original_status"] = point.original_status
    return out


async def metric_result(call: Call) -> Any:
    moment = params.exec_time(call.query)
    host = call.path("host")
    metric = call.request.path_params.get("metric")
    raw_filter = call.query.get("filter")
    if metric is not None:
        start = end = moment
        statuses = None
    else:
        start = dt.datetime.combine(moment.date(), dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1, seconds=-1)
        if raw_filter is not None and raw_filter.lower() not in FILTERS:
            raise envelope.bad_request_details(
                f"filter: {raw_filter} is not one of ok, non-ok, critical, warning"
            )
        statuses = FILTERS[raw_filter.lower()] if raw_filter is not None else None

    def work(session: Session, principal: Principal) -> Any:
        rows = timelines.metric_results(
            session,
            principal,
            hostname=host,
            start=start,
            end=end,
            metric=metric,
            statuses=statuses,
        )
        grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            grouped.setdefault((row.metric, row.service_type), []).append(
                {
                    "Timestamp": zulu(row.timestamp),
                    "Value": row.status,
                    "Summary": row.summary or "",
                    "Message": row.message or "",
                }
            )
        return [
            {"Name": name, "Service": service, "Details": details}
            for (name, service), details in grouped.items()
        ]

    metrics = await call.read(work)
    return {"root": [{"Name": host, "Metrics": metrics}] if metrics else []}


def not_in_group(host: str, service: str, group_type: str, group: str) -> str:
    """ARGO's 404 details for an endpoint the path puts where the topology has none."""
    return f"No endpoint {host} of service {service} in {group_type} {group}"


def info_of(found: endpoint_info.EndpointInfo | None, key: str = "Url") -> dict[str, Any]:
    """ARGO's `info` of an endpoint (its topology's `info_*` tags; here the URL the topology
    registers, under `key`), or nothing when there is none, as ARGO omits it."""
    if found is None or not found.url:
        return {}
    return {"info": {key: found.url}}


def statuses_of(
    item: levels.LevelStatus, latest: bool = False, marked: bool = False
) -> list[dict[str, Any]]:
    """ARGO's `statuses`; `latest`: the last change only (before the closing point);
    `marked`: each status but the closing point `"affected_by_threshold_rule": true`, as
    ARGO stores its flag on every status of an affected timeline (and adds the closing
    point itself, unflagged)."""
    points = item.points[-2:-1] if latest and len(item.points) > 1 else item.points
    found: list[dict[str, Any]] = [
        {"timestamp": zulu(p.timestamp), "value": p.status} for p in points
    ]
    if marked:
        for status in found if latest else found[:-1]:
            status["affected_by_threshold_rule"] = True
    return found


def threshold_marks(
    session: Session, principal: Principal, report: Report, window: params.Window, call: Call
) -> timelines.ThresholdMarks:
    """The report's thresholds marks over the window with `view=details`, else none."""
    if not details(call):
        return timelines.ThresholdMarks()
    return timelines.threshold_marks(
        session, principal, report=report, start=window.start, end=window.end
    )


def details(call: Call) -> bool:
    """ARGO's `view=details`: the status timelines carry the thresholds' marks (a metric's
    statuses their rule, data and original status; the levels above
    `affected_by_threshold_rule`)."""
    return bool(call.query.get("view") == "details")


Filters = dict[str, list[str] | None]


async def _span(
    call: Call,
    window: params.Window,
    level_for: Callable[[Report], ArLevel | None],
    filters_for: Callable[[ArLevel], Filters],
) -> tuple[Report, ArLevel, list[levels.LevelStatus], timelines.ThresholdMarks]:
    """The report (404 if unknown, or without the path's type: `level_for(report)` is the
    level that type names, or None), the items `filters_for(level)` picks over the
    window, and their thresholds' marks with `view=details`."""

    def work(session: Session, principal: Principal) -> Any:
        report = find_report(session, call.path("report"))
        level = level_for(report)
        if level is None:
            raise envelope.status_type_unknown(report.name, call.path("group_type"))
        filters = filters_for(level)
        items = levels.status_span(
            session,
            principal,
            report=report.name,
            start=window.start,
            end=window.end,
            levels=(level,),
            ngis=filters.get("ngis"),
            sites=filters.get("sites"),
            service_types=filters.get("service_types"),
            hostnames=filters.get("hostnames"),
        )
        marks = threshold_marks(session, principal, report, window, call)
        return report, level, items, marks

    found: tuple[
        Report, ArLevel, list[levels.LevelStatus], timelines.ThresholdMarks
    ] = await call.read(work)
    return found


def _one(call: Call, name: str) -> list[str] | None:
    value = call.request.path_params.get(name)
    return None if value is None else [value]


def _below_site(call: Call, level: ArLevel) -> Callable[[Report], ArLevel | None]:
    """`level`, if the path's type is the report's endpoint group type (SITE)."""
    asked = call.path("group_type")
    return lambda report: level if asked == report.endpoint_group_type else None


async def group_timelines(call: Call) -> Any:
    window = params.status_window(call.query)
    asked, group = call.path("group_type"), _one(call, "group")

    def level_for(report: Report) -> ArLevel | None:
        if asked == report.endpoint_group_type:
            return ArLevel.SITE
        return ArLevel.SUPERGROUP if asked == report.group_type else None

    def filters_for(level: ArLevel) -> Filters:
        return {"sites": group} if level is ArLevel.SITE else {"ngis": group}

    _, _, items, marks = await _span(call, window, level_for, filters_for)
    return {
        "groups": [
            {"name": item.name, "type": asked, "statuses": statuses_of(item, marked=marks.of(item))}
            for item in items
        ]
    }


async def service_timelines(call: Call) -> Any:
    window = params.status_window(call.query)
    site, group_type = call.path("group"), call.path("group_type")
    filters: Filters = {"sites": [site], "service_types": _one(call, "service")}
    _, _, items, marks = await _span(
        call, window, _below_site(call, ArLevel.SERVICE), lambda _: filters
    )
    services = [
        {"name": item.name, "type": "service", "statuses": statuses_of(item, marked=marks.of(item))}
        for item in items
    ]
    return {"groups": [{"name": site, "type": group_type, "services": services}]}


async def endpoint_timelines(call: Call) -> Any:
    """A site's endpoints under their service types: of one service type
    (`…/services/{service}/endpoints[/{host}]`) or of every one (`…/{group}/endpoints`)."""
    window = params.status_window(call.query)
    site, group_type = call.path("group"), call.path("group_type")
    service = call.request.path_params.get("service")
    filters: Filters = {
        "sites": [site],
        "service_types": _one(call, "service"),
        "hostnames": _one(call, "host"),
    }
    _, _, items, marks = await _span(
        call, window, _below_site(call, ArLevel.ENDPOINT), lambda _: filters
    )
    host = call.request.path_params.get("host")
    if host is not None and service is not None and not items:
        raise envelope.not_found(not_in_group(host, service, group_type, site))
    by_service: dict[str, list[dict[str, Any]]] = {} if service is None else {service: []}
    for item in items:
        by_service.setdefault(item.service_type, []).append(
            {"name": item.name, "statuses": statuses_of(item, marked=marks.of(item))}
        )
    services = [
        {"name": name, "type": "service", "endpoints": endpoints}
        for name, endpoints in by_service.items()
    ]
    return {"groups": [{"name": site, "type": group_type, "services": services}]}


def v3_window(call: Call, now: dt.datetime) -> params.Window:
    """v3's window: `start_time` and `end_time` as v2 reads them, defaulting to today's
    start and now (a bound given alone keeps the other's default)."""
    given = dict(call.query)
    given.setdefault("start_time", zulu(dt.datetime.combine(now.date(), dt.time(), dt.UTC)))
    given.setdefault("end_time", zulu(now))
    given.pop("view", None)
    return params.status_window(QueryParams(given))


async def v3_status(call: Call) -> Any:
    """v3's one view: each site with its status and its endpoints'. The window defaults to
    today up to now (a bound given alone keeps the other's default); `view=details` adds
    `affected_by_threshold_rule` as the v2 views do."""
    now = utcnow()
    window = v3_window(call, now)
    latest = call.query.get("view") == "latest"

    def work(session: Session, principal: Principal) -> Any:
        report = find_report(session, call.path("report"), v3=True)
        items = levels.status_span(
            session,
            principal,
            report=report.name,
            start=window.start,
            end=window.end,
            now=now,
            levels=(ArLevel.SITE, ArLevel.ENDPOINT),
        )
        marks = threshold_marks(session, principal, report, window, call)
        return report, items, endpoint_info.endpoint_info(session, principal), marks

    report, items, infos, marks = await call.read(work)
    endpoints: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.level is ArLevel.ENDPOINT:
            endpoints.setdefault(item.site, []).append(
                {
                    "hostname": item.name,
                    "service": item.service_type,
                    **info_of(infos.get((item.name, item.service_type))),
                    "statuses": statuses_of(item, latest, marks.of(item)),
                }
            )
    return {
        "groups": [
            {
                "name": item.name,
                "type": report.endpoint_group_type,
                "statuses": statuses_of(item, latest, marks.of(item)),
                "endpoints": endpoints.get(item.name, []),
            }
            for item in items
            if item.level is ArLevel.SITE
        ]
    }


_GROUP = "/status/{report}/{group_type}/{group}"
_ENDPOINT = "/status/{report}/{group_type}/{group}/services/{service}/endpoints/{host}"
V3_ROUTES: tuple[Spec, ...] = (route("/status/{report}", v3_status),)
ROUTES: tuple[Spec, ...] = (
    route("/status/{report}/{group_type}", group_timelines),
    route(_GROUP, group_timelines),
    route(f"{_GROUP}/services", service_timelines),
    route(f"{_GROUP}/services/{{service}}", service_timelines),
    route(f"{_GROUP}/services/{{service}}/endpoints", endpoint_timelines),
    route(f"{_GROUP}/services/{{service}}/endpoints/{{host}}", endpoint_timelines),
    route(f"{_GROUP}/endpoints", endpoint_timelines),
    route(f"{_ENDPOINT}/metrics", metric_timelines),
    route(f"{_ENDPOINT}/metrics/{{metric:path}}", metric_timelines),
    route("/metric_result/{host}", metric_result),
    route("/metric_result/{host}/{metric:path}", metric_result),
)
