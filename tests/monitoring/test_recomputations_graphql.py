"""Recomputations over GraphQL: an NGI's operations manager makes one over a site of the
NGI, reads it (the requester's e-mail shows to them, not to the anonymous caller) in the
list and by id, replaces it (updateRecomputation) and deletes it; the anonymous caller gets
UNAUTHENTICATED, a user without the role FORBIDDEN, and neither writes anything; bad input
names field and rule; the manager moves it through ARGO's workflow
(setRecomputationStatus)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient
from tests.identity.helpers import grant
from tests.monitoring import test_availability_service as base
from tests.refusals import assert_invalid, assert_refused

world = base.world  # the fixture
MUTATIONS = frozenset(
    {
        "createRecomputation",
        "updateRecomputation",
        "deleteRecomputation",
        "setRecomputationStatus",
    }
)
CREATE = (
    "mutation($i: CreateRecomputationInput!) { createRecomputation(input: $i) "
    "{ recomputation { id uuid report exclude requesterEmail status "
    "appliedStatusChanges { state group endpoint startTime } "
    "excludeMetrics { metric hostname } excludeMonitoringSource { host startTime } } } }"
)
UPDATE = CREATE.replace("CreateRecomputationInput", "UpdateRecomputationInput").replace(
    "createRecomputation", "updateRecomputation"
)
LIST = (
    "query($r: String, $d: Date) { recomputations(report: $r, day: $d) "
    "{ edges { node { id uuid requesterName requesterEmail manageable startTime } } } }"
)


def _values(world: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "report": "ar-test-report",
        "requesterName": "Jane Doe",
        "requesterEmail": "jane@example.org",
        "reason": "power cut",
        "startTime": "2025-05-10T06:00:00Z",
        "endTime": "2025-05-10T12:00:00Z",
        "exclude": [world["site"]],
        **more,
    }


@pytest.fixture
def manager(callers: Callers, session: Session, world: dict[str, Any]) -> GraphQLClient:
    client = callers.as_user("recompute.ngi@egi.eu")
    client.data("{ viewer { subject } }")  # first sight writes the user row
    ngi = session.execute(
        text("SELECT n.name FROM site s JOIN ngi n ON n.id = s.ngi_id WHERE s.short_name = :s"),
        {"s": world["site"]},
    ).scalar_one()
    grant(session, "recompute.ngi@egi.eu", "NGI Operations Manager", "ngi", str(ngi))
    return client


@pytest.fixture
def made(manager: GraphQLClient, world: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = manager.data(CREATE, {"i": _values(world)})["createRecomputation"][
        "recomputation"
    ]
    return found


def test_refused_callers_write_nothing(
    callers: Callers, session: Session, world: dict[str, Any], made: dict[str, Any]
) -> None:
    stranger = callers.as_user("recompute.stranger@egi.eu")
    stranger.data("{ viewer { subject } }")  # first sight writes the user row
    cases = {
        "createRecomputation": _values(world),
        "updateRecomputation": {"id": made["id"], **_values(world, reason="not theirs")},
        "deleteRecomputation": {"id": made["id"]},
        "setRecomputationStatus": {"id": made["id"], "status": "rejected"},
    }
    for name, values in cases.items():
        assert_refused(callers.anonymous, session, name, values, "UNAUTHENTICATED")
        assert_refused(stranger, session, name, values, "FORBIDDEN")


def test_the_manager_makes_reads_and_deletes_one(
    callers: Callers, manager: GraphQLClient, world: dict[str, Any], made: dict[str, Any]
) -> None:
    assert (made["report"], made["exclude"], made["status"]) == (
        "ar-test-report",
        [world["site"]],
        "approved",
    )
    assert made["requesterEmail"] == "jane@example.org"
    detailed = manager.data(
        CREATE,
        {
            "i": _values(
                world,
                exclude=[],
                excludeMetrics=[{"metric": "m", "hostname": world["host"]}],
                appliedStatusChanges=[
                    {"state": "ok", "group": world["site"], "startTime": "2025-05-10T07:00:00Z"}
                ],
            )
        },
    )["createRecomputation"]["recomputation"]
    assert detailed["excludeMetrics"] == [{"metric": "m", "hostname": world["host"]}]
    assert detailed["appliedStatusChanges"] == [
        {
            "state": "OK",
            "group": world["site"],
            "endpoint": None,
            "startTime": "2025-05-10T07:00:00+00:00",
        }
    ]
    variables = {"r": "ar-test-report", "d": "2025-05-10"}
    mine = manager.data(LIST, variables)["recomputations"]["edges"]
    assert [e["node"]["uuid"] for e in mine] == [made["uuid"], detailed["uuid"]]
    assert mine[0]["node"]["requesterEmail"] == "jane@example.org"
    assert mine[0]["node"]["manageable"] is True
    public = callers.anonymous.data(LIST, variables)["recomputations"]["edges"]
    assert [e["node"]["requesterEmail"] for e in public] == [None, None]
    assert [e["node"]["manageable"] for e in public] == [False, False]
    assert callers.anonymous.data(LIST, {"d": "2025-05-11"})["recomputations"]["edges"] == []
    by_id = callers.anonymous.data(
        "query($id: ID!) { node(id: $id) { ... on Recomputation { uuid requesterName } } }",
        {"id": made["id"]},
    )["node"]
    assert by_id == {"uuid": made["uuid"], "requesterName": "Jane Doe"}
    # replaced whole: a metric exclusion instead of the site, its status kept
    replaced = manager.data(
        UPDATE,
        {
            "i": {
                "id": made["id"],
                **_values(
                    world, exclude=[], excludeMetrics=[{"metric": "m", "group": world["site"]}]
                ),
            }
        },
    )["updateRecomputation"]["recomputation"]
    assert (replaced["uuid"], replaced["exclude"], replaced["status"]) == (
        made["uuid"],
        [],
        "approved",
    )
    assert replaced["excludeMetrics"] == [{"metric": "m", "hostname": None}]
    manager.data(
        "mutation($i: DeleteRecomputationInput!) { deleteRecomputation(input: $i) { id } }",
        {"i": {"id": made["id"]}},
    )
    assert manager.data("query($id: ID!) { node(id: $id) { id } }", {"id": made["id"]}) == {
        "node": None
    }


def test_bad_input_names_field_and_rule(
    manager: GraphQLClient, session: Session, world: dict[str, Any], made: dict[str, Any]
) -> None:
    for values, field, rule in (
        ({"exclude": ["no-such-site"]}, "input.exclude[0]", "RECOMPUTATION_SITE_UNKNOWN"),
        ({"endTime": "2025-05-01T00:00:00Z"}, "input.endTime", "MONITORING_PERIOD_REVERSED"),
        (
            {"appliedStatusChanges": [{"state": "BLUE", "group": world["site"]}]},
            "input.appliedStatusChanges[0].state",
            "RECOMPUTATION_STATE_UNKNOWN",
        ),
    ):
        assert_invalid(manager, session, CREATE, {"i": _values(world, **values)}, field, rule)
    # a replacement names its fields as a creation does
    host = {"excludeMetrics": [{"metric": "m", "hostname": "no.such.host"}]}
    assert_invalid(
        manager,
        session,
        UPDATE,
        {"i": {"id": made["id"], **_values(world, **host)}},
        "input.excludeMetrics[0].hostname",
        "RECOMPUTATION_HOST_UNKNOWN",
    )


STATUS = (
    "mutation($i: SetRecomputationStatusInput!) { setRecomputationStatus(input: $i) "
    "{ recomputation { id status } } }"
)


def test_the_manager_moves_it_through_the_workflow(
    manager: GraphQLClient, session: Session, made: dict[str, Any]
) -> None:
    for wanted in ("Rejected", "pending", "approved", "running", "done"):
        moved = manager.data(STATUS, {"i": {"id": made["id"], "status": wanted}})
        assert moved["setRecomputationStatus"]["recomputation"] == {
            "id": made["id"],
            "status": wanted.lower(),
        }
    assert_invalid(
        manager,
        session,
        STATUS,
        {"i": {"id": made["id"], "status": "finished"}},
        "input.status",
        "RECOMPUTATION_STATUS_UNKNOWN",
    )
