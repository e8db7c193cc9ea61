"""ARGO's v2 metric status timelines and raw metric results on the in-process app, over
results and status changes stored as ingest stores them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models.catalogue import (
    AggregationProfile,
    MetricProfile,
    OperationsProfile,
    Report,
)
from domains.monitoring.models.results import MetricResult
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.topology.models import (
    CertificationStatus,
    Ngi,
    ProductionInfrastructure,
    Service,
    ServiceType,
    Site,
)
from tests.compat.argo import (
    Argo,
    make_keys,
    make_profiles,
    make_report,
    ops_document,
    seed_document,
)
from tests.conftest import AppFactory

HOST = "ce.argo-test.example.org"
SERVICE = "ARC-CE"
DAY = "start_time=2015-05-01T00:00:00Z&end_time=2015-05-01T23:59:59Z"
METRICS = f"/status/argo-test-report/SITE/SITE-A/services/{SERVICE}/endpoints/{HOST}/metrics"


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _store(session: Session, metric: str, points: list[tuple[str, str]]) -> None:
    """Results of `metric` on HOST, each a status change, and its current status."""
    previous = None
    for stamp, status in points:
        at = _at(stamp)
        session.add(
            MetricResult(
                timestamp=at,
                hostname=HOST,
                service_type=SERVICE,
                metric=metric,
                status=status,
                summary=f"{metric} is {status}",
                message="details",
                source="test",
            )
        )
        session.add(
            StatusChange(
                timestamp=at,
                hostname=HOST,
                service_type=SERVICE,
                metric=metric,
                status=status,
                previous_status=previous,
            )
        )
        previous = status
    last_at, last = _at(points[-1][0]), points[-1][1]
    session.add(
        MetricStatus(
            hostname=HOST,
            service_type=SERVICE,
            metric=metric,
            status=last,
            timestamp=last_at,
            since=last_at,
        )
    )


def _register(session: Session) -> None:
    """HOST as an ARC-CE service of a site SITE-A (the nested routes check the path's site
    and service type against the topology)."""
    ngi = session.scalars(select(Ngi).order_by(col(Ngi.id)).limit(1)).one()
    stype = session.scalars(select(ServiceType).where(col(ServiceType.name) == SERVICE)).one()
    assert ngi.id is not None
    site = Site(
        short_name="SITE-A",
        certification_status=CertificationStatus.CERTIFIED,
        production_infrastructure=ProductionInfrastructure.PRODUCTION,
        ngi_id=ngi.id,
        country_id=session.scalars(select(col(Site.country_id)).limit(1)).one(),
    )
    session.add(site)
    session.flush()
    assert site.id is not None
    assert stype.id is not None
    session.add(Service(site_id=site.id, service_type_id=stype.id, host_name=HOST))


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    argo = Argo(make_client().client, make_keys(session))
    make_report(argo)
    _register(session)
    _store(
        session,
        "a.metric",
        [
            ("2015-04-30T23:59:00Z", "OK"),
            ("2015-05-01T01:00:00Z", "CRITICAL"),
            ("2015-05-01T02:00:00Z", "OK"),
            ("2015-05-02T02:00:00Z", "WARNING"),
        ],
    )
    _store(session, "b.metric-/ops", [("2015-05-01T06:00:00Z", "WARNING")])
    _store(session, "c.metric", [("2015-05-03T06:00:00Z", "OK")])  # after the window
    session.commit()
    return argo


def test_metric_timelines_nested_as_argo_nests_them(argo: Argo) -> None:
    response = argo.get(f"{METRICS}?{DAY}")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "groups": [
            {
                "name": "SITE-A",
                "type": "SITE",
                "services": [
                    {
                        "name": SERVICE,
                        "type": "service",
                        "endpoints": [
                            {
                                "name": HOST,
                                "metrics": [
                                    {
                                        "name": "a.metric",
                                        "statuses": [
                                            {"timestamp": "2015-04-30T23:59:00Z", "value": "OK"},
                                            {
                                                "timestamp": "2015-05-01T01:00:00Z",
                                                "value": "CRITICAL",
                                            },
                                            {"timestamp": "2015-05-01T02:00:00Z", "value": "OK"},
                                            {"timestamp": "2015-05-01T23:59:59Z", "value": "OK"},
                                        ],
                                    },
                                    {
                                        "name": "b.metric-/ops",
                                        "statuses": [
                                            {
                                                "timestamp": "2015-05-01T06:00:00Z",
                                                "value": "WARNING",
                                            },
                                            {
                                                "timestamp": "2015-05-01T23:59:59Z",
                                                "value": "WARNING",
                                            },
                                        ],
                                    },
                                ],
                            }
                        ],
                    }
                ],
            }
        ]
    }
    one = argo.get(f"{METRICS}/b.metric-%2Fops?{DAY}").json()
    endpoint = one["groups"][0]["services"][0]["endpoints"][0]
    assert [m["name"] for m in endpoint["metrics"]] == ["b.metric-/ops"]


def test_status_refusals(argo: Argo) -> None:
    assert argo.get(METRICS).json()["errors"][0]["message"] == "No time span set"
    granular = argo.get(f"{METRICS}?{DAY}&granularity=daily")
    assert granular.status_code == 400


def test_an_unknown_report_as_each_argo_package_answers_it(argo: Argo) -> None:
    """An unknown report is 404 with the body of argo-web-api's package for the route, byte
    for byte: v2's status packages `createMessageOUT` (code a string), v3's (and the
    results package's) `createErrorMessage` (code a number, Go's prefixed indent)."""
    words = '"The report with the name nothing does not exist"'
    status_body = '{\n "message": ' + words + ',\n "code": "404"\n}'
    v3_body = '{\n   "message": ' + words + ',\n   "code": 404\n }'
    for path in (
        f"{METRICS.replace('argo-test-report', 'nothing')}?{DAY}",
        f"/status/nothing/SITE?{DAY}",
        f"/status/nothing/SITE/SITE-A/services?{DAY}",
        f"/status/nothing/endpoints?{DAY}",
        f"/status/nothing/metrics/a.metric?{DAY}",
    ):
        response = argo.get(path)
        assert (response.status_code, response.text) == (404, status_body), path
    for path in (
        "/api/v3/status/nothing",
        "/api/v3/status/nothing/id/4711G0",
        f"/api/v3/results/nothing?{DAY}",
        f"/api/v3/results/nothing/id/4711G0?{DAY}",
    ):
        response = argo.client.get(path, headers=argo.headers(None))
        assert (response.status_code, response.text) == (404, v3_body), path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
    # a group type the report does not define: the status packages' body too; only the
    # report's own type, exactly as its topology schema spells it (SITE, not SITES)
    for asked, path in (
        ("CLUSTERS", f"{METRICS.replace('/SITE/', '/CLUSTERS/')}?{DAY}"),
        ("CLUSTERS", f"/status/argo-test-report/CLUSTERS/SITE-A/services?{DAY}"),
        ("SITES", f"/status/argo-test-report/SITES/SITE-A/services?{DAY}"),
        ("Site", f"{METRICS.replace('/SITE/', '/Site/')}?{DAY}"),
    ):
        words = f'"The report argo-test-report does not define endpoint group type: {asked}"'
        response = argo.get(path)
        expected = '{\n "message": ' + words + ',\n "code": "404"\n}'
        assert (response.status_code, response.text) == (404, expected), path


def test_a_metric_result_at_its_time(argo: Argo) -> None:
    response = argo.get(f"/metric_result/{HOST}/a.metric?exec_time=2015-05-01T01:00:00Z")
    assert response.json() == {
        "root": [
            {
                "Name": HOST,
                "Metrics": [
                    {
                        "Name": "a.metric",
                        "Service": SERVICE,
                        "Details": [
                            {
                                "Timestamp": "2015-05-01T01:00:00Z",
                                "Value": "CRITICAL",
                                "Summary": "a.metric is CRITICAL",
                                "Message": "details",
                            }
                        ],
                    }
                ],
            }
        ]
    }
    slash = argo.get(f"/metric_result/{HOST}/b.metric-/ops?exec_time=2015-05-01T06:00:00Z")
    assert slash.json()["root"][0]["Metrics"][0]["Name"] == "b.metric-/ops"
    none = argo.get(f"/metric_result/{HOST}/a.metric?exec_time=2015-05-01T01:00:01Z")
    assert none.json() == {"root": []}


def test_a_host_s_results_of_a_day(argo: Argo) -> None:
    day = f"/metric_result/{HOST}?exec_time=2015-05-01T00:00:00Z"
    metrics = argo.get(day).json()["root"][0]["Metrics"]
    assert [(m["Name"], [d["Value"] for d in m["Details"]]) for m in metrics] == [
        ("a.metric", ["CRITICAL", "OK"]),
        ("b.metric-/ops", ["WARNING"]),
    ]
    non_ok = argo.get(f"{day}&filter=non-ok").json()["root"][0]["Metrics"]
    assert [(m["Name"], len(m["Details"])) for m in non_ok] == [
        ("a.metric", 1),
        ("b.metric-/ops", 1),
    ]
    assert argo.get(f"{day}&filter=OK").json()["root"][0]["Metrics"][0]["Details"][0]["Value"] == (
        "OK"
    )
    assert argo.get(f"{day}&filter=bad").status_code == 400
    missing = argo.get(f"/metric_result/{HOST}")
    assert missing.json()["errors"][0]["message"] == "exec_time not set"


def _get(argo: Argo, path: str) -> Any:
    """The body of a v2 route (relative path) or of a full /api/v3 one."""
    if path.startswith("/api/"):
        return argo.client.get(path, headers=argo.headers(None)).json()
    return argo.get(path).json()


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [found] = [item for item in items if item["name"] == name]
    return found


def test_a_reports_thresholds_regrade_its_metric_timelines(argo: Argo, session: Session) -> None:
    """A report with a thresholds profile shows the re-graded status, with `view=details`
    with argo-web-api's `original_status`, `threshold_rule_applied` and `actual_data`; the
    report without one keeps the probe's status."""
    ids = make_profiles(argo, "-thr")
    ids["operations"] = argo.create(
        "operations_profiles", {**ops_document("thr-ops"), "date": "2015-01-01"}
    )
    rule = "val=1;;10:"  # CRITICAL above 10
    thresholds = {
        "date": "2015-01-01",
        "name": "thr",
        "rules": [{"metric": "a.metric", "thresholds": rule}],
    }
    ids["thresholds"] = argo.create("thresholds_profiles", thresholds)
    argo.create(
        "reports",
        seed_document(
            "critical_report.json",
            info={"name": "thr-report", "description": ""},
            profiles=[{"id": uuid, "type": kind} for kind, uuid in ids.items()],
        ),
    )
    session.add(
        MetricResult(
            timestamp=_at("2015-05-01T03:00:00Z"),
            hostname=HOST,
            service_type=SERVICE,
            metric="a.metric",
            status="OK",
            perfdata="val=20",
            source="test",
        )
    )
    session.commit()
    path = METRICS.replace("argo-test-report", "thr-report")
    found = argo.get(f"{path}/a.metric?{DAY}&view=details").json()
    [metric] = found["groups"][0]["services"][0]["endpoints"][0]["metrics"]
    assert metric["statuses"] == [
        {"timestamp": "2015-04-30T23:59:00Z", "value": "OK"},
        {"timestamp": "2015-05-01T01:00:00Z", "value": "CRITICAL"},
        {"timestamp": "2015-05-01T02:00:00Z", "value": "OK"},
        {
            "timestamp": "2015-05-01T03:00:00Z",
            "value": "CRITICAL",
            "actual_data": "val=20",
            "threshold_rule_applied": rule,
            "original_status": "OK",
        },
        {"timestamp": "2015-05-01T23:59:59Z", "value": "CRITICAL"},
    ]
    graded = metric["statuses"]
    # without view=details the same statuses, without the rule's fields (argo-web-api)
    bare = argo.get(f"{path}/a.metric?{DAY}").json()
    [metric] = bare["groups"][0]["services"][0]["endpoints"][0]["metrics"]
    assert metric["statuses"][3] == {"timestamp": "2015-05-01T03:00:00Z", "value": "CRITICAL"}
    assert [s["value"] for s in metric["statuses"]] == [s["value"] for s in graded]
    plain = argo.get(f"{METRICS}/a.metric?{DAY}").json()
    [metric] = plain["groups"][0]["services"][0]["endpoints"][0]["metrics"]
    assert [s["value"] for s in metric["statuses"]] == ["OK", "CRITICAL", "OK", "OK"]
    # the flat list applies the same thresholds, and leaves them out without a profile
    for model in (Report, MetricProfile, AggregationProfile, OperationsProfile):
        session.execute(update(model).values(date=dt.date(2015, 1, 1)))  # valid in 2015
    session.commit()
    flat = argo.get(f"/status/thr-report/metrics/a.metric?{DAY}&view=details").json()
    assert [(item["name"], item["statuses"]) for item in flat["results"]] == [(HOST, graded)]
    flat = argo.get(f"/status/thr-report/metrics/a.metric?{DAY}").json()
    assert all("original_status" not in s for s in flat["results"][0]["statuses"])
    flat = argo.get(f"/status/argo-test-report/metrics/a.metric?{DAY}").json()["results"]
    assert [s["value"] for s in flat[0]["statuses"]] == ["OK", "CRITICAL", "OK", "OK"]

    # view=details: the endpoint's, its service's and its site's timelines carry ARGO's
    # affected_by_threshold_rule on every status but the closing point
    site = "/status/thr-report/SITE/SITE-A"
    for path, pick in (
        (
            f"{site}/services/{SERVICE}/endpoints",
            lambda b: b["groups"][0]["services"][0]["endpoints"][0],
        ),
        (f"{site}/services", lambda b: b["groups"][0]["services"][0]),
        (site, lambda b: b["groups"][0]),
        ("/status/thr-report/endpoints", lambda b: _named(b["results"], HOST)),
        ("/api/v3/status/thr-report", lambda b: _named(b["groups"], "SITE-A")),
        ("/api/v3/status/thr-report", lambda b: _named(b["groups"], "SITE-A")["endpoints"][0]),
    ):
        statuses = pick(_get(argo, f"{path}?{DAY}&view=details"))["statuses"]
        assert [s.get("affected_by_threshold_rule") for s in statuses] == [True] * (
            len(statuses) - 1
        ) + [None], path
        plain = pick(_get(argo, f"{path}?{DAY}"))["statuses"]
        assert all("affected_by_threshold_rule" not in s for s in plain), path
        other = path.replace("thr-report", "argo-test-report")
        unruled = pick(_get(argo, f"{other}?{DAY}&view=details"))["statuses"]
        assert all("affected_by_threshold_rule" not in s for s in unruled), other
