"""The catalogue's service on both databases: the seeded EGI-like defaults, versions by
date and what a report uses on a day, writes for platform administrators only, references
checked, nothing written when refused."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.monitoring.models import MetricProfileEntry, ProbeKind, Report
from domains.monitoring.profiles import REPORT, ProfileKind
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.seed import load_json
from domains.monitoring.service import catalogue as svc
from domains.monitoring.service import catalogue_probes as probes_svc
from tests.refusals import writes_nothing

ALICE = Principal(subject="alice", user_id=1)
ADMIN = Principal(subject="root", user_id=2, is_admin=True)
OPS_ID = "8ce59c4d-3761-4f25-a364-f019e394bf8b"
AGG_ID = "0f4c8a9e-3d7b-4f1e-8c55-6b1d2e3f4a21"
METRIC_PROFILE_ID = "5ee3ae36-7c3b-4c8e-9a0b-2a6f0c2f7d11"


def test_the_demo_holds_the_egi_like_defaults(session: Session) -> None:
    used = svc.profiles_valid_on(session, "Critical", date(2026, 12, 1))
    assert used.report.group_type == "NGI"
    assert used.report.endpoint_group_type == "SITE"
    assert used.report.document["thresholds"]["availability"] == 80.0
    assert used.report.document["thresholds"]["reliability"] == 85.0
    assert used.operations.name == "egi_ops"
    assert svc.as_argo(ProfileKind.OPERATIONS, used.operations) == load_json("egi_ops.json")
    assert used.aggregation.name == "critical"
    assert [g["name"] for g in used.aggregation.document["groups"]] == [
        "compute",
        "storage",
        "information",
    ]
    assert used.metrics["ARC-CE"] == ("generic.tcp.connect", "generic.certificate.validity")
    assert (used.thresholds, used.weights) == (None, None)
    names = [p["name"] for p in used.report.document["profiles"]]
    assert names == ["ARGO_MON_CRITICAL", "egi_ops", "critical"]
    metrics = probes_svc.metrics_on(session)
    assert metrics["generic.http.connect"].probe_name == "http"
    entries = session.scalars(
        select(MetricProfileEntry).where(col(MetricProfileEntry.service_type) == "webdav")
    ).all()
    assert sorted(e.metric for e in entries) == [
        "generic.certificate.validity",
        "generic.http.connect",
    ]


def test_a_report_computed_for_a_day_uses_the_versions_of_that_day(session: Session) -> None:
    doc = load_json("critical_aggregation.json")
    doc["date"] = "2026-06-01"
    doc["metric_operation"] = "OR"
    svc.update_profile(session, ADMIN, ProfileKind.AGGREGATION, AGG_ID, doc)
    assert (
        svc.profiles_valid_on(session, "Critical", date(2026, 5, 31)).aggregation.metric_operation
        == "AND"
    )
    assert (
        svc.profiles_valid_on(session, "Critical", date(2026, 6, 1)).aggregation.metric_operation
        == "OR"
    )
    # the same date again replaces that version
    doc["metric_operation"] = "AND"
    svc.update_profile(session, ADMIN, ProfileKind.AGGREGATION, AGG_ID, doc)
    assert [v.metric_operation for v in svc.history(session, ProfileKind.AGGREGATION, AGG_ID)] == [
        "AND",
        "AND",
    ]
    with pytest.raises(NotFound):
        svc.profiles_valid_on(session, "Critical", date(2023, 12, 31))  # before the report
    with pytest.raises(NotFound):
        svc.profiles_valid_on(session, "Nope", date(2026, 6, 1))
    assert svc.report_by_name(session, "Critical") is not None
    assert svc.report_by_name(session, "Nope") is None


def test_a_metric_profile_version_replaces_its_entries(session: Session) -> None:
    doc = load_json("argo_mon_critical.json")
    doc["services"] = [{"service": "SRM", "metrics": ["generic.tcp.connect"]}]
    doc.pop("date")
    row = svc.update_profile(session, ADMIN, ProfileKind.METRIC, METRIC_PROFILE_ID, doc)
    assert row.date == svc.today()
    entries = session.scalars(
        select(MetricProfileEntry).where(col(MetricProfileEntry.profile_id) == row.id)
    ).all()
    assert [(e.service_type, e.metric) for e in entries] == [("SRM", "generic.tcp.connect")]
    svc.update_profile(session, ADMIN, ProfileKind.METRIC, METRIC_PROFILE_ID, doc)
    assert len(svc.history(session, ProfileKind.METRIC, METRIC_PROFILE_ID)) == 2


def _new_report(name: str = "Compute") -> dict[str, Any]:
    doc: dict[str, Any] = load_json("critical_report.json")
    doc.pop("id")
    doc["info"]["name"] = name
    return doc


def test_create_and_delete_a_profile_and_a_report(session: Session) -> None:
    ops = load_json("egi_ops.json")
    ops.pop("id")
    ops["name"] = "egi_ops_copy"
    created = svc.create_profile(session, ADMIN, ProfileKind.OPERATIONS, ops)
    assert created.created_by == "root"
    report_doc = _new_report()
    report_doc["profiles"][1]["id"] = created.uuid
    report = svc.create_profile(session, ADMIN, REPORT, report_doc)
    assert report.operations_profile_uuid == created.uuid
    assert report.document["profiles"][1]["name"] == "egi_ops_copy"
    assert [r.name for r in svc.versions_on(session, REPORT)] == ["Compute", "Critical"]
    with pytest.raises(Invalid) as caught:
        svc.delete_profile(session, ADMIN, ProfileKind.OPERATIONS, created.uuid)
    assert caught.value.rule is R.MONITORING_PROFILE_IN_USE
    svc.delete_profile(session, ADMIN, REPORT, report.uuid)
    svc.delete_profile(session, ADMIN, ProfileKind.OPERATIONS, created.uuid)
    assert svc.history(session, ProfileKind.OPERATIONS, created.uuid) == []
    with pytest.raises(NotFound):
        svc.delete_profile(session, ADMIN, ProfileKind.OPERATIONS, created.uuid)
    with pytest.raises(NotFound):
        svc.update_profile(session, ADMIN, ProfileKind.OPERATIONS, created.uuid, ops)


def _invalid(session: Session, call: Callable[[], object]) -> Invalid:
    with writes_nothing(session), pytest.raises(Invalid) as caught:
        call()
    return caught.value


def test_bad_writes_name_the_field_and_write_nothing(session: Session) -> None:
    report_doc = _new_report()
    report_doc["profiles"][2]["id"] = OPS_ID  # an operations profile's id as the aggregation
    error = _invalid(
        session, lambda: svc.create_profile(session, ADMIN, REPORT, report_doc, at="input.document")
    )
    assert (error.field, error.rule) == (
        "input.document.profiles[2].id",
        R.MONITORING_PROFILE_UNKNOWN,
    )
    taken = _new_report("Critical")
    error = _invalid(session, lambda: svc.create_profile(session, ADMIN, REPORT, taken))
    assert (error.field, error.rule) == ("document.info.name", R.MONITORING_PROFILE_NAME_TAKEN)
    again = load_json("egi_ops.json")
    error = _invalid(
        session, lambda: svc.create_profile(session, ADMIN, ProfileKind.OPERATIONS, again)
    )
    assert (error.field, error.rule) == ("document.id", R.MONITORING_PROFILE_NAME_TAKEN)
    other_id = copy.deepcopy(again)
    other_id["id"] = AGG_ID
    error = _invalid(
        session,
        lambda: svc.update_profile(session, ADMIN, ProfileKind.OPERATIONS, OPS_ID, other_id),
    )
    assert (error.field, error.rule) == ("document.id", R.MONITORING_UUID_INVALID)
    # an aggregation whose operations the report's operations profile lacks
    narrow = load_json("egi_ops.json")
    narrow.pop("id")
    narrow["name"] = "and_only"
    narrow["operations"] = narrow["operations"][:1]
    and_only = svc.create_profile(session, ADMIN, ProfileKind.OPERATIONS, narrow)
    report_doc = _new_report()
    report_doc["profiles"][1]["id"] = and_only.uuid
    error = _invalid(session, lambda: svc.create_profile(session, ADMIN, REPORT, report_doc))
    assert (error.field, error.rule) == ("document.profiles", R.MONITORING_OPERATION_UNKNOWN)
    assert "groups[0].operation OR" in error.message


@pytest.mark.parametrize("caller", [ANONYMOUS, ALICE], ids=["anonymous", "not an administrator"])
def test_only_platform_administrators_write_and_a_refusal_writes_nothing(
    session: Session, caller: Principal
) -> None:
    expected = Unauthenticated if caller.is_anonymous else Forbidden
    ops = load_json("egi_ops.json")
    calls: list[Callable[[], object]] = [
        lambda: svc.create_profile(session, caller, ProfileKind.OPERATIONS, {"bad": 1}),
        lambda: svc.update_profile(session, caller, ProfileKind.OPERATIONS, OPS_ID, ops),
        lambda: svc.delete_profile(session, caller, REPORT, "no-such-report"),
        lambda: probes_svc.create_probe(
            session, caller, name="p", version="1", kind=ProbeKind.BUILTIN, builtin="tcp"
        ),
        lambda: probes_svc.create_metric(
            session, caller, name="m", probe_name="tcp", probe_version="1.0"
        ),
    ]
    with writes_nothing(session):
        for call in calls:
            with pytest.raises(expected):
                call()


def test_probes_and_metrics(session: Session) -> None:
    plugin = probes_svc.create_probe(
        session,
        PLATFORM,
        name="check_ssh",
        version="2.3",
        kind=ProbeKind.PLUGIN,
        command=["check_ssh", "-H", "{host}", "-p", "{port}"],
        timeout_seconds=20,
    )
    assert plugin.command == ["check_ssh", "-H", "{host}", "-p", "{port}"]
    metric = probes_svc.create_metric(
        session, ADMIN, name="org.nagios.SSH", probe_name="check_ssh", probe_version="2.3"
    )
    newer = probes_svc.create_metric(
        session,
        ADMIN,
        name="org.nagios.SSH",
        probe_name="check_ssh",
        probe_version="2.3",
        interval_seconds=600,
        day=date(2099, 1, 1),
    )
    assert newer.uuid == metric.uuid
    assert probes_svc.metrics_on(session)["org.nagios.SSH"].interval_seconds == 300
    assert (
        probes_svc.metrics_on(session, date(2099, 1, 1))["org.nagios.SSH"].interval_seconds == 600
    )
    bad: list[tuple[dict[str, Any], str, R]] = [
        (
            {"name": " ", "version": "1", "kind": ProbeKind.BUILTIN, "builtin": "tcp"},
            "name",
            R.MONITORING_NAME_EMPTY,
        ),
        (
            {"name": "x" * 256, "version": "1", "kind": ProbeKind.BUILTIN, "builtin": "tcp"},
            "name",
            R.MONITORING_NAME_TOO_LONG,
        ),
        (
            {"name": "p", "version": "1", "kind": ProbeKind.BUILTIN},
            "builtin",
            R.MONITORING_PROBE_KIND_MISMATCH,
        ),
        (
            {"name": "p", "version": "1", "kind": ProbeKind.BUILTIN, "builtin": "icmp"},
            "builtin",
            R.MONITORING_PROBE_BUILTIN_UNKNOWN,
        ),
        (
            {"name": "p", "version": "1", "kind": ProbeKind.PLUGIN},
            "command",
            R.MONITORING_PROBE_KIND_MISMATCH,
        ),
        (
            {
                "name": "p",
                "version": "1",
                "kind": ProbeKind.BUILTIN,
                "builtin": "tcp",
                "timeout_seconds": 0,
            },
            "timeoutSeconds",
            R.MONITORING_TIMEOUT_OUT_OF_RANGE,
        ),
    ]
    bad += [
        (
            {"name": "p", "version": "1", "kind": ProbeKind.PLUGIN, "command": ["/bin/sh"]},
            "command",
            R.MONITORING_PROBE_COMMAND_INVALID,
        ),
        (
            {"name": "p", "version": "1", "kind": ProbeKind.PLUGIN, "command": ["p", "{env}"]},
            "command",
            R.MONITORING_PROBE_COMMAND_INVALID,
        ),
        (
            {"name": "check_ssh", "version": "2.3", "kind": ProbeKind.PLUGIN, "command": ["c"]},
            "version",
            R.MONITORING_PROBE_VERSION_TAKEN,
        ),
    ]
    for kwargs, field, rule in bad:
        error = _invalid(
            session, functools.partial(probes_svc.create_probe, session, ADMIN, **kwargs)
        )
        assert (error.field, error.rule) == (field, rule)
    bad_metrics: list[tuple[dict[str, Any], str, R]] = [
        ({"probe_version": "9"}, "probeVersion", R.MONITORING_PROBE_UNKNOWN),
        ({"interval_seconds": 59}, "interval", R.MONITORING_INTERVAL_OUT_OF_RANGE),
        ({"retry_interval_seconds": 86401}, "retryInterval", R.MONITORING_INTERVAL_OUT_OF_RANGE),
        ({"max_check_attempts": 11}, "maxCheckAttempts", R.MONITORING_ATTEMPTS_OUT_OF_RANGE),
    ]
    for kwargs, field, rule in bad_metrics:
        arguments: dict[str, Any] = {
            "name": "m",
            "probe_name": "check_ssh",
            "probe_version": "2.3",
        } | kwargs
        error = _invalid(
            session, functools.partial(probes_svc.create_metric, session, ADMIN, **arguments)
        )
        assert (error.field, error.rule) == (field, rule)


def test_reports_are_rows_others_can_query(session: Session) -> None:
    report = session.scalars(select(Report).where(col(Report.name) == "Critical")).one()
    assert report.operations_profile_uuid == OPS_ID
    assert (report.downtimes_unscheduled, report.downtimes_warning) == (False, False)
    assert json.loads(json.dumps(svc.as_argo(REPORT, report)))["info"]["name"] == "Critical"
