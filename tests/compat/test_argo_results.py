"""ARGO's v2 A/R results on the in-process app, over daily A/R stored as the availability
service stores it: ARGO's path forms, nesting and numbers as strings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models import ArLevel, DailyAvailability
from domains.topology.models import Service, ServiceType, Site
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
    for name, site, service, a in (("e02", "ST01", "SF01", 96.875), ("e00", "ST02", "SF02", 50.0)):
        add(
            ArLevel.ENDPOINT,
            D22,
            name,
            a,
            parent=site,
            service=service,
            up=a / 100,
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
    sites = _ok(argo, f"/results/argo-ar/SITE/ST01?{WINDOW}")
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


def test_forms_naming_the_group_above_the_site(argo: Argo, session: Session) -> None:
    """ARGO's `/results/{report}/{group_type}/{group}/{type}[/{site}[/services…|/endpoints…]]`:
    the same answers as the site forms, kept to the group's sites."""
    # ST02 (endpoint e00 only so far) a site of another NGI
    session.add(
        DailyAvailability(
            report_uuid=session.scalars(select(col(DailyAvailability.report_uuid))).first() or "",
            day=D22,
            level=ArLevel.SITE,
            name="ST02",
            parent="NGI_Y",
            availability=50.0,
            reliability=50.0,
            up=0.5,
            unknown=0.0,
            down=0.0,
        )
    )
    session.commit()
    everywhere = _ok(argo, f"/results/argo-ar/SITE?{WINDOW}")
    assert [(g["name"], [s["name"] for s in g["endpoints"]]) for g in everywhere["results"]] == [
        ("NGI_X", ["ST01"]),
        ("NGI_Y", ["ST02"]),
    ]
    assert _ok(argo, f"/results/argo-ar/NGI/NGI_X/SITE?{WINDOW}") == _ok(
        argo, f"/results/argo-ar/SITE/ST01?{WINDOW}"
    )
    assert _ok(argo, f"/results/argo-ar/NGI/NGI_X/SITE/ST01?{WINDOW}&granularity=monthly") == _ok(
        argo, f"/results/argo-ar/SITE/ST01?{WINDOW}&granularity=monthly"
    )
    for below in (
        "services",
        "services/SF01",
        "services/SF01/endpoints",
        "services/SF01/endpoints/e02",
        "endpoints",
        "endpoints/e01",
    ):
        assert _ok(argo, f"/results/argo-ar/NGI/NGI_X/SITE/ST01/{below}?{WINDOW}") == _ok(
            argo, f"/results/argo-ar/SITE/ST01/{below}?{WINDOW}"
        ), below
    # a site, service or host of another group than the path's: no row, ARGO's 404
    for path in (
        f"/results/argo-ar/NGI/NGI_Y/SITE/ST01?{WINDOW}",
        f"/results/argo-ar/NGI/NGI_Y/SITE/ST01/services?{WINDOW}",
        f"/results/argo-ar/NGI/NGI_X/SITE/ST02/endpoints?{WINDOW}",
        f"/results/argo-ar/NGI/NGI_Z/SITE?{WINDOW}",
    ):
        response = argo.get(path)
        assert (response.status_code, response.text) == (404, NO_RESULTS), path


def test_types_are_the_report_s_own_exactly(argo: Argo) -> None:
    """ARGO compares a path's types with the report's topology schema (NGI → SITE) as they
    are spelled: SITES, NGIS or Site is a type the report does not define, each answered
    with the results package's own 404 body, in ARGO's order with the window's 400."""

    def refused(path: str) -> tuple[int, dict[str, Any]]:
        response = argo.get(path)
        return response.status_code, response.json()

    any_type = "The report argo-ar does not define any group type: {}"
    site_type = (
        "The report argo-ar does not define endpoint group type: {}. Try using SITE instead."
    )
    for path, message in (
        (f"/results/argo-ar/SITES?{WINDOW}", any_type.format("SITES")),
        (f"/results/argo-ar/NGIS/NGI_X?{WINDOW}", any_type.format("NGIS")),
        ("/results/argo-ar/Site", any_type.format("Site")),  # the type before the window
        (f"/results/argo-ar/SITES/ST01/services?{WINDOW}", site_type.format("SITES")),
        (f"/results/argo-ar/NGI/NGI_X/services?{WINDOW}", site_type.format("NGI")),
        (f"/results/argo-ar/NGI/NGI_X/SITES/ST01?{WINDOW}", site_type.format("SITES")),
        (f"/results/argo-ar/NGI/NGI_X/SITES/ST01/endpoints?{WINDOW}", site_type.format("SITES")),
        (
            f"/results/argo-ar/NGIS/NGI_X/SITE/ST01?{WINDOW}",
            "The report argo-ar does not define group type: NGIS. Try using NGI instead.",
        ),
    ):
        assert refused(path) == (404, {"message": message, "code": 404}), path
    # the forms naming an endpoint group read the window first, as ARGO's handlers do
    status, body = refused("/results/argo-ar/NGI/NGI_X/SITES")
    assert (status, body["errors"][0]["message"]) == (400, "No time span set")
    assert refused("/results/nothing/NGI/NGI_X/SITE")[0] == 404  # the report before both


