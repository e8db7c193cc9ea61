"""Recomputations through the service and the availability engine (both backends), with
numbers computed by hand on the world of test_availability_service (one report, one metric,
the first monitored production service's host; its site's other hosts of that type have no
data, MISSING, which OR leaves out):

- an excluded site counts its excluded time UNKNOWN in its own A/R only;
- an excluded metric is EXCLUDED: counted in the day's total only (half a day: A = 50);
- an excluded monitoring source's results are dropped, the previous day's last one too;
- a status change overwrites the endpoint's or the site's timeline;
and who may write one, what is refused by name, the audit, and which (report, day) are
asked again (only the ones it touches)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.audit import AuditEntry
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS, Principal
from domains.common.outbox import OutboxEvent, run_handler
from domains.monitoring.models import ArLevel, Metric
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import availability as svc
from domains.monitoring.service import recomputations as rec
from domains.monitoring.service import recomputations_argo as argo_json
from domains.monitoring.service import results
from domains.monitoring.service.results import MetricResultIn
from tests.identity.helpers import grant
from tests.monitoring import test_availability_service as base
from tests.monitoring.alerts_world import user
from tests.monitoring.test_availability_service import DAY, add_result, at, stored

world = base.world  # the fixture

ADMIN = Principal(subject="recompute-admin", user_id=None, is_admin=True)
WHOLE_DAY = (at(DAY, 0), at(DAY, 23, 59) + dt.timedelta(seconds=59))


def spec(world: dict[str, Any], start: dt.datetime, end: dt.datetime, **kw: Any) -> Any:
    return rec.RecomputationSpec(
        report="ar-test-report",
        requester_name="Jane Doe",
        requester_email="jane@example.org",
        reason="power cut",
        start=start,
        end=end,
        **kw,
    )


def ar(session: Session, level: ArLevel, name: str) -> tuple[Any, ...]:
    [row] = stored(session, level, name)
    return (row.availability, row.reliability, row.up, row.unknown)


def test_an_excluded_site_counts_its_excluded_time_unknown(
    session: Session, world: dict[str, Any]
) -> None:
    # OK, CRITICAL 12:00-18:00, OK: A = R = 18/24 = 75 everywhere
    for hour, status in ((0, "OK"), (12, "CRITICAL"), (18, "OK")):
        add_result(session, world, at(DAY, hour), status)
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.SITE, world["site"]) == (75.0, 75.0, 0.75, 0.0)
    # excluded 12:00:00-16:59:00: UNKNOWN up to the resumption at end + 1 minute (17:00)
    # of the status in force (CRITICAL): up 18 h of 24 - 5 unknown, A = R = 18/19
    rec.create_recomputation(
        session, ADMIN, spec=spec(world, at(DAY, 12), at(DAY, 16, 59), exclude=[world["site"]])
    )
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.SITE, world["site"]) == (94.73684, 94.73684, 0.75, 0.20833)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 75.0


def test_an_excluded_metric_counts_in_the_days_total_only(
    session: Session, world: dict[str, Any]
) -> None:
    # OK, then UNKNOWN from 12:00: up 12 h of 24 - 12 unknown: A = 100
    add_result(session, world, at(DAY, 0), "OK")
    add_result(session, world, at(DAY, 12), "UNKNOWN")
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"]) == (100.0, 100.0, 0.5, 0.5)
    # the metric excluded from 12:00 to the day's end: EXCLUDED counts in the total only,
    # A = R = 12/24 = 50 (ARGO's excluded half-day)
    metric = rec.MetricExclusionSpec(metric="org.opsgraph.test-ar", hostname=world["host"])
    rec.create_recomputation(
        session,
        ADMIN,
        spec=spec(world, at(DAY, 12), WHOLE_DAY[1], exclude_metrics=[metric]),
    )
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"]) == (50.0, 50.0, 0.5, 0.0)


def test_an_excluded_monitoring_source_loses_its_results_and_its_seed(
    session: Session, world: dict[str, Any]
) -> None:
    before = DAY - dt.timedelta(days=1)
    add_result(session, world, at(before, 10), "OK", source="mon-a.example.org")
    add_result(session, world, at(before, 22), "CRITICAL", source="mon-b.example.org")
    add_result(session, world, at(DAY, 6), "OK", source="mon-a.example.org")
    add_result(session, world, at(DAY, 12), "CRITICAL", source="mon-b.example.org")
    add_result(session, world, at(DAY, 18), "OK", source="mon-a.example.org")
    # seeded CRITICAL to 06:00, CRITICAL 12:00-18:00: A = 12/24 = 50
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 50.0
    # mon-b dropped from the previous day 21:00 to 12:30: seeded by the previous day's OK
    # (10:00), OK all day: A = 100
    source = rec.SourceExclusionSpec("mon-b.example.org", at(before, 21), at(DAY, 12, 30))
    rec.create_recomputation(
        session,
        ADMIN,
        spec=spec(world, at(DAY, 0), at(DAY, 1), exclude_monitoring_source=[source]),
    )
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 100.0


def test_status_changes_overwrite_the_endpoint_or_the_site(
    session: Session, world: dict[str, Any]
) -> None:
    add_result(session, world, at(DAY, 0), "CRITICAL")
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 0.0
    # the endpoint OK the whole day: A = 100 for it and (OR over MISSING hosts) its site
    endpoint = rec.StatusChangeSpec("ok", endpoint=world["host"])
    made = rec.create_recomputation(
        session,
        ADMIN,
        spec=spec(world, *WHOLE_DAY, applied_status_changes=[endpoint]),
    )
    assert made.applied_status_changes == [{"endpoint": world["host"], "state": "OK"}]
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 100.0
    assert ar(session, ArLevel.SITE, world["site"])[0] == 100.0
    # and the site CRITICAL over its own 00:00:00-11:59:00 (OK resumes at 12:00): site
    # A = 12/24 = 50, the endpoint still 100
    site = rec.StatusChangeSpec(
        "CRITICAL", group=world["site"], start=at(DAY, 0), end=at(DAY, 11, 59)
    )
    rec.update_recomputation(
        session,
        ADMIN,
        uuid=made.uuid,
        spec=spec(world, *WHOLE_DAY, applied_status_changes=[endpoint, site]),
    )
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.SITE, world["site"])[0] == 50.0
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 100.0
    # deleted: back to the results
    rec.delete_recomputation(session, ADMIN, uuid=made.uuid)
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 0.0


def requested(session: Session, since: int) -> list[tuple[str, str]]:
    return sorted(
        (e.payload["report"], e.payload["day"])
        for e in session.scalars(
            select(OutboxEvent).where(
                col(OutboxEvent.kind) == svc.AVAILABILITY_REQUESTED, col(OutboxEvent.id) > since
            )
        )
    )


def last_event(session: Session) -> int:
    found = session.scalars(
        select(col(OutboxEvent.id)).order_by(col(OutboxEvent.id).desc())
    ).first()
    return int(found or 0)


def test_writes_ask_again_for_exactly_the_days_they_touch(
    session: Session, world: dict[str, Any]
) -> None:
    uuid = world["report"].uuid
    now = at(DAY + dt.timedelta(days=2), 9)
    mark = last_event(session)
    # 06:00 on DAY to 02:00 the next day: those two days
    made = rec.create_recomputation(
        session,
        ADMIN,
        spec=spec(world, at(DAY, 6), at(DAY + dt.timedelta(days=1), 2), exclude=[world["site"]]),
        now=now,
    )
    days = [(uuid, DAY.isoformat()), (uuid, (DAY + dt.timedelta(days=1)).isoformat())]
    assert requested(session, mark) == days
    # a source excluded too: its last day's next day as well (today, not beyond it)
    mark = last_event(session)
    source = rec.SourceExclusionSpec("mon.example.org", at(DAY, 0), at(DAY, 1))
    rec.update_recomputation(
        session,
        ADMIN,
        uuid=made.uuid,
        spec=spec(
            world,
            at(DAY + dt.timedelta(days=1), 0),
            at(DAY + dt.timedelta(days=5), 0),
            exclude_monitoring_source=[source],
        ),
        now=now,
    )
    # the old span (DAY, DAY + 1) and the new (DAY to today, DAY + 2)
    assert requested(session, mark) == [
        (uuid, (DAY + dt.timedelta(days=n)).isoformat()) for n in range(3)
    ]
    mark = last_event(session)
    rec.delete_recomputation(session, ADMIN, uuid=made.uuid, now=now)
    assert len(requested(session, mark)) == 3
    # days whose results retention has removed are not asked for again
    before = results.set_policy(results.IngestPolicy(retention_days=2))
    try:
        mark = last_event(session)
        rec.create_recomputation(
            session, ADMIN, spec=spec(world, *WHOLE_DAY, exclude=[world["site"]]), now=now
        )
        assert requested(session, mark) == []
    finally:
        results.set_policy(before)


def _ngis(session: Session, site: str) -> tuple[str, str]:
    mine = session.execute(
        text("SELECT n.name FROM site s JOIN ngi n ON n.id = s.ngi_id WHERE s.short_name = :s"),
        {"s": site},
    ).scalar_one()
    other = session.execute(
        text("SELECT name FROM ngi WHERE name <> :n ORDER BY id LIMIT 1"), {"n": mine}
    ).scalar_one()
    return str(mine), str(other)


def test_who_may_write_them(session: Session, world: dict[str, Any]) -> None:
    ngi, other_ngi = _ngis(session, world["site"])
    manager = user(session, "recompute.manager@egi.eu")
    grant(session, "recompute.manager@egi.eu", "NGI Operations Manager", "ngi", ngi)
    officer = user(session, "recompute.officer@egi.eu")
    grant(session, "recompute.officer@egi.eu", "NGI Security Officer", "ngi", ngi)
    elsewhere = user(session, "recompute.elsewhere@egi.eu")
    grant(session, "recompute.elsewhere@egi.eu", "NGI Operations Manager", "ngi", other_ngi)
    mine = spec(world, *WHOLE_DAY, exclude=[world["site"]])
    with pytest.raises(Unauthenticated):
        rec.create_recomputation(session, ANONYMOUS, spec=mine)
    for refused in (officer, elsewhere):
        with pytest.raises(Forbidden):
            rec.create_recomputation(session, refused, spec=mine)
    made = rec.create_recomputation(session, manager, spec=mine)
    assert rec.may_manage(session, manager, made)
    assert not rec.may_manage(session, elsewhere, made)
    assert not rec.may_manage(session, ANONYMOUS, made)
    assert rec.may_manage(session, ADMIN, made)
    # a host of the site is the site's too; a metric of no site, a source: administrators'
    on_host = rec.MetricExclusionSpec(metric="m", hostname=world["host"])
    rec.create_recomputation(
        session, manager, spec=spec(world, *WHOLE_DAY, exclude_metrics=[on_host])
    )
    everywhere = (
        {"exclude_metrics": [rec.MetricExclusionSpec(metric="m")]},
        {"applied_status_changes": [rec.StatusChangeSpec("OK", service=world["stype"])]},
        {"exclude_monitoring_source": [rec.SourceExclusionSpec("mon", *WHOLE_DAY)]},
    )
    for parts in everywhere:
        with pytest.raises(Forbidden):
            rec.create_recomputation(session, manager, spec=spec(world, *WHOLE_DAY, **parts))
        rec.create_recomputation(session, ADMIN, spec=spec(world, *WHOLE_DAY, **parts))
    # another NGI's manager neither replaces nor deletes it; the unknown one is NOT_FOUND
    with pytest.raises(Forbidden):
        rec.delete_recomputation(session, elsewhere, uuid=made.uuid)
    with pytest.raises(Forbidden):
        rec.update_recomputation(session, elsewhere, uuid=made.uuid, spec=mine)
    with pytest.raises(NotFound):
        rec.delete_recomputation(session, ADMIN, uuid="no-such-recomputation")
    rec.delete_recomputation(session, manager, uuid=made.uuid)
    assert rec.get_recomputation(session, made.uuid) is None
    actions = session.scalars(
        select(col(AuditEntry.action)).where(col(AuditEntry.entity_type) == "recomputation")
    ).all()
    assert {"recomputation.create", "recomputation.delete"} <= set(actions)


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"report": "no-such-report"}, "input.report", "MONITORING_REPORT_UNKNOWN"),
        ({"requester_email": "nobody"}, "input.requesterEmail", "RECOMPUTATION_EMAIL_INVALID"),
        ({"requester_name": "  "}, "input.requesterName", "RECOMPUTATION_TEXT_INVALID"),
        ({"reason": "x" * 1001}, "input.reason", "RECOMPUTATION_REASON_INVALID"),
        (
            {"end": at(DAY, 0) - dt.timedelta(seconds=1)},
            "input.endTime",
            "MONITORING_PERIOD_REVERSED",
        ),
        (
            {"start": dt.datetime(2025, 5, 10)},  # noqa: DTZ001
            "input.startTime",
            "MONITORING_TIME_WITHOUT_OFFSET",
        ),
        ({"exclude": ["no-such-site"]}, "input.exclude[0]", "RECOMPUTATION_SITE_UNKNOWN"),
        (
            {"exclude_metrics": [rec.MetricExclusionSpec("m", hostname="nowhere.invalid")]},
            "input.excludeMetrics[0].hostname",
            "RECOMPUTATION_HOST_UNKNOWN",
        ),
        (
            {"applied_status_changes": [rec.StatusChangeSpec("GREEN", group="x")]},
            "input.appliedStatusChanges[0].state",
            "RECOMPUTATION_STATE_UNKNOWN",
        ),
        (
            {"applied_status_changes": [rec.StatusChangeSpec("OK")]},
            "input.appliedStatusChanges[0]",
            "RECOMPUTATION_TARGET_REQUIRED",
        ),
        ({"exclude": ["x"] * 101}, "input.exclude", "RECOMPUTATION_TOO_MANY"),
    ],
)
def test_bad_input_is_refused_by_field_and_rule(
    session: Session, world: dict[str, Any], change: dict[str, Any], field: str, rule: str
) -> None:
    values = {"start": at(DAY, 0), "end": at(DAY, 12), **change}
    start, end = values.pop("start"), values.pop("end")
    base: dict[str, Any] = {
        "report": "ar-test-report",
        "requester_name": "Jane",
        "requester_email": "jane@example.org",
        "reason": "why",
    }
    base.update({k: v for k, v in values.items() if k in base})
    parts = {k: v for k, v in values.items() if k not in base}
    with pytest.raises(Invalid) as caught:
        rec.create_recomputation(
            session, ADMIN, spec=rec.RecomputationSpec(start=start, end=end, **base, **parts)
        )
    assert (caught.value.field, caught.value.rule) == (field, MonitoringRule[rule])


def test_argo_json_reads_and_renders(session: Session, world: dict[str, Any]) -> None:
    body = {
        "requester_name": "John Doe",
        "requester_email": "johndoe@example.org",
        "reason": "all kinds",
        "start_time": "2025-05-10T12:00:00Z",
        "end_time": "2025-05-10T18:00:00Z",
        "report": "ar-test-report",
        "exclude": [world["site"]],
        "exclude_metrics": [
            {"metric": "check-1"},
            {"metric": "check-2", "hostname": world["host"]},
        ],
        "exclude_monitoring_source": [
            {
                "host": "mon.example.org",
                "start_time": "2025-05-09T12:00:00Z",
                "end_time": "2025-05-09T23:00:00Z",
            }
        ],
        "applied_status_changes": [
            {"group": world["site"], "state": "CRITICAL"},
            {"hostname": world["host"], "state": "OK"},
        ],
        "id": "ignored",
    }
    made = rec.create_recomputation(
        session, ADMIN, spec=argo_json.from_argo(body), at=rec.argo_field
    )
    out = argo_json.as_argo(made, "ar-test-report")
    assert {k: out[k] for k in body if k not in ("id", "applied_status_changes")} == {
        k: v for k, v in body.items() if k not in ("id", "applied_status_changes")
    }
    assert out["applied_status_changes"] == [
        {"group": world["site"], "state": "CRITICAL"},
        {"endpoint": world["host"], "state": "OK"},
    ]
    assert (out["status"], out["history"][0]["status"]) == ("approved", "approved")
    assert argo_json.as_argo(made, "r", email=False)["requester_email"] == ""
    # the span covers the source's own period: the previous day counts
    assert made.span_start == dt.datetime(2025, 5, 9, 12, tzinfo=dt.UTC)
    listed = rec.recomputations(session, report="ar-test-report", day=DAY)
    assert [r.uuid for r in listed] == [made.uuid]
    assert (
        rec.recomputations(session, report="ar-test-report", day=DAY + dt.timedelta(days=1)) == []
    )
    assert rec.recomputations(session, report="nothing") == []
    assert rec.report_names(session, [made.report_uuid]) == {made.report_uuid: "ar-test-report"}


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"start_time": "2025-05-10 12:00"}, "body.start_time", "RECOMPUTATION_TIME_INVALID"),
        ({"reason": 5}, "body.reason", "MONITORING_FIELD_WRONG_TYPE"),
        ({"report": None}, "body.report", "MONITORING_FIELD_REQUIRED"),
        ({"exclude": "site"}, "body.exclude", "MONITORING_FIELD_WRONG_TYPE"),
        ({"exclude": [1]}, "body.exclude[0]", "MONITORING_FIELD_WRONG_TYPE"),
        (
            {"exclude_metrics": [{"metric": "m", "hostnme": "h"}]},
            "body.exclude_metrics[0]",
            "RECOMPUTATION_ENTRY_INVALID",
        ),
        (
            {"exclude_metrics": [{"metric": "m"}] * 101},
            "body.exclude_metrics",
            "RECOMPUTATION_TOO_MANY",
        ),
        (
            {"exclude_monitoring_source": [{"host": "h"}]},
            "body.exclude_monitoring_source[0].start_time",
            "RECOMPUTATION_TIME_INVALID",
        ),
        (
            {"applied_status_changes": [{"group": "g", "state": "OK", "end_time": "x"}]},
            "body.applied_status_changes[0].end_time",
            "RECOMPUTATION_TIME_INVALID",
        ),
    ],
)
def test_bad_argo_json_is_refused_by_field_and_rule(
    body: dict[str, Any], field: str, rule: str
) -> None:
    good = {
        "requester_name": "J",
        "requester_email": "j@example.org",
        "reason": "r",
        "start_time": "2025-05-10T12:00:00Z",
        "end_time": "2025-05-10T18:00:00Z",
        "report": "r",
    }
    with pytest.raises(Invalid) as caught:
        argo_json.from_argo({k: v for k, v in {**good, **body}.items() if v is not None})
    assert (caught.value.field, caught.value.rule) == (field, MonitoringRule[rule])


def test_a_late_result_marks_its_day_and_the_hourly_job_computes_it_again(
    session: Session, world: dict[str, Any]
) -> None:
    """Late results (accepted up to the late-results age) mark their (report, day): the
    hourly job asks for it, and its A/R changes; one older than the age is refused."""
    session.add(
        Metric(
            uuid=str(uuid.uuid4()),
            date=dt.date(2025, 1, 1),
            name="org.opsgraph.test-ar",
            probe_name="tcp",
            probe_version="1",
        )
    )
    add_result(session, world, at(DAY, 0), "OK")
    svc.compute_report_day(session, "ar-test-report", DAY)
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 100.0
    now = at(DAY + dt.timedelta(days=1), 10)  # DAY is over: a result of it is late
    policy = results.IngestPolicy(late_age=dt.timedelta(hours=48))

    def late(moment: dt.datetime) -> MetricResultIn:
        return MetricResultIn(
            timestamp=moment,
            hostname=world["host"],
            service=world["stype"],
            metric="org.opsgraph.test-ar",
            status="CRITICAL",
        )

    outcome = results.ingest_results(
        session,
        "late",
        [late(at(DAY, 12)), late(now - dt.timedelta(hours=49))],
        policy=policy,
        now=now,
    )
    assert (outcome.accepted, outcome.recompute) == (1, (DAY,))
    assert outcome.rejected[0].rule is MonitoringRule.RESULT_TIMESTAMP_TOO_OLD
    mark = last_event(session)
    svc.schedule_availability(session, now=now)
    session.flush()
    asked = [
        e
        for e in session.scalars(
            select(OutboxEvent).where(
                col(OutboxEvent.kind) == svc.AVAILABILITY_REQUESTED, col(OutboxEvent.id) > mark
            )
        )
        if e.payload == {"report": world["report"].uuid, "day": DAY.isoformat()}
    ]
    assert len(asked) == 1
    assert asked[0].id is not None
    assert run_handler(session, svc.COMPUTE_HANDLER, asked[0].id)
    # CRITICAL from 12:00: A = R = 50
    assert ar(session, ArLevel.ENDPOINT, world["host"])[0] == 50.0
