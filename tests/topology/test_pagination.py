"""Relay pagination: cursors chain, pages do not overlap, caps hold."""

from __future__ import annotations

from sqlalchemy import Connection, text

from tests.conftest import AppFactory, GraphQLClient

PAGE = """query($first: Int, $after: String) {
  sites(first: $first, after: $after, filter: {scopes: []}) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { shortName } }
  }
}"""


def test_pages_chain_without_gaps_or_overlap(gql: GraphQLClient, connection: Connection) -> None:
    all_names = list(connection.execute(text("SELECT short_name FROM site ORDER BY id")).scalars())
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = gql.data(PAGE, {"first": 7, "after": after})["sites"]
        pages += 1
        assert page["totalCount"] == len(all_names)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        edges = page["edges"]
        assert page["pageInfo"]["startCursor"] == edges[0]["cursor"]
        assert page["pageInfo"]["endCursor"] == edges[-1]["cursor"]
        seen.extend(e["node"]["shortName"] for e in edges)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == all_names
    assert pages == -(-len(all_names) // 7)


def test_default_page_size_and_zero(make_client: AppFactory) -> None:
    client = make_client(default_page_size=5)
    page = client.data(PAGE, {})["sites"]
    assert len(page["edges"]) == 5
    assert page["pageInfo"]["hasNextPage"] is True
    empty = client.data(PAGE, {"first": 0})["sites"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["startCursor"] is None
    assert empty["totalCount"] > 0


def test_first_over_the_cap(make_client: AppFactory) -> None:
    client = make_client(max_page_size=10, default_page_size=5)
    assert len(client.data(PAGE, {"first": 10})["sites"]["edges"]) == 10
    error = client.error(PAGE, {"first": 11})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"
    assert "10" in error["message"]


def test_negative_first(gql: GraphQLClient) -> None:
    error = gql.error(PAGE, {"first": -1})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"


def test_malformed_cursor(gql: GraphQLClient) -> None:
    for cursor in ["garbage!!", "Y3Vyc29yOmFiYw", ""]:
        error = gql.error(PAGE, {"first": 3, "after": cursor})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", cursor
        assert error["extensions"]["field"] == "after", cursor


def test_every_top_level_list_pages(gql: GraphQLClient) -> None:
    for name in ("projects", "ngis", "serviceTypes", "serviceGroups", "scopes", "services"):
        page = gql.data(f"{{ {name}(first: 2) {{ totalCount edges {{ cursor }} }} }}")[name]
        assert len(page["edges"]) == min(2, page["totalCount"]), name
        assert page["totalCount"] >= 1, name
