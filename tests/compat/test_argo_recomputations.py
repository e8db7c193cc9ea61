"""ARGO's `/api/v2/recomputations` over the recomputation service, in argo-web-api's shapes:
a platform administrator's key creates (201 and its self reference), reads (`{"root":
[…]}`, filtered by report and date), replaces and deletes one; reads are public but show
the requester's e-mail only to who may manage it; without a key a write is 401, with an
ordinary user's 403, and neither writes anything; bad bodies are refused naming the field;
`/recomputations/{id}/status` moves it through ARGO's workflow (POST) and resets it (DELETE).
tests/test_permissions.py reads WRITES (through test_argo_write_access)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.compat.argo import USER, Argo, make_keys
from tests.conftest import AppFactory
from tests.monitoring import test_availability_service as base
from tests.refusals import writes_nothing

world = base.world  # the fixture
WRITES = {
    ("POST", "/api/v2/recomputations"),
    ("PUT", "/api/v2/recomputations/{id}"),
    ("DELETE", "/api/v2/recomputations/{id}"),
    ("POST", "/api/v2/recomputations/{id}/status"),
    ("DELETE", "/api/v2/recomputations/{id}/status"),
}


@pytest.fixture
def fast_executor() -> bool:
    """No GraphQL runs here: a second executor would only repeat the same calls."""
    return True


@pytest.fixture
def argo(make_client: AppFactory, session: Session) -> Argo:
    return Argo(make_client().client, make_keys(session))


def body(world: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "requester_name": "John Doe",
        "requester_email": "johndoe@example.org",
        "reason": "power cuts",
        "start_time": "2025-05-10T12:00:00Z",
        "end_time": "2025-05-10T18:00:00Z",
        "report": "ar-test-report",
        "exclude": [world["site"]],
        **more,
    }


def test_an_administrator_creates_reads_replaces_and_deletes_one(
    argo: Argo, world: dict[str, Any]
) -> None:
    sent = body(
        world,
        exclude_metrics=[{"metric": "check-1", "hostname": world["host"]}],
        applied_status_changes=[{"group": world["site"], "state": "CRITICAL"}],
    )
    created = argo.call("POST", "/recomputations", sent)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["status"] == {"message": "Recomputations successfully created", "code": "201"}
    uuid = answer["data"]["id"]
    assert answer["data"]["links"]["self"].endswith(f"/api/v2/recomputations/{uuid}")
    listed = argo.call("GET", "/recomputations")
    assert listed.status_code == 200
    [item] = [r for r in listed.json()["root"] if r["id"] == uuid]
    assert {k: item[k] for k in sent} == sent
    assert (item["status"], [h["status"] for h in item["history"]]) == ("approved", ["approved"])
    assert item["exclude_monitoring_source"] == []
    # filters: the report and a day of its period; another day has none
    for query, found in (
        ("?report=ar-test-report&date=2025-05-10", [uuid]),
        ("?date=2025-05-11", []),
        ("?report=no-such-report", []),
    ):
        assert [r["id"] for r in argo.call("GET", f"/recomputations{query}").json()["root"]] == (
            found
        )
    # public, without the requester's e-mail
    [anonymous] = argo.get(f"/recomputations/{uuid}").json()["root"]
    assert (anonymous["id"], anonymous["requester_email"]) == (uuid, "")
    [user] = argo.get(f"/recomputations/{uuid}", who=USER).json()["root"]
    assert user["requester_email"] == ""
    replaced = argo.call("PUT", f"/recomputations/{uuid}", {**sent, "reason": "ups"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json() == {
        "status": {"message": "Recomputation updated successfully", "code": "200"}
    }
    [again] = argo.call("GET", f"/recomputations/{uuid}").json()["root"]
    assert (again["reason"], again["requester_email"]) == ("ups", "johndoe@example.org")
    deleted = argo.call("DELETE", f"/recomputations/{uuid}")
    assert deleted.json() == {
        "status": {"message": "Recomputation Successfully Deleted", "code": "200"}
    }
    gone = argo.call("GET", f"/recomputations/{uuid}")
    assert (gone.status_code, gone.json()["status"]["code"]) == (404, "404")
    assert argo.call("DELETE", f"/recomputations/{uuid}").status_code == 404


def test_anonymous_is_401_and_another_user_403_writing_nothing(
    argo: Argo, session: Session, world: dict[str, Any]
) -> None:
    uuid = argo.call("POST", "/recomputations", body(world)).json()["data"]["id"]
    session.commit()
    with writes_nothing(session):
        for method, path in (
            ("POST", "/recomputations"),
            ("PUT", f"/recomputations/{uuid}"),
            ("DELETE", f"/recomputations/{uuid}"),
            ("POST", f"/recomputations/{uuid}/status"),
            ("DELETE", f"/recomputations/{uuid}/status"),
        ):
            sent = None if method == "DELETE" else body(world)
            if path.endswith("/status") and sent is not None:
                sent = {"status": "rejected"}
            anonymous = argo.call(method, path, sent, who=None)
            assert anonymous.status_code == 401, (method, anonymous.text)
            user = argo.call(method, path, sent, who=USER)
            assert user.status_code == 403, (method, user.text)
            assert user.json()["status"]["message"] == "Access to the resource is Forbidden"


def test_bad_requests_name_what_is_wrong(argo: Argo, world: dict[str, Any]) -> None:
    for sent, details in (
        (body(world, start_time="2025-05-10"), "body.start_time: a UTC time"),
        (body(world, exclude=["no-such-site"]), "body.exclude[0]: the short name"),
        (body(world, exclude_metrics=[{"metric": "m", "host": "h"}]), "body.exclude_metrics[0]"),
    ):
        refused = argo.call("POST", "/recomputations", sent)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["details"].startswith(details), refused.text
    malformed = argo.client.post(
        "/api/v2/recomputations", content=b"{", headers=argo.headers("argo-admin@example.org")
    )
    assert malformed.status_code == 400
    bad_date = argo.call("GET", "/recomputations?date=10-05-2025")
    assert bad_date.status_code == 400


def test_an_administrator_moves_it_through_the_workflow(argo: Argo, world: dict[str, Any]) -> None:
    uuid = argo.call("POST", "/recomputations", body(world)).json()["data"]["id"]
    for wanted in ("rejected", "approved", "running", "done"):
        moved = argo.call("POST", f"/recomputations/{uuid}/status", {"status": wanted})
        assert moved.status_code == 200, moved.text
        assert moved.json() == {
            "status": {
                "message": f"Recomputation status updated successfully to: {wanted}",
                "code": "200",
            }
        }
    reset = argo.call("DELETE", f"/recomputations/{uuid}/status")
    assert reset.status_code == 200, reset.text
    assert reset.json() == {
        "status": {"message": "Recomputation status reset to: pending", "code": "200"}
    }
    [item] = argo.call("GET", f"/recomputations/{uuid}").json()["root"]
    assert item["status"] == "pending"
    assert [h["status"] for h in item["history"]] == [
        "approved",
        "rejected",
        "approved",
        "running",
        "done",
        "pending",
    ]
    # a state ARGO does not have: its 409, naming the field; nothing changes
    for sent in ({"status": "finished"}, {"status": 3}, {}):
        refused = argo.call("POST", f"/recomputations/{uuid}/status", sent)
        assert refused.status_code == 409, refused.text
        assert "body.status" in refused.json()["errors"][0]["details"]
    [same] = argo.call("GET", f"/recomputations/{uuid}").json()["root"]
    assert (same["status"], len(same["history"])) == ("pending", 6)
    missing = argo.call("POST", "/recomputations/no-such-id/status", {"status": "done"})
    assert missing.status_code == 404
