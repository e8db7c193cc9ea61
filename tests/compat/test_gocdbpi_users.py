"""The people and certification methods of the GOCDB PI: get_user, get_service_group_role,
get_cert_status_changes (level 3: personal data) and get_cert_status_date (level 2) —
their XML, GOCDB's parameters (`dn`/`dnlike`, `forename`, `surname`, `roletype`, `site`,
`startdate`/`enddate`, `certification_status`, `roc`), paging, the protection levels, and
statement counts that do not grow with the number of users or changes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.errors import Forbidden
from domains.common.identity import ANONYMOUS, PLATFORM, Principal
from domains.common.models import pk
from domains.common.pagination import PageRequest
from domains.identity.service import ensure_user, link_identity
from domains.topology.models import CertificationStatus, CredentialKind
from domains.topology.service import certification, people, writes
from domains.topology.service.credentials import add_site_credential
from domains.topology.service.pi import NO_IDENTIFIER, NOT_AUTHORISED
from tests.compat.test_gocdbpi_core import PRIVATE, Pi, site_id
from tests.compat.test_gocdbpi_core import fast_executor as fast_executor
from tests.compat.test_gocdbpi_core import pi as pi
from tests.conftest import StatementCounter
from tests.identity.helpers import grant

JANE_DN = "/DC=org/DC=example/O=Example/CN=Jane Doe"


def person(
    session: Session,
    subject: str,
    *,
    forename: str,
    surname: str,
    dn: str | None = None,
    home: str | None = None,
) -> int:
    user = ensure_user(session, issuer="https://aai.test/oidc/", subject=subject)
    session.execute(
        text(
            "UPDATE user_account SET forename = :f, surname = :s, title = 'Dr', "
            "telephone = '+49 1', email = :e, home_site_id = :h WHERE id = :id"
        ),
        {
            "f": forename,
            "s": surname,
            "e": f"{forename.lower()}@example.org",
            "h": None if home is None else site_id(session, home),
            "id": pk(user),
        },
    )
    if dn is not None:
        link_identity(session, PLATFORM, user_subject=subject, issuer="X.509", subject=dn)
    session.commit()
    return pk(user)


@pytest.fixture
def holders(session: Session) -> dict[str, int]:
    jane = person(
        session, "jane@example.org", forename="Jane", surname="Doe", dn=JANE_DN, home="FZK-LCG2"
    )
    john = person(session, "john@example.org", forename="John", surname="Smith")
    grant(session, "jane@example.org", "Site Operations Manager", "site", "FZK-LCG2")
    grant(session, "jane@example.org", "NGI Operations Manager", "ngi", "NGI_DE")
    project = session.execute(text("SELECT name FROM project ORDER BY id LIMIT 1")).scalar_one()
    grant(session, "jane@example.org", "COD Staff", "project", project)
    # a granted role over a site that is gone (roles hold no foreign key): not shown
    session.execute(
        text(
            "INSERT INTO role (user_id, role_type, entity_type, entity_id, status, requested_at) "
            "VALUES (:u, 'Site Administrator', 'site', 999999, 'GRANTED', :t)"
        ),
        {"u": jane, "t": datetime.now(UTC)},
    )
    session.commit()
    grant(
        session,
        "john@example.org",
        "Service Group Administrator",
        "service_group",
        "EGI_Core_Services",
    )
    return {"jane": jane, "john": john}


def users(root: ET.Element) -> dict[str, ET.Element]:
    return {str(e.findtext("SURNAME")): e for e in root if e.tag == "EGEE_USER"}


def test_get_user_shape(pi: Pi, holders: dict[str, int]) -> None:
    jane = users(pi.xml("get_user", PRIVATE, who="role", surname="Doe"))["Doe"]
    key = f"{holders['jane']}G0"
    assert list(jane.attrib.items()) == [("ID", key), ("PRIMARY_KEY", key)]
    assert [c.tag for c in jane][:14] == [
        "FORENAME",
        "SURNAME",
        "TITLE",
        "DESCRIPTION",
        "GOCDB_PORTAL_URL",
        "EMAIL",
        "TEL",
        "WORKING_HOURS_START",
        "WORKING_HOURS_END",
        "CERTDN",
        "SSOUSERNAME",
        "APPROVED",
        "ACTIVE",
        "HOMESITE",
    ]
    assert (jane.findtext("FORENAME"), jane.findtext("EMAIL"), jane.findtext("TEL")) == (
        "Jane",
        "jane@example.org",
        "+49 1",
    )
    assert (jane.findtext("CERTDN"), jane.findtext("HOMESITE")) == (JANE_DN, "FZK-LCG2")
    held = {r.findtext("USER_ROLE"): r for r in jane.iterfind("USER_ROLE")}
    site_role = held["Site Operations Manager"]
    assert [c.tag for c in site_role] == [
        "USER_ROLE",
        "ON_ENTITY",
        "ENTITY_TYPE",
        "PRIMARY_KEY",
        "RECOGNISED_IN_PROJECTS",
    ]
    assert (site_role.findtext("ON_ENTITY"), site_role.findtext("ENTITY_TYPE")) == (
        "FZK-LCG2",
        "site",
    )
    assert site_role.findtext("PRIMARY_KEY") == "25001G0"
    projects = site_role.findall("RECOGNISED_IN_PROJECTS/PROJECT")
    assert projects
    assert all(p.get("ID") for p in projects)
    assert held["NGI Operations Manager"].findtext("ENTITY_TYPE") == "ngi"
    cod = held["COD Staff"]
    assert cod.findtext("ENTITY_TYPE") == "project"
    assert [p.text for p in cod.iterfind("RECOGNISED_IN_PROJECTS/PROJECT")] == [
        cod.findtext("ON_ENTITY")
    ]
    assert "Site Administrator" not in held  # over a site that is gone
    john = users(pi.xml("get_user", PRIVATE, who="role", surname="Smith"))["Smith"]
    (group_role,) = john.iterfind("USER_ROLE")
    assert group_role.findtext("ENTITY_TYPE") == "servicegroup"
    assert group_role.findtext("PRIMARY_KEY", "").endswith("G0")
    assert group_role.findall("RECOGNISED_IN_PROJECTS/PROJECT") == []
    assert john.findtext("CERTDN") == "john@example.org"  # no certificate: the subject


def test_get_user_parameters(pi: Pi, holders: dict[str, int]) -> None:
    def found(**params: str) -> list[str]:
        return sorted(users(pi.xml("get_user", PRIVATE, who="role", **params)))

    assert found(dn=JANE_DN) == ["Doe"]
    assert found(dnlike="%CN=Jane%") == ["Doe"]
    assert found(dnlike="%cn=jane%") == []  # LIKE is case-sensitive
    assert found(dn="john@example.org") == ["Smith"]
    assert found(forename="J%") == ["Doe", "Smith"]
    assert found(forename="Jan_") == ["Doe"]
    assert found(roletype="Service Group Administrator") == ["Smith"]
    assert found(roletype="NGI Operations Manager,Service Group Administrator") == [
        "Doe",
        "Smith",
    ]
    shown = users(pi.xml("get_user", PRIVATE, who="role", roletype="NGI Operations Manager"))
    assert [r.findtext("USER_ROLE") for r in shown["Doe"].iterfind("USER_ROLE")] == [
        "NGI Operations Manager"
    ]
    assert pi.get("get_user", PRIVATE, who="role", roletypeAND="x")[1].startswith("<error>")


def test_get_user_pages_and_counts_statements_once(
    pi: Pi, holders: dict[str, int], statements: StatementCounter
) -> None:
    paged = pi.xml("get_user", PRIVATE, who="role", next_cursor=str(holders["jane"] - 1))
    assert paged[0].tag == "meta"
    assert paged[1].get("ID") == f"{holders['jane']}G0"
    counts = []
    for params in ({"surname": "Doe"}, {}):
        statements.reset()
        pi.xml("get_user", PRIVATE, who="role", **params)
        counts.append(statements.count)
    assert counts[0] == counts[1]


def test_get_service_group_role(pi: Pi, holders: dict[str, int]) -> None:
    root = pi.xml("get_service_group_role", PRIVATE, who="role", service_group_name="EGI_Core%")
    (group,) = root
    assert list(group.attrib) == ["ID", "PRIMARY_KEY"]
    (user,) = group.iterfind("USER")
    assert [c.tag for c in user] == ["FORENAME", "SURNAME", "CERTDN", "GOCDB_PORTAL_URL", "ROLE"]
    assert (user.findtext("SURNAME"), user.findtext("ROLE")) == (
        "Smith",
        "Service Group Administrator",
    )
    others = pi.xml("get_service_group_role", PRIVATE, who="role", service_group_name="WLCG%")
    assert [g.findall("USER") for g in others] == [[]]


@pytest.mark.parametrize("method", ["get_user", "get_cert_status_changes"])
def test_personal_data_methods_are_level_3(pi: Pi, method: str) -> None:
    assert pi.get(method) == (200, NO_IDENTIFIER)
    assert pi.get(method, PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    status, body = pi.get(method, PRIVATE, who="role")
    assert status == 200
    assert body.startswith("<?xml")


@pytest.fixture
def changes(session: Session) -> list[int]:
    site = site_id(session, "FZK-LCG2")
    writes.change_certification_status(
        session, PLATFORM, site_id=site, status=CertificationStatus.SUSPENDED, reason="a & b"
    )
    writes.change_certification_status(
        session, PLATFORM, site_id=site, status=CertificationStatus.CERTIFIED, reason="back"
    )
    session.commit()
    return [
        int(i)
        for (i,) in session.execute(
            text("SELECT id FROM certification_status_log WHERE site_id = :s ORDER BY id"),
            {"s": site},
        )
    ]


def test_get_cert_status_changes(pi: Pi, changes: list[int]) -> None:
    root = pi.xml("get_cert_status_changes", PRIVATE, who="role", site="FZK%")
    results = [e for e in root if e.tag == "result"]
    assert [int(str(e.get("ID"))) for e in results][-2:] == changes
    last = results[-1]
    assert [c.tag for c in last] == [
        "TIME",
        "UNIX_TIME",
        "SITE",
        "OLD_STATUS",
        "NEW_STATUS",
        "CHANGED_BY",
        "COMMENT",
    ]
    assert (last.findtext("SITE"), last.findtext("OLD_STATUS"), last.findtext("NEW_STATUS")) == (
        "FZK-LCG2",
        "Suspended",
        "Certified",
    )
    assert results[-2].findtext("COMMENT") == "a & b"
    moment = datetime.fromtimestamp(int(str(last.findtext("UNIX_TIME"))), UTC)
    assert last.findtext("TIME") == moment.strftime("%d-%b-%Y %H.%M.%S")
    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len(pi.xml("get_cert_status_changes", PRIVATE, who="role", startdate=tomorrow)) == 0
    assert len(pi.xml("get_cert_status_changes", PRIVATE, who="role", enddate="2000-01-01")) == 0
    recent = pi.xml(
        "get_cert_status_changes", PRIVATE, who="role", site="FZK-LCG2", startdate="2000-01-01"
    )
    assert [int(str(e.get("ID"))) for e in recent][-2:] == changes
    assert pi.get("get_cert_status_changes", PRIVATE, who="role", startdate="soon")[1].startswith(
        "<error>"
    )
    assert len(pi.xml("get_cert_status_changes", PRIVATE, who="role", site="no%such")) == 0
    paged = pi.xml("get_cert_status_changes", PRIVATE, who="role", next_cursor="0")
    assert paged[0].tag == "meta"


def test_get_cert_status_date(pi: Pi, session: Session, changes: list[int]) -> None:
    assert pi.get("get_cert_status_date") == (200, NO_IDENTIFIER)
    root = pi.xml("get_cert_status_date", PRIVATE, who="plain")  # level 2: any credential
    production = session.execute(
        text(
            "SELECT short_name FROM site WHERE production_infrastructure = 'Production' ORDER BY id"
        )
    ).scalars()
    assert [e.findtext("name") for e in root] == list(production)
    fzk = next(e for e in root if e.findtext("name") == "FZK-LCG2")
    assert list(fzk.attrib) == ["ID"]
    assert [c.tag for c in fzk] == ["name", "cert_status", "cert_date"]
    assert fzk.findtext("cert_status") == "Certified"
    assert str(fzk.findtext("cert_date")).endswith(("AM", "PM"))
    de = pi.xml("get_cert_status_date", PRIVATE, who="plain", roc="NGI_DE")
    assert "FZK-LCG2" in [e.findtext("name") for e in de]
    assert len(de) < len(root)
    closed = pi.xml("get_cert_status_date", PRIVATE, who="plain", certification_status="Closed")
    assert {e.findtext("cert_status") for e in closed} <= {"Closed"}


def test_the_service_layer_refuses_personal_data_below_level_3(session: Session) -> None:
    """The reads themselves refuse (not only the route): an anonymous caller and a signed-in
    user without a role; the platform reads; unrestricted, any signed-in caller reads."""
    nobody = ensure_user(session, issuer="https://aai.test/oidc/", subject="nobody@example.org")
    plain = Principal(subject="nobody@example.org", user_id=pk(nobody))
    everything = PageRequest(first=10, after=None)

    def users(who: Principal, restrict: bool) -> object:
        return people.list_people(
            session,
            who,
            filter=people.UserFilter(),
            page=everything,
            restrict_personal_data=restrict,
        )

    def group_roles(who: Principal, restrict: bool) -> object:
        return people.group_role_holders(session, who, [1], restrict_personal_data=restrict)

    def changes(who: Principal, restrict: bool) -> object:
        return certification.list_certification_changes(
            session, who, page=everything, restrict_personal_data=restrict
        )

    reads = [users, group_roles, changes]
    for read in reads:
        for who in (ANONYMOUS, plain):
            with pytest.raises(Forbidden):
                read(who, True)
        read(PLATFORM, True)
        read(plain, False)
        with pytest.raises(Forbidden):
            read(ANONYMOUS, False)
    assert people.group_role_holders(session, PLATFORM, []) == {}


def test_a_site_api_credential_reaches_level_3(pi: Pi, session: Session) -> None:
    """A caller without a role, registered as some site's API credential (GOCDB's
    APIAuthentication, here under its token's subject), reads the level-3 methods."""
    methods = ("get_user", "get_service_group", "get_service_group_role", "get_cert_status_changes")
    for method in methods:
        assert pi.get(method, PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    owner = ensure_user(session, issuer="https://aai.test/oidc/", subject="plain@example.org")
    add_site_credential(
        session,
        PLATFORM,
        site_id=site_id(session, "DESY-HH"),
        identifier="plain@example.org",
        kind=CredentialKind.OIDC_SUBJECT,
        owner_id=pk(owner),
    )
    session.commit()
    for method in methods:
        status, body = pi.get(method, PRIVATE, who="plain")
        assert status == 200
        assert body.startswith("<?xml"), body


def test_odd_values_never_fail(pi: Pi) -> None:
    odd = ("%", "_", "\\", "[", "*?", "\u00e9\u4e2d", "x" * 3000, "0001-01-01", "9999-12-31T23:59")
    for value in odd:
        for method, name in (
            ("get_user", "dnlike"),
            ("get_user", "roletype"),
            ("get_cert_status_changes", "site"),
            ("get_cert_status_changes", "startdate"),
            ("get_cert_status_date", "roc"),
            ("get_service_group", "service_group_name"),
        ):
            status, body = pi.get(method, PRIVATE, who="role", **{name: value})
            assert status == 200, body


@pytest.mark.parametrize(
    ("method", "few"),
    [
        ("get_service_group", {"service_group_name": "WLCG%"}),
        ("get_service_group_role", {"service_group_name": "EGI_Core%"}),
        ("get_cert_status_changes", {"enddate": "2000-01-01"}),
        ("get_cert_status_date", {"roc": "NGI_DE"}),
    ],
)
def test_statements_do_not_grow_with_rows(
    pi: Pi,
    holders: dict[str, int],
    changes: list[int],
    statements: StatementCounter,
    method: str,
    few: dict[str, str],
) -> None:
    scope = {"scope": ""} if "group" in method else {}
    pi.xml(method, PRIVATE, who="role", **scope)  # the token's first use is recorded once
    counts = []
    sizes = []
    for params in (few, {}):
        statements.reset()
        root = pi.xml(method, PRIVATE, who="role", **scope, **params)
        counts.append(statements.count)
        sizes.append(len(root))
    assert sizes[0] < sizes[1]
    assert counts[0] == counts[1]
