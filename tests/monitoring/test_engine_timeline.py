"""Timelines and their integration, case by case against figures computed by hand: the seed
at 00:00, the pairwise fold over the union of change points, ARGO's downtime overwrite (clip
to the day, resume at end + 1 minute), seconds per status with the last point lasting to
23:59:59 + 1 s, and the A/R formulas with half-up rounding and -1 for undefined."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domains.monitoring.engine.integrate import Counted, DailyAR, calc_ar, round5
from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.timeline import (
    DAY,
    combine,
    day_start,
    durations,
    fill,
    fold,
    metric_timeline,
    optimize,
    second_of,
)
from tests.monitoring.argo_profiles import STATES, operations_doc

OPS = OperationsTable.from_argo(operations_doc())
O, W, U, M, C, D = range(6)  # noqa: E741 (the ints of STATES by initial)
X = OPS.excluded
H = 3600
MIN = 60


def test_status_ints_follow_the_profile() -> None:
    assert [OPS.index(s) for s in STATES] == [O, W, U, M, C, D]


def test_seconds_count_from_midnight_utc() -> None:
    start = day_start(date(2026, 3, 1))
    assert start == datetime(2026, 3, 1, tzinfo=UTC)
    assert second_of(datetime(2026, 3, 1, 10, 0, 30, 900_000, tzinfo=UTC), start) == 36_030
    assert second_of(datetime(2026, 2, 28, 23, 59, tzinfo=UTC), start) == -60


def test_the_seed_at_midnight() -> None:
    # no result at 00:00: the previous day's last status holds until the first result
    assert metric_timeline([(8 * H, C)], previous=W, missing=M) == [(0, W), (8 * H, C)]
    # neither a previous result nor one at 00:00: MISSING until the first result
    assert metric_timeline([(8 * H, C)], previous=None, missing=M) == [(0, M), (8 * H, C)]
    # a result at exactly 00:00 wins over the previous day's
    assert metric_timeline([(0, O), (H, O)], previous=C, missing=M) == [(0, O)]
    # no data at all: the seed lasts all day; of two results at one second the later stays
    assert metric_timeline([], previous=O, missing=M) == [(0, O)]
    assert metric_timeline([(H, C), (H, W)], previous=O, missing=M) == [(0, O), (H, W)]


def test_optimize_keeps_only_changes() -> None:
    assert optimize([(0, O), (10, O), (20, C), (30, C), (40, O)]) == [(0, O), (20, C), (40, O)]


def test_the_fold_looks_at_every_change_point_of_either() -> None:
    and_cells = OPS.cells("AND")
    a = [(0, O), (10 * H, C), (12 * H, O)]
    b = [(0, W), (11 * H, U), (14 * H, O)]
    # 00-10 O&W=W, 10-11 C&W=C, 11-12 C&U=C, 12-14 O&U=U, 14- O&O=O
    assert combine(a, b, and_cells) == [(0, W), (10 * H, C), (12 * H, U), (14 * H, O)]
    # a point both share moves both at once
    assert combine([(0, O), (H, C)], [(0, C), (H, O)], and_cells) == [(0, C)]
    # three timelines fold pairwise, in order
    assert fold([a, b, [(0, D)]], and_cells) == [(0, D), (10 * H, C), (12 * H, D)]
    assert fold([a], and_cells) == a


@pytest.mark.parametrize("op", ["AND", "OR"])
def test_every_cell_through_timelines(op: str) -> None:
    # a walks each status for 6 slots, b walks all 6 in each: every (a, b) pair once
    a = [(k * 600, k // 6) for k in range(36)]
    b = [(k * 600, k % 6) for k in range(36)]
    cells = OPS.cells(op)
    combined = combine(optimize(a), optimize(b), cells)
    expected = optimize((k * 600, cells[k // 6][k % 6]) for k in range(36))
    assert combined == expected
    assert [OPS.name_of(s) for _, s in combine([(0, X)], [(0, C)], cells)] == ["CRITICAL"]


def test_a_downtime_resumes_the_earlier_status_one_minute_after_its_end() -> None:
    ok = [(0, O)]
    # 10:00-12:00 -> DOWNTIME from 10:00:00, OK again from 12:01:00
    assert fill(ok, 10 * H, 12 * H, D) == [(0, O), (10 * H, D), (12 * H + MIN, O)]
    # change points inside the period take the downtime; the status in force at its end
    # (CRITICAL since 11:00) resumes
    inside = [(0, O), (11 * H, C)]
    assert fill(inside, 10 * H, 12 * H, D) == [(0, O), (10 * H, D), (12 * H + MIN, C)]


def test_a_change_point_right_after_the_end_is_overwritten_by_the_resumed_status() -> None:
    # ARGO puts the resumed status at end + 60 s even over a change at end + 30 s
    points = [(0, O), (12 * H + 30, C)]
    assert fill(points, 10 * H, 12 * H, D) == [
        (0, O),
        (10 * H, D),
        (12 * H + 30, C),
        (12 * H + MIN, O),
    ]


def test_a_change_point_at_end_plus_one_minute_is_replaced_by_the_resumed_status() -> None:
    # ARGO's TreeMap.put: a service going CRITICAL at 12:01, right as a 10:00-12:00 downtime
    # resumes, shows the status in force at 12:00 (OK) until its next change
    points = [(0, O), (12 * H + MIN, C), (14 * H, O)]
    assert fill(points, 10 * H, 12 * H, D) == [(0, O), (10 * H, D), (12 * H + MIN, O)]


def test_a_change_point_exactly_at_the_end_keeps_the_downtime_until_the_next_change() -> None:
    # ARGO's ceilingKey(end) == end: no resume point; the point at the end becomes DOWNTIME
    points = [(0, O), (12 * H, C), (15 * H, O)]
    assert fill(points, 10 * H, 12 * H, D) == [(0, O), (10 * H, D), (15 * H, O)]


def test_downtimes_are_clipped_to_the_day() -> None:
    ok = [(0, O), (20 * H, W)]
    # from the previous day until 06:00 -> DOWNTIME from 00:00, OK again from 06:01
    assert fill(ok, -5 * H, 6 * H, D) == [(0, D), (6 * H + MIN, O), (20 * H, W)]
    # from 22:00 into the next day: DOWNTIME to the end of the day, nothing resumes
    assert fill(ok, 22 * H, DAY + 5 * H, D) == [(0, O), (20 * H, W), (22 * H, D)]
    # ending at 23:59: end + 1 minute is not before 23:59:59, nothing resumes
    assert fill(ok, 23 * H, DAY - MIN, D) == [(0, O), (20 * H, W), (23 * H, D)]
    # a whole day and more
    assert fill(ok, -H, DAY + H, D) == [(0, D)]
    # periods of other days change nothing
    assert fill(ok, -5 * H, -H, D) is ok
    assert fill(ok, DAY, DAY + H, D) is ok


def test_overlapping_downtimes_in_either_order() -> None:
    ok = [(0, O)]
    first = (9 * H, 11 * H)
    second = (10 * H, 12 * H)
    expected = [(0, O), (9 * H, D), (12 * H + MIN, O)]
    one = fill(fill(ok, *first, D), *second, D)
    other = fill(fill(ok, *second, D), *first, D)
    assert one == other == expected


def test_nothing_is_filled_after_now() -> None:
    ok = [(0, O), (13 * H, C)]
    # now 11:00 inside a 10:00-12:00 downtime: it starts, nothing resumes, 13:00 untouched
    assert fill(ok, 10 * H, 12 * H, D, now=11 * H) == [(0, O), (10 * H, D), (13 * H, C)]
    # a downtime starting after now is not placed
    assert fill(ok, 12 * H, 14 * H, D, now=11 * H) == ok


def test_durations_run_the_last_point_to_the_end_of_the_day() -> None:
    secs = durations([(0, O), (6 * H, C), (6 * H + 30, O), (23 * H, X)], X + 1)
    assert secs == [6 * H + (23 * H - 6 * H - 30), 0, 0, 0, 30, 0, H]
    assert sum(secs) == DAY


COUNTED = Counted.of(OPS)


def ar(points: list[tuple[int, int]]) -> DailyAR:
    return calc_ar(points, COUNTED)


def test_ok_all_day() -> None:
    assert ar([(0, O)]) == DailyAR(100.0, 100.0, 1.0, 0.0, 0.0)


def test_every_status_counts_as_the_formulas_say() -> None:
    # 4 h each: OK, WARNING up; UNKNOWN, MISSING unknown; CRITICAL total only; DOWNTIME down
    points = [(0, O), (4 * H, W), (8 * H, U), (12 * H, M), (16 * H, C), (20 * H, D)]
    # up 8 h, unknown 8 h, down 4 h: A = 8/(24-8) = 50, R = 8/(24-8-4) = 66.666666..->66.66667
    assert ar(points) == DailyAR(50.0, 66.66667, 0.33333, 0.33333, 0.16667)


def test_excluded_time_counts_in_the_day_only() -> None:
    # EXCLUDED 12 h, OK 12 h: A = R = 12/24
    assert ar([(0, X), (12 * H, O)]) == DailyAR(50.0, 50.0, 0.5, 0.0, 0.0)


def test_undefined_is_minus_one() -> None:
    # all unknown: 0/0 for both
    assert ar([(0, U), (5 * H, M)]) == DailyAR(-1.0, -1.0, 0.0, 1.0, 0.0)
    # all downtime: A = 0/24 = 0, R = 0/0 -> -1
    assert ar([(0, D)]) == DailyAR(0.0, -1.0, 0.0, 0.0, 1.0)


def test_seconds_count_not_slots() -> None:
    # CRITICAL for 1 s: A = 86399/86400 = 99.998842592.. -> 99.99884
    assert ar([(0, O), (H, C), (H + 1, O)]).availability == 99.99884


def test_rounding_is_half_up_on_the_shortest_decimal() -> None:
    # the double nearest 1.234565 lies just below it; Java's BigDecimal.valueOf rounds its
    # shortest decimal form "1.234565" up, where Python's round() rounds the double down
    assert round5(1.234565) == 1.23457
    assert round(1.234565, 5) == 1.23456
    assert round5(0.000005) == 0.00001
    assert round5(99.999995) == 100.0
    assert round5(-1.0) == -1.0
