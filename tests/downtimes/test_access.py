"""Every downtime mutation: the anonymous caller gets UNAUTHENTICATED, a caller whose
roles do not reach the site (none, or a role on another site) gets FORBIDDEN, and neither
writes anything, audit entries and outbox events included. An NGI role reaches the NGI's
sites; anybody may read downtimes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Callers, GraphQLClient
from tests.downtimes.conftest import DECLARE, SiteFixture, declare, declare_input
from tests.downtimes.test_changes import DELETE, END, END_SERVICES, UPDATE
from tests.identity.helpers import grant, snapshot
from tests.refusals import writes_nothing

H = timedelta(hours=1)

Call = Callable[[SiteFixture, str], tuple[str, dict[str, Any]]]

CALLS: dict[str, Call] = {
    "declareDowntime": lambda t, _d: (DECLARE, {"i": declare_input(t, start=H, end=2 * H)}),
    "declareDowntimes": lambda t, _d: (
        "mutation($i: DeclareDowntimesInput!) { declareDowntimes(input: $i) { downtimes { id } } }",
        {"i": declare_input(t, start=H, end=2 * H)},
    ),
    "updateDowntime": lambda _t, d: (UPDATE, {"i": {"id": d, "description": "Changed"}}),
    "deleteDowntime": lambda _t, d: (DELETE, {"id": d}),
    "endDowntime": lambda _t, d: (END, {"id": d}),
    "endDowntimeForServices": lambda t, d: (END_SERVICES, {"id": d, "s": t.services[:1]}),
}
MUTATIONS = frozenset(CALLS)


@pytest.fixture
def downtimes(site_admin: GraphQLClient, target: SiteFixture) -> dict[str, str]:
    """An upcoming one (to edit and delete) and an ongoing one (to end)."""
    return {
        "upcoming": declare(site_admin, target, start=2 * H, end=3 * H)["id"],
        "ongoing": declare(site_admin, target, start=-H, end=3 * H)["id"],
    }


def _downtime_for(name: str, downtimes: dict[str, str]) -> str:
    return downtimes["ongoing" if name.startswith("end") else "upcoming"]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_anonymous_is_unauthenticated(
    clocked: Callers,
    session: Session,
    target: SiteFixture,
    downtimes: dict[str, str],
    name: str,
) -> None:
    query, variables = CALLS[name](target, _downtime_for(name, downtimes))
    with writes_nothing(session):
        error = clocked.anonymous.error(query, variables)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", error


@pytest.mark.parametrize("who", ["nobody", "sideways"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_wrong_role_is_forbidden(
    clocked: Callers,
    other_admin: GraphQLClient,
    session: Session,
    target: SiteFixture,
    downtimes: dict[str, str],
    name: str,
    who: str,
) -> None:
    client = other_admin if who == "sideways" else clocked.as_user("dt.nobody@egi.eu")
    query, variables = CALLS[name](target, _downtime_for(name, downtimes))
    with writes_nothing(session):
        error = client.error(query, variables)
        assert error["extensions"]["code"] == "FORBIDDEN", error


@pytest.mark.parametrize("name", sorted(CALLS))
def test_ngi_role_reaches_the_site(
    clocked: Callers,
    session: Session,
    target: SiteFixture,
    downtimes: dict[str, str],
    name: str,
) -> None:
    grant(session, "dt.ngi@egi.eu", "NGI Operations Manager", "ngi", target.ngi)
    query, variables = CALLS[name](target, _downtime_for(name, downtimes))
    before = snapshot(session)
    body = clocked.as_user("dt.ngi@egi.eu").post(query, variables)
    assert "errors" not in body, body
    after = snapshot(session)
    assert after["audit_entry"] > before["audit_entry"]


def test_anybody_reads_downtimes(
    clocked: Callers, target: SiteFixture, downtimes: dict[str, str]
) -> None:
    data = clocked.anonymous.data(
        "query { downtimes(filter: {scopes: []}) { totalCount nodes { id site { shortName } } } }"
    )
    assert data["downtimes"]["totalCount"] == 2
    assert {n["site"]["shortName"] for n in data["downtimes"]["nodes"]} == {target.site}
