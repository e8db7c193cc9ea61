"""Alert rules, and what alerts give the shared notification channels (domains.notifications).

- create_rule / update_rule / delete_rule / rules_page / get_rule: a rule follows the
  service endpoints of its scope, each with the status its report (default: the `status`
  fields' DEFAULT_REPORT) combines from the endpoint's metrics. Its scope is a site
  (for whoever may edit the site: its administrators, its NGI's managers), an NGI (whoever
  may edit the NGI) or every site (platform administrators), narrowed to one service type
  when it names one; an existing rule is also its owner's (AlertAction.MANAGE_ALERT_RULE).
  The rule's channels are its owner's (e-mail to the owner's address, the owner's topic, a
  webhook), checked as downtime subscriptions' are.
- alert_states: what the rules' evaluation keeps per endpoint (its failing metrics,
  flapping included (domains.monitoring.service.alert_evaluation writes it).
- The outbox handler `monitoring.alert.notify` turns each fired alert's event into the
  rule's delivery rows (CHANNELS.notify: once per rule, event and channel; the topic
  published at once, e-mail and webhook left PENDING for workers' `monitoring.alerts.deliver`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import Table, false, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common import audit, outbox
from domains.common.authz import Caller, authorize, can, policy, refusal
from domains.common.egress import STRICT, EgressPolicy
from domains.common.errors import Forbidden, Invalid, NotFound
from domains.common.identity import ANONYMOUS, Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, on_event
from domains.common.pagination import PageRequest
from domains.common.query import RecordPage, keyset_page
from domains.common.time import utcnow
from domains.identity.models import User
from domains.monitoring.models.alerts import ALERT_RULE_NAME_MAX, AlertNotification, AlertRule
from domains.monitoring.models.alerts import AlertState as AlertStateRow
from domains.monitoring.models.status import StatusChange
from domains.monitoring.rules import AlertAction, MonitoringRule
from domains.monitoring.service.catalogue import report_named
from domains.monitoring.service.levels import DEFAULT_REPORT
from domains.notifications.channels import Channels, Delivery
from domains.notifications.checks import TopicRef, channel_values
from domains.topology import service as topology
from domains.topology.ownership import EntityRef
from domains.topology.rules import Action as TopologyAction

T_RULE: Table = AlertRule.__table__  # type: ignore[attr-defined]

ALERT_EVENT = "monitoring.alert"
DELIVER_JOB = "monitoring.alerts.deliver"
PRUNE_JOB = "monitoring.alerts.prune"
MAX_RULES_PER_USER = 100
FAILURES_RANGE = (1, 100)
REMIND_RANGE = (1, 168)
FLAP_CHANGES_RANGE = (2, 100)
FLAP_WINDOW_RANGE = (1, 1440)


# --- who may ------------------------------------------------------------------------------


def _scope_ref(session: Session, site: str | None, ngi: str | None) -> EntityRef | None:
    """The topology entity a rule's scope is (None: every site, or one that is gone)."""
    anyone = ANONYMOUS
    if site is not None:
        found = topology.get_site_by_short_name(session, anyone, short_name=site)
        return None if found is None else EntityRef("site", int(found.id))
    if ngi is not None:
        found = topology.get_ngi_by_name(session, anyone, name=ngi)
        return None if found is None else EntityRef("ngi", int(found.id))
    return None


@policy(AlertAction)
def decide(
    session: Session, principal: Principal, action: AlertAction, entity: object
) -> str | None:
    """`entity`: an AlertRule, or the EntityRef of a new rule's scope (None: every site).
    Reached only by a signed-in caller who is not a platform administrator."""
    if isinstance(entity, AlertRule):
        if principal.user_id is not None and entity.user_id == principal.user_id:
            return None
        entity = _scope_ref(session, entity.site, entity.ngi)
    if isinstance(entity, EntityRef):
        return refusal(session, principal, TopologyAction.EDIT_OBJECT, entity)
    return "only platform administrators may alert on every site"


# --- rules --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRuleSpec:
    """What a rule says (the whole of it: an update replaces every field)."""

    name: str
    site: str | None = None
    ngi: str | None = None
    service_type: str | None = None
    report: str | None = None  # None: DEFAULT_REPORT
    on_critical: bool = True
    after_failures: int | None = None
    remind_hours: int | None = None
    on_recovery: bool = True
    flap_changes: int | None = None
    flap_window_minutes: int = 60
    email: bool = False
    topic: TopicRef | None = None
    webhook_url: str | None = None
    enabled: bool = True


