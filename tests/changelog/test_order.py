"""`changes(order:)`: the change log newest first as well as oldest first (the default, as
before), with cursors that continue in the order they were given with, and the primary
key's index serving the newest-first order on both backends (issue 12: the front end's
/changes opens on the latest entries)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.identity import Principal
from tests.conftest import Callers

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)
ACTOR = "order.test@egi.eu"

PAGE = """
query($first: Int, $after: String, $order: ChangeOrder!, $actor: String) {
  changes(filter: {actor: $actor}, first: $first, after: $after, order: $order) {
    nodes { id reason }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}"""


@pytest.fixture
def entries(session: Session) -> list[str]:
    """Seven entries by one actor, in the order they were written."""
    reasons = [f"entry {i}" for i in range(7)]
    for reason in reasons:
        audit.record(
            session,
            Principal(subject=ACTOR),
            action="site.update",
            entity_type="site",
            entity_id=1,
            changes={"description": ["a", "b"]},
            reason=reason,
        )
    session.commit()
    return reasons


def _walk(client: Any, order: str, first: int) -> list[str]:
    found: list[str] = []
    after = None
    seen_pages = 0
    while True:
        page = client.data(PAGE, {"first": first, "after": after, "order": order, "actor": ACTOR})[
            "changes"
        ]
        assert page["totalCount"] == 7
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        found += [n["reason"] for n in page["nodes"]]
        seen_pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            assert seen_pages == -(-7 // first)
            return found
        after = page["pageInfo"]["endCursor"]


def test_paging_in_both_orders(callers: Callers, entries: list[str]) -> None:
    admin = callers.as_user("root@egi.eu", entitlements=ADMIN)
    for first in (1, 3, 7, 100):
        assert _walk(admin, "OLDEST_FIRST", first) == entries
        assert _walk(admin, "NEWEST_FIRST", first) == entries[::-1]


def test_the_default_order_is_oldest_first(callers: Callers, entries: list[str]) -> None:
    admin = callers.as_user("root@egi.eu", entitlements=ADMIN)
    query = "query($a: String) { changes(filter: {actor: $a}, first: 3) { nodes { reason } } }"
    nodes = admin.data(query, {"a": ACTOR})["changes"]["nodes"]
    assert [n["reason"] for n in nodes] == entries[:3]


def test_newest_first_opens_on_the_latest_entry(
    callers: Callers, entries: list[str], session: Session
) -> None:
    admin = callers.as_user("root@egi.eu", entitlements=ADMIN)
    query = "{ changes(first: 2, order: NEWEST_FIRST) { nodes { reason } totalCount } }"
    found = admin.data(query)["changes"]
    assert [n["reason"] for n in found["nodes"]] == entries[::-1][:2]
    everything = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
    assert found["totalCount"] == everything > 7


def test_a_cursor_continues_in_the_order_it_was_given_with(
    callers: Callers, entries: list[str]
) -> None:
    """The cursor names an entry; what follows it depends on the order asked for."""
    admin = callers.as_user("root@egi.eu", entitlements=ADMIN)
    vars_: dict[str, Any] = {"first": 3, "after": None, "actor": ACTOR}
    middle = admin.data(PAGE, {**vars_, "order": "OLDEST_FIRST"})["changes"]["pageInfo"]
    cursor = middle["endCursor"]  # entry 2
    older = admin.data(PAGE, {**vars_, "after": cursor, "order": "NEWEST_FIRST"})["changes"]
    assert [n["reason"] for n in older["nodes"]] == ["entry 1", "entry 0"]
    assert older["pageInfo"]["hasNextPage"] is False
    newer = admin.data(PAGE, {**vars_, "after": cursor, "order": "OLDEST_FIRST"})["changes"]
    assert [n["reason"] for n in newer["nodes"]] == ["entry 3", "entry 4", "entry 5"]


def test_an_unknown_order_is_refused(callers: Callers) -> None:
    admin = callers.as_user("root@egi.eu", entitlements=ADMIN)
    error = admin.error("{ changes(order: SIDEWAYS) { totalCount } }")
    assert "SIDEWAYS" in error["message"]
    assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")


def test_the_primary_key_index_serves_newest_first(session: Session) -> None:
    """What the benchmark's first page newest first needs: no sort of the whole log."""
    query = "SELECT id FROM audit_entry ORDER BY id DESC LIMIT 51"
    if session.get_bind().dialect.name == "sqlite":
        plan = " ".join(
            str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {query}"))
        )
        assert "TEMP B-TREE" not in plan.upper(), plan
    else:
        session.execute(text("SET LOCAL enable_sort = off"))
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(row[0]) for row in session.execute(text(f"EXPLAIN {query}")))
        assert "Scan Backward using pk_audit_entry" in plan, plan
