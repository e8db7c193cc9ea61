"""The downtime feeds over HTTP: each format parses with a real reader, each query
parameter filters, personal feed tokens, errors, and a statement count that does not grow
with the number of downtimes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from xml.etree import ElementTree

import icalendar
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from domains.common.errors import CommonRule, RuleCode
from domains.common.graphql import to_global_id
from domains.common.identity import PLATFORM
from domains.common.time import utcnow
from domains.downtimes.models import Severity
from domains.downtimes.service import (
    Declaration,
    declare_downtime,
    end_downtime_services,
    update_downtime,
)
from domains.identity.service import tokens
from gateway.feeds import FeedRule
from tests.conftest import AppFactory, Callers, StatementCounter
from tests.identity.helpers import grant

NOW = utcnow().replace(microsecond=0)
SITE_1 = "FZK-LCG2"
LONG = "Kühlung überprüfen, Stromversorgung ersetzen — 冷却系统维护 🔧 \\ Ende.\n" * 20


@dataclass(frozen=True)
class World:
    site_1: str
    ngi_1: str
    site_2: str
    ngi_2: str
    future: str  # OUTAGE at site 1 (ARC-CE + SRM, one chosen endpoint), in 3 days
    ongoing: str  # WARNING at site 1 (Site-BDII), since 2 h, 2 h more
    past: str  # OUTAGE at site 2, from 40 h to 20 h ago
    local: str  # WARNING at site 1 on a service scoped Local only, in 10 days

    @property
    def all(self) -> set[str]:
        return {self.future, self.ongoing, self.past, self.local}


def _one(session: Session, sql: str, **params: Any) -> Any:
    row = session.execute(text(sql), params).first()
    assert row is not None, sql
    return row


def _service(session: Session, site: str, type_name: str) -> int:
    return int(
        _one(
            session,
            "SELECT se.id FROM service se JOIN site si ON si.id = se.site_id "
            "JOIN service_type st ON st.id = se.service_type_id "
            "WHERE si.short_name = :site AND st.name = :type ORDER BY se.id",
            site=site,
            type=type_name,
        )[0]
    )


def _scoped(session: Session, site: str, *, has: str, lacks: str) -> int:
    return int(
        _one(
            session,
            "SELECT se.id FROM service se JOIN site si ON si.id = se.site_id "
            "WHERE si.short_name = :site "
            "AND EXISTS (SELECT 1 FROM service_scope ss JOIN scope sc ON sc.id = ss.scope_id "
            "  WHERE ss.service_id = se.id AND sc.name = :has) "
            "AND NOT EXISTS (SELECT 1 FROM service_scope ss JOIN scope sc ON sc.id = ss.scope_id "
            "  WHERE ss.service_id = se.id AND sc.name = :lacks) ORDER BY se.id",
            site=site,
            has=has,
            lacks=lacks,
        )[0]
    )


def _endpoint(session: Session, service_id: int) -> int:
    return int(
        _one(session, "SELECT id FROM endpoint WHERE service_id = :s ORDER BY id", s=service_id)[0]
    )


def declare(
    session: Session,
    services: Sequence[int],
    *,
    severity: Severity,
    start: timedelta,
    length: timedelta,
    description: str = "Planned maintenance",
    endpoints: Sequence[int] = (),
) -> str:
    downtime = declare_downtime(
        session,
        PLATFORM,
        declaration=Declaration(
            service_ids=list(services),
            endpoint_ids=list(endpoints),
            severity=severity,
            starts_at=NOW + start,
            ends_at=NOW + start + length,
            description=description,
        ),
        now=NOW,
    )
    assert downtime.primary_key is not None
    return downtime.primary_key


@pytest.fixture
def world(session: Session) -> World:
    ngi_1 = _one(
        session,
        "SELECT n.name, n.id FROM site si JOIN ngi n ON n.id = si.ngi_id WHERE si.short_name = :s",
        s=SITE_1,
    )
    site_2, ngi_2 = _one(
        session,
        "SELECT si.short_name, n.name FROM site si JOIN ngi n ON n.id = si.ngi_id "
        "WHERE n.id != :ngi AND EXISTS (SELECT 1 FROM service se WHERE se.site_id = si.id) "
        "ORDER BY si.id",
        ngi=ngi_1[1],
    )
    ce, srm = _service(session, SITE_1, "ARC-CE"), _service(session, SITE_1, "SRM")
    built = World(
        site_1=SITE_1,
        ngi_1=ngi_1[0],
        site_2=site_2,
        ngi_2=ngi_2,
        future=declare(
            session,
            [ce, srm],
            endpoints=[_endpoint(session, ce)],
            severity=Severity.OUTAGE,
            start=timedelta(days=3),
            length=timedelta(hours=4),
            description="Storage upgrade, new firmware\\kernel\nsecond line",
        ),
        ongoing=declare(
            session,
            [_service(session, SITE_1, "Site-BDII")],
            severity=Severity.WARNING,
            start=timedelta(hours=-2),
            length=timedelta(hours=4),
        ),
        past=declare(
            session,
            [_scoped(session, site_2, has="EGI", lacks="Local")],
            severity=Severity.OUTAGE,
            start=timedelta(hours=-40),
            length=timedelta(hours=20),
            description="=HYPERLINK(1+2)",
        ),
        local=declare(
            session,
            [_scoped(session, SITE_1, has="Local", lacks="EGI")],
            severity=Severity.WARNING,
            start=timedelta(days=10),
            length=timedelta(hours=1),
            description=LONG,
        ),
    )
    session.commit()  # releases the test's savepoint; the outer transaction still rolls back
    return built


@pytest.fixture
def fast_executor() -> bool:
    """The feeds run no GraphQL: a second executor (tests/conftest.py) only repeats them."""
    return True


@pytest.fixture
def http(make_client: AppFactory) -> TestClient:
    return make_client().client


def feed(
    client: TestClient,
    params: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    response = client.get("/feeds/downtimes.json", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()["downtimes"]
    return body


def keys(client: TestClient, world: World, params: dict[str, Any] | None = None) -> set[str]:
    """The primary keys of this test's downtimes that the JSON feed returns."""
    return {d["primaryKey"] for d in feed(client, params)} & world.all


