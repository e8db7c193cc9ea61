"""GOCDB's downtime methods: get_downtime (one DOWNTIME per affected service),
get_downtime_nested_services (one per downtime, its services nested) and
get_downtime_to_broadcast (declared in the last `interval` days). Protection level 1.

Parameters as GOCDB's GetDowntime reads them (lib/Gocdb_Services/PI/GetDowntime.php):
`ongoing_only` restricts to ongoing downtimes whenever it is given (GOCDB adds the
condition before it looks at the value: `no` does too), refuses `yes` together with
`startdate`/`enddate`, and any value but yes/no; dates are read as PHP's `new DateTime`
reads the common forms (an empty value is now); `all_lastmonth` refuses the other date
parameters; `sitelist`, `ngilist`, `service_type_list` are exact comma lists;
`servicelist` is accepted and ignored (GOCDB's code for it is commented out); `id` that
is not a whole number matches nothing. The conditions apply to (downtime, service) pairs:
see domains/downtimes/service/gocdb.py."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from urllib.parse import quote
from xml.sax.saxutils import escape

from domains.common.graphql import to_global_id
from domains.common.pagination import parse_key
from domains.common.time import utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import SCHEDULED_NOTICE
from domains.topology.service.pi import PiLevel
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import Params, PiError, error
from gateway.compat.gocdbpi.registry import Call, Method

E = TypeVar("E", bound=enum.Enum)

GET_DOWNTIME_PARAMS = frozenset(
    {
        "topentity",
        "ongoing_only",
        "startdate",
        "enddate",
        "windowstart",
        "windowend",
        "scope",
        "scope_match",
        "all_lastmonth",
        "site_extensions",
        "service_extensions",
        "id",
        "sitelist",
        "servicelist",
        "ngilist",
        "severity",
        "classification",
        "production",
        "monitored",
        "certification_status",
        "service_type_list",
    }
)
BROADCAST_PARAMS = frozenset({"interval", "scope", "scope_match", "id"})

_DATE_PARAMS = ("startdate", "enddate", "windowstart", "windowend")
_RELATIVE = {"now": 0, "today": 0, "midnight": 0, "yesterday": -1, "tomorrow": 1}
_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$", re.ASCII)
_BOOLEAN = {
    "y": True,
    "yes": True,
    "1": True,
    "true": True,
    "n": False,
    "no": False,
    "0": False,
    "false": False,
}


def php_datetime(value: str, now: datetime) -> datetime:
    """A date parameter as PHP's `new DateTime(value)` reads its common forms, in UTC (the
    PI's time zone): an ISO date (midnight) or date and time, `@<unix seconds>`, now /
    today / yesterday / tomorrow, empty (= now). Anything else is GOCDB's error (its
    exception message, printed as is)."""
    text = value.strip()
    if text == "":
        return now
    lowered = text.lower()
    if lowered in _RELATIVE:
        moment = now + timedelta(days=_RELATIVE[lowered])
        return moment if lowered == "now" else datetime.combine(moment.date(), time(), UTC)
    try:
        if re.fullmatch(r"@-?\d{1,12}", text):
            return datetime.fromtimestamp(int(text[1:]), UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(), UTC)
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise PiError(
            escape(f"DateTime::__construct(): Failed to parse time string ({value})")
        ) from None


def _list(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value.split(","))


def _boolean(value: str | None) -> bool | None:
    return None if value is None else _BOOLEAN.get(value.strip().lower())


def _named(value: str | None, kind: type[E]) -> tuple[E, ...] | None:
    """GOCDB compares `severity` / `classification` with the stored name: one of ours, or
    nothing matches."""
    if value is None:
        return None
    return tuple(member for member in kind if member.value == value)


def _key_list(raw: str | None) -> tuple[int, ...] | None:
    """`id`: GOCDB compares it with the downtime's id; not a whole number: nothing."""
    if raw is None:
        return None
    key = parse_key(raw.strip())
    return () if key is None else (key,)


