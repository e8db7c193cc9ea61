"""Reading downtimes: every filter of `downtimes` (overlap semantics for windows), the
downtimes of sites and services, `inDowntimeAt`, paging, and statement counts that do not
grow with the page size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.downtimes import service as downtimes
from domains.downtimes.models import Severity
from domains.topology.service import writes
from tests.conftest import Callers, GraphQLClient, StatementCounter
from tests.downtimes.conftest import NOW, SiteFixture
from tests.identity.helpers import global_id

H = timedelta(hours=1)


@dataclass(frozen=True)
class World:
    ids: dict[str, str]  # name -> global id
    hosts: tuple[str, str]
    other_host: str
    types: dict[int, str]  # service id -> type name
    country: str
    other_country: str


def _make(
    session: Session, services: list[int], severity: Severity, start: timedelta, end: timedelta
) -> str:
    made = downtimes.declare_downtime(
        session,
        PLATFORM,
        declaration=downtimes.Declaration(
            service_ids=services,
            severity=severity,
            starts_at=NOW + start,
            ends_at=NOW + end,
            description="Planned intervention",
        ),
        now=NOW,
    )
    return global_id("Downtime", pk(made))


@pytest.fixture
def world(session: Session, target: SiteFixture) -> World:
    s0, s1 = target.service_ids
    other = target.other_service_id
    ids = {
        "A": _make(session, [s0, s1], Severity.OUTAGE, -H, 5 * H),
        "B": _make(session, [s1], Severity.WARNING, 48 * H, 50 * H),
        "C": _make(session, [other], Severity.OUTAGE, -40 * H, -30 * H),
        "D": _make(session, [other], Severity.WARNING, 2 * H, 3 * H),
    }
    vo = writes.set_property
    vo(session, PLATFORM, kind="service", owner_id=s1, key="vo", value="dt-test-vo, other.vo")
    vo(session, PLATFORM, kind="site", owner_id=target.site_id, key="dt_key", value="x")
    vo(session, PLATFORM, kind="service", owner_id=other, key="dt_key", value="y")
    scope = writes.create_scope(session, PLATFORM, name="dt_scope")
    writes.tag_scopes(session, PLATFORM, kind="service", owner_id=other, scope_ids=[pk(scope)])
    session.commit()
    rows = session.execute(
        text(
            "SELECT sv.id, sv.host_name, t.name, c.code FROM service sv "
            "JOIN service_type t ON t.id = sv.service_type_id JOIN site s ON s.id = sv.site_id "
            "JOIN country c ON c.id = s.country_id WHERE sv.id IN (:a, :b, :c)"
        ),
        {"a": s0, "b": s1, "c": other},
    ).all()
    info = {r[0]: r for r in rows}
    return World(
        ids=ids,
        hosts=(info[s0][1], info[s1][1]),
        other_host=info[other][1],
        types={r[0]: r[2] for r in rows},
        country=info[s0][3],
        other_country=info[other][3],
    )


LIST = """
query($f: DowntimeFilter, $first: Int, $after: String) {
  downtimes(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}
"""


def _names(client: GraphQLClient, world: World, filter: dict[str, Any]) -> set[str]:
    data = client.data(LIST, {"f": filter, "first": 100})["downtimes"]
    by_id = {v: k for k, v in world.ids.items()}
    found = {by_id[n["id"]] for n in data["nodes"]}
    assert data["totalCount"] == len(found)
    return found


def _expected_by_type(world: World, target: SiteFixture, type_name: str) -> set[str]:
    s0, s1 = target.service_ids
    members = {
        "A": [s0, s1],
        "B": [s1],
        "C": [target.other_service_id],
        "D": [target.other_service_id],
    }
    return {
        k for k, services in members.items() if any(world.types[s] == type_name for s in services)
    }


def test_each_filter(clocked: Callers, world: World, target: SiteFixture, session: Session) -> None:
    c = clocked.anonymous
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({}, {"A", "B", "C", "D"}),
        ({"ongoing": True}, {"A"}),
        ({"ongoing": False}, {"B", "C", "D"}),
        ({"upcoming": True}, {"B", "D"}),
        ({"upcoming": False}, {"A", "C"}),
        (
            {"windowStart": (NOW - 35 * H).isoformat(), "windowEnd": (NOW - 31 * H).isoformat()},
            {"C"},
        ),
        (
            {
                "windowStart": (NOW + 2 * H).isoformat(),
                "windowEnd": (NOW + 2 * H + timedelta(seconds=1)).isoformat(),
            },
            {"A", "D"},
        ),
        # touching is not overlapping: D ends when the window starts
        ({"windowStart": (NOW + 3 * H).isoformat(), "windowEnd": (NOW + 4 * H).isoformat()}, {"A"}),
        ({"windowEnd": (NOW - 40 * H).isoformat()}, set()),
        ({"severity": ["OUTAGE"]}, {"A", "C"}),
        ({"severity": ["WARNING"]}, {"B", "D"}),
        ({"classification": ["SCHEDULED"]}, {"B"}),
        ({"site": [target.site]}, {"A", "B"}),
        ({"site": [target.site, target.other_site]}, {"A", "B", "C", "D"}),
        ({"ngi": [target.ngi]}, {"A", "B"}),
        ({"topEntity": [world.hosts[0]]}, {"A"}),
        ({"topEntity": [world.hosts[1]]}, {"A", "B"}),
        ({"topEntity": [target.other_site]}, {"C", "D"}),
        ({"topEntity": [target.ngi]}, {"A", "B"}),
        ({"hostName": [world.hosts[0]]}, {"A"}),
        ({"hostName": [world.other_host], "severity": ["WARNING"]}, {"D"}),
        ({"vo": ["dt-test-vo"]}, {"A", "B"}),
        ({"vo": ["dt-test"]}, set()),
        ({"siteProperties": {"key": "dt_key"}}, {"A", "B"}),
        ({"siteProperties": {"key": "dt_key", "value": "nope"}}, set()),
        ({"serviceProperties": {"key": "dt_key"}}, {"C", "D"}),
        ({"scopes": ["dt_scope"]}, {"C", "D"}),
        ({"scopes": []}, {"A", "B", "C", "D"}),
    ]
    for filter, expected in cases:
        assert _names(c, world, filter) == expected, filter
    for type_name in set(world.types.values()):
        expected = _expected_by_type(world, target, type_name)
        assert _names(c, world, {"serviceType": [type_name]}) == expected
    country_sites = set(
        session.execute(
            text(
                "SELECT s.short_name FROM site s JOIN country c ON c.id = s.country_id "
                "WHERE c.code = :c"
            ),
            {"c": world.country},
        ).scalars()
    )
    expected_country = {"A", "B"} | ({"C", "D"} if target.other_site in country_sites else set())
    assert _names(c, world, {"country": [world.country]}) == expected_country
    assert _names(c, world, {"topEntity": [world.country]}) == expected_country
    flags: dict[int, bool] = dict(
        session.execute(
            text("SELECT id, production FROM service WHERE id IN (:a, :b, :c)"),
            {"a": target.service_ids[0], "b": target.service_ids[1], "c": target.other_service_id},
        ).all()
    )
    members = {
        "A": target.service_ids,
        "B": (target.service_ids[1],),
        "C": (target.other_service_id,),
        "D": (target.other_service_id,),
    }
    for wanted in (True, False):
        expected = {k for k, ss in members.items() if any(bool(flags[s]) is wanted for s in ss)}
        assert _names(c, world, {"production": wanted}) == expected


def test_bad_filters_name_the_field(clocked: Callers, world: World) -> None:
    for filter, field in [
        ({"windowStart": "2026-12-01T00:00:00"}, "filter.windowStart"),
        ({"windowStart": NOW.isoformat(), "windowEnd": (NOW - H).isoformat()}, "filter.windowEnd"),
        ({"siteProperties": {}}, "filter.siteProperties"),
    ]:
        error = clocked.anonymous.error(LIST, {"f": filter})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == field


def test_paging_and_lookup_by_key(clocked: Callers, world: World) -> None:
    c = clocked.anonymous
    seen: list[str] = []
    after = None
    while True:
        page = c.data(LIST, {"f": {}, "first": 3, "after": after})["downtimes"]
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(world.ids.values())
    one = c.data("query($id: ID!) { downtime(id: $id) { primaryKey } }", {"id": world.ids["B"]})[
        "downtime"
    ]
    by_key = c.data(
        "query($k: String!) { downtime(primaryKey: $k) { id } }", {"k": one["primaryKey"]}
    )["downtime"]
    assert by_key["id"] == world.ids["B"]
    node = c.data(
        "query($id: ID!) { node(id: $id) { ... on Downtime { id } } }", {"id": world.ids["C"]}
    )
    assert node["node"]["id"] == world.ids["C"]


def test_site_and_service_downtimes_and_in_downtime_at(
    clocked: Callers, world: World, target: SiteFixture, session: Session
) -> None:
    c = clocked.anonymous
    site = c.data(
        "query($s: String!) { site(shortName: $s) { downtimes { id } } }", {"s": target.site}
    )["site"]
    assert [d["id"] for d in site["downtimes"]] == [world.ids["A"], world.ids["B"]]
    query = """
    query($id: ID!, $now: DateTime!, $later: DateTime!) { service(id: $id) {
      downtimes { id }
      now: inDowntimeAt(time: $now)
      nowWarning: inDowntimeAt(time: $now, severity: [WARNING])
      later: inDowntimeAt(time: $later)
    } }
    """
    times = {"now": NOW.isoformat(), "later": (NOW + 49 * H).isoformat()}
    s0 = c.data(query, {"id": target.services[0], **times})["service"]
    assert s0 == {
        "downtimes": [{"id": world.ids["A"]}],
        "now": True,
        "nowWarning": False,
        "later": False,
    }
    s1 = c.data(query, {"id": target.services[1], **times})["service"]
    assert s1["later"] is True
    # partial ending: the first service leaves A, the second stays in it
    downtimes.end_downtime_services(
        session,
        PLATFORM,
        downtime_id=int(_pk(world.ids["A"])),
        service_ids=[target.service_ids[0]],
        now=NOW,
    )
    session.commit()
    soon = {"now": (NOW + 2 * timedelta(minutes=1)).isoformat(), "later": times["later"]}
    assert c.data(query, {"id": target.services[0], **soon})["service"]["now"] is False
    assert c.data(query, {"id": target.services[1], **soon})["service"]["now"] is True


def _pk(global_id_: str) -> int:
    from domains.common.graphql import from_global_id

    return from_global_id(global_id_)[1]


NESTED = """
query($first: Int!) {
  downtimes(first: $first) { nodes {
    id severity ongoing
    site { shortName ngi { name } downtimes { id } }
    services {
      hostName type { name } downtimes { id } inDowntimeAt(time: "2026-12-01T12:00:00+00:00")
    }
    endpoints { name service { hostName } }
    affectedServices { service { hostName } }
  } }
}
"""


SITES = """
query($first: Int!) {
  sites(first: $first, filter: {scopes: []}) { nodes {
    downtimes { id services { hostName downtimes { id } } }
    services { downtimes { id } }
  } }
}
"""


def test_statements_do_not_grow_with_the_page_size(
    clocked: Callers, session: Session, target: SiteFixture, statements: StatementCounter
) -> None:
    for i in range(12):
        _make(session, [target.service_ids[i % 2]], Severity.OUTAGE, (i + 1) * H, (i + 2) * H)
    downtimes.declare_downtime(
        session,
        PLATFORM,
        declaration=downtimes.Declaration(
            service_ids=[target.service_ids[0]],
            endpoint_ids=[target.endpoint_ids[0]],
            severity=Severity.WARNING,
            starts_at=NOW,
            ends_at=NOW + H,
            description="One endpoint",
        ),
        now=NOW,
    )
    session.commit()
    for query in (NESTED, SITES):
        counts = {}
        for size in (1, 100):
            statements.reset()
            clocked.anonymous.data(query, {"first": size})
            counts[size] = statements.count
        assert counts[1] == counts[100], (query, counts)


def test_each_downtime_enum_is_one_graphql_type() -> None:
    """A plain Python enum met before its strawberry.enum() call becomes a second GraphQL
    type under the class's own name; the schema must carry only the named ones."""
    from gateway.schema import export_sdl

    sdl = export_sdl()
    for plain in ("Severity", "Classification", "Channel", "NotificationStatus", "EventKind"):
        assert f"enum {plain} {{" not in sdl
    for named in (
        "DowntimeSeverity",
        "DowntimeClassification",
        "DowntimeEventKind",
        "DowntimeNotificationChannel",
        "DowntimeNotificationStatus",
    ):
        assert sdl.count(f"enum {named} {{") == 1
