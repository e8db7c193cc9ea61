"""ARGO's v2 catalogue routes on the in-process app: profiles, weights and reports as ARGO
lists, creates, versions by date, updates and deletes them, in its JSON and with its
messages; what the catalogue refuses, in ARGO's words, writing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.time import utcnow
from tests.compat.argo import (
    ADMIN,
    JSON,
    Argo,
    make_keys,
    make_profiles,
    ops_document,
    seed_document,
)
from tests.conftest import AppFactory
from tests.refusals import fingerprint, writes_nothing


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    return Argo(make_client().client, make_keys(session))


def test_an_operations_profile_round_trip(argo: Argo) -> None:
    document = ops_document()
    response = argo.call("POST", "/operations_profiles", document)
    assert response.status_code == 201
    body = response.json()
    uuid = body["data"]["id"]
    assert body == {
        "status": {"message": "Operations Profile successfully created", "code": "201"},
        "data": {
            "id": uuid,
            "links": {"self": f"http://testserver/api/v2/operations_profiles/{uuid}"},
        },
    }
    today = utcnow().date().isoformat()
    expected = {"id": uuid, "date": today, **document}
    assert argo.data(f"/operations_profiles/{uuid}") == [expected]
    assert expected in argo.data("/operations_profiles")
    assert argo.data("/operations_profiles?name=argo-test-ops") == [expected]
    assert argo.data("/operations_profiles?name=nothing") == []


def test_versions_by_date(argo: Argo) -> None:
    uuid = argo.create("operations_profiles", ops_document(), "?date=2020-01-01")
    changed = ops_document()
    changed["defaults"] = {**changed["defaults"], "unknown": "MISSING"}
    response = argo.call("PUT", f"/operations_profiles/{uuid}?date=2021-06-01", changed)
    assert response.json() == {
        "status": {"message": "Operations Profile successfully updated", "code": "200"}
    }
    old = argo.data(f"/operations_profiles/{uuid}?date=2021-05-31")
    new = argo.data(f"/operations_profiles/{uuid}")
    assert (old[0]["date"], old[0]["defaults"]["unknown"]) == ("2020-01-01", "UNKNOWN")
    assert (new[0]["date"], new[0]["defaults"]["unknown"]) == ("2021-06-01", "MISSING")
    missing = argo.get(f"/operations_profiles/{uuid}?date=2019-12-31")
    assert missing.status_code == 404
    assert missing.json()["status"] == {"message": "Not Found", "code": "404"}
    assert uuid not in [p["id"] for p in argo.data("/operations_profiles?date=2019-12-31")]
    # the body's own date wins over ?date=, as in ARGO
    dated = {**changed, "date": "2022-01-01"}
    assert argo.call("PUT", f"/operations_profiles/{uuid}?date=2023-01-01", dated).is_success
    assert argo.data(f"/operations_profiles/{uuid}?date=2022-12-31")[0]["date"] == "2022-01-01"


def test_every_resource_and_a_report(argo: Argo) -> None:
    ids = make_profiles(argo)
    thresholds = argo.create(
        "thresholds_profiles",
        {"name": "argo-test-thr", "rules": [{"metric": "m", "thresholds": "time=1s;10;9:30;0;30"}]},
    )
    weights = argo.create(
        "weights",
        {
            "name": "argo-test-w",
            "weight_type": "hepspec",
            "group_type": "SITES",
            "groups": [{"name": "site-a", "value": 336}, {"name": "site-b", "value": 3.33}],
        },
    )
    report = seed_document(
        "critical_report.json",
        info={"name": "argo-test-report", "description": "d"},
        profiles=[
            {"id": ids["metric"], "type": "metric"},
            {"id": ids["operations"], "type": "operations"},
            {"id": ids["aggregation"], "type": "aggregation"},
            {"id": thresholds, "type": "thresholds"},
            {"id": weights, "type": "weights"},
        ],
    )
    response = argo.call("POST", "/reports", report)
    assert response.status_code == 201
    assert response.json()["status"] == {"message": "Successfully Created Report", "code": "201"}
    uuid = response.json()["data"]["id"]
    [shown] = argo.data(f"/reports/{uuid}")
    assert "date" not in shown
    assert shown["info"] == {"name": "argo-test-report", "description": "d"}
    assert [(p["type"], p["name"]) for p in shown["profiles"]] == [
        ("metric", "argo-test-mp"),
        ("operations", "argo-test-ops"),
        ("aggregation", "argo-test-agg"),
        ("thresholds", "argo-test-thr"),
        ("weights", "argo-test-w"),
    ]
    assert argo.data("/reports?name=argo-test-report") == [shown]
    [w] = argo.data(f"/weights/{weights}")
    assert w["groups"] == [{"name": "site-a", "value": 336}, {"name": "site-b", "value": 3.33}]
    [mp] = argo.data(f"/metric_profiles/{ids['metric']}")
    assert mp["name"] == "argo-test-mp"
    assert mp["services"] == seed_document("argo_mon_critical.json")["services"]
    [agg] = argo.data(f"/aggregation_profiles/{ids['aggregation']}")
    assert agg["metric_profile"] == {"name": "argo-test-mp", "id": ids["metric"]}

    # answers to updates: a self reference for some kinds, a message for others
    updated = argo.call("PUT", f"/weights/{weights}", {**argo.data(f"/weights/{weights}")[0]})
    assert updated.json()["status"] == {
        "message": "Weight resource successfully updated",
        "code": "200",
    }
    assert updated.json()["data"]["id"] == weights
    renamed = {**report, "info": {"name": "argo-test-report-2", "description": ""}}
    assert argo.call("PUT", f"/reports/{uuid}", renamed).json() == {
        "status": {"message": "Report was successfully updated", "code": "200"}
    }
    assert argo.data(f"/reports/{uuid}")[0]["info"]["name"] == "argo-test-report-2"

    # a profile a report uses is not deleted; the report first, then the profile
    in_use = argo.call("DELETE", f"/weights/{weights}")
    assert in_use.status_code == 409
    assert in_use.json()["status"] == {"message": "Conflict", "code": "409"}
    assert argo.call("DELETE", f"/reports/{uuid}").json() == {
        "status": {"message": "Report was successfully deleted", "code": "200"}
    }
    assert argo.call("DELETE", f"/weights/{weights}").json() == {
        "status": {"message": "Weight resource Successfully Deleted", "code": "200"}
    }
    assert argo.get(f"/weights/{weights}").status_code == 404


def test_a_name_taken_is_argo_s_409(argo: Argo, session: Session) -> None:
    argo.create("operations_profiles", ops_document())
    with writes_nothing(session):
        response = argo.call("POST", "/operations_profiles", ops_document())
        assert response.status_code == 409
        assert response.json()["errors"][0]["details"].startswith("body.name")


@pytest.mark.parametrize(
    ("resource", "body", "field"),
    [
        ("operations_profiles", {"name": "x"}, "body.available_states"),
        ("operations_profiles", {**seed_document("egi_ops.json"), "extra": 1}, "body.extra"),
        ("metric_profiles", {"name": "", "services": []}, "body.name"),
        ("thresholds_profiles", {"name": "t", "rules": [{"thresholds": "bad01=33;33s"}]}, ""),
        ("reports", {"info": {"name": "r"}}, "body.topology_schema"),
    ],
)
def test_a_profile_that_breaks_a_rule_is_argo_s_422(
    argo: Argo, session: Session, resource: str, body: dict[str, Any], field: str
) -> None:
    with writes_nothing(session):
        response = argo.call("POST", f"/{resource}", body)
        assert response.status_code == 422, response.text
        answer = response.json()
        assert answer["status"] == {"message": "Validation Error", "code": "422"}
        assert answer["errors"][0]["message"] == "Validation Failed"
        assert answer["errors"][0]["details"].startswith(field)


def test_unknown_ids_and_bad_requests(argo: Argo, session: Session) -> None:
    argo.call("GET", "/operations_profiles", who=ADMIN)  # the key's first use is recorded
    before = fingerprint(session)
    for method, body in (("GET", None), ("PUT", ops_document()), ("DELETE", None)):
        response = argo.call(method, "/operations_profiles/no-such-id", body, who=ADMIN)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["status"]["code"] == "404"
    bad_json = argo.client.post(
        "/api/v2/operations_profiles", content=b"{", headers=argo.headers(ADMIN)
    )
    assert bad_json.status_code == 400
    bad_key = argo.client.post(
        "/api/v2/operations_profiles", content=b"{", headers={**JSON, "x-api-key": "nope"}
    )
    assert bad_key.status_code == 401  # ARGO refuses the key before it reads the body
    assert argo.get("/operations_profiles?date=2020-13-01").status_code == 400
    assert (
        argo.call("POST", "/operations_profiles?date=yesterday", ops_document()).status_code == 400
    )
    assert fingerprint(session) == before
