"""ARGO's JSON shapes: a profile exported from ARGO loads unchanged and renders back as ARGO
renders it; a bad one is refused naming the JSON path and the rule. Pure: no database."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domains.common.errors import Invalid
from domains.monitoring.profiles import (
    REPORT,
    ProfileKind,
    aggregation_operations,
    check_thresholds,
    parse,
    render,
)
from domains.monitoring.rules import MonitoringRule as R

SEED = Path(__file__).resolve().parents[2] / "domains" / "monitoring" / "seed"
UUID = "6ac7d684-1f8e-4a02-a502-720e8f11e50b"


# argo-web-api's documentation examples, as its GET returns them
def _table(order: list[str], pick: Any) -> list[dict[str, str]]:
    states = ["OK", "WARNING", "CRITICAL"]
    return [
        {"a": a, "b": b, "x": pick(a, b, key=order.index)}
        for i, a in enumerate(states)
        for b in states[i:]
    ]


# the shape of argo-web-api's documentation example (its A, B, C states lack the OK and
# WARNING that availability counts as up, and its tables the diagonal: see below)
OPERATIONS = {
    "id": UUID,
    "date": "2019-11-04",
    "name": "ops1",
    "available_states": ["OK", "WARNING", "CRITICAL"],
    "defaults": {"down": "CRITICAL", "missing": "WARNING", "unknown": "WARNING"},
    "operations": [
        {"name": "AND", "truth_table": _table(["OK", "WARNING", "CRITICAL"], max)},
        {"name": "OR", "truth_table": _table(["OK", "WARNING", "CRITICAL"], min)},
    ],
}
ARGO_DOC_EXAMPLE = {
    "name": "tops1",
    "available_states": ["A", "B", "C"],
    "defaults": {"down": "B", "missing": "A", "unknown": "C"},
    "operations": [
        {
            "name": "AND",
            "truth_table": [
                {"a": "A", "b": "B", "x": "B"},
                {"a": "A", "b": "C", "x": "C"},
                {"a": "B", "b": "C", "x": "C"},
            ],
        }
    ],
}
METRIC = {
    "id": UUID,
    "date": "2019-11-01",
    "name": "ch.cern.SAM.ROC_CRITICAL",
    "description": "a critical profile",
    "services": [
        {"service": "CREAM-CE", "metrics": ["emi.cream.CREAMCE-JobSubmit", "emi.wn.WN-Bi"]},
        {"service": "SRMv2", "metrics": ["hr.srce.SRM2-CertLifetime", "org.sam.SRM-Del"]},
    ],
}
AGGREGATION = {
    "id": UUID,
    "date": "2019-11-11",
    "name": "critical",
    "namespace": "test",
    "endpoint_group": "sites",
    "metric_operation": "AND",
    "profile_operation": "AND",
    "metric_profile": {"name": "roc.critical", "id": "5637d684-1f8e-4a02-a502-720e8f11e432"},
    "groups": [
        {
            "name": "compute",
            "operation": "OR",
            "services": [
                {"name": "CREAM-CE", "operation": "AND"},
                {"name": "ARC-CE", "operation": "AND"},
            ],
        },
        {
            "name": "storage",
            "operation": "OR",
            "services": [
                {"name": "SRMv2", "operation": "AND"},
                {"name": "SRM", "operation": "AND"},
            ],
        },
    ],
}
THRESHOLDS = {
    "id": UUID,
    "date": "2020-01-01",
    "name": "thr01",
    "rules": [
        {
            "host": "hostFoo",
            "metric": "metricA",
            "thresholds": "freshness=1s;10;9:;0;25 entries=1;3;2:0;10",
        },
        {
            "endpoint_group": "TEST-SITE-51",
            "metric": "httpd.ResponseTime",
            "thresholds": "response=20ms;0:500;499:1000",
        },
    ],
}
WEIGHTS = {
    "id": UUID,
    "date": "2020-01-01",
    "name": "Critical",
    "weight_type": "hepspec",
    "group_type": "SITE",
    "groups": [{"name": "SITE-A", "value": 5635.5}, {"name": "SITE-B", "value": 4357}],
}
REPORT_DOC: dict[str, Any] = {
    "id": "eba61a9e-22e9-4521-9e47-ecaa4a494364",
    "disabled": False,
    "info": {"name": "Report_A", "description": "report aaaaa"},
    "computations": {"ar": True, "status": True, "trends": ["flapping", "status", "tags"]},
    "topology_schema": {"group": {"type": "NGI", "group": {"type": "SITE"}}},
    "thresholds": {
        "availability": 80.0,
        "reliability": 85.0,
        "uptime": 80.0,
        "unknown": 10.0,
        "downtime": 10.0,
    },
    "profiles": [
        {"id": "6ac7d684-1f8e-4a02-a502-720e8f11e50b", "name": "profile1", "type": "metric"},
        {"id": "6ac7d684-1f8e-4a02-a502-720e8f11e523", "name": "profile2", "type": "operations"},
        {"id": "6ac7d684-1f8e-4a02-a502-720e8f11e50q", "name": "profile3", "type": "aggregation"},
    ],
    "filter_tags": [{"name": "name1", "value": "value1", "context": ""}],
}
EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (ProfileKind.OPERATIONS, OPERATIONS),
    (ProfileKind.METRIC, METRIC),
    (ProfileKind.AGGREGATION, AGGREGATION),
    (ProfileKind.THRESHOLDS, THRESHOLDS),
    (ProfileKind.WEIGHTS, WEIGHTS),
]


def _round_trip(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
    parsed = parse(kind, doc)
    assert parsed.uuid is not None
    day = parsed.date or date(2026, 1, 1)
    return render(kind, parsed.uuid, day, parsed.document)


@pytest.mark.parametrize(("kind", "doc"), EXAMPLES, ids=[k for k, _ in EXAMPLES])
def test_argo_documents_load_unchanged_and_render_back_as_argo_gives_them(
    kind: str, doc: dict[str, Any]
) -> None:
    rendered = _round_trip(kind, doc)
    assert json.dumps(rendered) == json.dumps(doc)  # the same keys in the same order


def test_a_report_renders_as_argo_gives_it_without_a_date() -> None:
    given: dict[str, Any] = {"tenant": "TenantA", **REPORT_DOC}
    given["info"] = {**given["info"], "created": "2015-9-10 13:43:00"}
    parsed = parse(REPORT, given)
    assert parsed.columns["group_type"] == "NGI"
    assert parsed.columns["endpoint_group_type"] == "SITE"
    assert parsed.columns["weights_uuid"] is None
    assert [kind for kind, _, _ in parsed.references] == ["metric", "operations", "aggregation"]
    assert render(REPORT, given["id"], date(2026, 1, 1), parsed.document) == REPORT_DOC


def test_the_seeded_documents_are_argo_documents_that_round_trip() -> None:
    for kind, name in (
        (ProfileKind.OPERATIONS, "egi_ops.json"),
        (ProfileKind.METRIC, "argo_mon_critical.json"),
        (ProfileKind.AGGREGATION, "critical_aggregation.json"),
    ):
        doc = json.loads((SEED / name).read_text())
        assert _round_trip(kind, doc) == doc, name


def _cell(doc: dict[str, Any], operation: str, a: str, b: str) -> str:
    table = next(op for op in doc["operations"] if op["name"] == operation)["truth_table"]
    found = [r["x"] for r in table if {r["a"], r["b"]} == {a, b}]
    assert len(found) == 1
    return str(found[0])


def test_egi_ops_holds_every_pair_of_argos_current_tables() -> None:
    doc = json.loads((SEED / "egi_ops.json").read_text())
    states = doc["available_states"]
    assert states == ["OK", "WARNING", "UNKNOWN", "MISSING", "CRITICAL", "DOWNTIME"]
    assert doc["defaults"] == {"down": "DOWNTIME", "missing": "MISSING", "unknown": "UNKNOWN"}
    for operation in ("AND", "OR"):
        table = next(op for op in doc["operations"] if op["name"] == operation)["truth_table"]
        assert len(table) == 21  # every unordered pair, the diagonal included
    # the cells where the current profile differs from ARGO's 2016 one (reference §3.1)
    assert _cell(doc, "AND", "CRITICAL", "DOWNTIME") == "CRITICAL"
    assert _cell(doc, "OR", "MISSING", "DOWNTIME") == "DOWNTIME"
    assert _cell(doc, "OR", "CRITICAL", "DOWNTIME") == "CRITICAL"
    # the reference's OR table, row by row (upper triangle)
    expected_or = {
        "OK": ["OK"] * 6,
        "WARNING": ["WARNING"] * 5,
        "UNKNOWN": ["UNKNOWN", "UNKNOWN", "CRITICAL", "UNKNOWN"],
        "MISSING": ["MISSING", "CRITICAL", "DOWNTIME"],
        "CRITICAL": ["CRITICAL", "CRITICAL"],
        "DOWNTIME": ["DOWNTIME"],
    }
    for i, a in enumerate(states):
        assert [_cell(doc, "OR", a, b) for b in states[i:]] == expected_or[a]
    worse = ["OK", "WARNING", "UNKNOWN", "MISSING", "DOWNTIME", "CRITICAL"]
    for a in states:
        for b in states:
            assert _cell(doc, "AND", a, b) == max(a, b, key=worse.index)


def _refused(kind: str, doc: object) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse(kind, doc, at="input.document")
    return caught.value


def _broken(doc: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


BAD = [
    (ProfileKind.OPERATIONS, [], "no object", "input.document", R.MONITORING_FIELD_WRONG_TYPE),
    (ProfileKind.OPERATIONS, ["extra"], 1, "input.document.extra", R.MONITORING_FIELD_UNKNOWN),
    (
        ProfileKind.OPERATIONS,
        ["name"],
        KeyError,
        "input.document.name",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (ProfileKind.OPERATIONS, ["name"], " ", "input.document.name", R.MONITORING_NAME_EMPTY),
    (
        ProfileKind.OPERATIONS,
        ["name"],
        "n" * 256,
        "input.document.name",
        R.MONITORING_NAME_TOO_LONG,
    ),
    (ProfileKind.OPERATIONS, ["name"], 3, "input.document.name", R.MONITORING_FIELD_WRONG_TYPE),
    (ProfileKind.OPERATIONS, ["id"], "not a uuid!", "input.document.id", R.MONITORING_UUID_INVALID),
    (
        ProfileKind.OPERATIONS,
        ["date"],
        "2019-13-01",
        "input.document.date",
        R.MONITORING_DATE_INVALID,
    ),
    (
        ProfileKind.OPERATIONS,
        ["date"],
        "2019-1-1",
        "input.document.date",
        R.MONITORING_DATE_INVALID,
    ),
    (
        ProfileKind.OPERATIONS,
        ["available_states"],
        "A,B,C",
        "input.document.available_states",
        R.MONITORING_FIELD_WRONG_TYPE,
    ),
    (
        ProfileKind.OPERATIONS,
        ["available_states", 2],
        "OK",
        "input.document.available_states[2]",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.OPERATIONS,
        ["available_states", 2],
        7,
        "input.document.available_states[2]",
        R.MONITORING_FIELD_WRONG_TYPE,
    ),
    (
        ProfileKind.OPERATIONS,
        ["defaults", "missing"],
        "FOO",
        "input.document.defaults.missing",
        R.MONITORING_STATE_UNKNOWN,
    ),
    (
        ProfileKind.OPERATIONS,
        ["defaults", "down"],
        KeyError,
        "input.document.defaults.down",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 1, "name"],
        "AND",
        "input.document.operations[1].name",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 0, "truth_table", 2, "b"],
        "BAR",
        "input.document.operations[0].truth_table[2].b",
        R.MONITORING_STATE_UNKNOWN,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 0, "truth_table", 2],
        {"a": "OK", "b": "WARNING", "x": "CRITICAL"},
        "input.document.operations[0].truth_table[2].x",
        R.MONITORING_TRUTH_TABLE_CONFLICT,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 1, "truth_table"],
        [{"a": "OK", "b": "OK", "x": "OK"}],
        "input.document.operations[1].truth_table",
        R.MONITORING_TRUTH_TABLE_INCOMPLETE,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 0, "truth_table"],
        [
            {"a": "OK", "b": "WARNING", "x": "WARNING"},
            {"a": "OK", "b": "CRITICAL", "x": "CRITICAL"},
            {"a": "WARNING", "b": "CRITICAL", "x": "CRITICAL"},
        ],
        "input.document.operations[0].truth_table",
        R.MONITORING_PROFILE_INVALID,
    ),
    (
        ProfileKind.AGGREGATION,
        ["groups", 0, "services"],
        [],
        "input.document.groups[0].services",
        R.MONITORING_PROFILE_INVALID,
    ),
    (
        ProfileKind.OPERATIONS,
        ["operations", 0, "truth_table", 0, "z"],
        "A",
        "input.document.operations[0].truth_table[0].z",
        R.MONITORING_FIELD_UNKNOWN,
    ),
    (
        ProfileKind.METRIC,
        ["services", 1, "service"],
        "CREAM-CE",
        "input.document.services[1].service",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.METRIC,
        ["services", 0, "metrics", 1],
        "emi.cream.CREAMCE-JobSubmit",
        "input.document.services[0].metrics[1]",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.METRIC,
        ["services"],
        {"a": 1},
        "input.document.services",
        R.MONITORING_FIELD_WRONG_TYPE,
    ),
    (
        ProfileKind.AGGREGATION,
        ["groups", 1, "name"],
        "compute",
        "input.document.groups[1].name",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.AGGREGATION,
        ["groups", 1, "services", 0, "name"],
        "ARC-CE",
        "input.document.groups[1].services[0].name",
        R.MONITORING_REPEATED,
    ),
    (
        ProfileKind.AGGREGATION,
        ["metric_profile", "id"],
        KeyError,
        "input.document.metric_profile.id",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (
        ProfileKind.AGGREGATION,
        ["metric_operation"],
        KeyError,
        "input.document.metric_operation",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (
        ProfileKind.THRESHOLDS,
        ["rules", 0, "thresholds"],
        "bad01=33;33s",
        "input.document.rules[0].thresholds",
        R.MONITORING_THRESHOLD_INVALID,
    ),
    (
        ProfileKind.THRESHOLDS,
        ["rules", 0, "metric"],
        KeyError,
        "input.document.rules[0].metric",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (
        ProfileKind.WEIGHTS,
        ["groups", 0, "value"],
        -1,
        "input.document.groups[0].value",
        R.MONITORING_WEIGHT_INVALID,
    ),
    (
        ProfileKind.WEIGHTS,
        ["groups", 0, "value"],
        True,
        "input.document.groups[0].value",
        R.MONITORING_FIELD_WRONG_TYPE,
    ),
    (
        ProfileKind.WEIGHTS,
        ["groups", 1, "name"],
        "SITE-A",
        "input.document.groups[1].name",
        R.MONITORING_REPEATED,
    ),
    (
        REPORT,
        ["profiles", 0, "type"],
        "poem",
        "input.document.profiles[0].type",
        R.MONITORING_PROFILE_TYPE_UNKNOWN,
    ),
    (
        REPORT,
        ["profiles", 1, "type"],
        "metric",
        "input.document.profiles[1].type",
        R.MONITORING_REPEATED,
    ),
    (REPORT, ["profiles", 2], KeyError, "input.document.profiles", R.MONITORING_FIELD_REQUIRED),
    (
        REPORT,
        ["topology_schema", "group", "group"],
        KeyError,
        "input.document.topology_schema.group.group",
        R.MONITORING_FIELD_REQUIRED,
    ),
    (
        REPORT,
        ["thresholds", "availability"],
        "80",
        "input.document.thresholds.availability",
        R.MONITORING_FIELD_WRONG_TYPE,
    ),
    (REPORT, ["disabled"], "no", "input.document.disabled", R.MONITORING_FIELD_WRONG_TYPE),
    (REPORT, ["info", "name"], KeyError, "input.document.info.name", R.MONITORING_FIELD_REQUIRED),
    (
        REPORT,
        ["filter_tags", 0, "value"],
        None,
        "input.document.filter_tags[0].value",
        R.MONITORING_FIELD_REQUIRED,
    ),
]
DOCS: dict[str, dict[str, Any]] = {
    ProfileKind.OPERATIONS: OPERATIONS,
    ProfileKind.METRIC: METRIC,
    ProfileKind.AGGREGATION: AGGREGATION,
    ProfileKind.THRESHOLDS: THRESHOLDS,
    ProfileKind.WEIGHTS: WEIGHTS,
    REPORT: REPORT_DOC,
}


@pytest.mark.parametrize(
    ("kind", "path", "value", "field", "rule"), BAD, ids=[b[3] + ":" + b[4].name for b in BAD]
)
def test_a_bad_document_is_refused_naming_the_json_path_and_the_rule(
    kind: str, path: list[Any], value: Any, field: str, rule: R
) -> None:
    doc: object = value if path == [] else _broken(DOCS[kind], path, value)
    error = _refused(kind, doc)
    assert (error.field, error.rule) == (field, rule)
    assert error.message.startswith(field)


@pytest.mark.parametrize(
    "rule",
    [
        "good01=33s;33 good02=1s;~:10;9:;-20;30",
        "good01=2KB;0:3;2:10;0;20 good02=1c;~:10;9:30;-30;30",
        "time=1s;10;9:30;0;30",
    ],
)
def test_argos_valid_threshold_rules_pass(rule: str) -> None:
    assert check_thresholds(rule, "t") == rule


@pytest.mark.parametrize(
    "rule",
    ["bad01=33;33s", "bad02=33sbad03=1s;~~:10;9:;-20;30", "33;33 bad04=33s;33 -20;30", "", "a=1"],
)
def test_argos_invalid_threshold_rules_are_refused(rule: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_thresholds(rule, "input.rules[0].thresholds")
    assert caught.value.rule is R.MONITORING_THRESHOLD_INVALID


def test_the_operations_an_aggregation_uses_with_their_paths() -> None:
    document = parse(ProfileKind.AGGREGATION, AGGREGATION).document
    used = aggregation_operations(document)
    assert used[:3] == [
        ("metric_operation", "AND"),
        ("profile_operation", "AND"),
        ("groups[0].operation", "OR"),
    ]
    assert ("groups[1].services[1].operation", "AND") in used


def test_what_the_engine_cannot_run_is_refused_though_argo_stores_it() -> None:
    # ARGO's documentation example: states without OK (availability's "up"), no diagonal
    error = _refused(ProfileKind.OPERATIONS, ARGO_DOC_EXAMPLE)
    assert (error.field, error.rule) == (
        "input.document.available_states",
        R.MONITORING_PROFILE_INVALID,
    )
    assert "OK" in error.message


def test_optional_parts_may_be_left_out() -> None:
    minimal = {"name": "m", "services": []}
    parsed = parse(ProfileKind.METRIC, minimal)
    assert (parsed.uuid, parsed.date, parsed.document["description"]) == (None, None, "")
    agg = {k: v for k, v in AGGREGATION.items() if k not in ("namespace", "metric_profile", "id")}
    parsed = parse(ProfileKind.AGGREGATION, agg)
    assert parsed.columns["metric_profile_name"] == ""
    assert "namespace" not in parsed.document
    report = {
        k: v
        for k, v in REPORT_DOC.items()
        if k not in ("computations", "thresholds", "filter_tags")
    }
    parsed = parse(REPORT, {**report, "weight": "hepspec", "computations": {"ar": False}})
    assert parsed.document["computations"] == {"ar": False, "status": True, "trends": []}
    assert parsed.document["filter_tags"] == []
    assert "thresholds" not in parsed.document
