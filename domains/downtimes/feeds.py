"""The read behind the downtime feeds (iCal, RSS, CSV, JSON): filtered downtimes with what
a feed shows of each (site, NGI, affected services and chosen endpoints), gathered in a
constant number of statements whatever the number of downtimes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.common.models import legacy_key
from domains.common.scopes import ScopeDefaults
from domains.common.time import utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.downtimes.service import DowntimeFilter
from domains.topology import service as topology


@dataclass(frozen=True, slots=True)
class FeedService:
    host_name: str
    service_type: str
    # the service left the downtime early (partial ending)
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedEndpoint:
    name: str
    host_name: str
    service_type: str
    url: str | None
    interface_name: str


@dataclass(frozen=True, slots=True)
class FeedDowntime:
    id: int
    primary_key: str
    severity: Severity
    classification: Classification
    starts_at: datetime
    ends_at: datetime
    declared_at: datetime
    updated_at: datetime
    description: str
    site: str
    ngi: str
    services: tuple[FeedService, ...]
    # endpoints chosen at declaration; none means every endpoint of the services
    endpoints: tuple[FeedEndpoint, ...]


def feed_downtimes(
    session: Session,
    principal: Principal,
    *,
    filter: DowntimeFilter,
    scope_defaults: ScopeDefaults,
    mine: bool = False,
    now: datetime | None = None,
    limit: int,
) -> list[FeedDowntime]:
    """Downtimes are public (as GOCDB's get_downtime is). `mine`: only those of the sites
    where the caller holds a role, which needs an authenticated caller."""
    if mine:
        my_sites = set(downtimes.site_ids_with_roles(session, principal))
        if filter.site_ids is not None:
            my_sites &= set(filter.site_ids)
        filter = replace(filter, site_ids=tuple(sorted(my_sites)))
    rows = downtimes.iter_downtimes(
        session,
        principal,
        filter=filter,
        scope_defaults=scope_defaults,
        now=now or utcnow(),
        limit=limit,
    )
    if not rows:
        return []
    ids = [int(row.id) for row in rows]
    links = downtimes.service_links(session, principal, ids)
    endpoint_links = downtimes.endpoint_links(session, principal, ids)
    sites = topology.sites_by_id(session, principal, sorted({int(r.site_id) for r in rows}))
    ngis = topology.ngis_by_id(session, principal, sorted({int(s.ngi_id) for s in sites.values()}))
    services = topology.services_by_id(
        session, principal, sorted({int(link.service_id) for ls in links.values() for link in ls})
    )
    endpoints = topology.endpoints_by_id(
        session, principal, sorted({e for es in endpoint_links.values() for e in es})
    )

    def endpoint(endpoint_id: int) -> FeedEndpoint:
        row = endpoints[endpoint_id]
        owner = services[row.service_id]
        return FeedEndpoint(
            name=row.name,
            host_name=owner.host_name,
            service_type=owner.service_type_name,
            url=row.url,
            interface_name=row.interface_name,
        )

    out = []
    for row in rows:
        site = sites[row.site_id]
        out.append(
            FeedDowntime(
                id=int(row.id),
                primary_key=row.primary_key or legacy_key(int(row.id)),
                severity=Severity(row.severity),
                classification=Classification(row.classification),
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                declared_at=row.declared_at,
                updated_at=row.updated_at,
                description=row.description,
                site=site.short_name,
                ngi=ngis[site.ngi_id].name,
                services=tuple(
                    FeedService(
                        host_name=services[link.service_id].host_name,
                        service_type=services[link.service_id].service_type_name,
                        ended_at=link.ended_at,
                    )
                    for link in links.get(int(row.id), [])
                ),
                endpoints=tuple(endpoint(e) for e in endpoint_links.get(int(row.id), [])),
            )
        )
    return out
