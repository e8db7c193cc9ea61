"""Role requests, decisions and revocation as GOCDB has them, through GraphQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers
from tests.identity.helpers import global_id, grant, snapshot

REQUEST = (
    "mutation($i: RequestRoleInput!) "
    "{ requestRole(input: $i) { role { id status roleType entityName } } }"
)
GRANT = "mutation($id: ID!) { grantRole(input: {roleId: $id}) { role { id status } } }"
REJECT = "mutation($id: ID!) { rejectRole(input: {roleId: $id}) { role { id status } } }"
REVOKE = "mutation($id: ID!) { revokeRole(input: {roleId: $id}) { role { id status } } }"


def two_sites(session: Session) -> tuple[tuple[int, str], tuple[int, str]]:
    rows = session.execute(text("SELECT id, short_name FROM site ORDER BY id LIMIT 2")).all()
    return (rows[0][0], rows[0][1]), (rows[1][0], rows[1][1])


def request(
    callers: Callers, who: str, site_id: int, role: str = "Site Administrator"
) -> dict[str, Any]:
    data = callers.as_user(who).data(
        REQUEST, {"i": {"roleType": role, "entityId": global_id("Site", site_id)}}
    )
    result: dict[str, Any] = data["requestRole"]["role"]
    return result


def test_request_then_grant_by_a_site_manager(callers: Callers, session: Session) -> None:
    (site_id, site), _ = two_sites(session)
    grant(session, "manager@egi.eu", "Site Operations Manager", "site", site)
    role = request(callers, "newcomer@egi.eu", site_id)
    assert role["status"] == "PENDING"
    assert role["entityName"] == site

    pending = callers.as_user("manager@egi.eu").data("{ pendingRoles { nodes { id roleType } } }")
    assert role["id"] in [r["id"] for r in pending["pendingRoles"]["nodes"]]

    granted = callers.as_user("manager@egi.eu").data(GRANT, {"id": role["id"]})["grantRole"]["role"]
    assert granted["status"] == "GRANTED"
    viewer = callers.as_user("newcomer@egi.eu").data(
        "{ viewer { roles { roleType entityType entityName status } } }"
    )["viewer"]
    assert {
        "roleType": "Site Administrator",
        "entityType": "site",
        "entityName": site,
        "status": "GRANTED",
    } in viewer["roles"]


def test_a_site_administrator_may_not_grant(callers: Callers, session: Session) -> None:
    (site_id, site), _ = two_sites(session)
    grant(session, "admin.of.site@egi.eu", "Site Administrator", "site", site)
    role = request(callers, "hopeful@egi.eu", site_id)
    before = snapshot(session)
    error = callers.as_user("admin.of.site@egi.eu").error(GRANT, {"id": role["id"]})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert snapshot(session) == before


def test_ngi_manager_decides_for_sites_below_but_not_for_other_ngis(
    callers: Callers, session: Session
) -> None:
    site_id, site, ngi = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "ORDER BY s.id LIMIT 1"
        )
    ).one()
    other_ngi = session.execute(
        text("SELECT name FROM ngi WHERE name != :n ORDER BY id LIMIT 1"), {"n": ngi}
    ).scalar_one()
    grant(session, "upward@egi.eu", "NGI Operations Manager", "ngi", ngi)
    grant(session, "sideways@egi.eu", "NGI Operations Manager", "ngi", other_ngi)
    role = request(callers, "applicant@egi.eu", site_id)
    error = callers.as_user("sideways@egi.eu").error(REJECT, {"id": role["id"]})
    assert error["extensions"]["code"] == "FORBIDDEN"
    rejected = callers.as_user("upward@egi.eu").data(REJECT, {"id": role["id"]})["rejectRole"][
        "role"
    ]
    assert rejected["status"] == "REJECTED"
    assert site


def test_request_rules(callers: Callers, session: Session) -> None:
    (site_id, _), _ = two_sites(session)
    wrong_type = callers.as_user("x@egi.eu").error(
        REQUEST,
        {"i": {"roleType": "NGI Operations Manager", "entityId": global_id("Site", site_id)}},
    )
    assert wrong_type["extensions"]["code"] == "BAD_USER_INPUT"
    assert wrong_type["extensions"]["field"] == "roleType"
    request(callers, "twice@egi.eu", site_id)
    again = callers.as_user("twice@egi.eu").error(
        REQUEST, {"i": {"roleType": "Site Administrator", "entityId": global_id("Site", site_id)}}
    )
    assert again["extensions"]["field"] == "roleType"
    assert "PENDING" in again["message"]
    not_owned = callers.as_user("x@egi.eu").error(
        REQUEST, {"i": {"roleType": "Site Administrator", "entityId": global_id("Service", 1)}}
    )
    assert not_owned["extensions"]["field"] == "input.entityId"
    before = snapshot(session)
    anonymous = callers.anonymous.error(
        REQUEST, {"i": {"roleType": "Site Administrator", "entityId": global_id("Site", site_id)}}
    )
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    assert snapshot(session) == before


def test_only_pending_roles_are_decided(callers: Callers, session: Session) -> None:
    (site_id, site), _ = two_sites(session)
    grant(session, "decider@egi.eu", "Site Operations Manager", "site", site)
    role = request(callers, "someone@egi.eu", site_id)
    callers.as_user("decider@egi.eu").data(GRANT, {"id": role["id"]})
    before = snapshot(session)
    error = callers.as_user("decider@egi.eu").error(GRANT, {"id": role["id"]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "roleId"
    assert snapshot(session) == before


@pytest.mark.parametrize("by", ["self", "manager"])
def test_revocation(callers: Callers, session: Session, by: str) -> None:
    (site_id, site), _ = two_sites(session)
    grant(session, "holder@egi.eu", "Site Administrator", "site", site)
    grant(session, "boss@egi.eu", "Site Operations Manager", "site", site)
    role_id = session.execute(
        text(
            "SELECT r.id FROM role r JOIN user_account u ON u.id = r.user_id "
            "WHERE u.subject = 'holder@egi.eu'"
        )
    ).scalar_one()
    outsider = callers.as_user("outsider@egi.eu").error(REVOKE, {"id": global_id("Role", role_id)})
    assert outsider["extensions"]["code"] == "FORBIDDEN"
    who = "holder@egi.eu" if by == "self" else "boss@egi.eu"
    revoked = callers.as_user(who).data(REVOKE, {"id": global_id("Role", role_id)})["revokeRole"][
        "role"
    ]
    assert revoked["status"] == "REVOKED"
    entries = session.execute(
        text("SELECT actor, action FROM audit_entry WHERE action = 'role.revoked' ORDER BY id DESC")
    ).first()
    assert entries is not None
    assert tuple(entries) == (who, "role.revoked")
    assert site_id


@pytest.mark.parametrize("mutation", [GRANT, REJECT, REVOKE])
def test_role_decisions_refused_without_the_right_role(
    callers: Callers, session: Session, mutation: str
) -> None:
    (site_id, site), (_, other_site) = two_sites(session)
    grant(session, "sideways.manager@egi.eu", "Site Operations Manager", "site", other_site)
    grant(session, "holder.of.role@egi.eu", "Site Administrator", "site", site)
    if mutation is REVOKE:
        role_id = session.execute(
            text(
                "SELECT r.id FROM role r JOIN user_account u ON u.id = r.user_id "
                "WHERE u.subject = 'holder.of.role@egi.eu'"
            )
        ).scalar_one()
        target = global_id("Role", role_id)
    else:
        target = request(callers, "waiting@egi.eu", site_id)["id"]
    before = snapshot(session)
    anonymous = callers.anonymous.error(mutation, {"id": target})
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    assert snapshot(session) == before
    sideways = callers.as_user("sideways.manager@egi.eu").error(mutation, {"id": target})
    assert sideways["extensions"]["code"] == "FORBIDDEN"
    assert snapshot(session) == before
