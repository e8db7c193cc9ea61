"""Per-request loaders of the downtimes. A page of downtimes hints the loaders of their
services, endpoints and sites; the downtimes of sites and services are fetched for every
site or service the request has seen so far (the topology's own loaders know them), so a
nested query costs one statement per level whatever the page size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial

from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader, many_by_owner, one_by_id, prime
from domains.common.query import Record
from domains.downtimes import service
from domains.topology import loaders as topology_loaders


def downtime(ctx: RequestContext) -> BatchLoader[int, Record | None]:
    return one_by_id(ctx, ("downtimes", "downtime"), service.downtimes_by_id, after_downtimes)


def _after_links(ctx: RequestContext, links: Iterable[Record]) -> None:
    topology_loaders.service_(ctx).hint({link.service_id for link in links})


def service_links(ctx: RequestContext) -> BatchLoader[int, list[Record]]:
    read = partial(service.service_links, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("downtimes", "service_links"), read, _after_links)


def _after_endpoint_ids(ctx: RequestContext, ids: Iterable[int]) -> None:
    topology_loaders.endpoint(ctx).hint(set(ids))


def endpoint_ids(ctx: RequestContext) -> BatchLoader[int, list[int]]:
    read = partial(service.endpoint_links, ctx.session, ctx.principal)
    return many_by_owner(ctx, ("downtimes", "endpoint_ids"), read, _after_endpoint_ids)


def _of_owner(
    ctx: RequestContext,
    name: str,
    read: Callable[[Sequence[int]], dict[int, list[Record]]],
    peer: BatchLoader[int, Record | None],
    key: int,
) -> list[Record]:
    """The downtimes of one site or service; a miss fetches them for every site or service
    the request has loaded so far (`peer`), in one statement."""
    loader = many_by_owner(ctx, ("downtimes", name), read, after_downtimes)
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
    prime(downtime(ctx), rows)
    ids = [row.id for row in rows]
    service_links(ctx).hint(ids)
    endpoint_ids(ctx).hint(ids)
    topology_loaders.site(ctx).hint({row.site_id for row in rows})
