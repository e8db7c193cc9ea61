"""The feed formats as pure functions: iCal folding and escaping at their edges, the CSV
formula guard, control characters, and the JSON shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import icalendar
import pytest

from domains.downtimes import formats
from domains.downtimes.feeds import FeedDowntime, FeedEndpoint, FeedService
from domains.downtimes.models import Classification, Severity

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def downtime(description: str = "Maintenance", **overrides: object) -> FeedDowntime:
    values: dict[str, object] = {
        "id": 7,
        "primary_key": "7G0",
        "severity": Severity.OUTAGE,
        "classification": Classification.SCHEDULED,
        "starts_at": NOW + timedelta(days=2),
        "ends_at": NOW + timedelta(days=2, hours=3),
        "declared_at": NOW,
        "updated_at": NOW,
        "description": description,
        "site": "FZK-LCG2",
        "ngi": "NGI_DE",
        "services": (
            FeedService("ce01.gridka.de", "ARC-CE", None),
            FeedService("se01.gridka.de", "SRM", NOW + timedelta(days=2, hours=1)),
        ),
        "endpoints": (
            FeedEndpoint("ce01-arc", "ce01.gridka.de", "ARC-CE", "https://ce01:443", "emi.ARC"),
        ),
        **overrides,
    }
    return FeedDowntime(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "line",
    [
        "X" * 75,
        "X" * 76,
        "X" * 74 + "é",  # the 2-octet character would end at octet 76
        "DESCRIPTION:" + "ü" * 200,
        "DESCRIPTION:" + "维" * 100,
        "DESCRIPTION:" + "🔧" * 60,
        "SUMMARY:" + "a🔧" * 50,
        "",
    ],
)
def test_fold_keeps_lines_short_and_characters_whole(line: str) -> None:
    folded = formats.fold(line).encode("utf-8")
    assert folded.endswith(b"\r\n")
    physical = folded.split(b"\r\n")[:-1]
    assert all(len(p) <= 75 for p in physical)
    assert all(p.startswith(b" ") for p in physical[1:])
    for p in physical:
        p.decode("utf-8")
    # unfolding (RFC 5545 §3.1) gives the line back
    assert folded.decode("utf-8").replace("\r\n ", "")[:-2] == line


def test_fold_uses_the_whole_first_line() -> None:
    physical = formats.fold("X" * 75 + "Y").split("\r\n")
    assert physical[:2] == ["X" * 75, " Y"]


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("a;b", "a\\;b"),
        ("back\\slash", "back\\\\slash"),
        ("one\ntwo\r\nthree\rfour", "one\\ntwo\\nthree\\nfour"),
        ("\\n is not a newline", "\\\\n is not a newline"),
        ("bell\x07 and tab\t", "bell and tab\t"),
    ],
)
def test_ical_text_escaping(value: str, escaped: str) -> None:
    assert formats.ical_escape(value) == escaped


def test_ical_round_trip_through_icalendar() -> None:
    text = "Disk swap, then\\reboot\nline two; 冷却 " + "Kühlung " * 40
    body = formats.render_ical([downtime(text)], title="Downtimes, NGI_DE", now=NOW)
    calendar = icalendar.Calendar.from_ical(body)
    # icalendar hands NAME and X- properties back raw; both are TEXT, so escaped
    # (RFC 7986 5.1, RFC 5545 3.8.8.2)
    for name in ("NAME", "X-WR-CALNAME"):
        assert str(calendar[name]) == "Downtimes\\, NGI_DE"
    (event,) = [e for e in calendar.walk("VEVENT") if isinstance(e, icalendar.Event)]
    assert str(event["UID"]) == "7G0@opsgraph"
    assert str(event["DESCRIPTION"]).startswith(text)
    assert "se01.gridka.de (SRM, left early at 2026-12-03T09:30:00+00:00)" in str(
        event["DESCRIPTION"]
    )
    assert "Endpoints: ce01-arc (ce01.gridka.de)" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTAMP") == NOW
    assert str(event["LOCATION"]) == "FZK-LCG2 (NGI_DE)"
    assert b"DTSTART:20261203T083000Z\r\n" in body
    assert b"DTEND:20261203T113000Z\r\n" in body


def test_sequence_grows_with_the_last_change() -> None:
    def sequence(updated: datetime) -> int:
        body = formats.render_ical([downtime(updated_at=updated)], title="t", now=NOW)
        (event,) = [
            e
            for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
            if isinstance(e, icalendar.Event)
        ]
        return int(event.sequence)

    assert sequence(NOW) == 0
    assert 0 < sequence(NOW + timedelta(minutes=5)) < sequence(NOW + timedelta(hours=2))


def test_empty_calendar_is_valid() -> None:
    body = formats.render_ical([], title="Downtimes", now=NOW)
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == []
    assert body.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+49 123", "'+49 123"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("a=1", "a=1"),
        ("2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"),
        ("ce01.gridka.de", "ce01.gridka.de"),
    ],
)
def test_csv_formula_guard(value: str, cell: str) -> None:
    assert formats.csv_cell(value) == cell


def test_csv_service_rows_end_when_the_service_left() -> None:
    body = formats.render_csv([downtime("-rm everything")]).decode("utf-8")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == list(formats.CSV_COLUMNS)
    ce, se = rows[1], rows[2]
    assert ce[1:3] == ["ce01.gridka.de", "ARC-CE"]
    assert ce[8] == "2026-12-03T11:30:00+00:00"
    assert se[8] == "2026-12-03T09:30:00+00:00"  # left early
    assert ce[6] == "'-rm everything"


def test_rss_drops_control_characters_and_stays_xml() -> None:
    body = formats.render_rss(
        [downtime("broken\x01 text & <markup>")], title="D", link="https://x/feeds", now=NOW
    )
    item = ElementTree.fromstring(body).find("channel/item")
    assert item is not None
    assert (item.findtext("description") or "").startswith("broken text & <markup>")
    assert item.findtext("pubDate") == "Tue, 01 Dec 2026 08:30:00 GMT"


def test_json_shape() -> None:
    body = json.loads(formats.render_json([downtime()], global_id=lambda pk: f"G{pk}"))
    (item,) = body["downtimes"]
    assert item["id"] == "G7"
    assert item["services"][1] == {
        "hostName": "se01.gridka.de",
        "serviceType": "SRM",
        "endedAt": "2026-12-03T09:30:00+00:00",
    }
    assert item["endpoints"][0]["name"] == "ce01-arc"
    assert set(item) == {
        "id",
        "primaryKey",
        "severity",
        "classification",
        "startsAt",
        "endsAt",
        "declaredAt",
        "description",
        "site",
        "ngi",
        "services",
        "endpoints",
    }


# Text stored before the input rule (or written around it) with what XML forbids: every
# format drops it and stays readable, instead of an invalid feed or a 500 (issue 10).
FORBIDDEN = "a\x01b\x0bc\ufffed\uffffe\ud800f\udfffg"


def test_every_format_drops_what_xml_forbids_from_every_text() -> None:
    bad = downtime(
        FORBIDDEN,
        site="SITE\ufffe",
        ngi="NGI\x02",
        primary_key="7G0\uffff",
        services=(FeedService("ce01\ud800.example.org", "ARC\x1f-CE", None),),
        endpoints=(FeedEndpoint("ep\ufffe", "ce01", "ARC-CE", "https://x/\x03", "emi\uffff"),),
    )
    rss = formats.render_rss([bad], title="D\ufffe", link="https://x/feeds", now=NOW)
    item = ElementTree.fromstring(rss).find("channel/item")
    assert item is not None
    assert (item.findtext("description") or "").startswith("abcdefg\n")
    assert item.findtext("title", "").startswith("OUTAGE: SITE (")

    ical = formats.render_ical([bad], title="D", now=NOW)
    (event,) = icalendar.Calendar.from_ical(ical).walk("VEVENT")
    assert str(event["DESCRIPTION"]).startswith("abcdefg\n")
    assert str(event["UID"]) == "7G0@opsgraph"

    rows = list(csv.reader(io.StringIO(formats.render_csv([bad]).decode("utf-8"))))
    assert rows[1][:4] == ["7G0", "ce01.example.org", "ARC-CE", "SITE"]
    assert rows[1][6] == "abcdefg"

    (item_json,) = json.loads(formats.render_json([bad], global_id=str))["downtimes"]
    assert item_json["description"] == "abcdefg"
    assert (item_json["site"], item_json["ngi"]) == ("SITE", "NGI")
    assert item_json["endpoints"][0]["name"] == "ep"
    assert item_json["endpoints"][0]["url"] == "https://x/"
