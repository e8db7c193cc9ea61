"""ARGO profile documents for the engine's tests, written out row by row as ARGO ships them:
the current EGI operations profile (`egi_ops`, argo-streaming flink_jobs_v3 operations.json
at a8c3a6b), the legacy 2016 one (argo-compute-engine EGI-algorithm.json), and a
compute/storage aggregation profile."""

from __future__ import annotations

from typing import Any

STATES = ("OK", "WARNING", "UNKNOWN", "MISSING", "CRITICAL", "DOWNTIME")

# upper triangles (a, b, x), as in ARGO's JSON; (b, a) is filled from (a, b)
CURRENT_AND = [
    ("OK", "OK", "OK"),
    ("OK", "WARNING", "WARNING"),
    ("OK", "UNKNOWN", "UNKNOWN"),
    ("OK", "MISSING", "MISSING"),
    ("OK", "CRITICAL", "CRITICAL"),
    ("OK", "DOWNTIME", "DOWNTIME"),
    ("WARNING", "WARNING", "WARNING"),
    ("WARNING", "UNKNOWN", "UNKNOWN"),
    ("WARNING", "MISSING", "MISSING"),
    ("WARNING", "CRITICAL", "CRITICAL"),
    ("WARNING", "DOWNTIME", "DOWNTIME"),
    ("UNKNOWN", "UNKNOWN", "UNKNOWN"),
    ("UNKNOWN", "MISSING", "MISSING"),
    ("UNKNOWN", "CRITICAL", "CRITICAL"),
    ("UNKNOWN", "DOWNTIME", "DOWNTIME"),
    ("MISSING", "MISSING", "MISSING"),
    ("MISSING", "CRITICAL", "CRITICAL"),
    ("MISSING", "DOWNTIME", "DOWNTIME"),
    ("CRITICAL", "CRITICAL", "CRITICAL"),
    ("CRITICAL", "DOWNTIME", "CRITICAL"),
    ("DOWNTIME", "DOWNTIME", "DOWNTIME"),
]
CURRENT_OR = [
    ("OK", "OK", "OK"),
    ("OK", "WARNING", "OK"),
    ("OK", "UNKNOWN", "OK"),
    ("OK", "MISSING", "OK"),
    ("OK", "CRITICAL", "OK"),
    ("OK", "DOWNTIME", "OK"),
    ("WARNING", "WARNING", "WARNING"),
    ("WARNING", "UNKNOWN", "WARNING"),
    ("WARNING", "MISSING", "WARNING"),
    ("WARNING", "CRITICAL", "WARNING"),
    ("WARNING", "DOWNTIME", "WARNING"),
    ("UNKNOWN", "UNKNOWN", "UNKNOWN"),
    ("UNKNOWN", "MISSING", "UNKNOWN"),
    ("UNKNOWN", "CRITICAL", "CRITICAL"),
    ("UNKNOWN", "DOWNTIME", "UNKNOWN"),
    ("MISSING", "MISSING", "MISSING"),
    ("MISSING", "CRITICAL", "CRITICAL"),
    ("MISSING", "DOWNTIME", "DOWNTIME"),
    ("CRITICAL", "CRITICAL", "CRITICAL"),
    ("CRITICAL", "DOWNTIME", "CRITICAL"),
    ("DOWNTIME", "DOWNTIME", "DOWNTIME"),
]
# the 2016 profile differs in three cells
LEGACY_CHANGES = {
    ("AND", "CRITICAL", "DOWNTIME"): "DOWNTIME",
    ("OR", "MISSING", "DOWNTIME"): "MISSING",
    ("OR", "CRITICAL", "DOWNTIME"): "DOWNTIME",
}


def _rows(op: str, rows: list[tuple[str, str, str]], legacy: bool) -> list[dict[str, str]]:
    out = []
    for a, b, x in rows:
        if legacy:
            x = LEGACY_CHANGES.get((op, a, b), x)
        out.append({"a": a, "b": b, "x": x})
    return out


def operations_doc(*, legacy: bool = False) -> dict[str, Any]:
    return {
        "id": "6ac7d684-1f8e-4a02-a502-720e8f11e50b",
        "date": "2015-01-01",
        "name": "egi_ops_2016" if legacy else "egi_ops",
        "available_states": list(STATES),
        "defaults": {"down": "DOWNTIME", "missing": "MISSING", "unknown": "UNKNOWN"},
        "operations": [
            {"name": "AND", "truth_table": _rows("AND", CURRENT_AND, legacy)},
            {"name": "OR", "truth_table": _rows("OR", CURRENT_OR, legacy)},
        ],
    }


def aggregation_doc() -> dict[str, Any]:
    return {
        "id": "2744247f-40f8-4dd6-b22c-76a3b38334d3",
        "date": "2015-01-01",
        "name": "critical",
        "namespace": "egi",
        "endpoint_group": "sites",
        "metric_operation": "AND",
        "profile_operation": "AND",
        "metric_profile": {
            "name": "ARGO_MON_CRITICAL",
            "id": "c81fdb7b-d8f8-4ff9-96c5-6a0c336e2b25",
        },
        "groups": [
            {
                "name": "compute",
                "operation": "OR",
                "services": [
                    {"name": "ARC-CE", "operation": "OR"},
                    {"name": "CREAM-CE", "operation": "OR"},
                ],
            },
            {
                "name": "storage",
                "operation": "OR",
                "services": [{"name": "SRM", "operation": "OR"}],
            },
        ],
    }
