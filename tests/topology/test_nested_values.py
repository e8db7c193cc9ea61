"""Each nested field returns exactly what the tables hold (checked with plain SQL)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, text

from tests.conftest import GraphQLClient
from tests.topology.paging import walk


def pairs(connection: Connection, sql: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for owner, value in connection.execute(text(sql)):
        out[owner].add(value)
    return dict(out)


def test_ngi_sites_scopes_and_projects(gql: GraphQLClient, connection: Connection) -> None:
    ngis = walk(
        gql, "ngis", "name sites { shortName } scopes { name } projects { name ngis { name } }"
    )
    got_sites = {n["name"]: {s["shortName"] for s in n["sites"]} for n in ngis if n["sites"]}
    assert got_sites == pairs(
        connection, "SELECT n.name, s.short_name FROM site s JOIN ngi n ON n.id = s.ngi_id"
    )
    got_scopes = {n["name"]: {s["name"] for s in n["scopes"]} for n in ngis if n["scopes"]}
    assert got_scopes == pairs(
        connection,
        "SELECT n.name, c.name FROM ngi_scope l JOIN ngi n ON n.id = l.ngi_id "
        "JOIN scope c ON c.id = l.scope_id",
    )
    got_projects = {n["name"]: {p["name"] for p in n["projects"]} for n in ngis if n["projects"]}
    assert got_projects == pairs(
        connection,
        "SELECT n.name, p.name FROM project_ngi l JOIN ngi n ON n.id = l.ngi_id "
        "JOIN project p ON p.id = l.project_id",
    )
    for ngi in ngis:
        for project in ngi["projects"]:
            assert ngi["name"] in {n["name"] for n in project["ngis"]}


def test_service_group_members_scopes_and_properties(
    gql: GraphQLClient, connection: Connection
) -> None:
    groups = walk(
        gql,
        "serviceGroups",
        "name services { hostName } scopes { name } properties { key value }",
        filter_type="ServiceGroupFilter",
        filter_value={"scopes": []},
    )
    assert groups
    members = {g["name"]: {s["hostName"] for s in g["services"]} for g in groups if g["services"]}
    assert members == pairs(
        connection,
        "SELECT g.name, s.host_name FROM service_group_member m "
        "JOIN service_group g ON g.id = m.service_group_id JOIN service s ON s.id = m.service_id",
    )
    props = {
        g["name"]: {f"{p['key']}={p['value']}" for p in g["properties"]}
        for g in groups
        if g["properties"]
    }
    assert props == pairs(
        connection,
        "SELECT g.name, p.key || '=' || p.value FROM service_group_property p "
        "JOIN service_group g ON g.id = p.service_group_id",
    )


def test_service_group_filters(gql: GraphQLClient) -> None:
    groups = walk(
        gql,
        "serviceGroups",
        "name scopes { name } properties { key value }",
        filter_type="ServiceGroupFilter",
        filter_value={"scopes": []},
    )
    name = groups[0]["name"]
    by_name = walk(
        gql,
        "serviceGroups",
        "name",
        filter_type="ServiceGroupFilter",
        filter_value={"name": [name], "scopes": []},
    )
    assert [g["name"] for g in by_name] == [name]
    key = next(p["key"] for g in groups for p in g["properties"])
    with_key = walk(
        gql,
        "serviceGroups",
        "name",
        filter_type="ServiceGroupFilter",
        filter_value={"properties": {"key": key}, "scopes": []},
    )
    assert [g["name"] for g in with_key] == [
        g["name"] for g in groups if key in {p["key"] for p in g["properties"]}
    ]


def test_site_and_endpoint_properties_and_service_scopes(
    gql: GraphQLClient, connection: Connection
) -> None:
    sites = walk(
        gql,
        "sites",
        "shortName scopes { name reserved } properties { key value } "
        "services { hostName scopes { name } endpoints { name properties { key value } } }",
        filter_type="SiteFilter",
        filter_value={"scopes": []},
    )
    site_props = {
        s["shortName"]: {f"{p['key']}={p['value']}" for p in s["properties"]}
        for s in sites
        if s["properties"]
    }
    assert site_props == pairs(
        connection,
        "SELECT s.short_name, p.key || '=' || p.value FROM site_property p "
        "JOIN site s ON s.id = p.site_id",
    )
    endpoint_props = defaultdict(set)
    for site in sites:
        for svc in site["services"]:
            for ep in svc["endpoints"]:
                for p in ep["properties"]:
                    endpoint_props[f"{svc['hostName']}/{ep['name']}"].add(
                        f"{p['key']}={p['value']}"
                    )
    assert dict(endpoint_props) == pairs(
        connection,
        "SELECT v.host_name || '/' || e.name, p.key || '=' || p.value FROM endpoint_property p "
        "JOIN endpoint e ON e.id = p.endpoint_id JOIN service v ON v.id = e.service_id",
    )
    reserved = {c["name"]: c["reserved"] for s in sites for c in s["scopes"]}
    db_reserved: dict[str, object] = {}
    for name, flag in connection.execute(text("SELECT name, reserved FROM scope")):
        db_reserved[name] = flag
    assert reserved == {name: bool(db_reserved[name]) for name in reserved}
    service_scopes: dict[str, set[str]] = defaultdict(set)
    for site in sites:
        for svc in site["services"]:
            service_scopes[svc["hostName"]].update(c["name"] for c in svc["scopes"])
    expected = pairs(
        connection,
        "SELECT v.host_name, c.name FROM service_scope l JOIN service v ON v.id = l.service_id "
        "JOIN scope c ON c.id = l.scope_id",
    )
    assert {k: v for k, v in service_scopes.items() if v} == expected
