"""The downtime methods of the GOCDB PI on the demo downtimes: get_downtime (a DOWNTIME per
affected service), get_downtime_nested_services, get_downtime_to_broadcast — element
names and order, value encodings, GOCDB's parameter errors and combinations, the default
scope, cursor pages, protection level 1, nothing personal, no 500 on any input, statement
counts that do not grow with the downtimes, and a real `opsgraph serve` process."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2 as httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.graphql import to_global_id
from domains.common.identity import PLATFORM, Principal
from domains.common.scopes import ScopeDefaults
from domains.common.time import utcnow
from domains.downtimes import service as downtimes
from domains.downtimes.models import Severity
from domains.downtimes.seed import seed_demo_downtimes
from domains.identity.service import tokens
from domains.topology.models import CredentialKind
from domains.topology.service.credentials import add_site_credential
from domains.topology.service.pi import pi_refusal
from gateway.compat.gocdbpi import METHODS
from gateway.compat.gocdbpi.downtimes import php_datetime
from gateway.compat.gocdbpi.paging import Paging
from gateway.compat.gocdbpi.params import BAD_EXTENSIONS, PiError, check
from gateway.compat.gocdbpi.registry import Call, Instance
from tests.compat.test_gocdbpi_core import PRIVATE, Pi
from tests.compat.test_gocdbpi_core import fast_executor as fast_executor
from tests.compat.test_gocdbpi_core import pi as pi
from tests.conftest import StatementCounter

FLAT = [
    "PRIMARY_KEY",
    "HOSTNAME",
    "SERVICE_TYPE",
    "ENDPOINT",
    "HOSTED_BY",
    "GOCDB_PORTAL_URL",
    "AFFECTED_ENDPOINTS",
    "SEVERITY",
    "DESCRIPTION",
    "INSERT_DATE",
    "START_DATE",
    "END_DATE",
    "FORMATED_START_DATE",
    "FORMATED_END_DATE",
]
NESTED = [
    "SEVERITY",
    "DESCRIPTION",
    "INSERT_DATE",
    "START_DATE",
    "END_DATE",
    "FORMATED_START_DATE",
    "FORMATED_END_DATE",
    "GOCDB_PORTAL_URL",
    "SERVICES",
]
BROADCAST = [
    "PRIMARY_KEY",
    "SITENAME",
    "HOSTNAME",
    "SERVICE_TYPE",
    "HOSTED_BY",
    "GOCDB_PORTAL_URL",
    "AFFECTED_ENDPOINTS",
    "SEVERITY",
    "DESCRIPTION",
    "INSERT_DATE",
    "START_DATE",
    "END_DATE",
    "REMINDER_START_DOWNTIME",
    "BROADCASTING_START_DOWNTIME",
]


@pytest.fixture
def demo(session: Session) -> datetime:
    """The demo downtimes, seeded now (the methods read the real clock)."""
    now = utcnow()
    seed_demo_downtimes(session, now=now)
    session.commit()
    return now


def _aware(value: Any) -> datetime:
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pairs(
    session: Session, where: str = "1 = 1", keep: Callable[[Any], bool] = lambda row: True
) -> set[tuple[int, str]]:
    """(downtime id, host name) of every affected service, as the database has them;
    `keep` sees each row with its start, effective end and declaration as aware times."""
    rows = session.execute(
        text(
            "SELECT ds.downtime_id, sv.host_name, d.starts_at, "
            "coalesce(ds.ended_at, d.ends_at) AS ends_at, d.declared_at "
            "FROM downtime_service ds JOIN service sv ON sv.id = ds.service_id "
            f"JOIN downtime d ON d.id = ds.downtime_id WHERE {where}"
        )
    ).all()
    return {
        (int(r.downtime_id), str(r.host_name))
        for r in rows
        if keep(
            {
                "starts_at": _aware(r.starts_at),
                "ends_at": _aware(r.ends_at),
                "declared_at": _aware(r.declared_at),
            }
        )
    }


def _got(root: ET.Element) -> set[tuple[int, str]]:
    return {
        (int(str(e.get("ID"))), str(e.findtext("HOSTNAME"))) for e in root if e.tag == "DOWNTIME"
    }


def _ids(root: ET.Element) -> list[int]:
    return [int(str(e.get("ID"))) for e in root if e.tag == "DOWNTIME"]


def _error(pi: Pi, method: str, **params: str) -> str:
    status, body = pi.get(method, **params)
    assert status == 200
    return body


def test_get_downtime_a_downtime_per_affected_service(
    pi: Pi, session: Session, demo: datetime
) -> None:
    root = pi.xml("get_downtime", scope="")
    assert _got(root) == _pairs(session)
    ids = _ids(root)
    assert ids == sorted(ids)
    first = root[0]
    assert list(first.attrib) == ["ID", "PRIMARY_KEY", "CLASSIFICATION"]
    assert [child.tag for child in first] == FLAT
    row = session.execute(
        text(
            "SELECT d.primary_key, d.classification, d.severity, d.description, d.starts_at, "
            "d.declared_at FROM downtime d WHERE d.id = :i"
        ),
        {"i": ids[0]},
    ).one()
    assert first.get("PRIMARY_KEY") == first.findtext("PRIMARY_KEY") == row.primary_key
    assert first.get("CLASSIFICATION") == row.classification
    assert first.findtext("SEVERITY") == row.severity
    assert first.findtext("DESCRIPTION") == row.description
    start = int(str(first.findtext("START_DATE")))
    assert datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%d %H:%M") == first.findtext(
        "FORMATED_START_DATE"
    )
    assert (
        first.findtext("ENDPOINT")
        == f"{first.findtext('HOSTNAME')}{first.findtext('SERVICE_TYPE')}"
    )
    url = str(first.findtext("GOCDB_PORTAL_URL"))
    assert url.endswith("/downtimes/" + to_global_id("Downtime", ids[0]).replace("=", "%3D"))
    endpoints = [e for d in root for e in d.iter("ENDPOINT") if len(e)]
    assert endpoints
    assert all(
        [c.tag for c in e] == ["ID", "NAME", "URL", "INTERFACENAME", "ENDPOINT_MONITORED"]
        for e in endpoints
    )
    assert {e.findtext("ENDPOINT_MONITORED") for e in endpoints} <= {"Y", "N"}
    # nothing personal: who declared a downtime is not shown
    body = pi.get("get_downtime", scope="")[1]
    for (who,) in session.execute(text("SELECT DISTINCT declared_by FROM downtime")):
        assert who not in body


def test_a_service_ended_early_shows_its_own_end(pi: Pi, session: Session, demo: datetime) -> None:
    row = session.execute(
        text(
            "SELECT ds.downtime_id, sv.host_name, ds.ended_at, d.ends_at FROM downtime_service ds "
            "JOIN service sv ON sv.id = ds.service_id JOIN downtime d ON d.id = ds.downtime_id "
            "WHERE ds.ended_at IS NOT NULL AND d.ends_at > :now ORDER BY ds.downtime_id LIMIT 1"
        ),
        {"now": demo},
    ).one()
    flat = pi.xml("get_downtime", id=str(row.downtime_id), scope="")
    ended = next(e for e in flat if e.findtext("HOSTNAME") == row.host_name)
    others = [e for e in flat if e.findtext("HOSTNAME") != row.host_name]
    assert others
    ends = {e.findtext("END_DATE") for e in others}
    assert ended.findtext("END_DATE") not in ends
    nested = pi.xml("get_downtime_nested_services", id=str(row.downtime_id), scope="")
    (downtime,) = nested
    assert downtime.findtext("END_DATE") in ends  # the downtime's own end
    hosts = {s.findtext("HOSTNAME") for s in downtime.iter("SERVICE")}
    assert row.host_name in hosts
    # ongoing: that service has left the downtime
    ongoing = pi.xml("get_downtime", ongoing_only="yes", id=str(row.downtime_id), scope="")
    assert row.host_name not in {e.findtext("HOSTNAME") for e in ongoing}


def test_nested_services_one_downtime_each(pi: Pi, session: Session, demo: datetime) -> None:
    root = pi.xml("get_downtime_nested_services", scope="")
    assert _ids(root) == sorted({d for d, _ in _pairs(session)})
    first = root[0]
    assert list(first.attrib) == ["ID", "PRIMARY_KEY", "CLASSIFICATION"]
    assert [child.tag for child in first] == NESTED
    service = first.find("SERVICES/SERVICE")
    assert service is not None
    assert [c.tag for c in service] == [
        "PRIMARY_KEY",
        "HOSTNAME",
        "SERVICE_TYPE",
        "ENDPOINT",
        "HOSTED_BY",
        "AFFECTED_ENDPOINTS",
    ]
    assert str(service.findtext("PRIMARY_KEY")).endswith("G0")
    nested = {
        (int(str(d.get("ID"))), str(s.findtext("HOSTNAME")))
        for d in root
        for s in d.iter("SERVICE")
    }
    assert nested == _pairs(session)


def test_broadcast_lists_what_was_declared_lately(pi: Pi, session: Session, demo: datetime) -> None:
    recent = _pairs(session, keep=lambda r: r["declared_at"] > demo - timedelta(days=1))
    root = pi.xml("get_downtime_to_broadcast", scope="")
    assert _got(root) == recent
    assert recent
    first = root[0]
    assert [c.tag for c in first] == BROADCAST
    assert first.findtext("BROADCASTING_START_DOWNTIME") == ""  # present and empty
    start = int(str(first.findtext("START_DATE")))
    reminder = int(str(first.findtext("REMINDER_START_DOWNTIME")))
    if first.get("CLASSIFICATION") == "SCHEDULED":
        assert reminder == start - 86400
    else:
        assert reminder == int(str(first.findtext("INSERT_DATE")))
    assert first.findtext("SITENAME") == first.findtext("HOSTED_BY")
    for endpoint in first.iter("ENDPOINT"):
        assert [c.tag for c in endpoint] == ["ID", "NAME", "URL", "INTERFACENAME"]
    older = pi.xml("get_downtime_to_broadcast", interval="30", scope="")
    assert _got(root) < _got(older)
    assert len(pi.xml("get_downtime_to_broadcast", interval="100000000", scope="")) >= len(older)
    assert len(pi.xml("get_downtime_to_broadcast", interval="9" * 5000, scope="")) >= len(older)
    assert "not a number" in _error(pi, "get_downtime_to_broadcast", interval="\u0661")
    assert _error(pi, "get_downtime_to_broadcast", interval="soon") == (
        "<error>interval is not a number</error>"
    )
    assert "Unknown or bad format (P1.5D)" in _error(
        pi, "get_downtime_to_broadcast", interval="1.5"
    )
    assert _error(pi, "get_downtime_to_broadcast", topentity="x") == (
        "<error>Unsupported parameter: topentity</error>"
    )


def test_parameter_errors_and_combinations(pi: Pi, session: Session, demo: datetime) -> None:
    assert _error(pi, "get_downtime", ongoing_only="yes", startdate="2026-01-01") == (
        "<error>Invalid parameter combination - do not specify startdate or enddate with "
        "ongoing_only</error>"
    )
    assert _error(pi, "get_downtime", ongoing_only="maybe") == (
        "<error>Invalid ongoing_only value - must be 'yes' or 'no'</error>"
    )
    assert _error(pi, "get_downtime", all_lastmonth="1", windowstart="2026-01-01") == (
        "<error>Invalid parameters - only scope, scope_match, topentity params allowed when "
        "specifying all_lastmonth</error>"
    )
    assert "Failed to parse time string (someday)" in _error(
        pi, "get_downtime", startdate="someday"
    )
    assert _error(pi, "get_downtime", site_extensions="broken") == BAD_EXTENSIONS
    assert (
        _error(pi, "get_downtime", colour="red") == "<error>Unsupported parameter: colour</error>"
    )
    # ongoing_only=no restricts as =yes does (GOCDB adds the condition for any value), and
    # may come with a start date
    ongoing = pi.xml("get_downtime", ongoing_only="yes", scope="")
    assert _got(ongoing) == _got(pi.xml("get_downtime", ongoing_only="no", scope=""))
    now = utcnow()
    assert _got(ongoing) == _pairs(session, keep=lambda r: r["starts_at"] < now < r["ends_at"])
    pi.xml("get_downtime", ongoing_only="no", startdate="2020-01-01")


def test_filters(pi: Pi, session: Session, demo: datetime) -> None:
    every = _got(pi.xml("get_downtime", scope=""))
    nikhef = _got(pi.xml("get_downtime", topentity="NIKHEF%", scope=""))
    assert nikhef
    assert nikhef == _pairs(
        session, "d.site_id = (SELECT id FROM site WHERE short_name = 'NIKHEF-ELPROD')"
    )
    assert _got(pi.xml("get_downtime", topentity="nikhef%", scope="")) == set()  # case-sensitive
    (some_id, host) = sorted(every)[0]
    assert {d for d, _ in _got(pi.xml("get_downtime", id=str(some_id), scope=""))} == {some_id}
    assert _got(pi.xml("get_downtime", id="abc", scope="")) == set()
    assert _got(pi.xml("get_downtime", id="99999999999", scope="")) == set()
    warnings = _got(pi.xml("get_downtime", severity="WARNING", scope=""))
    outages = _got(pi.xml("get_downtime", severity="OUTAGE", scope=""))
    assert warnings
    assert warnings | outages == every
    assert _got(pi.xml("get_downtime", severity="warning", scope="")) == set()
    assert _got(pi.xml("get_downtime", sitelist="NIKHEF-ELPROD,pic", scope="")) == nikhef | _got(
        pi.xml("get_downtime", topentity="pic", scope="")
    )
    assert _got(pi.xml("get_downtime", servicelist="nothing", scope="")) == every  # ignored
    future = _got(pi.xml("get_downtime", startdate=demo.strftime("%Y-%m-%d %H:%M:%S"), scope=""))
    moment = demo.replace(microsecond=0)
    assert future == _pairs(session, keep=lambda r: r["starts_at"] > moment)
    assert future
    window = _got(
        pi.xml("get_downtime", windowstart="2000-01-01", windowend="2100-01-01", scope="")
    )
    assert window == every
    assert _got(pi.xml("get_downtime", windowend="2000-01-01", scope="")) == set()
    assert _got(pi.xml("get_downtime", all_lastmonth="", scope="")) <= every
    site_dt = _got(pi.xml("get_downtime", site_extensions="(wlcg_tier=1)", scope=""))
    assert site_dt
    assert site_dt < every


def test_the_default_scope(pi: Pi, session: Session, demo: datetime) -> None:
    egi = _got(pi.xml("get_downtime"))
    everything = _got(pi.xml("get_downtime", scope=""))
    in_egi = _pairs(
        session,
        "ds.service_id IN (SELECT ss.service_id FROM service_scope ss JOIN scope sc "
        "ON sc.id = ss.scope_id WHERE sc.name = 'EGI')",
    )
    assert egi == in_egi
    assert egi <= everything


def test_cursor_pages(pi: Pi, session: Session, demo: datetime) -> None:
    everything = _ids(pi.xml("get_downtime_nested_services", scope=""))
    seen: list[int] = []
    cursor = "0"
    pages = 0
    while True:
        root = pi.xml("get_downtime_nested_services", scope="", next_cursor=cursor)
        meta = root[0]
        assert meta.tag == "meta"
        count = int(str(meta.findtext("count")))
        assert meta.findtext("max_page_size") == "100"
        links = {link.get("rel"): str(link.get("href")) for link in meta.iter("link")}
        assert count == len(_ids(root))
        if count == 0:
            break
        seen += _ids(root)
        cursor = dict(parse_qsl(urlsplit(links["next"]).query))["next_cursor"]
        pages += 1
    assert seen == everything
    # the flat form pages by downtime too: its count is of downtimes
    flat = pi.xml("get_downtime", scope="", next_cursor="0")
    assert int(str(flat[0].findtext("count"))) == len(set(_ids(flat)))
    back = pi.xml("get_downtime_nested_services", scope="", prev_cursor=str(everything[-1]))
    assert _ids(back) == everything[-101:-1]
    assert _error(pi, "get_downtime", next_cursor="x").startswith("<error>Invalid 'next_cursor'")


def test_protection_level_one(pi: Pi, demo: datetime) -> None:
    """Anyone: anonymous on the public interface, a user without a role and one with a
    role (API tokens) on the private one; the private one refuses the anonymous."""
    for who in (None, "plain", "role"):
        path = PRIVATE if who else "/gocdbpi/public/"
        assert len(pi.xml("get_downtime", path, who=who, scope="")) > 0
    status, _ = pi.get("get_downtime", PRIVATE)
    assert status == 403


def test_a_site_api_credential_reads_them_too(session: Session, demo: datetime) -> None:
    """A caller known only by a client certificate DN registered as a site's API credential
    (the X.509 route is another helper's; the principal it makes is used here directly)."""
    dn = "/DC=org/DC=example/O=Site/CN=downtime-robot"
    site_id = session.execute(text("SELECT id FROM site ORDER BY id LIMIT 1")).scalar_one()
    token, _ = tokens.create_api_token(session, PLATFORM, name="t", user_subject="o@x.org")
    add_site_credential(
        session,
        PLATFORM,
        site_id=int(site_id),
        identifier=dn,
        kind=CredentialKind.X509,
        owner_id=token.user_id,
    )
    robot = Principal(subject=dn, name=dn, client_dn=dn)
    instance = Instance(ScopeDefaults(), restrict_personal_data=True, base_url="https://ops")
    for name in ("get_downtime", "get_downtime_nested_services", "get_downtime_to_broadcast"):
        method = METHODS[name]
        assert pi_refusal(session, robot, method.level, restrict_personal_data=True) is None
        params = check([("scope", "")], method.allowed)
        body = method.handler(Call(session, robot, params, Paging(), instance))
        assert ET.fromstring(body).tag == "results"
        assert b"https://ops/downtimes/" in body or name == "get_downtime_to_broadcast"


@pytest.mark.parametrize(
    "params",
    [
        {"startdate": "2026-13-45"},
        {"windowend": "9999-12-31"},
        {"windowstart": "0001-01-01"},
        {"startdate": "@99999999999999"},
        {"enddate": "\u00e9t\u00e9"},
        {"id": "-1"},
        {"id": "1" * 40},
        {"topentity": "%" * 300},
        {"certification_status": "_"},
        {"production": "maybe", "monitored": "Y"},
        {"service_extensions": "(a=1)" * 100},
        {"scope": ",,,", "scope_match": "all"},
        {"next_cursor": "99999999999"},
        {"prev_cursor": "0"},
        {"sitelist": ",", "ngilist": "", "service_type_list": "x,,y"},
    ],
)
def test_no_input_gives_a_500(pi: Pi, demo: datetime, params: dict[str, str]) -> None:
    for method in ("get_downtime", "get_downtime_nested_services"):
        status, _ = pi.get(method, **params)
        assert status == 200
    status, _ = pi.get("get_downtime_to_broadcast", id=params.get("id", "1"))
    assert status == 200


def test_php_dates() -> None:
    now = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    assert php_datetime("", now) == now
    assert php_datetime("now", now) == now
    assert php_datetime("today", now) == datetime(2026, 5, 6, tzinfo=UTC)
    assert php_datetime("yesterday", now) == datetime(2026, 5, 5, tzinfo=UTC)
    assert php_datetime("2026-01-02", now) == datetime(2026, 1, 2, tzinfo=UTC)
    assert php_datetime("2026-01-02 03:04", now) == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert php_datetime("2026-01-02T03:04:05+02:00", now) == datetime(
        2026, 1, 2, 1, 4, 5, tzinfo=UTC
    )
    assert php_datetime("@0", now) == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(PiError):
        php_datetime("next week", now)


def test_statements_do_not_grow_with_the_downtimes(
    pi: Pi, session: Session, demo: datetime, statements: StatementCounter
) -> None:
    service_ids = [
        int(s)
        for s in session.execute(text("SELECT id FROM service ORDER BY id LIMIT 30")).scalars()
    ]
    counts: list[int] = []
    for n in (0, 30):
        for i in range(n):
            downtimes.declare_downtime(
                session,
                PLATFORM,
                declaration=downtimes.Declaration(
                    service_ids=[service_ids[i]],
                    severity=Severity.WARNING,
                    starts_at=demo + timedelta(days=4, hours=i),
                    ends_at=demo + timedelta(days=4, hours=i + 1),
                    description="Many downtimes",
                ),
                now=demo,
            )
        session.commit()
        for method, params in (
            ("get_downtime", {"scope": ""}),
            ("get_downtime_nested_services", {"scope": "", "next_cursor": "0"}),
            ("get_downtime_to_broadcast", {"scope": ""}),
        ):
            statements.reset()
            pi.xml(method, **params)
            counts.append(statements.count)
    assert counts[:3] == counts[3:]


def test_downtimes_over_http(demo_server: str) -> None:
    base = demo_server
    flat = httpx.get(f"{base}/gocdbpi/public/?method=get_downtime&scope=", timeout=60)
    assert flat.status_code == 200
    assert flat.headers["content-type"].startswith("application/xml")
    assert flat.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<results>\n')
    rows = ET.fromstring(flat.content)
    assert len(rows) > 0
    nested = httpx.get(
        f"{base}/gocdbpi/public/?method=get_downtime_nested_services&scope=&next_cursor=0",
        timeout=60,
    )
    root = ET.fromstring(nested.content)
    assert root[0].tag == "meta"
    assert {d.get("ID") for d in rows} == {d.get("ID") for d in root if d.tag == "DOWNTIME"}
    wrong = httpx.get(
        f"{base}/gocdbpi/public/?method=get_downtime&ongoing_only=yes&enddate=2026-01-01",
        timeout=60,
    )
    assert wrong.text.startswith("<error>Invalid parameter combination")
