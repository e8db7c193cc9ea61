"""ARGO's flat status lists (`/status/{report}/endpoints`, `/status/{report}/metrics/{m}`),
v3's lookup by resource id and the endpoints' `info`, on the in-process app over
tests/monitoring/levels_world.py: ARGO's shapes, pages, 404 and 400."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.topology.models import Service
from tests.compat.argo import Argo, make_keys
from tests.conftest import AppFactory, StatementCounter
from tests.monitoring import levels_world as w

DAY = "start_time=2025-05-10T00:00:00Z&end_time=2025-05-10T23:59:59Z"
CE_A = "ce.a.lvl.example.org"
URL = "https://ce.a.lvl.example.org:8443/arex"


def st(*points: tuple[str, str]) -> list[dict[str, str]]:
    return [{"timestamp": f"2025-05-10T{t}Z", "value": v} for t, v in points]


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


def _m2_series(session: Session, host: str, changes: list[tuple[int, str]]) -> None:
    """m2's changes on `host` (lvl.compute) at these hours, and its live status, as ingest
    stores them."""
    previous = None
    for hour, status in changes:
        session.add(
            StatusChange(
                timestamp=w.at(hour),
                hostname=host,
                service_type=w.COMPUTE,
                metric="m2",
                status=status,
                previous_status=previous,
            )
        )
        previous = status
    last = w.at(changes[-1][0])
    session.add(
        MetricStatus(
            hostname=host,
            service_type=w.COMPUTE,
            metric="m2",
            status=changes[-1][1],
            timestamp=last,
            since=last,
        )
    )


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    argo = Argo(make_client().client, make_keys(session))
    w.build(session)
    session.execute(
        update(Service).where(col(Service.host_name) == CE_A).values(url=URL, primary_key="4711G0")
    )
    # m2's changes on two hosts, as ingest stores them (the flat metric list reads these)
    _m2_series(session, CE_A, [(0, "OK"), (6, "CRITICAL")])
    _m2_series(session, "ce1.b.lvl.example.org", [(0, "OK")])
    session.commit()
    return argo


def get(argo: Argo, path: str, status: int = 200, api: str = "/api/v2") -> Any:
    response = argo.client.get(f"{api}{path}", headers=argo.headers(None))
    assert response.status_code == status, response.text
    return response.json()


def test_flat_endpoints(argo: Argo) -> None:
    body = get(argo, f"/status/{w.REPORT}/endpoints?{DAY}")
    assert body["pageSize"] == -1
    assert "nextPageToken" not in body
    assert [(r["supergroup"], r["service"], r["name"]) for r in body["results"]] == [
        ("LVL-A", w.COMPUTE, CE_A),
        ("LVL-A", w.STORAGE, "se.a.lvl.example.org"),
        ("LVL-B", w.COMPUTE, "ce1.b.lvl.example.org"),
        ("LVL-B", w.COMPUTE, "ce2.b.lvl.example.org"),
        ("LVL-C", w.STORAGE, "se.c.lvl.example.org"),
    ]
    assert body["results"][0] == {
        "name": CE_A,
        "type": "endpoint",
        "service": w.COMPUTE,
        "supergroup": "LVL-A",
        "info": {"Url": URL},
        "statuses": st(("00:00:00", "OK"), ("06:00:00", "CRITICAL"), ("23:59:59", "CRITICAL")),
    }
    assert "info" not in body["results"][1]  # no URL registered: ARGO omits it
    # pages: two items, then the token of the third
    first = get(argo, f"/status/{w.REPORT}/endpoints?{DAY}&pageSize=2")
    assert first["pageSize"] == 2
    assert [r["name"] for r in first["results"]] == [CE_A, "se.a.lvl.example.org"]
    token = first["nextPageToken"]
    assert token == "Mg=="
    last = get(argo, f"/status/{w.REPORT}/endpoints?{DAY}&pageSize=4&nextPageToken={token}")
    assert [r["name"] for r in last["results"]] == [
        "ce1.b.lvl.example.org",
        "ce2.b.lvl.example.org",
        "se.c.lvl.example.org",
    ]
    assert "nextPageToken" not in last


def test_flat_metrics(argo: Argo) -> None:
    body = get(argo, f"/status/{w.REPORT}/metrics/m2?{DAY}")
    assert body == {
        "results": [
            {
                "type": "endpoint_metric",
                "name": CE_A,
                "service": w.COMPUTE,
                "supergroup": "LVL-A",
                "metric": "m2",
                "statuses": st(
                    ("00:00:00", "OK"), ("06:00:00", "CRITICAL"), ("23:59:59", "CRITICAL")
                ),
            },
            {
                "type": "endpoint_metric",
                "name": "ce1.b.lvl.example.org",
                "service": w.COMPUTE,
                "supergroup": "LVL-B",
                "metric": "m2",
                "statuses": st(("00:00:00", "OK"), ("23:59:59", "OK")),
            },
        ],
        "pageSize": -1,
    }
    assert get(argo, f"/status/{w.REPORT}/metrics/nope?{DAY}")["results"] == []


def test_flat_metrics_statements_do_not_grow_with_endpoints(
    argo: Argo, session: Session, statements: StatementCounter
) -> None:
    """The flat metric list reads every endpoint's timeline at once: a third endpoint with
    the metric adds an item, not statements."""
    path = f"/status/{w.REPORT}/metrics/m2?{DAY}"
    statements.reset()
    assert len(get(argo, path)["results"]) == 2
    two = statements.count
    _m2_series(session, "ce2.b.lvl.example.org", [(0, "WARNING")])
    session.commit()
    statements.reset()
    body = get(argo, path)
    assert [r["name"] for r in body["results"]] == [
        CE_A,
        "ce1.b.lvl.example.org",
        "ce2.b.lvl.example.org",
    ]
    assert body["results"][2]["statuses"] == st(("00:00:00", "WARNING"), ("23:59:59", "WARNING"))
    assert statements.count == two, statements.statements
    paged = get(argo, f"{path}&pageSize=2&nextPageToken=Mg==")
    assert [r["name"] for r in paged["results"]] == ["ce2.b.lvl.example.org"]


def test_nested_routes_refuse_a_host_outside_the_site(argo: Argo) -> None:
    """ARGO's not-found when the path puts a host at a site or service type it is not in."""
    base = f"/status/{w.REPORT}/SITE"
    inside = f"{base}/LVL-A/services/{w.COMPUTE}/endpoints/{CE_A}"
    assert get(argo, f"{inside}?{DAY}")["groups"][0]["services"][0]["endpoints"][0]["name"] == CE_A
    assert get(argo, f"{inside}/metrics/m2?{DAY}")["groups"][0]["name"] == "LVL-A"
    for path in (
        f"{base}/LVL-B/services/{w.COMPUTE}/endpoints/{CE_A}",  # another site's host
        f"{base}/LVL-A/services/{w.STORAGE}/endpoints/{CE_A}",  # another service type
        f"{base}/LVL-A/services/{w.COMPUTE}/endpoints/nope.example.org",
    ):
        for leaf in ("", "/metrics", "/metrics/m2"):
            body = get(argo, f"{path}{leaf}?{DAY}", 404)
            assert body["status"] == {"message": "Not Found", "code": "404"}
            assert CE_A in body["errors"][0]["details"] or "nope" in body["errors"][0]["details"]
    get(
        argo,
        f"/status/{w.REPORT}/NGI/NGI_LVL/services/{w.COMPUTE}/endpoints/{CE_A}/metrics?{DAY}",
        404,
    )


