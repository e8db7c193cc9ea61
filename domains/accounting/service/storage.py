"""Storage (StAR) usage by site, VO and month from `accounting_storage_summary`: each month's
latest snapshot of every share, summed over the site's storage systems, shares and media
for the VO (StAR's group). Public: aggregates only, no user identity."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import StorageSummary
from domains.accounting.service.pivot import Month, check_period, joined
from domains.topology.models import Country, Ngi


@dataclass(frozen=True, slots=True)
class StorageUsage:
    site: str
    vo: str
    month: Month
    end_time: dt.datetime  # the latest snapshot's time among the month's shares
    resource_capacity_used: int  # bytes
    logical_capacity_used: int | None
    resource_capacity_allocated: int | None
    file_count: int | None


def storage_usage(
    session: Session,
    start: Month,
    end: Month,
    *,
    site: str | None = None,
    ngi: str | None = None,
    country: str | None = None,
    vo: str | None = None,
) -> list[StorageUsage]:
    """The rows of the months `start`–`end` (both included, at most 20 years), by year,
    month, site and VO; Invalid naming the argument at fault."""
    check_period(start, end)
    t = StorageSummary
    where: list[Any] = [(col(t.year) * 12 + col(t.month) - 1).between(start.index, end.index)]
    if site is not None:
        where.append(col(t.site) == site)
    if ngi is not None:
        where.append(col(Ngi.name) == ngi)
    if country is not None:
        where.append(or_(col(Country.name) == country, col(Country.code) == country))
    if vo is not None:
        where.append(col(t.group_name) == vo)
    keys = [col(t.year), col(t.month), col(t.site), col(t.group_name)]
    statement = (
        joined(
            select(
                *keys,
                func.max(col(t.end_time)),
                func.sum(col(t.resource_capacity_used)),
                func.sum(col(t.logical_capacity_used)),
                func.sum(col(t.resource_capacity_allocated)),
                func.sum(col(t.file_count)),
            ),
            t,
        )
        .where(*where)
        .group_by(*keys)
        .order_by(*keys)
    )
    return [
        StorageUsage(
            site=r[2],
            vo=r[3],
            month=Month(r[0], r[1]),
            end_time=r[4],
            resource_capacity_used=int(r[5] or 0),
            logical_capacity_used=None if r[6] is None else int(r[6]),
            resource_capacity_allocated=None if r[7] is None else int(r[7]),
            file_count=None if r[8] is None else int(r[8]),
        )
        for r in session.execute(statement)
    ]
