"""Site.roles, NGI.roles and Site.contactsReadable: who holds roles over a site is
personal data, decided by topology's PersonalData like the contacts; a list of sites with
their roles costs a bounded number of statements."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.topology.service import writes
from tests.conftest import Callers, GraphQLClient, StatementCounter
from tests.identity.helpers import grant

SITE = """query($name: String!) {
  site(shortName: $name) {
    contactsReadable
    roles { roleType userName userSubject grantedAt }
    ngi { roles { roleType userSubject } }
  }
}"""

HOLDER = "site.roles.holder@egi.eu"


def _a_site(session: Session) -> str:
    name: str = session.execute(
        text("SELECT short_name FROM site ORDER BY id LIMIT 1")
    ).scalar_one()
    return name


def test_anonymous_callers_see_no_role_holders(callers: Callers, session: Session) -> None:
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    data = callers.anonymous.data(SITE, {"name": site})["site"]
    assert data == {"contactsReadable": False, "roles": [], "ngi": {"roles": []}}


def test_a_signed_in_caller_without_a_role_sees_none(callers: Callers, session: Session) -> None:
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    data = callers.as_user("no.role@egi.eu").data(SITE, {"name": site})["site"]
    assert data["contactsReadable"] is False
    assert data["roles"] == []


def test_a_role_holder_in_the_project_sees_the_holders(callers: Callers, session: Session) -> None:
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    data = callers.as_user(HOLDER).data(SITE, {"name": site})["site"]
    assert data["contactsReadable"] is True
    mine = [r for r in data["roles"] if r["userSubject"] == HOLDER]
    assert len(mine) == 1
    assert mine[0]["roleType"] == "Site Administrator"
    assert mine[0]["grantedAt"] is not None
    assert mine[0]["userName"] == "User site.roles.holder"


def test_revoked_and_pending_roles_are_not_listed(callers: Callers, session: Session) -> None:
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    session.execute(
        text(
            "UPDATE role SET status = 'REVOKED' WHERE user_id = "
            "(SELECT id FROM user_account WHERE subject = :s)"
        ),
        {"s": HOLDER},
    )
    session.commit()
    grant(session, "other.holder@egi.eu", "Site Administrator", "site", site)
    data = callers.as_user("other.holder@egi.eu").data(SITE, {"name": site})["site"]
    assert HOLDER not in [r["userSubject"] for r in data["roles"]]


def test_a_list_of_sites_with_roles_costs_a_bounded_number_of_statements(
    gql: GraphQLClient, statements: StatementCounter, session: Session
) -> None:
    names = session.execute(text("SELECT short_name FROM site ORDER BY id LIMIT 5")).scalars()
    for i, name in enumerate(names):
        grant(session, f"holder{i}@egi.eu", "Site Administrator", "site", name)
    query = """query($first: Int!) { sites(first: $first) { nodes {
      shortName contactsReadable roles { roleType userSubject }
      ngi { roles { roleType } }
    } } }"""
    counts = {}
    for size in (1, 100):
        statements.reset()
        gql.data(query, {"first": size})
        counts[size] = statements.count
    assert counts[1] == counts[100], (counts, statements.statements[:8])
    # page + ngis + site roles + NGI roles (+ the caller's own roles when signed in)
    assert counts[100] <= 6, statements.statements


def test_an_admin_sees_role_holders_in_a_list(callers: Callers, session: Session) -> None:
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    admin = callers.as_user(
        "the.admin@egi.eu",
        entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
    )
    nodes = admin.data(
        "{ sites(first: 100) { nodes { shortName contactsReadable roles { userSubject } } } }"
    )["sites"]["nodes"]
    assert all(n["contactsReadable"] for n in nodes)
    mine = next(n for n in nodes if n["shortName"] == site)
    assert HOLDER in [r["userSubject"] for r in mine["roles"]]


def test_a_role_in_another_project_shows_no_holders(callers: Callers, session: Session) -> None:
    """GOCDB's READ_PERSONAL_DATA is per project: a role over an NGI of a project the site
    does not belong to shows neither its contacts nor its role holders."""
    project = writes.create_project(session, PLATFORM, name="ELSEWHERE")
    writes.create_ngi(session, PLATFORM, name="NGI_ELSEWHERE", project_ids=[pk(project)])
    session.commit()
    site = _a_site(session)
    grant(session, HOLDER, "Site Administrator", "site", site)
    grant(session, "elsewhere@egi.eu", "NGI Operations Manager", "ngi", "NGI_ELSEWHERE")
    data = callers.as_user("elsewhere@egi.eu").data(SITE, {"name": site})["site"]
    assert data == {"contactsReadable": False, "roles": [], "ngi": {"roles": []}}
