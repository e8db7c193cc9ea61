"""The downtime feeds' wire formats: iCalendar (RFC 5545), RSS 2.0, CSV and JSON.

Pure functions of the downtimes and of `now`: no I/O, no clock, no database.

- iCal: CRLF line ends, lines folded at 75 octets without splitting a UTF-8 character,
  TEXT escaped (backslash, `;`, `,`, newlines). UID `<primaryKey>@opsgraph` is stable per
  downtime. SEQUENCE is the whole seconds between the declaration and the last change: 0
  for an unchanged downtime and larger after every later change, which is all RFC 5545
  asks of it (the table keeps no revision count, and the audit trail may be trimmed).
- CSV: one row per (downtime, affected service), as GOCDB's flat get_downtime. A text cell
  that a spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage
  return) gets a leading apostrophe, so opening the file never runs anything.
- Characters XML 1.0 forbids (controls other than tab and line ends, U+FFFE, U+FFFF, lone
  surrogates) are dropped from text in every format, JSON included: iCal TEXT forbids the
  controls too, and a lone surrogate cannot be encoded at all.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

from domains.common.text import xml_text
from domains.downtimes.feeds import FeedDowntime
from domains.downtimes.service import effective_end

UID_DOMAIN = "opsgraph"
PRODID = "-//opsgraph//Downtimes feed//EN"
ICAL_TYPE = "text/calendar; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8; header=present"
JSON_TYPE = "application/json; charset=utf-8"

# What a calendar program should wait between two fetches of a subscribed feed.
REFRESH_INTERVAL = "PT1H"
FOLD_OCTETS = 75
CSV_COLUMNS = (
    "PRIMARY_KEY",
    "HOSTNAME",
    "SERVICE_TYPE",
    "HOSTED_BY",
    "SEVERITY",
    "CLASSIFICATION",
    "DESCRIPTION",
    "START_DATE",
    "END_DATE",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value: str) -> str:
    """Drop what XML and iCal TEXT forbid (controls other than tab and line ends, U+FFFE,
    U+FFFF, lone surrogates): text stored before the input rule, or around it, must not
    make a feed unreadable."""
    return xml_text(value)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, as the GraphQL API writes times."""
    return moment.astimezone(UTC).isoformat()


def uid(downtime: FeedDowntime) -> str:
    return f"{clean_text(downtime.primary_key)}@{UID_DOMAIN}"


def summary(downtime: FeedDowntime) -> str:
    return f"{downtime.severity.value}: {downtime.site}"


def _service_line(downtime: FeedDowntime) -> str:
    parts = []
    for s in downtime.services:
        ended = f", left early at {iso(s.ended_at)}" if s.ended_at is not None else ""
        parts.append(f"{s.host_name} ({s.service_type}{ended})")
    return ", ".join(parts)


def details(downtime: FeedDowntime) -> str:
    """The plain-text body the iCal DESCRIPTION and the RSS description share."""
    lines = [
        downtime.description,
        "",
        f"Site: {downtime.site} (NGI {downtime.ngi})",
        f"Severity: {downtime.severity.value}",
        f"Classification: {downtime.classification.value}",
        f"From {iso(downtime.starts_at)} to {iso(downtime.ends_at)}",
        f"Services: {_service_line(downtime)}",
    ]
    if downtime.endpoints:
        endpoints = ", ".join(f"{e.name} ({e.host_name})" for e in downtime.endpoints)
        lines.append(f"Endpoints: {endpoints}")
    lines.append(f"Primary key: {downtime.primary_key}")
    return clean_text("\n".join(lines))


# ---------------------------------------------------------------------------------------
# iCalendar


def ical_escape(value: str) -> str:
    """RFC 5545 TEXT: backslash first, then `;` and `,`; every line end becomes `\\n`."""
    value = clean_text(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line as CRLF-terminated physical lines of at most 75 octets each
    (the leading space of a continuation counts), never splitting a UTF-8 character."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    limit = FOLD_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(current))
            current, size, limit = [], 0, FOLD_OCTETS - 1
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out) + "\r\n"


def ical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _vevent(downtime: FeedDowntime, now: datetime) -> Iterator[str]:
    sequence = max(0, int((downtime.updated_at - downtime.declared_at).total_seconds()))
    yield "BEGIN:VEVENT"
    yield f"UID:{uid(downtime)}"
    yield f"DTSTAMP:{ical_time(now)}"
    yield f"DTSTART:{ical_time(downtime.starts_at)}"
    yield f"DTEND:{ical_time(downtime.ends_at)}"
    yield f"SUMMARY:{ical_escape(summary(downtime))}"
    yield f"DESCRIPTION:{ical_escape(details(downtime))}"
    yield f"LOCATION:{ical_escape(f'{downtime.site} ({downtime.ngi})')}"
    yield "CATEGORIES:" + ",".join(
        ical_escape(c) for c in ("Downtime", downtime.severity.value, downtime.classification.value)
    )
    yield f"CREATED:{ical_time(downtime.declared_at)}"
    yield f"LAST-MODIFIED:{ical_time(downtime.updated_at)}"
    yield f"SEQUENCE:{sequence}"
    yield "STATUS:CONFIRMED"
    # a downtime does not make the subscriber busy
    yield "TRANSP:TRANSPARENT"
    yield "END:VEVENT"


