"""Queries of recomputations: public, as ARGO's results are (the requester's e-mail only
for those who may manage one)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domains.common.graphql import Connection, Info, connection, node_type
from domains.monitoring.service import recomputations as svc
from domains.monitoring.types.recomputations import TYPE_NAME, RecomputationNode, nodes
from domains.topology.queries import After, First


@node_type(TYPE_NAME)
def _resolve(info: Info, db_id: int) -> RecomputationNode | None:
    row = svc.get_by_id(info.context.session, db_id)
    return None if row is None else nodes(info, [row])[0]


@strawberry.type
class MonitoringRecomputationQuery:
    @strawberry.field(description="Recomputations, oldest first.")
    def recomputations(
        self,
        info: Info,
        report: Annotated[
            str | None, strawberry.argument(description="Only this report's (name or id).")
        ] = None,
        day: Annotated[
            date | None, strawberry.argument(description="Only those whose period holds it.")
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[RecomputationNode]:
        ctx = info.context
        page = svc.recomputations_page(
            ctx.session, ctx.principal, page=ctx.page(first, after), report=report, day=day
        )
        names = svc.report_names(ctx.session, (r.report_uuid for r in page.items))
        return connection(
            page, lambda r: RecomputationNode.from_row(r, names.get(r.report_uuid, r.report_uuid))
        )