def _token(session: Session, subject: str) -> tuple[int, str]:
    token, secret = tokens.create_api_token(
        session, PLATFORM, name="calendar", user_subject=subject
    )
    session.commit()
    assert token.id is not None
    return token.id, secret


def _in_utc(value: str) -> str:
    return value.replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------
# Formats


def test_ical_parses_with_icalendar_and_keeps_rfc5545_lines(http: TestClient, world: World) -> None:
    response = http.get("/feeds/downtimes.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    raw = response.content
    # CRLF everywhere, lines of at most 75 octets, each valid UTF-8 on its own
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")
    lines = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # a split multi-byte character would raise here
    assert any(line.startswith(b" ") for line in lines)  # the long description was folded

    calendar = icalendar.Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Downtimes"
    assert "PRODID" in calendar
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT") if isinstance(e, icalendar.Event)}
    assert {f"{k}@opsgraph" for k in world.all} <= set(events)

    future = events[f"{world.future}@opsgraph"]
    assert future.decoded("DTSTART") == NOW + timedelta(days=3)
    assert future.decoded("DTEND") == NOW + timedelta(days=3, hours=4)
    assert future.decoded("DTSTART").tzinfo is not None
    assert f"DTSTART:{(NOW + timedelta(days=3)).strftime('%Y%m%dT%H%M%SZ')}".encode() in raw
    assert str(future["SUMMARY"]) == f"OUTAGE: {world.site_1}"
    description = str(future["DESCRIPTION"])
    # escaping round-trips: comma, backslash and the newline come back as written
    assert description.startswith("Storage upgrade, new firmware\\kernel\nsecond line\n")
    assert "Classification: SCHEDULED" in description
    assert "(ARC-CE)" in description
    assert "(SRM)" in description
    assert [str(c) for c in future.categories] == ["Downtime", "OUTAGE", "SCHEDULED"]
    assert future.decoded("LAST-MODIFIED") == NOW
    assert future.sequence == 0
    assert "DTSTAMP" in future

    local = events[f"{world.local}@opsgraph"]
    assert str(local["DESCRIPTION"]).startswith(LONG.rstrip("\n"))


def test_rss_items(http: TestClient, world: World) -> None:
    response = http.get("/feeds/downtimes.rss", params={"site": world.site_1})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for tag in ("title", "link", "description", "lastBuildDate"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert parsedate_to_datetime(channel.findtext("lastBuildDate") or "").tzinfo is not None
    items = channel.findall("item")
    guids = [item.findtext("guid") for item in items]
    # by start: the ongoing one first, then the future one, then the Local one
    assert guids == [f"{k}@opsgraph" for k in (world.ongoing, world.future, world.local)]
    for item in items:
        guid = item.find("guid")
        assert guid is not None
        assert guid.get("isPermaLink") == "false"
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == NOW
    assert (items[0].findtext("title") or "").startswith(f"WARNING: {world.site_1}")
    assert "Kühlung" in (items[2].findtext("description") or "")


def test_csv_rows_per_service_and_formula_guard(http: TestClient, world: World) -> None:
    response = http.get("/feeds/downtimes.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    # records end with CRLF (RFC 4180); a newline inside a quoted cell stays as written
    assert response.content.startswith(b"PRIMARY_KEY,")
    assert response.content.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0] == [
        "PRIMARY_KEY",
        "HOSTNAME",
        "SERVICE_TYPE",
        "HOSTED_BY",
        "SEVERITY",
        "CLASSIFICATION",
        "DESCRIPTION",
        "START_DATE",
        "END_DATE",
    ]
    by_key: dict[str, list[list[str]]] = {}
    for row in rows[1:]:
        by_key.setdefault(row[0], []).append(row)
    future = by_key[world.future]
    assert sorted(r[2] for r in future) == ["ARC-CE", "SRM"]
    assert {r[3] for r in future} == {world.site_1}
    assert future[0][4:6] == ["OUTAGE", "SCHEDULED"]
    assert future[0][6] == "Storage upgrade, new firmware\\kernel\nsecond line"
    assert datetime.fromisoformat(future[0][7]) == NOW + timedelta(days=3)
    assert datetime.fromisoformat(future[0][8]) == NOW + timedelta(days=3, hours=4)
    # a formula-looking description is neutralised with a leading apostrophe
    assert by_key[world.past][0][6] == "'=HYPERLINK(1+2)"


def test_json_shape(http: TestClient, world: World, session: Session) -> None:
    by_key = {d["primaryKey"]: d for d in feed(http)}
    future = by_key[world.future]
    assert future["id"] == to_global_id("Downtime", _pk(session, world.future))
    assert future["severity"] == "OUTAGE"
    assert future["classification"] == "SCHEDULED"
    assert datetime.fromisoformat(future["startsAt"]) == NOW + timedelta(days=3)
    assert datetime.fromisoformat(future["endsAt"]) == NOW + timedelta(days=3, hours=4)
    assert datetime.fromisoformat(future["declaredAt"]) == NOW
    assert future["site"] == world.site_1
    assert future["ngi"] == world.ngi_1
    assert sorted(s["serviceType"] for s in future["services"]) == ["ARC-CE", "SRM"]
    assert all(s["endedAt"] is None for s in future["services"])
    assert all(s["hostName"] for s in future["services"])
    assert len(future["endpoints"]) == 1
    assert future["endpoints"][0]["serviceType"] == "ARC-CE"
    assert by_key[world.ongoing]["endpoints"] == []
    assert by_key[world.past]["ngi"] == world.ngi_2


def _pk(session: Session, primary_key: str) -> int:
    return int(_one(session, "SELECT id FROM downtime WHERE primary_key = :k", k=primary_key)[0])


def test_changes_show_as_revisions_and_partial_ends(
    http: TestClient, world: World, session: Session
) -> None:
    edited = NOW + timedelta(minutes=10)
    update_downtime(
        session,
        PLATFORM,
        downtime_id=_pk(session, world.future),
        description="Storage upgrade, postponed firmware",
        now=edited,
    )
    ce, srm = _service(session, SITE_1, "ARC-CE"), _service(session, SITE_1, "SRM")
    both = declare(
        session, [ce, srm], severity=Severity.OUTAGE, start=timedelta(0), length=timedelta(hours=5)
    )
    end_downtime_services(session, PLATFORM, downtime_id=_pk(session, both), service_ids=[srm])
    session.commit()

    calendar = icalendar.Calendar.from_ical(http.get("/feeds/downtimes.ics").content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT") if isinstance(e, icalendar.Event)}
    future = events[f"{world.future}@opsgraph"]
    assert future.sequence == 600  # seconds from declaration to the last change
    assert future.decoded("LAST-MODIFIED") == edited
    assert str(future["DESCRIPTION"]).startswith("Storage upgrade, postponed firmware\n")
    assert events[f"{world.ongoing}@opsgraph"].sequence == 0

    (item,) = [d for d in feed(http) if d["primaryKey"] == both]
    ended = {s["serviceType"]: s["endedAt"] for s in item["services"]}
    assert ended["ARC-CE"] is None
    assert ended["SRM"] is not None
    rows = list(csv.reader(io.StringIO(http.get("/feeds/downtimes.csv").text, newline="")))
    ends = {r[2]: datetime.fromisoformat(r[8]) for r in rows[1:] if r[0] == both}
    assert ends["ARC-CE"] == NOW + timedelta(hours=5)
    assert ends["SRM"] == datetime.fromisoformat(ended["SRM"]) < NOW + timedelta(hours=5)


@pytest.mark.parametrize(
    ("kind", "media_type"),
    [
        ("ics", "text/calendar"),
        ("rss", "application/rss+xml"),
        ("csv", "text/csv"),
        ("json", "application/json"),
    ],
)
def test_every_format_is_public_and_cacheable(
    http: TestClient, world: World, kind: str, media_type: str
) -> None:
    response = http.get(f"/feeds/downtimes.{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["cache-control"].startswith("public")
    assert world.future.encode() in response.content


# ---------------------------------------------------------------------------------------
# Filters


def test_site_and_ngi(http: TestClient, world: World) -> None:
    assert keys(http, world, {"site": world.site_2}) == {world.past}
    assert keys(http, world, {"site": f"{world.site_1},{world.site_2}"}) == world.all
    assert keys(http, world, {"site": [world.site_1, world.site_2]}) == world.all
    assert keys(http, world, {"ngi": world.ngi_2}) == {world.past}
    assert keys(http, world, {"ngi": world.ngi_1}) == world.all - {world.past}


def test_service_type(http: TestClient, world: World) -> None:
    assert keys(http, world, {"serviceType": "SRM"}) == {world.future}
    assert keys(http, world, {"serviceType": "SRM,Site-BDII"}) == {world.future, world.ongoing}


def test_scope(http: TestClient, world: World) -> None:
    assert keys(http, world, {"scope": "Local"}) == {world.local}
    assert world.local not in keys(http, world, {"scope": "EGI"})
    assert {world.future, world.ongoing, world.past} <= keys(http, world, {"scope": "EGI"})
    # several scopes: all of them (the instance's default match)
    assert keys(http, world, {"scope": "Local,wlcg"}) == {world.local}
    assert keys(http, world, {"scope": ""}) == world.all  # GOCDB: empty means any scope


def test_severity(http: TestClient, world: World) -> None:
    assert keys(http, world, {"severity": "WARNING"}) == {world.ongoing, world.local}
    assert keys(http, world, {"severity": "outage"}) == {world.future, world.past}
    assert keys(http, world, {"severity": ["OUTAGE", "WARNING"]}) == world.all


def test_ongoing(http: TestClient, world: World) -> None:
    assert keys(http, world, {"ongoing": "true"}) == {world.ongoing}
    assert keys(http, world, {"ongoing": "false"}) == world.all - {world.ongoing}


def test_window(http: TestClient, world: World) -> None:
    def at(delta: timedelta) -> str:
        return (NOW + delta).isoformat()

    assert keys(http, world, {"from": at(timedelta(days=1))}) == {world.future, world.local}
    assert keys(http, world, {"to": at(timedelta(hours=-10))}) == {world.past}
    window = {"from": at(timedelta(hours=-1)), "to": at(timedelta(hours=1))}
    assert keys(http, world, window) == {world.ongoing}
    # another offset names the same moment
    shifted = (NOW + timedelta(hours=-10)).astimezone(
        datetime.fromisoformat("2000-01-01T00:00:00+05:30").tzinfo
    )
    assert keys(http, world, {"to": shifted.isoformat()}) == {world.past}
    # dates: `from` is the day's first moment, `to` includes the whole day
    in_5_days = (NOW + timedelta(days=5)).date().isoformat()
    assert keys(http, world, {"from": in_5_days}) == {world.local}
    in_3_days = (NOW + timedelta(days=3)).date().isoformat()
    assert keys(http, world, {"to": in_3_days}) == world.all - {world.local}


def test_without_a_window_the_feed_starts_a_month_ago(
    http: TestClient, world: World, session: Session
) -> None:
    old = declare_downtime(
        session,
        PLATFORM,
        declaration=Declaration(
            service_ids=[_service(session, SITE_1, "SRM")],
            severity=Severity.OUTAGE,
            starts_at=NOW - timedelta(days=40),
            ends_at=NOW - timedelta(days=39),
            description="Long ago",
        ),
        now=NOW - timedelta(days=41),
    ).primary_key
    session.commit()
    assert old not in {d["primaryKey"] for d in feed(http)}
    since = (NOW - timedelta(days=45)).date().isoformat()
    assert old in {d["primaryKey"] for d in feed(http, {"from": since})}
    until = (NOW - timedelta(days=35)).date().isoformat()
    assert {d["primaryKey"] for d in feed(http, {"to": until})} == {old}


def test_unencoded_plus_in_an_offset(http: TestClient, world: World) -> None:
    moment = (NOW + timedelta(hours=-10)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    url = f"/feeds/downtimes.json?to={moment}+00:00"  # the + arrives as a space
    got = {d["primaryKey"] for d in http.get(url).json()["downtimes"]} & world.all
    assert got == {world.past}


def test_limit_keeps_the_earliest(http: TestClient, world: World) -> None:
    got = feed(http, {"site": world.site_1, "limit": "1"})
    assert [d["primaryKey"] for d in got] == [world.ongoing]
    got = feed(http, {"site": world.site_1, "limit": "2"})
    assert [d["primaryKey"] for d in got] == [world.ongoing, world.future]


# ---------------------------------------------------------------------------------------
# Personal feeds and authentication


def test_mine_with_a_personal_token(http: TestClient, world: World, session: Session) -> None:
    grant(session, "alice@egi.eu", "Site Administrator", "site", world.site_2)
    _, secret = _token(session, "alice@egi.eu")
    for params, headers in (
        ({"mine": "true", "token": secret}, None),
        ({"mine": "true", "key": secret}, None),
        ({"mine": "true"}, {"x-api-key": secret}),
    ):
        assert {d["primaryKey"] for d in feed(http, params, headers=headers)} == {world.past}
    response = http.get("/feeds/downtimes.ics", params={"mine": "true", "token": secret})
    assert response.headers["cache-control"].startswith("private")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "My sites' downtimes"
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [f"{world.past}@opsgraph"]
    # filters narrow "my sites" further
    assert feed(http, {"mine": "true", "token": secret, "site": world.site_1}) == []
    # without mine, a token sees the public feed
    assert keys(http, world, {"token": secret}) == world.all


def test_mine_through_an_ngi_role(http: TestClient, world: World, session: Session) -> None:
    grant(session, "nora@egi.eu", "NGI Operations Manager", "ngi", world.ngi_1)
    _, secret = _token(session, "nora@egi.eu")
    got = {d["primaryKey"] for d in feed(http, {"mine": "true", "token": secret})}
    assert got == world.all - {world.past}


def test_mine_with_an_oidc_bearer_token(callers: Callers, world: World, session: Session) -> None:
    grant(session, "bob@egi.eu", "Site Administrator", "site", world.site_1)
    bob = callers.as_user("bob@egi.eu")
    got = {
        d["primaryKey"] for d in feed(callers.client.client, {"mine": "true"}, headers=bob.headers)
    }
    assert got == world.all - {world.past}
    # a user without roles has an empty personal feed, not an error
    carol = callers.as_user("carol@egi.eu")
    assert feed(callers.client.client, {"mine": "true"}, headers=carol.headers) == []


def _refused(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"] == "Bearer"


def test_anonymous_mine_is_401(http: TestClient, world: World) -> None:
    _refused(http.get("/feeds/downtimes.ics", params={"mine": "true"}))


def test_bad_and_revoked_tokens_are_401(http: TestClient, world: World, session: Session) -> None:
    for params, headers in (
        ({"token": "0" * 40}, None),
        ({"key": "0" * 40}, None),
        ({"token": " "}, None),
        ({}, {"x-api-key": "0" * 40}),
        ({}, {"authorization": "Basic abc"}),
    ):
        _refused(http.get("/feeds/downtimes.json", params=params, headers=headers))
    token_id, secret = _token(session, "dora@egi.eu")
    assert http.get("/feeds/downtimes.json", params={"token": secret}).status_code == 200
    tokens.revoke_api_token(session, PLATFORM, token_id=token_id)
    session.commit()
    _refused(http.get("/feeds/downtimes.ics", params={"token": secret}))


# ---------------------------------------------------------------------------------------
# Bad parameters


@pytest.mark.parametrize(
    ("params", "parameter", "rule"),
    [
        ({"severity": "DOWN"}, "severity", FeedRule.FEED_SEVERITY_UNKNOWN),
        ({"ongoing": "yes please"}, "ongoing", FeedRule.FEED_BOOLEAN_INVALID),
        ({"ongoing": ["true", "false"]}, "ongoing", FeedRule.FEED_PARAMETER_REPEATED),
        ({"mine": "1"}, "mine", FeedRule.FEED_BOOLEAN_INVALID),
        ({"from": "2026-12-01T10:00:00"}, "from", FeedRule.FEED_TIME_INVALID),
        ({"from": "yesterday"}, "from", FeedRule.FEED_TIME_INVALID),
        ({"to": "2026-13-01"}, "to", FeedRule.FEED_TIME_INVALID),
        ({"from": "2026-12-02", "to": "2026-11-01"}, "to", FeedRule.FEED_WINDOW_REVERSED),
        ({"limit": "0"}, "limit", FeedRule.FEED_LIMIT_OUT_OF_RANGE),
        ({"limit": "1001"}, "limit", FeedRule.FEED_LIMIT_OUT_OF_RANGE),
        ({"limit": "ten"}, "limit", FeedRule.FEED_LIMIT_OUT_OF_RANGE),
        ({"site": ""}, "site", FeedRule.FEED_VALUE_EMPTY),
        ({"ngi": " , "}, "ngi", FeedRule.FEED_VALUE_EMPTY),
        ({"sites": "FZK-LCG2"}, "sites", FeedRule.FEED_PARAMETER_UNKNOWN),
        ({"token": "a", "key": "b"}, "token", FeedRule.FEED_CREDENTIAL_REPEATED),
        # %00: NUL, which PostgreSQL cannot store
        ({"site": "FZK\x00"}, "site", CommonRule.TEXT_NOT_STORABLE),
    ],
)
def test_bad_parameters_are_400_naming_them(
    http: TestClient, params: dict[str, Any], parameter: str, rule: RuleCode
) -> None:
    """The body's `rule` is the code; the message says the rule in words."""
    response = http.get("/feeds/downtimes.json", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["parameter"] == parameter
    assert error["rule"] == rule.code
    assert error["message"] == f"{parameter}: {rule.text}"
    assert set(error) == {"code", "message", "parameter", "rule"}


# ---------------------------------------------------------------------------------------
# No N+1


def test_statements_do_not_grow_with_the_downtimes(
    http: TestClient, world: World, session: Session, statements: StatementCounter
) -> None:
    grant(session, "erin@egi.eu", "Site Administrator", "site", world.site_1)
    grant(session, "erin@egi.eu", "Site Administrator", "site", world.site_2)
    _, secret = _token(session, "erin@egi.eu")
    requests = [
        ("/feeds/downtimes.json", {}),
        ("/feeds/downtimes.ics", {"mine": "true", "token": secret}),
        ("/feeds/downtimes.csv", {"site": f"{world.site_1},{world.site_2}"}),
    ]

    def count() -> list[int]:
        for url, params in requests:  # warm up: the token's last-use stamp is written once
            assert http.get(url, params=params).status_code == 200
        out = []
        for url, params in requests:
            statements.reset()
            assert http.get(url, params=params).status_code == 200
            out.append(statements.count)
        return out

    before = count()
    added = set()
    for site in (world.site_1, world.site_2):
        for type_name in ("SRM", "ARC-CE", "XRootD", "webdav", "org.squid-cache.Squid"):
            rows = session.execute(
                text(
                    "SELECT se.id FROM service se JOIN site si ON si.id = se.site_id "
                    "JOIN service_type st ON st.id = se.service_type_id "
                    "WHERE si.short_name = :site AND st.name = :type ORDER BY se.id"
                ),
                {"site": site, "type": type_name},
            ).all()
            if rows:
                service = int(rows[0][0])
                added.add(
                    declare(
                        session,
                        [service],
                        endpoints=[_endpoint(session, service)],
                        severity=Severity.OUTAGE,
                        start=timedelta(days=4),
                        length=timedelta(hours=1),
                    )
                )
    session.commit()
    assert len(added) >= 5
    assert added <= {d["primaryKey"] for d in feed(http)}
    assert count() == before, before
