"""ARGO's status routes above the metric (v2 groups, services, endpoints; v3's one view) on
the in-process app, over tests/monitoring/levels_world.py: ARGO's shapes, the window's
start status at its own time and a closing point, 404 for an unknown report or type."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.compat.argo import Argo, make_keys
from tests.conftest import AppFactory
from tests.monitoring import levels_world as w

DAY = "start_time=2025-05-10T00:00:00Z&end_time=2025-05-10T23:59:59Z"
V2 = f"/status/{w.REPORT}/SITE"


def st(*points: tuple[str, str]) -> list[dict[str, str]]:
    return [{"timestamp": f"2025-05-10T{t}Z", "value": v} for t, v in points]


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    argo = Argo(make_client().client, make_keys(session))
    w.build(session)
    session.commit()
    return argo


def ok(argo: Argo, path: str, api: str = "/api/v2") -> Any:
    response = argo.client.get(f"{api}{path}", headers=argo.headers(None))
    assert response.status_code == 200, response.text
    return response.json()


def test_groups(argo: Argo) -> None:
    assert ok(argo, f"{V2}/LVL-B?{DAY}") == {
        "groups": [
            {
                "name": "LVL-B",
                "type": "SITE",
                "statuses": st(
                    ("00:00:00", "OK"),
                    ("10:00:00", "CRITICAL"),
                    ("12:01:00", "OK"),
                    ("23:59:59", "OK"),
                ),
            }
        ]
    }
    every = ok(argo, f"{V2}?{DAY}")["groups"]
    assert [(g["name"], g["statuses"][-1]["value"]) for g in every] == [
        ("LVL-A", "CRITICAL"),
        ("LVL-B", "OK"),
        ("LVL-C", "MISSING"),
    ]
    # the report's group type: its NGIs
    assert ok(argo, f"/status/{w.REPORT}/NGI/{w.NGI_NAME}?{DAY}") == {
        "groups": [
            {
                "name": w.NGI_NAME,
                "type": "NGI",
                "statuses": st(
                    ("00:00:00", "MISSING"), ("06:00:00", "CRITICAL"), ("23:59:59", "CRITICAL")
                ),
            }
        ]
    }


def test_services_and_endpoints(argo: Argo) -> None:
    window = "start_time=2025-05-10T11:00:00Z&end_time=2025-05-10T13:00:00Z"
    assert ok(argo, f"{V2}/LVL-B/services/{w.COMPUTE}?{window}") == {
        "groups": [
            {
                "name": "LVL-B",
                "type": "SITE",
                "services": [
                    {
                        "name": w.COMPUTE,
                        "type": "service",
                        # the status at 11:00 is the one since 10:00, shown at 10:00
                        "statuses": st(
                            ("10:00:00", "CRITICAL"), ("12:01:00", "OK"), ("13:00:00", "OK")
                        ),
                    }
                ],
            }
        ]
    }
    services = ok(argo, f"{V2}/LVL-A/services?{DAY}")["groups"][0]["services"]
    assert [(s["name"], s["statuses"][-1]["value"]) for s in services] == [
        (w.COMPUTE, "CRITICAL"),
        (w.STORAGE, "OK"),
    ]
    endpoints = ok(argo, f"{V2}/LVL-B/services/{w.COMPUTE}/endpoints?{DAY}")
    [service] = endpoints["groups"][0]["services"]
    assert service["name"] == w.COMPUTE
    assert service["type"] == "service"
    assert {e["name"]: e["statuses"] for e in service["endpoints"]} == {
        "ce1.b.lvl.example.org": st(
            ("00:00:00", "OK"), ("08:00:00", "CRITICAL"), ("23:59:59", "CRITICAL")
        ),
        "ce2.b.lvl.example.org": st(
            ("00:00:00", "OK"), ("10:00:00", "DOWNTIME"), ("12:01:00", "OK"), ("23:59:59", "OK")
        ),
    }
    one = ok(argo, f"{V2}/LVL-B/services/{w.COMPUTE}/endpoints/ce2.b.lvl.example.org?{DAY}")
    assert [e["name"] for e in one["groups"][0]["services"][0]["endpoints"]] == [
        "ce2.b.lvl.example.org"
    ]
    # ARGO's `…/{group}/endpoints`: the site's endpoints under each of its service types
    every = ok(argo, f"{V2}/LVL-A/endpoints?{DAY}")["groups"]
    assert [(g["name"], g["type"]) for g in every] == [("LVL-A", "SITE")]
    assert [
        (s["name"], s["type"], [(e["name"], e["statuses"][-1]["value"]) for e in s["endpoints"]])
        for s in every[0]["services"]
    ] == [
        (w.COMPUTE, "service", [("ce.a.lvl.example.org", "CRITICAL")]),
        (w.STORAGE, "service", [("se.a.lvl.example.org", "OK")]),
    ]
    b = ok(argo, f"{V2}/LVL-B/endpoints?{DAY}")["groups"][0]["services"]
    assert b == [{"name": w.COMPUTE, "type": "service", "endpoints": service["endpoints"]}]


def test_v3_groups_with_their_endpoints(argo: Argo) -> None:
    body = ok(argo, f"/status/{w.REPORT}?{DAY}", api="/api/v3")
    groups = {g["name"]: g for g in body["groups"]}
    assert sorted(groups) == ["LVL-A", "LVL-B", "LVL-C"]
    c = groups["LVL-C"]
    assert c["type"] == "SITE"
    assert c["statuses"] == st(
        ("00:00:00", "MISSING"),
        ("10:00:00", "DOWNTIME"),
        ("12:01:00", "MISSING"),
        ("23:59:59", "MISSING"),
    )
    assert c["endpoints"] == [
        {"hostname": "se.c.lvl.example.org", "service": w.STORAGE, "statuses": c["statuses"]}
    ]
    latest = ok(argo, f"/status/{w.REPORT}?{DAY}&view=latest", api="/api/v3")
    a = {g["name"]: g for g in latest["groups"]}["LVL-A"]
    assert a["statuses"] == st(("06:00:00", "CRITICAL"))
    assert {e["hostname"]: e["statuses"] for e in a["endpoints"]} == {
        "ce.a.lvl.example.org": st(("06:00:00", "CRITICAL")),
        "se.a.lvl.example.org": st(("00:00:00", "OK")),
    }
    # without a window: today up to now (nothing of the world's day)
    assert (
        ok(argo, f"/status/{w.REPORT}", api="/api/v3")["groups"][0]["statuses"][0]["value"]
        == "MISSING"
    )


def test_refusals(argo: Argo) -> None:
    for path in (
        f"/status/nope/SITE/LVL-A?{DAY}",
        f"/status/{w.REPORT}/TENANTS/LVL-A?{DAY}",
        # only the report's own types, exactly (ARGO's topology schema): not SITES or NGIS
        f"/status/{w.REPORT}/SITES/LVL-A?{DAY}",
        f"/status/{w.REPORT}/NGIS?{DAY}",
    ):
        response = argo.client.get(f"/api/v2{path}", headers=argo.headers(None))
        assert response.status_code == 404, response.text
    response = argo.client.get(f"/api/v3/status/nope?{DAY}", headers=argo.headers(None))
    assert response.status_code == 404
    long = "start_time=2025-03-01T00:00:00Z&end_time=2025-05-10T00:00:00Z"
    response = argo.client.get(f"/api/v2{V2}/LVL-A?{long}", headers=argo.headers(None))
    assert response.status_code == 422  # a domain rule, as the other routes answer them
    assert "31 days" in response.text
    response = argo.client.get(f"/api/v2{V2}/LVL-A", headers=argo.headers(None))
    assert response.status_code == 400  # ARGO's v2 wants the window
