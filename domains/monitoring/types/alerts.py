"""GraphQL types of alert rules and their state per service endpoint (failing metrics and
flapping shown)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domains.common.graphql import Info, Node, viewer_can
from domains.common.models import pk
from domains.common.query import Record
from domains.monitoring.models.alerts import AlertKind, AlertRule
from domains.monitoring.models.alerts import AlertState as AlertStateRow
from domains.monitoring.service import alerts

TYPE_NAME = "AlertRule"

AlertKindEnum = strawberry.enum(AlertKind, name="AlertKind", description="What an alert tells.")


@strawberry.type(description="A messaging topic (project and topic names).")
class AlertTopicChannel:
    project: str
    topic: str


def _row(root: AlertRuleNode, info: Info) -> AlertRule | None:
    return alerts.rule_row(info.context.session, root.db_id)


@strawberry.type(description="A metric of an endpoint that is not OK, and its status.")
class AlertFailingMetric:
    metric: str
    status: str


@strawberry.type(
    name="AlertState",
    description="What a rule keeps of one service endpoint: its status (as the rule's report "
    "combines its metrics), the metrics failing, the open problem and what was told of it, "
    "and whether it flaps (notices suppressed meanwhile).",
)
class AlertStateType:
    hostname: str
    service_type: str
    site: str | None
    ngi: str | None
    status: str
    since: datetime = strawberry.field(description="When the endpoint took this status.")
    failing_metrics: list[AlertFailingMetric] = strawberry.field(
        description="Its metrics not OK (when last evaluated), by name."
    )
    problem_since: datetime | None = strawberry.field(description="Not OK since then (null: OK).")
    notified: bool = strawberry.field(description="A notice of the open problem was sent.")
    reminders: int
    flapping: bool
    flapping_since: datetime | None
    suppressed: int = strawberry.field(
        description="Notices not sent because of flapping, in this flapping period."
    )

    @classmethod
    def from_row(cls, row: AlertStateRow) -> AlertStateType:
        return cls(
            hostname=row.hostname,
            service_type=row.service_type,
            site=row.site,
            ngi=row.ngi,
            status=row.status,
            since=row.since,
            failing_metrics=[
                AlertFailingMetric(metric=m, status=status)
                for m, status in sorted(row.failing.items())
            ],
            problem_since=row.problem_since,
            notified=row.notified,
            reminders=row.reminders,
            flapping=row.flapping,
            flapping_since=row.flapping_since,
            suppressed=row.suppressed,
        )


@strawberry.type(
    name=TYPE_NAME,
    description="Alerts on the service endpoints of a site, an NGI or (platform "
    "administrators) every site, narrowed to a service type when one is named, each with "
    "the status its report combines from its metrics: a change to CRITICAL, N consecutive "
    "failures, reminders every M hours while not OK, a recovery notice; K changes within "
    "the window make an endpoint flapping, which suppresses the notices. Enabled again, a "
    "rule tells each endpoint not OK then once, nothing of what changed meanwhile. Sent to "
    "the owner's e-mail address, topic or a webhook.",
)
class AlertRuleNode(Node):
    name: str
    site: str | None
    ngi: str | None
    service_type: str | None
    report: str = strawberry.field(
        description="The report whose profiles combine an endpoint's metrics into its status."
    )
    on_critical: bool
    after_failures: int | None
    remind_hours: int | None
    on_recovery: bool
    flap_changes: int | None
    flap_window_minutes: int
    email: bool
    topic: AlertTopicChannel | None
    webhook_url: str | None
    enabled: bool
    created_at: datetime

    viewer_can_edit = viewer_can("updateAlertRule", on=_row, thing="it")
    viewer_can_delete = viewer_can("deleteAlertRule", on=_row, thing="it")

    @strawberry.field(description="The rule's state per service endpoint, problems first.")
    def states(self, info: Info, flapping_only: bool = False) -> list[AlertStateType]:
        ctx = info.context
        rows = alerts.alert_states(
            ctx.session, ctx.principal, rule_id=self.db_id, flapping_only=flapping_only
        )
        return [AlertStateType.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: AlertRule | Record) -> AlertRuleNode:
        topic = (
            AlertTopicChannel(project=row.topic_project, topic=row.topic_name)
            if row.topic_project and row.topic_name
            else None
        )
        return cls(
            db_id=pk(row),
            name=row.name,
            site=row.site,
            ngi=row.ngi,
            service_type=row.service_type,
            report=row.report,
            on_critical=row.on_critical,
            after_failures=row.after_failures,
            remind_hours=row.remind_hours,
            on_recovery=row.on_recovery,
            flap_changes=row.flap_changes,
            flap_window_minutes=row.flap_window_minutes,
            email=row.email,
            topic=topic,
            webhook_url=row.webhook_url,
            enabled=row.enabled,
            created_at=row.created_at,
        )
