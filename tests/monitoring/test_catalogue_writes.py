"""The catalogue's writes follow the house rules: each create, update and delete of a
profile, report, weights, probe or metric is audited in its transaction and shows in the
change log as topology's writes do (secrets masked); probes and metrics are changed and
deleted by platform administrators only, and one still in use is not deleted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.audit import MASK, AuditEntry
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.monitoring.models import Metric, MetricProfileEntry, Probe, ProbeKind
from domains.monitoring.profiles import ProfileKind
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.service import catalogue as svc
from domains.monitoring.service import catalogue_probes as probes_svc
from tests.conftest import Callers
from tests.monitoring.test_catalogue_graphql import ADMIN_ENTITLEMENT

ADMIN = Principal(subject="root", user_id=2, is_admin=True)
USER = Principal(subject="someone", user_id=3)
WEIGHTS = {"name": "w-audit", "weight_type": "hepspec", "group_type": "SITE", "groups": []}


def _entries(session: Session, entity_type: str) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(col(AuditEntry.entity_type) == entity_type)
            .order_by(col(AuditEntry.id))
        )
    )


def _plugin(session: Session, **changes: Any) -> Probe:
    values: dict[str, Any] = {
        "name": "check_secret",
        "version": "1",
        "kind": ProbeKind.PLUGIN,
        "command": ["check_secret", "-H", "{host}", "--password", "hunter2", "--token=abc"],
    }
    return probes_svc.create_probe(session, ADMIN, **(values | changes))


def test_profile_writes_are_audited_with_what_changed(session: Session) -> None:
    row = svc.create_profile(session, ADMIN, ProfileKind.WEIGHTS, dict(WEIGHTS))
    newer = {**WEIGHTS, "id": row.uuid, "date": "2031-01-01", "weight_type": "cores"}
    svc.update_profile(session, ADMIN, ProfileKind.WEIGHTS, row.uuid, newer)
    svc.delete_profile(session, ADMIN, ProfileKind.WEIGHTS, row.uuid)
    entries = [e for e in _entries(session, "monitoring_weights") if e.entity_name == "w-audit"]
    assert [e.action for e in entries] == [
        "monitoring_weights.create",
        "monitoring_weights.update",
        "monitoring_weights.delete",
    ]
    assert all(e.actor == "root" for e in entries)
    created, updated, deleted = (e.changes for e in entries)
    assert created["uuid"] == [None, row.uuid]
    assert updated["date"][1] == "2031-01-01"
    assert updated["document"][0]["weight_type"] == "hepspec"
    assert updated["document"][1]["weight_type"] == "cores"
    assert "name" not in updated  # only what changed
    assert deleted["versions"][0] == [row.date.isoformat(), "2031-01-01"]


def test_probe_and_metric_writes_are_audited_without_secrets(session: Session) -> None:
    probe = _plugin(session)
    probes_svc.update_probe(session, ADMIN, probe.id or 0, timeout_seconds=45)
    metric = probes_svc.create_metric(
        session,
        ADMIN,
        name="org.example.Secret",
        probe_name="check_secret",
        probe_version="1",
        parameters={"api_key": "s3cr3t", "warning": 5},
    )
    probes_svc.update_metric(session, ADMIN, metric.id or 0, interval_seconds=600)
    probes_svc.delete_metric(session, ADMIN, metric.id or 0)
    probes_svc.delete_probe(session, ADMIN, probe.id or 0)
    probes = [e for e in _entries(session, "monitoring_probe") if e.entity_id == probe.id]
    metrics = [e for e in _entries(session, "monitoring_metric") if e.entity_id == metric.id]
    assert [e.action.split(".")[1] for e in probes] == ["create", "update", "delete"]
    assert [e.action.split(".")[1] for e in metrics] == ["create", "update", "delete"]
    assert probes[0].changes["command"][1] == [
        "check_secret",
        "-H",
        "{host}",
        "--password",
        MASK,
        f"--token={MASK}",
    ]
    assert probes[1].changes == {"timeout_seconds": [30, 45]}
    assert metrics[0].changes["parameters"][1] == {"api_key": MASK, "warning": 5}
    assert metrics[1].changes == {"interval_seconds": [300, 600]}
    logged = " ".join(str(e.changes) for e in probes + metrics)
    assert "hunter2" not in logged
    assert "abc" not in logged
    assert "s3cr3t" not in logged


def test_only_platform_administrators_change_or_delete_probes_and_metrics(
    session: Session,
) -> None:
    probe = probes_svc.probes(session)[0]
    metric = next(iter(probes_svc.metrics_on(session).values()))
    before = (_entries(session, "monitoring_probe"), probe.timeout_seconds)
    for caller, error in ((ANONYMOUS, Unauthenticated), (USER, Forbidden)):
        with pytest.raises(error):
            probes_svc.update_probe(session, caller, probe.id or 0, timeout_seconds=9)
        with pytest.raises(error):
            probes_svc.delete_probe(session, caller, probe.id or 0)
        with pytest.raises(error):
            probes_svc.update_metric(session, caller, metric.id or 0, interval_seconds=600)
        with pytest.raises(error):
            probes_svc.delete_metric(session, caller, metric.id or 0)
    assert (_entries(session, "monitoring_probe"), probe.timeout_seconds) == before
    with pytest.raises(NotFound):
        probes_svc.delete_probe(session, ADMIN, 2**31 - 1)


def test_what_is_in_use_is_not_deleted(session: Session) -> None:
    # the seed's metric profile lists its metrics, which run the built-in probes (the APEL
    # metrics are in no profile: they run on gLite-APEL services whatever the profiles list)
    listed = set(session.scalars(select(col(MetricProfileEntry.metric))))
    metric = next(m for m in probes_svc.metrics_on(session).values() if m.name in listed)
    probe = session.scalars(
        select(Probe).where(
            col(Probe.name) == metric.probe_name, col(Probe.version) == metric.probe_version
        )
    ).one()
    with pytest.raises(Invalid) as caught:
        probes_svc.delete_probe(session, ADMIN, probe.id or 0)
    assert (caught.value.field, caught.value.rule) == ("id", R.MONITORING_PROBE_IN_USE)
    with pytest.raises(Invalid) as caught:
        probes_svc.delete_metric(session, ADMIN, metric.id or 0)
    assert (caught.value.field, caught.value.rule) == ("id", R.MONITORING_METRIC_IN_USE)
    assert session.get(Metric, metric.id) is not None


def test_updates_are_checked_as_new_ones_are(session: Session) -> None:
    probe = _plugin(session)
    with pytest.raises(Invalid) as caught:
        probes_svc.update_probe(session, ADMIN, probe.id or 0, command=["/usr/bin/id"], at="input.")
    assert (caught.value.field, caught.value.rule) == (
        "input.command",
        R.MONITORING_PROBE_COMMAND_INVALID,
    )
    metric = next(iter(probes_svc.metrics_on(session).values()))
    with pytest.raises(Invalid) as caught:
        probes_svc.update_metric(
            session, ADMIN, metric.id or 0, retry_interval_seconds=5, at="input."
        )
    assert (caught.value.field, caught.value.rule) == (
        "input.retryInterval",
        R.MONITORING_INTERVAL_OUT_OF_RANGE,
    )


def test_probe_and_metric_changes_over_graphql_show_in_the_change_log(
    callers: Callers,
) -> None:
    admin = callers.as_user("root@egi.eu", entitlements=(ADMIN_ENTITLEMENT,))
    probe = admin.data(
        "mutation($i: CreateMonitoringProbeInput!) { createMonitoringProbe(input: $i) "
        "{ probe { id viewerCanEdit viewerCanDelete } } }",
        {"i": {"name": "check_gql", "version": "1", "kind": "PLUGIN", "command": ["check_gql"]}},
    )["createMonitoringProbe"]["probe"]
    assert probe["viewerCanEdit"]
    assert probe["viewerCanDelete"]
    updated = admin.data(
        "mutation($i: UpdateMonitoringProbeInput!) { updateMonitoringProbe(input: $i) "
        "{ probe { timeoutSeconds description } } }",
        {"i": {"id": probe["id"], "timeoutSeconds": 20, "description": "GraphQL's"}},
    )["updateMonitoringProbe"]["probe"]
    assert updated == {"timeoutSeconds": 20, "description": "GraphQL's"}
    metric = admin.data(
        "mutation($i: CreateMonitoringMetricInput!) { createMonitoringMetric(input: $i) "
        "{ metric { id } } }",
        {"i": {"name": "org.example.Gql", "probeName": "check_gql", "probeVersion": "1"}},
    )["createMonitoringMetric"]["metric"]
    changed = admin.data(
        "mutation($i: UpdateMonitoringMetricInput!) { updateMonitoringMetric(input: $i) "
        "{ metric { interval maxCheckAttempts } } }",
        {"i": {"id": metric["id"], "interval": 900, "maxCheckAttempts": 5}},
    )["updateMonitoringMetric"]["metric"]
    assert changed == {"interval": 900, "maxCheckAttempts": 5}
    in_use = admin.error(
        "mutation($i: DeleteMonitoringProbeInput!) { deleteMonitoringProbe(input: $i) { id } }",
        {"i": {"id": probe["id"]}},
    )
    assert (in_use["extensions"]["rule"], in_use["extensions"]["field"]) == (
        "MONITORING_PROBE_IN_USE",
        "id",
    )
    for name, gid in (
        ("deleteMonitoringMetric", metric["id"]),
        ("deleteMonitoringProbe", probe["id"]),
    ):
        kind = name[0].upper() + name[1:] + "Input"
        gone = admin.data(
            f"mutation($i: {kind}!) {{ {name}(input: $i) {{ id }} }}", {"i": {"id": gid}}
        )
        assert gone[name]["id"] == gid
    log = admin.data(
        "query($e: ID!) { changes(filter: {entity: $e}) { nodes { action actor changes } } }",
        {"e": probe["id"]},
    )["changes"]["nodes"]
    assert [c["action"] for c in log] == [
        "monitoring_probe.create",
        "monitoring_probe.update",
        "monitoring_probe.delete",
    ]
    assert log[1]["changes"]["timeout_seconds"] == [30, 20]
    # the catalogue is reference data: a signed-in caller without a role sees none of it,
    # as with the topology's countries and scopes
    user = callers.as_user("alice@egi.eu")
    seen = user.data(
        "query($e: ID!) { changes(filter: {entity: $e}) { totalCount } }", {"e": probe["id"]}
    )
    assert seen["changes"]["totalCount"] == 0
