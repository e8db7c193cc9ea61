"""The engine's profiles: ARGO's operations and aggregation JSON load unchanged, every cell
of the current EGI truth tables answers as the reference's tables say (both orders), a
legacy table loaded instead answers its own cells, and bad documents name the JSON path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.operations import EXCLUDED, OperationsTable, ProfileError
from tests.monitoring.argo_profiles import STATES, aggregation_doc, operations_doc

O, W, U, M, C, D = STATES  # noqa: E741 (the states by initial, as in the tables)

# The reference's §3.1 tables written out in full (row a, column b), by hand: AND is the worse
# along OK < WARNING < UNKNOWN < MISSING < DOWNTIME < CRITICAL, OR the table of §3.1.
AND_TABLE = {
    O: {O: O, W: W, U: U, M: M, C: C, D: D},
    W: {O: W, W: W, U: U, M: M, C: C, D: D},
    U: {O: U, W: U, U: U, M: M, C: C, D: D},
    M: {O: M, W: M, U: M, M: M, C: C, D: D},
    C: {O: C, W: C, U: C, M: C, C: C, D: C},
    D: {O: D, W: D, U: D, M: D, C: C, D: D},
}
OR_TABLE = {
    O: {O: O, W: O, U: O, M: O, C: O, D: O},
    W: {O: O, W: W, U: W, M: W, C: W, D: W},
    U: {O: O, W: W, U: U, M: U, C: C, D: U},
    M: {O: O, W: W, U: U, M: M, C: C, D: D},
    C: {O: O, W: W, U: C, M: C, C: C, D: C},
    D: {O: O, W: W, U: U, M: D, C: C, D: D},
}
CELLS = [(op, a, b) for op in ("AND", "OR") for a in STATES for b in STATES]


def current() -> OperationsTable:
    return OperationsTable.from_argo(operations_doc())


@pytest.mark.parametrize(("op", "a", "b"), CELLS)
def test_every_cell_of_the_current_egi_tables(op: str, a: str, b: str) -> None:
    expected = (AND_TABLE if op == "AND" else OR_TABLE)[a][b]
    assert current().apply(op, a, b) == expected


def test_the_legacy_table_answers_its_own_three_cells() -> None:
    legacy = OperationsTable.from_argo(operations_doc(legacy=True))
    differing = {
        (op, a, b) for op, a, b in CELLS if legacy.apply(op, a, b) != current().apply(op, a, b)
    }
    assert differing == {
        ("AND", C, D),
        ("AND", D, C),
        ("OR", M, D),
        ("OR", D, M),
        ("OR", C, D),
        ("OR", D, C),
    }
    assert legacy.apply("AND", C, D) == D
    assert legacy.apply("OR", D, M) == M
    assert legacy.apply("OR", C, D) == D


def test_excluded_gives_way_to_any_status() -> None:
    ops = current()
    for op in ("AND", "OR"):
        for state in STATES:
            assert ops.apply(op, EXCLUDED, state) == state
            assert ops.apply(op, state, EXCLUDED) == state
        assert ops.apply(op, EXCLUDED, EXCLUDED) == EXCLUDED
    assert ops.index(EXCLUDED) == ops.excluded == 6
    assert ops.name_of(6) == EXCLUDED


def test_the_profile_loads_as_argo_ships_it() -> None:
    ops = current()
    assert ops.name == "egi_ops"
    assert ops.states == STATES
    assert (ops.defaults.down, ops.defaults.missing, ops.defaults.unknown) == (D, M, U)
    assert ops.operations == ("AND", "OR")
    assert ops.cells("AND")[ops.index(C)][ops.index(D)] == ops.index(C)


def test_a_row_of_its_own_wins_over_the_mirrored_one() -> None:
    doc = operations_doc()
    doc["operations"][0]["truth_table"].append({"a": D, "b": C, "x": D})
    ops = OperationsTable.from_argo(doc)
    assert ops.apply("AND", D, C) == D
    assert ops.apply("AND", C, D) == C


def test_any_states_and_operations_load() -> None:
    doc = {
        "available_states": ["OK", "WARNING", "BAD"],
        "defaults": {"down": "BAD", "missing": "BAD", "unknown": "BAD"},
        "operations": [
            {
                "name": "FIRST",
                "truth_table": [
                    {"a": a, "b": b, "x": a}
                    for a in ("OK", "WARNING", "BAD")
                    for b in ("OK", "WARNING", "BAD")
                ],
            }
        ],
    }
    ops = OperationsTable.from_argo(doc)
    assert ops.apply("FIRST", "BAD", "OK") == "BAD"
    assert ops.apply("FIRST", "OK", "BAD") == "OK"
    assert ops.name == ""


def _without_cell(doc: dict[str, Any]) -> dict[str, Any]:
    doc["operations"][1]["truth_table"] = [
        row for row in doc["operations"][1]["truth_table"] if (row["a"], row["b"]) != (U, C)
    ]
    return doc


def _set(path: list[Any], value: object) -> Any:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return doc

    return edit


BAD_OPERATIONS = [
    (lambda doc: [1], "$", "must be an object"),
    (_set(["name"], 3), "name", "must be a string"),
    (_set(["available_states"], KeyError), "available_states", "must be a list"),
    (_set(["available_states"], []), "available_states", "must not be empty"),
    (_set(["available_states", 2], ""), "available_states[2]", "non-empty string"),
    (_set(["available_states", 2], "OK"), "available_states[2]", "OK is listed twice"),
    (_set(["available_states", 2], EXCLUDED), "available_states[2]", "reserved"),
    (_set(["available_states", 1], "WARN"), "available_states", "must include WARNING"),
    (_set(["defaults"], "DOWNTIME"), "defaults", "must be an object"),
    (_set(["defaults", "down"], "DOWN"), "defaults.down", "DOWN is not one of"),
    (_set(["defaults", "missing"], KeyError), "defaults.missing", "non-empty string"),
    (_set(["operations"], {}), "operations", "must be a list"),
    (_set(["operations", 1, "name"], "AND"), "operations[1].name", "AND is defined twice"),
    (_set(["operations", 0, "truth_table"], []), "operations[0].truth_table", "not be empty"),
    (_set(["operations", 0, "truth_table", 4], "x"), "operations[0].truth_table[4]", "object"),
    (
        _set(["operations", 0, "truth_table", 4, "x"], "BAD"),
        "operations[0].truth_table[4].x",
        "BAD is not one of available_states",
    ),
    (_without_cell, "operations[1].truth_table", "no row for (UNKNOWN, CRITICAL)"),
]


@pytest.mark.parametrize(("edit", "path", "words"), BAD_OPERATIONS)
def test_a_bad_operations_profile_names_the_path(edit: Any, path: str, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        OperationsTable.from_argo(edit(copy.deepcopy(operations_doc())))
    assert caught.value.path == path
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}: ")


def test_the_aggregation_profile_loads_as_argo_ships_it() -> None:
    spec = AggregationSpec.from_argo(aggregation_doc())
    assert (spec.name, spec.endpoint_group, spec.metric_profile) == (
        "critical",
        "sites",
        "ARGO_MON_CRITICAL",
    )
    assert (spec.metric_operation, spec.profile_operation) == ("AND", "AND")
    assert [g.name for g in spec.groups] == ["compute", "storage"]
    assert spec.groups[0].services[1].name == "CREAM-CE"
    assert spec.service_operations() == {"ARC-CE": "OR", "CREAM-CE": "OR", "SRM": "OR"}
    spec.check_operations(current())


def test_a_service_in_two_groups_takes_the_first_groups_operation() -> None:
    doc = aggregation_doc()
    doc["groups"][1]["services"].append({"name": "ARC-CE", "operation": "AND"})
    doc["metric_profile"] = None
    spec = AggregationSpec.from_argo(doc)
    assert spec.service_operations()["ARC-CE"] == "OR"
    assert spec.metric_profile is None


BAD_AGGREGATIONS = [
    (_set(["name"], 1), "name", "must be a string"),
    (_set(["endpoint_group"], KeyError), "endpoint_group", "non-empty string"),
    (_set(["metric_operation"], " "), "metric_operation", "non-empty string"),
    (_set(["metric_profile"], "x"), "metric_profile", "must be an object"),
    (_set(["metric_profile", "name"], 5), "metric_profile.name", "non-empty string"),
    (_set(["groups"], []), "groups", "must not be empty"),
    (_set(["groups", 1, "name"], "compute"), "groups[1].name", "compute is defined twice"),
    (_set(["groups", 0, "services"], None), "groups[0].services", "must be a list"),
    (_set(["groups", 0, "services", 1, "name"], "ARC-CE"), "groups[0].services[1].name", "twice"),
    (_set(["groups", 0, "operation"], None), "groups[0].operation", "non-empty string"),
    (_set(["groups", 1, "services", 0, "operation"], 1), "groups[1].services[0].operation", "str"),
]


@pytest.mark.parametrize(("edit", "path", "words"), BAD_AGGREGATIONS)
def test_a_bad_aggregation_profile_names_the_path(edit: Any, path: str, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        AggregationSpec.from_argo(edit(copy.deepcopy(aggregation_doc())))
    assert caught.value.path == path
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["metric_operation"], "XOR"),
        (["profile_operation"], "XOR"),
        (["groups", 1, "operation"], "XOR"),
        (["groups", 0, "services", 1, "operation"], "XOR"),
    ],
)
def test_an_aggregation_needing_an_unknown_operation_names_it(path: list[Any], value: str) -> None:
    spec = AggregationSpec.from_argo(_set(path, value)(copy.deepcopy(aggregation_doc())))
    with pytest.raises(ProfileError) as caught:
        spec.check_operations(current())
    expected = ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
    assert caught.value.path == expected
    assert "XOR is not an operation" in caught.value.message
