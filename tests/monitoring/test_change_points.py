"""The A/R's change points kept at ingestion (service/change_points.py): results in order,
repeats, ties at one instant, a late result in the middle of a day and one across midnight;
each time the points are those `rebuild` computes from the stored results, and the window
over them gives what the same window over the raw results gives (both backends)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domains.monitoring.engine.timeline import day_start, second_of
from domains.monitoring.service import availability
from domains.monitoring.service import change_points as points
from domains.monitoring.service import results as ingest
from tests.monitoring.ingest_world import METRIC, add_endpoint, result

NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
DAY1, DAY2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
POLICY = ingest.IngestPolicy(late_age=dt.timedelta(days=10))


@pytest.fixture
def endpoint(session: Session) -> tuple[str, str]:
    return add_endpoint(session)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return day_start(day) + dt.timedelta(hours=hour, minutes=minute)


def send(session: Session, endpoint: tuple[str, str], *found: tuple[dt.datetime, str]) -> None:
    outcome = ingest.ingest_results(
        session,
        "test",
        [result(endpoint, at=moment, status=status) for moment, status in found],
        policy=POLICY,
        now=NOW,
    )
    assert outcome.rejected == []


def stored_points(session: Session, endpoint: tuple[str, str]) -> list[tuple[dt.datetime, str]]:
    p = points.T_POINT.c
    rows = session.execute(
        select(p.timestamp, p.status)
        .where(p.hostname == endpoint[0], p.service_type == endpoint[1], p.metric == METRIC)
        .order_by(p.timestamp, p.id)
    ).all()
    return [(moment, status) for moment, status in rows]


def window(session: Session, endpoint: tuple[str, str], day: dt.date, table: Any) -> Any:
    """The day's rows the A/R's window keeps, and the status of the previous day's last (the
    seed's row itself may differ: the last point, not the last result, of that day)."""
    statement = points.day_statement(
        [endpoint[1]], day_start(day), [endpoint[0]], every=False, table=table
    )
    rows = [tuple(row) for row in session.execute(statement) if row[2] == METRIC]
    seed = [row[4] for row in rows if row[3] < day_start(day)]
    return [row for row in rows if row[3] >= day_start(day)], seed


def check(session: Session, endpoint: tuple[str, str], expected: list[Any]) -> None:
    """The points are `expected`, what `rebuild` makes of the stored results, and the A/R's
    window over them reads what it reads over the results, on either day."""
    assert stored_points(session, endpoint) == expected
    for day in (DAY1, DAY2, DAY2 + dt.timedelta(days=1)):
        assert window(session, endpoint, day, points.T_POINT) == window(
            session, endpoint, day, points.T_RESULT
        )
    points.rebuild(session, since=DAY1 - dt.timedelta(days=1))
    assert stored_points(session, endpoint) == expected


def test_results_in_order_keep_each_days_first_and_each_change(
    session: Session, endpoint: tuple[str, str]
) -> None:
    send(session, endpoint, (at(DAY1, 0, 20), "OK"), (at(DAY1, 0, 40), "OK"))
    send(session, endpoint, (at(DAY1, 1), "CRITICAL"), (at(DAY1, 1, 20), "CRITICAL"))
    send(session, endpoint, (at(DAY1, 2), "OK"), (at(DAY2, 0, 20), "OK"), (at(DAY2, 3), "OK"))
    check(
        session,
        endpoint,
        [
            (at(DAY1, 0, 20), "OK"),  # the series' first
            (at(DAY1, 1), "CRITICAL"),
            (at(DAY1, 2), "OK"),
            (at(DAY2, 0, 20), "OK"),  # the next day's first, a repeat
        ],
    )
    results, seed = availability.day_results(session, [endpoint[1]], DAY2, hosts=[endpoint[0]])
    key = (endpoint[0], endpoint[1], METRIC)
    assert seed[key] == "OK"
    assert key not in results  # a repeat of the seed changes nothing


def test_repeats_and_ties_at_one_instant(session: Session, endpoint: tuple[str, str]) -> None:
    send(session, endpoint, (at(DAY1, 1), "OK"))
    send(session, endpoint, (at(DAY1, 2), "OK"))  # a repeat in a later batch
    send(session, endpoint, (at(DAY1, 3), "CRITICAL"), (at(DAY1, 3), "UNKNOWN"))
    send(session, endpoint, (at(DAY1, 3), "UNKNOWN"))  # the same instant again, no change
    send(session, endpoint, (at(DAY1, 3), "OK"))  # the same instant, a change
    check(
        session,
        endpoint,
        [
            (at(DAY1, 1), "OK"),
            (at(DAY1, 3), "CRITICAL"),
            (at(DAY1, 3), "UNKNOWN"),
            (at(DAY1, 3), "OK"),
        ],
    )


