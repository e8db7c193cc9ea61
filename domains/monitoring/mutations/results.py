"""Metric results over GraphQL: monitoring hosts publish them; platform administrators
grant and revoke the monitoring-host role."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.authz import Caller, requires
from domains.common.graphql import Deleted, Info, id_of_type, to_global_id
from domains.monitoring.avro import MetricResultIn
from domains.monitoring.models.results import GrantKind
from domains.monitoring.rules import Action
from domains.monitoring.service import results
from domains.monitoring.types.results import MetricResultRejection, MonitoringHostGrantNode


@strawberry.input(description="A key of a result's tags and its value.")
class MetricResultTagInput:
    key: str
    value: str | None = None


@strawberry.input(description="One metric result, with the fields of ARGO's metric_data.")
class MetricResultInput:
    timestamp: datetime = strawberry.field(description="When the check ran, with its offset.")
    service: str = strawberry.field(description="The service type, e.g. ARC-CE.")
    hostname: str
    metric: str
    status: str = strawberry.field(description="OK, WARNING, CRITICAL or UNKNOWN.")
    monitoring_host: str | None = None
    actual_data: str | None = strawberry.field(default=None, description="Nagios perfdata.")
    summary: str | None = None
    message: str | None = None
    tags: list[MetricResultTagInput] | None = None

    def to_record(self) -> MetricResultIn:
        return MetricResultIn(
            timestamp=self.timestamp,
            service=self.service,
            hostname=self.hostname,
            metric=self.metric,
            status=self.status,
            monitoring_host=self.monitoring_host,
            actual_data=self.actual_data,
            summary=self.summary,
            message=self.message,
            tags={t.key: t.value for t in self.tags or ()},
        )


@strawberry.input
class PublishMetricResultsInput:
    results: list[MetricResultInput]


@strawberry.type(description="How many results were stored; the others, each with its reason.")
class PublishMetricResultsPayload:
    accepted: int
    rejected: list[MetricResultRejection]


@strawberry.input
class GrantMonitoringHostInput:
    kind: GrantKind
    identifier: str = strawberry.field(description="The subject, or the certificate's DN.")
    note: str = ""


@strawberry.type
class GrantMonitoringHostPayload:
    grant: MonitoringHostGrantNode


@strawberry.input
class RevokeMonitoringHostInput:
    grant_id: strawberry.ID


@strawberry.type
class MonitoringResultsMutation:
    @strawberry.mutation(
        description="Publish metric results as a monitoring host: each is checked on its "
        "own, the good ones stored, the others returned with field, rule and reason."
    )
    @requires(Action.PUBLISH_RESULTS)
    def publish_metric_results(
        self, info: Info, input: PublishMetricResultsInput
    ) -> PublishMetricResultsPayload:
        ctx = info.context
        outcome = results.publish_results(
            ctx.session,
            ctx.principal,
            [r.to_record() for r in input.results],
            now=ctx.clock(),
        )
        return PublishMetricResultsPayload(
            accepted=outcome.accepted,
            rejected=[MetricResultRejection.from_row(r) for r in outcome.rejected],
        )

    @strawberry.mutation(description="Let a principal publish metric results.")
    @requires(Caller.PLATFORM_ADMIN)
    def grant_monitoring_host(
        self, info: Info, input: GrantMonitoringHostInput
    ) -> GrantMonitoringHostPayload:
        ctx = info.context
        grant = results.grant_monitoring_host(
            ctx.session,
            ctx.principal,
            kind=input.kind,
            identifier=input.identifier,
            note=input.note,
        )
        return GrantMonitoringHostPayload(grant=MonitoringHostGrantNode.from_row(grant))

    @strawberry.mutation(description="Stop a principal from publishing metric results.")
    @requires(Caller.PLATFORM_ADMIN)
    def revoke_monitoring_host(self, info: Info, input: RevokeMonitoringHostInput) -> Deleted:
        ctx = info.context
        grant_id = id_of_type(input.grant_id, "MonitoringHostGrant", argument="input.grantId")
        gone = results.revoke_monitoring_host(ctx.session, ctx.principal, grant_id=grant_id)
        return Deleted(id=strawberry.ID(to_global_id("MonitoringHostGrant", gone)))
