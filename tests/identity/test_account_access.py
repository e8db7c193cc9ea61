"""The identity mutations the access matrix of topology does not hold (API tokens and role
requests): the anonymous caller gets UNAUTHENTICATED; a caller acting on what is not theirs
to decide gets FORBIDDEN, or NOT_FOUND where its existence is none of their business (another
user's token); neither writes anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.identity.service import tokens
from tests.conftest import Callers
from tests.identity.helpers import global_id, grant
from tests.refusals import assert_refused


class World(NamedTuple):
    site: str
    site_id: int
    other_site: str
    token_id: str  # owner@egi.eu's API token
    role_id: str  # newcomer@egi.eu's pending request for Site Administrator on `site`
    granted_id: str  # holder@egi.eu's granted Site Administrator role on `site`


@pytest.fixture
def world(callers: Callers, session: Session) -> World:
    (site_id, site), (_, other) = (
        tuple(row)
        for row in session.execute(text("SELECT id, short_name FROM site ORDER BY id LIMIT 2"))
    )
    token, _ = tokens.create_api_token(session, PLATFORM, name="t", user_subject="owner@egi.eu")
    session.commit()
    grant(session, "holder@egi.eu", "Site Administrator", "site", site)
    grant(session, "manager@egi.eu", "Site Operations Manager", "site", other)
    request = callers.as_user("newcomer@egi.eu").data(
        "mutation($i: RequestRoleInput!) { requestRole(input: $i) { role { id } } }",
        {"i": {"roleType": "Site Administrator", "entityId": global_id("Site", site_id)}},
    )
    granted = session.execute(
        text(
            "SELECT r.id FROM role r JOIN user_account u ON u.id = r.user_id WHERE u.subject = :s"
        ),
        {"s": "holder@egi.eu"},
    ).scalar_one()
    return World(
        site,
        site_id,
        other,
        global_id("ApiToken", token.id),
        request["requestRole"]["role"]["id"],
        global_id("Role", granted),
    )


class Case(NamedTuple):
    values: Callable[[World], dict[str, Any]]
    wrong: str | None  # a caller refused; None: any signed-in caller may (reason below)
    code: str = "FORBIDDEN"


CASES: dict[str, Case] = {
    "createApiToken": Case(
        lambda w: {"input": {"name": "theirs", "userSubject": "owner@egi.eu"}},
        "stranger@egi.eu",  # only administrators create tokens for others
    ),
    "revokeApiToken": Case(
        lambda w: {"input": {"tokenId": w.token_id}}, "stranger@egi.eu", "NOT_FOUND"
    ),
    # any signed-in caller may ask for a role: the request waits for a decision
    "requestRole": Case(
        lambda w: {
            "input": {"roleType": "Site Administrator", "entityId": global_id("Site", w.site_id)}
        },
        None,
    ),
    "grantRole": Case(
        lambda w: {"input": {"roleId": w.role_id}}, "manager@egi.eu"
    ),  # a sideways manager
    "rejectRole": Case(
        lambda w: {"input": {"roleId": w.role_id}}, "holder@egi.eu"
    ),  # admins do not decide
    "revokeRole": Case(lambda w: {"input": {"roleId": w.granted_id}}, "manager@egi.eu"),
}
MUTATIONS = frozenset(CASES)
NO_WRONG_CALLER = frozenset(name for name, case in CASES.items() if case.wrong is None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_anonymous_is_unauthenticated_and_writes_nothing(
    callers: Callers, session: Session, world: World, name: str
) -> None:
    assert_refused(callers.anonymous, session, name, CASES[name].values(world), "UNAUTHENTICATED")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.wrong))
def test_the_wrong_caller_is_refused_and_writes_nothing(
    callers: Callers, session: Session, world: World, name: str
) -> None:
    case = CASES[name]
    assert case.wrong is not None
    client = callers.as_user(case.wrong)
    client.data("{ viewer { subject } }")  # first sight writes the user row: not the case's
    assert_refused(client, session, name, case.values(world), case.code)
