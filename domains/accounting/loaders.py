"""The request's loaders of accounting: the usage of the sites and NGIs a query shows
(Site.usage, NGI.usage), every one the request has seen in one statement per set of
arguments, as the monitoring domain's `status` fields do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domains.accounting.service import pivot as pivots
from domains.accounting.service.pivot import Dimension, PivotQuery, Usage, UsageBy
from domains.common.context import RequestContext
from domains.common.loaders import BatchLoader
from domains.topology import loaders as topology_loaders


def _no_usage() -> Usage:
    return pivots.NO_USAGE


def usage_of(ctx: RequestContext, query: PivotQuery, by: UsageBy | None, key: int) -> Usage:
    """The usage of the site (query.rows SITE) or NGI (NGI) of id `key`. The first call
    with these arguments reads that of every site (NGI) the request has loaded so far."""
    is_ngi = query.rows is Dimension.NGI
    peer = topology_loaders.ngi(ctx) if is_ngi else topology_loaders.site(ctx)

    def fetch(ids: Sequence[int]) -> Mapping[int, Usage]:
        rows = peer.load_many(ids)
        names = {
            (row.name if is_ngi else row.short_name): i
            for i, row in zip(ids, rows, strict=True)
            if row is not None
        }
        found = pivots.usage(ctx.session, query, list(names), by)
        return {names[name]: value for name, value in found.items() if name in names}

    loader: BatchLoader[int, Usage] = ctx.loaders.get(
        ("accounting", f"usage:{query!r}:{by}"), lambda: BatchLoader(fetch, _no_usage)
    )
    if not loader.has(key):
        loader.hint(peer.known())
    return loader.load(key)
