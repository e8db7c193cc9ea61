"""ARGO's v2 A/R results over the availability service (`availability(...)`, the one GraphQL
calls), with ARGO's path forms (argo-web-api `app/results/routing.go`) and numbers as
strings:

- `GET /results/{report}/{type}[/{name}]`: `type` the report's group type (e.g. NGI): each
  group's (or that one's) `{"results": [{"name", "type", "results": [{"timestamp",
  "availability", "reliability"}]}]}`; `type` its endpoint group type (e.g. SITE): each
  site (or that one) under its group, `{"results": [{"name", "type", "endpoints": [{"name",
  "type", "results": [{"timestamp", "availability", "reliability", "unknown", "uptime",
  "downtime"}]}]}]}`;
- `GET /results/{report}/{group_type}/{group}/{type}[/{name}]`: the sites (or that site)
  of one group, in the same shape;
- `GET …/{type}/{site}/services[/{service}]`: the site's service types,
  `{"results": [{"name", "type", "serviceflavors": [{"name", "type": "service",
  "results": […]}]}]}`;
- `GET …/{type}/{site}/services/{service}/endpoints[/{host}]`: their endpoints,
  `… "serviceflavors": [{…, "endpoints": [{"name", "type": "endpoint", "results":
  […]}]}]`; `GET …/{type}/{site}/endpoints[/{host}]` the same for every service type of
  the site. Each of these below `/results/{report}/{type}/{site}` and below
  `/results/{report}/{group_type}/{group}/{type}/{site}` (the site kept to that group).

The flat `/results/{report}/endpoints` and v3's lookup by resource id: results_flat.py.

`?start_time=&end_time=` (zulu, required) choose the days, `granularity` daily (timestamps
`2015-06-22`), monthly (`2015-06`) or custom (the whole period, timestamped by its first
day). Types are compared with the report's topology schema exactly, as ARGO does (`SITES`
is not `SITE`). The failures are the results package's own `{"message", "code": 404}`
(not the envelope), in ARGO's order: an unknown report ("The report with the name X does
not exist"; v3's views answer it alike); on `/{type}[/{name}]` a type the report does not
have ("… does not define any group type: T"), then the parameters (400); on the forms
naming an endpoint group, the parameters, then its type ("… does not define endpoint group
type: T. Try using SITE instead."); a query without a row (an unknown group, site, service
type or host, or a window with no A/R yet) "No results found for given query".

One difference, on purpose: argo-web-api's handlers read neither `group_type` nor `group`
of the `/{group_type}/{group}/{type}…` forms (every site of that type answers, whatever
group the path names); here the group must be the report's group type (404 otherwise) and
only its sites answer, as ARGO's documentation describes the form.

v3's `GET /api/v3/results/{report}` gives each group with its own results and its sites'
(`{"results": [{"name", "type", "results": [{"date", …}], "groups": [{"name", "type",
"results": […]}]}]}`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.monitoring.models import ArLevel, Report
from domains.monitoring.service import availability_periods, catalogue
from gateway.compat.argo import envelope, params
from gateway.compat.argo.envelope import ArgoError
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


def results_report(session: Session, name: str) -> Report:
    """The report a v2 results route or a v3 route names (its current version); ARGO's
    results package's (and v3's) 404 (`envelope.report_unknown`) when there is none."""
    found = catalogue.report_by_name(session, name)
    if found is None:
        raise envelope.report_unknown(name)
    return found


@dataclass(frozen=True, slots=True)
class _Path:
    """What a v2 results path names: the report, the group above the site (`group_type`,
    `group`; only in the `/{group_type}/{group}/{type}…` forms), the endpoint group's
    type and name (`type`, `name`), the service type and the host."""

    report: str
    type: str
    name: str | None
    group_type: str | None
    group: str | None
    service: str | None
    host: str | None

    @classmethod
    def of(cls, call: Call) -> _Path:
        given = call.request.path_params
        return cls(
            call.path("report"),
            call.path("type"),
            given.get("name"),
            given.get("group_type"),
            given.get("group"),
            given.get("service"),
            given.get("host"),
        )


def _window(call: Call) -> Window | ArgoError:
    """The window, or ARGO's 400 to raise once the report is found (ARGO looks the report
    up before it reads the parameters)."""
    try:
        return params.results_window(call.query)
    except ArgoError as refused:
        return refused


def _level(report: Report, path: _Path) -> ArLevel:
    """The level `/results/{report}/{type}[/{name}]` names: ARGO's `routeGroup` compares
    the type with the report's topology schema exactly (`SITES` is not `SITE`)."""
    if path.type == report.group_type:
        return ArLevel.SUPERGROUP
    if path.type == report.endpoint_group_type:
        return ArLevel.SITE
    raise envelope.results_type_unknown(report.name, path.type)


