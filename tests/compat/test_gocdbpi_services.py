"""The service and service-group methods of the GOCDB PI on the demo federation:
get_service / get_service_endpoint, get_service_types, get_service_group — their XML,
GOCDB's LIKE matching, `monitored`, scopes with the default scope, `extensions`, cursor
paging, the protection levels, no e-mail on the public methods, and statement counts that
do not grow with the number of services."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

import httpx2 as httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.topology.service.pi import NO_IDENTIFIER, NOT_AUTHORISED
from tests.compat.test_gocdbpi_core import PRIVATE, PUBLIC, Pi
from tests.compat.test_gocdbpi_core import fast_executor as fast_executor
from tests.compat.test_gocdbpi_core import pi as pi
from tests.conftest import StatementCounter

SERVICE_CHILDREN = [
    "PRIMARY_KEY",
    "HOSTNAME",
    "GOCDB_PORTAL_URL",
    "HOSTDN",
    "HOST_OS",
    "HOST_ARCH",
    "BETA",
    "SERVICE_TYPE",
    "HOST_IP",
    "HOST_IPV6",
    "CORE",
    "IN_PRODUCTION",
    "NODE_MONITORED",
    "NOTIFICATIONS",
    "SITENAME",
    "COUNTRY_NAME",
    "COUNTRY_CODE",
    "ROC_NAME",
    "URL",
    "ENDPOINTS",
    "SCOPES",
    "EXTENSIONS",
]


def hosts(root: ET.Element) -> list[str]:
    return [str(e.findtext("HOSTNAME")) for e in root if e.tag == "SERVICE_ENDPOINT"]


def every_service(session: Session) -> list[dict[str, object]]:
    """The oracle: every service with what get_service filters on, by id."""
    rows = session.execute(
        text(
            """SELECT s.id, s.host_name, s.monitored, t.name AS type, si.short_name AS site,
                      si.certification_status AS status, n.name AS ngi, c.name AS country
               FROM service s JOIN service_type t ON t.id = s.service_type_id
               JOIN site si ON si.id = s.site_id JOIN ngi n ON n.id = si.ngi_id
               JOIN country c ON c.id = si.country_id ORDER BY s.id"""
        )
    ).mappings()
    return [dict(r) for r in rows]


def test_get_service_shape(pi: Pi, session: Session) -> None:
    root = pi.xml("get_service", hostname="ce01.gridka.de")
    (service,) = root
    assert service.tag == "SERVICE_ENDPOINT"
    assert list(service.attrib) == ["PRIMARY_KEY"]
    tags = [child.tag for child in service]
    # optional elements are left out when empty; the rest in GOCDB's order
    assert tags == [t for t in SERVICE_CHILDREN if t in tags]
    assert {"HOSTNAME", "BETA", "CORE", "IN_PRODUCTION", "NODE_MONITORED", "URL"} <= set(tags)
    assert service.findtext("CORE") == ""
    for flag in ("BETA", "IN_PRODUCTION", "NODE_MONITORED", "NOTIFICATIONS"):
        assert service.findtext(flag) in ("Y", "N")
    assert (service.findtext("SITENAME"), service.findtext("ROC_NAME")) == ("FZK-LCG2", "NGI_DE")
    assert (service.findtext("COUNTRY_NAME"), service.findtext("COUNTRY_CODE")) == (
        "Germany",
        "DE",
    )
    key = session.execute(
        text("SELECT id, primary_key FROM service WHERE host_name = 'ce01.gridka.de'")
    ).one()
    assert service.get("PRIMARY_KEY") == service.findtext("PRIMARY_KEY") == key.primary_key
    assert re.fullmatch(r"https?://[^/]+/services/\S+", str(service.findtext("GOCDB_PORTAL_URL")))
    endpoints = service.find("ENDPOINTS")
    assert endpoints is not None
    assert len(endpoints) > 0
    for endpoint in endpoints:
        assert [c.tag for c in endpoint] == [
            "ID",
            "NAME",
            "EXTENSIONS",
            "URL",
            "INTERFACENAME",
            "ENDPOINT_MONITORED",
        ]
    assert [s.text for s in service.iterfind("SCOPES/SCOPE")]


def test_no_email_on_the_public_method(pi: Pi, session: Session) -> None:
    session.execute(text("UPDATE service SET email = 'svc@example.org'"))
    session.execute(text("UPDATE endpoint SET email = 'ep@example.org'"))
    session.commit()
    for who in (None, "role"):
        status, body = pi.get("get_service", who=who, scope="")
        assert status == 200
        assert "@example.org" not in body
        assert "EMAIL" not in body


def test_get_service_endpoint_is_the_same_answer(pi: Pi) -> None:
    for params in ({}, {"sitename": "DESY%", "scope": ""}, {"next_cursor": "0"}):
        # the same but for the method's name in the paging links
        answers = [
            pi.get(method, **params)[1].replace(method, "METHOD")
            for method in ("get_service", "get_service_endpoint")
        ]
        assert answers[0] == answers[1]


@pytest.mark.parametrize(
    ("param", "value", "column"),
    [
        ("hostname", "%.gridka.de", "host_name"),
        ("hostname", "ce0_.%", "host_name"),
        ("sitename", "DESY%", "site"),
        ("roc", "NGI_D%", "ngi"),
        ("country", "Germ%", "country"),
        ("service_type", "%CE", "type"),
    ],
)
def test_like_parameters(pi: Pi, session: Session, param: str, value: str, column: str) -> None:
    regex = re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in value)
    )
    expected = [
        s["host_name"]
        for s in every_service(session)
        if regex.fullmatch(str(s[column])) and s["status"] != "Closed"
    ]
    found = hosts(pi.xml("get_service", scope="", **{param: value}))
    assert found == expected
    assert expected
    if value != value.lower():  # LIKE is case-sensitive
        assert hosts(pi.xml("get_service", scope="", **{param: value.lower()})) != expected


def test_services_of_closed_sites_are_not_listed(pi: Pi, session: Session) -> None:
    services = every_service(session)
    closed = [s["host_name"] for s in services if s["status"] == "Closed"]
    assert closed, "the demo has no Closed site with services"
    listed = set(hosts(pi.xml("get_service", scope="")))
    assert listed
    assert not listed & set(closed)
    assert len(listed) == len({s["host_name"] for s in services} - set(closed))


def test_monitored_yes_no(pi: Pi, session: Session) -> None:
    services = [s for s in every_service(session) if s["status"] != "Closed"]
    monitored = [s["host_name"] for s in services if s["monitored"]]
    unmonitored = [s["host_name"] for s in services if not s["monitored"]]
    assert monitored
    assert unmonitored
    assert hosts(pi.xml("get_service", scope="", monitored="Y")) == monitored
    assert hosts(pi.xml("get_service", scope="", monitored="y")) == monitored
    assert hosts(pi.xml("get_service", scope="", monitored="N")) == unmonitored
    everything = hosts(pi.xml("get_service", scope=""))
    assert hosts(pi.xml("get_service", scope="", monitored="maybe")) == everything


def test_scopes_default_and_extensions(pi: Pi) -> None:
    default = hosts(pi.xml("get_service"))
    assert default == hosts(pi.xml("get_service", scope="EGI"))
    everything = hosts(pi.xml("get_service", scope=""))
    local = hosts(pi.xml("get_service", scope="Local"))
    assert local
    assert len(default) < len(everything)
    assert not set(local) & set(default)
    either = hosts(pi.xml("get_service", scope="EGI,Local", scope_match="any"))
    assert set(either) == set(default) | set(local)
    root = pi.xml("get_service", scope="")
    keyed = [
        str(e.findtext("HOSTNAME"))
        for e in root
        if any(x.findtext("KEY") for x in e.iterfind("EXTENSIONS/EXTENSION"))
    ]
    some_key = next(
        str(x.findtext("KEY")) for e in root for x in e.iterfind("EXTENSIONS/EXTENSION")
    )
    with_key = [
        str(e.findtext("HOSTNAME"))
        for e in root
        if some_key in [x.findtext("KEY") for x in e.iterfind("EXTENSIONS/EXTENSION")]
    ]
    assert keyed
    assert with_key
    assert hosts(pi.xml("get_service", scope="", extensions=f"({some_key}=*)")) == with_key
    status, body = pi.get("get_service", extensions="(broken")
    assert status == 200
    assert "not a valid extensions expression" in body


def test_unknown_parameters_and_bad_cursors_are_gocdbs_errors(pi: Pi) -> None:
    assert pi.get("get_service", sitenam="x") == (
        200,
        "<error>Unsupported parameter: sitenam</error>",
    )
    assert pi.get("get_service_types", scope="") == (
        200,
        "<error>Unsupported parameter: scope</error>",
    )
    status, body = pi.get("get_service", next_cursor="-1")
    assert status == 200
    assert body.startswith("<error>")
    for junk in ("%", "_", "\\", "%%%%", "\u00e9\u4e2d", "x" * 3000, "\x00"):
        status, _ = pi.get("get_service", hostname=junk)
        assert status in (200, 400)


def test_cursor_paging_walks_every_service(pi: Pi) -> None:
    everything = hosts(pi.xml("get_service", scope=""))
    assert len(everything) > 100  # more than one page
    walked: list[str] = []
    query = {"scope": "", "next_cursor": "0"}
    for _ in range(20):
        root = pi.xml("get_service", **query)
        meta = root[0]
        assert meta.tag == "meta"
        count = int(str(meta.findtext("count")))
        assert int(str(meta.findtext("max_page_size"))) == 100
        if count == 0:
            break
        walked += hosts(root)
        links = {str(link.get("rel")): str(link.get("href")) for link in meta.iterfind("link")}
        assert set(links) >= {"self", "next", "prev", "start"}
        query = dict(parse_qsl(urlsplit(links["next"]).query, keep_blank_values=True))
        query.pop("method")
    assert walked == everything
    back = pi.xml("get_service", scope="", prev_cursor="1000000")
    assert hosts(back) == everything[-100:]


def test_get_service_statements_do_not_grow_with_services(
    pi: Pi, statements: StatementCounter
) -> None:
    counts = []
    for params in ({"hostname": "ce01.gridka.de"}, {"scope": ""}):
        statements.reset()
        pi.xml("get_service", **params)
        counts.append(statements.count)
    assert counts[0] == counts[1]


def test_get_service_types(pi: Pi, session: Session) -> None:
    types = session.execute(
        text("SELECT id, name, description FROM service_type ORDER BY id")
    ).all()
    root = pi.xml("get_service_types")
    assert [e.findtext("SERVICE_TYPE_NAME") for e in root] == [t.name for t in types]
    first = root[0]
    assert list(first.attrib) == ["TYPE_ID", "PRIMARY_KEY"]
    assert first.get("TYPE_ID") == first.get("PRIMARY_KEY") == f"{types[0].id}G0"
    assert [c.tag for c in first] == ["SERVICE_TYPE_NAME", "SERVICE_TYPE_DESC"]
    assert pi.get("get_service_types", next_cursor="0")[1].startswith("<error>")


def test_get_service_group(pi: Pi, session: Session) -> None:
    root = pi.xml("get_service_group", PRIVATE, who="role")
    names = [e.findtext("NAME") for e in root]
    assert "EGI_Core_Services" in names
    core = next(e for e in root if e.findtext("NAME") == "EGI_Core_Services")
    assert list(core.attrib) == ["ID", "PRIMARY_KEY"]
    assert core.get("PRIMARY_KEY") == "26001G0"
    tags = [c.tag for c in core]
    assert tags[:6] == [
        "NAME",
        "DESCRIPTION",
        "MONITORED",
        "CONTACT_EMAIL",
        "GOCDB_PORTAL_URL",
        "SERVICE_ENDPOINT",
    ]
    assert tags[-2:] == ["SCOPES", "EXTENSIONS"]
    members = core.findall("SERVICE_ENDPOINT")
    count = session.execute(
        text(
            "SELECT count(*) FROM service_group_member m JOIN service_group g "
            "ON g.id = m.service_group_id WHERE g.name = 'EGI_Core_Services'"
        )
    ).scalar_one()
    assert len(members) == count > 0
    assert [c.tag for c in members[0]][:8] == [
        "HOSTNAME",
        "GOCDB_PORTAL_URL",
        "SERVICE_TYPE",
        "HOST_IP",
        "HOST_IPV6",
        "HOSTDN",
        "IN_PRODUCTION",
        "NODE_MONITORED",
    ]
    assert {x.findtext("KEY") for x in core.iterfind("EXTENSIONS/EXTENSION")} == {"sla", "owner"}
    like = pi.xml("get_service_group", PRIVATE, who="role", service_group_name="%Tier1%")
    assert [e.findtext("NAME") for e in like] == ["WLCG_Tier1_SRM"]
    fed = pi.xml("get_service_group", PRIVATE, who="role", scope="FedCloud")
    assert [e.findtext("NAME") for e in fed] == ["FedCloud_Compute"]
    paged = pi.xml("get_service_group", PRIVATE, who="role", next_cursor="0")
    assert paged[0].tag == "meta"
    assert [e.findtext("NAME") for e in paged[1:]] == names


@pytest.mark.parametrize("method", ["get_service_group", "get_service_group_role"])
def test_service_group_methods_are_level_3(pi: Pi, method: str) -> None:
    assert pi.get(method) == (200, NO_IDENTIFIER)
    assert pi.get(method, PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    assert pi.get(method, PRIVATE)[0] == 403
    status, body = pi.get(method, PRIVATE, who="role")
    assert status == 200
    assert body.startswith("<?xml")


def test_public_methods_answer_everyone(pi: Pi) -> None:
    for who in (None, "plain", "role"):
        for method in ("get_service", "get_service_types"):
            path = PUBLIC if who is None else PRIVATE
            status, body = pi.get(method, path, who=who)
            assert status == 200, body
            assert body.startswith("<?xml"), body


def test_service_methods_over_http(demo_server: str) -> None:
    """A real `opsgraph serve --demo`: the bytes GOCDB's readers get over HTTP."""
    base = demo_server
    url = f"{base}/gocdbpi/public/"
    response = httpx.get(url, params={"method": "get_service", "sitename": "FZK-LCG2"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<results>\n')
    services = ET.fromstring(response.content)
    assert "ce01.gridka.de" in hosts(services)
    assert {e.findtext("SITENAME") for e in services} == {"FZK-LCG2"}
    same = httpx.get(
        url, params={"method": "get_service_endpoint", "sitename": "FZK-LCG2"}, timeout=60
    )
    assert same.content == response.content
    types = httpx.get(url, params={"method": "get_service_types"}, timeout=60)
    assert len(ET.fromstring(types.content)) > 10
    for method in ("get_service_group", "get_user", "get_cert_status_changes"):
        refused = httpx.get(url, params={"method": method}, timeout=60)
        assert (refused.status_code, refused.text) == (200, NO_IDENTIFIER)
