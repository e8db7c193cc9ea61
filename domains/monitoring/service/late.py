"""Late metric results: which (report, day) they change.

A result of an earlier UTC day than today is late. It changes its own day and, when that is
over too, the next one (a day's last result seeds the next at 00:00) — `late_days` — and
only for the reports that cover its series on that day: the report's version of the day has
a metric profile, in its version of the day, listing the result's service type and metric,
and the host is one the A/R engine reads (a monitored production service of that type,
`results.known_endpoints(..., counted=True)`). `service/results.py` writes the marks with the
results it stores; the hourly A/R job (`availability.schedule_availability`) asks for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.avro import MetricResultIn
from domains.monitoring.models.catalogue import MetricProfile, Report
from domains.monitoring.service import catalogue

# a series: (host name, service type, metric)
Series = tuple[str, str, str]


def late_days(timestamps: Iterable[dt.datetime], today: dt.date) -> list[dt.date]:
    """The days that late results (of a day before `today`) change: their own, and the next
    day when it is over too (a day's last result seeds the next one at 00:00)."""
    days: set[dt.date] = set()
    for moment in timestamps:
        day = moment.astimezone(dt.UTC).date()
        if day < today:
            days.add(day)
            if day + dt.timedelta(days=1) < today:
                days.add(day + dt.timedelta(days=1))
    return sorted(days)


def late_series(records: Iterable[MetricResultIn], today: dt.date) -> dict[dt.date, set[Series]]:
    """Each day late `records` change, with the series that change it."""
    found: dict[dt.date, set[Series]] = {}
    for record in records:
        for day in late_days((record.timestamp,), today):
            found.setdefault(day, set()).add((record.hostname, record.service, record.metric))
    return found


def hosts(series: Mapping[dt.date, set[Series]]) -> set[str]:
    return {host for found in series.values() for host, _, _ in found}


def covering_reports(
    session: Session, series: Mapping[dt.date, set[Series]], counted: set[tuple[str, str]]
) -> list[tuple[str, dt.date]]:
    """The (report uuid, day) pairs to compute again: for each day of `series`, each report
    whose versions of that day cover one of its series on a (host, service type) of
    `counted`. Nothing is read when there is no late series."""
    if not series:
        return []
    uuids = sorted(set(session.scalars(select(col(Report.uuid)).distinct())))
    listed: dict[int, set[tuple[str, str]]] = {}  # metric profile version -> (type, metric)
    marks: list[tuple[str, dt.date]] = []
    for day, found in sorted(series.items()):
        wanted = {(stype, metric) for host, stype, metric in found if (host, stype) in counted}
        for uuid in uuids if wanted else ():
            report = catalogue.valid_on(session, Report, day, uuid=uuid)
            profile = None
            if report is not None:
                profile = catalogue.valid_on(
                    session, MetricProfile, day, uuid=report.metric_profile_uuid
                )
            if profile is None or profile.id is None:
                continue
            if profile.id not in listed:
                listed[profile.id] = {
                    (stype, metric)
                    for stype, metrics in catalogue.metric_services(session, profile).items()
                    for metric in metrics
                }
            if wanted & listed[profile.id]:
                marks.append((uuid, day))
    return marks
