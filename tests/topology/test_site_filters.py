"""Every filter of `sites` against an oracle: all sites fetched unfiltered, filtered in Python."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import AppFactory, GraphQLClient
from tests.topology.paging import walk

SITE_FIELDS = """
  shortName certificationStatus productionInfrastructure
  ngi { name } country { code name }
  scopes { name } properties { key value }
"""

Site = dict[str, Any]


@pytest.fixture
def all_sites(gql: GraphQLClient) -> list[Site]:
    sites = walk(gql, "sites", SITE_FIELDS, filter_type="SiteFilter", filter_value={"scopes": []})
    assert len(sites) >= 30
    return sites


def query_sites(gql: GraphQLClient, site_filter: dict[str, Any]) -> list[str]:
    nodes = walk(gql, "sites", "shortName", filter_type="SiteFilter", filter_value=site_filter)
    return [n["shortName"] for n in nodes]


def scope_names(site: Site) -> set[str]:
    return {s["name"] for s in site["scopes"]}


def props(site: Site) -> dict[str, str]:
    return {p["key"]: p["value"] for p in site["properties"]}


def assert_filter(
    gql: GraphQLClient,
    all_sites: list[Site],
    site_filter: dict[str, Any],
    keep: Callable[[Site], bool],
) -> None:
    expected = [s["shortName"] for s in all_sites if keep(s)]
    # A filter test only means something if the filter removes some sites and keeps others.
    assert 0 < len(expected) < len(all_sites), f"demo data does not exercise {site_filter}"
    assert query_sites(gql, site_filter) == expected


def test_filter_by_ngi(gql: GraphQLClient, all_sites: list[Site]) -> None:
    ngi = all_sites[0]["ngi"]["name"]
    assert_filter(gql, all_sites, {"ngi": [ngi], "scopes": []}, lambda s: s["ngi"]["name"] == ngi)


def test_filter_by_country_code_and_name(gql: GraphQLClient, all_sites: list[Site]) -> None:
    a, b = all_sites[0]["country"], all_sites[-1]["country"]
    assert a["code"] != b["code"]
    assert_filter(
        gql,
        all_sites,
        {"country": [a["code"], b["name"]], "scopes": []},
        lambda s: s["country"]["code"] in {a["code"], b["code"]},
    )


@pytest.mark.parametrize("status", ["CANDIDATE", "UNCERTIFIED", "CERTIFIED", "SUSPENDED", "CLOSED"])
def test_filter_by_certification_status(
    gql: GraphQLClient, all_sites: list[Site], status: str
) -> None:
    assert_filter(
        gql,
        all_sites,
        {"certificationStatus": [status], "scopes": []},
        lambda s: s["certificationStatus"] == status,
    )


def test_exclude_certification_status(gql: GraphQLClient, all_sites: list[Site]) -> None:
    excluded = {"CLOSED", "SUSPENDED"}
    assert_filter(
        gql,
        all_sites,
        {"excludeCertificationStatus": sorted(excluded), "scopes": []},
        lambda s: s["certificationStatus"] not in excluded,
    )


def test_include_and_exclude_combine(gql: GraphQLClient, all_sites: list[Site]) -> None:
    assert_filter(
        gql,
        all_sites,
        {
            "certificationStatus": ["CERTIFIED", "CLOSED"],
            "excludeCertificationStatus": ["CLOSED"],
            "scopes": [],
        },
        lambda s: s["certificationStatus"] == "CERTIFIED",
    )


@pytest.mark.parametrize("infrastructure", ["PRODUCTION", "TEST"])
def test_filter_by_production_infrastructure(
    gql: GraphQLClient, all_sites: list[Site], infrastructure: str
) -> None:
    assert_filter(
        gql,
        all_sites,
        {"productionInfrastructure": [infrastructure], "scopes": []},
        lambda s: s["productionInfrastructure"] == infrastructure,
    )


def test_scopes_match_any(gql: GraphQLClient, all_sites: list[Site]) -> None:
    wanted = {"Local", "FedCloud"}
    assert_filter(
        gql,
        all_sites,
        {"scopes": sorted(wanted), "scopeMatch": "ANY"},
        lambda s: bool(scope_names(s) & wanted),
    )


def test_scopes_match_all(gql: GraphQLClient, all_sites: list[Site]) -> None:
    wanted = {"EGI", "wlcg"}
    assert_filter(
        gql,
        all_sites,
        {"scopes": sorted(wanted), "scopeMatch": "ALL"},
        lambda s: wanted <= scope_names(s),
    )


def test_empty_scope_list_means_every_site(gql: GraphQLClient, all_sites: list[Site]) -> None:
    assert query_sites(gql, {"scopes": []}) == [s["shortName"] for s in all_sites]


def test_default_scope_applies_when_no_scope_is_given(
    make_client: AppFactory, all_sites: list[Site]
) -> None:
    from domains.common.scopes import ScopeDefaults, ScopeMatch

    egi_only = make_client(scope_defaults=ScopeDefaults(scopes=("EGI",), match=ScopeMatch.ALL))
    expected = [s["shortName"] for s in all_sites if "EGI" in scope_names(s)]
    assert 0 < len(expected) < len(all_sites)
    assert query_sites(egi_only, {}) == expected
    # An explicit empty list still lifts the default.
    assert query_sites(egi_only, {"scopes": []}) == [s["shortName"] for s in all_sites]


def test_property_equality(gql: GraphQLClient, all_sites: list[Site]) -> None:
    key, value = next(iter(props(next(s for s in all_sites if s["properties"])).items()))
    assert_filter(
        gql,
        all_sites,
        {"scopes": [], "properties": {"key": key, "value": value}},
        lambda s: props(s).get(key) == value,
    )


def test_property_presence(gql: GraphQLClient, all_sites: list[Site]) -> None:
    key = next(iter(props(next(s for s in all_sites if s["properties"]))))
    assert_filter(
        gql, all_sites, {"scopes": [], "properties": {"key": key}}, lambda s: key in props(s)
    )


def _two_property_pairs(all_sites: list[Site]) -> tuple[tuple[str, str], tuple[str, str]]:
    pairs = sorted({(k, v) for s in all_sites for k, v in props(s).items()})
    assert len(pairs) >= 2, "demo data needs at least two distinct site properties"
    return pairs[0], pairs[-1]


def test_property_and_or_not(gql: GraphQLClient, all_sites: list[Site]) -> None:
    (k1, v1), (k2, v2) = _two_property_pairs(all_sites)
    assert_filter(
        gql,
        all_sites,
        {"scopes": [], "properties": {"or": [{"key": k1, "value": v1}, {"key": k2, "value": v2}]}},
        lambda s: props(s).get(k1) == v1 or props(s).get(k2) == v2,
    )
    assert_filter(
        gql,
        all_sites,
        {"scopes": [], "properties": {"not": {"key": k1}}},
        lambda s: k1 not in props(s),
    )
    with_k1 = [s for s in all_sites if k1 in props(s)]
    other_key = next(k for s in with_k1 for k in props(s) if k != k1)
    expected = [s["shortName"] for s in all_sites if k1 in props(s) and other_key not in props(s)]
    got = query_sites(
        gql,
        {"scopes": [], "properties": {"and": [{"key": k1}, {"not": {"key": other_key}}]}},
    )
    assert got == expected


def test_filters_combine_with_and(gql: GraphQLClient, all_sites: list[Site]) -> None:
    ngi = all_sites[0]["ngi"]["name"]
    assert_filter(
        gql,
        all_sites,
        {"ngi": [ngi], "certificationStatus": ["CERTIFIED"], "scopes": []},
        lambda s: s["ngi"]["name"] == ngi and s["certificationStatus"] == "CERTIFIED",
    )


def test_short_name_and_site_lookup(gql: GraphQLClient, all_sites: list[Site]) -> None:
    name = all_sites[3]["shortName"]
    assert query_sites(gql, {"shortName": [name], "scopes": []}) == [name]
    site = gql.data("query($n: String!) { site(shortName: $n) { shortName } }", {"n": name})["site"]
    assert site == {"shortName": name}
    missing = gql.data('{ site(shortName: "no-such-site") { shortName } }')["site"]
    assert missing is None


def test_invalid_property_filter_names_the_field(gql: GraphQLClient) -> None:
    error = gql.error(
        '{ sites(filter: {properties: {key: "a", or: [{key: "b"}]}}) { totalCount } }'
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "filter.properties"
