"""Daily partitions of the metric results on PostgreSQL (migration 0019).

`monitoring_metric_result` is partitioned by range of `timestamp`: one partition per UTC day
(`monitoring_metric_result_dYYYYMMDD`) and a DEFAULT partition for any row no day partition
covers, so that an accepted result is never refused for want of a partition. The retention
job creates the partitions of the days about to come (`ensure_day_partitions`) and drops
whole days past retention (`drop_day_partitions`), which costs no row-by-row DELETE and
leaves no bloat; what is left (part of the boundary day, old rows in the default partition)
is deleted row by row as on SQLite, which has no partitions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

PARENT = "monitoring_metric_result"
DEFAULT = f"{PARENT}_default"
_DAY = re.compile(rf"^{PARENT}_d(\d{{8}})$")


def partition_name(day: dt.date) -> str:
    return f"{PARENT}_d{day:%Y%m%d}"


def is_partition_name(name: str) -> bool:
    """Whether a table is one of the results' partitions (the drift check skips them: the
    models declare the parent only)."""
    return name == DEFAULT or _DAY.match(name) is not None


def partitioned(session: Session) -> bool:
    """Whether this database partitions the results (PostgreSQL after migration 0019)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    found = session.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.relname = :parent AND pg_table_is_visible(c.oid)"
        ),
        {"parent": PARENT},
    ).first()
    return found is not None


def day_partitions(session: Session) -> list[dt.date]:
    """The days that have a partition of their own, in order; none on SQLite."""
    if not partitioned(session):
        return []
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :parent "
            "AND pg_table_is_visible(p.oid)"
        ),
        {"parent": PARENT},
    )
    days = []
    for name in names:
        match = _DAY.match(name)
        if match:
            digits = match.group(1)
            days.append(dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:])))
    return sorted(days)


def _bounds(day: dt.date) -> dict[str, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return {"start": start, "end": start + dt.timedelta(days=1)}


def ensure_day_partitions(session: Session, days: Iterable[dt.date]) -> list[dt.date]:
    """Creates the partitions the given days lack; the days it created. Rows of such a day
    already in the default partition move into the new one (PostgreSQL refuses a partition
    whose rows the default partition holds), keeping their ids. A no-op on SQLite."""
    if not partitioned(session):
        return []
    existing = set(day_partitions(session))
    created = []
    for day in sorted(set(days) - existing):
        bounds = _bounds(day)
        in_default = f"FROM {DEFAULT} WHERE timestamp >= :start AND timestamp < :end"
        moving = session.execute(text(f"SELECT 1 {in_default} LIMIT 1"), bounds).first()
        if moving:
            session.execute(
                text(f"CREATE TEMPORARY TABLE moving_results (LIKE {PARENT}) ON COMMIT DROP")
            )
            session.execute(
                text(
                    f"WITH gone AS (DELETE {in_default} RETURNING *) "  # noqa: S608 (constants)
                    "INSERT INTO moving_results SELECT * FROM gone"
                ),
                bounds,
            )
        session.execute(
            text(
                f"CREATE TABLE {partition_name(day)} PARTITION OF {PARENT} "
                f"FOR VALUES FROM ('{bounds['start'].isoformat()}') "
                f"TO ('{bounds['end'].isoformat()}')"
            )
        )
        if moving:
            session.execute(text(f"INSERT INTO {PARENT} SELECT * FROM moving_results"))  # noqa: S608
            session.execute(text("DROP TABLE moving_results"))
        created.append(day)
    return created


def drop_day_partitions(session: Session, *, before: dt.date) -> int:
    """Drops the partitions of the days before `before`; how many results they held. A no-op
    (0) on SQLite."""
    removed = 0
    for day in day_partitions(session):
        if day >= before:
            break
        name = partition_name(day)
        # a name made of a date, never of input
        removed += int(session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())  # noqa: S608
        session.execute(text(f"DROP TABLE {name}"))
    return removed
