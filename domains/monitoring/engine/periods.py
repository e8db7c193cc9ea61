"""Monthly and custom periods from daily fractions, and supergroups (NGIs) from their sites,
as argo-web-api computes them (`app/results/queries.go`; reference §3.3):

- an item's period: the mean of its daily up, unknown and down fractions, then
  A = up / (1.00000001 - unknown) x 100 and R = up / (1.00000001 - unknown - down) x 100,
  not rounded (an all-up month gives 99.99999900000002); a day with A = -1 counts as up 0,
  unknown 1, down 0;
- a supergroup's day: sum(A x w') / sum(w') over its sites with A >= 0, w' = weight + 1
  (R likewise over the sites with R >= 0), None ("nan") when no site counts;
- a supergroup's period: the mean of its daily values, leaving out the None days."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

DENOMINATOR = 1.00000001  # argo-web-api's, which keeps 0/0 away


@dataclass(frozen=True, slots=True)
class PeriodAR:
    availability: float
    reliability: float
    up: float
    unknown: float
    down: float


@dataclass(frozen=True, slots=True)
class SupergroupAR:
    """None: undefined (argo-web-api's "nan")."""

    availability: float | None
    reliability: float | None


class DayFractions(Protocol):
    """What a period reads of each day (a `DailyAR`, or a stored day's row)."""

    @property
    def availability(self) -> float: ...
    @property
    def up(self) -> float: ...
    @property
    def unknown(self) -> float: ...
    @property
    def down(self) -> float: ...


def period_ar(days: Sequence[DayFractions]) -> PeriodAR | None:
    """An item's A/R over a month or a custom period from its days (None without days)."""
    if not days:
        return None
    up = unknown = down = 0.0
    for day in days:
        if day.availability < 0:
            unknown += 1.0
        else:
            up += day.up
            unknown += day.unknown
            down += day.down
    n = len(days)
    avg_up, avg_unknown, avg_down = up / n, unknown / n, down / n
    return PeriodAR(
        _ratio(avg_up, DENOMINATOR - avg_unknown),
        _ratio(avg_up, (DENOMINATOR - avg_unknown) - avg_down),
        avg_up,
        avg_unknown,
        avg_down,
    )


def _ratio(up: float, known: float) -> float:
    return float("nan") if known == 0 else (up / known) * 100


def supergroup_day(members: Iterable[tuple[float, float, float]]) -> SupergroupAR:
    """A supergroup's day from its members' (availability, reliability, weight)."""
    a_sum = r_sum = a_weight = r_weight = 0.0
    for availability, reliability, weight in members:
        w = weight + 1
        if availability >= 0:
            a_sum += availability * w
            a_weight += w
        if reliability >= 0:
            r_sum += reliability * w
            r_weight += w
    return SupergroupAR(
        a_sum / a_weight if a_weight > 0 else None,
        r_sum / r_weight if r_weight > 0 else None,
    )


def supergroup_period(days: Iterable[SupergroupAR]) -> SupergroupAR:
    """A supergroup's month or custom period: the mean of its defined daily values."""
    a_values: list[float] = []
    r_values: list[float] = []
    for day in days:
        if day.availability is not None:
            a_values.append(day.availability)
        if day.reliability is not None:
            r_values.append(day.reliability)
    return SupergroupAR(
        sum(a_values) / len(a_values) if a_values else None,
        sum(r_values) / len(r_values) if r_values else None,
    )
