"""Mutations of recomputations: create, replace, delete and move through ARGO's workflow
(platform administrators; an NGI's operations manager for its sites). Thin: every rule is in
domains.monitoring.service.recomputations and .recomputation_workflow."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.authz import requires
from domains.common.graphql import Deleted, Info, id_of_type
from domains.monitoring.rules import RecomputationAction
from domains.monitoring.service import recomputation_workflow as workflow
from domains.monitoring.service import recomputations as svc
from domains.monitoring.types.recomputations import TYPE_NAME, RecomputationNode, nodes


@strawberry.input
class RecomputationMetricExclusionInput:
    metric: str
    hostname: str | None = None
    service: str | None = None
    group: str | None = strawberry.field(default=None, description="A site's short name.")


@strawberry.input
class RecomputationSourceExclusionInput:
    host: str
    start_time: datetime
    end_time: datetime


@strawberry.input
class RecomputationStatusChangeInput:
    state: str = strawberry.field(
        description="OK, WARNING, CRITICAL, UNKNOWN, MISSING or DOWNTIME."
    )
    group: str | None = strawberry.field(default=None, description="A site's short name.")
    service: str | None = None
    endpoint: str | None = strawberry.field(default=None, description="A host name.")
    metric: str | None = None
    start_time: datetime | None = strawberry.field(
        default=None, description="Null: the recomputation's start."
    )
    end_time: datetime | None = strawberry.field(
        default=None, description="Null: the recomputation's end."
    )


@strawberry.input
class CreateRecomputationInput:
    report: str = strawberry.field(description="The report's name or id.")
    requester_name: str
    requester_email: str
    reason: str
    start_time: datetime
    end_time: datetime
    exclude: list[str] = strawberry.field(
        default_factory=list, description="Sites (short names) to exclude."
    )
    exclude_metrics: list[RecomputationMetricExclusionInput] = strawberry.field(
        default_factory=list
    )
    exclude_monitoring_source: list[RecomputationSourceExclusionInput] = strawberry.field(
        default_factory=list
    )
    applied_status_changes: list[RecomputationStatusChangeInput] = strawberry.field(
        default_factory=list
    )


@strawberry.input(
    description="A recomputation's whole new content (ARGO's PUT): every field is given again."
)
class UpdateRecomputationInput(CreateRecomputationInput):
    id: strawberry.ID


@strawberry.input
class DeleteRecomputationInput:
    id: strawberry.ID


@strawberry.input
class SetRecomputationStatusInput:
    id: strawberry.ID
    status: str = strawberry.field(
        description="ARGO's workflow state: pending, approved, rejected, running or done."
    )


@strawberry.type
class RecomputationPayload:
    recomputation: RecomputationNode


def _spec(input: CreateRecomputationInput) -> svc.RecomputationSpec:
    return svc.RecomputationSpec(
        report=input.report,
        requester_name=input.requester_name,
        requester_email=input.requester_email,
        reason=input.reason,
        start=input.start_time,
        end=input.end_time,
        exclude=tuple(input.exclude),
        exclude_metrics=tuple(
            svc.MetricExclusionSpec(m.metric, m.hostname, m.service, m.group)
            for m in input.exclude_metrics
        ),
        exclude_monitoring_source=tuple(
            svc.SourceExclusionSpec(s.host, s.start_time, s.end_time)
            for s in input.exclude_monitoring_source
        ),
        applied_status_changes=tuple(
            svc.StatusChangeSpec(
                c.state, c.group, c.service, c.endpoint, c.metric, c.start_time, c.end_time
            )
            for c in input.applied_status_changes
        ),
    )


@strawberry.type
class MonitoringRecomputationMutation:
    @strawberry.mutation(
        description="A recomputation of a report's availability: applied at once, the days "
        "it touches computed again."
    )
    @requires(
        RecomputationAction.MANAGE_RECOMPUTATION,
        on="the sites it touches (platform administrators: any)",
    )
    def create_recomputation(
        self, info: Info, input: CreateRecomputationInput
    ) -> RecomputationPayload:
        ctx = info.context
        row = svc.create_recomputation(ctx.session, ctx.principal, spec=_spec(input))
        [node] = nodes(info, [row])
        return RecomputationPayload(recomputation=node)

    @strawberry.mutation(
        description="Replace a recomputation (its workflow status and history stay): the "
        "caller must be allowed both the old and the new one; the days of both are computed "
        "again."
    )
    @requires(
        RecomputationAction.MANAGE_RECOMPUTATION,
        on="the sites the recomputation touches, before and after",
    )
    def update_recomputation(
        self, info: Info, input: UpdateRecomputationInput
    ) -> RecomputationPayload:
        ctx = info.context
        db_id = id_of_type(input.id, TYPE_NAME, argument="input.id")
        row = svc.update_recomputation(
            ctx.session, ctx.principal, uuid=svc.uuid_of(ctx.session, db_id), spec=_spec(input)
        )
        [node] = nodes(info, [row])
        return RecomputationPayload(recomputation=node)

    @strawberry.mutation(
        description="Move a recomputation through ARGO's workflow (appended to its history). "
        "Only approved, running and done ones apply: moving it to or from pending or "
        "rejected computes the days it touches again."
    )
    @requires(RecomputationAction.MANAGE_RECOMPUTATION, on="the sites the recomputation touches")
    def set_recomputation_status(
        self, info: Info, input: SetRecomputationStatusInput
    ) -> RecomputationPayload:
        ctx = info.context
        db_id = id_of_type(input.id, TYPE_NAME, argument="input.id")
        row = workflow.set_recomputation_status(
            ctx.session, ctx.principal, uuid=svc.uuid_of(ctx.session, db_id), status=input.status
        )
        [node] = nodes(info, [row])
        return RecomputationPayload(recomputation=node)

    @strawberry.mutation(
        description="Delete a recomputation: the days it touched are computed again."
    )
    @requires(RecomputationAction.MANAGE_RECOMPUTATION, on="the sites the recomputation touches")
    def delete_recomputation(self, info: Info, input: DeleteRecomputationInput) -> Deleted:
        ctx = info.context
        db_id = id_of_type(input.id, TYPE_NAME, argument="input.id")
        svc.delete_recomputation(ctx.session, ctx.principal, uuid=svc.uuid_of(ctx.session, db_id))
        return Deleted(id=input.id)
