"""Change-point timelines of one UTC day (reference §3.1-3.3, ARGO's `Timeline.java`).

A timeline is a list of `(second, status)` pairs: `second` counts from the day's 00:00:00
(0..86399), `status` is an `OperationsTable` int; the first point is at second 0 and no two
neighbours share a status (ARGO's `optimize`), so a status lasts until the next point and
the last one until the end of the day. Plain lists of tuples of ints, for speed."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from domains.monitoring.engine.operations import Cells

Timeline = list[tuple[int, int]]

DAY = 86_400
LAST_SECOND = DAY - 1  # 23:59:59, where ARGO clips periods
RESUME_AFTER = 60  # the earlier status resumes one minute after a filled period ends
_SECOND = timedelta(seconds=1)
_ABOVE_ANY_STATUS = 1 << 30


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def second_of(moment: datetime, start: datetime) -> int:
    """Whole seconds from `start` (the day's 00:00 UTC) to `moment`; negative before it."""
    return (moment - start) // _SECOND


def optimize(points: Iterable[tuple[int, int]]) -> Timeline:
    """Drop each point whose status equals its predecessor's (ARGO's `optimize`)."""
    out: Timeline = []
    last = -1
    for second, status in points:
        if status != last:
            out.append((second, status))
            last = status
    return out


def metric_timeline(
    results: Sequence[tuple[int, int]], previous: int | None, missing: int
) -> Timeline:
    """A metric's day from its results `(second, status)` of that day, sorted by second
    (of two at the same second the later one stays), and `previous`, the status of the
    previous day's last result. 00:00 holds a result at exactly 00:00, else `previous`,
    else `missing` (ARGO's `replacePreviousDateStatus`)."""
    points: Timeline = []
    last = -1
    for second, status in results:
        if second == last:
            points[-1] = (second, status)
        else:
            points.append((second, status))
            last = second
    if not points or points[0][0] != 0:
        points.insert(0, (0, missing if previous is None else previous))
    return optimize(points)


def combine(a: Timeline, b: Timeline, cells: Cells) -> Timeline:
    """a op b at every change point of either (ARGO's `Timeline.aggregate`: the status of
    each at a point is its floor entry; the result is optimized)."""
    na, nb = len(a), len(b)
    sa, sb = a[0][1], b[0][1]
    last = cells[sa][sb]
    out: Timeline = [(0, last)]
    i = j = 1
    while i < na or j < nb:
        ta = a[i][0] if i < na else DAY
        tb = b[j][0] if j < nb else DAY
        if ta <= tb:
            sa = a[i][1]
            i += 1
        if tb <= ta:
            sb = b[j][1]
            j += 1
        x = cells[sa][sb]
        if x != last:
            out.append((ta if ta < tb else tb, x))
            last = x
    return out


def fold(timelines: Sequence[Timeline], cells: Cells) -> Timeline:
    """Combine n timelines pairwise, in the given order (ARGO's `TimelineAggregator`)."""
    result = timelines[0]
    for other in timelines[1:]:
        result = combine(result, other, cells)
    return result


def fill(points: Timeline, start: int, end: int, status: int, now: int | None = None) -> Timeline:
    """Overwrite [start, end] (seconds from 00:00, either may lie outside the day) with
    `status`, as ARGO's `Timeline.fillWithStatus` does for downtimes and recomputations:

    - the period is clipped to 00:00:00-23:59:59; a period outside the day changes nothing;
    - every change point inside it takes `status`, and `status` starts at its start;
    - unless a change point of the timeline lies exactly at its (clipped) end, the status
      in force at the end resumes at end + 1 minute, if that is before 23:59:59 (so a
      change point at end + 30 s is overwritten by the resumed status: ARGO's rule);
    - with `now` (a day still running), nothing is placed or changed after `now`.
    """
    if end < 0 or start > LAST_SECOND:
        return points
    s = max(start, 0)
    e = min(end, LAST_SECOND)
    at = dict(points)
    ceiling_at_end = e in at  # ARGO: ceilingKey(end) equals the (clipped) end
    resumed = _status_at(points, e)
    if now is None or s <= now:
        at[s] = status
    if not ceiling_at_end and (now is None or e <= now) and e + RESUME_AFTER < LAST_SECOND:
        at[e + RESUME_AFTER] = resumed
    for second in at:
        if s <= second <= e and (now is None or second <= now):
            at[second] = status
    return optimize(sorted(at.items()))


def _status_at(points: Timeline, second: int) -> int:
    """The status in force at `second` (the floor entry's)."""
    return points[bisect_right(points, (second, _ABOVE_ANY_STATUS)) - 1][1]


def durations(points: Timeline, n_statuses: int) -> list[int]:
    """Seconds per status over the day; the last point lasts to 23:59:59 + 1 s
    (`TimelineIntegrator.countStatusAppearancesInSecs`)."""
    secs = [0] * n_statuses
    for k in range(len(points) - 1):
        secs[points[k][1]] += points[k + 1][0] - points[k][0]
    second, status = points[-1]
    secs[status] += DAY - second
    return secs
