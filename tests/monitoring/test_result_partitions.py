"""The metric results by day: partitions on PostgreSQL (created ahead, rows of the default
partition moved into a new day's, whole days dropped past retention), the same results and
counts on SQLite without partitions, and migration 0019 keeping every stored result."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Table, create_engine, insert, select, text
from sqlalchemy.orm import Session

from domains.monitoring.models import MetricResult
from domains.monitoring.service import partitions, results
from gateway import migrate
from tests.databases import private_database

T: Table = MetricResult.__table__  # type: ignore[attr-defined]
DAY = dt.date(2026, 11, 20)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _row(moment: dt.datetime, host: str = "ce01.example.org") -> dict[str, Any]:
    return {
        "timestamp": moment,
        "hostname": host,
        "service_type": "CREAM-CE",
        "metric": "org.nagios.CertLifetime",
        "status": "OK",
        "tags": {},
        "source": "test",
        "ingested_at": moment,
    }


def _where(session: Session) -> dict[int, str]:
    """Each result's id and the table that holds it (the parent's name on SQLite)."""
    if not partitions.partitioned(session):
        return dict.fromkeys(session.scalars(select(T.c.id)), partitions.PARENT)
    rows = session.execute(text(f"SELECT id, tableoid::regclass::text FROM {partitions.PARENT}"))
    return {int(row_id): str(table) for row_id, table in rows}


def test_a_new_day_partition_takes_its_rows_from_the_default_one(session: Session) -> None:
    session.execute(insert(T), [_row(_at(DAY, 1)), _row(_at(DAY, 23), "se01.example.org")])
    before = _where(session)
    created = partitions.ensure_day_partitions(session, [DAY, DAY + dt.timedelta(days=1)])
    if not partitions.partitioned(session):  # SQLite: one plain table, nothing to create
        assert session.get_bind().dialect.name == "sqlite"
        assert (created, partitions.day_partitions(session)) == ([], [])
        assert _where(session) == before
        return
    assert set(before.values()) == {partitions.DEFAULT}
    assert created == [DAY, DAY + dt.timedelta(days=1)]
    assert partitions.day_partitions(session) == created
    # the same rows, ids kept, now in their day's partition
    assert _where(session) == {row_id: partitions.partition_name(DAY) for row_id in before}
    new_id = session.execute(
        insert(T).returning(T.c.id), [_row(_at(DAY, 2) + dt.timedelta(days=1))]
    )
    assert _where(session)[new_id.scalar_one()] == partitions.partition_name(
        DAY + dt.timedelta(days=1)
    )
    assert partitions.ensure_day_partitions(session, [DAY]) == []  # already there


def test_retention_drops_whole_days_and_deletes_the_rest(session: Session) -> None:
    results.prepare_partitions(session, now=_at(DAY, 12))  # DAY-1 .. DAY+2
    if partitions.partitioned(session):
        assert partitions.day_partitions(session) == [
            DAY + dt.timedelta(days=n) for n in range(-1, results.PARTITION_DAYS_AHEAD + 1)
        ]
    later = DAY + dt.timedelta(days=5)  # beyond the partitions: the default partition
    session.execute(
        insert(T),
        [
            _row(_at(DAY - dt.timedelta(days=1), 3)),
            _row(_at(DAY, 3)),
            _row(_at(DAY, 20)),
            _row(_at(DAY + dt.timedelta(days=1), 3)),
            _row(_at(DAY + dt.timedelta(days=1), 20)),
            _row(_at(later, 1)),
            _row(_at(later, 20)),
        ],
    )
    kept_before = session.scalar(select(T.c.id).where(T.c.timestamp == _at(later, 20)))
    # DAY-1 and DAY go whole (with their partitions), DAY+1 before 06:00 row by row
    gone = results.purge_expired_results(session, older_than=_at(DAY + dt.timedelta(days=1), 6))
    assert gone == 4
    remaining = sorted(session.scalars(select(T.c.timestamp)))
    assert remaining == [_at(DAY + dt.timedelta(days=1), 20), _at(later, 1), _at(later, 20)]
    if partitions.partitioned(session):
        assert partitions.day_partitions(session)[0] == DAY + dt.timedelta(days=1)
    # past the last partition, old rows leave the default partition row by row
    assert results.purge_expired_results(session, older_than=_at(later, 12)) == 2
    assert list(session.scalars(select(T.c.id))) == [kept_before]


def test_migration_0019_keeps_every_stored_result(database_url: str, tmp_path: Path) -> None:
    with private_database(database_url, tmp_path, revision="0018") as url:
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(insert(T), [_row(_at(DAY, 1)), _row(_at(DAY, 2))])
            migrate.upgrade(engine)
            with Session(engine) as session:
                stored = _where(session)
                assert sorted(stored) == [1, 2]
                assert set(stored.values()) == (
                    {partitions.DEFAULT}
                    if engine.dialect.name == "postgresql"
                    else {partitions.PARENT}
                )
                # the id sequence goes on where it was
                new_id = session.execute(insert(T).returning(T.c.id), [_row(_at(DAY, 3))])
                assert new_id.scalar_one() == 3
                session.commit()
            assert migrate.model_drift(engine) == []
            command.downgrade(migrate.alembic_config(engine), "0018")
            with Session(engine) as session:
                assert _where(session) == dict.fromkeys([1, 2, 3], partitions.PARENT)
        finally:
            engine.dispose()
