"""`levels.status_levels` on a small federation (tests/monitoring/levels_world.py), both
backends: the engine's truth tables from metric to NGI, downtimes as DOWNTIME, a site
without data MISSING, filters narrowing what is read, today cut at now."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.monitoring.models.availability import ArLevel
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service.levels import LevelStatus, status_levels, status_span
from tests.monitoring import levels_world as w

END = w.at(23, 59) + dt.timedelta(seconds=59)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    return w.build(session)


def lines(
    items: tuple[LevelStatus, ...] | list[LevelStatus],
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(level, name) -> [(HH:MM, status)] for the day."""
    return {
        (
            item.level.value,
            f"{item.site}/{item.name}" if item.site and item.site != item.name else item.name,
        ): [(p.timestamp.strftime("%H:%M"), p.status) for p in item.points]
        for item in items
    }


def test_a_past_day_from_metrics_to_ngi(session: Session, world: dict[str, Any]) -> None:
    found = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=w.at(12, day=w.DAY + dt.timedelta(days=3)),
    )
    assert (found.report, found.day, found.until) == (w.REPORT, w.DAY, END)
    assert lines(found.items) == {
        # a CRITICAL metric makes its endpoint CRITICAL (AND)
        ("ENDPOINT", "LVL-A/ce.a.lvl.example.org"): [("00:00", "OK"), ("06:00", "CRITICAL")],
        ("ENDPOINT", "LVL-A/se.a.lvl.example.org"): [("00:00", "OK")],
        ("ENDPOINT", "LVL-B/ce1.b.lvl.example.org"): [("00:00", "OK"), ("08:00", "CRITICAL")],
        # the downtime overwrites the endpoint; the earlier status resumes at end + 1 minute
        ("ENDPOINT", "LVL-B/ce2.b.lvl.example.org"): [
            ("00:00", "OK"),
            ("10:00", "DOWNTIME"),
            ("12:01", "OK"),
        ],
        # no result: MISSING, then DOWNTIME while the downtime lasts
        ("ENDPOINT", "LVL-C/se.c.lvl.example.org"): [
            ("00:00", "MISSING"),
            ("10:00", "DOWNTIME"),
            ("12:01", "MISSING"),
        ],
        ("SERVICE", "LVL-A/lvl.compute"): [("00:00", "OK"), ("06:00", "CRITICAL")],
        ("SERVICE", "LVL-A/lvl.storage"): [("00:00", "OK")],
        # OR: OK while ce2.b is; CRITICAL OR DOWNTIME = CRITICAL (egi_ops)
        ("SERVICE", "LVL-B/lvl.compute"): [("00:00", "OK"), ("10:00", "CRITICAL"), ("12:01", "OK")],
        ("SERVICE", "LVL-C/lvl.storage"): [
            ("00:00", "MISSING"),
            ("10:00", "DOWNTIME"),
            ("12:01", "MISSING"),
        ],
        ("GROUP", "LVL-A/compute"): [("00:00", "OK"), ("06:00", "CRITICAL")],
        ("GROUP", "LVL-A/storage"): [("00:00", "OK")],
        ("GROUP", "LVL-B/compute"): [("00:00", "OK"), ("10:00", "CRITICAL"), ("12:01", "OK")],
        ("GROUP", "LVL-C/storage"): [
            ("00:00", "MISSING"),
            ("10:00", "DOWNTIME"),
            ("12:01", "MISSING"),
        ],
        ("SITE", "LVL-A"): [("00:00", "OK"), ("06:00", "CRITICAL")],
        ("SITE", "LVL-B"): [("00:00", "OK"), ("10:00", "CRITICAL"), ("12:01", "OK")],
        ("SITE", "LVL-C"): [("00:00", "MISSING"), ("10:00", "DOWNTIME"), ("12:01", "MISSING")],
        # AND of the sites: MISSING (C), then CRITICAL (A) from 06:00 all day
        ("SUPERGROUP", "NGI_LVL"): [("00:00", "MISSING"), ("06:00", "CRITICAL")],
    }
    statuses = {(i.level, i.name): i.status for i in found.items}
    assert statuses[(ArLevel.SITE, "LVL-B")] == "OK"  # at the day's end
    assert statuses[(ArLevel.SUPERGROUP, "NGI_LVL")] == "CRITICAL"
    [ce] = [i for i in found.items if i.name == "ce1.b.lvl.example.org"]
    assert (ce.site, ce.ngi, ce.service_type) == ("LVL-B", "NGI_LVL", w.COMPUTE)


