"""Property filters are bounded in conditions and nesting (issue 10): too many or too deep is
BAD_USER_INPUT naming the argument and the rule, found before any work is done on the
filter, on every list that takes one; the largest filter allowed runs on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from domains.common.errors import Invalid
from domains.topology.filters import MAX_PROPERTY_DEPTH, MAX_PROPERTY_TERMS, PropertyExpr
from domains.topology.rules import TopologyRule
from tests.conftest import GraphQLClient

LISTS = [("sites", "SiteFilter"), ("services", "ServiceFilter")]
LISTS += [("serviceGroups", "ServiceGroupFilter")]


def _wide(terms: int) -> dict[str, Any]:
    return {"or": [{"key": f"k{i}"} for i in range(terms)]}


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"key": "k"}
    for _ in range(levels - 1):
        value = {"not": value}
    return value


def _literal(levels: int) -> str:
    return "{not: " * (levels - 1) + '{key: "k"}' + "}" * (levels - 1)


@pytest.mark.parametrize(("field", "input_type"), LISTS)
def test_the_largest_filters_allowed_run(gql: GraphQLClient, field: str, input_type: str) -> None:
    query = f"query($f: {input_type}) {{ {field}(filter: $f) {{ totalCount }} }}"
    wide = {"scopes": [], "properties": _wide(MAX_PROPERTY_TERMS - 1)}
    deep = {"scopes": [], "properties": _deep(MAX_PROPERTY_DEPTH)}
    assert gql.data(query, {"f": wide})[field]["totalCount"] >= 0
    assert gql.data(query, {"f": deep})[field]["totalCount"] >= 0


@pytest.mark.parametrize(("field", "input_type"), LISTS)
@pytest.mark.parametrize("terms", [MAX_PROPERTY_TERMS, 1000])
def test_too_many_conditions_in_a_variable(
    gql: GraphQLClient, field: str, input_type: str, terms: int
) -> None:
    """Today 1,000 gave INTERNAL (SQLite: expression tree too large); an `or` of N keys is
    N + 1 conditions. (200,000, which ran for minutes, is sent to a real server in
    tests/security/test_bounds.py.)"""
    query = f"query($f: {input_type}) {{ {field}(filter: $f) {{ totalCount }} }}"
    error = gql.error(query, {"f": {"properties": _wide(terms)}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "$f.properties"
    assert error["extensions"]["rule"] == "PROPERTY_FILTER_TOO_MANY_TERMS"
    assert "path" not in error  # refused before execution: nothing was coerced or converted


def test_too_deep_in_a_variable_of_the_filter_type_itself(gql: GraphQLClient) -> None:
    error = gql.error(
        "query($p: PropertyFilter) { sites(filter: {properties: $p}) { totalCount } }",
        {"p": _deep(MAX_PROPERTY_DEPTH + 1)},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "$p"
    assert error["extensions"]["rule"] == "PROPERTY_FILTER_TOO_DEEP"


@pytest.mark.parametrize("levels", [MAX_PROPERTY_DEPTH + 1, 50])
def test_too_deep_in_the_document(gql: GraphQLClient, levels: int) -> None:
    """Today 50 nested `not` overflowed SQLite's parser: INTERNAL."""
    literal = _literal(levels)
    error = gql.error(f"{{ services(filter: {{properties: {literal}}}) {{ totalCount }} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "filter.properties"
    assert error["extensions"]["rule"] == "PROPERTY_FILTER_TOO_DEEP"


def test_too_many_conditions_in_the_document(gql: GraphQLClient) -> None:
    terms = ", ".join(f'{{key: "k{i}"}}' for i in range(MAX_PROPERTY_TERMS))
    error = gql.error(f"{{ sites(filter: {{properties: {{or: [{terms}]}}}}) {{ totalCount }} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "filter.properties"
    assert error["extensions"]["rule"] == "PROPERTY_FILTER_TOO_MANY_TERMS"


def test_the_service_function_bounds_without_recursion() -> None:
    """The domain's own check (CLI, REST callers) walks iteratively: a chain of 100,000
    `not` is refused, not a RecursionError."""
    expr = PropertyExpr(key="k")
    for _ in range(100_000):
        expr = PropertyExpr(negate=expr)
    with pytest.raises(Invalid) as refused:
        expr.validate("filter.properties")
    assert refused.value.rule is TopologyRule.PROPERTY_FILTER_TOO_DEEP
    wide = PropertyExpr(any_of=tuple(PropertyExpr(key=f"k{i}") for i in range(200_000)))
    with pytest.raises(Invalid) as refused:
        wide.validate("filter.properties")
    assert refused.value.rule is TopologyRule.PROPERTY_FILTER_TOO_MANY_TERMS
    PropertyExpr(any_of=tuple(PropertyExpr(key="k") for _ in range(99))).validate("p")
