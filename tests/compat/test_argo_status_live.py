"""ARGO's status routes and the availability export on a real `opsgraph serve --demo`
process (the one demo server the session shares; these tests only read): a past day's
timelines at every level agree with each other and with the A/R the in-process worker
computed from the same results, as an HTTP client reads them.

- the nested v2 levels: a site's own route gives what the site list gives; its services,
  their endpoints and an endpoint's metrics answer in ARGO's nesting; the NGIs' list;
- the flat endpoint list, paged, gives the endpoints of the nested routes; v3's view ends
  each site where v2 does; v3's lookup by resource id finds an endpoint by its GOCDB key;
- `/monitoring/availability.csv`'s uptime, unknown and downtime of each site are the shares
  of the day its v2 status timeline spends OK or WARNING, UNKNOWN or MISSING, DOWNTIME
  (reference §3.3: the same engine, read through two paths)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree import ElementTree

import httpx2 as httpx

JSON = {"accept": "application/json"}
REPORT = "Critical"
DAY_SECONDS = 86_400
STATES = {"OK", "WARNING", "CRITICAL", "UNKNOWN", "MISSING", "DOWNTIME"}


def _day() -> dt.date:
    """The day before yesterday: a whole day of the demo's week both when the server
    started (its A/R computed then) and now, even across a midnight between the two."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)


def _window(day: dt.date) -> str:
    return f"start_time={day}T00:00:00Z&end_time={day}T23:59:59Z"


def get_json(base: str, path: str) -> Any:
    """A JSON answer of the server (200, application/json)."""
    response = httpx.get(f"{base}{path}", headers=JSON, timeout=120)
    assert response.status_code == 200, (path, response.text)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def primary_key(base: str, host: str, service: str) -> str:
    """The GOCDB primary key the server's GOCDB PI gives for `host`'s `service`."""
    pi = httpx.get(
        f"{base}/gocdbpi/public/?method=get_service_endpoint&hostname={host}", timeout=120
    )
    assert pi.status_code == 200, pi.text
    [key] = {
        item.findtext("PRIMARY_KEY")
        for item in ElementTree.fromstring(pi.content).iter("SERVICE_ENDPOINT")
        if item.findtext("SERVICE_TYPE") == service
    }
    assert key is not None
    return key


