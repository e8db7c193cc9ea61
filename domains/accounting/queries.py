"""The accounting portal's views through GraphQL (public: aggregates only, no DN)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domains.accounting.service import pivot as pivots
from domains.accounting.service.pivot import Dimension, Metric, Month, PivotQuery, Unit
from domains.accounting.types import AccountingFilter, AccountingPivot
from domains.common.graphql import Info


@strawberry.type
class AccountingQuery:
    @strawberry.field(
        description="A pivot table of one accounting metric (grid jobs' summaries) from "
        "`from` to `to` (months YYYY-MM, both included, at most 20 years), by `rows` and "
        "`columns`, with row, column and grand totals and percentages of the grand total."
    )
    def accounting(
        self,
        info: Info,
        metric: Metric,
        rows: Dimension,
        columns: Dimension,
        from_: Annotated[
            str, strawberry.argument(name="from", description="The first month, YYYY-MM.")
        ],
        to: Annotated[str, strawberry.argument(description="The last month, YYYY-MM.")],
        unit: Unit = Unit.HOUR,
        filter: AccountingFilter | None = None,
    ) -> AccountingPivot:
        chosen = filter or AccountingFilter()
        query = PivotQuery(
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
        )
        return AccountingPivot.from_pivot(pivots.pivot(info.context.session, query))
