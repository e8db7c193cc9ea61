"""ARGO's flat A/R list and v3's A/R by resource id on a real `opsgraph serve --demo` process
(the one demo server the session shares; these tests only read), as an HTTP client reads
them: the flat list's pages add up to the whole list, each endpoint's rows are the nested
route's for its site and service (also named under its NGI), and v3 finds one of them by
its GOCDB key."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx2 as httpx

from tests.compat.test_argo_status_live import JSON, get_json, primary_key

REPORT = "Critical"


def _window() -> str:
    """The day before yesterday (a whole day of the demo's week, computed at start)."""
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    return f"start_time={day}T00:00:00Z&end_time={day}T23:59:59Z"


def _flat(base: str, window: str) -> dict[str, Any]:
    """The whole flat list, once the in-process worker has computed the day's A/R (until
    then ARGO's 404 "No results found for given query")."""
    path = f"/api/v2/results/{REPORT}/endpoints?{window}"
    deadline = time.monotonic() + 120
    while True:
        response = httpx.get(f"{base}{path}", headers=JSON, timeout=120)
        if response.status_code != 404 or time.monotonic() > deadline:
            body: dict[str, Any] = get_json(base, path)
            return body
        assert response.json() == {"message": "No results found for given query", "code": 404}
        time.sleep(2)


def test_the_flat_results_over_http(demo_server: str) -> None:
    window = _window()
    every = _flat(demo_server, window)
    listed = every["results"]
    assert len(listed) > 10
    assert "pageSize" not in every
    assert "nextPageToken" not in every
    assert [(e["name"], e["service"], e["supergroup"]) for e in listed] == sorted(
        (e["name"], e["service"], e["supergroup"]) for e in listed
    )
    for endpoint in listed:
        assert endpoint["type"] == "endpoint"
        [row] = endpoint["results"]  # one day, daily
        assert set(row) == {"timestamp", "availability", "reliability", "unknown"} | {
            "uptime",
            "downtime",
        }
        assert all(isinstance(value, str) for value in row.values())

    # pages of 7 rows add up to the list
    paged: list[dict[str, Any]] = []
    token = None
    while True:
        query = f"{window}&pageSize=7" + (f"&nextPageToken={token}" if token else "")
        page = get_json(demo_server, f"/api/v2/results/{REPORT}/endpoints?{query}")
        assert page["pageSize"] == 7
        assert len(page["results"]) <= 7
        paged.extend(page["results"])
        token = page.get("nextPageToken")
        if token is None:
            break
    assert paged == listed

    # an endpoint's row is the nested route's
    first = listed[0]
    nested = get_json(
        demo_server,
        f"/api/v2/results/{REPORT}/SITE/{first['supergroup']}/services/{first['service']}"
        f"/endpoints/{first['name']}?{window}",
    )
    [flavor] = nested["results"][0]["serviceflavors"]
    [endpoint] = flavor["endpoints"]
    assert endpoint["results"] == first["results"]
    site = get_json(
        demo_server, f"/api/v2/results/{REPORT}/SITE/{first['supergroup']}/endpoints?{window}"
    )
    hosts = {
        (f["name"], e["name"]) for f in site["results"][0]["serviceflavors"] for e in f["endpoints"]
    }
    assert hosts == {
        (e["service"], e["name"]) for e in listed if e["supergroup"] == first["supergroup"]
    }
    # the same site named under its NGI (ARGO's `/{group_type}/{group}/{type}/{site}` forms)
    [ngi] = get_json(demo_server, f"/api/v2/results/{REPORT}/SITE/{first['supergroup']}?{window}")[
        "results"
    ]
    under_ngi = f"/api/v2/results/{REPORT}/NGI/{ngi['name']}/SITE/{first['supergroup']}"
    assert get_json(demo_server, f"{under_ngi}/endpoints?{window}") == site

    # v3 by the GOCDB primary key the PI gives for that endpoint
    key = primary_key(demo_server, first["name"], first["service"])
    by_id = get_json(demo_server, f"/api/v3/results/{REPORT}/id/{key}?{window}")
    assert by_id == {
        "id": key,
        "endpoints": [
            {
                "name": first["name"],
                "service": first["service"],
                "group": first["supergroup"],
                "info": {"URL": first["info"]["Url"]},
                "results": [
                    {("date" if k == "timestamp" else k): v for k, v in row.items()}
                    for row in first["results"]
                ],
            }
        ],
    }
