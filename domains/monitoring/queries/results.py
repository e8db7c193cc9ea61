"""Queries of metric results: the live status of the metrics on an endpoint and their
history (public, as ARGO's status is); the monitoring-host grants and the rejection counts
(platform administrators)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.graphql import Connection, Info, connection, list_connection, node_type
from domains.monitoring.service import results, status
from domains.monitoring.types.results import (
    EndpointStatus,
    MetricResultRejectionCount,
    MetricStatusChange,
    MetricStatusNow,
    MonitoringHostGrantNode,
)
from domains.topology.queries import After, First


@strawberry.type
class MonitoringResultsQuery:
    @strawberry.field(description="The live status of each metric on a host (of one type).")
    def metric_statuses(
        self,
        info: Info,
        hostname: str,
        service_type: str | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[MetricStatusNow]:
        ctx = info.context
        request = ctx.page(first, after)
        rows = status.metric_statuses(
            ctx.session, ctx.principal, hostname=hostname, service_type=service_type
        )
        return list_connection([MetricStatusNow.from_row(r) for r in rows], request)

    @strawberry.field(description="The changes of a metric's status on an endpoint, oldest first.")
    def metric_status_changes(
        self,
        info: Info,
        hostname: str,
        service_type: str,
        metric: str,
        since: datetime | None = None,
        first: First = None,
        after: After = None,
    ) -> Connection[MetricStatusChange]:
        ctx = info.context
        request = ctx.page(first, after)
        rows = status.status_history(
            ctx.session,
            ctx.principal,
            hostname=hostname,
            service_type=service_type,
            metric=metric,
            since=since,
        )
        return list_connection([MetricStatusChange.from_row(r) for r in rows], request)

    @strawberry.field(description="An endpoint's status now under a report (public).")
    def endpoint_status(
        self, info: Info, report: str, hostname: str, service_type: str
    ) -> EndpointStatus:
        ctx = info.context
        row = status.endpoint_status(
            ctx.session,
            ctx.principal,
            report=report,
            hostname=hostname,
            service_type=service_type,
            now=ctx.instant(),  # unmarked: the service says when its answer changes
        )
        return EndpointStatus.from_row(row)

    @strawberry.field(description="Who may publish metric results (platform administrators).")
    def monitoring_host_grants(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[MonitoringHostGrantNode]:
        ctx = info.context
        page = results.monitoring_host_grants_page(
            ctx.session, ctx.principal, page=ctx.page(first, after)
        )
        return connection(page, MonitoringHostGrantNode.from_row)

    @strawberry.field(description="Results refused, per source and rule (platform administrators).")
    def metric_result_rejections(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[MetricResultRejectionCount]:
        ctx = info.context
        request = ctx.page(first, after)
        rows = results.rejection_counts(ctx.session, ctx.principal)
        return list_connection([MetricResultRejectionCount.from_row(r) for r in rows], request)


@node_type("MonitoringHostGrant")
def _resolve_grant(info: Info, pk: int) -> MonitoringHostGrantNode | None:
    ctx = info.context
    row = results.grant_by_id(ctx.session, ctx.principal, pk)
    return None if row is None else MonitoringHostGrantNode.from_row(row)
