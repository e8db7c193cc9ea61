"""The viewer contract, personal data visibility, and the change log."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import Callers
from tests.identity.helpers import global_id, grant

VIEWER = """{ viewer { subject name email isAdmin vos { name roles }
  roles { roleType entityType entityName status } } }"""


def test_viewer_is_null_for_anonymous_callers(callers: Callers) -> None:
    assert callers.anonymous.data(VIEWER)["viewer"] is None


def test_viewer_from_token_and_entitlements(callers: Callers, session: Session) -> None:
    site = session.execute(text("SELECT short_name FROM site ORDER BY id LIMIT 1")).scalar_one()
    grant(session, "viewer.test@egi.eu", "Site Administrator", "site", site)
    viewer = callers.as_user(
        "viewer.test@egi.eu",
        entitlements=(
            "urn:mace:egi.eu:group:fedcloud.egi.eu:role=member#aai.egi.eu",
            "urn:mace:egi.eu:group:fedcloud.egi.eu:role=vm_operator#aai.egi.eu",
            "urn:mace:egi.eu:aai.egi.eu:member@biomed",
        ),
    ).data(VIEWER)["viewer"]
    assert viewer["subject"] == "viewer.test@egi.eu"
    assert viewer["name"] == "User viewer.test"
    assert viewer["email"] == "viewer.test@example.org"
    assert viewer["isAdmin"] is False
    vos = {vo["name"]: set(vo["roles"]) for vo in viewer["vos"]}
    assert vos["fedcloud.egi.eu"] >= {"member", "vm_operator"}
    assert "member" in vos["biomed"]
    assert viewer["roles"] == [
        {
            "roleType": "Site Administrator",
            "entityType": "site",
            "entityName": site,
            "status": "GRANTED",
        }
    ]


def test_admin_entitlement_makes_a_platform_admin(callers: Callers, session: Session) -> None:
    admin = callers.as_user(
        "ops.admin@egi.eu",
        entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#other.authority",),
    )
    assert admin.data(VIEWER)["viewer"]["isAdmin"] is True
    site_id = session.execute(text("SELECT id FROM site ORDER BY id LIMIT 1")).scalar_one()
    changed = admin.data(
        "mutation($i: UpdateSiteInput!) { updateSite(input: $i) { site { description } } }",
        {"i": {"id": global_id("Site", site_id), "description": "Changed by an admin"}},
    )
    assert changed["updateSite"]["site"]["description"] == "Changed by an admin"


def test_a_user_is_created_once_and_kept(callers: Callers, session: Session) -> None:
    for _ in range(3):
        callers.as_user("repeat.visitor@egi.eu").data(VIEWER)
    count = session.execute(
        text("SELECT count(*) FROM user_account WHERE subject = 'repeat.visitor@egi.eu'")
    ).scalar_one()
    assert count == 1


PERSONAL = """query($n: String!) {
  site(shortName: $n) { email telephone ngi { email } services { email } } }"""


def test_personal_data_needs_a_role_in_the_project(callers: Callers, session: Session) -> None:
    site = session.execute(
        text(
            "SELECT short_name FROM site WHERE email IS NOT NULL AND telephone IS NOT NULL "
            "ORDER BY id LIMIT 1"
        )
    ).scalar_one()
    hidden = {"email": None, "telephone": None}
    assert (
        callers.anonymous.data(PERSONAL, {"n": site})["site"] | hidden
        == callers.anonymous.data(PERSONAL, {"n": site})["site"]
    )
    no_role = callers.as_user("no.role@egi.eu").data(PERSONAL, {"n": site})["site"]
    assert (no_role["email"], no_role["telephone"], no_role["ngi"]["email"]) == (None, None, None)
    other = session.execute(
        text("SELECT short_name FROM site WHERE short_name != :s ORDER BY id LIMIT 1"), {"s": site}
    ).scalar_one()
    grant(session, "role.holder@egi.eu", "Site Administrator", "site", other)
    seen = callers.as_user("role.holder@egi.eu").data(PERSONAL, {"n": site})["site"]
    expected = session.execute(
        text("SELECT email, telephone FROM site WHERE short_name = :s"), {"s": site}
    ).one()
    assert (seen["email"], seen["telephone"]) == tuple(expected)


CHANGES = """query($f: ChangeFilter) { changes(filter: $f, first: 50) {
  totalCount nodes { actor action entityType entityName changes reason } } }"""


def test_changes_are_not_public(callers: Callers, session: Session) -> None:
    """Anonymous callers are refused; a user with no role reads only their own entries
    (tests/changelog/test_access.py), here none."""
    assert callers.anonymous.error(CHANGES, {})["extensions"]["code"] == "UNAUTHENTICATED"
    assert callers.as_user("curious@egi.eu").data(CHANGES, {})["changes"]["totalCount"] == 0


def test_changes_record_before_and_after(callers: Callers, session: Session) -> None:
    site_id, site, ngi = session.execute(
        text(
            "SELECT s.id, s.short_name, n.name FROM site s JOIN ngi n ON n.id = s.ngi_id "
            "WHERE s.certification_status = 'Certified' ORDER BY s.id LIMIT 1"
        )
    ).one()
    grant(session, "ngi.manager@egi.eu", "NGI Operations Manager", "ngi", ngi)
    manager = callers.as_user("ngi.manager@egi.eu")
    old_description = session.execute(
        text("SELECT description FROM site WHERE id = :i"), {"i": site_id}
    ).scalar_one()
    manager.data(
        "mutation($i: UpdateSiteInput!) { updateSite(input: $i) { site { id } } }",
        {
            "i": {
                "id": global_id("Site", site_id),
                "description": "After the upgrade",
                "latitude": 45.5,
            }
        },
    )
    manager.data(
        "mutation($i: ChangeCertificationStatusInput!) "
        "{ changeCertificationStatus(input: $i) { site { id } } }",
        {
            "i": {
                "siteId": global_id("Site", site_id),
                "status": "SUSPENDED",
                "reason": "Unpatched CVE",
            }
        },
    )
    nodes = manager.data(
        CHANGES, {"f": {"entity": global_id("Site", site_id), "actor": "ngi.manager@egi.eu"}}
    )["changes"]["nodes"]
    assert [n["action"] for n in nodes] == ["site.update", "site.certification_status"]
    assert nodes[0]["changes"]["description"] == [old_description, "After the upgrade"]
    assert nodes[0]["changes"]["latitude"][1] == 45.5
    assert nodes[1]["changes"] == {"certification_status": ["Certified", "Suspended"]}
    assert nodes[1]["reason"] == "Unpatched CVE"
    assert all(n["entityName"] == site for n in nodes)
    history = manager.data(
        "query($n: String!) { site(shortName: $n) { certificationStatus "
        "certificationStatusHistory { oldStatus newStatus changedBy reason } } }",
        {"n": site},
    )["site"]
    assert history["certificationStatus"] == "SUSPENDED"
    assert history["certificationStatusHistory"][-1] == {
        "oldStatus": "CERTIFIED",
        "newStatus": "SUSPENDED",
        "changedBy": "ngi.manager@egi.eu",
        "reason": "Unpatched CVE",
    }
    future = manager.data(CHANGES, {"f": {"since": "2999-01-01T00:00:00+00:00"}})["changes"]
    assert future["totalCount"] == 0
    naive = manager.error(CHANGES, {"f": {"since": "2026-01-01T00:00:00"}})
    assert naive["extensions"]["field"] == "filter.since"


PROFILE = """{ viewer { forename surname title telephone workingHoursStart workingHoursEnd
  homeSite { shortName } } }"""


def test_the_viewer_sees_their_own_gocdb_profile(callers: Callers, session: Session) -> None:
    caller = callers.as_user("profile.owner@egi.eu")
    empty = caller.data(PROFILE)["viewer"]
    assert empty == dict.fromkeys(
        (
            "forename",
            "surname",
            "title",
            "telephone",
            "workingHoursStart",
            "workingHoursEnd",
            "homeSite",
        ),
    )
    site_id, short_name = session.execute(
        text("SELECT id, short_name FROM site ORDER BY id LIMIT 1")
    ).one()
    session.execute(
        text(
            "UPDATE user_account SET forename = 'Ada', surname = 'Lovelace', title = 'Dr', "
            "telephone = '+44 1', working_hours_start = '08:00', working_hours_end = '16:00', "
            "home_site_id = :site WHERE subject = 'profile.owner@egi.eu'"
        ),
        {"site": site_id},
    )
    session.commit()
    assert caller.data(PROFILE)["viewer"] == {
        "forename": "Ada",
        "surname": "Lovelace",
        "title": "Dr",
        "telephone": "+44 1",
        "workingHoursStart": "08:00",
        "workingHoursEnd": "16:00",
        "homeSite": {"shortName": short_name},
    }
    # a home site that is no more (no foreign key: identity lies below topology) shows none
    session.execute(
        text("UPDATE user_account SET home_site_id = -1 WHERE subject = 'profile.owner@egi.eu'")
    )
    session.commit()
    assert caller.data(PROFILE)["viewer"]["homeSite"] is None
