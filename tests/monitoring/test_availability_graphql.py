"""The `availability` query over GraphQL: public, per day and per period, undefined as null,
bad arguments as errors naming the field and the rule."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from domains.monitoring.service import availability as svc
from tests.conftest import GraphQLClient
from tests.monitoring.test_availability_service import DAY, add_result, at, world

__all__ = ["world"]  # the fixture, imported for pytest

QUERY = """
query ($report: String!, $level: AvailabilityLevel!, $name: String, $from: Date!, $to: Date!,
       $granularity: AvailabilityGranularity! = DAILY) {
  availability(report: $report, level: $level, name: $name, from: $from, to: $to,
               granularity: $granularity) {
    nodes {
      level name parent serviceType start end availability reliability uptime unknown downtime
    }
  }
}
"""


def test_anyone_reads_a_reports_availability(
    session: Session, world: dict[str, Any], gql: GraphQLClient
) -> None:
    second = DAY + dt.timedelta(days=1)
    add_result(session, world, at(DAY, 0), "OK")
    add_result(session, world, at(second, 12), "CRITICAL")
    for day in (DAY, second):
        svc.compute_report_day(session, "ar-test-report", day)
    session.flush()
    variables: dict[str, Any] = {
        "report": "ar-test-report",
        "level": "ENDPOINT",
        "name": world["host"],
        "from": DAY.isoformat(),
        "to": second.isoformat(),
    }
    body = gql.post(QUERY, variables)
    assert "errors" not in body
    days = body["data"]["availability"]["nodes"]
    assert [(d["start"], d["availability"], d["uptime"]) for d in days] == [
        (DAY.isoformat(), 100.0, 1.0),
        (second.isoformat(), 50.0, 0.5),
    ]
    assert days[0]["serviceType"] == world["stype"]
    assert days[0]["parent"] == world["site"]
    [custom] = gql.post(QUERY, {**variables, "granularity": "CUSTOM"})["data"]["availability"][
        "nodes"
    ]
    assert custom["availability"] == 0.75 / 1.00000001 * 100
    assert (custom["start"], custom["end"]) == (DAY.isoformat(), second.isoformat())
    # the other endpoints of the type had no data: undefined is null
    everyone = gql.post(QUERY, {**variables, "name": None})["data"]["availability"]["nodes"]
    assert any(d["availability"] is None for d in everyone)


PAGED = """
query ($report: String!, $name: String, $from: Date!, $to: Date!, $after: String) {
  availability(report: $report, level: ENDPOINT, name: $name, from: $from, to: $to,
               first: 1, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } nodes { start }
  }
}
"""


def test_availability_pages_like_every_connection(
    session: Session, world: dict[str, Any], gql: GraphQLClient
) -> None:
    """A computed list pages with first/after as the stored ones do: its order kept, the
    cursors standing for positions in it; a malformed cursor is refused by name."""
    second = DAY + dt.timedelta(days=1)
    add_result(session, world, at(DAY, 0), "OK")
    for day in (DAY, second):
        svc.compute_report_day(session, "ar-test-report", day)
    session.flush()
    variables: dict[str, Any] = {
        "report": "ar-test-report",
        "name": world["host"],
        "from": DAY.isoformat(),
        "to": second.isoformat(),
    }
    first = gql.post(PAGED, variables)["data"]["availability"]
    assert first["totalCount"] == 2
    assert first["nodes"] == [{"start": DAY.isoformat()}]
    assert first["pageInfo"]["hasNextPage"]
    assert not first["pageInfo"]["hasPreviousPage"]
    after = first["pageInfo"]["endCursor"]
    rest = gql.post(PAGED, {**variables, "after": after})["data"]["availability"]
    assert rest["nodes"] == [{"start": second.isoformat()}]
    assert rest["pageInfo"]["hasPreviousPage"]
    assert not rest["pageInfo"]["hasNextPage"]
    [error] = gql.post(PAGED, {**variables, "after": "nope"})["errors"]
    assert error["extensions"]["field"] == "after"


def test_bad_arguments_name_the_field(world: dict[str, Any], gql: GraphQLClient) -> None:
    variables: dict[str, Any] = {
        "report": "ar-test-report",
        "level": "SITE",
        "from": DAY.isoformat(),
        "to": (DAY - dt.timedelta(days=1)).isoformat(),
    }
    [error] = gql.post(QUERY, variables)["errors"]
    assert error["extensions"]["rule"] == "MONITORING_PERIOD_REVERSED"
    assert error["extensions"]["field"] == "to"
    [error] = gql.post(QUERY, {**variables, "report": "nope", "to": DAY.isoformat()})["errors"]
    assert error["extensions"]["rule"] == "MONITORING_REPORT_UNKNOWN"
