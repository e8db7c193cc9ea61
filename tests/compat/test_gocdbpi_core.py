"""The GOCDB PI framework: the XML writer, parameter checks and GOCDB's error answers, the
`extensions` parser, cursor paging with its `<meta>`, and the protection levels for each
kind of caller (anonymous, an OIDC token, an API token, a user with a role, a site API
credential)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.testclient import TestClient

from domains.common.deadline import RequestTimeout
from domains.common.identity import PLATFORM
from domains.common.scopes import ScopeDefaults, ScopeMatch, ScopeSelection
from domains.identity.models import EntityKind, User
from domains.identity.service import tokens
from domains.topology import roles
from domains.topology.filters import PropertyExpr
from domains.topology.models import CredentialKind, Site
from domains.topology.service import credentials
from domains.topology.service.pi import NO_IDENTIFIER, NOT_AUTHORISED, PiLevel
from gateway.compat import gocdbpi
from gateway.compat.gocdbpi import paging as paging_module
from gateway.compat.gocdbpi import xml
from gateway.compat.gocdbpi.params import (
    BAD_EXTENSIONS,
    EXTENSIONS_LIMIT,
    PiError,
    extensions,
    scope_selection,
    yes_no,
)
from gateway.compat.gocdbpi.registry import Call, Method, collect
from tests.conftest import AppFactory, Callers

PUBLIC = "/gocdbpi/public/"
PRIVATE = "/gocdbpi/private/"


@pytest.fixture
def fast_executor() -> bool:
    """The PI runs no GraphQL: a second executor (tests/conftest.py) only repeats it."""
    return True


@dataclass
class Pi:
    client: TestClient
    keys: dict[str, str]

    def get(
        self, method: str | None, path: str = PUBLIC, who: str | None = None, **params: str
    ) -> tuple[int, str]:
        query = ({} if method is None else {"method": method}) | params
        headers = {} if who is None else {"x-api-key": self.keys[who]}
        response = self.client.get(path, params=query, headers=headers)
        assert response.headers["content-type"].startswith("application/xml")
        return response.status_code, response.text

    def xml(
        self, method: str, path: str = PUBLIC, who: str | None = None, **params: str
    ) -> ET.Element:
        status, body = self.get(method, path, who, **params)
        assert status == 200, body
        assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n'), body
        return ET.fromstring(body.encode())


def site_id(session: Session, short_name: str) -> int:
    found = session.execute(select(col(Site.id)).where(col(Site.short_name) == short_name))
    return int(str(found.scalar_one()))


@pytest.fixture
def pi(make_client: AppFactory, session: Session) -> Pi:
    """The PI with the EGI default scope; API tokens of a user holding a site role and of
    a user holding none."""
    keys = {}
    for who in ("role", "plain"):
        _, keys[who] = tokens.create_api_token(
            session, PLATFORM, name="t", user_subject=f"{who}@example.org"
        )
    roles.grant_role_directly(
        session,
        PLATFORM,
        subject="role@example.org",
        role_type="Site Administrator",
        kind=EntityKind.SITE,
        entity_id=site_id(session, "FZK-LCG2"),
    )
    session.commit()
    client = make_client(scope_defaults=ScopeDefaults(("EGI",)))
    return Pi(client.client, keys)


# --- the XML writer --------------------------------------------------------------------


def test_the_writer_prints_what_gocdb_prints() -> None:
    root = xml.results()
    site = root.add("SITE").set("ID", 7).set("NAME", 'a"b&c').set("EMPTY", None)
    site.add("DOMAIN").add_if("DOMAIN_NAME", "")
    site.add_if("NOTHING", None)
    site.add("LATITUDE", 49.0963)
    site.add("WHOLE", 8.0)
    site.add("TEXT", "x < y & z\x01")
    assert root.render().decode() == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<results>\n"
        '  <SITE ID="7" NAME="a&quot;b&amp;c" EMPTY="">\n'
        "    <DOMAIN/>\n"
        "    <LATITUDE>49.0963</LATITUDE>\n"
        "    <WHOLE>8</WHOLE>\n"
        "    <TEXT>x &lt; y &amp; z</TEXT>\n"
        "  </SITE>\n"
        "</results>\n"
    )
    assert xml.results().render().decode().endswith("<results/>\n")


def test_value_encodings() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (xml.yes_no(True), xml.yes_no(False)) == ("Y", "N")
    assert (xml.true_false(True), xml.true_false(False)) == ("TRUE", "FALSE")
    assert xml.unix_seconds(moment) == str(int(moment.timestamp()))
    assert xml.unix_seconds(moment.replace(tzinfo=None)) == str(int(moment.timestamp()))
    assert xml.minutes(moment) == "2026-03-04 05:06"
    assert (xml.text(True), xml.text(False), xml.text(None), xml.text(3)) == ("1", "", "", "3")


# --- parameters ------------------------------------------------------------------------


def test_scope_and_yes_no_readings() -> None:
    assert scope_selection(None, None) == ScopeSelection()
    assert scope_selection("", None) == ScopeSelection(names=())
    assert scope_selection(",EGI, wlcg,", "all") == ScopeSelection(("EGI", "wlcg"), ScopeMatch.ALL)
    assert scope_selection("EGI", "whatever").match is ScopeMatch.ANY
    assert [yes_no(v) for v in ("Y", "y", "N", "n", "x", None)] == [
        True,
        True,
        False,
        False,
        None,
        None,
    ]


def test_extensions_expressions() -> None:
    assert extensions("(VO=atlas)") == PropertyExpr(key="VO", value="atlas")
    assert extensions("(VO=*)") == PropertyExpr(key="VO")
    assert extensions("(VO=)") == PropertyExpr(key="VO")
    assert extensions("AND(a=1)(b=2)NOT(c=3)OR(d=4)(e=5)") == PropertyExpr(
        all_of=(
            PropertyExpr(key="a", value="1"),
            PropertyExpr(key="b", value="2"),
            PropertyExpr(negate=PropertyExpr(key="c", value="3")),
            PropertyExpr(any_of=(PropertyExpr("d", "4"), PropertyExpr("e", "5"))),
        )
    )
    assert extensions("NOT(a=1)") == PropertyExpr(negate=PropertyExpr("a", "1"))
    assert extensions("(k=v=w)") == PropertyExpr("k", "v=w")
    for bad in ("", "VO=atlas", "(VO=atlas", "AND", "(=x)", "(a;b=1)", "XOR(a=1)", "(a=1)x", "()"):
        with pytest.raises(PiError) as caught:
            extensions(bad)
        assert caught.value.body == BAD_EXTENSIONS, bad
    with pytest.raises(PiError, match="max amount"):
        extensions("(a=1)" * EXTENSIONS_LIMIT)
    extensions("(a=1)" * (EXTENSIONS_LIMIT - 1)).validate("extensions")  # within the bounds
    # a huge input is refused at its first wrong character, in linear time
    with pytest.raises(PiError):
        extensions("(" * 1_000_000)


def test_unknown_methods_and_parameters_get_gocdbs_answers(pi: Pi) -> None:
    assert pi.get("get_nothing") == (200, "Unable to find method: get_nothing")
    assert pi.get(None) == (200, "Unable to find method: ")
    assert pi.get("get_roc_list", roc="NGI_DE", colour="red") == (
        200,
        "<error>Unsupported parameter: colour</error>",
    )
    assert pi.get("get_roc_list", roc="NGI'DE") == (
        200,
        "<error>Unsuported chracter in value: NGI'DE</error>",
    )
    # `output` is GOCDB's own and taken out; cursors are not parameters of unpaged methods
    assert pi.get("get_roc_list", output="xml")[0] == 200
    assert pi.get("get_roc_list", next_cursor="0")[1] == (
        "<error>Unsupported parameter: next_cursor</error>"
    )
    # bad extensions: GOCDB's message, never a 500
    assert pi.get("get_site_list", extensions="(VO=atlas")[1] == BAD_EXTENSIONS
    # text no database stores
    status, body = pi.get("get_site_list", sitename="a\x00b")
    assert (status, body.startswith("<error>")) == (200, True)


def test_a_refused_credential_is_refused(pi: Pi) -> None:
    response = pi.client.get(
        PUBLIC, params={"method": "get_roc_list"}, headers={"x-api-key": "nope"}
    )
    assert response.status_code == 401


# --- protection levels -----------------------------------------------------------------


def test_levels_for_anonymous_and_token_callers(pi: Pi) -> None:
    # level 1: anyone, on either interface (the private one wants a credential)
    assert pi.get("get_roc_list")[0] == 200
    assert pi.get("get_roc_list", PRIVATE)[0] == 403
    assert pi.get("get_roc_list", PRIVATE, who="plain")[0] == 200
    # level 3: not anonymous, not a user without a role; a role holder may
    assert pi.get("get_site") == (200, NO_IDENTIFIER)
    assert pi.get("get_site", PRIVATE, who="plain") == (200, NOT_AUTHORISED)
    assert pi.xml("get_site", PRIVATE, who="role").find("SITE") is not None
    # refused before its parameters are looked at, as GOCDB does
    assert pi.get("get_site", colour="red") == (200, NO_IDENTIFIER)


def test_levels_for_oidc_callers(callers: Callers) -> None:
    client = callers.client.client
    plain = callers.as_user("oidc@example.org")
    admin = callers.as_user(
        "admin@example.org",
        entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
    )
    query = {"method": "get_site", "sitename": "FZK-LCG2"}
    assert client.get(PRIVATE, params=query, headers=plain.headers).text == NOT_AUTHORISED
    answer = client.get(PRIVATE, params=query, headers=admin.headers)
    assert ET.fromstring(answer.content).find("SITE/SHORT_NAME").text == "FZK-LCG2"  # type: ignore[union-attr]


def test_without_restricted_personal_data_level_3_is_level_2(
    make_client: AppFactory, session: Session
) -> None:
    _, key = tokens.create_api_token(session, PLATFORM, name="t", user_subject="p@example.org")
    session.commit()
    client = make_client(restrict_personal_data=False).client
    query = {"method": "get_site", "sitename": "FZK-LCG2"}
    assert client.get(PUBLIC, params=query).text == NO_IDENTIFIER
    answer = client.get(PUBLIC, params=query, headers={"x-api-key": key})
    assert ET.fromstring(answer.content).find("SITE") is not None


# --- paging ----------------------------------------------------------------------------


def test_cursor_paging_walks_every_site_once_each_way(
    pi: Pi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(paging_module, "PAGE_SIZE", 7)
    everything = [str(s.get("ID")) for s in pi.xml("get_site", who="role", scope="").iter("SITE")]
    assert len(everything) > 14
    assert everything == sorted(everything, key=int)

    seen: list[str] = []
    cursor = "0"
    while True:
        root = pi.xml("get_site", who="role", scope="", next_cursor=cursor)
        meta = root[0]
        assert meta.tag == "meta"
        links = {str(link.get("rel")): str(link.get("href")) for link in meta.iter("link")}
        ids = [str(s.get("ID")) for s in root.iter("SITE")]
        assert meta.findtext("count") == str(len(ids))
        assert meta.findtext("max_page_size") == "7"
        assert [child.tag for child in meta] == ["link"] * len(links) + ["count", "max_page_size"]
        assert links["self"].endswith(
            f"/gocdbpi/public/?method=get_site&scope=&next_cursor={cursor}"
        )
        assert links["start"].endswith("?method=get_site&scope=&next_cursor=0")
        if not ids:
            # past the end: `prev` leads back to the last page, there is no `next`
            assert "next" not in links
            assert links["prev"].endswith(f"&prev_cursor={int(cursor) + 1}")
            break
        assert links["next"].endswith(f"&next_cursor={ids[-1]}")
        assert links["prev"].endswith(f"&prev_cursor={ids[0]}")
        seen += ids
        cursor = str(ids[-1])
    assert seen == everything

    # backwards from past the end, by the `prev` links
    backwards: list[str] = []
    cursor = str(int(everything[-1]) + 1)
    while True:
        root = pi.xml("get_site", who="role", scope="", prev_cursor=cursor)
        ids = [str(s.get("ID")) for s in root.iter("SITE")]
        if not ids:
            links = {str(link.get("rel")): str(link.get("href")) for link in root[0].iter("link")}
            assert "prev" not in links
            assert links["next"].endswith(f"&next_cursor={max(int(cursor) - 1, 0)}")
            break
        backwards = ids + backwards
        cursor = str(ids[0])
    assert backwards == everything


def test_cursor_errors(pi: Pi) -> None:
    assert pi.get("get_site", who="role", next_cursor="1", prev_cursor="2")[1] == (
        "<error>It is invalid to specify both 'next_cursor' and 'prev_cursor' parameters "
        "in the same query</error>"
    )
    for bad in ("-1", "x", "", "1.5", str(2**31)):
        assert pi.get("get_site", who="role", next_cursor=bad)[1] == (
            "<error>Invalid 'next_cursor' parameter - must be a whole number greater than or "
            "equal to zero</error>"
        ), bad
    assert "prev_cursor" in pi.get("get_site", who="role", prev_cursor="-3")[1]


def test_unpaged_calls_have_no_meta(pi: Pi) -> None:
    root = pi.xml("get_site", who="role", scope="")
    assert root.find("meta") is None
    assert root.findall("SITE")


def test_a_method_out_of_time_is_503_and_names_are_registered_once(
    pi: Pi, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(_call: Call) -> bytes:
        raise RequestTimeout(0.5)

    method = Method("get_slow", PiLevel.PUBLIC, frozenset(), paged=False, handler=slow)
    monkeypatch.setitem(gocdbpi.METHODS, "get_slow", method)
    assert pi.get("get_slow")[0] == 503
    with pytest.raises(ValueError, match="twice"):
        collect((method,), (method,))


def test_a_site_api_credential_reaches_level_3(
    pi: Pi, session: Session, make_client: AppFactory
) -> None:
    """A caller registered as some site's API credential (here under its subject, GOCDB's
    `OIDC Subject` type) reads level 3 methods, with no role at all."""
    token, secret = tokens.create_api_token(
        session, PLATFORM, name="t", user_subject="robot@example.org"
    )
    owner = session.execute(select(col(User.id)).where(col(User.subject) == "role@example.org"))
    credential = credentials.add_site_credential(
        session,
        PLATFORM,
        site_id=site_id(session, "FZK-LCG2"),
        identifier="robot@example.org",
        kind=CredentialKind.OIDC_SUBJECT,
        owner_id=int(str(owner.scalar_one())),
    )
    session.commit()
    pi.keys["robot"] = secret
    assert pi.xml("get_site_list", who="robot") is not None  # level 1: not a use
    session.refresh(credential)
    assert credential.last_used_at is None
    site = pi.xml("get_site", PRIVATE, who="robot", sitename="FZK-LCG2").find("SITE")
    assert site is not None
    assert site.findtext("CONTACT_EMAIL")  # GOCDB shows personal data to site credentials
    session.refresh(credential)
    assert credential.last_used_at is not None  # as GOCDB, a level 3 call is a use
    root = pi.xml("access_test", PRIVATE, who="robot")
    assert root.get("identifier") == "robot@example.org"
    assert token.user_id is not None
