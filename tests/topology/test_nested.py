"""Nested fields load through per-request loaders: statements do not grow with page size."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.conftest import GraphQLClient, StatementCounter

NESTED = """
query($first: Int!) {
  sites(first: $first, filter: {scopes: []}) {
    totalCount
    edges { cursor node {
      shortName
      ngi { name scopes { name } projects { name } }
      scopes { name }
      properties { key value }
      services {
        hostName serviceType url
        type { name monitoringException }
        site { shortName }
        scopes { name }
        properties { key value }
        endpoints { name url properties { key value } }
      }
    } }
  }
}
"""


def test_statement_count_is_the_same_for_page_sizes_1_and_100(
    gql: GraphQLClient, statements: StatementCounter
) -> None:
    counts = {}
    for size in (1, 100):
        statements.reset()
        data = gql.data(NESTED, {"first": size})
        assert len(data["sites"]["edges"]) == min(size, data["sites"]["totalCount"])
        counts[size] = statements.count
    assert counts[1] == counts[100], counts
    # page + count + ngi + ngi scopes + projects + site scopes + site properties + services
    # + service types + service scopes + service properties + endpoints + endpoint properties
    assert counts[100] <= 13, statements.statements


def test_ngi_sites_and_groups_do_not_multiply_statements(
    gql: GraphQLClient, statements: StatementCounter
) -> None:
    query = """{
      ngis(first: 50) { nodes { name sites { shortName services { hostName } } } }
      serviceGroups(first: 50, filter: {scopes: []}) {
        nodes { name services { hostName site { shortName } } }
      }
    }"""
    statements.reset()
    data = gql.data(query)
    assert len(data["ngis"]["nodes"]) >= 3
    assert statements.count <= 8, statements.statements


def _rows(connection: Connection, sql: str) -> list[Any]:
    return list(connection.execute(text(sql)))


def test_nested_values_match_the_database(gql: GraphQLClient, connection: Connection) -> None:
    sites: dict[str, Any] = {}
    after = None
    while True:
        page = gql.data(
            NESTED.replace("$first: Int!", "$first: Int!, $after: String")
            .replace("sites(first: $first,", "sites(first: $first, after: $after,")
            .replace("totalCount", "totalCount pageInfo { hasNextPage endCursor }"),
            {"first": 40, "after": after},
        )["sites"]
        sites.update({e["node"]["shortName"]: e["node"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    db_services = _rows(
        connection,
        "SELECT s.short_name, v.host_name, t.name, v.url FROM service v "
        "JOIN site s ON s.id = v.site_id JOIN service_type t ON t.id = v.service_type_id "
        "ORDER BY v.id",
    )
    got = [
        (name, svc["hostName"], svc["serviceType"], svc["url"])
        for name, site in sites.items()
        for svc in site["services"]
    ]
    assert sorted(got) == sorted(tuple(r) for r in db_services)
    db_endpoints = _rows(
        connection,
        "SELECT v.host_name, e.name, e.url FROM endpoint e JOIN service v ON v.id = e.service_id",
    )
    got_endpoints = [
        (svc["hostName"], ep["name"], ep["url"])
        for site in sites.values()
        for svc in site["services"]
        for ep in svc["endpoints"]
    ]
    assert sorted(got_endpoints) == sorted(tuple(r) for r in db_endpoints)
    for name, site in sites.items():
        for svc in site["services"]:
            assert svc["site"]["shortName"] == name


def test_node_lookup_for_every_type(gql: GraphQLClient) -> None:
    ids = gql.data(
        """{ sites(first: 1, filter: {scopes: []}) { nodes { id ngi { id projects { id } }
               scopes { id } services { id type { id } endpoints { id } } } }
             serviceGroups(first: 1, filter: {scopes: []}) { nodes { id } } }"""
    )
    site = ids["sites"]["nodes"][0]
    service = site["services"][0]
    cases = {
        "Site": site["id"],
        "NGI": site["ngi"]["id"],
        "Project": site["ngi"]["projects"][0]["id"],
        "Scope": site["scopes"][0]["id"],
        "Service": service["id"],
        "ServiceType": service["type"]["id"],
        "Endpoint": service["endpoints"][0]["id"],
        "ServiceGroup": ids["serviceGroups"]["nodes"][0]["id"],
    }
    for typename, global_id in cases.items():
        node = gql.data("query($id: ID!) { node(id: $id) { __typename id } }", {"id": global_id})[
            "node"
        ]
        assert node == {"__typename": typename, "id": global_id}


@pytest.mark.parametrize("bad_id", ["not base64!", "U2l0ZTp4", "VW5rbm93bjox"])
def test_node_with_bad_id(gql: GraphQLClient, bad_id: str) -> None:
    error = gql.error("query($id: ID!) { node(id: $id) { id } }", {"id": bad_id})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"


def test_node_that_does_not_exist_is_null(gql: GraphQLClient) -> None:
    from domains.common.graphql import to_global_id

    node = gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Site", 987654)}
    )["node"]
    assert node is None


def test_personal_data_is_hidden_from_anonymous_callers(
    gql: GraphQLClient, connection: Connection
) -> None:
    with_email = (
        connection.execute(text("SELECT short_name FROM site WHERE email IS NOT NULL"))
        .scalars()
        .first()
    )
    assert with_email is not None, "demo data should hold contact e-mails"
    site = gql.data(
        "query($n: String!) { site(shortName: $n) { email telephone csirtEmail ngi { email } } }",
        {"n": with_email},
    )["site"]
    assert site == {"email": None, "telephone": None, "csirtEmail": None, "ngi": {"email": None}}
