"""DowntimeFilter and its SQL: the WHERE of the timeline, the feeds and the lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select, true

from domains.common.errors import Invalid
from domains.common.scopes import ScopeDefaults, ScopeSelection
from domains.downtimes import rules
from domains.downtimes.models import Classification, Severity
from domains.downtimes.rules import DowntimeRule
from domains.downtimes.service.tables import T_DOWNTIME, T_DT_SERVICE, VO_PROPERTY
from domains.topology import service as topology
from domains.topology.filters import PropertyExpr
from domains.topology.service import T_COUNTRY, T_NGI, T_SERVICE, T_SERVICE_TYPE, T_SITE


@dataclass(frozen=True, slots=True)
class DowntimeFilter:
    """Conditions combine with AND. Service conditions (host, type, scopes, production,
    monitored, properties, VO) hold when ONE affected service meets all of them."""

    ids: tuple[int, ...] | None = None
    primary_keys: tuple[str, ...] | None = None
    ongoing: bool | None = None
    upcoming: bool | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    top_entity: tuple[str, ...] | None = None
    severities: tuple[Severity, ...] | None = None
    classifications: tuple[Classification, ...] | None = None
    sites: tuple[str, ...] | None = None
    ngis: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    site_ids: tuple[int, ...] | None = None
    host_names: tuple[str, ...] | None = None
    service_types: tuple[str, ...] | None = None
    service_ids: tuple[int, ...] | None = None
    scopes: ScopeSelection = field(default_factory=ScopeSelection)
    production: bool | None = None
    monitored: bool | None = None
    vos: tuple[str, ...] | None = None
    site_properties: PropertyExpr | None = None
    service_properties: PropertyExpr | None = None


def _vo_clause(service_id: ColumnElement[int], vos: Sequence[str]) -> ColumnElement[bool]:
    table, fk = topology.PROPERTY_TABLES["service"]
    padded = literal(",") + func.replace(table.c.value, " ", "") + literal(",")
    return exists(
        select(1)
        .select_from(table)
        .where(
            table.c[fk] == service_id,
            table.c.key == VO_PROPERTY,
            or_(*(padded.contains(f",{vo},", autoescape=True) for vo in vos)),
        )
    )


def _service_clause(filter: DowntimeFilter, defaults: ScopeDefaults) -> ColumnElement[bool]:
    names, _match = filter.scopes.resolve(defaults)
    conditions: list[ColumnElement[bool]] = []
    if filter.host_names is not None:
        conditions.append(topology.in_clause(T_SERVICE.c.host_name, filter.host_names))
    if filter.service_types is not None:
        conditions.append(topology.in_clause(T_SERVICE_TYPE.c.name, filter.service_types))
    if filter.service_ids is not None:
        conditions.append(topology.in_clause(T_SERVICE.c.id, filter.service_ids))
    if names:
        conditions.append(topology.scope_clause("service", T_SERVICE.c.id, filter.scopes, defaults))
    if filter.production is not None:
        conditions.append(T_SERVICE.c.production.is_(filter.production))
    if filter.monitored is not None:
        conditions.append(T_SERVICE.c.monitored.is_(filter.monitored))
    if filter.vos is not None:
        conditions.append(_vo_clause(T_SERVICE.c.id, filter.vos))
    if filter.service_properties is not None:
        conditions.append(
            topology.property_clause("service", T_SERVICE.c.id, filter.service_properties)
        )
    if not conditions:
        return true()
    return exists(
        select(1)
        .select_from(
            T_DT_SERVICE.join(T_SERVICE, T_SERVICE.c.id == T_DT_SERVICE.c.service_id).join(
                T_SERVICE_TYPE, T_SERVICE_TYPE.c.id == T_SERVICE.c.service_type_id
            )
        )
        .where(T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id, *conditions)
    )


def _site_clause(filter: DowntimeFilter) -> ColumnElement[bool]:
    if (
        filter.sites is None
        and filter.ngis is None
        and filter.countries is None
        and filter.site_properties is None
    ):
        return true()
    sites = (
        select(T_SITE.c.id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(
            topology.in_clause(T_SITE.c.short_name, filter.sites),
            topology.ngi_name_clause(T_SITE.c.ngi_id, filter.ngis),
            topology.country_clause(filter.countries),
        )
    )
    if filter.site_properties is not None:
        sites = sites.where(topology.property_clause("site", T_SITE.c.id, filter.site_properties))
    return T_DOWNTIME.c.site_id.in_(sites)


def _top_entity_clause(names: Sequence[str]) -> ColumnElement[bool]:
    """GOCDB's `topentity`: a host name, site, NGI or country (code or name)."""
    sites = (
        select(T_SITE.c.id)
        .join(T_NGI, T_NGI.c.id == T_SITE.c.ngi_id)
        .join(T_COUNTRY, T_COUNTRY.c.id == T_SITE.c.country_id)
        .where(
            or_(
                T_SITE.c.short_name.in_(list(names)),
                T_NGI.c.name.in_(list(names)),
                T_COUNTRY.c.code.in_([n.upper() for n in names]),
                T_COUNTRY.c.name.in_(list(names)),
            )
        )
    )
    hosts = exists(
        select(1)
        .select_from(T_DT_SERVICE.join(T_SERVICE, T_SERVICE.c.id == T_DT_SERVICE.c.service_id))
        .where(
            T_DT_SERVICE.c.downtime_id == T_DOWNTIME.c.id,
            T_SERVICE.c.host_name.in_(list(names)),
        )
    )
    return or_(T_DOWNTIME.c.site_id.in_(sites), hosts)


def downtime_conditions(
    filter: DowntimeFilter, *, scope_defaults: ScopeDefaults, now: datetime
) -> list[ColumnElement[bool]]:
    """The WHERE of a filtered downtime list (shared by the GraphQL list and the feeds)."""
    for path, expr in (
        ("filter.siteProperties", filter.site_properties),
        ("filter.serviceProperties", filter.service_properties),
    ):
        if expr is not None:
            expr.validate(path)
    for name, value in (
        ("filter.windowStart", filter.window_start),
        ("filter.windowEnd", filter.window_end),
    ):
        if value is not None:
            rules.check_aware(name, value)
    if (
        filter.window_start is not None
        and filter.window_end is not None
        and filter.window_end < filter.window_start
    ):
        raise Invalid("filter.windowEnd", DowntimeRule.DOWNTIME_FILTER_WINDOW_REVERSED)
    d = T_DOWNTIME.c
    conditions: list[ColumnElement[bool]] = [
        topology.in_clause(d.id, filter.ids),
        topology.in_clause(d.primary_key, filter.primary_keys),
        topology.in_clause(d.severity, filter.severities),
        topology.in_clause(d.classification, filter.classifications),
        topology.in_clause(d.site_id, filter.site_ids),
        _site_clause(filter),
        _service_clause(filter, scope_defaults),
    ]
    if filter.ongoing is not None:
        ongoing = and_(d.starts_at <= now, d.ends_at > now)
        conditions.append(ongoing if filter.ongoing else ~ongoing)
    if filter.upcoming is not None:
        conditions.append(d.starts_at > now if filter.upcoming else d.starts_at <= now)
    # overlap semantics: the downtime and the window share a moment
    if filter.window_start is not None:
        conditions.append(d.ends_at > filter.window_start)
    if filter.window_end is not None:
        conditions.append(d.starts_at < filter.window_end)
    if filter.top_entity is not None:
        conditions.append(_top_entity_clause(filter.top_entity))
    return conditions