def downtime_query(params: Params, *, now: datetime) -> downtimes.GocdbDowntimeQuery:
    """get_downtime's parameters as the domain's query, or GOCDB's error (in GOCDB's
    order of checks)."""
    ongoing = params.get("ongoing_only")
    if ongoing is not None:
        if ongoing == "yes":
            if "enddate" in params or "startdate" in params:
                raise error(
                    "Invalid parameter combination - do not specify startdate or enddate "
                    "with ongoing_only"
                )
        elif ongoing != "no":
            raise error("Invalid ongoing_only value - must be 'yes' or 'no'")
    dates = {
        name: php_datetime(value, now)
        for name in _DATE_PARAMS
        if (value := params.get(name)) is not None
    }
    if "all_lastmonth" in params and (
        ongoing is not None or any(name in params for name in _DATE_PARAMS)
    ):
        raise error(
            "Invalid parameters - only scope, scope_match, topentity params allowed when "
            "specifying all_lastmonth"
        )
    return downtimes.GocdbDowntimeQuery(
        ids=_key_list(params.get("id")),
        top_entity=params.get("topentity"),
        ongoing=ongoing is not None,
        start_after=dates.get("startdate"),
        end_before=dates.get("enddate"),
        window_start=dates.get("windowstart"),
        window_end=dates.get("windowend"),
        last_month="all_lastmonth" in params,
        severities=_named(params.get("severity"), Severity),
        classifications=_named(params.get("classification"), Classification),
        site_names=_list(params.get("sitelist")),
        ngi_names=_list(params.get("ngilist")),
        service_types=_list(params.get("service_type_list")),
        certification_status=params.get("certification_status"),
        production=_boolean(params.get("production")),
        monitored=_boolean(params.get("monitored")),
        scopes=params.scopes(),
        site_properties=params.extensions("site_extensions"),
        service_properties=params.extensions("service_extensions"),
    )


def broadcast_query(params: Params, *, now: datetime) -> downtimes.GocdbDowntimeQuery:
    """get_downtime_to_broadcast's parameters: `interval` days (default 1) back from now,
    a number (GOCDB: `interval is not a number`) and a whole one (PHP's DateInterval
    refuses any other), `id`, `scope`/`scope_match`."""
    interval = params.get("interval")
    days = 1
    if interval is not None:
        if not _NUMBER.match(interval):
            raise error("interval is not a number")
        if not (interval.isascii() and interval.isdigit()):
            raise PiError(
                escape(f"DateInterval::__construct(): Unknown or bad format (P{interval}D)")
            )
        days = int(interval[-9:]) if len(interval.lstrip("0")) <= 9 else 10**9
    earliest = datetime(1, 1, 2, tzinfo=UTC)
    after = earliest if days >= (now - earliest).days else now - timedelta(days=days)
    return downtimes.GocdbDowntimeQuery(
        ids=_key_list(params.get("id")),
        declared_after=after,
        scopes=params.scopes(),
    )


# ---------------------------------------------------------------------------------------
# Rendering


def _portal_url(call: Call, downtime_id: int) -> str:
    """GOCDB_PORTAL_URL: the downtime's page in the web app."""
    return call.instance.portal_url(
        f"/downtimes/{quote(to_global_id('Downtime', downtime_id), safe='')}"
    )


def _endpoints(
    parent: xml.Element, endpoints: tuple[downtimes.GocdbEndpoint, ...], *, monitored: bool
) -> None:
    affected = parent.add("AFFECTED_ENDPOINTS")
    for endpoint in endpoints:
        element = affected.add("ENDPOINT")
        element.add("ID", endpoint.id)
        element.add("NAME", endpoint.name)
        element.add("URL", endpoint.url)
        element.add("INTERFACENAME", endpoint.interface_name)
        if monitored:
            element.add("ENDPOINT_MONITORED", xml.yes_no(endpoint.monitored))


def _head(root: xml.Element, downtime: downtimes.GocdbDowntime) -> xml.Element:
    row = downtime.row
    element = root.add("DOWNTIME")
    element.set("ID", row.id)
    element.set("PRIMARY_KEY", row.primary_key)
    element.set("CLASSIFICATION", row.classification)
    return element


def _dates(element: xml.Element, row: object, ends_at: datetime) -> None:
    starts_at: datetime = row.starts_at  # type: ignore[attr-defined]
    element.add_if("INSERT_DATE", xml.unix_seconds(row.declared_at))  # type: ignore[attr-defined]
    element.add_if("START_DATE", xml.unix_seconds(starts_at))
    element.add_if("END_DATE", xml.unix_seconds(ends_at))
    element.add_if("FORMATED_START_DATE", xml.minutes(starts_at))
    element.add_if("FORMATED_END_DATE", xml.minutes(ends_at))


def render_flat(root: xml.Element, found: list[downtimes.GocdbDowntime], call: Call) -> None:
    """get_downtime: a DOWNTIME per affected service, its END_DATE that service's own."""
    for downtime in found:
        row = downtime.row
        for service in downtime.services:
            element = _head(root, downtime)
            element.add_if("PRIMARY_KEY", row.primary_key)
            element.add_if("HOSTNAME", service.host_name)
            element.add_if("SERVICE_TYPE", service.service_type)
            element.add_if("ENDPOINT", service.host_name + service.service_type)
            element.add_if("HOSTED_BY", service.site)
            element.add_if("GOCDB_PORTAL_URL", _portal_url(call, int(row.id)))
            _endpoints(element, service.endpoints, monitored=True)
            element.add_if("SEVERITY", row.severity)
            element.add_if("DESCRIPTION", row.description)
            _dates(element, row, service.ends_at)


