"""Downtime subscriptions over GraphQL: each mutation by its owner, by the anonymous caller
(UNAUTHENTICATED) and by another user (NOT_FOUND), the refused ones writing nothing; bad
input is BAD_USER_INPUT naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient
from tests.downtimes.notify_world import Target
from tests.identity.helpers import snapshot

FIELDS = "id name ngi site host serviceType vo events email webhookUrl enabled createdAt"
SUBSCRIBE = f"""
mutation($input: SubscribeToDowntimesInput!) {{
  subscribeToDowntimes(input: $input) {{ subscription {{ {FIELDS} topic {{ project topic }} }} }}
}}"""
UPDATE = f"""
mutation($input: UpdateDowntimeSubscriptionInput!) {{
  updateDowntimeSubscription(input: $input) {{ subscription {{ {FIELDS} }} }}
}}"""
DELETE = "mutation($id: ID!) { deleteDowntimeSubscription(input: {id: $id}) { id } }"
MINE = f"{{ myDowntimeSubscriptions {{ nodes {{ {FIELDS} }} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on DowntimeSubscription { name } } }"


def _input(where: Target, **extra: Any) -> dict[str, Any]:
    return {
        "name": "my site",
        "site": where.site,
        "events": ["DECLARED", "STARTED", "ENDED"],
        "email": True,
        **extra,
    }


def _subscribe(client: GraphQLClient, where: Target, **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = client.data(SUBSCRIBE, {"input": _input(where, **extra)})[
        "subscribeToDowntimes"
    ]["subscription"]
    return made


def test_a_user_subscribes_lists_updates_and_deletes(callers: Callers, where: Target) -> None:
    alice = callers.as_user("alice@egi.eu")
    made = _subscribe(alice, where, webhookUrl="https://hooks.example.org/dt")
    assert made["site"] == where.site
    assert made["ngi"] is None
    assert made["events"] == ["DECLARED", "STARTED", "ENDED"]
    assert (made["email"], made["webhookUrl"], made["enabled"]) == (
        True,
        "https://hooks.example.org/dt",
        True,
    )
    assert alice.data(MINE)["myDowntimeSubscriptions"]["nodes"] == [
        {k: v for k, v in made.items() if k != "topic"}
    ]
    assert alice.data(NODE, {"id": made["id"]})["node"] == {"id": made["id"], "name": "my site"}

    updated = alice.data(
        UPDATE,
        {
            "input": {
                "id": made["id"],
                "name": "my NGI",
                "ngi": where.ngi,
                "events": ["CANCELLED"],
                "email": True,
                "enabled": False,
            }
        },
    )["updateDowntimeSubscription"]["subscription"]
    assert (updated["id"], updated["name"], updated["ngi"], updated["site"]) == (
        made["id"],
        "my NGI",
        where.ngi,
        None,
    )
    assert (updated["events"], updated["enabled"], updated["webhookUrl"]) == (
        ["CANCELLED"],
        False,
        None,
    )
    assert alice.data(DELETE, {"id": made["id"]})["deleteDowntimeSubscription"] == {
        "id": made["id"]
    }
    assert alice.data(MINE)["myDowntimeSubscriptions"]["nodes"] == []


def test_the_anonymous_caller_is_unauthenticated_and_writes_nothing(
    callers: Callers, session: Session, where: Target
) -> None:
    alice = callers.as_user("alice@egi.eu")
    made = _subscribe(alice, where)
    before = snapshot(session)
    anonymous = callers.anonymous
    for query, variables in (
        (SUBSCRIBE, {"input": _input(where)}),
        (UPDATE, {"input": {**_input(where), "id": made["id"], "name": "taken"}}),
        (DELETE, {"id": made["id"]}),
        (MINE, {}),
    ):
        error = anonymous.error(query, variables)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", query
    assert snapshot(session) == before
    assert anonymous.data(NODE, {"id": made["id"]})["node"] is None


def test_another_user_cannot_see_or_touch_a_subscription(
    callers: Callers, session: Session, where: Target
) -> None:
    alice = callers.as_user("alice@egi.eu")
    made = _subscribe(alice, where)
    bob = callers.as_user("bob@egi.eu")
    assert bob.data(MINE)["myDowntimeSubscriptions"]["nodes"] == []  # bob exists from here on
    before = snapshot(session)
    for query, variables in (
        (UPDATE, {"input": {**_input(where), "id": made["id"], "name": "bob's now"}}),
        (DELETE, {"id": made["id"]}),
    ):
        error = bob.error(query, variables)
        assert error["extensions"]["code"] == "NOT_FOUND", query
    assert snapshot(session) == before
    assert bob.data(NODE, {"id": made["id"]})["node"] is None
    assert [s["name"] for s in alice.data(MINE)["myDowntimeSubscriptions"]["nodes"]] == ["my site"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"site": "NO-SUCH-SITE"}, "input.site"),
        ({"ngi": "NGI_NOWHERE"}, "input.ngi"),
        ({"serviceType": "no.such.type"}, "input.serviceType"),
        ({"webhookUrl": "mailto:ops@example.org"}, "input.webhookUrl"),
        ({"events": []}, "input.events"),
        ({"email": False}, "input.email"),
        ({"topic": {"project": "NOPE", "topic": "downtimes"}}, "input.topic"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    callers: Callers, session: Session, where: Target, extra: dict[str, Any], field: str
) -> None:
    alice = callers.as_user("alice@egi.eu")
    assert alice.data(MINE)["myDowntimeSubscriptions"]["nodes"] == []
    before = snapshot(session)
    error = alice.error(SUBSCRIBE, {"input": _input(where, **extra)})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert snapshot(session) == before


def test_an_id_of_another_type_is_bad_input(callers: Callers, where: Target) -> None:
    alice = callers.as_user("alice@egi.eu")
    error = alice.error(DELETE, {"id": "U2l0ZTox"})  # Site:1
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "input.id"


PAGE = """
query($first: Int, $after: String) {
  myDowntimeSubscriptions(first: $first, after: $after) {
    totalCount nodes { name } pageInfo { hasNextPage endCursor }
  }
}"""


def test_my_subscriptions_are_a_connection_paged_oldest_first(
    callers: Callers, where: Target
) -> None:
    alice = callers.as_user("alice@egi.eu")
    for name in ("first", "second", "third"):
        _subscribe(alice, where, name=name)
    _subscribe(callers.as_user("bob@egi.eu"), where, name="bob's")
    page = alice.data(PAGE, {"first": 2})["myDowntimeSubscriptions"]
    assert [n["name"] for n in page["nodes"]] == ["first", "second"]
    assert (page["totalCount"], page["pageInfo"]["hasNextPage"]) == (3, True)
    rest = alice.data(PAGE, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    assert [n["name"] for n in rest["myDowntimeSubscriptions"]["nodes"]] == ["third"]
    assert rest["myDowntimeSubscriptions"]["pageInfo"]["hasNextPage"] is False
