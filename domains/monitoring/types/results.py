"""GraphQL types of metric results: a rejection, a monitoring-host grant, a metric's live
status and its changes."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.graphql import Node
from domains.common.query import Record
from domains.monitoring.models.results import GrantKind, MonitoringHostGrant, ResultRejectionCount
from domains.monitoring.models.status import StatusChange
from domains.monitoring.service.results import Rejection
from domains.monitoring.service.status import EndpointStatusRow, MetricStatusRow

MonitoringHostKindEnum = strawberry.enum(
    GrantKind,
    name="MonitoringHostKind",
    description="SUBJECT: a user's or OIDC client's subject (an API token stands for its "
    "user); X509_DN: a client certificate's subject DN (OpenSSL slash form).",
)


@strawberry.type(description="A result refused, and why: nothing of it was stored.")
class MetricResultRejection:
    index: int = strawberry.field(description="Its position in input.results.")
    field: str
    rule: str = strawberry.field(description="The rule's code (README, Error codes).")
    reason: str

    @classmethod
    def from_row(cls, row: Rejection) -> MetricResultRejection:
        return cls(index=row.index, field=row.field, rule=row.rule_code, reason=row.reason)


@strawberry.type(
    name="MonitoringHostGrant", description="A principal allowed to publish metric results."
)
class MonitoringHostGrantNode(Node):
    kind: GrantKind
    identifier: str
    note: str
    granted_by: str
    granted_at: datetime

    @classmethod
    def from_row(cls, row: MonitoringHostGrant | Record) -> MonitoringHostGrantNode:
        assert row.id is not None
        return cls(
            db_id=row.id,
            kind=row.kind,
            identifier=row.identifier,
            note=row.note,
            granted_by=row.granted_by,
            granted_at=row.granted_at,
        )


@strawberry.type(description="Results refused from one source for one rule.")
class MetricResultRejectionCount:
    source: str
    rule: str
    count: int
    last_at: datetime
    last_field: str
    last_reason: str

    @classmethod
    def from_row(cls, row: ResultRejectionCount) -> MetricResultRejectionCount:
        return cls(
            source=row.source,
            rule=row.rule,
            count=row.count,
            last_at=row.last_at,
            last_field=row.last_field,
            last_reason=row.last_reason,
        )


@strawberry.type(name="MetricStatus", description="The live status of one metric on one endpoint.")
class MetricStatusNow:
    hostname: str
    service_type: str
    metric: str
    status: str
    timestamp: datetime = strawberry.field(description="Of the latest result.")
    since: datetime = strawberry.field(description="When the status took its current value.")
    summary: str | None

    @classmethod
    def from_row(cls, row: MetricStatusRow) -> MetricStatusNow:
        return cls(
            hostname=row.hostname,
            service_type=row.service_type,
            metric=row.metric,
            status=row.status,
            timestamp=row.timestamp,
            since=row.since,
            summary=row.summary,
        )


@strawberry.type(description="A change of a metric's status on an endpoint.")
class MetricStatusChange:
    timestamp: datetime
    status: str
    previous_status: str | None
    summary: str | None

    @classmethod
    def from_row(cls, row: StatusChange) -> MetricStatusChange:
        return cls(
            timestamp=row.timestamp,
            status=row.status,
            previous_status=row.previous_status,
            summary=row.summary,
        )


@strawberry.type(description="A metric an endpoint is expected to report, and its status.")
class ExpectedMetricStatus:
    metric: str
    status: str = strawberry.field(
        description="Under the report: the probe's status, or the one the report's "
        "thresholds profile gave it from the result's perfdata."
    )
    original_status: str | None = strawberry.field(
        default=None,
        description="The probe's status when a thresholds rule changed it (ARGO's "
        "original_status); null otherwise.",
    )
    threshold_rule_applied: str | None = strawberry.field(
        default=None,
        description="The rule items that changed the status (ARGO's threshold_rule_applied).",
    )


@strawberry.type(
    description="An endpoint's status now under a report: its expected metrics combined by "
    "the aggregation profile's metric operation, cell by cell in the operations profile's "
    "truth table; DOWNTIME while a downtime the report counts lasts."
)
class EndpointStatus:
    report: str
    hostname: str
    service_type: str
    status: str
    in_downtime: bool
    metrics: list[ExpectedMetricStatus]

    @classmethod
    def from_row(cls, row: EndpointStatusRow) -> EndpointStatus:
        regraded = dict(row.regraded)
        return cls(
            report=row.report,
            hostname=row.hostname,
            service_type=row.service_type,
            status=row.status,
            in_downtime=row.in_downtime,
            metrics=[
                ExpectedMetricStatus(
                    metric=m,
                    status=s,
                    original_status=regraded[m].original_status if m in regraded else None,
                    threshold_rule_applied=regraded[m].rule_applied if m in regraded else None,
                )
                for m, s in row.metrics
            ],
        )