def render_nested(root: xml.Element, found: list[downtimes.GocdbDowntime], call: Call) -> None:
    """get_downtime_nested_services: a DOWNTIME per downtime, SERVICES inside."""
    for downtime in found:
        row = downtime.row
        element = _head(root, downtime)
        element.add_if("SEVERITY", row.severity)
        element.add_if("DESCRIPTION", row.description)
        _dates(element, row, row.ends_at)
        element.add_if("GOCDB_PORTAL_URL", _portal_url(call, int(row.id)))
        services = element.add("SERVICES")
        for service in downtime.services:
            child = services.add("SERVICE")
            child.add_if("PRIMARY_KEY", service.primary_key)
            child.add_if("HOSTNAME", service.host_name)
            child.add_if("SERVICE_TYPE", service.service_type)
            child.add_if("ENDPOINT", service.host_name + service.service_type)
            child.add_if("HOSTED_BY", service.site)
            _endpoints(child, service.endpoints, monitored=True)


def announced_at(row: object) -> datetime:
    """GOCDB's announce date: a day before the start when SCHEDULED, else the declaration."""
    if row.classification == Classification.SCHEDULED:  # type: ignore[attr-defined]
        return row.starts_at - SCHEDULED_NOTICE  # type: ignore[attr-defined,no-any-return]
    return row.declared_at  # type: ignore[attr-defined,no-any-return]


def render_broadcast(root: xml.Element, found: list[downtimes.GocdbDowntime], call: Call) -> None:
    """get_downtime_to_broadcast: a DOWNTIME per service, every element present (GOCDB's
    addChild), every endpoint of the downtime, the announce date as
    REMINDER_START_DOWNTIME and an empty BROADCASTING_START_DOWNTIME (as GOCDB v4)."""
    for downtime in found:
        row = downtime.row
        for service in downtime.services:
            element = _head(root, downtime)
            element.add("PRIMARY_KEY", row.primary_key)
            element.add("SITENAME", service.site)
            element.add("HOSTNAME", service.host_name)
            element.add("SERVICE_TYPE", service.service_type)
            element.add("HOSTED_BY", service.site)
            element.add("GOCDB_PORTAL_URL", _portal_url(call, int(row.id)))
            _endpoints(element, downtime.endpoints, monitored=False)
            element.add("SEVERITY", row.severity)
            element.add("DESCRIPTION", row.description)
            element.add("INSERT_DATE", xml.unix_seconds(row.declared_at))
            element.add("START_DATE", xml.unix_seconds(row.starts_at))
            element.add("END_DATE", xml.unix_seconds(service.ends_at))
            element.add("REMINDER_START_DOWNTIME", xml.unix_seconds(announced_at(row)))
            element.add("BROADCASTING_START_DOWNTIME")


def _read(call: Call, query: downtimes.GocdbDowntimeQuery) -> list[downtimes.GocdbDowntime]:
    page = call.page
    return downtimes.gocdb_downtimes(
        call.session,
        call.principal,
        query=query,
        scope_defaults=call.instance.scope_defaults,
        page=downtimes.GocdbPageRequest(
            limit=page.size, next_cursor=page.next_cursor, prev_cursor=page.prev_cursor
        )
        if page.paged
        else None,
    )


def _answer(
    call: Call,
    query: downtimes.GocdbDowntimeQuery,
    render: Callable[[xml.Element, list[downtimes.GocdbDowntime], Call], None],
) -> bytes:
    found = _read(call, query)
    root = xml.results()
    render(root, found, call)
    # the page's count is of downtimes, whichever form lists them (GOCDB's resultSetSize)
    call.page.meta(root, [int(d.row.id) for d in found])
    return root.render()


def get_downtime(call: Call) -> bytes:
    return _answer(call, downtime_query(call.params, now=utcnow()), render_flat)


def get_downtime_nested_services(call: Call) -> bytes:
    return _answer(call, downtime_query(call.params, now=utcnow()), render_nested)


def get_downtime_to_broadcast(call: Call) -> bytes:
    return _answer(call, broadcast_query(call.params, now=utcnow()), render_broadcast)


METHODS = (
    Method("get_downtime", PiLevel.PUBLIC, GET_DOWNTIME_PARAMS, paged=True, handler=get_downtime),
    Method(
        "get_downtime_nested_services",
        PiLevel.PUBLIC,
        GET_DOWNTIME_PARAMS,
        paged=True,
        handler=get_downtime_nested_services,
    ),
    Method(
        "get_downtime_to_broadcast",
        PiLevel.PUBLIC,
        BROADCAST_PARAMS,
        paged=True,
        handler=get_downtime_to_broadcast,
    ),
)
