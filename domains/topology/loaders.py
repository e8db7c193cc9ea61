"""Per-request loaders of the topology. Each batch fetched hints the loaders of the next
level with every key it found, so a nested query costs one statement per level."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TypeVar

from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader
from domains.common.query import Record
from domains.topology import service

V = TypeVar("V")

Fetch = Callable[[Sequence[int]], Mapping[int, V]]


def _get(
    ctx: RequestContext, name: str, fetch: Fetch[V], default: Callable[[], V]
) -> BatchLoader[int, V]:
    return ctx.loaders.get(("topology", name), lambda: BatchLoader(fetch, default))


def _none() -> Record | None:
    return None


def _empty() -> list[Record]:
    return []


def _one_by_id(
    ctx: RequestContext,
    name: str,
    read: Callable[..., dict[int, Record]],
    after: Callable[[RequestContext, Iterable[Record]], None] | None = None,
) -> BatchLoader[int, Record | None]:
    def fetch(ids: Sequence[int]) -> dict[int, Record]:
        rows = read(ctx.session, ctx.principal, ids)
        if after is not None:
            after(ctx, rows.values())
        return rows

    return _get(ctx, name, fetch, _none)


def _many_by_owner(
    ctx: RequestContext,
    name: str,
    read: Callable[[Sequence[int]], dict[int, list[Record]]],
    after: Callable[[RequestContext, Iterable[Record]], None] | None = None,
) -> BatchLoader[int, list[Record]]:
    def fetch(ids: Sequence[int]) -> dict[int, list[Record]]:
        groups = read(ids)
        if after is not None:
            after(ctx, (row for rows in groups.values() for row in rows))
        return groups

    return _get(ctx, name, fetch, _empty)


# --- single objects -----------------------------------------------------------------


def project(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "project", service.projects_by_id, after_projects)


def ngi(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "ngi", service.ngis_by_id, after_ngis)


def site(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "site", service.sites_by_id, after_sites)


def service_(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "service", service.services_by_id, after_services)


def endpoint(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "endpoint", service.endpoints_by_id, after_endpoints)


def service_type(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "service_type", service.service_types_by_id)


def service_group(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "service_group", service.service_groups_by_id, after_groups)


def scope(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return _one_by_id(ctx, "scope", service.scopes_by_id)


# --- children of a parent ------------------------------------------------------------


def sites_of_ngi(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.sites_by_ngi, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "sites_of_ngi", read, after_sites)


def services_of_site(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.services_by_site, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "services_of_site", read, after_services)


def endpoints_of_service(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.endpoints_by_service, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "endpoints_of_service", read, after_endpoints)


def services_of_group(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.services_by_group, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "services_of_group", read, after_services)


def ngis_of_project(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.ngis_by_project, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "ngis_of_project", read, after_ngis)


def projects_of_ngi(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.projects_by_ngi, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "projects_of_ngi", read, after_projects)


def certification_history(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.certification_history, ctx.session, ctx.principal)
    return _many_by_owner(ctx, "certification_history", read)


def scopes_of(ctx: RequestContext, kind: str) -> BatchLoader[int, list[Record]]:
    read = partial(service.scopes_of, ctx.session, ctx.principal, kind)
    return _many_by_owner(ctx, f"scopes_of_{kind}", read)


def properties_of(ctx: RequestContext, kind: str) -> BatchLoader[int, list[Record]]:
    read = partial(service.properties_of, ctx.session, ctx.principal, kind)
    return _many_by_owner(ctx, f"properties_of_{kind}", read)


# --- hints: what a batch of rows of one kind makes likely next --------------------------


def _prime(loader: BatchLoader[int, Record | None], rows: list[Record]) -> None:
    for row in rows:
        loader.prime(row.id, row)


def after_projects(ctx: RequestContext, rows: Iterable[Record]) -> None:
    ids = [row.id for row in rows]
    ngis_of_project(ctx).hint(ids)


def after_ngis(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    _prime(ngi(ctx), rows)
    ids = [row.id for row in rows]
    sites_of_ngi(ctx).hint(ids)
    scopes_of(ctx, "ngi").hint(ids)
    projects_of_ngi(ctx).hint(ids)


def after_sites(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    _prime(site(ctx), rows)
    ids = [row.id for row in rows]
    services_of_site(ctx).hint(ids)
    ngi(ctx).hint({row.ngi_id for row in rows})
    scopes_of(ctx, "site").hint(ids)
    properties_of(ctx, "site").hint(ids)


def after_services(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    _prime(service_(ctx), rows)
    ids = [row.id for row in rows]
    endpoints_of_service(ctx).hint(ids)
    site(ctx).hint({row.site_id for row in rows})
    service_type(ctx).hint({row.service_type_id for row in rows})
    scopes_of(ctx, "service").hint(ids)
    properties_of(ctx, "service").hint(ids)


def after_endpoints(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    _prime(endpoint(ctx), rows)
    ids = [row.id for row in rows]
    properties_of(ctx, "endpoint").hint(ids)
    service_(ctx).hint({row.service_id for row in rows})


def after_groups(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    _prime(service_group(ctx), rows)
    ids = [row.id for row in rows]
    services_of_group(ctx).hint(ids)
    scopes_of(ctx, "service_group").hint(ids)
    properties_of(ctx, "service_group").hint(ids)
