"""A day's timeline to A/R (reference §3.3, ARGO's `TimelineIntegrator.calcAR`):

- up = OK + WARNING, unknown = the profile's unknown + missing defaults, down = its down
  default; every other status (CRITICAL, EXCLUDED, ...) counts in the day only;
- availability = up / (day - unknown) x 100, reliability = up / (day - unknown - down) x 100;
- up_f = up/day, unknown_f = unknown/day, down_f = down/day;
- each rounded half-up to 5 decimals on the double's shortest decimal form (Java's
  `BigDecimal.valueOf(d).setScale(5, HALF_UP)`), a 0/0 stored as -1 (undefined)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.timeline import DAY, Timeline, durations

UNDEFINED = -1.0
_FIVE_DECIMALS = Decimal("0.00001")


@lru_cache(maxsize=65_536)
def round5(value: float) -> float:
    """Half-up to 5 decimals on the shortest decimal representation of the double
    (remembered: most of a day's items share a few fractions, 1.0 and 0.0 above all)."""
    return float(Decimal(repr(value)).quantize(_FIVE_DECIMALS, ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class DailyAR:
    """One item's day: availability and reliability in percent (-1: undefined), and the
    fractions of the day up, unknown (unknown + missing) and down."""

    availability: float
    reliability: float
    up: float
    unknown: float
    down: float


@dataclass(frozen=True, slots=True)
class Counted:
    """Which status ints count as what; one per operations profile."""

    ok: int
    warning: int
    unknown: int
    missing: int
    down: int
    n_statuses: int  # the profile's states + EXCLUDED

    @classmethod
    def of(cls, operations: OperationsTable) -> Counted:
        d = operations.defaults
        return cls(
            operations.index("OK"),
            operations.index("WARNING"),
            operations.index(d.unknown),
            operations.index(d.missing),
            operations.index(d.down),
            operations.excluded + 1,
        )


def _percent(up: int, known: int) -> float:
    # Java's double division: 0/0 is NaN -> -1; x/0 (impossible here, up <= known) -> -1 too
    if known == 0:
        return UNDEFINED
    return round5((up / known) * 100)


def calc_ar(points: Timeline, counted: Counted) -> DailyAR:
    secs = durations(points, counted.n_statuses)
    up = secs[counted.ok] + secs[counted.warning]
    unknown = secs[counted.unknown] + secs[counted.missing]
    down = secs[counted.down]
    known = DAY - unknown
    return DailyAR(
        _percent(up, known),
        _percent(up, known - down),
        round5(up / DAY),
        round5(unknown / DAY),
        round5(down / DAY),
    )
