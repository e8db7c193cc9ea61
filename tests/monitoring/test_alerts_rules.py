"""Alert rules: who may make, see, change and delete them (a site's for whoever may edit the
site, an NGI's for whoever may edit the NGI, every site's for platform administrators, an
existing rule also its owner's), and bad input refused with field and rule, nothing
written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.common.pagination import PageRequest
from domains.monitoring.models.alerts import AlertRule
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import alerts as svc
from domains.notifications.rules import NotificationRule
from tests.identity.helpers import grant
from tests.monitoring import alerts_world as w
from tests.monitoring.alerts_world import Place


@pytest.fixture
def where(session: Session) -> Place:
    return w.place(session)


@pytest.fixture
def site_admin(session: Session, where: Place) -> Principal:
    admin = w.user(session, "site.admin@egi.eu")
    grant(session, "site.admin@egi.eu", "Site Administrator", "site", where.site)
    return admin


def _spec(**fields: Any) -> svc.AlertRuleSpec:
    values: dict[str, Any] = {"name": "mine", "email": True}
    values.update(fields)
    return svc.AlertRuleSpec(**values)


def _count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AlertRule)).scalar_one())


def test_a_site_administrator_manages_the_rules_of_their_site(
    session: Session, where: Place, site_admin: Principal
) -> None:
    row = svc.create_rule(session, site_admin, spec=_spec(site=where.site, after_failures=3))
    assert (row.site, row.after_failures, row.email) == (where.site, 3, True)
    with pytest.raises(Forbidden):
        svc.create_rule(session, site_admin, spec=_spec(site=where.other_site))
    with pytest.raises(Forbidden):
        svc.create_rule(session, site_admin, spec=_spec(ngi=where.ngi))
    with pytest.raises(Forbidden):  # every site's: platform administrators only
        svc.create_rule(session, site_admin, spec=_spec(service_type=where.service_type))
    updated = svc.update_rule(
        session, site_admin, rule_id=row.id or 0, spec=_spec(site=where.site, name="renamed")
    )
    assert (updated.name, updated.after_failures) == ("renamed", None)
    page = svc.rules_page(session, site_admin, page=PageRequest(first=10, after=None))
    assert [r.name for r in page.items] == ["renamed"]
    svc.delete_rule(session, site_admin, rule_id=row.id or 0)
    assert svc.get_rule(session, site_admin, rule_id=row.id or 0) is None


def test_others_rules_do_not_exist_for_them(
    session: Session, where: Place, site_admin: Principal
) -> None:
    admin = w.user(session, "platform.admin@egi.eu", admin=True)
    everywhere = svc.create_rule(session, admin, spec=_spec(service_type=where.service_type))
    stranger = w.user(session, "stranger@egi.eu")
    for who in (site_admin, stranger):
        assert svc.get_rule(session, who, rule_id=everywhere.id or 0) is None
        with pytest.raises(NotFound):
            svc.delete_rule(session, who, rule_id=everywhere.id or 0)
        with pytest.raises(NotFound):
            svc.alert_states(session, who, rule_id=everywhere.id or 0)
    # a site's rule is also for its site's other administrators
    mine = svc.create_rule(session, site_admin, spec=_spec(site=where.site))
    assert svc.get_rule(session, stranger, rule_id=mine.id or 0) is None
    assert svc.get_rule(session, admin, rule_id=mine.id or 0) is not None
    colleague = w.user(session, "colleague@egi.eu")
    grant(session, "colleague@egi.eu", "Site Administrator", "site", where.site)
    assert svc.get_rule(session, colleague, rule_id=mine.id or 0) is not None


def test_the_anonymous_caller_is_refused(session: Session, where: Place) -> None:
    with pytest.raises(Unauthenticated):
        svc.create_rule(session, ANONYMOUS, spec=_spec(site=where.site))
    assert svc.get_rule(session, ANONYMOUS, rule_id=1) is None
    with pytest.raises(Unauthenticated):
        svc.rules_page(session, ANONYMOUS, page=PageRequest(first=5, after=None))
    assert _count(session) == 0


BAD: list[tuple[dict[str, Any], str, MonitoringRule | NotificationRule]] = [
    ({"name": " "}, "input.name", MonitoringRule.ALERT_RULE_NAME_EMPTY),
    ({"name": "x" * 256}, "input.name", MonitoringRule.ALERT_RULE_NAME_TOO_LONG),
    ({"site": None}, "input.site", MonitoringRule.ALERT_RULE_SCOPE_REQUIRED),
    ({"site": ""}, "input.site", MonitoringRule.ALERT_RULE_SCOPE_REQUIRED),
    ({"ngi": "{ngi}"}, "input.ngi", MonitoringRule.ALERT_RULE_SCOPE_AMBIGUOUS),
    ({"site": "NO-SUCH-SITE"}, "input.site", MonitoringRule.ALERT_RULE_SITE_UNKNOWN),
    ({"site": None, "ngi": "NoSuchNgi"}, "input.ngi", MonitoringRule.ALERT_RULE_NGI_UNKNOWN),
    (
        {"service_type": "no.such.type"},
        "input.serviceType",
        MonitoringRule.ALERT_RULE_SERVICE_TYPE_UNKNOWN,
    ),
    ({"on_critical": False}, "input.onCritical", MonitoringRule.ALERT_RULE_NOTHING_TO_ALERT),
    ({"after_failures": 0}, "input.afterFailures", MonitoringRule.ALERT_RULE_FAILURES_OUT_OF_RANGE),
    ({"remind_hours": 169}, "input.remindHours", MonitoringRule.ALERT_RULE_REMIND_OUT_OF_RANGE),
    ({"flap_changes": 1}, "input.flapChanges", MonitoringRule.ALERT_RULE_FLAP_CHANGES_OUT_OF_RANGE),
    (
        {"flap_window_minutes": 0},
        "input.flapWindowMinutes",
        MonitoringRule.ALERT_RULE_FLAP_WINDOW_OUT_OF_RANGE,
    ),
    ({"email": False}, "input.email", NotificationRule.NOTIFICATION_CHANNEL_REQUIRED),
]


@pytest.mark.parametrize(("fields", "field", "rule"), BAD, ids=[b[2].name for b in BAD])
def test_bad_input_is_refused_with_field_and_rule(
    session: Session,
    where: Place,
    site_admin: Principal,
    fields: dict[str, Any],
    field: str,
    rule: MonitoringRule | NotificationRule,
) -> None:
    values: dict[str, Any] = {"site": where.site}
    values.update(
        {k: v.format(ngi=where.ngi) if isinstance(v, str) else v for k, v in fields.items()}
    )
    with pytest.raises(Invalid) as raised:
        svc.create_rule(session, site_admin, spec=_spec(**values))
    assert (raised.value.field, raised.value.rule) == (field, rule)
    assert _count(session) == 0


def test_at_most_so_many_rules_per_user(
    session: Session, where: Place, site_admin: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(svc, "MAX_RULES_PER_USER", 2)
    for _ in range(2):
        svc.create_rule(session, site_admin, spec=_spec(site=where.site))
    with pytest.raises(Invalid) as raised:
        svc.create_rule(session, site_admin, spec=_spec(site=where.site))
    assert raised.value.rule == MonitoringRule.ALERT_RULES_OVER_LIMIT
    assert _count(session) == 2
