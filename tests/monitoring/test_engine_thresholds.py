"""Thresholds rules as ARGO applies them (engine/thresholds.py): each range form, `@`, the
open boundaries, the most specific rule, several labels combined with the loaded
operations profile's AND, and perfdata that does not parse."""

from __future__ import annotations

import math
from typing import Any

import pytest

from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.thresholds import (
    Graded,
    Range,
    ThresholdRules,
    parse_perfdata,
    parse_range,
)
from tests.monitoring.argo_profiles import operations_doc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", Range(0.0, 10.0)),
        ("10:", Range(10.0, math.inf)),
        ("~:10", Range(-math.inf, 10.0)),
        ("-5:2.5", Range(-5.0, 2.5)),
        ("@10:20", Range(10.0, 20.0, inverted=True)),
        ("@5", Range(0.0, 5.0, inverted=True)),
        ("", None),
        ("x:1", None),
        ("1:y", None),
    ],
)
def test_each_range_form(text: str, expected: Range | None) -> None:
    assert parse_range(text) == expected


@pytest.mark.parametrize(
    ("text", "value", "inside"),
    [
        ("10", 5, True),
        ("10", 0, False),  # open at the floor
        ("10", 10, False),  # and at the ceiling
        ("10", -1, False),
        ("10:", 10, False),
        ("10:", 10.001, True),
        ("~:10", -1e9, True),
        ("~:10", 10, False),
        ("2:4", 3, True),
        ("@2:4", 3, False),
        ("@2:4", 4, True),  # the boundary is outside the range, so inside the inverted one
        ("@2:4", 5, True),
    ],
)
def test_ranges_are_open_at_both_ends_and_at_inverts(text: str, value: float, inside: bool) -> None:
    found = parse_range(text)
    assert found is not None
    assert found.contains(value) is inside


def _rules(*rules: dict[str, str], doc: dict[str, Any] | None = None) -> ThresholdRules:
    ops = OperationsTable.from_argo(doc or operations_doc())
    return ThresholdRules.from_argo({"name": "t", "rules": list(rules)}, ops)


def test_the_most_specific_rule_wins() -> None:
    rules = _rules(
        {"metric": "m", "thresholds": "v=1;1:2;2:"},
        {"metric": "m", "endpoint_group": "SITE-A", "thresholds": "v=1;2:3;3:"},
        {"metric": "m", "host": "h1", "thresholds": "v=1;3:4;4:"},
        {"metric": "m", "host": "h1", "endpoint_group": "SITE-A", "thresholds": "v=1;4:5;5:"},
    )

    def text(group: str, host: str) -> str | None:
        found = rules.rule_for(group, host, "m")
        return None if found is None else found.text

    assert text("SITE-A", "h1") == "v=1;4:5;5:"  # (group, host, metric)
    assert text("SITE-B", "h1") == "v=1;3:4;4:"  # (host, metric)
    assert text("SITE-A", "h2") == "v=1;2:3;3:"  # (group, metric)
    assert text("SITE-B", "h2") == "v=1;1:2;2:"  # (metric)
    assert rules.rule_for("SITE-A", "h1", "other") is None
    # a value graded by the rule picked: 1.5 is WARNING under (metric) only
    assert rules.grade("SITE-B", "h2", "m", "OK", "v=1.5").status == "WARNING"
    assert rules.grade("SITE-A", "h1", "m", "OK", "v=1.5") == Graded("OK")


def test_warning_before_critical_then_no_status() -> None:
    rules = _rules({"metric": "m", "thresholds": "t=1s;0:5;5:"})
    assert rules.grade("", "h", "m", "OK", "t=3s") == Graded("WARNING", "OK", "t=1s;0:5;5:")
    assert rules.grade("", "h", "m", "OK", "t=7s").status == "CRITICAL"
    # 5 is in neither open range, 0 neither: the probe's status stays
    assert rules.grade("", "h", "m", "CRITICAL", "t=5s") == Graded("CRITICAL")
    assert rules.grade("", "h", "m", "OK", "t=0") == Graded("OK")
    # the rule's status is the probe's: nothing to record
    assert rules.grade("", "h", "m", "WARNING", "t=3") == Graded("WARNING")
    # a rule re-grades a failing probe too, as ARGO's does
    assert rules.grade("", "h", "m", "CRITICAL", "t=3").status == "WARNING"


def test_several_labels_combine_with_the_loaded_and() -> None:
    rule = "a=1;0:1;1: b=1;0:1;1: c=1;0:1;1:"
    rules = _rules({"metric": "m", "thresholds": rule})
    found = rules.grade("", "h", "m", "OK", "a=0.5 b=2 other=9 c=-3")
    # a: WARNING, b: CRITICAL, c: none; AND(WARNING, CRITICAL) = CRITICAL
    assert found == Graded("CRITICAL", "OK", "a=1;0:1;1: b=1;0:1;1:")
    # a truth table loaded at run time decides: here AND(WARNING, CRITICAL) is UNKNOWN
    doc = operations_doc()
    for row in doc["operations"][0]["truth_table"]:
        if {row["a"], row["b"]} == {"WARNING", "CRITICAL"}:
            row["x"] = "UNKNOWN"
    other = _rules({"metric": "m", "thresholds": rule}, doc=doc)
    assert other.grade("", "h", "m", "OK", "a=0.5 b=2").status == "UNKNOWN"


@pytest.mark.parametrize(
    "perfdata",
    [None, "", "garbage", "a=", "a=x;1;2", "a=1 =2", "'a=1", "a=1 b", "a=nan", "a=inf"],
)
def test_bad_perfdata_is_not_graded(perfdata: str | None) -> None:
    rules = _rules({"metric": "m", "thresholds": "a=1;0:10;10:"})
    assert rules.grade("", "h", "m", "OK", perfdata) == Graded("OK")


def test_nagios_perfdata_parses() -> None:
    assert parse_perfdata("time=0.25s;1;2;0 'the size'=12KB;;;0;100 'it''s'=3 u=U pct=5%") == {
        "time": 0.25,
        "the size": 12.0,
        "it's": 3.0,
        "pct": 5.0,
    }
    assert parse_perfdata("  a=-1.5e2  ") == {"a": -150.0}
