"""Editing, deleting and ending downtimes: GOCDB's rules, each broken by name with nothing
written, at the 24-hour lock to the second; partial ending; the audit of each change."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import GraphQLClient
from tests.downtimes.conftest import NOW, Clock, SiteFixture, declare
from tests.identity.helpers import global_id
from tests.refusals import assert_invalid

H = timedelta(hours=1)
S = timedelta(seconds=1)

UPDATE = """
mutation($i: UpdateDowntimeInput!) {
  updateDowntime(input: $i) {
    downtime {
      id classification severity startsAt endsAt description services { id } endpoints { id }
    }
  }
}
"""
DELETE = "mutation($id: ID!) { deleteDowntime(input: {id: $id}) { id } }"
END = "mutation($id: ID!) { endDowntime(input: {id: $id}) { downtime { id endsAt ongoing } } }"
END_SERVICES = """
mutation($id: ID!, $s: [ID!]!) {
  endDowntimeForServices(input: {id: $id, serviceIds: $s}) {
    downtime { id endsAt affectedServices { endedAt service { id } } }
  }
}
"""


def _update(client: GraphQLClient, downtime: str, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = client.data(UPDATE, {"i": {"id": downtime, **fields}})[
        "updateDowntime"
    ]["downtime"]
    return result


def _audit(session: Session) -> list[str]:
    return list(
        session.execute(
            text("SELECT action FROM audit_entry WHERE entity_type = 'downtime' ORDER BY id")
        ).scalars()
    )


def _events(session: Session) -> list[str]:
    return list(
        session.execute(
            text("SELECT kind FROM outbox_event WHERE kind LIKE 'downtime.%' ORDER BY id")
        ).scalars()
    )


def test_edit_recomputes_the_classification(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    made = declare(site_admin, target, start=72 * H, end=80 * H)
    assert made["classification"] == "SCHEDULED"
    # moved nearer (a future start, shorter): more than 24 h before the old start, allowed
    changed = _update(
        site_admin,
        made["id"],
        startsAt=(NOW + 2 * H).isoformat(),
        endsAt=(NOW + 3 * H).isoformat(),
        severity="WARNING",
        description="Shorter window",
    )
    assert changed["classification"] == "UNSCHEDULED"
    assert changed["severity"] == "WARNING"
    assert changed["description"] == "Shorter window"
    assert _audit(session) == ["downtime.declare", "downtime.update"]
    assert _events(session) == ["downtime.declared", "downtime.changed"]
    changes = session.execute(
        text("SELECT changes FROM audit_entry WHERE action = 'downtime.update'")
    ).scalar_one()
    assert set(json.loads(changes) if isinstance(changes, str) else changes) >= {
        "classification",
        "severity",
        "starts_at",
        "ends_at",
        "description",
    }


def test_edit_changes_services_within_the_site(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    made = declare(site_admin, target, start=2 * H, end=3 * H)
    endpoint = global_id("Endpoint", target.endpoint_ids[1])
    changed = _update(
        site_admin, made["id"], serviceIds=target.services[:1], endpointIds=[endpoint]
    )
    assert [s["id"] for s in changed["services"]] == target.services[:1]
    assert [e["id"] for e in changed["endpoints"]] == [endpoint]
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {
            "i": {
                "id": made["id"],
                "serviceIds": [global_id("Service", target.other_service_id)],
                "endpointIds": [],
            }
        },
        "input.serviceIds",
        "DOWNTIME_SERVICES_OF_ONE_SITE",
    )


def test_edit_rules_refused_by_name(
    site_admin: GraphQLClient, session: Session, target: SiteFixture, clock: Clock
) -> None:
    ongoing = declare(site_admin, target, start=-H, end=5 * H)
    # the duration may not grow, either end
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "endsAt": (NOW + 5 * H + S).isoformat()}},
        "input.endsAt",
        "DOWNTIME_DURATION_GROWS",
    )
    # a changed start must be in the future
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "startsAt": (NOW - H + S).isoformat()}},
        "input.startsAt",
        "DOWNTIME_START_NOT_IN_FUTURE",
    )
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "startsAt": NOW.isoformat(), "endsAt": (NOW + H).isoformat()}},
        "input.startsAt",
        "DOWNTIME_START_NOT_IN_FUTURE",
    )
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "description": "semi;colon"}},
        "input.description",
        "DOWNTIME_DESCRIPTION_FORBIDDEN_CHARACTERS",
    )
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "severity": None}},
        "input.severity",
        "DOWNTIME_FIELD_NULL",
    )
    # shortening an ongoing one is fine
    assert (
        _update(site_admin, ongoing["id"], endsAt=(NOW + H).isoformat())["endsAt"]
        == (NOW + H).isoformat()
    )
    # no edit once finished
    clock.advance(hours=1)
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": ongoing["id"], "description": "After the fact"}},
        "input.id",
        "DOWNTIME_FINISHED",
    )


def test_scheduled_lock_24_hours_before_the_start_to_the_second(
    site_admin: GraphQLClient, session: Session, target: SiteFixture, clock: Clock
) -> None:
    made = declare(site_admin, target, start=30 * H, end=32 * H)
    assert made["classification"] == "SCHEDULED"
    clock.advance(hours=6, seconds=-1)  # 24 h and 1 s before the start: still editable
    changed = _update(site_admin, made["id"], description="Last call")
    # computed again on the edit: the start is still more than 24 h away
    assert changed["classification"] == "SCHEDULED"
    clock.advance(seconds=1)  # exactly 24 h before: locked for edits and deletion
    assert_invalid(
        site_admin,
        session,
        UPDATE,
        {"i": {"id": made["id"], "description": "Too late"}},
        "input.id",
        "DOWNTIME_SCHEDULED_LOCKED",
    )
    assert_invalid(
        site_admin, session, DELETE, {"id": made["id"]}, "input.id", "DOWNTIME_SCHEDULED_LOCKED"
    )


def test_delete_only_before_the_start(
    site_admin: GraphQLClient, session: Session, target: SiteFixture, clock: Clock
) -> None:
    soon = declare(site_admin, target, start=2 * H, end=3 * H)  # UNSCHEDULED: no lock
    later = declare(site_admin, target, start=H, end=3 * H)
    assert site_admin.data(DELETE, {"id": soon["id"]})["deleteDowntime"]["id"] == soon["id"]
    assert session.execute(text("SELECT count(*) FROM downtime")).scalar_one() == 1
    assert _events(session)[-1] == "downtime.cancelled"
    assert _audit(session)[-1] == "downtime.delete"
    clock.advance(hours=1)  # `later` starts now
    assert_invalid(
        site_admin, session, DELETE, {"id": later["id"]}, "input.id", "DOWNTIME_ALREADY_STARTED"
    )


def test_end_now_sets_the_end_60_seconds_ahead(
    site_admin: GraphQLClient, session: Session, target: SiteFixture, clock: Clock
) -> None:
    ongoing = declare(site_admin, target, start=-H, end=5 * H)
    upcoming = declare(site_admin, target, start=H, end=5 * H)
    ended = site_admin.data(END, {"id": ongoing["id"]})["endDowntime"]["downtime"]
    assert ended["endsAt"] == (NOW + timedelta(seconds=60)).isoformat()
    assert ended["ongoing"] is True
    assert_invalid(
        site_admin, session, END, {"id": upcoming["id"]}, "input.id", "DOWNTIME_NOT_ONGOING"
    )
    clock.advance(seconds=60)
    assert_invalid(
        site_admin, session, END, {"id": ongoing["id"]}, "input.id", "DOWNTIME_NOT_ONGOING"
    )
    assert _audit(session)[-1] == "downtime.end"


def test_partial_ending_of_some_services(
    site_admin: GraphQLClient, session: Session, target: SiteFixture
) -> None:
    ongoing = declare(site_admin, target, start=-H, end=5 * H)
    first, second = target.services
    result = site_admin.data(END_SERVICES, {"id": ongoing["id"], "s": [first]})
    state = {
        a["service"]["id"]: a["endedAt"]
        for a in result["endDowntimeForServices"]["downtime"]["affectedServices"]
    }
    soon = (NOW + timedelta(seconds=60)).isoformat()
    assert state == {first: soon, second: None}
    assert result["endDowntimeForServices"]["downtime"]["endsAt"] == (NOW + 5 * H).isoformat()
    assert_invalid(
        site_admin,
        session,
        END_SERVICES,
        {"id": ongoing["id"], "s": [global_id("Service", target.other_service_id)]},
        "input.serviceIds",
        "DOWNTIME_SERVICE_NOT_AFFECTED",
    )
    assert_invalid(
        site_admin,
        session,
        END_SERVICES,
        {"id": ongoing["id"], "s": []},
        "input.serviceIds",
        "DOWNTIME_SERVICES_REQUIRED",
    )
    # ending the last one ends the downtime itself
    result = site_admin.data(END_SERVICES, {"id": ongoing["id"], "s": [second]})
    assert result["endDowntimeForServices"]["downtime"]["endsAt"] == soon
    assert _audit(session)[-2:] == ["downtime.end_services", "downtime.end_services"]


@pytest.mark.parametrize("query", [DELETE, END])
def test_unknown_downtime_is_not_found(site_admin: GraphQLClient, query: str) -> None:
    error = site_admin.error(query, {"id": global_id("Downtime", 10**8)})
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_an_ongoing_downtime_that_began_over_48_hours_ago_can_still_be_shortened(
    site_admin: GraphQLClient, target: SiteFixture, clock: Clock
) -> None:
    made = declare(site_admin, target, start=-47 * H, end=10 * H)
    clock.advance(hours=2)  # the unchanged start now lies 49 h back
    changed = _update(site_admin, made["id"], endsAt=(NOW + 5 * H).isoformat())
    assert changed["endsAt"] == (NOW + 5 * H).isoformat()


def test_an_edit_keeps_early_ends_within_the_downtime(
    site_admin: GraphQLClient, target: SiteFixture, clock: Clock
) -> None:
    ongoing = declare(site_admin, target, start=-H, end=5 * H)
    first, second = target.services
    site_admin.data(END_SERVICES, {"id": ongoing["id"], "s": [first]})
    clock.advance(seconds=10)
    # a new endpoint list keeps the first service's early end
    endpoint = global_id("Endpoint", target.endpoint_ids[0])
    _update(site_admin, ongoing["id"], endpointIds=[endpoint])
    # shortened to before that early end: the service leaves with the downtime
    changed = site_admin.data(
        UPDATE.replace("endpoints { id }", "affectedServices { endedAt service { id } }"),
        {"i": {"id": ongoing["id"], "endsAt": (NOW + timedelta(seconds=30)).isoformat()}},
    )["updateDowntime"]["downtime"]
    state = {a["service"]["id"]: a["endedAt"] for a in changed["affectedServices"]}
    assert state == {first: (NOW + timedelta(seconds=30)).isoformat(), second: None}