def test_metric_leaf_and_v3_carry_info(argo: Argo) -> None:
    leaf = f"/status/{w.REPORT}/SITE/LVL-A/services/{w.COMPUTE}/endpoints/{CE_A}/metrics/m2"
    [endpoint] = get(argo, f"{leaf}?{DAY}")["groups"][0]["services"][0]["endpoints"]
    assert endpoint["info"] == {"Url": URL}
    assert [m["name"] for m in endpoint["metrics"]] == ["m2"]
    groups = get(argo, f"/status/{w.REPORT}?{DAY}", api="/api/v3")["groups"]
    a = {g["name"]: g for g in groups}["LVL-A"]
    assert [e.get("info") for e in a["endpoints"]] == [{"Url": URL}, None]


def test_v3_by_resource_id(argo: Argo) -> None:
    path = f"/status/{w.REPORT}/id/4711G0?{DAY}"
    endpoint = {"hostname": CE_A, "service": w.COMPUTE, "group": "LVL-A", "info": {"URL": URL}}
    assert get(argo, path, api="/api/v3") == {
        "id": "4711G0",
        "endpoints": [{**endpoint, "statuses": st(("06:00:00", "CRITICAL"))}],
    }
    assert get(argo, f"{path}&view=details", api="/api/v3") == {
        "id": "4711G0",
        "endpoints": [
            {
                **endpoint,
                "statuses": st(
                    ("00:00:00", "OK"), ("06:00:00", "CRITICAL"), ("23:59:59", "CRITICAL")
                ),
            }
        ],
    }
    # without a window: today up to now
    today = get(argo, f"/status/{w.REPORT}/id/4711G0", api="/api/v3")
    assert today["endpoints"][0]["statuses"][0]["value"] == "MISSING"


def test_refusals(argo: Argo) -> None:
    get(argo, f"/status/{w.REPORT}/id/nope?{DAY}", 404, api="/api/v3")
    get(argo, f"/status/nope/id/4711G0?{DAY}", 404, api="/api/v3")
    get(argo, f"/status/nope/endpoints?{DAY}", 404)
    get(argo, f"/status/nope/metrics/m2?{DAY}", 404)
    get(argo, f"/status/{w.REPORT}/endpoints", 400)  # v2 wants the window
    for bad in ("pageSize=0", "pageSize=x", "nextPageToken=%%%", "nextPageToken=LTE="):
        body = get(argo, f"/status/{w.REPORT}/endpoints?{DAY}&{bad}", 400)
        assert bad.split("=")[0] in str(body)
