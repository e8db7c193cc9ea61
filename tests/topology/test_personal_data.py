"""Who reads contact data, as the service layer decides it (topology/roles.PersonalData):
a role in the same project shows NGI, site and service contacts there and nowhere else; a
service group's contact shows to any role holder; nobody else reads any, unless the
restriction is turned off for signed-in callers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.identity.service import ensure_user
from domains.topology.ownership import projects_of_ngis
from domains.topology.roles import PersonalData
from domains.topology.service import writes
from tests.identity.helpers import grant

E = "contact@example.org"


def _user(session: Session, subject: str) -> Principal:
    user = ensure_user(session, issuer="https://aai.test/oidc/", subject=subject)
    return Principal(subject=subject, user_id=pk(user))


def _site_in_one_project(session: Session) -> tuple[str, int, int]:
    """A demo site, its NGI, and a new NGI of a new project it shares nothing with."""
    project = writes.create_project(session, PLATFORM, name="ELSEWHERE")
    foreign = writes.create_ngi(session, PLATFORM, name="NGI_ELSEWHERE", project_ids=[pk(project)])
    site, ngi = session.execute(
        text("SELECT short_name, ngi_id FROM site ORDER BY id LIMIT 1")
    ).one()
    assert not projects_of_ngis(session)[ngi] & {pk(project)}
    return site, ngi, pk(foreign)


def test_a_role_shows_the_contacts_of_its_project_only(session: Session) -> None:
    site, ngi, foreign = _site_in_one_project(session)
    holder = _user(session, "holder@egi.eu")
    grant(session, "holder@egi.eu", "Site Administrator", "site", site)
    seen = PersonalData(session, holder, restricted=True)
    assert seen.of_ngi(E, ngi) == E
    assert seen.of_ngi(E, foreign) is None
    assert seen.of_ngi(E, None) is None
    assert seen.of_ngi(None, ngi) is None
    assert seen.of_service_group(E) == E  # any role holder


def test_without_a_role_nothing_shows(session: Session) -> None:
    _, ngi, _ = _site_in_one_project(session)
    for caller in (ANONYMOUS, _user(session, "nobody@egi.eu")):
        seen = PersonalData(session, caller, restricted=True)
        assert seen.of_ngi(E, ngi) is None
        assert seen.of_service_group(E) is None


def test_superusers_and_unrestricted_signed_in_callers_read_all(session: Session) -> None:
    _, ngi, foreign = _site_in_one_project(session)
    nobody = _user(session, "nobody@egi.eu")
    for seen in (
        PersonalData(session, PLATFORM, restricted=True),
        PersonalData(session, nobody, restricted=False),
    ):
        assert (seen.of_ngi(E, ngi), seen.of_ngi(E, foreign)) == (E, E)
        assert seen.of_service_group(E) == E
    anonymous = PersonalData(session, ANONYMOUS, restricted=False)
    assert anonymous.of_ngi(E, ngi) is None
