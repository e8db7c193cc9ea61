"""The site and NGI methods of the GOCDB PI on the demo federation: get_site_list,
get_roc_list, get_site — their XML, GOCDB's LIKE matching, scopes and the instance default
scope, `extensions`, and statement counts that do not grow with the number of sites."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.query import glob_pattern
from domains.common.scopes import ScopeDefaults
from domains.topology.models import Ngi, Project, Site
from domains.topology.seed import seed_scale
from domains.topology.service.pi import NO_IDENTIFIER, NOT_AUTHORISED
from tests.compat.test_gocdbpi_core import PRIVATE, Pi
from tests.compat.test_gocdbpi_core import fast_executor as fast_executor
from tests.compat.test_gocdbpi_core import pi as pi
from tests.conftest import AppFactory, StatementCounter


def names(root: ET.Element, attribute: str = "NAME") -> list[str]:
    return [str(e.get(attribute)) for e in root]


def test_get_roc_list_is_every_ngi_in_id_order(pi: Pi, session: Session) -> None:
    ngis = session.execute(
        select(col(Ngi.id), col(Ngi.name), col(Ngi.primary_key)).order_by(col(Ngi.id))
    ).all()
    root = pi.xml("get_roc_list")
    assert [(e.tag, list(e.attrib)) for e in root][:1] == [("ROC", ["PRIMARY_KEY", "ROC_NAME"])]
    assert names(root, "ROC_NAME") == [n.name for n in ngis]
    keys = dict(zip(names(root, "ROC_NAME"), names(root, "PRIMARY_KEY"), strict=True))
    assert keys["NGI_DE"] == "27001G0"  # an imported key kept
    assert all(
        k == (n.primary_key or f"{n.id}G0") for n, k in zip(ngis, keys.values(), strict=True)
    )
    assert names(pi.xml("get_roc_list", roc="NGI_D%"), "ROC_NAME") == ["NGI_DE"]
    assert names(pi.xml("get_roc_list", roc="ngi_de"), "ROC_NAME") == []  # case-sensitive


def test_get_site_list_shape_and_default_scope(pi: Pi, session: Session) -> None:
    root = pi.xml("get_site_list")
    first = root[0]
    assert first.tag == "SITE"
    assert list(first.attrib) == [
        "ID",
        "PRIMARY_KEY",
        "NAME",
        "COUNTRY",
        "COUNTRY_CODE",
        "ROC",
        "SUBGRID",
        "GIIS_URL",
    ]
    fzk = next(e for e in root if e.get("NAME") == "FZK-LCG2")
    assert (fzk.get("PRIMARY_KEY"), fzk.get("COUNTRY_CODE"), fzk.get("ROC")) == (
        "25001G0",
        "DE",
        "NGI_DE",
    )
    assert fzk.get("SUBGRID") == ""
    every = pi.xml("get_site_list", scope="")
    total = session.execute(select(col(Site.id))).all()
    assert len(every) == len(total) > len(root)  # the default scope (EGI) hides Local sites
    assert [int(str(e.get("ID"))) for e in every] == sorted(r.id for r in total)


def test_like_parameters(pi: Pi) -> None:
    assert names(pi.xml("get_site_list", sitename="DESY%")) == ["DESY-HH", "DESY-ZN"]
    assert names(pi.xml("get_site_list", sitename="DESY-H_")) == ["DESY-HH"]
    assert names(pi.xml("get_site_list", sitename="desy%")) == []
    assert names(pi.xml("get_site_list", sitename="")) == []
    germany = names(pi.xml("get_site_list", country="Germany", scope=""))
    assert "FZK-LCG2" in germany
    assert germany == names(pi.xml("get_site_list", roc="NGI_DE", scope=""))
    certified = pi.xml("get_site_list", certification_status="Certif%", scope="")
    others = pi.xml("get_site_list", exclude_certification_status="Certif%", scope="")
    everything = pi.xml("get_site_list", scope="")
    assert sorted(names(certified) + names(others)) == sorted(names(everything))
    test = names(pi.xml("get_site_list", production_status="Test", scope=""))
    production = names(pi.xml("get_site_list", production_status="Prod%", scope=""))
    assert test
    assert production
    assert not set(test) & set(production)


def test_glob_translation_keeps_like_semantics() -> None:
    assert glob_pattern("a%b_c") == "a*b?c"
    assert glob_pattern("x*y?[z]") == "x[*]y[?][[]z]"
    assert glob_pattern(r"100\%\_\\") == "100%_\\"


def test_scopes_and_extensions(pi: Pi) -> None:
    egi = set(names(pi.xml("get_site_list")))
    assert egi == set(names(pi.xml("get_site_list", scope="EGI")))
    local = set(names(pi.xml("get_site_list", scope="Local")))
    assert local
    assert not local & egi
    assert set(names(pi.xml("get_site_list", scope="EGI,Local", scope_match="any"))) == egi | local
    assert names(pi.xml("get_site_list", scope="EGI,Local", scope_match="all")) == []
    tier1 = names(pi.xml("get_site_list", extensions="(wlcg_tier=1)", scope=""))
    assert "FZK-LCG2" in tier1
    tiered = set(names(pi.xml("get_site_list", extensions="(wlcg_tier=*)", scope="")))
    tier2 = set(names(pi.xml("get_site_list", extensions="(wlcg_tier=2)", scope="")))
    assert tiered == set(tier1) | tier2
    assert (
        set(names(pi.xml("get_site_list", extensions="(wlcg_tier=*)NOT(wlcg_tier=1)", scope="")))
        == tier2
    )
    assert (
        set(names(pi.xml("get_site_list", extensions="OR(wlcg_tier=1)(wlcg_tier=2)", scope="")))
        == tiered
    )


def test_get_site_shape(pi: Pi) -> None:
    root = pi.xml("get_site", PRIVATE, who="role", sitename="FZK-LCG2")
    (site,) = root
    assert list(site.attrib) == ["ID", "PRIMARY_KEY", "NAME"]
    tags = [child.tag for child in site]
    order = [
        "PRIMARY_KEY",
        "SHORT_NAME",
        "OFFICIAL_NAME",
        "SITE_DESCRIPTION",
        "GOCDB_PORTAL_URL",
        "HOME_URL",
        "CONTACT_EMAIL",
        "CONTACT_TEL",
        "ALARM_EMAIL",
        "GIIS_URL",
        "COUNTRY_CODE",
        "COUNTRY",
        "ROC",
        "PRODUCTION_INFRASTRUCTURE",
        "CERTIFICATION_STATUS",
        "TIMEZONE",
        "LATITUDE",
        "LONGITUDE",
        "CSIRT_EMAIL",
        "NOTIFICATIONS",
        "DOMAIN",
        "SCOPES",
        "EXTENSIONS",
    ]
    assert tags == [t for t in order if t in tags]  # GOCDB's order, empty values omitted
    assert {"SHORT_NAME", "ROC", "DOMAIN", "SCOPES", "EXTENSIONS", "NOTIFICATIONS"} <= set(tags)
    assert site.findtext("PRIMARY_KEY") == "25001G0"
    assert site.findtext("LATITUDE") == "49.0963"
    assert site.findtext("NOTIFICATIONS") in ("TRUE", "FALSE")
    assert site.findtext("DOMAIN/DOMAIN_NAME") == "gridka.de"
    assert str(site.findtext("GOCDB_PORTAL_URL")).endswith("/sites/FZK-LCG2")
    assert "EGI" in [s.text for s in site.iter("SCOPE")]
    extension = site.find("EXTENSIONS/EXTENSION")
    assert extension is not None
    assert [c.tag for c in extension] == ["LOCAL_ID", "KEY", "VALUE"]


def test_get_site_contacts_follow_personal_data(pi: Pi) -> None:
    """The role holder's site (FZK-LCG2, NGI_DE) shows its contacts; a site of an NGI in a
    project where the caller holds no role does not (the service layer's PersonalData)."""
    fzk = pi.xml("get_site", PRIVATE, who="role", sitename="FZK-LCG2")[0]
    assert fzk.findtext("CONTACT_EMAIL")


UNSCOPED = {
    "get_roc_list",
    "get_site_count_per_country",
    "get_roc_contacts",
    "get_project_contacts",
}


@pytest.mark.parametrize(
    "method",
    [
        "get_site_list",
        "get_site",
        "get_roc_list",
        "get_ngi",
        "get_site_count_per_country",
        "get_site_contacts",
        "get_site_security_info",
        "get_roc_contacts",
        "get_project_contacts",
    ],
)
def test_statements_do_not_grow_with_sites(
    method: str, make_client: AppFactory, session: Session, statements: StatementCounter
) -> None:
    client = make_client(
        scope_defaults=ScopeDefaults(("EGI",)), restrict_personal_data=False
    ).client
    admin = {"x-api-key": _admin_token(session)}

    def count() -> int:
        statements.reset()
        query = {"method": method} | ({} if method in UNSCOPED else {"scope": ""})
        response = client.get(PRIVATE, params=query, headers=admin)
        assert response.status_code == 200
        assert response.text.startswith("<?xml"), response.text
        return statements.count

    count()  # the token's first use is recorded once
    before = count()
    sites_before = len(session.execute(select(col(Site.id))).all())
    seed_scale(session, 60)
    session.commit()
    assert len(session.execute(select(col(Site.id))).all()) > sites_before
    assert count() == before, statements.statements


def _admin_token(session: Session) -> str:
    from domains.common.identity import PLATFORM
    from domains.identity.service import tokens

    _, key = tokens.create_api_token(session, PLATFORM, name="t", user_subject="st@example.org")
    session.commit()
    return key


def test_get_site_count_per_country(pi: Pi, session: Session) -> None:
    root = pi.xml("get_site_count_per_country")
    counts = {e.findtext("COUNTRY"): int(str(e.findtext("COUNT"))) for e in root}
    assert [c.tag for c in root[0]] == ["COUNTRY", "COUNT"]
    assert sum(counts.values()) == len(session.execute(select(col(Site.id))).all())
    assert counts["Germany"] == len(pi.xml("get_site_list", country="Germany", scope=""))
    scoped = pi.xml("get_site_count_per_country", scope="EGI", certification_status="Certified")
    assert sum(int(str(e.findtext("COUNT"))) for e in scoped) < sum(counts.values())


def test_get_subgrid_list_is_gocdbs_empty_list(pi: Pi) -> None:
    status, body = pi.get("get_subgrid_list", subgrid="x")
    assert (status, body) == (200, '<?xml version="1.0" encoding="UTF-8"?>\n<results/>\n')
    assert pi.get("get_subgrid_list", colour="x")[1].startswith("<error>Unsupported")


def test_access_test(pi: Pi) -> None:
    assert pi.get("access_test") == (200, NO_IDENTIFIER)
    assert pi.get("access_test", PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    root = pi.xml("access_test", PRIVATE, who="role", anything="goes")
    assert root.get("identifier") == "role@example.org"
    assert root.findtext("authorized") == "true"


def test_get_ngi(pi: Pi, session: Session) -> None:
    assert pi.get("get_ngi") == (200, NO_IDENTIFIER)
    root = pi.xml("get_ngi", PRIVATE, who="role", roc="NGI_DE")
    (ngi,) = root
    assert ngi.get("NAME") == "NGI_DE"
    assert [c.tag for c in ngi] == [
        "PRIMARY_KEY",
        "NAME",
        "OBJECT_ID",
        "DESCRIPTION",
        "EMAIL",
        "GGUS_SU",
        "ROD_EMAIL",
        "HELPDESK_EMAIL",
        "SECURITY_EMAIL",
        "SITE_COUNT",
    ]
    assert ngi.findtext("PRIMARY_KEY") == "27001G0"
    assert ngi.findtext("EMAIL")  # the role holder's NGI: its contacts show
    germany = pi.xml("get_site_list", roc="NGI_DE", scope="")
    assert ngi.findtext("SITE_COUNT") == str(len(germany))
    paged = pi.xml("get_ngi", PRIVATE, who="role", scope="", next_cursor="0")
    assert paged[0].tag == "meta"
    assert paged[0].findtext("count") == str(len(paged) - 1)


def test_get_site_contacts(pi: Pi) -> None:
    assert pi.get("get_site_contacts", sitename="FZK-LCG2") == (200, NO_IDENTIFIER)
    assert pi.get("get_site_contacts", PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    root = pi.xml("get_site_contacts", PRIVATE, who="role", sitename="FZK-LCG2")
    (site,) = root
    assert list(site.attrib) == ["ID", "PRIMARY_KEY", "NAME"]
    assert str(site.get("ID")).endswith("G0")
    assert site.get("PRIMARY_KEY") == "25001G0"
    (contact,) = site.findall("CONTACT")
    assert list(contact.attrib) == ["USER_ID", "PRIMARY_KEY"]
    assert [c.tag for c in contact] == [
        "FORENAME",
        "SURNAME",
        "TITLE",
        "EMAIL",
        "TEL",
        "CERTDN",
        "ROLE_NAME",
    ]
    assert contact.findtext("CERTDN") == "role@example.org"
    assert contact.findtext("ROLE_NAME") == "Site Administrator"
    none = pi.xml("get_site_contacts", PRIVATE, who="role", sitename="FZK-LCG2", roletype="X")
    assert none[0].findall("CONTACT") == []
    paged = pi.xml("get_site_contacts", PRIVATE, who="role", scope="", next_cursor="0")
    assert paged[0].tag == "meta"


def test_get_site_security_info(pi: Pi) -> None:
    root = pi.xml("get_site_security_info", PRIVATE, who="role", sitename="FZK-LCG2")
    assert [c.tag for c in root[0]] == ["PRIMARY_KEY", "SHORT_NAME", "CSIRT_EMAIL", "CSIRT_TEL"]
    assert pi.get("get_site_security_info", PRIVATE, who="role", extensions="(a=b)")[1] == (
        "<error>Unsupported parameter: extensions</error>"
    )


def test_get_roc_and_project_contacts(pi: Pi, session: Session) -> None:
    from domains.common.identity import PLATFORM
    from domains.identity.models import EntityKind
    from domains.topology import roles

    ngi_id = session.execute(select(col(Ngi.id)).where(col(Ngi.name) == "NGI_DE")).scalar_one()
    roles.grant_role_directly(
        session,
        PLATFORM,
        subject="role@example.org",
        role_type="NGI Operations Manager",
        kind=EntityKind.NGI,
        entity_id=int(str(ngi_id)),
    )
    session.commit()
    root = pi.xml("get_roc_contacts", PRIVATE, who="role", roc="NGI_DE")
    (roc,) = root
    assert list(roc.attrib) == ["ID", "ROC_NAME"]
    assert [c.tag for c in roc][:2] == ["ROCNAME", "MAIL_CONTACT"]
    assert str(roc.findtext("GOCDB_PORTAL_URL")).endswith("/ngis/NGI_DE")
    assert [c.findtext("ROLE_NAME") for c in roc.iter("CONTACT")] == ["NGI Operations Manager"]
    assert pi.get("get_roc_contacts", PRIVATE, who="plain") == (200, NOT_AUTHORISED)

    project = session.execute(select(col(Project.id), col(Project.name))).first()
    assert project is not None
    roles.grant_role_directly(
        session,
        PLATFORM,
        subject="role@example.org",
        role_type="COD Staff",
        kind=EntityKind.PROJECT,
        entity_id=int(project.id),
    )
    session.commit()
    projects = pi.xml("get_project_contacts", PRIVATE, who="role", project="%")
    assert len(projects) > 0
    assert all(p.tag == "Project" for p in projects)
    (listed,) = [p for p in projects if p.get("NAME") == project.name]
    assert list(listed.attrib.items()) == [("ID", str(project.id)), ("NAME", project.name)]
    (contact,) = listed.findall("CONTACT")
    assert [c.tag for c in contact][5:8] == ["WORKING_HOURS_START", "WORKING_HOURS_END", "CERTDN"]
    assert contact.findtext("ROLE_NAME") == "COD Staff"
    assert len(pi.xml("get_project_contacts", PRIVATE, who="role", project="no such")) == 0
    assert pi.get("get_project_contacts") == (200, NO_IDENTIFIER)
