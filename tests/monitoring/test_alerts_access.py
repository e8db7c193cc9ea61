"""Alert rules over GraphQL: a site administrator makes, reads (with its state per endpoint
and flapping), replaces and deletes their site's rules; the anonymous caller gets
UNAUTHENTICATED, a user without a role over the site FORBIDDEN, another user reaching for
someone's rule NOT_FOUND, and none of them writes anything; bad input names field and rule."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient
from tests.identity.helpers import grant
from tests.monitoring import alerts_world as w
from tests.monitoring.alerts_world import Place
from tests.refusals import assert_invalid, assert_refused

CREATE = (
    "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) "
    "{ rule { id name site afterFailures } } }"
)


@pytest.fixture
def where(session: Session) -> Place:
    return w.place(session)


@pytest.fixture
def site_admin(callers: Callers, session: Session, where: Place) -> GraphQLClient:
    client = callers.as_user("alerts.admin@egi.eu")
    client.data("{ viewer { subject } }")  # first sight writes the user row
    grant(session, "alerts.admin@egi.eu", "Site Administrator", "site", where.site)
    return client


@pytest.fixture
def made(site_admin: GraphQLClient, where: Place) -> tuple[dict[str, Any], str]:
    values = {"name": "mine", "site": where.site, "email": True, "flapChanges": 4}
    rule = site_admin.data(CREATE, {"i": values})["createAlertRule"]["rule"]
    return values, rule["id"]


def _values(name: str, made: tuple[dict[str, Any], str]) -> dict[str, Any]:
    values, rule_id = made
    if name == "createAlertRule":
        return {"input": values}
    if name == "updateAlertRule":
        return {"input": {**values, "id": rule_id, "name": "taken over"}}
    return {"input": {"id": rule_id}}


WRONG = {
    "createAlertRule": "FORBIDDEN",
    "updateAlertRule": "NOT_FOUND",
    "deleteAlertRule": "NOT_FOUND",
}
MUTATIONS = frozenset(WRONG)


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_anonymous_is_unauthenticated_and_writes_nothing(
    callers: Callers, session: Session, made: tuple[dict[str, Any], str], name: str
) -> None:
    assert_refused(callers.anonymous, session, name, _values(name, made), "UNAUTHENTICATED")


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_a_user_without_a_role_over_the_site_writes_nothing(
    callers: Callers, session: Session, made: tuple[dict[str, Any], str], name: str
) -> None:
    stranger = callers.as_user("alerts.stranger@egi.eu")
    stranger.data("{ viewer { subject } }")  # first sight writes the user row: not the case's
    assert_refused(stranger, session, name, _values(name, made), WRONG[name])


def test_the_site_administrator_manages_and_reads_the_rule(
    site_admin: GraphQLClient, session: Session, made: tuple[dict[str, Any], str], where: Place
) -> None:
    values, rule_id = made
    listed = site_admin.data(
        "{ myAlertRules { edges { node { id name flapChanges topic { project } "
        "report states { failingMetrics { metric } flapping suppressed } } } } }"
    )["myAlertRules"]["edges"]
    assert [e["node"]["id"] for e in listed] == [rule_id]
    assert listed[0]["node"]["states"] == []
    assert listed[0]["node"]["report"] == "Critical"  # the default
    # a status change under the rule: its state, flapping included, shows
    w.cursor_at_end(session)
    at = w.feed(session, where, "OCOC")
    w.evaluate(session, at)
    session.commit()
    node = site_admin.data(
        "query($id: ID!) { node(id: $id) { ... on AlertRule { name states(flappingOnly: true) "
        "{ hostname serviceType failingMetrics { metric status } status flapping flappingSince "
        "suppressed problemSince site } } } }",
        {"id": rule_id},
    )["node"]
    assert node["states"] == [
        {
            "hostname": where.host,
            "serviceType": where.service_type,
            "failingMetrics": [{"metric": where.metric, "status": "CRITICAL"}],
            "status": "CRITICAL",
            "flapping": True,
            "flappingSince": node["states"][0]["flappingSince"],
            "suppressed": 1,
            "problemSince": node["states"][0]["problemSince"],
            "site": where.site,
        }
    ]
    updated = site_admin.data(
        "mutation($i: UpdateAlertRuleInput!) { updateAlertRule(input: $i) "
        "{ rule { name remindHours } } }",
        {"i": {**values, "id": rule_id, "name": "renamed", "remindHours": 4}},
    )["updateAlertRule"]["rule"]
    assert updated == {"name": "renamed", "remindHours": 4}
    site_admin.data(
        "mutation($i: DeleteAlertRuleInput!) { deleteAlertRule(input: $i) { id } }",
        {"i": {"id": rule_id}},
    )
    assert site_admin.data("query($id: ID!) { node(id: $id) { id } }", {"id": rule_id}) == {
        "node": None
    }


def test_bad_input_names_field_and_rule(
    site_admin: GraphQLClient, session: Session, where: Place
) -> None:
    for values, field, rule in (
        ({"afterFailures": 500}, "input.afterFailures", "ALERT_RULE_FAILURES_OUT_OF_RANGE"),
        ({"ngi": where.ngi}, "input.ngi", "ALERT_RULE_SCOPE_AMBIGUOUS"),
        ({"webhookUrl": "ftp://x"}, "input.webhookUrl", "NOTIFICATION_WEBHOOK_URL_NOT_HTTPS"),
        ({"report": "no-such-report"}, "input.report", "MONITORING_REPORT_UNKNOWN"),
    ):
        assert_invalid(
            site_admin,
            session,
            CREATE,
            {"i": {"name": "bad", "site": where.site, "email": True, **values}},
            field,
            rule,
        )
