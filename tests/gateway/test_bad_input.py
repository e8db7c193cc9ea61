"""Input that used to end in INTERNAL or a 500 (issue 10): each is the caller's mistake,
answered with a 4xx or BAD_USER_INPUT that names it. tests/security/test_http.py sends the
same to a real server."""

from __future__ import annotations

import base64

import pytest

from domains.common.graphql import NODE_RESOLVERS, to_global_id
from domains.common.pagination import encode_cursor
from tests.conftest import Callers, GraphQLClient

JSON = {"content-type": "application/json"}
# keys no database id can hold: past 32 bits (PostgreSQL INTEGER), 64 bits, and far more
KEYS = [2**31, 2**63, 2**64, 10**30]
ADMIN = "urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu"


def raw_id(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def test_a_body_that_is_not_utf8_is_400(gql: GraphQLClient) -> None:
    response = gql.client.post(
        "/graphql", content=b'{"query": "{ __typename }", "x": "\xff\xfe"}', headers=JSON
    )
    assert response.status_code == 400
    assert response.text == "the request body is not valid UTF-8"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            rb'{"query": "query($n: String!) { site(shortName: $n) { id } }",'
            rb' "variables": {"n": "FZK\ud800"}}',
            "variables.n",
        ),
        (
            rb'{"query": "query($f: SiteFilter) { sites(filter: $f) { totalCount } }",'
            rb' "variables": {"f": {"ngi": ["x", "\udfff"]}}}',
            "variables.f.ngi[1]",
        ),
        (rb'{"query": "{ __typename }", "operationName": "\ud800"}', "operationName"),
    ],
)
def test_a_lone_surrogate_is_400_naming_where(gql: GraphQLClient, body: bytes, where: str) -> None:
    response = gql.client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.text == f"{where}: a lone surrogate is not a Unicode character"
    # a proper pair (an emoji as JSON escapes it) is fine
    fine = gql.post("query($n: String!) { site(shortName: $n) { id } }", {"n": "FZK\U0001f527"})
    assert fine == {"data": {"site": None}}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            rb'{"query": "query($n: String!) { site(shortName: $n) { id } }",'
            rb' "variables": {"n": "FZK\u0000"}}',
            "variables.n",
        ),
        (
            rb'{"query": "query($f: SiteFilter) { sites(filter: $f) { totalCount } }",'
            rb' "variables": {"f": {"ngi": ["x", "\u0000"]}}}',
            "variables.f.ngi[1]",
        ),
        (rb'{"query": "{ __typename }", "variables": {"a\u0000": 1}}', "variables.a\\x00"),
    ],
)
def test_nul_in_a_variable_is_400_naming_where(gql: GraphQLClient, body: bytes, where: str) -> None:
    """JSON's \\u0000 decodes to NUL, which PostgreSQL's text and jsonb refuse."""
    response = gql.client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.text == f"{where}: U+0000 (NUL) cannot be stored"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ('{ site(shortName: "FZK\\u0000") { id } }', "shortName"),
        ('{ sites(filter: {ngi: ["x", "\\u0000"]}) { totalCount } }', "filter.ngi"),
    ],
)
def test_nul_in_a_string_literal_is_bad_user_input(
    gql: GraphQLClient, query: str, field: str
) -> None:
    error = gql.error(query)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field
    assert error["extensions"]["rule"] == "TEXT_NOT_STORABLE"
    assert error["message"] == f"{field}: U+0000 (NUL) cannot be stored"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("type_name", sorted(NODE_RESOLVERS))
def test_node_id_beyond_any_key_is_bad_user_input(
    gql: GraphQLClient, type_name: str, key: int
) -> None:
    error = gql.error("query($id: ID!) { node(id: $id) { id } }", {"id": raw_id(type_name, key)})
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "id"
    assert "2147483647" in error["message"]
    # the largest key is a well-formed id that names nothing
    assert gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id(type_name, 2**31 - 1)}
    ) == {"node": None}


@pytest.mark.parametrize(
    ("query", "type_name", "field"),
    [
        ("query($id: ID!) { service(id: $id) { id } }", "Service", "id"),
        ("query($id: ID!) { downtime(id: $id) { id } }", "Downtime", "id"),
        ("mutation($id: ID!) { updateSite(input: {id: $id}) { site { id } } }", "Site", "input.id"),
        ("mutation($id: ID!) { deleteDowntime(input: {id: $id}) { id } }", "Downtime", "input.id"),
    ],
)
def test_other_id_arguments_beyond_any_key(
    callers: Callers, query: str, type_name: str, field: str
) -> None:
    admin = callers.as_user("keys.admin@egi.eu", entitlements=(ADMIN,))
    for key in KEYS:
        error = admin.error(query, {"id": raw_id(type_name, key)})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == field, error


@pytest.mark.parametrize("key", KEYS)
def test_a_cursor_beyond_any_key_is_bad_user_input(gql: GraphQLClient, key: int) -> None:
    error = gql.error(
        "query($a: String) { sites(after: $a) { totalCount } }", {"a": encode_cursor(key)}
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "after"


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:00-01:00"]
)
def test_a_datetime_outside_the_years_1_to_9999_in_utc(gql: GraphQLClient, moment: str) -> None:
    for name in ("windowStart", "windowEnd"):
        error = gql.error(
            f"query($t: DateTime) {{ downtimes(filter: {{{name}: $t}}) {{ totalCount }} }}",
            {"t": moment},
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "years 1 to 9999" in error["message"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("to=9999-12-31", "to"),
        ("to=9999-12-31T23:59:59-14:00", "to"),
        ("from=0001-01-01T00:00:00%2B14:00", "from"),
        ("from=9999-12-31T23:30:00-01:00", "from"),
    ],
)
@pytest.mark.parametrize("kind", ["rss", "ics", "csv", "json"])
def test_feed_moments_that_overflow_are_400(
    gql: GraphQLClient, query: str, parameter: str, kind: str
) -> None:
    response = gql.client.get(f"/feeds/downtimes.{kind}?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["parameter"]) == ("BAD_USER_INPUT", parameter)
    assert error["rule"] == "FEED_TIME_OUT_OF_RANGE"
    assert "9999-12-31" in error["message"]
    # the extremes that can be represented are fine
    for fine in ("to=9999-12-30", "from=9999-12-31", "from=0001-01-01", "to=0001-01-01"):
        assert gql.client.get(f"/feeds/downtimes.{kind}?{fine}").status_code == 200, fine
