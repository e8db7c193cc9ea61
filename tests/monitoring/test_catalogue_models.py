"""The catalogue's tables on both databases: versions by date, a version per (uuid, date),
a metric profile's entries going with it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models import (
    AggregationProfile,
    Metric,
    MetricProfile,
    MetricProfileEntry,
    OperationsProfile,
    Probe,
    ProbeKind,
    Report,
    ThresholdsProfile,
    Weights,
)

UUID = "5e9a6b1e-5a3b-4b4f-9c3e-111111111111"


def test_every_kind_round_trips_with_its_document(session: Session) -> None:
    day = date(2026, 1, 1)
    rows = [
        Probe(uuid=UUID, date=day, name="tcp", version="1", kind=ProbeKind.BUILTIN, builtin="tcp"),
        Probe(
            uuid="p2",
            date=day,
            name="check_x",
            version="0.1",
            kind=ProbeKind.PLUGIN,
            command=["check_x", "-H", "{host}"],
        ),
        Metric(uuid="m", date=day, name="org.x.Ping", probe_name="tcp", probe_version="1"),
        OperationsProfile(uuid="o", date=day, name="egi_ops", document={"name": "egi_ops"}),
        AggregationProfile(
            uuid="a", date=day, name="critical", metric_operation="AND", profile_operation="AND"
        ),
        ThresholdsProfile(uuid="t", date=day, name="thr", document={"rules": []}),
        Weights(uuid="w", date=day, name="hepspec", weight_type="hepspec", group_type="SITE"),
        Report(
            uuid="r",
            date=day,
            name="Critical",
            metric_profile_uuid="m",
            operations_profile_uuid="o",
            aggregation_profile_uuid="a",
            document={"thresholds": {"availability": 80.0}},
        ),
    ]
    session.add_all(rows)
    session.flush()
    session.expire_all()
    probe = session.scalars(select(Probe).where(col(Probe.name) == "check_x")).one()
    assert probe.kind is ProbeKind.PLUGIN
    assert probe.command == ["check_x", "-H", "{host}"]
    report = session.scalars(select(Report).where(col(Report.uuid) == "r")).one()
    assert report.document == {"thresholds": {"availability": 80.0}}
    assert report.date == day
    assert (report.downtimes_unscheduled, report.downtimes_warning) == (False, False)


def test_the_version_valid_on_a_day_is_the_latest_not_after_it(session: Session) -> None:
    for day, ops in ((date(2026, 1, 1), "AND"), (date(2026, 3, 1), "OR")):
        session.add(
            AggregationProfile(
                uuid=UUID, date=day, name="agg", metric_operation=ops, profile_operation="AND"
            )
        )
    session.flush()

    def valid_on(day: date) -> str | None:
        row = session.scalars(
            select(AggregationProfile)
            .where(col(AggregationProfile.uuid) == UUID, col(AggregationProfile.date) <= day)
            .order_by(col(AggregationProfile.date).desc())
            .limit(1)
        ).first()
        return None if row is None else row.metric_operation

    assert valid_on(date(2025, 12, 31)) is None
    assert valid_on(date(2026, 2, 28)) == "AND"
    assert valid_on(date(2026, 3, 1)) == "OR"


def test_one_version_per_uuid_and_date(session: Session) -> None:
    day = date(2026, 1, 1)
    session.add(OperationsProfile(uuid=UUID, date=day, name="a"))
    session.flush()
    with session.begin_nested():
        session.add(OperationsProfile(uuid=UUID, date=day, name="b"))
        with pytest.raises(IntegrityError):
            session.flush()


def test_a_metric_profile_version_takes_its_entries_along(session: Session) -> None:
    profile = MetricProfile(uuid=UUID, date=date(2026, 1, 1), name="ARGO_MON_CRITICAL")
    session.add(profile)
    session.flush()
    assert profile.id is not None
    session.add_all(
        MetricProfileEntry(profile_id=profile.id, service_type=st, metric=m)
        for st, m in (("CREAM-CE", "emi.cream.CREAMCE-JobSubmit"), ("SRM", "org.sam.SRM-Put"))
    )
    session.flush()
    session.delete(profile)
    session.flush()
    session.expire_all()
    left = select(MetricProfileEntry).where(col(MetricProfileEntry.profile_id) == profile.id)
    assert session.scalars(left).all() == []
