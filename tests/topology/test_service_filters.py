"""Every filter of `services` against an oracle built from the unfiltered list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import AppFactory, GraphQLClient
from tests.topology.paging import walk

SERVICE_FIELDS = """
  id hostName serviceType monitored production beta
  site { shortName ngi { name } country { code } }
  scopes { name } properties { key value }
"""

Svc = dict[str, Any]


@pytest.fixture
def all_services(gql: GraphQLClient) -> list[Svc]:
    services = walk(
        gql,
        "services",
        SERVICE_FIELDS,
        filter_type="ServiceFilter",
        filter_value={"scopes": []},
        page_size=100,
    )
    assert len(services) >= 200
    return services


def query_services(gql: GraphQLClient, service_filter: dict[str, Any]) -> list[str]:
    nodes = walk(
        gql,
        "services",
        "id",
        filter_type="ServiceFilter",
        filter_value=service_filter,
        page_size=100,
    )
    return [n["id"] for n in nodes]


def assert_filter(
    gql: GraphQLClient,
    all_services: list[Svc],
    service_filter: dict[str, Any],
    keep: Callable[[Svc], bool],
) -> None:
    expected = [s["id"] for s in all_services if keep(s)]
    assert 0 < len(expected) < len(all_services), f"demo data does not exercise {service_filter}"
    assert query_services(gql, service_filter) == expected


def props(s: Svc) -> dict[str, str]:
    return {p["key"]: p["value"] for p in s["properties"]}


def test_by_host_name(gql: GraphQLClient, all_services: list[Svc]) -> None:
    host = all_services[5]["hostName"]
    assert_filter(
        gql, all_services, {"hostName": [host], "scopes": []}, lambda s: s["hostName"] == host
    )


def test_by_site_ngi_and_country(gql: GraphQLClient, all_services: list[Svc]) -> None:
    site = all_services[0]["site"]
    assert_filter(
        gql,
        all_services,
        {"site": [site["shortName"]], "scopes": []},
        lambda s: s["site"]["shortName"] == site["shortName"],
    )
    assert_filter(
        gql,
        all_services,
        {"ngi": [site["ngi"]["name"]], "scopes": []},
        lambda s: s["site"]["ngi"]["name"] == site["ngi"]["name"],
    )
    assert_filter(
        gql,
        all_services,
        {"country": [site["country"]["code"]], "scopes": []},
        lambda s: s["site"]["country"]["code"] == site["country"]["code"],
    )


def test_by_service_type(gql: GraphQLClient, all_services: list[Svc]) -> None:
    types = sorted({s["serviceType"] for s in all_services})
    assert len(types) >= 10
    wanted = set(types[:2])
    assert_filter(
        gql,
        all_services,
        {"serviceType": sorted(wanted), "scopes": []},
        lambda s: s["serviceType"] in wanted,
    )


@pytest.mark.parametrize("flag", ["monitored", "production", "beta"])
@pytest.mark.parametrize("value", [True, False])
def test_by_flags(gql: GraphQLClient, all_services: list[Svc], flag: str, value: bool) -> None:
    assert_filter(gql, all_services, {flag: value, "scopes": []}, lambda s: s[flag] is value)


def test_by_scopes(gql: GraphQLClient, all_services: list[Svc]) -> None:
    assert_filter(
        gql,
        all_services,
        {"scopes": ["Local", "FedCloud"], "scopeMatch": "ANY"},
        lambda s: bool({x["name"] for x in s["scopes"]} & {"Local", "FedCloud"}),
    )
    assert_filter(
        gql,
        all_services,
        {"scopes": ["EGI", "wlcg"], "scopeMatch": "ALL"},
        lambda s: {"EGI", "wlcg"} <= {x["name"] for x in s["scopes"]},
    )


def test_default_scope(make_client: AppFactory, all_services: list[Svc]) -> None:
    from domains.common.scopes import ScopeDefaults

    client = make_client(scope_defaults=ScopeDefaults(scopes=("EGI",)))
    expected = [s["id"] for s in all_services if "EGI" in {x["name"] for x in s["scopes"]}]
    assert 0 < len(expected) < len(all_services)
    assert query_services(client, {}) == expected


def test_by_properties(gql: GraphQLClient, all_services: list[Svc]) -> None:
    pairs = sorted({(k, v) for s in all_services for k, v in props(s).items()})
    assert len(pairs) >= 2
    (k1, v1), (k2, _) = pairs[0], pairs[-1]
    assert_filter(
        gql,
        all_services,
        {"scopes": [], "properties": {"key": k1, "value": v1}},
        lambda s: props(s).get(k1) == v1,
    )
    assert_filter(
        gql,
        all_services,
        {"scopes": [], "properties": {"or": [{"key": k1}, {"key": k2}]}},
        lambda s: k1 in props(s) or k2 in props(s),
    )
    assert_filter(
        gql,
        all_services,
        {"scopes": [], "properties": {"not": {"key": k1}}},
        lambda s: k1 not in props(s),
    )


def test_service_by_id_and_primary_key(gql: GraphQLClient, all_services: list[Svc]) -> None:
    wanted = all_services[7]
    by_id = gql.data(
        "query($id: ID!) { service(id: $id) { id hostName primaryKey } }", {"id": wanted["id"]}
    )["service"]
    assert by_id["id"] == wanted["id"]
    assert by_id["hostName"] == wanted["hostName"]
    by_key = gql.data(
        "query($k: String!) { service(primaryKey: $k) { id } }", {"k": by_id["primaryKey"]}
    )["service"]
    assert by_key == {"id": wanted["id"]}
    error = gql.error("{ service { id } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "id"
