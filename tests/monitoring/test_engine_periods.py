"""Monthly and custom A/R from daily fractions with argo-web-api's 1.00000001 denominators,
and NGIs (supergroups) as the weight + 1 mean of their sites, figures computed by hand."""

from __future__ import annotations

import math

from domains.monitoring.engine.integrate import DailyAR
from domains.monitoring.engine.periods import (
    PeriodAR,
    SupergroupAR,
    period_ar,
    supergroup_day,
    supergroup_period,
)

UP = DailyAR(100.0, 100.0, 1.0, 0.0, 0.0)
UNDEFINED = DailyAR(-1.0, -1.0, 0.0, 1.0, 0.0)


def test_an_all_up_month_is_not_quite_100() -> None:
    # 1 / (1.00000001 - 0) x 100, no rounding
    month = period_ar([UP] * 30)
    assert month == PeriodAR(99.99999900000002, 99.99999900000002, 1.0, 0.0, 0.0)


def test_an_undefined_day_counts_as_up_0_unknown_1() -> None:
    # two days: up (1 + 0)/2 = 0.5, unknown (0 + 1)/2 = 0.5
    # A = 0.5 / (1.00000001 - 0.5) x 100 = 99.999998.. (99.99999800000006 in doubles)
    month = period_ar([UP, UNDEFINED])
    assert month is not None
    assert (month.up, month.unknown, month.down) == (0.5, 0.5, 0.0)
    assert month.availability == 99.99999800000006
    # the rule holds for a day whose fractions say otherwise
    odd = DailyAR(-1.0, -1.0, 0.2, 0.3, 0.1)
    assert period_ar([odd]) == period_ar([UNDEFINED])


def test_downtime_counts_against_availability_only() -> None:
    # day 1: up 0.75, down 0.25; day 2 up 1: avg up 0.875, down 0.125
    # A = 0.875/1.00000001 x 100; R = 0.875/(1.00000001 - 0.125) x 100
    month = period_ar([DailyAR(75.0, 100.0, 0.75, 0.0, 0.25), UP])
    assert month == PeriodAR(
        0.875 / 1.00000001 * 100, 0.875 / (1.00000001 - 0.125) * 100, 0.875, 0.0, 0.125
    )


def test_no_days_no_period() -> None:
    assert period_ar([]) is None


def test_a_zero_denominator_is_nan() -> None:
    # avg_down = 1.00000001: R divides by zero
    month = period_ar([DailyAR(0.0, -1.0, 0.0, 0.0, 1.00000001)])
    assert month is not None
    assert math.isnan(month.reliability)


def test_ngi_daily_is_the_weight_plus_one_mean_of_its_defined_sites() -> None:
    # the reference's example: (66.7 x 5635 + 70 x 4357) / 9992
    day = supergroup_day([(66.7, 66.7, 5634.0), (70.0, 70.0, 4356.0), (-1.0, -1.0, 99999.0)])
    assert day == SupergroupAR(68.13896116893515, 68.13896116893515)
    # availability and reliability skip their own undefined sites: R over the first only
    day = supergroup_day([(50.0, 80.0, 0.0), (100.0, -1.0, 1.0)])
    assert day == SupergroupAR((50.0 * 1 + 100.0 * 2) / 3, 80.0)
    # no defined site: "nan"
    assert supergroup_day([(-1.0, -1.0, 3.0)]) == SupergroupAR(None, None)
    assert supergroup_day([]) == SupergroupAR(None, None)


def test_ngi_monthly_is_the_mean_of_its_defined_days() -> None:
    days = [SupergroupAR(90.0, 95.0), SupergroupAR(None, 85.0), SupergroupAR(60.0, None)]
    assert supergroup_period(days) == SupergroupAR(75.0, 90.0)
    assert supergroup_period([SupergroupAR(None, None)]) == SupergroupAR(None, None)