def test_today_stops_at_now(session: Session, world: dict[str, Any]) -> None:
    now = w.at(11, 0)
    found = status_levels(session, ANONYMOUS, report=w.REPORT, now=now)
    assert (found.day, found.until) == (w.DAY, now)
    status = {(i.level, i.name): i.status for i in found.items}
    assert status[(ArLevel.ENDPOINT, "ce2.b.lvl.example.org")] == "DOWNTIME"
    assert status[(ArLevel.SITE, "LVL-B")] == "CRITICAL"
    assert status[(ArLevel.SITE, "LVL-C")] == "DOWNTIME"
    assert status[(ArLevel.SITE, "LVL-A")] == "CRITICAL"
    for item in found.items:
        assert all(p.timestamp <= now for p in item.points)
    [site_b] = found.of(ArLevel.SITE)[1:2]
    assert [p.timestamp.hour for p in site_b.points] == [0, 10]  # 12:01 is still to come


def test_filters_read_only_what_they_need(session: Session, world: dict[str, Any]) -> None:
    now = w.at(12, day=w.DAY + dt.timedelta(days=1))
    one_site = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=now,
        levels=(ArLevel.SITE,),
        sites=["LVL-B"],
    )
    assert [(i.name, i.status) for i in one_site.items] == [("LVL-B", "OK")]
    # a service type at a site: the status of those endpoints only
    services = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=now,
        levels=(ArLevel.SERVICE, ArLevel.ENDPOINT),
        sites=["LVL-A"],
        service_types=[w.COMPUTE],
    )
    assert [(i.level, i.name, i.status) for i in services.items] == [
        (ArLevel.ENDPOINT, "ce.a.lvl.example.org", "CRITICAL"),
        (ArLevel.SERVICE, w.COMPUTE, "CRITICAL"),
    ]
    endpoint = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=now,
        levels=(ArLevel.ENDPOINT,),
        hostnames=["ce2.b.lvl.example.org"],
    )
    assert [i.name for i in endpoint.items] == ["ce2.b.lvl.example.org"]
    # an NGI needs all its sites, whatever site is named
    ngi = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=now,
        levels=(ArLevel.SUPERGROUP, ArLevel.SITE),
        ngis=[w.NGI_NAME],
        sites=["LVL-C"],
    )
    assert [(i.level, i.name, i.status) for i in ngi.items] == [
        (ArLevel.SITE, "LVL-C", "MISSING"),
        (ArLevel.SUPERGROUP, w.NGI_NAME, "CRITICAL"),
    ]
    nothing = status_levels(
        session,
        ANONYMOUS,
        report=w.REPORT,
        day=w.DAY,
        now=now,
        sites=["NO-SUCH-SITE"],
        levels=(ArLevel.SITE,),
    )
    assert nothing.items == ()


def test_refuses_the_future_and_unknown_reports(session: Session, world: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as raised:
        status_levels(
            session, ANONYMOUS, report=w.REPORT, day=w.DAY + dt.timedelta(days=1), now=w.at(12)
        )
    assert (raised.value.field, raised.value.rule) == (
        "day",
        MonitoringRule.MONITORING_DAY_IN_FUTURE,
    )
    with pytest.raises(Invalid) as raised:
        status_levels(session, ANONYMOUS, report="no-such-report", now=w.at(12))
    assert raised.value.rule is MonitoringRule.MONITORING_REPORT_UNKNOWN


def test_a_window_joins_days(session: Session, world: dict[str, Any]) -> None:
    """Over two days: the status at the window's start (at its own time), the changes, a
    closing point; the second day is seeded by the first's last results (ce1.b CRITICAL,
    ce2.b OK: OR gives OK, no new point)."""
    start, end = w.at(9), w.at(1, day=w.DAY + dt.timedelta(days=1))
    [site] = status_span(
        session,
        ANONYMOUS,
        report=w.REPORT,
        start=start,
        end=end,
        now=w.at(0, day=w.DAY + dt.timedelta(days=2)),
        levels=(ArLevel.SITE,),
        sites=["LVL-B"],
    )
    assert [(p.timestamp, p.status) for p in site.points] == [
        (w.at(0), "OK"),
        (w.at(10), "CRITICAL"),
        (w.at(12, 1), "OK"),
        (end, "OK"),
    ]
    assert site.status == "OK"
    # clipped at now
    [now_site] = status_span(
        session,
        ANONYMOUS,
        report=w.REPORT,
        start=start,
        end=end,
        now=w.at(11),
        levels=(ArLevel.SITE,),
        sites=["LVL-B"],
    )
    assert [(p.timestamp, p.status) for p in now_site.points] == [
        (w.at(0), "OK"),
        (w.at(10), "CRITICAL"),
        (w.at(11), "CRITICAL"),
    ]
    with pytest.raises(Invalid) as raised:
        status_span(session, ANONYMOUS, report=w.REPORT, start=end, end=start, now=end)
    assert (raised.value.field, raised.value.rule) == (
        "end_time",
        MonitoringRule.MONITORING_PERIOD_REVERSED,
    )
    with pytest.raises(Invalid) as raised:
        status_span(
            session,
            ANONYMOUS,
            report=w.REPORT,
            start=start - dt.timedelta(days=40),
            end=end,
            now=end,
        )
    assert raised.value.rule is MonitoringRule.MONITORING_SPAN_TOO_LONG
