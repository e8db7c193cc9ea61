"""Queries of alert rules: the caller's own (others' a caller may manage come by id)."""

from __future__ import annotations

import strawberry

from domains.common.graphql import Connection, Info, connection, node_type
from domains.monitoring.service import alerts
from domains.monitoring.types.alerts import TYPE_NAME, AlertRuleNode
from domains.topology.queries import After, First


@node_type(TYPE_NAME)
def _resolve(info: Info, db_id: int) -> AlertRuleNode | None:
    ctx = info.context
    row = alerts.get_rule(ctx.session, ctx.principal, rule_id=db_id)
    return None if row is None else AlertRuleNode.from_row(row)


@strawberry.type
class MonitoringAlertQuery:
    @strawberry.field(description="Your alert rules, oldest first.")
    def my_alert_rules(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[AlertRuleNode]:
        ctx = info.context
        page = alerts.rules_page(ctx.session, ctx.principal, page=ctx.page(first, after))
        return connection(page, AlertRuleNode.from_row)
