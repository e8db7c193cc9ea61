"""The availability export (`/monitoring/availability.csv` and `.json`): the numbers the
availability service gives (the GraphQL `availability` query's), per day and per custom
period, an undefined value empty (CSV) or null (JSON); bad parameters are 400 naming the
parameter and rule, a key that is not valid 401."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.identity import ANONYMOUS
from domains.monitoring.models import ArLevel
from domains.monitoring.service import availability as svc
from domains.monitoring.service import availability_periods as periods
from tests.conftest import AppFactory
from tests.monitoring import test_availability_service as base
from tests.monitoring.test_availability_service import DAY, add_result, at

world = base.world  # the fixture
SECOND = DAY + dt.timedelta(days=1)


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def http(make_client: AppFactory, session: Session, world: dict[str, Any]) -> TestClient:
    add_result(session, world, at(DAY, 0), "OK")  # DAY: A = 100
    add_result(session, world, at(SECOND, 12), "CRITICAL")  # SECOND: A = 50
    for day in (DAY, SECOND):
        svc.compute_report_day(session, "ar-test-report", day)
    session.commit()
    client: TestClient = make_client().client
    return client


def _params(world: dict[str, Any], **more: str) -> dict[str, str]:
    return {
        "report": "ar-test-report",
        "level": "endpoint",
        "name": world["host"],
        "from": DAY.isoformat(),
        "to": SECOND.isoformat(),
        **more,
    }


def test_csv_and_json_give_the_services_numbers(
    http: TestClient, session: Session, world: dict[str, Any]
) -> None:
    response = http.get("/monitoring/availability.csv", params=_params(world))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["start"], r["availability"], r["uptime"]) for r in rows] == [
        (DAY.isoformat(), "100.0", "1.0"),
        (SECOND.isoformat(), "50.0", "0.5"),
    ]
    assert (rows[0]["level"], rows[0]["parent"], rows[0]["service_type"]) == (
        "ENDPOINT",
        world["site"],
        world["stype"],
    )
    custom = http.get(
        "/monitoring/availability.json", params=_params(world, granularity="CUSTOM")
    ).json()["availability"]
    [expected] = periods.availability(
        session,
        ANONYMOUS,
        report="ar-test-report",
        level=ArLevel.ENDPOINT,
        name=world["host"],
        start=DAY,
        end=SECOND,
        granularity="custom",
    )
    assert custom == [
        {
            "level": "ENDPOINT",
            "parent": world["site"],
            "serviceType": world["stype"],
            "name": world["host"],
            "start": DAY.isoformat(),
            "end": SECOND.isoformat(),
            "availability": expected.availability,
            "reliability": expected.reliability,
            "uptime": expected.up,
            "unknown": expected.unknown,
            "downtime": expected.down,
        }
    ]
    # every endpoint of the type: the others had no data, undefined (empty, null)
    everyone = http.get("/monitoring/availability.csv", params={**_params(world), "name": ""}).text
    others = [r for r in csv.DictReader(io.StringIO(everyone)) if r["name"] != world["host"]]
    assert {r["availability"] for r in others} <= {""}
    nulls = http.get("/monitoring/availability.json", params={**_params(world), "name": ""}).json()[
        "availability"
    ]
    assert {r["availability"] for r in nulls if r["name"] != world["host"]} <= {None}


@pytest.mark.parametrize(
    ("change", "parameter", "rule"),
    [
        ({"report": ""}, "report", "EXPORT_PARAMETER_REQUIRED"),
        ({"level": "planet"}, "level", "EXPORT_LEVEL_UNKNOWN"),
        ({"from": "10/05/2025"}, "from", "EXPORT_DATE_INVALID"),
        ({"colour": "red"}, "colour", "EXPORT_PARAMETER_UNKNOWN"),
        ({"report": "no-such-report"}, "report", "MONITORING_REPORT_UNKNOWN"),
        ({"granularity": "weekly"}, "granularity", "MONITORING_GRANULARITY_UNKNOWN"),
        ({"to": "2025-05-01"}, "to", "MONITORING_PERIOD_REVERSED"),
    ],
)
def test_bad_parameters_are_400_naming_them(
    http: TestClient, world: dict[str, Any], change: dict[str, str], parameter: str, rule: str
) -> None:
    response = http.get("/monitoring/availability.json", params=_params(world, **change))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["parameter"], error["rule"]) == (parameter, rule)


def test_a_repeated_parameter_and_a_bad_key(http: TestClient, world: dict[str, Any]) -> None:
    repeated = http.get(
        "/monitoring/availability.csv?report=a&report=b&level=SITE&from=2025-05-10&to=2025-05-10"
    )
    assert repeated.json()["error"]["rule"] == "EXPORT_PARAMETER_REPEATED"
    refused = http.get(
        "/monitoring/availability.csv", params=_params(world), headers={"x-api-key": "nope"}
    )
    assert refused.status_code == 401
