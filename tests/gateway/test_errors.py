"""Errors carry extensions.code; bad input names the argument; internals are masked."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import AppFactory, GraphQLClient


def test_unknown_enum_value_inline_names_the_argument(gql: GraphQLClient) -> None:
    error = gql.error("{ sites(filter: {certificationStatus: [BOGUS]}) { totalCount } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "filter.certificationStatus"
    assert "BOGUS" in error["message"]


def test_unknown_enum_value_in_variables_names_the_argument(gql: GraphQLClient) -> None:
    error = gql.error(
        "query($f: SiteFilter) { sites(filter: $f) { totalCount } }",
        {"f": {"productionInfrastructure": ["MAYBE"]}},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"].startswith("f.productionInfrastructure")


def test_wrong_argument_type_names_the_argument(gql: GraphQLClient) -> None:
    error = gql.error('{ sites(first: "ten") { totalCount } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "first"


def test_unknown_field_is_bad_input(gql: GraphQLClient) -> None:
    error = gql.error("{ sites { nosuchfield } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_syntax_error_is_bad_input(gql: GraphQLClient) -> None:
    error = gql.error("{ sites { ")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_over_deep_query(make_client: AppFactory) -> None:
    client = make_client(max_query_depth=5)
    ok = "{ sites(first: 1) { nodes { services { site { shortName } } } } }"
    assert "errors" not in client.post(ok)
    deep = "{ sites(first: 1) { nodes { services { site { services { site { shortName } } } } } } }"
    error = client.error(deep)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "depth" in error["message"]


def test_too_many_aliases(make_client: AppFactory) -> None:
    client = make_client(max_aliases=3)
    aliases = " ".join(f"a{i}: scopes(first: 1) {{ totalCount }}" for i in range(4))
    error = client.error(f"{{ {aliases} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "alias" in error["message"].lower()
    ok = " ".join(f"a{i}: scopes(first: 1) {{ totalCount }}" for i in range(3))
    assert "errors" not in client.post(f"{{ {ok} }}")


def test_too_many_tokens(make_client: AppFactory) -> None:
    client = make_client(max_tokens=50)
    fields = " ".join(["shortName"] * 60)
    error = client.error(f"{{ sites {{ nodes {{ {fields} }} }} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "token" in error["message"].lower()


def test_internal_errors_are_masked_and_logged_with_the_request_id(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from domains.topology import service

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    monkeypatch.setattr(service, "list_scopes", broken)
    with caplog.at_level(logging.ERROR, logger="opsgraph.errors"):
        response = gql.client.post("/graphql", json={"query": "{ scopes { totalCount } }"})
    body = response.json()
    error = body["errors"][0]
    request_id = response.headers["x-request-id"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "secret" not in response.text
    assert request_id in error["message"]
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged
    assert "secret connection string" in str(logged[0].exc_info[1])  # type: ignore[index]


def test_request_id_is_taken_from_a_sane_header(gql: GraphQLClient) -> None:
    response = gql.client.post(
        "/graphql", json={"query": "{ scopes { totalCount } }"}, headers={"x-request-id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    evil = gql.client.post(
        "/graphql", json={"query": "{ scopes { totalCount } }"}, headers={"x-request-id": 'a b"c'}
    )
    assert evil.headers["x-request-id"] != 'a b"c'
