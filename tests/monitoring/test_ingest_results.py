"""ingest_results: each record checked on its own; the bad ones rejected with field and
rule, counted per source, nothing of them stored; the good ones of the same batch stored,
their late days marked, the live status and its history kept (both backends)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.identity import ANONYMOUS, PLATFORM
from domains.monitoring import avro
from domains.monitoring.models.results import MetricResult, RecomputeDay, ResultRejectionCount
from domains.monitoring.models.status import MetricStatus, StatusChange
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import late
from domains.monitoring.service import results as svc
from domains.monitoring.service import status as status_svc
from domains.monitoring.service.results import IngestPolicy, Message, MetricResultIn
from tests.monitoring import ingest_world as world
from tests.monitoring.ingest_world import METRIC, add_endpoint

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def endpoint(session: Session) -> tuple[str, str]:
    return add_endpoint(session)


def result(
    endpoint: tuple[str, str], *, at: dt.datetime = NOW, status: str = "OK", **changes: Any
) -> MetricResultIn:
    return world.result(endpoint, at=at, status=status, **changes)


def _stored(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(MetricResult)).scalar_one())


def test_bad_records_are_rejected_and_the_good_ones_of_the_batch_stored(
    session: Session, endpoint: tuple[str, str]
) -> None:
    before = _stored(session)
    batch = [
        result(endpoint, at=NOW - dt.timedelta(minutes=5)),
        result(endpoint, status="BROKEN"),
        result(endpoint, metric="org.nowhere.unknown"),
        result(endpoint, hostname="unregistered.example.org"),
        result(endpoint, service="NoSuchType"),
        result(endpoint, at=NOW + dt.timedelta(hours=1)),
        result(endpoint, at=NOW - dt.timedelta(days=30)),
        result(endpoint, summary="x" * 5000),
        result(endpoint, hostname=""),
        result(endpoint, message="nul\x00byte"),
        result(endpoint, tags={"k" * 300: "v"}),
        result(endpoint, status="MISSING"),
        result(endpoint, at=NOW, status="CRITICAL"),
        # beyond the one-pass check of plain texts: a NUL in a tag's value, non-ASCII text
        result(endpoint, tags={"vo": "nul\x00"}),
        result(endpoint, at=NOW - dt.timedelta(minutes=2), status="WARNING", summary="Zürich ✓"),
    ]
    outcome = svc.ingest_results(session, "test-source", batch, now=NOW)
    assert outcome.accepted == 3
    assert [(r.index, r.field, r.rule) for r in outcome.rejected] == [
        (1, "status", MonitoringRule.RESULT_STATUS_UNKNOWN),
        (2, "metric", MonitoringRule.RESULT_METRIC_UNKNOWN),
        (3, "hostname", MonitoringRule.RESULT_ENDPOINT_UNKNOWN),
        (4, "hostname", MonitoringRule.RESULT_ENDPOINT_UNKNOWN),
        (5, "timestamp", MonitoringRule.RESULT_TIMESTAMP_IN_FUTURE),
        (6, "timestamp", MonitoringRule.RESULT_TIMESTAMP_TOO_OLD),
        (7, "summary", MonitoringRule.RESULT_TEXT_TOO_LONG),
        (8, "hostname", MonitoringRule.RESULT_FIELD_EMPTY),
        (9, "message", MonitoringRule.RESULT_TEXT_NOT_STORABLE),
        (10, "tags." + "k" * 59, MonitoringRule.RESULT_TAGS_INVALID),
        (11, "status", MonitoringRule.RESULT_STATUS_UNKNOWN),
        (13, "tags.vo", MonitoringRule.RESULT_TAGS_INVALID),
    ]
    assert all(r.reason for r in outcome.rejected)
    assert _stored(session) == before + 3
    stored = session.scalars(
        select(MetricResult).where(col(MetricResult.source) == "test-source")
    ).all()
    assert sorted(r.status for r in stored) == ["CRITICAL", "OK", "WARNING"]
    assert next(r.summary for r in stored if r.status == "WARNING") == "Zürich ✓"
    ok = next(r for r in stored if r.status == "OK")
    assert (ok.hostname, ok.service_type, ok.metric) == (endpoint[0], endpoint[1], METRIC)
    assert (ok.perfdata, ok.monitoring_host, ok.tags) == (
        "time=0.1s;1;2",
        "mon.example.org",
        {"vofqan": "ops"},
    )
    assert ok.timestamp == NOW - dt.timedelta(minutes=5)
    counts = {
        c.rule: c.count
        for c in session.scalars(
            select(ResultRejectionCount).where(col(ResultRejectionCount.source) == "test-source")
        )
    }
    assert counts["RESULT_ENDPOINT_UNKNOWN"] == 2
    assert counts["RESULT_STATUS_UNKNOWN"] == 2
    assert sum(counts.values()) == 12
    # a second batch adds to the counts
    svc.ingest_results(session, "test-source", [result(endpoint, status="nope")], now=NOW)
    again = session.get(ResultRejectionCount, ("test-source", "RESULT_STATUS_UNKNOWN"))
    assert again is not None
    assert again.count == 3


def test_a_batch_of_nothing_but_bad_records_stores_nothing(
    session: Session, endpoint: tuple[str, str]
) -> None:
    before = _stored(session)
    outcome = svc.ingest_results(
        session, "bad-only", [result(endpoint, status="?"), result(endpoint, metric="?")], now=NOW
    )
    assert (outcome.accepted, len(outcome.rejected)) == (0, 2)
    assert _stored(session) == before
    assert session.scalars(select(MetricStatus).where(col(MetricStatus.metric) == "?")).all() == []


def test_late_results_mark_their_days_for_the_reports_covering_them(
    session: Session, endpoint: tuple[str, str]
) -> None:
    """A late result marks its day (and the next, if over) for each report whose metric
    profile and topology cover its series, in the ingest's transaction; a series no report
    covers marks nothing; marking again changes nothing."""
    policy = IngestPolicy(late_age=dt.timedelta(days=3), clock_skew=dt.timedelta(seconds=0))
    two_days_ago = NOW - dt.timedelta(days=2)
    yesterday = NOW - dt.timedelta(days=1)
    covered, metric, reports = world.covered_series(session)
    session.execute(delete(RecomputeDay))
    uncovered = svc.ingest_results(
        session, "late", [result(endpoint, at=two_days_ago)], policy=policy, now=NOW
    )
    assert (uncovered.accepted, uncovered.recompute) == (1, ())
    assert session.scalars(select(RecomputeDay)).first() is None
    outcome = svc.ingest_results(
        session,
        "late",
        [
            result(covered, metric=metric, at=two_days_ago),
            result(covered, metric=metric, at=yesterday),
            result(covered, metric=metric),
        ],
        policy=policy,
        now=NOW,
    )
    assert outcome.accepted == 3
    # two days ago, and yesterday (seeded by it; and late itself); not today
    days = (dt.date(2026, 12, 2), dt.date(2026, 12, 3))
    assert outcome.recompute == days
    marks = {(m.report_uuid, m.day) for m in session.scalars(select(RecomputeDay))}
    assert marks == {(uuid, day) for uuid in reports for day in days}
    # marking the same (report, day) again is no error
    again = svc.ingest_results(
        session, "late", [result(covered, metric=metric, at=yesterday)], now=NOW
    )
    assert again.recompute == (dt.date(2026, 12, 3),)
    assert session.scalars(select(func.count()).select_from(RecomputeDay)).one() == len(marks)
    assert late.late_days([NOW], NOW.date()) == []


def test_status_follows_the_newest_result_and_records_each_change(
    session: Session, endpoint: tuple[str, str]
) -> None:
    t0 = NOW - dt.timedelta(hours=3)
    batch = [
        result(endpoint, at=t0 + dt.timedelta(minutes=20), status="CRITICAL"),
        result(endpoint, at=t0, status="OK"),
        result(endpoint, at=t0 + dt.timedelta(minutes=40), status="CRITICAL"),
    ]
    svc.ingest_results(session, "status", batch, now=NOW)
    rows = status_svc.metric_statuses(session, ANONYMOUS, hostname=endpoint[0])
    mine = [r for r in rows if r.metric == METRIC]
    assert len(mine) == 1
    assert (mine[0].status, mine[0].since, mine[0].timestamp) == (
        "CRITICAL",
        t0 + dt.timedelta(minutes=20),
        t0 + dt.timedelta(minutes=40),
    )
    # a later batch: recovery (texts and a time that the batch's arrays carry as they are);
    # then a result older than the current one changes nothing
    recovered = t0 + dt.timedelta(hours=1, microseconds=123456)
    summary = 'OK "quoted" \\back\\slash, {braces} NULL\nline'
    svc.ingest_results(
        session,
        "status",
        [result(endpoint, at=recovered, summary=summary, monitoring_host=None)],
        now=NOW,
    )
    svc.ingest_results(
        session,
        "status",
        [result(endpoint, at=t0 + dt.timedelta(minutes=50), status="WARNING")],
        now=NOW,
    )
    history = status_svc.status_history(
        session, ANONYMOUS, hostname=endpoint[0], service_type=endpoint[1], metric=METRIC
    )
    assert [(h.status, h.previous_status) for h in history] == [
        ("OK", None),
        ("CRITICAL", "OK"),
        ("OK", "CRITICAL"),
    ]
    current = session.get(MetricStatus, (endpoint[0], endpoint[1], METRIC))
    assert current is not None
    assert (current.status, current.timestamp, current.summary) == ("OK", recovered, summary)
    assert current.monitoring_host is None
    assert (
        status_svc.metric_statuses(
            session, ANONYMOUS, hostname=endpoint[0], service_type="NoSuchType"
        )
        == []
    )
    assert session.scalars(select(StatusChange).where(col(StatusChange.timestamp) < t0)).all() == []


def test_messages_malformed_or_bad_are_rejected_in_their_places(
    session: Session, endpoint: tuple[str, str]
) -> None:
    good = avro.to_message(result(endpoint))
    bad_status = avro.to_message(result(endpoint, status="BAD"))
    messages = [
        Message(bad_status["attributes"], base64.b64decode(bad_status["data"])),
        Message({"type": "metric_data"}, b"\x01\x02"),
        Message(good["attributes"], base64.b64decode(good["data"])),
        Message({"type": "alarm"}, b"{}"),
    ]
    outcome = svc.ingest_messages(session, "topic:monitoring/metric_data", messages, now=NOW)
    assert outcome.accepted == 1
    assert [(r.index, r.rule) for r in outcome.rejected] == [
        (0, MonitoringRule.RESULT_STATUS_UNKNOWN),
        (1, MonitoringRule.RESULT_AVRO_MALFORMED),
        (3, MonitoringRule.RESULT_MESSAGE_TYPE),
    ]
    counts = {
        c.rule: c.count
        for c in svc.rejection_counts(session, PLATFORM)
        if c.source.startswith("topic:")
    }
    assert counts == {
        "RESULT_STATUS_UNKNOWN": 1,
        "RESULT_AVRO_MALFORMED": 1,
        "RESULT_MESSAGE_TYPE": 1,
    }


def test_retention_deletes_results_and_history_older_than_the_cut(
    session: Session, endpoint: tuple[str, str]
) -> None:
    old = NOW - dt.timedelta(days=2)
    svc.ingest_results(session, "retention", [result(endpoint, at=old), result(endpoint)], now=NOW)
    gone = svc.purge_expired_results(session, older_than=NOW - dt.timedelta(days=1))
    assert gone >= 1
    left = session.scalars(
        select(col(MetricResult.timestamp)).where(col(MetricResult.source) == "retention")
    ).all()
    assert left == [NOW]
    assert (
        session.scalars(
            select(StatusChange).where(col(StatusChange.timestamp) < NOW - dt.timedelta(days=1))
        ).all()
        == []
    )
