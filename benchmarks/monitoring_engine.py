"""The pure A/R engine alone: a month of one report's days, no database.

    python -m benchmarks.monitoring_engine [--endpoints 1000] [--days 30] [--every 20]
        [--sites 100]

Builds `--endpoints` endpoints (two thirds ARC-CE, one third SRM) over `--sites` sites in 10
NGIs, 3 metrics each, a result every `--every` minutes per metric (about 1 in 50 not OK,
a few downtimes), then times `compute_day` for each day of the month and the monthly
`period_ar` / `supergroup_period` over the days, and prints the seconds. The issue's target
for the whole monthly A/R of 1,000 endpoints is under 10 s, database reads included: this
is the engine's share of it.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.integrate import DailyAR
from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.periods import SupergroupAR, period_ar, supergroup_period
from domains.monitoring.engine.pipeline import (
    DayInputs,
    Endpoint,
    MetricKey,
    Period,
    Result,
    Topology,
    compute_day,
)
from tests.monitoring.argo_profiles import aggregation_doc, operations_doc

STATUSES = ["OK"] * 49 + ["CRITICAL", "WARNING", "UNKNOWN"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--every", type=int, default=20, help="minutes between results")
    parser.add_argument("--sites", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(14)  # noqa: S311 (made-up results, not secrets)
    ops = OperationsTable.from_argo(operations_doc())
    agg = AggregationSpec.from_argo(aggregation_doc())
    profile = {"ARC-CE": ("m1", "m2", "m3"), "SRM": ("s1", "s2", "s3")}
    endpoints = tuple(
        Endpoint(
            f"host{i}.example.org", "SRM" if i % 3 == 2 else "ARC-CE", f"SITE-{i % args.sites}"
        )
        for i in range(args.endpoints)
    )
    topology = Topology(endpoints, {f"SITE-{s}": f"NGI-{s % 10}" for s in range(args.sites)})
    first = date(2026, 3, 1)
    days = [first + timedelta(days=d) for d in range(args.days)]
    inputs = []
    per_day = 24 * 60 // args.every
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        results: dict[MetricKey, list[Result]] = {}
        for ep in endpoints:
            for metric in profile[ep.service]:
                offset = rng.randrange(args.every * 60)
                results[(ep.hostname, ep.service, metric)] = [
                    Result(offset + k * args.every * 60, rng.choice(STATUSES))
                    for k in range(per_day)
                ]
        downtimes = {
            (ep.hostname, ep.service): [
                Period(start + timedelta(hours=8), start + timedelta(hours=10))
            ]
            for ep in endpoints[::97]
        }
        inputs.append(DayInputs(day, ops, agg, profile, topology, results, downtimes=downtimes))
    n_results = sum(len(r) for i in inputs for r in i.results.values())
    began = time.perf_counter()
    site_days: dict[str, list[DailyAR]] = {}
    ngi_days: dict[str, list[SupergroupAR]] = {}
    endpoint_days: dict[tuple[str, str, str], list[DailyAR]] = {}
    for day_inputs in inputs:
        out = compute_day(day_inputs)
        for key, item in out.endpoints.items():
            endpoint_days.setdefault(key, []).append(item.ar)
        for site, item in out.sites.items():
            site_days.setdefault(site, []).append(item.ar)
        for ngi, value in out.supergroups.items():
            ngi_days.setdefault(ngi, []).append(value)
    daily = time.perf_counter() - began
    months = [period_ar(v) for v in endpoint_days.values()] + [
        period_ar(v) for v in site_days.values()
    ]
    ngis = [supergroup_period(v) for v in ngi_days.values()]
    total = time.perf_counter() - began
    print(
        f"{args.endpoints} endpoints x {args.days} days, {n_results} results: "
        f"daily A/R {daily:.2f} s, with the monthly figures ({len(months)} items, {len(ngis)} "
        f"NGIs) {total:.2f} s"
    )


if __name__ == "__main__":
    main()