def render_ical(downtimes: Sequence[FeedDowntime], *, title: str, now: datetime) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        # RFC 7986's NAME, and the X-WR-CALNAME most calendar programs read (TEXT as well)
        f"NAME:{ical_escape(title)}",
        f"X-WR-CALNAME:{ical_escape(title)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{REFRESH_INTERVAL}",
        f"X-PUBLISHED-TTL:{REFRESH_INTERVAL}",
    ]
    for downtime in downtimes:
        lines.extend(_vevent(downtime, now))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) for line in lines).encode("utf-8")


# ---------------------------------------------------------------------------------------
# RSS 2.0


def _sub(parent: ElementTree.Element, tag: str, text: str, **attrs: str) -> None:
    ElementTree.SubElement(parent, tag, attrs).text = clean_text(text)


def render_rss(downtimes: Sequence[FeedDowntime], *, title: str, link: str, now: datetime) -> bytes:
    """Items in the feed's order (by start); pubDate is the declaration time."""
    rss = ElementTree.Element("rss", {"version": "2.0"})
    channel = ElementTree.SubElement(rss, "channel")
    _sub(channel, "title", title)
    _sub(channel, "link", link)
    _sub(channel, "description", "Downtimes of the infrastructure's services")
    _sub(channel, "lastBuildDate", format_datetime(now.astimezone(UTC), usegmt=True))
    _sub(channel, "generator", "opsgraph")
    _sub(channel, "ttl", "60")
    for downtime in downtimes:
        item = ElementTree.SubElement(channel, "item")
        start = downtime.starts_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        end = downtime.ends_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        _sub(item, "title", f"{summary(downtime)} ({start} to {end} UTC)")
        _sub(item, "description", details(downtime))
        _sub(item, "guid", uid(downtime), isPermaLink="false")
        _sub(item, "pubDate", format_datetime(downtime.declared_at.astimezone(UTC), usegmt=True))
        _sub(item, "category", downtime.severity.value)
        _sub(item, "category", downtime.classification.value)
    body: bytes = ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body


# ---------------------------------------------------------------------------------------
# CSV


def csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a leading = + - @ (or tab, CR) gets an apostrophe."""
    value = clean_text(value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def render_csv(downtimes: Sequence[FeedDowntime]) -> bytes:
    """One row per (downtime, affected service); a service that left early ends then."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in downtimes:
        for s in d.services:
            end = effective_end(d.ends_at, s.ended_at)
            writer.writerow(
                csv_cell(v)
                for v in (
                    d.primary_key,
                    s.host_name,
                    s.service_type,
                    d.site,
                    d.severity.value,
                    d.classification.value,
                    d.description,
                    iso(d.starts_at),
                    iso(end),
                )
            )
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------------------------
# JSON


def downtime_json(downtime: FeedDowntime, global_id: Callable[[int], str]) -> dict[str, Any]:
    c = clean_text
    return {
        "id": global_id(downtime.id),
        "primaryKey": c(downtime.primary_key),
        "severity": downtime.severity.value,
        "classification": downtime.classification.value,
        "startsAt": iso(downtime.starts_at),
        "endsAt": iso(downtime.ends_at),
        "declaredAt": iso(downtime.declared_at),
        "description": c(downtime.description),
        "site": c(downtime.site),
        "ngi": c(downtime.ngi),
        "services": [
            {
                "hostName": c(s.host_name),
                "serviceType": c(s.service_type),
                "endedAt": None if s.ended_at is None else iso(s.ended_at),
            }
            for s in downtime.services
        ],
        "endpoints": [
            {
                "name": c(e.name),
                "hostName": c(e.host_name),
                "serviceType": c(e.service_type),
                "interfaceName": c(e.interface_name),
                "url": None if e.url is None else c(e.url),
            }
            for e in downtime.endpoints
        ],
    }


def render_json(downtimes: Sequence[FeedDowntime], *, global_id: Callable[[int], str]) -> bytes:
    """`global_id(pk)`: the GraphQL id of a downtime (the gateway knows the scheme)."""
    body = {"downtimes": [downtime_json(d, global_id) for d in downtimes]}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