def _check_site_type(report: Report, path: _Path) -> None:
    """The endpoint group forms' type check (ARGO's `List*Results`: exactly the report's
    endpoint group type); and the group above the site, when the path names one, of the
    report's group type."""
    if path.type != report.endpoint_group_type:
        raise envelope.results_site_type_unknown(report.name, path.type, report.endpoint_group_type)
    if path.group_type is not None and path.group_type != report.group_type:
        raise envelope.results_group_type_unknown(report.name, path.group_type, report.group_type)


Read = Callable[[ArLevel, str | None], list[availability_periods.ArRow]]


def _reader(session: Session, principal: Principal, report: Report, window: Window) -> Read:
    """The report's A/R over the window at one level (of one item, when named)."""

    def read(level: ArLevel, name: str | None) -> list[availability_periods.ArRow]:
        return availability_periods.availability(
            session,
            principal,
            report=report.name,
            level=level,
            name=name,
            start=window.start.date(),
            end=window.end.date(),
            granularity=(window.granularity or Granularity.DAILY).value,
        )

    return read


def _in_group(
    path: _Path, level: ArLevel, rows: list[availability_periods.ArRow], read: Read
) -> list[availability_periods.ArRow]:
    """The rows under the group the path names above the site (all without one): a
    site's row names its group; a service's or endpoint's names its site, whose own rows
    name the group."""
    if path.group is None or not rows:
        return rows
    if level is ArLevel.SITE:
        return [r for r in rows if r.parent == path.group]
    sites = {r.name for r in read(ArLevel.SITE, path.name) if r.parent == path.group}
    return [r for r in rows if r.parent in sites]


async def _rows(
    call: Call,
    level_of: Callable[[Report, _Path], ArLevel],
    name: Callable[[_Path], str | None],
    *,
    types_first: bool = False,
) -> tuple[Report, ArLevel, list[availability_periods.ArRow], Granularity]:
    """The report (404 if unknown), the level `level_of` finds the path to name and the
    window, in ARGO's order (its `routeGroup` checks the types before the parameters
    are read, `types_first`; its other handlers after), the rows of that level (of the
    item `name` gives), kept to the group above the site when the path names one, and the
    granularity."""
    path = _Path.of(call)
    window = _window(call)

    def work(session: Session, principal: Principal) -> Any:
        report = results_report(session, path.report)
        if isinstance(window, ArgoError) and not types_first:
            raise window
        level = level_of(report, path)
        if isinstance(window, ArgoError):
            raise window
        read = _reader(session, principal, report, window)
        rows = _in_group(path, level, read(level, name(path)), read)
        return report, level, rows, window.granularity or Granularity.DAILY

    report, level, rows, granularity = await call.read(work)
    if not rows:
        raise envelope.no_results()
    return report, level, rows, granularity


def _grouped(
    rows: list[availability_periods.ArRow],
    key: Callable[[availability_periods.ArRow], tuple[str, ...]],
) -> dict[tuple[str, ...], list[availability_periods.ArRow]]:
    found: dict[tuple[str, ...], list[availability_periods.ArRow]] = {}
    for row in rows:
        found.setdefault(key(row), []).append(row)
    return found


def _site_level(level: ArLevel) -> Callable[[Report, _Path], ArLevel]:
    def level_of(report: Report, path: _Path) -> ArLevel:
        _check_site_type(report, path)
        return level

    return level_of


def _sites_view(
    report: Report, rows: list[availability_periods.ArRow], granularity: Granularity
) -> dict[str, Any]:
    """ARGO's endpoint groups under their groups (`createEndpointGroupResultView`)."""
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
            for (group,), members in _grouped(rows, lambda r: (r.parent,)).items()
        ]
    }


