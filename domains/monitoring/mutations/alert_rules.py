"""Mutations of alert rules: create (for whoever may edit the site or NGI it names; every
site's for platform administrators), replace and delete (also the owner's). Thin: every
rule is in domains.monitoring.service.alerts."""

from __future__ import annotations

import strawberry

from domains.common.authz import requires
from domains.common.graphql import Deleted, Info, id_of_type
from domains.monitoring.rules import AlertAction
from domains.monitoring.service import alerts
from domains.monitoring.types.alerts import TYPE_NAME, AlertRuleNode
from domains.notifications.checks import TopicRef


@strawberry.input(description="A messaging topic you may publish to.")
class AlertTopicInput:
    project: str
    topic: str


@strawberry.input
class CreateAlertRuleInput:
    name: str
    site: str | None = strawberry.field(default=None, description="A site's short name.")
    ngi: str | None = strawberry.field(default=None, description="An NGI's name (not with site).")
    service_type: str | None = strawberry.field(
        default=None, description="Only this service type; alone: every site's (administrators)."
    )
    report: str | None = strawberry.field(
        default=None,
        description="The report (name or id) whose profiles combine an endpoint's metrics "
        "into the status alerted on; default: Critical.",
    )
    on_critical: bool = True
    after_failures: int | None = strawberry.field(
        default=None, description="Alert after this many consecutive results not OK (1-100)."
    )
    remind_hours: int | None = strawberry.field(
        default=None, description="Remind every this many hours while not OK (1-168)."
    )
    on_recovery: bool = True
    flap_changes: int | None = strawberry.field(
        default=None, description="Flapping at this many changes within the window (2-100)."
    )
    flap_window_minutes: int = 60
    email: bool = False
    topic: AlertTopicInput | None = None
    webhook_url: str | None = strawberry.field(default=None, description="https://")
    enabled: bool = True


@strawberry.input(description="The whole new definition.")
class UpdateAlertRuleInput(CreateAlertRuleInput):
    id: strawberry.ID


@strawberry.input
class DeleteAlertRuleInput:
    id: strawberry.ID


@strawberry.type
class AlertRulePayload:
    rule: AlertRuleNode


def _spec(input: CreateAlertRuleInput) -> alerts.AlertRuleSpec:
    return alerts.AlertRuleSpec(
        name=input.name,
        site=input.site,
        ngi=input.ngi,
        service_type=input.service_type,
        report=input.report,
        on_critical=input.on_critical,
        after_failures=input.after_failures,
        remind_hours=input.remind_hours,
        on_recovery=input.on_recovery,
        flap_changes=input.flap_changes,
        flap_window_minutes=input.flap_window_minutes,
        email=input.email,
        topic=TopicRef(input.topic.project, input.topic.topic) if input.topic else None,
        webhook_url=input.webhook_url,
        enabled=input.enabled,
    )


@strawberry.type
class MonitoringAlertMutation:
    @strawberry.mutation(description="A new alert rule of yours: changes after it alert.")
    @requires(AlertAction.MANAGE_ALERT_RULE, on="the site or NGI of the input (none: every site)")
    def create_alert_rule(self, info: Info, input: CreateAlertRuleInput) -> AlertRulePayload:
        ctx = info.context
        row = alerts.create_rule(ctx.session, ctx.principal, spec=_spec(input), egress=ctx.egress)
        return AlertRulePayload(rule=AlertRuleNode.from_row(row))

    @strawberry.mutation(description="Replace an alert rule.")
    @requires(
        AlertAction.MANAGE_ALERT_RULE, on="the rule input.id, and the site or NGI of the input"
    )
    def update_alert_rule(self, info: Info, input: UpdateAlertRuleInput) -> AlertRulePayload:
        ctx = info.context
        row = alerts.update_rule(
            ctx.session,
            ctx.principal,
            rule_id=id_of_type(input.id, TYPE_NAME, argument="input.id"),
            spec=_spec(input),
            egress=ctx.egress,
        )
        return AlertRulePayload(rule=AlertRuleNode.from_row(row))

    @strawberry.mutation(description="Delete an alert rule (its state and history go too).")
    @requires(AlertAction.MANAGE_ALERT_RULE, on="the rule input.id")
    def delete_alert_rule(self, info: Info, input: DeleteAlertRuleInput) -> Deleted:
        ctx = info.context
        alerts.delete_rule(
            ctx.session,
            ctx.principal,
            rule_id=id_of_type(input.id, TYPE_NAME, argument="input.id"),
        )
        return Deleted(id=input.id)
