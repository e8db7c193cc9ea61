"""GraphQL types of recomputations (ARGO's, models.recomputations): what one excludes and
the status changes it applies; the requester's e-mail only for those who may manage it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domains.common.graphql import Info, Node
from domains.common.models import pk
from domains.monitoring.service import recomputations as svc

TYPE_NAME = "Recomputation"


def _time(value: str | None) -> datetime | None:
    return None if value is None else svc.parse_zulu(value, "time")


@strawberry.type(description="A metric excluded (of a site, service type or host when named).")
class RecomputationMetricExclusion:
    metric: str
    hostname: str | None
    service: str | None
    group: str | None = strawberry.field(description="A site's short name.")


@strawberry.type(description="A monitoring source whose results are dropped over a period.")
class RecomputationSourceExclusion:
    host: str
    start_time: datetime
    end_time: datetime


@strawberry.type(
    description="A state applied to a site (group), a service type, an endpoint (host) or a "
    "metric, the most specific one named, over its own period or the recomputation's."
)
class RecomputationStatusChange:
    state: str
    group: str | None
    service: str | None
    endpoint: str | None
    metric: str | None
    start_time: datetime | None
    end_time: datetime | None


@strawberry.type(
    name=TYPE_NAME,
    description="A correction of a report's availability over a period (ARGO's "
    "recomputation): excluded sites count their excluded time UNKNOWN, excluded metrics are "
    "EXCLUDED, excluded monitoring sources' results are dropped, status changes overwrite "
    "the timeline they name. Applied as soon as it is written; the days it touches are "
    "computed again.",
)
class RecomputationNode(Node):
    uuid: str = strawberry.field(description="Its id in the ARGO web API.")
    report: str = strawberry.field(description="The report's name.")
    requester_name: str
    reason: str
    start_time: datetime
    end_time: datetime
    exclude: list[str] = strawberry.field(description="Sites (short names) excluded.")
    exclude_metrics: list[RecomputationMetricExclusion]
    exclude_monitoring_source: list[RecomputationSourceExclusion]
    applied_status_changes: list[RecomputationStatusChange]
    status: str = strawberry.field(
        description="ARGO's workflow state: pending, approved (when made), rejected, running "
        "or done; only approved, running and done ones apply (setRecomputationStatus)."
    )
    created_at: datetime
    row: strawberry.Private[Any]

    @strawberry.field(description="Only for those who may manage it (null otherwise).")
    def requester_email(self, info: Info) -> str | None:
        ctx = info.context
        if svc.may_manage(ctx.session, ctx.principal, self.row):
            return str(self.row.requester_email)
        return None

    @strawberry.field(
        description="Whether you may change its status or delete it (its sites' managers, "
        "platform administrators)."
    )
    def manageable(self, info: Info) -> bool:
        ctx = info.context
        return svc.may_manage(ctx.session, ctx.principal, self.row)

    @classmethod
    def from_row(cls, row: Any, report: str) -> RecomputationNode:
        return cls(
            db_id=pk(row),
            uuid=row.uuid,
            report=report,
            requester_name=row.requester_name,
            reason=row.reason,
            start_time=row.start_time,
            end_time=row.end_time,
            exclude=list(row.exclude),
            exclude_metrics=[
                RecomputationMetricExclusion(
                    metric=m["metric"],
                    hostname=m.get("hostname"),
                    service=m.get("service"),
                    group=m.get("group"),
                )
                for m in row.exclude_metrics
            ],
            exclude_monitoring_source=[
                RecomputationSourceExclusion(
                    host=s["host"],
                    start_time=svc.parse_zulu(s["start_time"], "start_time"),
                    end_time=svc.parse_zulu(s["end_time"], "end_time"),
                )
                for s in row.exclude_monitoring_source
            ],
            applied_status_changes=[
                RecomputationStatusChange(
                    state=c["state"],
                    group=c.get("group"),
                    service=c.get("service"),
                    endpoint=c.get("endpoint"),
                    metric=c.get("metric"),
                    start_time=_time(c.get("start_time")),
                    end_time=_time(c.get("end_time")),
                )
                for c in row.applied_status_changes
            ],
            status=row.status,
            created_at=row.created_at,
            row=row,
        )


def nodes(info: Info, rows: list[Any]) -> list[RecomputationNode]:
    """Nodes of rows, their reports' names read once."""
    names = svc.report_names(info.context.session, (r.report_uuid for r in rows))
    return [RecomputationNode.from_row(r, names.get(r.report_uuid, r.report_uuid)) for r in rows]