def _day(stamp: str, a: str, up: str, key: str = "timestamp") -> dict[str, str]:
    return {key: stamp, "availability": a, "reliability": a, "unknown": "0"} | {
        "uptime": up,
        "downtime": "0",
    }


def test_a_site_s_endpoints_of_every_service(argo: Argo) -> None:
    """ARGO's `…/{site}/endpoints[/{host}]`: the site's endpoints under their services."""
    body = _ok(argo, f"/results/argo-ar/SITE/ST01/endpoints?{WINDOW}")
    [site] = body["results"]
    assert (site["name"], site["type"]) == ("ST01", "SITE")
    [flavor] = site["serviceflavors"]
    assert [(e["name"], len(e["results"])) for e in flavor["endpoints"]] == [("e01", 2), ("e02", 1)]
    one = _ok(argo, f"/results/argo-ar/SITE/ST01/endpoints/e02?{WINDOW}")
    assert one["results"][0]["serviceflavors"][0]["endpoints"] == [
        {"name": "e02", "type": "endpoint", "results": [_day("2015-06-22", "96.875", "0.96875")]}
    ]


def test_the_flat_list_of_endpoints(argo: Argo) -> None:
    """Every endpoint's A/R in ARGO's flat order (host, service, site, date); pages of
    result rows, an endpoint going on over the next page as ARGO's does."""
    body = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}")
    assert body == {
        "results": [
            {
                "name": "e00",
                "type": "endpoint",
                "service": "SF02",
                "supergroup": "ST02",
                "results": [_day("2015-06-22", "50", "0.5")],
            },
            {
                "name": "e01",
                "type": "endpoint",
                "service": "SF01",
                "supergroup": "ST01",
                "results": [
                    _day("2015-06-22", "98.26389", "0.98264"),
                    _day("2015-06-23", "100", "1"),
                ],
            },
            {
                "name": "e02",
                "type": "endpoint",
                "service": "SF01",
                "supergroup": "ST01",
                "results": [_day("2015-06-22", "96.875", "0.96875")],
            },
        ]
    }
    first = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}&pageSize=2")
    assert [(r["name"], len(r["results"])) for r in first["results"]] == [("e00", 1), ("e01", 1)]
    assert (first["pageSize"], first["nextPageToken"]) == (2, "Mg==")
    rest = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}&pageSize=2&nextPageToken=Mg==")
    assert [(r["name"], r["results"][0]["timestamp"]) for r in rest["results"]] == [
        ("e01", "2015-06-23"),
        ("e02", "2015-06-22"),
    ]
    assert "nextPageToken" not in rest
    monthly = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}&granularity=monthly")
    assert [(r["name"], [x["timestamp"] for x in r["results"]]) for r in monthly["results"]] == [
        ("e00", ["2015-06"]),
        ("e01", ["2015-06"]),
        ("e02", ["2015-06"]),
    ]
    one_site = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}&supergroup=ST01&service=SF01")
    assert [r["name"] for r in one_site["results"]] == ["e01", "e02"]
    assert argo.get(f"/results/argo-ar/endpoints?{WINDOW}&pageSize=0").status_code == 400
    assert argo.get("/results/argo-ar/endpoints").status_code == 400  # the window is required
    assert argo.get(f"/results/nothing/endpoints?{WINDOW}").status_code == 404


def test_the_flat_list_carries_the_registered_url(argo: Argo, session: Session) -> None:
    host = _registered(session, "https://e01.example.org:8443/")
    body = _ok(argo, f"/results/argo-ar/endpoints?{WINDOW}&supergroup={host.site}")
    [endpoint] = body["results"]
    assert endpoint["info"] == {"Url": "https://e01.example.org:8443/"}


