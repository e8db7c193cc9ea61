"""Per-request loaders of the downtimes. A page of downtimes hints the loaders of their
services, endpoints and sites; the downtimes of sites and services are fetched for every
site or service the request has seen so far (the topology's own loaders know them), so a
nested query costs one statement per level whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TypeVar

from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader
from domains.common.query import Record
from domains.downtimes import service
from domains.topology import loaders as topology_loaders

V = TypeVar("V")


def _get(
    ctx: RequestContext,
    name: str,
    fetch: Callable[[Sequence[int]], Mapping[int, V]],
    default: Callable[[], V],
) -> BatchLoader[int, V]:
    return ctx.loaders.get(("downtimes", name), lambda: BatchLoader(fetch, default))


def _none() -> Record | None:
    return None


def _empty() -> list[Record]:
    return []


def _no_ids() -> list[int]:
    return []


def downtime(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    def fetch(ids: Sequence[int]) -> dict[int, Record]:
        rows = service.downtimes_by_id(ctx.session, ctx.principal, ids)
        after_downtimes(ctx, rows.values())
        return rows

    return _get(ctx, "downtime", fetch, _none)


def service_links(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    def fetch(ids: Sequence[int]) -> dict[int, list[Record]]:
        groups = service.service_links(ctx.session, ctx.principal, ids)
        topology_loaders.service_(ctx).hint(
            {link.service_id for links in groups.values() for link in links}
        )
        return groups

    return _get(ctx, "service_links", fetch, _empty)


def endpoint_ids(ctx: RequestContext) -> BatchLoader[int, list[int]]:
    def fetch(ids: Sequence[int]) -> dict[int, list[int]]:
        groups = service.endpoint_links(ctx.session, ctx.principal, ids)
        topology_loaders.endpoint(ctx).hint({e for found in groups.values() for e in found})
        return groups

    return _get(ctx, "endpoint_ids", fetch, _no_ids)


def _of_owner(
    ctx: RequestContext,
    name: str,
    read: Callable[[Sequence[int]], dict[int, list[Record]]],
    peer: BatchLoader[int, Record | None],
    key: int,
) -> list[Record]:
    """The downtimes of one site or service; a miss fetches them for every site or service
    the request has loaded so far (`peer`), in one statement."""

    def fetch(ids: Sequence[int]) -> dict[int, list[Record]]:
        groups = read(ids)
        after_downtimes(ctx, (row for rows in groups.values() for row in rows))
        return groups

    loader = _get(ctx, name, fetch, _empty)
    if not loader.has(key):
        loader.hint(peer.known())
    return loader.load(key)


def downtimes_of_site(ctx: RequestContext, site_id: int) -> list[Record]:
    read = partial(service.downtimes_of_sites, ctx.session, ctx.principal)
    return _of_owner(ctx, "of_site", read, topology_loaders.site(ctx), site_id)


def downtimes_of_service(ctx: RequestContext, service_id: int) -> list[Record]:
    read = partial(service.downtimes_of_services, ctx.session, ctx.principal)
    return _of_owner(ctx, "of_service", read, topology_loaders.service_(ctx), service_id)


def after_downtimes(ctx: RequestContext, rows: Iterable[Record]) -> None:
    rows = list(rows)
    loader = downtime(ctx)
    for row in rows:
        loader.prime(row.id, row)
    ids = [row.id for row in rows]
    service_links(ctx).hint(ids)
    endpoint_ids(ctx).hint(ids)
    topology_loaders.site(ctx).hint({row.site_id for row in rows})
