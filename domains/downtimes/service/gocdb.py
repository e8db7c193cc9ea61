"""The downtime reads of GOCDB's programmatic interface (get_downtime, its nested form and
get_downtime_to_broadcast), with GOCDB's semantics as options.

GOCDB builds one query over (downtime, affected service) pairs and applies every
condition to the pair: a downtime is listed when one of its services meets them all, and
only the services that do are rendered with it (GOCDB fetch-joins the filtered services).
The dates of a pair are the downtime's, except that a service ended early (partial
ending, which GOCDB does not have) left the downtime at its own end: the conditions on the
end (`enddate`, `windowstart`, `ongoing_only`) read that effective end, so a monitoring
client asking for ongoing downtimes no longer sees a service that has come back.

Downtimes are public (GOCDB: protection level 1); nothing personal is read here.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.query import Record, like
from domains.common.scopes import ScopeDefaults, ScopeSelection
from domains.common.time import utcnow
from domains.downtimes import rules
from domains.downtimes.models import Classification, Severity
from domains.downtimes.service.tables import T_DOWNTIME, T_DT_ENDPOINT, T_DT_SERVICE
from domains.topology import service as topology
from domains.topology.filters import PropertyExpr
from domains.topology.service import (
    T_COUNTRY,
    T_ENDPOINT,
    T_NGI,
    T_SERVICE,
    T_SERVICE_TYPE,
    T_SITE,
)

# GOCDB's page size for its cursor-paged downtime methods (GetDowntime::$maxResults).
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class GocdbDowntimeQuery:
    """GOCDB's downtime parameters, parsed. Every condition holds for one (downtime,
    affected service) pair; None = no condition.

    - `top_entity` (topentity): a LIKE pattern on the host name, the site, the NGI or the
      country name.
    - `ongoing` (ongoing_only): start < now < end.
    - `start_after` (startdate): start > d; `end_before` (enddate): end < d;
      `window_start` (windowstart): end > d; `window_end` (windowend): start < d + 1 day.
    - `last_month` (all_lastmonth): start > now - 1 month - 1 day (PHP's month arithmetic).
    - `declared_after` (get_downtime_to_broadcast's interval): inserted after d.
    - `site_names` (sitelist), `ngi_names` (ngilist), `service_types`
      (service_type_list): exact names, any of; `certification_status`: a LIKE pattern on
      the site's certification status.
    - `scopes` (scope, scope_match): the service's scopes, the instance default when none.
    - `site_properties` / `service_properties` (site_extensions / service_extensions).
    """

    ids: tuple[int, ...] | None = None
    top_entity: str | None = None
    ongoing: bool = False
    start_after: datetime | None = None
    end_before: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    last_month: bool = False
    declared_after: datetime | None = None
    severities: tuple[Severity, ...] | None = None
    classifications: tuple[Classification, ...] | None = None
    site_names: tuple[str, ...] | None = None
    ngi_names: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    certification_status: str | None = None
    production: bool | None = None
    monitored: bool | None = None
    scopes: ScopeSelection = field(default_factory=ScopeSelection)
    site_properties: PropertyExpr | None = None
    service_properties: PropertyExpr | None = None


@dataclass(frozen=True, slots=True)
class GocdbEndpoint:
    id: int
    service_id: int
    name: str
    url: str | None
    interface_name: str
    monitored: bool


@dataclass(frozen=True, slots=True)
class GocdbService:
    """An affected service as GOCDB renders it, with its effective end in this downtime."""

    id: int
    primary_key: str
    host_name: str
    service_type: str
    site: str
    ends_at: datetime
    endpoints: tuple[GocdbEndpoint, ...]


@dataclass(frozen=True, slots=True)
class GocdbDowntime:
    """A downtime row (DOWNTIME_COLUMNS), the services that met the conditions (by id),
    and every endpoint the downtime affects (get_downtime_to_broadcast lists them all)."""

    row: Record
    services: tuple[GocdbService, ...]
    endpoints: tuple[GocdbEndpoint, ...]


@dataclass(frozen=True, slots=True)
class GocdbPageRequest:
    """GOCDB's cursor paging: downtime ids above `next_cursor` (ascending), or below
    `prev_cursor` (the nearest ones, listed ascending), at most `limit`."""

    limit: int = MAX_PAGE_SIZE
    next_cursor: int | None = None
    prev_cursor: int | None = None


def months_back(moment: datetime, months: int = 1) -> datetime:
    """PHP's `DateTime::sub(new DateInterval('P1M'))`: the same day of an earlier month,
    overflowing into the next month when that month is shorter (31 March - 1 month =
    3 March, as GOCDB computes it)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    days = calendar.monthrange(year, month)[1]
    overflow = max(0, moment.day - days)
    return moment.replace(year=year, month=month, day=min(moment.day, days)) + timedelta(
        days=overflow
    )


def _next_day(moment: datetime) -> datetime:
    """`windowend` + 1 day (GOCDB's V4 compatibility), the last moment there is at most."""
    try:
        return moment + timedelta(days=1)
    except OverflowError:
        return moment


def _pair_conditions(
    query: GocdbDowntimeQuery, defaults: ScopeDefaults, now: datetime
) -> list[ColumnElement[bool]]:
    d, ds, sv, st, site = T_DOWNTIME.c, T_DT_SERVICE.c, T_SERVICE.c, T_SERVICE_TYPE.c, T_SITE.c
    ends = func.coalesce(ds.ended_at, d.ends_at)
    out: list[ColumnElement[bool]] = [
        topology.in_clause(d.id, query.ids),
        topology.in_clause(d.severity, query.severities),
        topology.in_clause(d.classification, query.classifications),
        topology.in_clause(site.short_name, query.site_names),
        topology.in_clause(T_NGI.c.name, query.ngi_names),
        topology.in_clause(st.name, query.service_types),
        topology.scope_clause("service", sv.id, query.scopes, defaults),
    ]
    if query.top_entity is not None:
        out.append(
            or_(
                like(sv.host_name, query.top_entity),
                like(site.short_name, query.top_entity),
                like(T_NGI.c.name, query.top_entity),
                like(T_COUNTRY.c.name, query.top_entity),
            )
        )
    if query.certification_status is not None:
        out.append(like(site.certification_status, query.certification_status))
    if query.production is not None:
        out.append(sv.production.is_(query.production))
    if query.monitored is not None:
        out.append(sv.monitored.is_(query.monitored))
    if query.ongoing:
        out.append(and_(d.starts_at < now, ends > now))
    if query.start_after is not None:
        out.append(d.starts_at > query.start_after)
    if query.end_before is not None:
        out.append(ends < query.end_before)
    if query.window_start is not None:
        out.append(ends > query.window_start)
    if query.window_end is not None:
        out.append(d.starts_at < _next_day(query.window_end))
    if query.last_month:
        out.append(d.starts_at > months_back(now) - timedelta(days=1))
    if query.declared_after is not None:
        out.append(d.declared_at > query.declared_after)
    if query.site_properties is not None:
        out.append(topology.property_clause("site", site.id, query.site_properties))
    if query.service_properties is not None:
        out.append(topology.property_clause("service", sv.id, query.service_properties))
    return out


def _pairs() -> Any:
    """downtime_service joined to its downtime, service, type, site, NGI and country."""
    ds, sv, site = T_DT_SERVICE.c, T_SERVICE.c, T_SITE.c
    return (
        T_DT_SERVICE.join(T_DOWNTIME, T_DOWNTIME.c.id == ds.downtime_id)
        .join(T_SERVICE, sv.id == ds.service_id)
        .join(T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == sv.service_type_id)
        .join(T_SITE, site.id == sv.site_id)
        .join(T_NGI, T_NGI.c.id == site.ngi_id)
        .join(T_COUNTRY, T_COUNTRY.c.id == site.country_id)
    )


def _check(query: GocdbDowntimeQuery) -> None:
    for path, expr in (
        ("site_extensions", query.site_properties),
        ("service_extensions", query.service_properties),
    ):
        if expr is not None:
            expr.validate(path)
    for name, value in (
        ("startdate", query.start_after),
        ("enddate", query.end_before),
        ("windowstart", query.window_start),
        ("windowend", query.window_end),
        ("interval", query.declared_after),
    ):
        if value is not None:
            rules.check_aware(name, value)


def gocdb_downtimes(
    session: Session,
    principal: Principal,
    *,
    query: GocdbDowntimeQuery,
    scope_defaults: ScopeDefaults,
    page: GocdbPageRequest | None = None,
    now: datetime | None = None,
) -> list[GocdbDowntime]:
    """The downtimes with a (downtime, service) pair meeting `query`, by ascending id, each
    with the services that meet it (by id) and the endpoints it affects. Unpaged (GOCDB's
    default) or one cursor page. Two statements, whatever the number of rows."""
    _check(query)
    now = now or utcnow()
    conditions = _pair_conditions(query, scope_defaults, now)
    d, ds = T_DOWNTIME.c, T_DT_SERVICE.c
    ids = select(ds.downtime_id).select_from(_pairs()).where(*conditions)
    if page is not None:
        ids = ids.group_by(ds.downtime_id).limit(page.limit)
        if page.next_cursor is not None:
            ids = ids.where(ds.downtime_id > page.next_cursor).order_by(ds.downtime_id)
        elif page.prev_cursor is not None:
            ids = ids.where(ds.downtime_id < page.prev_cursor).order_by(ds.downtime_id.desc())
        else:
            ids = ids.order_by(ds.downtime_id)
        # a LIMIT inside IN is refused by some databases when not wrapped in a subquery
        id_set: Any = select(ids.subquery().c.downtime_id)
    else:
        id_set = ids
    sv, site = T_SERVICE.c, T_SITE.c
    rows = session.execute(
        select(
            *T_DOWNTIME.c,
            sv.id.label("pi_service_id"),
            sv.primary_key.label("pi_service_pk"),
            sv.host_name.label("pi_host_name"),
            T_SERVICE_TYPE.c.name.label("pi_service_type"),
            site.short_name.label("pi_site"),
            func.coalesce(ds.ended_at, d.ends_at).label("pi_ends_at"),
        )
        .select_from(_pairs())
        .where(d.id.in_(id_set), *conditions)
        .order_by(d.id, sv.id)
    ).all()
    e = T_ENDPOINT.c
    endpoint_rows = session.execute(
        select(ds.downtime_id, e.id, e.service_id, e.name, e.url, e.interface_name, e.monitored)
        .select_from(T_DT_SERVICE.join(T_ENDPOINT, e.service_id == ds.service_id))
        .where(
            ds.downtime_id.in_(select(d.id).where(d.id.in_(id_set))),
            or_(
                ds.all_endpoints.is_(True),
                exists(
                    select(1)
                    .select_from(T_DT_ENDPOINT)
                    .where(
                        T_DT_ENDPOINT.c.downtime_id == ds.downtime_id,
                        T_DT_ENDPOINT.c.endpoint_id == e.id,
                    )
                ),
            ),
        )
        .order_by(ds.downtime_id, e.id)
    ).all()
    return _assemble(rows, endpoint_rows)


def _assemble(rows: Sequence[Any], endpoint_rows: Sequence[Any]) -> list[GocdbDowntime]:
    endpoints: dict[int, list[GocdbEndpoint]] = defaultdict(list)
    for r in endpoint_rows:
        endpoints[int(r[0])].append(
            GocdbEndpoint(
                id=int(r.id),
                service_id=int(r.service_id),
                name=r.name,
                url=r.url,
                interface_name=r.interface_name,
                monitored=bool(r.monitored),
            )
        )
    order: list[int] = []
    heads: dict[int, Record] = {}
    services: dict[int, list[GocdbService]] = defaultdict(list)
    for r in rows:
        downtime_id = int(r.id)
        if downtime_id not in heads:
            order.append(downtime_id)
            heads[downtime_id] = r
        service_id = int(r.pi_service_id)
        services[downtime_id].append(
            GocdbService(
                id=service_id,
                primary_key=r.pi_service_pk or f"{service_id}G0",
                host_name=r.pi_host_name,
                service_type=r.pi_service_type,
                site=r.pi_site,
                ends_at=r.pi_ends_at,
                endpoints=tuple(
                    x for x in endpoints.get(downtime_id, ()) if x.service_id == service_id
                ),
            )
        )
    return [
        GocdbDowntime(
            row=heads[i],
            services=tuple(services[i]),
            endpoints=tuple(endpoints.get(i, ())),
        )
        for i in order
    ]


__all__ = [
    "MAX_PAGE_SIZE",
    "GocdbDowntime",
    "GocdbDowntimeQuery",
    "GocdbEndpoint",
    "GocdbPageRequest",
    "GocdbService",
    "gocdb_downtimes",
    "months_back",
]