def test_a_late_result_in_the_middle_of_a_day(session: Session, endpoint: tuple[str, str]) -> None:
    send(
        session,
        endpoint,
        (at(DAY1, 1), "OK"),
        (at(DAY1, 2), "OK"),
        (at(DAY1, 3), "OK"),
        (at(DAY1, 5), "CRITICAL"),
    )
    send(session, endpoint, (at(DAY1, 2, 30), "CRITICAL"))  # late: a change, and the next
    check(
        session,
        endpoint,
        [
            (at(DAY1, 1), "OK"),
            (at(DAY1, 2, 30), "CRITICAL"),
            (at(DAY1, 3), "OK"),  # a change now
            (at(DAY1, 5), "CRITICAL"),
        ],
    )
    # late again, with a result in order in the same batch
    send(session, endpoint, (at(DAY1, 2, 45), "OK"), (at(DAY1, 6), "OK"))
    check(
        session,
        endpoint,
        [
            (at(DAY1, 1), "OK"),
            (at(DAY1, 2, 30), "CRITICAL"),
            (at(DAY1, 2, 45), "OK"),  # 03:00 repeats it now
            (at(DAY1, 5), "CRITICAL"),
            (at(DAY1, 6), "OK"),
        ],
    )


def test_a_late_result_across_midnight_changes_the_next_days_seed(
    session: Session, endpoint: tuple[str, str]
) -> None:
    send(session, endpoint, (at(DAY1, 22), "OK"), (at(DAY2, 1), "OK"), (at(DAY2, 3), "CRITICAL"))
    key = (endpoint[0], endpoint[1], METRIC)
    results, seed = availability.day_results(session, [endpoint[1]], DAY2, hosts=[endpoint[0]])
    assert seed[key] == "OK"
    assert [(r.second, r.status) for r in results[key]] == [(3 * 3600, "CRITICAL")]
    send(session, endpoint, (at(DAY1, 23, 30), "CRITICAL"))  # late, the day before
    check(
        session,
        endpoint,
        [
            (at(DAY1, 22), "OK"),
            (at(DAY1, 23, 30), "CRITICAL"),
            (at(DAY2, 1), "OK"),
            (at(DAY2, 3), "CRITICAL"),
        ],
    )
    results, seed = availability.day_results(session, [endpoint[1]], DAY2, hosts=[endpoint[0]])
    assert seed[key] == "CRITICAL"
    assert [(r.second, r.status) for r in results[key]] == [
        (1 * 3600, "OK"),
        (3 * 3600, "CRITICAL"),
    ]


def test_retention_deletes_the_points_of_the_deleted_results(
    session: Session, endpoint: tuple[str, str]
) -> None:
    send(session, endpoint, (at(DAY1, 1), "OK"), (at(DAY2, 1), "CRITICAL"))
    ingest.purge_expired_results(session, older_than=day_start(DAY2))
    assert stored_points(session, endpoint) == [(at(DAY2, 1), "CRITICAL")]


def test_the_points_read_by_time_give_what_the_window_over_the_results_keeps(
    session: Session, endpoint: tuple[str, str]
) -> None:
    """`day_results` reads the points by time and compares them per series itself (on
    PostgreSQL with the seconds counted in SQL): the same rows and seed as the window over
    the raw results, with fractions of a second, ties at one instant and a repeat at 00:00."""
    half = dt.timedelta(milliseconds=500)
    send(
        session,
        endpoint,
        (at(DAY1, 22), "OK"),
        (at(DAY1, 23, 59) + half, "CRITICAL"),
        (at(DAY2, 0), "CRITICAL"),
        (at(DAY2, 1) + half, "OK"),
        (at(DAY2, 1) + half, "WARNING"),
        (at(DAY2, 2), "WARNING"),
        (at(DAY2, 3) - half, "OK"),
    )
    key = (endpoint[0], endpoint[1], METRIC)
    for day in (DAY1, DAY2, DAY2 + dt.timedelta(days=1)):
        rows, seed = window(session, endpoint, day, points.T_RESULT)
        results, previous = availability.day_results(
            session, [endpoint[1]], day, hosts=[endpoint[0]]
        )
        assert [tuple(r) for r in results.get(key, [])] == [
            (second_of(row[3], day_start(day)), row[4], row[5] or "") for row in rows
        ]
        assert previous.get(key) == (seed[-1] if seed else None)
    results, _ = availability.day_results(session, [endpoint[1]], DAY2, hosts=[endpoint[0]])
    assert [(r.second, r.status) for r in results[key]] == [
        (3600, "OK"),
        (3600, "WARNING"),
        (3 * 3600 - 1, "OK"),
    ]
