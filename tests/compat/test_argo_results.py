"""ARGO's v2 A/R results on the in-process app, over daily A/R stored as the availability
service stores it: ARGO's path forms, nesting and numbers as strings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.monitoring.models import ArLevel, DailyAvailability
from gateway.compat.argo.results import number
from tests.compat.argo import Argo, make_keys, make_profiles, seed_document
from tests.conftest import AppFactory

WINDOW = "start_time=2015-06-22T00:00:00Z&end_time=2015-06-23T23:59:59Z"
D22, D23 = dt.date(2015, 6, 22), dt.date(2015, 6, 23)


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    argo = Argo(make_client().client, make_keys(session))
    ids = make_profiles(argo)
    report = seed_document(
        "critical_report.json",
        date="2015-01-01",
        info={"name": "argo-ar", "description": ""},
        profiles=[{"id": uuid, "type": kind} for kind, uuid in ids.items()],
    )
    uuid = argo.create("reports", report)

    def add(level: ArLevel, day: dt.date, name: str, a: float, **more: object) -> None:
        session.add(
            DailyAvailability(
                report_uuid=uuid,
                day=day,
                level=level,
                name=name,
                availability=a,
                reliability=a,
                **more,  # type: ignore[arg-type]
            )
        )

    add(ArLevel.SUPERGROUP, D22, "NGI_X", 68.13896116893515)
    add(ArLevel.SUPERGROUP, D23, "NGI_X", 100.0)
    for day, a, up in ((D22, 98.26389, 0.98264), (D23, 100.0, 1.0)):
        add(ArLevel.SITE, day, "ST01", a, parent="NGI_X", up=up, unknown=0.0, down=0.0)
        add(ArLevel.SERVICE, day, "SF01", a, parent="ST01", up=up, unknown=0.0, down=0.0)
        add(
            ArLevel.ENDPOINT,
            day,
            "e01",
            a,
            parent="ST01",
            service="SF01",
            up=up,
            unknown=0.0,
            down=0.0,
        )
    session.commit()
    return argo


def _ok(argo: Argo, path: str) -> Any:
    response = argo.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_groups_and_sites(argo: Argo) -> None:
    assert _ok(argo, f"/results/argo-ar/NGI?{WINDOW}") == {
        "results": [
            {
                "name": "NGI_X",
                "type": "NGI",
                "results": [
                    {
                        "timestamp": "2015-06-22",
                        "availability": "68.13896116893515",
                        "reliability": "68.13896116893515",
                    },
                    {"timestamp": "2015-06-23", "availability": "100", "reliability": "100"},
                ],
            }
        ]
    }
    day = {
        "timestamp": "2015-06-22",
        "availability": "98.26389",
        "reliability": "98.26389",
        "unknown": "0",
        "uptime": "0.98264",
        "downtime": "0",
    }
    sites = _ok(argo, f"/results/argo-ar/SITES/ST01?{WINDOW}")
    assert sites["results"] == [
        {
            "name": "NGI_X",
            "type": "NGI",
            "endpoints": [
                {
                    "name": "ST01",
                    "type": "SITE",
                    "results": [
                        day,
                        {**day, "timestamp": "2015-06-23", "availability": "100"}
                        | {"reliability": "100", "uptime": "1"},
                    ],
                }
            ],
        }
    ]
    monthly = _ok(argo, f"/results/argo-ar/SITE?{WINDOW}&granularity=monthly")
    [month] = monthly["results"][0]["endpoints"][0]["results"]
    assert month["timestamp"] == "2015-06"
    assert all(isinstance(value, str) for value in month.values())


def test_services_and_endpoints(argo: Argo) -> None:
    flavors = _ok(argo, f"/results/argo-ar/SITE/ST01/services?{WINDOW}")
    [site] = flavors["results"]
    assert (site["name"], site["type"]) == ("ST01", "SITE")
    assert [(f["name"], f["type"], len(f["results"])) for f in site["serviceflavors"]] == [
        ("SF01", "service", 2)
    ]
    hosts = _ok(argo, f"/results/argo-ar/SITE/ST01/services/SF01/endpoints/e01?{WINDOW}")
    [flavor] = hosts["results"][0]["serviceflavors"]
    assert [(e["name"], e["type"]) for e in flavor["endpoints"]] == [("e01", "endpoint")]
    assert flavor["endpoints"][0]["results"][0]["uptime"] == "0.98264"


def test_v3_groups_with_their_sites(argo: Argo) -> None:
    response = argo.client.get(f"/api/v3/results/argo-ar?{WINDOW}", headers=argo.headers(None))
    assert response.status_code == 200, response.text
    [group] = response.json()["results"]
    assert (group["name"], group["type"]) == ("NGI_X", "NGI")
    assert group["results"][1] == {
        "date": "2015-06-23",
        "availability": "100",
        "reliability": "100",
    }
    [site] = group["groups"]
    assert (site["name"], site["type"]) == ("ST01", "SITE")
    assert site["results"][0]["uptime"] == "0.98264"
    assert site["results"][0]["date"] == "2015-06-22"
    missing = argo.client.get(f"/api/v3/results/nothing?{WINDOW}", headers=argo.headers(None))
    assert missing.status_code == 404


def test_refusals(argo: Argo) -> None:
    assert argo.get("/results/argo-ar/NGI").json()["errors"][0]["message"] == "No time span set"
    weekly = argo.get(f"/results/argo-ar/NGI?{WINDOW}&granularity=weekly")
    assert weekly.json()["errors"][0]["message"] == "Wrong Granularity"
    assert argo.get(f"/results/nothing/NGI?{WINDOW}").status_code == 404
    assert argo.get(f"/results/argo-ar/COUNTRY?{WINDOW}").status_code == 404
    assert argo.get(f"/results/argo-ar/NGI/NGI_X/services?{WINDOW}").status_code == 404


def test_numbers_as_argo_writes_them() -> None:
    assert [number(v) for v in (0.0, 100.0, 0.98264, 99.99999900000002, None)] == [
        "0",
        "100",
        "0.98264",
        "99.99999900000002",
        "-1",
    ]