async def groups(call: Call) -> Any:
    """`/results/{report}/{type}[/{name}]`: the groups' (or that one's) A/R when `type` is
    the report's group type; the sites' under their groups when it is its endpoint group
    type."""
    report, level, rows, granularity = await _rows(
        call, _level, lambda path: path.name, types_first=True
    )
    if level is ArLevel.SITE:
        return _sites_view(report, rows, granularity)
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


async def sites(call: Call) -> Any:
    """`/results/{report}/{group_type}/{group}/{type}[/{name}]`: the sites (or that site)
    of one group, in the endpoint group form's shape."""
    report, _, rows, granularity = await _rows(
        call, _site_level(ArLevel.SITE), lambda path: path.name
    )
    return _sites_view(report, rows, granularity)


def _of_site(
    rows: list[availability_periods.ArRow], site: str | None, service: str | None = None
) -> list[availability_periods.ArRow]:
    """The rows of one site (and of one service type, when given); ARGO's 404 if none."""
    mine = [r for r in rows if r.parent == site and service in (None, r.service)]
    if not mine:
        raise envelope.no_results()
    return mine


def _site_view(report: Report, site: str | None, flavors: list[dict[str, Any]]) -> Any:
    return {
        "results": [{"name": site, "type": report.endpoint_group_type, "serviceflavors": flavors}]
    }


async def services(call: Call) -> Any:
    """`…/{type}/{site}/services[/{service}]`: the site's service types' A/R."""
    site = _Path.of(call).name
    report, _, rows, granularity = await _rows(
        call, _site_level(ArLevel.SERVICE), lambda path: path.service
    )
    flavors = [
        {"name": name, "type": "service", "results": [item_of(r, granularity) for r in found]}
        for (name,), found in _grouped(_of_site(rows, site), lambda r: (r.name,)).items()
    ]
    return _site_view(report, site, flavors)


async def endpoints(call: Call) -> Any:
    """A site's endpoints, of one service type (`…/services/{service}/endpoints`) or of all
    (`…/{site}/endpoints`), under their service types."""
    path = _Path.of(call)
    report, _, rows, granularity = await _rows(
        call, _site_level(ArLevel.ENDPOINT), lambda found: found.host
    )
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
        for (flavor,), members in _grouped(
            _of_site(rows, path.name, path.service), lambda r: (r.service,)
        ).items()
    ]
    return _site_view(report, path.name, flavors)


async def v3_results(call: Call) -> Any:
    """v3's one view (`/api/v3/results/{report}`): each group with its results and its
    sites' (`"groups"`), dated by `date`."""
    window = params.results_window(call.query)
    granularity = window.granularity or Granularity.DAILY
    report_name = call.path("report")

    def work(session: Session, principal: Principal) -> Any:
        report = results_report(session, report_name)
        read = _reader(session, principal, report, window)
        return report, read(ArLevel.SUPERGROUP, None), read(ArLevel.SITE, None)

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
_GROUP = "/results/{report}/{group_type}/{group}/{type}"
_GROUP_SITE = _GROUP + "/{name}"


def _below_site(site: str) -> tuple[Spec, ...]:
    """The service and endpoint forms below a site path (ARGO lists the same under
    `/{type}/{name}` and under `/{group_type}/{group}/{type}/{name}`)."""
    return (
        route(f"{site}/services", services),
        route(f"{site}/services/{{service}}", services),
        route(f"{site}/services/{{service}}/endpoints", endpoints),
        route(f"{site}/services/{{service}}/endpoints/{{host}}", endpoints),
        route(f"{site}/endpoints", endpoints),
        route(f"{site}/endpoints/{{host}}", endpoints),
    )


# In ARGO's order: a path with a fixed `services`/`endpoints` segment is the site form it
# spells before a group form with a placeholder there (`/A/B/services` names site B's
# services, not the group type `services` of group B's parent A).
ROUTES: tuple[Spec, ...] = (
    route("/results/{report}/{type}", groups),
    route(_SITE, groups),
    *_below_site(_SITE),
    route(_GROUP, sites),
    route(_GROUP_SITE, sites),
    *_below_site(_GROUP_SITE),
)
