"""A/R over periods (monthly, custom) from the stored daily figures, per level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.monitoring.engine.periods import (
    SupergroupAR,
    period_ar,
    supergroup_period,
)
from domains.monitoring.models import (
    ArLevel,
    DailyAvailability,
)
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service.availability import GRANULARITIES, ONE_DAY, report_on


@dataclass(frozen=True, slots=True)
class ArRow:
    """One item's A/R over a day, a month or a custom period; None: undefined."""

    level: ArLevel
    parent: str
    service: str
    name: str
    start: dt.date
    end: dt.date
    availability: float | None
    reliability: float | None
    up: float | None
    unknown: float | None
    down: float | None


def _defined(value: float | None) -> float | None:
    if value is None or value != value or value < 0:  # NaN or ARGO's -1
        return None
    return value


def _period_row(
    key: tuple[str, str, str],
    level: ArLevel,
    rows: list[Row[Any]],
    start: dt.date,
    end: dt.date,
) -> ArRow:
    parent, service, name = key
    if level is ArLevel.SUPERGROUP:
        value = supergroup_period(SupergroupAR(r.availability, r.reliability) for r in rows)
        return ArRow(
            level,
            parent,
            service,
            name,
            start,
            end,
            value.availability,
            value.reliability,
            None,
            None,
            None,
        )
    period = period_ar(rows)  # their undefined values read as -1 and 0 (`_columns`)
    assert period is not None  # rows is never empty
    return ArRow(
        level,
        parent,
        service,
        name,
        start,
        end,
        _defined(period.availability),
        _defined(period.reliability),
        period.up,
        period.unknown,
        period.down,
    )


def _columns(level: ArLevel, granularity: str) -> list[Any]:
    """The stored days' columns, not entities (a month of every endpoint is ~67,000 rows;
    an ORM object each, then a `DailyAR` each, were most of a month's figures' time). For
    a period of a level below NGIs, an undefined availability reads as -1 and undefined
    fractions as 0, so that the rows go to `period_ar` as they are."""
    c = DailyAvailability.__table__.c  # type: ignore[attr-defined]
    keys: list[Any] = [c.parent, c.service, c.name, c.day]
    values = [c.availability, c.reliability, c.up, c.unknown, c.down]
    if granularity == "daily" or level is ArLevel.SUPERGROUP:
        return keys + values
    defaults = (-1.0, -1.0, 0.0, 0.0, 0.0)
    return keys + [
        func.coalesce(v, default).label(v.key) for v, default in zip(values, defaults, strict=True)
    ]


def availability(
    session: Session,
    principal: Principal,
    *,
    report: str,
    level: ArLevel,
    name: str | None,
    start: dt.date,
    end: dt.date,
    granularity: str = "daily",
) -> list[ArRow]:
    """The stored A/R of a report's items of one level (one item's with `name`) from
    `start` to `end` (days, both included): per day, per calendar month or over the whole
    period, as argo-web-api's daily, monthly and custom results. Public, as ARGO's are."""
    if granularity not in GRANULARITIES:
        raise Invalid("granularity", MonitoringRule.MONITORING_GRANULARITY_UNKNOWN)
    if end < start:
        raise Invalid("to", MonitoringRule.MONITORING_PERIOD_REVERSED)
    version = report_on(session, report, end)
    d = DailyAvailability
    stmt = select(*_columns(level, granularity)).where(
        col(d.report_uuid) == version.uuid,
        col(d.level) == level,
        col(d.day) >= start,
        col(d.day) <= end,
    )
    if name is not None:
        stmt = stmt.where(col(d.name) == name)
    # on the session's connection: Core rows, without the ORM's loading of each
    stored = (
        session.connection()
        .execute(stmt.order_by(col(d.parent), col(d.service), col(d.name), col(d.day)))
        .all()
    )
    if granularity == "daily":
        return [
            ArRow(
                level,
                r.parent,
                r.service,
                r.name,
                r.day,
                r.day,
                _defined(r.availability),
                _defined(r.reliability),
                r.up,
                r.unknown,
                r.down,
            )
            for r in stored
        ]
    groups: dict[tuple[tuple[str, str, str], dt.date], list[Row[Any]]] = {}
    for r in stored:
        bucket = r.day.replace(day=1) if granularity == "monthly" else start
        groups.setdefault(((r.parent, r.service, r.name), bucket), []).append(r)
    out = []
    for (key, bucket), rows in groups.items():
        if granularity == "monthly":
            following = (bucket + dt.timedelta(days=32)).replace(day=1)
            p_start, p_end = max(bucket, start), min(following - ONE_DAY, end)
        else:
            p_start, p_end = start, end
        out.append(_period_row(key, level, rows, p_start, p_end))
    return out
