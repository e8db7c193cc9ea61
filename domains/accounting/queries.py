"""Accounting through GraphQL: the portal's views (public: aggregates; per-user figures as
service/pivot.py allows them); a site's publication overview (public counts; its last
message for the site's administrators and its NGI's managers); the reject store (platform
administrators) and the sender grants (platform administrators and the NGI's operations
managers)."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domains.accounting import loaders
from domains.accounting.service import pivot as pivots
from domains.accounting.service import rejects, reportdata, senders
from domains.accounting.service.pivot import (
    CloudMetric,
    Dimension,
    LocalJobs,
    Metric,
    Month,
    PivotQuery,
    Unit,
    UsageBy,
)
from domains.accounting.service.publication import site_publication
from domains.accounting.service.storage import storage_usage
from domains.accounting.types import (
    GRANT_TYPE,
    REJECT_TYPE,
    AccountingDiscipline,
    AccountingFilter,
    AccountingPivot,
    AccountingPublication,
    AccountingRejectFilter,
    AccountingRejectNode,
    AccountingSenderGrantNode,
    AccountingUsage,
    CloudAccountingPivot,
    StorageAccountingRow,
    WlcgFederation,
    reject_nodes,
)
from domains.common.graphql import (
    Connection,
    Info,
    connection,
    id_of_type,
    list_connection,
    node_type,
)
from domains.topology.queries import After, First
from domains.topology.types import NgiNode, SiteNode


def _reject(info: Info, db_id: int) -> AccountingRejectNode | None:
    ctx = info.context
    found = rejects.rejects_by_id(ctx.session, ctx.principal, [db_id]).get(db_id)
    return None if found is None else reject_nodes(info, [found])[0]


node_type(REJECT_TYPE)(_reject)


@node_type(GRANT_TYPE)
def _resolve_grant(info: Info, db_id: int) -> AccountingSenderGrantNode | None:
    ctx = info.context
    found = senders.sender_grant_by_id(ctx.session, ctx.principal, db_id)
    return None if found is None else AccountingSenderGrantNode.from_row(found)


From = Annotated[str, strawberry.argument(name="from", description="The first month, YYYY-MM.")]
To = Annotated[str, strawberry.argument(description="The last month, YYYY-MM.")]


def _query(
    info: Info,
    metric: Metric | CloudMetric,
    rows: Dimension,
    columns: Dimension,
    from_: str,
    to: str,
    unit: Unit,
    filter: AccountingFilter | None,
) -> PivotQuery:
    chosen = filter or AccountingFilter()
    return PivotQuery(
        metric=metric,
        rows=rows,
        columns=columns,
        start=Month.parse("from", from_),
        end=Month.parse("to", to),
        unit=unit,
        vo_group=chosen.vo_group,
        exclude_ops=chosen.exclude_ops_dteam,
        local_jobs=chosen.local_jobs,
        site=chosen.site,
        ngi=chosen.ngi,
        country=chosen.country,
        egi_vos=info.context.settings.accounting_egi_vos,
        vo=chosen.vo,
        mine=chosen.mine,
    )


@strawberry.type
class AccountingQuery:
    @strawberry.field(
        description="A pivot table of one accounting metric (grid jobs' summaries) from "
        "`from` to `to` (months YYYY-MM, both included, at most 20 years), by `rows` and "
        "`columns`, with row, column and grand totals and percentages of the grand total. "
        "Public: aggregates. `filter: {mine: true}`: the caller's own usage; the USER "
        "dimension: per-user figures of the `vo` (its managers), `site` (its administrators) "
        "or `ngi` (its managers) filtered on, or of one's own."
    )
    def accounting(
        self,
        info: Info,
        metric: Metric,
        rows: Dimension,
        columns: Dimension,
        from_: From,
        to: To,
        unit: Unit = Unit.HOUR,
        filter: AccountingFilter | None = None,
    ) -> AccountingPivot:
        query = _query(info, metric, rows, columns, from_, to, unit, filter)
        found = pivots.pivot(info.context.session, query, info.context.principal)
        return AccountingPivot.from_pivot(found)

    @strawberry.field(
        description="A pivot table of one cloud metric (the cloud usage summaries: each "
        "month holds what the VMs accrued in it), as `accounting` is of the grid jobs'."
    )
    def cloud_accounting(
        self,
        info: Info,
        metric: CloudMetric,
        rows: Dimension,
        columns: Dimension,
        from_: From,
        to: To,
        unit: Unit = Unit.HOUR,
        filter: AccountingFilter | None = None,
    ) -> CloudAccountingPivot:
        query = _query(info, metric, rows, columns, from_, to, unit, filter)
        found = pivots.pivot(info.context.session, query, info.context.principal)
        return CloudAccountingPivot.from_pivot(found)

    @strawberry.field(
        description="Storage (StAR) use by site, VO and month from `from` to `to` (YYYY-MM, "
        "both included, at most 20 years), sorted by month, site and VO."
    )
    def storage_accounting(
        self,
        info: Info,
        from_: From,
        to: To,
        site: str | None = None,
        ngi: str | None = None,
        country: Annotated[
            str | None, strawberry.argument(description="A country's name or code.")
        ] = None,
        vo: str | None = None,
    ) -> list[StorageAccountingRow]:
        rows = storage_usage(
            info.context.session,
            Month.parse("from", from_),
            Month.parse("to", to),
            site=site,
            ngi=ngi,
            country=country,
            vo=vo,
        )
        return [StorageAccountingRow.of(r) for r in rows]

    @strawberry.field(
        description="A site's accounting publication (its short name): when a message last "
        "loaded for it and, for every month from `from` to `to` (YYYY-MM, both included, at "
        "most 20 years), the records held and the sync comparison. Public (aggregates); "
        "`lastMessage` for the site's administrators, its NGI's managers and platform "
        "administrators. Null for a site not registered."
    )
    def accounting_publication(
        self, info: Info, site: str, from_: From, to: To
    ) -> AccountingPublication | None:
        ctx = info.context
        found = site_publication(
            ctx.session, ctx.principal, site, Month.parse("from", from_), Month.parse("to", to)
        )
        return None if found is None else AccountingPublication.of(found)

    @strawberry.field(description="Messages refused whole, newest first (platform administrators).")
    def accounting_rejects(
        self,
        info: Info,
        filter: AccountingRejectFilter | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[AccountingRejectNode]:
        ctx = info.context
        page = rejects.rejects_page(
            ctx.session,
            ctx.principal,
            page=ctx.page(first, after),
            filter=(filter or AccountingRejectFilter()).to_filter(),
        )
        return Connection(page=page, node_list=reject_nodes(info, page.items))

    @strawberry.field(
        description="One refused message, with its body (platform administrators; null for others)."
    )
    def accounting_reject(self, info: Info, id: strawberry.ID) -> AccountingRejectNode | None:
        return _reject(info, id_of_type(id, REJECT_TYPE, argument="id"))

    @strawberry.field(
        description="The wider scopes granted to accounting hosts, oldest first: all of them "
        "for platform administrators, those of their NGIs and its sites for an NGI's "
        "operations managers, none for others."
    )
    def accounting_sender_grants(
        self,
        info: Info,
        dn: Annotated[
            str | None, strawberry.argument(description="Only this DN's (OpenSSL slash form).")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[AccountingSenderGrantNode]:
        ctx = info.context
        page = senders.sender_grants_page(
            ctx.session, ctx.principal, page=ctx.page(first, after), dn=dn
        )
        return connection(page, AccountingSenderGrantNode.from_row)

    @strawberry.field(
        description="WLCG's federations, by name, with their sites and pledges (public)."
    )
    def wlcg_federations(
        self,
        info: Info,
        tier: Annotated[int | None, strawberry.argument(description="Only tier 1 or 2.")] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[WlcgFederation]:
        ctx = info.context
        found = reportdata.federations(ctx.session, tier=tier)
        return list_connection([WlcgFederation.from_row(f) for f in found], ctx.page(first, after))

    @strawberry.field(description="The scientific disciplines, by name, with their VOs (public).")
    def accounting_disciplines(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[AccountingDiscipline]:
        ctx = info.context
        found = reportdata.disciplines(ctx.session)
        return list_connection(
            [AccountingDiscipline.from_row(d) for d in found], ctx.page(first, after)
        )


# --- what the topology's Site and NGI show of their usage ---------------------------------
# Joined where the schema is assembled (gateway/schema.py, extend_type). Public aggregates:
# the per-user figures stay behind the `accounting` query's access rules.

FromArg = Annotated[str, strawberry.argument(name="from", description="The first month, YYYY-MM.")]
ToArg = Annotated[str, strawberry.argument(description="The last month, YYYY-MM.")]
ByArg = Annotated[
    UsageBy | None, strawberry.argument(description="Break the total down by this (parts).")
]
VoArg = Annotated[str | None, strawberry.argument(description="Only this VO's usage.")]


def _usage(
    info: Info,
    rows: Dimension,
    db_id: int,
    metric: Metric,
    from_: str,
    to: str,
    unit: Unit,
    by: UsageBy | None,
    vo: str | None,
    local_jobs: LocalJobs,
) -> AccountingUsage:
    query = PivotQuery(
        metric=metric,
        rows=rows,
        columns=Dimension.YEAR,
        start=Month.parse("from", from_),
        end=Month.parse("to", to),
        unit=unit,
        local_jobs=local_jobs,
        vo=vo,
    )
    pivots.check_usage(query, by)  # before the loader: a refusal costs no statement
    found = loaders.usage_of(info.context, query, by, db_id)
    return AccountingUsage.of(found, metric, unit, by)


def _usage_of_site(
    root: strawberry.Parent[SiteNode],
    info: Info,
    from_: FromArg,
    to: ToArg,
    metric: Metric = Metric.NORMCPU,
    unit: Unit = Unit.HOUR,
    by: ByArg = None,
    vo: VoArg = None,
    local_jobs: LocalJobs = LocalJobs.ONLY_INFRA,
) -> AccountingUsage:
    return _usage(info, Dimension.SITE, root.db_id, metric, from_, to, unit, by, vo, local_jobs)


def _usage_of_ngi(
    root: strawberry.Parent[NgiNode],
    info: Info,
    from_: FromArg,
    to: ToArg,
    metric: Metric = Metric.NORMCPU,
    unit: Unit = Unit.HOUR,
    by: ByArg = None,
    vo: VoArg = None,
    local_jobs: LocalJobs = LocalJobs.ONLY_INFRA,
) -> AccountingUsage:
    return _usage(info, Dimension.NGI, root.db_id, metric, from_, to, unit, by, vo, local_jobs)


def topology_fields() -> dict[type, dict[str, Any]]:
    """The `usage` fields accounting adds to topology's Site and NGI (new ones at each call:
    a field belongs to one schema type)."""
    what = (
        "of one metric from `from` to `to` (months, both included), from the grid jobs' "
        "summaries; the usage of every {} of a query in one statement per set of arguments."
    )
    return {
        SiteNode: {
            "usage": strawberry.field(
                resolver=_usage_of_site, description="Its accounting " + what.format("site")
            )
        },
        NgiNode: {
            "usage": strawberry.field(
                resolver=_usage_of_ngi,
                description="Its sites' accounting " + what.format("NGI"),
            )
        },
    }
