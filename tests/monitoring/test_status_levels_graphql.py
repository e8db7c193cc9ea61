"""The `status` query and the `status` fields of NGI, Site, Service and Endpoint over
GraphQL, on tests/monitoring/levels_world.py (both backends): public, batched through the
request's loaders, bad arguments as errors naming the field and the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import AppFactory, GraphQLClient, StatementCounter
from tests.gateway.response_cache import cached_at
from tests.monitoring import levels_world as w

STATUS = """
query ($report: String!, $level: AvailabilityLevel!, $name: String, $site: String, $day: Date) {
  status(report: $report, level: $level, name: $name, site: $site, day: $day) {
    report level name site ngi serviceType day until status points { timestamp status }
  }
}
"""

TREE = """
query ($report: String!, $day: Date) {
  ngi(name: "NGI_LVL") {
    status(report: $report, day: $day) { status }
    sites {
      shortName
      status(report: $report, day: $day) { status points { timestamp status } }
      services {
        hostName
        status(report: $report, day: $day) { status serviceType }
        endpoints { name status(report: $report, day: $day) { status } }
      }
    }
  }
}
"""


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    return w.build(session)


@pytest.fixture
def at_eleven(make_client: AppFactory) -> GraphQLClient:
    """An anonymous client whose clock reads DAY 11:00 (today, for the status)."""
    return make_client(clock=lambda: w.at(11))


def test_anyone_reads_a_levels_timelines(world: dict[str, Any], gql: GraphQLClient) -> None:
    data = gql.data(STATUS, {"report": w.REPORT, "level": "SITE", "day": w.DAY.isoformat()})
    sites = {s["name"]: s for s in data["status"]}
    assert sorted(sites) == ["LVL-A", "LVL-B", "LVL-C"]
    b = sites["LVL-B"]
    assert (b["report"], b["level"], b["site"], b["ngi"], b["serviceType"]) == (
        w.REPORT,
        "SITE",
        "LVL-B",
        w.NGI_NAME,
        None,
    )
    assert (b["day"], b["until"], b["status"]) == (
        w.DAY.isoformat(),
        "2025-05-10T23:59:59+00:00",
        "OK",
    )
    assert [(p["timestamp"][11:16], p["status"]) for p in b["points"]] == [
        ("00:00", "OK"),
        ("10:00", "CRITICAL"),
        ("12:01", "OK"),
    ]
    assert sites["LVL-C"]["status"] == "MISSING"
    one = gql.data(
        STATUS,
        {
            "report": w.REPORT,
            "level": "ENDPOINT",
            "name": "ce.a.lvl.example.org",
            "day": w.DAY.isoformat(),
        },
    )["status"]
    assert [(e["name"], e["serviceType"], e["status"]) for e in one] == [
        ("ce.a.lvl.example.org", w.COMPUTE, "CRITICAL")
    ]
    services = gql.data(
        STATUS,
        {
            "report": w.REPORT,
            "level": "SERVICE",
            "name": w.COMPUTE,
            "site": "LVL-B",
            "day": w.DAY.isoformat(),
        },
    )["status"]
    assert [(s["site"], s["name"], s["status"]) for s in services] == [("LVL-B", w.COMPUTE, "OK")]
    groups = gql.data(
        STATUS, {"report": w.REPORT, "level": "GROUP", "name": "storage", "day": w.DAY.isoformat()}
    )["status"]
    assert [(g["site"], g["status"]) for g in groups] == [("LVL-A", "OK"), ("LVL-C", "MISSING")]
    [ngi] = gql.data(STATUS, {"report": w.REPORT, "level": "SUPERGROUP", "day": w.DAY.isoformat()})[
        "status"
    ]
    assert (ngi["name"], ngi["site"], ngi["status"]) == (w.NGI_NAME, None, "CRITICAL")


def test_today_is_up_to_now(world: dict[str, Any], at_eleven: GraphQLClient) -> None:
    [b] = at_eleven.data(STATUS, {"report": w.REPORT, "level": "SITE", "name": "LVL-B"})["status"]
    assert (b["day"], b["until"][:16], b["status"]) == (
        w.DAY.isoformat(),
        "2025-05-10T11:00",
        "CRITICAL",
    )
    assert [p["status"] for p in b["points"]] == ["OK", "CRITICAL"]


def test_topology_fields_through_loaders(
    world: dict[str, Any], at_eleven: GraphQLClient, statements: StatementCounter
) -> None:
    variables = {"report": w.REPORT}
    statements.reset()
    ngi = at_eleven.data(TREE, variables)["ngi"]
    assert ngi["status"] == {"status": "CRITICAL"}
    sites = {s["shortName"]: s for s in ngi["sites"]}
    assert {name: s["status"]["status"] for name, s in sites.items()} == {
        "LVL-A": "CRITICAL",
        "LVL-B": "CRITICAL",
        "LVL-C": "DOWNTIME",
    }
    services = {svc["hostName"]: svc for s in ngi["sites"] for svc in s["services"]}
    assert services["ce2.b.lvl.example.org"]["status"] == {
        "status": "DOWNTIME",
        "serviceType": w.COMPUTE,
    }
    assert services["se.c.lvl.example.org"]["status"]["status"] == "DOWNTIME"
    assert services["ce2.b.lvl.example.org"]["endpoints"] == [
        {"name": "ce2-ep", "status": {"status": "DOWNTIME"}}
    ]
    # one computation per level (NGI, sites, services), whatever the number of sites and
    # services: each reads the two days' change points in one statement (`day_results`)
    reads = [s for s in statements.statements if "monitoring_change_point" in s]
    assert len(reads) == 3
    # the demo federation's sites are not in this report: null
    other = at_eleven.data(
        '{ sites(first: 1) { edges { node { status(report: "lvl-report") { status } } } } }'
    )
    assert other["sites"]["edges"][0]["node"]["status"] is None


def test_bad_arguments_name_the_field(world: dict[str, Any], at_eleven: GraphQLClient) -> None:
    error = at_eleven.error(
        STATUS,
        {"report": w.REPORT, "level": "SITE", "day": (w.DAY + dt.timedelta(days=1)).isoformat()},
    )
    assert (error["extensions"]["field"], error["extensions"]["rule"]) == (
        "day",
        "MONITORING_DAY_IN_FUTURE",
    )
    error = at_eleven.error(STATUS, {"report": "nope", "level": "SITE"})
    assert error["extensions"]["rule"] == "MONITORING_REPORT_UNKNOWN"


def test_a_past_days_status_is_kept_and_todays_is_not(
    world: dict[str, Any], session: Session, make_client: AppFactory, statements: StatementCounter
) -> None:
    """In the response cache (gateway/cache.py): a past day's timelines no longer change with
    time, so its answer is kept (through the `status` query and the topology's fields);
    today's reach `now` (`until`) and are read again every time."""
    session.commit()
    moment = [w.at(23, 59)]
    client = cached_at(make_client, moment)
    variables = {"report": w.REPORT, "level": "SITE", "name": "LVL-B", "day": w.DAY.isoformat()}

    def read() -> str:
        [b] = client.data(STATUS, variables)["status"]
        return str(b["until"])

    assert read().startswith("2025-05-10T23:59:00")
    statements.reset()
    assert read().startswith("2025-05-10T23:59:00")  # today: never kept
    assert statements.count > 0
    moment[0] = w.at(0, day=w.DAY + dt.timedelta(days=1))  # the day is past now
    assert read() == "2025-05-10T23:59:59+00:00"
    statements.reset()
    assert read() == "2025-05-10T23:59:59+00:00"  # kept
    assert statements.count == 0
    tree = {"report": w.REPORT, "day": w.DAY.isoformat()}
    first = client.data(TREE, tree)
    statements.reset()
    assert client.data(TREE, tree) == first  # kept too (the fields' loaders)
    assert statements.count == 0
