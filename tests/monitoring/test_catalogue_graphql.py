"""The catalogue over GraphQL: anybody reads ARGO's profiles, probes and metrics; platform
administrators load, version and delete profiles in ARGO's JSON; everyone else is refused
(anonymous: UNAUTHENTICATED, a signed-in user: FORBIDDEN) and nothing is written; bad
documents name the JSON path below input.document."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.graphql import to_global_id
from domains.monitoring.seed import load_json
from tests.conftest import Callers, GraphQLClient
from tests.refusals import assert_invalid, assert_refused

ADMIN_ENTITLEMENT = "urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"
OPS_ID = "8ce59c4d-3761-4f25-a364-f019e394bf8b"
PROFILES = """
query($f: MonitoringProfileFilter, $first: Int, $after: String) {
  monitoringProfiles(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id kind profileId name date document }
  }
}"""
CREATE = """
mutation($i: CreateMonitoringProfileInput!) {
  createMonitoringProfile(input: $i) { profile { id kind profileId name date document } }
}"""
UPDATE = """
mutation($i: UpdateMonitoringProfileInput!) {
  updateMonitoringProfile(input: $i) { profile { profileId date document } }
}"""
DELETE = "mutation($i: DeleteMonitoringProfileInput!) { deleteMonitoringProfile(input: $i) { id } }"

# every catalogue mutation, with an input that an administrator's call would accept
CALLS: dict[str, dict[str, Any]] = {
    "createMonitoringProfile": {
        "kind": "WEIGHTS",
        "document": {"name": "w", "weight_type": "hepspec", "group_type": "SITE", "groups": []},
    },
    "updateMonitoringProfile": {
        "kind": "OPERATIONS",
        "profileId": OPS_ID,
        "document": {**load_json("egi_ops.json"), "date": "2030-01-01"},
    },
    "deleteMonitoringProfile": {
        "kind": "REPORT",
        "profileId": "c8e6a3f2-1b4d-4e7a-9f30-5d2c7b8a9e41",
    },
    "createMonitoringProbe": {
        "name": "check_ssh",
        "version": "2.3",
        "kind": "PLUGIN",
        "command": ["check_ssh", "-H", "{host}", "-p", "{port}"],
    },
    "createMonitoringMetric": {
        "name": "org.nagios.SSH",
        "probeName": "tcp",
        "probeVersion": "1.0",
        "parameters": {"timeout": 10},
        "interval": 600,
    },
    # refused before the id is looked up: any probe's or metric's id will do
    "updateMonitoringProbe": {"id": to_global_id("MonitoringProbe", 1), "timeoutSeconds": 9},
    "deleteMonitoringProbe": {"id": to_global_id("MonitoringProbe", 1)},
    "updateMonitoringMetric": {"id": to_global_id("MonitoringMetric", 1), "interval": 600},
    "deleteMonitoringMetric": {"id": to_global_id("MonitoringMetric", 1)},
}
MUTATIONS = frozenset(CALLS)


def _admin(callers: Callers) -> GraphQLClient:
    return callers.as_user("root@egi.eu", entitlements=(ADMIN_ENTITLEMENT,))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_only_platform_administrators_change_the_catalogue(
    callers: Callers, session: Session, name: str
) -> None:
    assert_refused(callers.anonymous, session, name, CALLS[name], "UNAUTHENTICATED")
    user = callers.as_user("alice@egi.eu")
    assert_refused(user, session, name, CALLS[name], "FORBIDDEN")


def test_anybody_reads_the_catalogue(callers: Callers) -> None:
    anonymous = callers.anonymous
    ops = anonymous.data(PROFILES, {"f": {"kind": "OPERATIONS"}})["monitoringProfiles"]
    assert ops["totalCount"] == 1
    (egi_ops,) = ops["nodes"]
    assert egi_ops["document"] == load_json("egi_ops.json")
    assert (egi_ops["kind"], egi_ops["profileId"], egi_ops["date"]) == (
        "OPERATIONS",
        OPS_ID,
        "2015-01-01",
    )
    node = anonymous.data(
        "query($id: ID!) { node(id: $id) { ... on MonitoringProfile { name } } }",
        {"id": egi_ops["id"]},
    )
    assert node["node"] == {"name": "egi_ops"}
    everything = anonymous.data(PROFILES, {"first": 2})["monitoringProfiles"]
    assert everything["totalCount"] == 4  # metric, operations, aggregation profiles, report
    assert everything["pageInfo"]["hasNextPage"] is True
    rest = anonymous.data(PROFILES, {"after": everything["pageInfo"]["endCursor"]})
    names = [n["name"] for n in everything["nodes"] + rest["monitoringProfiles"]["nodes"]]
    assert sorted(names) == ["ARGO_MON_CRITICAL", "Critical", "critical", "egi_ops"]
    before = anonymous.data(PROFILES, {"f": {"validOn": "2014-12-31"}})["monitoringProfiles"]
    assert before["totalCount"] == 0
    report = anonymous.data(PROFILES, {"f": {"kind": "REPORT", "name": "Critical"}})
    document = report["monitoringProfiles"]["nodes"][0]["document"]
    assert document["thresholds"]["availability"] == 80.0
    assert "date" not in document  # ARGO's reports have none
    probes = anonymous.data("{ monitoringProbes { totalCount nodes { id name kind builtin } } }")[
        "monitoringProbes"
    ]
    assert {(p["name"], p["kind"], p["builtin"]) for p in probes["nodes"]} == {
        ("tcp", "BUILTIN", "tcp"),
        ("http", "BUILTIN", "http"),
        ("tls", "BUILTIN", "tls"),
        ("apel-pub", "BUILTIN", "apel-pub"),
        ("apel-sync", "BUILTIN", "apel-sync"),
    }
    metrics = anonymous.data(
        "{ monitoringMetrics { nodes { id name probeName interval parameters } } }"
    )["monitoringMetrics"]["nodes"]
    by_name = {m["name"]: m for m in metrics}
    assert by_name["generic.certificate.validity"]["interval"] == 3600
    assert by_name["generic.http.connect"]["parameters"]["expected_status"] == 200
    for found in (probes["nodes"][0], metrics[0]):
        again = anonymous.data("query($id: ID!) { node(id: $id) { id } }", {"id": found["id"]})
        assert again["node"] == {"id": found["id"]}
    history = anonymous.data(
        "query($k: MonitoringProfileKind!, $p: String!) "
        "{ monitoringProfileHistory(kind: $k, profileId: $p) { nodes { date } } }",
        {"k": "OPERATIONS", "p": OPS_ID},
    )
    assert history["monitoringProfileHistory"]["nodes"] == [{"date": "2015-01-01"}]


def test_an_administrator_loads_versions_and_deletes_profiles(
    callers: Callers, session: Session
) -> None:
    admin = _admin(callers)
    created = admin.data(CREATE, {"i": CALLS["createMonitoringProfile"]})
    profile = created["createMonitoringProfile"]["profile"]
    assert profile["document"]["weight_type"] == "hepspec"
    updated = admin.data(UPDATE, {"i": CALLS["updateMonitoringProfile"]})
    assert updated["updateMonitoringProfile"]["profile"]["date"] == "2030-01-01"
    old = admin.data(PROFILES, {"f": {"kind": "OPERATIONS", "validOn": "2029-12-31"}})
    assert old["monitoringProfiles"]["nodes"][0]["date"] == "2015-01-01"
    deleted = admin.data(DELETE, {"i": {"kind": "WEIGHTS", "profileId": profile["profileId"]}})
    assert deleted["deleteMonitoringProfile"]["id"] == profile["id"]
    gone = admin.data("query($id: ID!) { node(id: $id) { id } }", {"id": profile["id"]})
    assert gone["node"] is None
    refused = admin.error(DELETE, {"i": {"kind": "OPERATIONS", "profileId": OPS_ID}})
    assert refused["extensions"]["rule"] == "MONITORING_PROFILE_IN_USE"


def test_an_administrator_defines_probes_and_metrics(callers: Callers, session: Session) -> None:
    admin = _admin(callers)
    probe = admin.data(
        "mutation($i: CreateMonitoringProbeInput!) { createMonitoringProbe(input: $i) "
        "{ probe { name version kind command timeoutSeconds } } }",
        {"i": CALLS["createMonitoringProbe"]},
    )["createMonitoringProbe"]["probe"]
    assert probe["command"] == ["check_ssh", "-H", "{host}", "-p", "{port}"]
    assert (probe["kind"], probe["timeoutSeconds"]) == ("PLUGIN", 30)
    metric = admin.data(
        "mutation($i: CreateMonitoringMetricInput!) { createMonitoringMetric(input: $i) "
        "{ metric { name probeName interval retryInterval parameters } } }",
        {"i": CALLS["createMonitoringMetric"]},
    )["createMonitoringMetric"]["metric"]
    assert metric == {
        "name": "org.nagios.SSH",
        "probeName": "tcp",
        "interval": 600,
        "retryInterval": 180,
        "parameters": {"timeout": 10},
    }
    assert_invalid(
        admin,
        session,
        "mutation($i: CreateMonitoringProbeInput!) { createMonitoringProbe(input: $i) "
        "{ probe { name } } }",
        {"i": {"name": "x", "version": "1", "kind": "PLUGIN", "command": ["/usr/bin/id"]}},
        "input.command",
        "MONITORING_PROBE_COMMAND_INVALID",
    )
    assert_invalid(
        admin,
        session,
        "mutation($i: CreateMonitoringMetricInput!) { createMonitoringMetric(input: $i) "
        "{ metric { name } } }",
        {"i": {**CALLS["createMonitoringMetric"], "parameters": [1]}},
        "input.parameters",
        "MONITORING_FIELD_WRONG_TYPE",
    )


def test_a_bad_document_names_its_json_path_and_writes_nothing(
    callers: Callers, session: Session
) -> None:
    admin = _admin(callers)
    doc = load_json("egi_ops.json")
    doc.pop("id")
    doc["name"] = "broken"
    doc["operations"][1]["truth_table"][3]["x"] = "PURPLE"
    assert_invalid(
        admin,
        session,
        CREATE,
        {"i": {"kind": "OPERATIONS", "document": doc}},
        "input.document.operations[1].truth_table[3].x",
        "MONITORING_STATE_UNKNOWN",
    )
    report = load_json("critical_report.json")
    report.pop("id")
    report["info"]["name"] = "Another"
    report["profiles"][0]["id"] = "00000000-0000-0000-0000-000000000000"
    assert_invalid(
        admin,
        session,
        CREATE,
        {"i": {"kind": "REPORT", "document": report}},
        "input.document.profiles[0].id",
        "MONITORING_PROFILE_UNKNOWN",
    )