def _name(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise Invalid(field, MonitoringRule.ALERT_RULE_SCOPE_REQUIRED)
    return value


def _in_range(value: int | None, bounds: tuple[int, int], field: str, rule: MonitoringRule) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise Invalid(field, rule)


def validated(session: Session, spec: AlertRuleSpec) -> dict[str, Any]:
    """The rule's columns but its channels; Invalid naming the GraphQL field otherwise."""
    name = spec.name.strip()
    if not name:
        raise Invalid("input.name", MonitoringRule.ALERT_RULE_NAME_EMPTY)
    if len(name) > ALERT_RULE_NAME_MAX:
        raise Invalid("input.name", MonitoringRule.ALERT_RULE_NAME_TOO_LONG)
    site = _name(spec.site, "input.site")
    ngi = _name(spec.ngi, "input.ngi")
    service_type = _name(spec.service_type, "input.serviceType")
    if site is not None and ngi is not None:
        raise Invalid("input.ngi", MonitoringRule.ALERT_RULE_SCOPE_AMBIGUOUS)
    if site is None and ngi is None and service_type is None:
        raise Invalid("input.site", MonitoringRule.ALERT_RULE_SCOPE_REQUIRED)
    anyone = ANONYMOUS
    if (
        site is not None
        and topology.get_site_by_short_name(session, anyone, short_name=site) is None
    ):
        raise Invalid("input.site", MonitoringRule.ALERT_RULE_SITE_UNKNOWN)
    if ngi is not None and topology.get_ngi_by_name(session, anyone, name=ngi) is None:
        raise Invalid("input.ngi", MonitoringRule.ALERT_RULE_NGI_UNKNOWN)
    if service_type is not None and (
        topology.get_service_type_by_name(session, anyone, name=service_type) is None
    ):
        raise Invalid("input.serviceType", MonitoringRule.ALERT_RULE_SERVICE_TYPE_UNKNOWN)
    report = report_named(session, (spec.report or DEFAULT_REPORT).strip())
    if report is None:
        raise Invalid("input.report", MonitoringRule.MONITORING_REPORT_UNKNOWN)
    if not spec.on_critical and spec.after_failures is None:
        raise Invalid("input.onCritical", MonitoringRule.ALERT_RULE_NOTHING_TO_ALERT)
    _in_range(
        spec.after_failures,
        FAILURES_RANGE,
        "input.afterFailures",
        MonitoringRule.ALERT_RULE_FAILURES_OUT_OF_RANGE,
    )
    _in_range(
        spec.remind_hours,
        REMIND_RANGE,
        "input.remindHours",
        MonitoringRule.ALERT_RULE_REMIND_OUT_OF_RANGE,
    )
    _in_range(
        spec.flap_changes,
        FLAP_CHANGES_RANGE,
        "input.flapChanges",
        MonitoringRule.ALERT_RULE_FLAP_CHANGES_OUT_OF_RANGE,
    )
    _in_range(
        spec.flap_window_minutes,
        FLAP_WINDOW_RANGE,
        "input.flapWindowMinutes",
        MonitoringRule.ALERT_RULE_FLAP_WINDOW_OUT_OF_RANGE,
    )
    return {
        "name": name,
        "site": site,
        "ngi": ngi,
        "service_type": service_type,
        "report": report.name,
        "on_critical": spec.on_critical,
        "after_failures": spec.after_failures,
        "remind_hours": spec.remind_hours,
        "on_recovery": spec.on_recovery,
        "flap_changes": spec.flap_changes,
        "flap_window_minutes": spec.flap_window_minutes,
        "enabled": spec.enabled,
    }


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def _channels(
    session: Session, owner: User, spec: AlertRuleSpec, egress: EgressPolicy
) -> dict[str, Any]:
    return channel_values(
        session,
        owner,
        email=spec.email,
        topic=spec.topic,
        webhook_url=spec.webhook_url,
        egress=egress,
    )


def _audit(
    session: Session,
    principal: Principal,
    verb: str,
    row: AlertRule,
    changes: Mapping[str, list[Any]],
) -> None:
    audit.record_change(session, principal, "alert_rule", verb, row, changes)


def _values(row: AlertRule) -> dict[str, Any]:
    return {
        c.name: getattr(row, c.name)
        for c in T_RULE.c
        if c.name not in ("id", "user_id", "created_at", "from_change_id", "baseline_at")
    }


def last_change_id(session: Session) -> int:
    return int(session.execute(select(func.max(col(StatusChange.id)))).scalar_one() or 0)


def create_rule(
    session: Session,
    principal: Principal,
    *,
    spec: AlertRuleSpec,
    now: datetime | None = None,
    egress: EgressPolicy = STRICT,
) -> AlertRule:
    """A new rule of the caller's, over its scope; only status changes after it alert."""
    authorize(session, principal, Caller.SIGNED_IN)
    if principal.user_id is None:
        raise Forbidden("only users hold alert rules")
    values = validated(session, spec)
    authorize(
        session,
        principal,
        AlertAction.MANAGE_ALERT_RULE,
        _scope_ref(session, values["site"], values["ngi"]),
    )
    owner = _user(session, principal.user_id)
    values.update(_channels(session, owner, spec, egress))
    count = session.execute(
        select(func.count()).select_from(T_RULE).where(T_RULE.c.user_id == pk(owner))
    ).scalar_one()
    if count >= MAX_RULES_PER_USER:
        raise Invalid("input", MonitoringRule.ALERT_RULES_OVER_LIMIT)
    row = AlertRule(
        user_id=pk(owner),
        created_at=now or utcnow(),
        from_change_id=last_change_id(session),
        **values,
    )
    session.add(row)
    session.flush()
    _audit(session, principal, "create", row, audit.diff({}, values))
    return row


def _own(session: Session, principal: Principal, rule_id: int) -> AlertRule:
    """The rule if the caller may manage it; NOT_FOUND otherwise (its existence is not
    the caller's business)."""
    authorize(session, principal, Caller.SIGNED_IN)
    row = session.get(AlertRule, rule_id)
    if row is None or not can(session, principal, AlertAction.MANAGE_ALERT_RULE, row):
        raise NotFound(f"alert rule {rule_id} does not exist")
    return row


def rule_row(session: Session, rule_id: int) -> AlertRule | None:
    """The row MANAGE_ALERT_RULE is decided on (what `viewerCanEdit` asks about)."""
    return session.get(AlertRule, rule_id)


def update_rule(
    session: Session,
    principal: Principal,
    *,
    rule_id: int,
    spec: AlertRuleSpec,
    egress: EgressPolicy = STRICT,
    now: datetime | None = None,
) -> AlertRule:
    """Replace the rule's definition; its state per endpoint is kept (the scope may now
    leave some out: they are no longer evaluated). Enabled again, it is baselined afresh
    by the next evaluation (`baseline_at`): what changed while it was disabled tells
    nothing, each endpoint not OK then is told once."""
    row = _own(session, principal, rule_id)
    values = validated(session, spec)
    authorize(
        session,
        principal,
        AlertAction.MANAGE_ALERT_RULE,
        _scope_ref(session, values["site"], values["ngi"]),
    )
    values.update(_channels(session, _user(session, row.user_id), spec, egress))
    before = _values(row)
    if values["enabled"] and not row.enabled:
        row.baseline_at = now or utcnow()
        row.from_change_id = last_change_id(session)
    for key, value in values.items():
        setattr(row, key, value)
    session.flush()
    changes = audit.diff(before, values)
    if changes:
        _audit(session, principal, "update", row, changes)
    return row


def delete_rule(session: Session, principal: Principal, *, rule_id: int) -> None:
    """Its state, fired alerts and undelivered notifications go with it."""
    row = _own(session, principal, rule_id)
    _audit(session, principal, "delete", row, audit.diff(_values(row), {}))
    session.delete(row)
    session.flush()


def get_rule(session: Session, principal: Principal, *, rule_id: int) -> AlertRule | None:
    if not can(session, principal, Caller.SIGNED_IN):
        return None
    try:
        return _own(session, principal, rule_id)
    except NotFound:
        return None


def rules_page(session: Session, principal: Principal, *, page: PageRequest) -> RecordPage:
    """A page of the caller's rules, oldest first (the columns of each)."""
    authorize(session, principal, Caller.SIGNED_IN)
    mine = T_RULE.c.user_id == principal.user_id if principal.user_id is not None else false()
    return keyset_page(session, select(*T_RULE.c).where(mine), T_RULE.c.id, page)


def alert_states(
    session: Session, principal: Principal, *, rule_id: int, flapping_only: bool = False
) -> list[AlertStateRow]:
    """The rule's state per endpoint, problems first (NOT_FOUND for a rule the caller may
    not manage)."""
    rule = _own(session, principal, rule_id)
    query = select(AlertStateRow).where(col(AlertStateRow.rule_id) == pk(rule))
    if flapping_only:
        query = query.where(col(AlertStateRow.flapping).is_(True))
    return list(
        session.scalars(
            query.order_by(
                col(AlertStateRow.problem_since).is_(None),
                col(AlertStateRow.hostname),
                col(AlertStateRow.service_type),
            )
        )
    )


# --- how an alert reads, and the channels --------------------------------------------------


def _body(kind: str, payload: Mapping[str, Any]) -> str:
    return json.dumps({"event": kind, "alert": payload}, separators=(",", ":"))


_SAYS = {
    "CRITICAL": "is CRITICAL",
    "FAILING": "has failed {failures} times in a row",
    "REMINDER": "is still {status} (since {problemSince})",
    "RECOVERED": "is OK again",
    "FLAPPING": "is flapping: {changes} changes within {windowMinutes} minutes; notices "
    "are suppressed while it lasts",
    "FLAPPING_STOPPED": "no longer flaps; it is {status}",
}


def failing_metrics(payload: Mapping[str, Any]) -> str:
    """The failing metrics an alert names: "m1 CRITICAL, m2 WARNING" ("" for none)."""
    return ", ".join(f"{m['metric']} {m['status']}" for m in payload.get("failingMetrics") or [])


def subject_line(payload: Mapping[str, Any]) -> str:
    says = _SAYS[str(payload["alert"])].format_map({k: payload.get(k) for k in _KEYS})
    failing = failing_metrics(payload)
    line = f"{payload['hostname']} ({payload['serviceType']}) {says}"
    return f"{line}: {failing}" if failing and payload["alert"] != "RECOVERED" else line


_KEYS = ("failures", "status", "problemSince", "changes", "windowMinutes")


class AlertMessages:
    """What an alert says on each channel (domains.notifications.channels.Rendering)."""

    def email(self, delivery: Delivery, *, sender: str, now: datetime) -> EmailMessage:
        if not delivery.email:
            raise ValueError("the rule's owner has no e-mail address")
        p = delivery.payload
        message = EmailMessage()
        message["From"] = sender
        message["To"] = delivery.email
        message["Subject"] = f"[alert {p['alert'].lower()}] {p.get('site')}: {subject_line(p)}"
        message["Message-ID"] = delivery.message_id(sender.rpartition("@")[2] or "opsgraph")
        message["Date"] = format_datetime(now)
        message["X-Opsgraph-Event"] = delivery.kind
        lines = [
            subject_line(p) + ".",
            "",
            f"Rule:     {p.get('rule')}",
            f"Site:     {p.get('site')} (NGI {p.get('ngi')})",
            f"Status:   {p.get('status')} (previously {p.get('previousStatus')}), "
            f"as report {p.get('report')} combines the endpoint's metrics",
            f"Failing:  {failing_metrics(p) or 'none'}",
            f"At:       {p.get('at')}",
            "",
        ]
        message.set_content("\n".join(lines))
        return message

    def webhook_body(self, delivery: Delivery) -> bytes:
        return _body(delivery.kind, delivery.payload).encode()

    def topic_message(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "data": base64.b64encode(_body(kind, payload).encode()).decode(),
            "attributes": {"event": kind, "alert": str(payload.get("alert") or "")},
        }


CHANNELS: Channels[AlertNotification] = Channels(
    about="alert",
    subscriptions=AlertRule,
    notifications=AlertNotification,
    rendering=AlertMessages(),
    deliver_job=DELIVER_JOB,
)


def notify(session: Session, event: OutboxEvent) -> int:
    """The delivery rows of one fired alert (its rule's channels); none when the rule was
    deleted or disabled since."""
    rule = session.get(AlertRule, int(event.payload["ruleId"]))
    if rule is None or not rule.enabled:
        return 0
    return CHANNELS.notify(session, event, [rule])


@on_event(ALERT_EVENT, "monitoring.alert.notify")
def _handler(session: Session, event: OutboxEvent) -> None:
    notify(session, event)


@outbox.periodic(PRUNE_JOB, every_seconds=3600)
def prune_notifications(factory: sessionmaker[Session]) -> int:
    """Old delivered and given-up alert notifications go (CHANNELS.prune)."""
    return CHANNELS.prune(factory)