def test_v3_results_by_resource_id(argo: Argo, session: Session) -> None:
    """v3's `/results/{report}/id/{id}`: the endpoint whose service has that GOCDB primary
    key, with its A/R dated by `date`; 404 for an id without results or an unknown report."""
    host = _registered(session, "https://e01.example.org:8443/")
    path = f"/api/v3/results/argo-ar/id/4711G0?{WINDOW}"
    response = argo.client.get(path, headers=argo.headers(None))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "id": "4711G0",
        "endpoints": [
            {
                "name": host.name,
                "service": host.service,
                "group": host.site,
                "info": {"URL": "https://e01.example.org:8443/"},
                "results": [
                    _day("2015-06-22", "98.26389", "0.98264", "date"),
                    _day("2015-06-23", "100", "1", "date"),
                ],
            }
        ],
    }
    monthly = argo.client.get(f"{path}&granularity=monthly", headers=argo.headers(None))
    assert [r["date"] for r in monthly.json()["endpoints"][0]["results"]] == ["2015-06"]
    for missing in (
        f"/api/v3/results/argo-ar/id/nope?{WINDOW}",
        f"/api/v3/results/nothing/id/4711G0?{WINDOW}",
    ):
        assert argo.client.get(missing, headers=argo.headers(None)).status_code == 404
    no_window = argo.client.get("/api/v3/results/argo-ar/id/4711G0", headers=argo.headers(None))
    assert no_window.status_code == 400


@dataclass(frozen=True)
class _Host:
    name: str
    service: str
    site: str


def _registered(session: Session, url: str) -> _Host:
    """A service of the demo topology renamed to be e01 of SF01 at its site, with `url` and
    the primary key 4711G0; the A/R rows of e01 moved to that site."""
    service = session.scalars(select(Service).order_by(col(Service.id)).limit(1)).one()
    site = session.get(Site, service.site_id)
    stype = session.get(ServiceType, service.service_type_id)
    assert site is not None
    assert stype is not None
    stype.name = "SF01"
    service.host_name, service.url, service.primary_key = "e01", url, "4711G0"
    session.execute(
        update(DailyAvailability)
        .where(col(DailyAvailability.name) == "e01")
        .values(parent=site.short_name)
    )
    session.commit()
    return _Host("e01", "SF01", site.short_name)


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


NO_RESULTS = '{\n   "message": "No results found for given query",\n   "code": 404\n }'


def test_a_query_without_rows_is_argos_not_found(argo: Argo) -> None:
    """Every v2 results route answers a query that finds no row as argo-web-api's results
    package does: 404 with its own `{"message", "code"}` body, byte for byte."""
    empty = "start_time=2016-01-01T00:00:00Z&end_time=2016-01-01T23:59:59Z"
    for path in (
        f"/results/argo-ar/endpoints?{empty}",
        f"/results/argo-ar/endpoints?{WINDOW}&supergroup=nowhere",
        f"/results/argo-ar/endpoints?{WINDOW}&pageSize=2&nextPageToken=MTA=",  # past the end
        f"/results/argo-ar/NGI?{empty}",
        f"/results/argo-ar/NGI/NGI_Y?{WINDOW}",
        f"/results/argo-ar/SITE/ST09?{WINDOW}",
        f"/results/argo-ar/SITE/ST09/services?{WINDOW}",
        f"/results/argo-ar/SITE/ST01/services/SF09?{WINDOW}",
        f"/results/argo-ar/SITE/ST01/services/SF09/endpoints?{WINDOW}",
        f"/results/argo-ar/SITE/ST01/endpoints/e09?{WINDOW}",
    ):
        response = argo.get(path)
        assert (response.status_code, response.text) == (404, NO_RESULTS), path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
    # an unknown report: the results package's own body too, naming it (issue 14)
    unknown = (
        '{\n   "message": "The report with the name nothing does not exist",\n   "code": 404\n }'
    )
    for path in (f"/results/nothing/NGI?{WINDOW}", f"/results/nothing/endpoints?{WINDOW}"):
        response = argo.get(path)
        assert (response.status_code, response.text) == (404, unknown), path


def test_numbers_as_argo_writes_them() -> None:
    assert [number(v) for v in (0.0, 100.0, 0.98264, 99.99999900000002, None)] == [
        "0",
        "100",
        "0.98264",
        "99.99999900000002",
        "-1",
    ]