def _spans(statuses: list[dict[str, str]], day: dt.date) -> Counter[str]:
    """Seconds of the day in each status: each point holds until the next, the last one
    (the closing point at 23:59:59) until midnight."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    seconds = [
        int((dt.datetime.fromisoformat(p["timestamp"]) - start).total_seconds()) for p in statuses
    ]
    spent: Counter[str] = Counter()
    for i, point in enumerate(statuses):
        end = seconds[i + 1] if i + 1 < len(statuses) else DAY_SECONDS
        spent[point["value"]] += end - seconds[i]
    return spent


def _share(seconds: int) -> float:
    return float(Decimal(repr(seconds / DAY_SECONDS)).quantize(Decimal("0.00001"), ROUND_HALF_UP))


def test_status_levels_over_http(demo_server: str) -> None:
    day = _day()
    window = _window(day)
    sites = get_json(demo_server, f"/api/v2/status/{REPORT}/SITE?{window}")["groups"]
    assert len(sites) > 10
    for site in sites:
        assert site["type"] == "SITE"
        assert site["statuses"][0]["timestamp"] == f"{day}T00:00:00Z"
        assert site["statuses"][-1]["timestamp"] == f"{day}T23:59:59Z"
        assert {p["value"] for p in site["statuses"]} <= STATES
    ngis = get_json(demo_server, f"/api/v2/status/{REPORT}/NGI?{window}")["groups"]
    assert ngis
    assert all(n["type"] == "NGI" for n in ngis)

    # one site, down the levels
    site = sites[0]
    one = get_json(demo_server, f"/api/v2/status/{REPORT}/SITE/{site['name']}?{window}")
    assert one == {"groups": [site]}
    nested = f"/api/v2/status/{REPORT}/SITE/{site['name']}/services"
    [group] = get_json(demo_server, f"{nested}?{window}")["groups"]
    assert (group["name"], group["type"]) == (site["name"], "SITE")
    assert group["services"]
    assert all(s["type"] == "service" for s in group["services"])
    service = group["services"][0]["name"]
    endpoints = get_json(demo_server, f"{nested}/{service}/endpoints?{window}")["groups"][0]
    [flavour] = endpoints["services"]
    assert flavour["name"] == service
    host = flavour["endpoints"][0]["name"]
    metrics = get_json(demo_server, f"{nested}/{service}/endpoints/{host}/metrics?{window}")
    [endpoint] = metrics["groups"][0]["services"][0]["endpoints"]
    assert endpoint["name"] == host
    assert endpoint["info"]["Url"]  # every demo service registers its URL
    assert endpoint["metrics"]
    assert all(m["statuses"] for m in endpoint["metrics"])

    # the flat list holds the endpoints of the nested routes; its pages, the whole list
    every = get_json(demo_server, f"/api/v2/status/{REPORT}/endpoints?{window}")
    assert every["pageSize"] == -1
    assert "nextPageToken" not in every
    listed = every["results"]
    assert (site["name"], service, host) in {
        (e["supergroup"], e["service"], e["name"]) for e in listed
    }
    size, paged, token = len(listed) // 3 + 1, [], None
    while True:
        page_query = f"{window}&pageSize={size}" + (f"&nextPageToken={token}" if token else "")
        page = get_json(demo_server, f"/api/v2/status/{REPORT}/endpoints?{page_query}")
        assert page["pageSize"] == size
        paged.extend(page["results"])
        token = page.get("nextPageToken")
        if token is None:
            break
    assert paged == listed

    # v3's view ends each site where v2 does; an endpoint found by its resource id
    v3 = get_json(demo_server, f"/api/v3/status/{REPORT}?{window}")["groups"]
    assert {g["name"]: g["statuses"][-1] for g in v3} == {
        s["name"]: s["statuses"][-1] for s in sites
    }


def test_a_resource_id_over_http(demo_server: str) -> None:
    """An endpoint of the flat list, its GOCDB key read from the GOCDB PI, then found by
    that key through v3: latest status by default, the day's timeline with details."""
    day = _day()
    window = _window(day)
    first = get_json(demo_server, f"/api/v2/status/{REPORT}/endpoints?{window}&pageSize=1")
    [endpoint] = first["results"]
    key = primary_key(demo_server, endpoint["name"], endpoint["service"])
    path = f"/api/v3/status/{REPORT}/id/{key}?{window}"
    details = get_json(demo_server, f"{path}&view=details")
    assert details == {
        "id": key,
        "endpoints": [
            {
                "hostname": endpoint["name"],
                "service": endpoint["service"],
                "group": endpoint["supergroup"],
                "info": {"URL": endpoint["info"]["Url"]},
                "statuses": endpoint["statuses"],
            }
        ],
    }
    latest = get_json(demo_server, path)["endpoints"][0]["statuses"]
    assert latest == (endpoint["statuses"][-2:-1] or endpoint["statuses"])


def test_the_availability_export_agrees_with_the_timelines(demo_server: str) -> None:
    day = _day()
    export = f"{demo_server}/monitoring/availability.csv?report={REPORT}&level=SITE"
    deadline = time.monotonic() + 120  # the in-process worker computes it after start
    while True:
        response = httpx.get(f"{export}&from={day}&to={day}", timeout=120)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        if rows or time.monotonic() > deadline:
            break
        time.sleep(2)
    sites = get_json(demo_server, f"/api/v2/status/{REPORT}/SITE?{_window(day)}")["groups"]
    assert {r["name"] for r in rows} == {s["name"] for s in sites}
    timelines = {s["name"]: _spans(s["statuses"], day) for s in sites}
    for row in rows:
        assert (row["level"], row["start"], row["end"]) == ("SITE", str(day), str(day))
        spent = timelines[row["name"]]
        assert sum(spent.values()) == DAY_SECONDS
        assert float(row["uptime"]) == _share(spent["OK"] + spent["WARNING"]), row
        assert float(row["unknown"]) == _share(spent["UNKNOWN"] + spent["MISSING"]), row
        assert float(row["downtime"]) == _share(spent["DOWNTIME"]), row
