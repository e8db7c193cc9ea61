"""Metric results over GraphQL: only monitoring hosts publish (a platform administrator
grants the role to a subject or a DN), only platform administrators grant and revoke; a
refused call writes nothing. A monitoring host's batch stores its good results and returns
the others with field, rule and reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Forbidden, Invalid
from domains.common.graphql import to_global_id
from domains.common.identity import PLATFORM, Principal
from domains.common.time import utcnow
from domains.monitoring.models.results import GrantKind, MetricResult
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import results as svc
from tests.conftest import Callers
from tests.monitoring.ingest_world import METRIC, add_endpoint, result
from tests.refusals import assert_invalid, assert_refused

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)
PUBLISH = (
    "mutation($i: PublishMetricResultsInput!) { publishMetricResults(input: $i) "
    "{ accepted rejected { index field rule reason } } }"
)
GRANT = (
    "mutation($i: GrantMonitoringHostInput!) { grantMonitoringHost(input: $i) "
    "{ grant { id kind identifier note grantedBy } } }"
)


def _wire(endpoint: tuple[str, str], **changes: Any) -> dict[str, Any]:
    values = {
        "timestamp": utcnow().isoformat(),
        "service": endpoint[1],
        "hostname": endpoint[0],
        "metric": METRIC,
        "status": "OK",
        "summary": "fine",
        "tags": [{"key": "vofqan", "value": "ops"}],
    }
    return values | changes


@pytest.fixture
def grant_id(session: Session) -> str:
    grant = svc.grant_monitoring_host(
        session, PLATFORM, kind=GrantKind.SUBJECT, identifier="nagios@egi.eu"
    )
    session.commit()
    return to_global_id("MonitoringHostGrant", grant.id or 0)


def _cases(endpoint: tuple[str, str], grant_id: str) -> dict[str, dict[str, Any]]:
    return {
        "publishMetricResults": {"input": {"results": [_wire(endpoint)]}},
        "grantMonitoringHost": {"input": {"kind": "SUBJECT", "identifier": "x@egi.eu"}},
        "revokeMonitoringHost": {"input": {"grantId": grant_id}},
    }


MUTATIONS = frozenset({"publishMetricResults", "grantMonitoringHost", "revokeMonitoringHost"})


def test_callers_without_the_right_are_refused_and_write_nothing(
    callers: Callers, session: Session, grant_id: str
) -> None:
    endpoint = add_endpoint(session)
    session.commit()
    cases = _cases(endpoint, grant_id)
    assert cases.keys() == MUTATIONS
    stranger = callers.as_user("stranger@egi.eu")
    stranger.data("{ viewer { subject } }")  # first sight writes the user row
    for name, values in cases.items():
        assert_refused(callers.anonymous, session, name, values, "UNAUTHENTICATED")
        assert_refused(stranger, session, name, values, "FORBIDDEN")
    # a monitoring host publishes, but does not grant
    host = callers.as_user("nagios@egi.eu")
    host.data("{ viewer { subject } }")
    assert_refused(host, session, "grantMonitoringHost", cases["grantMonitoringHost"], "FORBIDDEN")


def test_a_monitoring_host_publishes_and_learns_what_was_refused(
    callers: Callers, session: Session, grant_id: str
) -> None:
    endpoint = add_endpoint(session)
    session.commit()
    host = callers.as_user("nagios@egi.eu")
    batch = [_wire(endpoint), _wire(endpoint, status="GREEN"), _wire(endpoint, metric="nope")]
    data = host.data(PUBLISH, {"i": {"results": batch}})["publishMetricResults"]
    assert data["accepted"] == 1
    assert [(r["index"], r["field"], r["rule"]) for r in data["rejected"]] == [
        (1, "status", "RESULT_STATUS_UNKNOWN"),
        (2, "metric", "RESULT_METRIC_UNKNOWN"),
    ]
    stored = session.scalars(
        select(MetricResult).where(col(MetricResult.source) == "graphql:nagios@egi.eu")
    ).all()
    assert [(r.status, r.tags) for r in stored] == [("OK", {"vofqan": "ops"})]
    statuses = callers.anonymous.data(
        "query($h: String!) "
        "{ metricStatuses(hostname: $h) { nodes { metric status serviceType } } }",
        {"h": endpoint[0]},
    )["metricStatuses"]["nodes"]
    assert {"metric": METRIC, "status": "OK", "serviceType": endpoint[1]} in statuses

    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)
    seen = admin.data(
        "{ metricResultRejections { nodes { source rule count } } "
        "monitoringHostGrants { nodes { id } totalCount } }"
    )
    assert {"source": "graphql:nagios@egi.eu", "rule": "RESULT_STATUS_UNKNOWN", "count": 1} in seen[
        "metricResultRejections"
    ]["nodes"]
    assert {"id": grant_id} in seen["monitoringHostGrants"]["nodes"]
    node = admin.data(
        "query($id: ID!) { node(id: $id) { ... on MonitoringHostGrant { identifier } } }",
        {"id": grant_id},
    )["node"]
    assert node == {"identifier": "nagios@egi.eu"}
    changes = callers.anonymous.data(
        "query($h: String!, $t: String!, $m: String!) "
        "{ metricStatusChanges(hostname: $h, serviceType: $t, metric: $m) "
        "{ nodes { status previousStatus } } }",
        {"h": endpoint[0], "t": endpoint[1], "m": METRIC},
    )["metricStatusChanges"]["nodes"]
    assert changes == [{"status": "OK", "previousStatus": None}]
    # a time without its offset is refused by name, as every time argument is
    assert_invalid(
        callers.anonymous,
        session,
        "query($h: String!, $t: String!, $m: String!, $s: DateTime!) "
        "{ metricStatusChanges(hostname: $h, serviceType: $t, metric: $m, since: $s) "
        "{ nodes { status } } }",
        {"h": endpoint[0], "t": endpoint[1], "m": METRIC, "s": "2026-12-01T00:00:00"},
        "since",
        MonitoringRule.MONITORING_TIME_WITHOUT_OFFSET.name,
    )

    # revoked: refused from then on
    gone = admin.data(
        "mutation($i: RevokeMonitoringHostInput!) { revokeMonitoringHost(input: $i) { id } }",
        {"i": {"grantId": grant_id}},
    )
    assert gone == {"revokeMonitoringHost": {"id": grant_id}}
    assert host.error(PUBLISH, {"i": {"results": [_wire(endpoint)]}})["extensions"]["code"] == (
        "FORBIDDEN"
    )


def test_grants_name_a_subject_or_dn_and_bad_ones_are_refused(
    callers: Callers, session: Session
) -> None:
    admin = callers.as_user("admin@egi.eu", entitlements=ADMIN)
    granted = admin.data(
        GRANT, {"i": {"kind": "X509_DN", "identifier": " /DC=org/CN=nagios ", "note": "eu"}}
    )["grantMonitoringHost"]["grant"]
    assert (granted["kind"], granted["identifier"], granted["note"]) == (
        "X509_DN",
        "/DC=org/CN=nagios",
        "eu",
    )
    again = admin.data(GRANT, {"i": {"kind": "X509_DN", "identifier": "/DC=org/CN=nagios"}})
    assert again["grantMonitoringHost"]["grant"]["id"] == granted["id"]
    for identifier, rule in (
        ("  ", "MONITORING_HOST_IDENTIFIER_EMPTY"),
        ("x" * 513, "MONITORING_HOST_IDENTIFIER_INVALID"),
    ):
        assert_invalid(
            admin,
            session,
            GRANT,
            {"i": {"kind": "SUBJECT", "identifier": identifier}},
            "input.identifier",
            rule,
        )
    assert_invalid(
        admin,
        session,
        GRANT,
        {"i": {"kind": "SUBJECT", "identifier": "a", "note": "n" * 256}},
        "input.note",
        "MONITORING_HOST_NOTE_INVALID",
    )
    missing = admin.error(
        "mutation($i: RevokeMonitoringHostInput!) { revokeMonitoringHost(input: $i) { id } }",
        {"i": {"grantId": to_global_id("MonitoringHostGrant", 999999)}},
    )
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_a_certificate_dn_grant_makes_a_monitoring_host(session: Session) -> None:
    endpoint = add_endpoint(session)
    dn = "/DC=org/DC=example/CN=nagios.example.org"
    caller = Principal(subject=dn, name=dn, client_dn=dn)
    with pytest.raises(Forbidden):
        svc.publish_results(session, caller, [result(endpoint, at=utcnow())])
    svc.grant_monitoring_host(session, PLATFORM, kind=GrantKind.X509_DN, identifier=dn)
    outcome = svc.publish_results(session, caller, [result(endpoint, at=utcnow())])
    assert outcome.accepted == 1
    too_many = [result(endpoint, at=utcnow() - dt.timedelta(seconds=1))] * (svc.MAX_BATCH + 1)
    with pytest.raises(Invalid) as caught:
        svc.publish_results(session, caller, too_many)
    assert (caught.value.field, caught.value.rule) == (
        "input.results",
        MonitoringRule.RESULT_BATCH_TOO_LARGE,
    )
    # a platform administrator publishes without a grant, under their own subject
    admin = Principal(subject="root@egi.eu", is_admin=True)
    assert svc.publish_results(session, admin, [result(endpoint, at=utcnow())]).accepted == 1
