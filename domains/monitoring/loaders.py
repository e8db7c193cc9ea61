"""Per-request loaders of the status of the topology's objects under a report (the `status`
fields of NGI, Site, Service and Endpoint). A miss computes the status of every object of
that kind the request has loaded so far (the topology's own loaders know them), in one
`levels.status_levels` call narrowed to them: a page of sites costs one computation, not
one per site."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader
from domains.common.query import Record
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.service import levels
from domains.topology import loaders as topology_loaders

Found = tuple[levels.StatusDay, levels.LevelStatus]  # the day's header and one item


def _no_status() -> Found | None:
    return None


def _of(
    ctx: RequestContext,
    name: str,
    report: str,
    day: dt.date | None,
    peer: BatchLoader[int, Record | None],
    fetch: Callable[[Sequence[int]], Mapping[int, Found]],
    key: int,
) -> Found | None:
    loader: BatchLoader[int, Found | None] = ctx.loaders.get(
        ("monitoring", f"status_of_{name}:{report}:{day}"),
        lambda: BatchLoader(fetch, _no_status),
    )
    if not loader.has(key):
        loader.hint(peer.known())
    return loader.load(key)


def _rows(peer: BatchLoader[int, Record | None], ids: Sequence[int]) -> dict[int, Record]:
    return {i: row for i, row in zip(ids, peer.load_many(ids), strict=True) if row is not None}


def status_of_ngi(
    ctx: RequestContext, report: str, day: dt.date | None, ngi_id: int
) -> Found | None:
    return _status_of_group(ctx, report, day, ngi_id, ArLevel.SUPERGROUP)


def status_of_site(
    ctx: RequestContext, report: str, day: dt.date | None, site_id: int
) -> Found | None:
    return _status_of_group(ctx, report, day, site_id, ArLevel.SITE)


def _status_of_group(
    ctx: RequestContext, report: str, day: dt.date | None, key: int, level: ArLevel
) -> Found | None:
    """An NGI (ARGO's group) or a site (its endpoint group), found by name in the day's
    items of its level."""
    is_ngi = level is ArLevel.SUPERGROUP
    peer = topology_loaders.ngi(ctx) if is_ngi else topology_loaders.site(ctx)

    def fetch(ids: Sequence[int]) -> Mapping[int, Found]:
        rows = _rows(peer, ids).items()
        names = {(row.name if is_ngi else row.short_name): i for i, row in rows}
        narrowing = {"ngis" if is_ngi else "sites": list(names)}
        found = _read(ctx, report, day, level, **narrowing)
        return {names[f[1].name]: f for f in found if f[1].name in names}

    return _of(ctx, "ngi" if is_ngi else "site", report, day, peer, fetch, key)


def status_of_service(
    ctx: RequestContext, report: str, day: dt.date | None, service_id: int
) -> Found | None:
    """A topology service is ARGO's endpoint: its host name and service type."""
    peer = topology_loaders.service_(ctx)

    def fetch(ids: Sequence[int]) -> Mapping[int, Found]:
        rows = _rows(peer, ids)
        types = topology_loaders.service_type(ctx)
        keys: dict[tuple[str, str], int] = {}
        for i, row in rows.items():
            stype = types.load(row.service_type_id)
            if stype is not None:
                keys[(row.host_name, stype.name)] = i
        found = _read(
            ctx,
            report,
            day,
            ArLevel.ENDPOINT,
            service_types=sorted({t for _, t in keys}),
            hostnames=sorted({h for h, _ in keys}),
        )
        return {
            keys[(f[1].name, f[1].service_type)]: f
            for f in found
            if (f[1].name, f[1].service_type) in keys
        }

    return _of(ctx, "service", report, day, peer, fetch, service_id)


def _read(
    ctx: RequestContext,
    report: str,
    day: dt.date | None,
    level: ArLevel,
    *,
    ngis: list[str] | None = None,
    sites: list[str] | None = None,
    service_types: list[str] | None = None,
    hostnames: list[str] | None = None,
) -> list[Found]:
    found = levels.status_levels(
        ctx.session,
        ctx.principal,
        report=report,
        day=day,
        now=ctx.instant(),  # unmarked: the service marks a running day
        levels=(level,),
        ngis=ngis,
        sites=sites,
        service_types=service_types,
        hostnames=hostnames,
    )
    return [(found, item) for item in found.items]
