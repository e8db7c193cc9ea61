"""ARGO's v2 A/R results over the availability service (`availability(...)`, the one GraphQL
calls), with ARGO's path forms and numbers as strings:

- `GET /results/{report}/{type}[/{name}]`: `type` the report's group type (e.g. NGI): each
  group's (or that one's) `{"results": [{"name", "type", "results": [{"timestamp",
  "availability", "reliability"}]}]}`; `type` its endpoint group type (e.g. SITE): each
  site (or that one) under its group, `{"results": [{"name", "type", "endpoints": [{"name",
  "type", "results": [{"timestamp", "availability", "reliability", "unknown", "uptime",
  "downtime"}]}]}]}`;
- `GET /results/{report}/{type}/{site}/services[/{service}]`: the site's service types,
  `{"results": [{"name", "type", "serviceflavors": [{"name", "type": "service",
  "results": […]}]}]}`;
- `GET /results/{report}/{type}/{site}/services/{service}/endpoints[/{host}]`: their
  endpoints, `… "serviceflavors": [{…, "endpoints": [{"name", "type": "endpoint",
  "results": […]}]}]`; `GET /results/{report}/{type}/{site}/endpoints[/{host}]` the same
  for every service type of the site.

The flat `/results/{report}/endpoints` and v3's lookup by resource id: results_flat.py.

`?start_time=&end_time=` (zulu, required) choose the days, `granularity` daily (timestamps
`2015-06-22`), monthly (`2015-06`) or custom (the whole period, timestamped by its first
day). A type the report does not have is 404; an unknown report is the results package's
404 `{"message": "The report with the name X does not exist", "code": 404}` (v3's views
answer it alike); a query without a row (an unknown site, service type or host,
or a window with no A/R yet) is ARGO's 404 `{"message": "No results found for given
query", "code": 404}` (its results package's body, not the envelope).

v3's `GET /api/v3/results/{report}` gives each group with its own results and its sites'
(`{"results": [{"name", "type", "results": [{"date", …}], "groups": [{"name", "type",
"results": […]}]}]}`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.monitoring.models import ArLevel, Report
from domains.monitoring.service import availability_periods, catalogue
from gateway.compat.argo import envelope, params
from gateway.compat.argo.params import Granularity, Window
from gateway.compat.argo.routing import Call, Spec, route


def number(value: float | None) -> str:
    """A number as ARGO writes it (Go's shortest form: `0`, `100`, `0.98264`); an undefined
    value as ARGO stores it, `-1`."""
    if value is None:
        return "-1"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _timestamp(row: availability_periods.ArRow, granularity: Granularity) -> str:
    if granularity is Granularity.MONTHLY:
        return row.start.strftime("%Y-%m")
    return row.start.isoformat()


def item_of(
    row: availability_periods.ArRow, granularity: Granularity, stamp: str = "timestamp"
) -> dict[str, str]:
    """One leaf of ARGO's results: its date (`stamp`) and figures as strings."""
    found = {
        stamp: _timestamp(row, granularity),
        "availability": number(row.availability),
        "reliability": number(row.reliability),
    }
    if row.level is not ArLevel.SUPERGROUP:
        found["unknown"] = number(row.unknown)
        found["uptime"] = number(row.up)
        found["downtime"] = number(row.down)
    return found


def same_type(asked: str, defined: str) -> bool:
    """`SITE` and `SITES`, `NGI` and `NGIS` alike (EGI's reports use both), any case."""
    return asked.upper().removesuffix("S") == defined.upper().removesuffix("S")


def results_report(session: Session, name: str) -> Report:
    """The report a v2 results route or a v3 route names (its current version); ARGO's
    results package's (and v3's) 404 (`envelope.report_unknown`) when there is none."""
    found = catalogue.report_by_name(session, name)
    if found is None:
        raise envelope.report_unknown(name)
    return found


async def _rows(
    call: Call, level_of: Callable[[Any], ArLevel | None], name: str | None
) -> tuple[Any, ArLevel, list[availability_periods.ArRow], Window]:
    """The report (checked, 404 if unknown), the level the path's type names, its rows,
    and the window."""
    window = params.results_window(call.query)
    assert window.granularity is not None
    report_name = call.path("report")

    def work(session: Session, principal: Principal) -> Any:
        report = results_report(session, report_name)
        level = level_of(report)
        if level is None:
            raise envelope.not_found(
                f"{call.path('type')} is neither the report's group type "
                f"({report.group_type}) nor its endpoint group type ({report.endpoint_group_type})"
            )
        rows = availability_periods.availability(
            session,
            principal,
            report=report.name,
            level=level,
            name=name,
            start=window.start.date(),
            end=window.end.date(),
            granularity=window.granularity.value if window.granularity else "daily",
        )
        return report, level, rows

    report, level, rows = await call.read(work)
    if not rows:
        raise envelope.no_results()
    return report, level, rows, window


def _group_level(call: Call) -> Callable[[Any], ArLevel | None]:
    asked = call.path("type")

    def level_of(report: Any) -> ArLevel | None:
        if same_type(asked, report.group_type):
            return ArLevel.SUPERGROUP
        if same_type(asked, report.endpoint_group_type):
            return ArLevel.SITE
        return None

    return level_of


def _site_level(level: ArLevel) -> Callable[[Call], Callable[[Any], ArLevel | None]]:
    def for_call(call: Call) -> Callable[[Any], ArLevel | None]:
        asked = call.path("type")
        return lambda report: level if same_type(asked, report.endpoint_group_type) else None

    return for_call


def _grouped(
    rows: list[availability_periods.ArRow],
    key: Callable[[availability_periods.ArRow], tuple[str, ...]],
) -> dict[tuple[str, ...], list[availability_periods.ArRow]]:
    found: dict[tuple[str, ...], list[availability_periods.ArRow]] = {}
    for row in rows:
        found.setdefault(key(row), []).append(row)
    return found


async def groups(call: Call) -> Any:
    name = call.request.path_params.get("name")
    report, level, rows, window = await _rows(call, _group_level(call), name)
    granularity = window.granularity or Granularity.DAILY
    if level is ArLevel.SUPERGROUP:
        return {
            "results": [
                {
                    "name": group,
                    "type": report.group_type,
                    "results": [item_of(r, granularity) for r in found],
                }
                for (group,), found in _grouped(rows, lambda r: (r.name,)).items()
            ]
        }
    by_group = _grouped(rows, lambda r: (r.parent,))
    return {
        "results": [
            {
                "name": group,
                "type": report.group_type,
                "endpoints": [
                    {
                        "name": site,
                        "type": report.endpoint_group_type,
                        "results": [item_of(r, granularity) for r in found],
                    }
                    for (site,), found in _grouped(members, lambda r: (r.name,)).items()
                ],
            }
            for (group,), members in by_group.items()
        ]
    }


async def services(call: Call) -> Any:
    site = call.path("name")
    service = call.request.path_params.get("service")
    report, _, rows, window = await _rows(call, _site_level(ArLevel.SERVICE)(call), service)
    granularity = window.granularity or Granularity.DAILY
    mine = [r for r in rows if r.parent == site]
    if not mine:
        raise envelope.no_results()
    flavors = [
        {"name": name, "type": "service", "results": [item_of(r, granularity) for r in found]}
        for (name,), found in _grouped(mine, lambda r: (r.name,)).items()
    ]
    return {
        "results": [{"name": site, "type": report.endpoint_group_type, "serviceflavors": flavors}]
    }


async def endpoints(call: Call) -> Any:
    """A site's endpoints, of one service type (`…/services/{service}/endpoints`) or of all
    (`…/{site}/endpoints`), under their service types."""
    site, service = call.path("name"), call.request.path_params.get("service")
    host = call.request.path_params.get("host")
    report, _, rows, window = await _rows(call, _site_level(ArLevel.ENDPOINT)(call), host)
    granularity = window.granularity or Granularity.DAILY
    mine = [r for r in rows if r.parent == site and service in (None, r.service)]
    if not mine:
        raise envelope.no_results()
    flavors = [
        {
            "name": flavor,
            "type": "service",
            "endpoints": [
                {
                    "name": name,
                    "type": "endpoint",
                    "results": [item_of(r, granularity) for r in found],
                }
                for (name,), found in _grouped(members, lambda r: (r.name,)).items()
            ],
        }
        for (flavor,), members in _grouped(mine, lambda r: (r.service,)).items()
    ]
    return {
        "results": [{"name": site, "type": report.endpoint_group_type, "serviceflavors": flavors}]
    }


async def v3_results(call: Call) -> Any:
    """v3's one view (`/api/v3/results/{report}`): each group with its results and its
    sites' (`"groups"`), dated by `date`."""
    window = params.results_window(call.query)
    granularity = window.granularity or Granularity.DAILY
    report_name = call.path("report")

    def work(session: Session, principal: Principal) -> Any:
        report = results_report(session, report_name)

        def of(level: ArLevel) -> list[availability_periods.ArRow]:
            return availability_periods.availability(
                session,
                principal,
                report=report.name,
                level=level,
                name=None,
                start=window.start.date(),
                end=window.end.date(),
                granularity=granularity.value,
            )

        return report, of(ArLevel.SUPERGROUP), of(ArLevel.SITE)

    report, groups_, sites = await call.read(work)
    members = _grouped(sites, lambda r: (r.parent,))
    return {
        "results": [
            {
                "name": group,
                "type": report.group_type,
                "results": [item_of(r, granularity, "date") for r in found],
                "groups": [
                    {
                        "name": site,
                        "type": report.endpoint_group_type,
                        "results": [item_of(r, granularity, "date") for r in rows],
                    }
                    for (site,), rows in _grouped(
                        members.get((group,), []), lambda r: (r.name,)
                    ).items()
                ],
            }
            for (group,), found in _grouped(groups_, lambda r: (r.name,)).items()
        ]
    }


V3_ROUTES: tuple[Spec, ...] = (route("/results/{report}", v3_results),)

_SITE = "/results/{report}/{type}/{name}"
ROUTES: tuple[Spec, ...] = (
    route("/results/{report}/{type}", groups),
    route(_SITE, groups),
    route(f"{_SITE}/services", services),
    route(f"{_SITE}/services/{{service}}", services),
    route(f"{_SITE}/services/{{service}}/endpoints", endpoints),
    route(f"{_SITE}/services/{{service}}/endpoints/{{host}}", endpoints),
    route(f"{_SITE}/endpoints", endpoints),
    route(f"{_SITE}/endpoints/{{host}}", endpoints),
)
