"""What ARGO's status views say about an endpoint beside its statuses: its `info` (the URL
the topology registers for it) and its resource id (ARGO's `info_ID` topology tag, which
GOCDB-fed tenants fill with the service's primary key, e.g. `4711G0`).

Public, as the topology it reads is. Callers: ARGO's `/status/…` and `/results/…` routes
(gateway/compat/argo/status*.py, results_flat.py), which add `info` to the endpoints they
list, find an endpoint by resource id (`/api/v3/status|results/{report}/id/{id}`) and check
that a path's host is at its site."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.common.identity import Principal
from domains.topology.service import T_SERVICE, T_SERVICE_TYPE, T_SITE


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    hostname: str
    service_type: str
    site: str
    url: str | None
    resource_id: str | None


def endpoint_info(
    session: Session,
    _principal: Principal,
    *,
    hostnames: Collection[str] | None = None,
    resource_id: str | None = None,
) -> dict[tuple[str, str], EndpointInfo]:
    """The registered services on `hostnames` (None: any) or with the primary key
    `resource_id`, by (host name, service type)."""
    s, st, site = T_SERVICE.c, T_SERVICE_TYPE.c, T_SITE.c
    query = select(s.host_name, st.name, site.short_name, s.url, s.primary_key).select_from(
        T_SERVICE.join(T_SERVICE_TYPE, st.id == s.service_type_id).join(
            T_SITE, site.id == s.site_id
        )
    )
    if hostnames is not None:
        query = query.where(s.host_name.in_(sorted(hostnames)))
    if resource_id is not None:
        query = query.where(s.primary_key == resource_id)
    found = {}
    for host, stype, site_name, url, key in session.execute(query.order_by(s.host_name, st.name)):
        info = EndpointInfo(str(host), str(stype), str(site_name), url, key)
        found[(info.hostname, info.service_type)] = info
    return found
