"""`roleTypes` (issue 12): the role types `requestRole` accepts and the kind of entity each is
requested over, read from the server's own table (rules.ROLE_TYPES), so that the front end
does not keep a copy."""

from __future__ import annotations

from typing import Any

from domains.identity.models import EntityKind
from domains.topology.rules import ROLE_TYPES
from tests.conftest import Callers, GraphQLClient

ALL = """
query($filter: RoleTypeFilter, $first: Int, $after: String) {
  roleTypes(filter: $filter, first: $first, after: $after) {
    nodes { name entityKind }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}"""


def _pairs(nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(n["entityKind"], n["name"]) for n in nodes]


def test_every_role_type_of_the_table_by_kind_then_name(gql: GraphQLClient) -> None:
    """Public reference data: the anonymous caller reads it too."""
    found = gql.data(ALL, {"first": 100})["roleTypes"]
    expected = [(kind.name, name) for kind in EntityKind for name in sorted(ROLE_TYPES[kind])]
    assert _pairs(found["nodes"]) == expected
    assert found["totalCount"] == len(expected) == sum(len(v) for v in ROLE_TYPES.values())
    assert found["pageInfo"]["hasNextPage"] is False


def test_filtered_by_kind(gql: GraphQLClient) -> None:
    site = gql.data(ALL, {"filter": {"entityKind": ["SITE"]}})["roleTypes"]
    assert {n["name"] for n in site["nodes"]} == set(ROLE_TYPES[EntityKind.SITE])
    assert {n["entityKind"] for n in site["nodes"]} == {"SITE"}
    assert site["totalCount"] == len(ROLE_TYPES[EntityKind.SITE])
    two = gql.data(ALL, {"filter": {"entityKind": ["NGI", "SERVICE_GROUP"]}})["roleTypes"]
    assert {n["entityKind"] for n in two["nodes"]} == {"NGI", "SERVICE_GROUP"}
    none = gql.data(ALL, {"filter": {"entityKind": []}})["roleTypes"]
    assert none["nodes"] == []
    assert none["totalCount"] == 0


def test_pages_continue_after_the_cursor(gql: GraphQLClient) -> None:
    everything = _pairs(gql.data(ALL, {"first": 100})["roleTypes"]["nodes"])
    found: list[tuple[str, str]] = []
    after = None
    while True:
        page = gql.data(ALL, {"first": 4, "after": after})["roleTypes"]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        found += _pairs(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert found == everything


def test_an_unknown_kind_is_refused(gql: GraphQLClient) -> None:
    error = gql.error(ALL, {"filter": {"entityKind": ["SERVICE"]}})
    assert error["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


def test_each_listed_type_is_one_request_role_accepts(callers: Callers, gql: GraphQLClient) -> None:
    """What the list offers over a site, requestRole takes over a site; what it offers
    over an NGI only, requestRole refuses over a site with ROLE_TYPE_UNKNOWN."""
    site_id = gql.data("{ sites(first: 1) { nodes { id } } }")["sites"]["nodes"][0]["id"]
    request = "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { roleType } } }"
    nodes = gql.data(ALL, {"first": 100})["roleTypes"]["nodes"]
    user = callers.as_user("role.types@egi.eu")
    for node in nodes:
        values = {"i": {"roleType": node["name"], "entityId": site_id}}
        body = user.post(request, values)
        if node["entityKind"] == "SITE":
            assert "errors" not in body, body
        else:
            assert body["errors"][0]["extensions"]["rule"] == "ROLE_TYPE_UNKNOWN"
