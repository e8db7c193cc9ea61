"""One report-day through the whole pipeline, each case computed by hand in its comments.
The world: site SITE-A (NGI NGI_X) with an ARC-CE ce1 (metrics m1, m2) and an SRM se1
(metric s1); aggregation compute = ARC-CE | CREAM-CE, storage = SRM, site = compute & storage;
the current EGI operations profile unless a test loads the legacy one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.integrate import DailyAR
from domains.monitoring.engine.operations import OperationsTable
from domains.monitoring.engine.periods import SupergroupAR
from domains.monitoring.engine.pipeline import (
    DayInputs,
    DayOutput,
    Endpoint,
    MetricExclusion,
    MetricKey,
    Period,
    Recomputations,
    Result,
    SiteExclusion,
    SourceExclusion,
    StatusChange,
    Topology,
    compute_day,
    result_at,
)
from tests.monitoring.argo_profiles import aggregation_doc, operations_doc

DAY = date(2026, 3, 2)
CURRENT = OperationsTable.from_argo(operations_doc())
LEGACY = OperationsTable.from_argo(operations_doc(legacy=True))
AGGREGATION = AggregationSpec.from_argo(aggregation_doc())
PROFILE = {"ARC-CE": ("m1", "m2"), "SRM": ("s1",), "Top-BDII": ("t1",)}
TOPOLOGY = Topology(
    (
        Endpoint("ce1", "ARC-CE", "SITE-A"),
        Endpoint("se1", "SRM", "SITE-A"),
        Endpoint("bdii", "Top-BDII", "SITE-A"),  # not in the aggregation profile: left out
        Endpoint("ui", "UI", "SITE-A"),  # not in the metric profile: left out
    ),
    {"SITE-A": "NGI_X"},
)
ALL_OK = {("ce1", "ARC-CE", "m1"): "OK", ("ce1", "ARC-CE", "m2"): "OK", ("se1", "SRM", "s1"): "OK"}


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        hours=hour, minutes=minute, seconds=second
    )


def R(moment: datetime, status: str, source: str = "") -> Result:  # noqa: N802 (a row)
    return result_at(DAY, moment, status, source)


def run(
    results: Mapping[MetricKey, Sequence[Result]] | None = None,
    previous: Mapping[MetricKey, str] | None = None,
    **kwargs: Any,
) -> DayOutput:
    prev = ALL_OK if previous is None else previous
    return compute_day(
        DayInputs(
            day=DAY,
            operations=kwargs.pop("operations", CURRENT),
            aggregation=AGGREGATION,
            metric_profile=PROFILE,
            topology=kwargs.pop("topology", TOPOLOGY),
            results=results or {},
            previous=prev,
            **kwargs,
        )
    )


def test_all_ok_from_the_previous_day() -> None:
    out = run()
    full = DailyAR(100.0, 100.0, 1.0, 0.0, 0.0)
    assert set(out.endpoints) == {("SITE-A", "ARC-CE", "ce1"), ("SITE-A", "SRM", "se1")}
    assert {k: v.ar for k, v in out.sites.items()} == {"SITE-A": full}
    assert out.groups[("SITE-A", "compute")].ar == full
    assert out.services[("SITE-A", "SRM")].ar == full
    assert out.supergroups == {"NGI_X": SupergroupAR(100.0, 100.0)}
    assert out.named(out.sites["SITE-A"].timeline) == [(0, "OK")]
    assert len(out.metrics) == 3


def test_missing_data_and_the_seed_at_midnight() -> None:
    out = run(
        results={
            ("ce1", "ARC-CE", "m2"): [R(at(6), "OK")],
            ("se1", "SRM", "s1"): [R(at(3), "OK"), R(at(8), "WARNING")],
        },
        # m1 seeded OK; m2 has no previous result: MISSING until 06:00; s1 seeded CRITICAL
        previous={("ce1", "ARC-CE", "m1"): "OK", ("se1", "SRM", "s1"): "CRITICAL"},
    )
    # ce1 = m1 & m2: MISSING 00-06, OK 06-24: A = R = 18/(24-6) = 100, unknown 6/24 = 0.25
    assert out.endpoints[("SITE-A", "ARC-CE", "ce1")].ar == DailyAR(100.0, 100.0, 0.75, 0.25, 0.0)
    # se1: CRITICAL 00-03, OK 03-08, WARNING 08-24: A = R = 21/24 = 87.5
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar == DailyAR(87.5, 87.5, 0.875, 0.0, 0.0)
    # site = ce1 & se1: 00-03 MISSING & CRITICAL = CRITICAL, 03-06 MISSING & OK = MISSING,
    # 06-08 OK, 08-24 WARNING: up 18 h, unknown 3 h: A = R = 18/21 = 85.714285.. -> 85.71429
    site = out.sites["SITE-A"]
    assert out.named(site.timeline) == [
        (0, "CRITICAL"),
        (3 * 3600, "MISSING"),
        (6 * 3600, "OK"),
        (8 * 3600, "WARNING"),
    ]
    assert site.ar == DailyAR(85.71429, 85.71429, 0.75, 0.125, 0.0)


def test_a_metric_without_any_data_is_missing_all_day() -> None:
    out = run(previous={("ce1", "ARC-CE", "m1"): "OK", ("se1", "SRM", "s1"): "OK"})
    # ce1 = OK & MISSING = MISSING all day: undefined
    assert out.endpoints[("SITE-A", "ARC-CE", "ce1")].ar == DailyAR(-1.0, -1.0, 0.0, 1.0, 0.0)
    assert out.sites["SITE-A"].ar.availability == -1.0
    assert out.supergroups["NGI_X"] == SupergroupAR(None, None)


def test_every_status_and_results_outside_the_day() -> None:
    s1 = ("se1", "SRM", "s1")
    out = run(
        results={
            s1: [
                R(at(0) - timedelta(seconds=1), "CRITICAL"),  # previous day: ignored
                R(at(4), "WARNING"),
                R(at(8), "UNKNOWN"),
                R(at(12), "MISSING"),
                R(at(16), "CRITICAL"),
                R(at(20), "BOGUS"),  # not a state of the profile: its unknown default
                R(at(24), "CRITICAL"),  # the next day: ignored
            ]
        }
    )
    # se1: OK 4 h, WARNING 4 h, UNKNOWN 4 h, MISSING 4 h, CRITICAL 4 h, UNKNOWN 4 h
    # up 8 h, unknown 12 h: A = R = 8/12 = 66.666.. -> 66.66667
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar == DailyAR(
        66.66667, 66.66667, 0.33333, 0.5, 0.0
    )


def test_a_downtime_crossing_midnight_on_either_side() -> None:
    ce1 = ("ce1", "ARC-CE")
    out = run(
        downtimes={
            ce1: [
                Period(at(20, day=date(2026, 3, 1)), at(2)),  # to 02:00: DOWNTIME to 02:01
                Period(at(23), at(5, day=date(2026, 3, 3))),  # from 23:00 to the end
            ]
        }
    )
    # ce1 DOWNTIME 121 + 60 min: A = 1259/1440 = 87.430555.. -> 87.43056, R = 1259/1259
    ep = out.endpoints[("SITE-A", "ARC-CE", "ce1")]
    assert out.named(ep.timeline) == [
        (0, "DOWNTIME"),
        (2 * 3600 + 60, "OK"),
        (23 * 3600, "DOWNTIME"),
    ]
    assert ep.ar == DailyAR(87.43056, 100.0, 0.87431, 0.0, 0.12569)
    # only the endpoint's timeline is overwritten: se1's metric stays as it was
    assert out.named(out.metrics[("SITE-A", "ARC-CE", "ce1", "m1")]) == [(0, "OK")]
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar.availability == 100.0


def test_overlapping_downtimes_count_once() -> None:
    out = run(downtimes={("se1", "SRM"): [Period(at(9), at(11)), Period(at(10), at(12))]})
    # DOWNTIME 09:00-12:01 = 181 min: A = 1259/1440 -> 87.43056, R = 100
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar == DailyAR(
        87.43056, 100.0, 0.87431, 0.0, 0.12569
    )


def _legacy_case(ops: OperationsTable) -> DayOutput:
    # ce1 (compute) in downtime 08:00-18:59 -> DOWNTIME 08:00-19:00 (660 min); se1 (storage)
    # CRITICAL 10:00-15:00 (300 min), under that downtime
    return run(
        results={("se1", "SRM", "s1"): [R(at(10), "CRITICAL"), R(at(15), "OK")]},
        downtimes={("ce1", "ARC-CE"): [Period(at(8), at(18, 59))]},
        operations=ops,
    )


def test_a_different_truth_table_loaded_at_run_time_changes_the_result() -> None:
    # site = compute AND storage. Current table, CRITICAL AND DOWNTIME = CRITICAL:
    #   08-10 DOWNTIME, 10-15 CRITICAL, 15-19 DOWNTIME, OK 780 min, down 360 min
    #   A = 780/1440 = 54.1666.. -> 54.16667; R = 780/(1440-360) = 72.2222.. -> 72.22222
    current = _legacy_case(CURRENT).sites["SITE-A"]
    assert current.ar == DailyAR(54.16667, 72.22222, 0.54167, 0.0, 0.25)
    # legacy table, CRITICAL AND DOWNTIME = DOWNTIME: DOWNTIME 08-19 (660 min), OK 780 min
    #   A = 780/1440 -> 54.16667; R = 780/(1440-660) = 100
    legacy = _legacy_case(LEGACY).sites["SITE-A"]
    assert legacy.ar == DailyAR(54.16667, 100.0, 0.54167, 0.0, 0.45833)


def test_an_excluded_metric_for_half_a_day() -> None:
    # s1 (se1's only metric) excluded 00:00-11:59 -> EXCLUDED 00:00-12:00, OK after:
    # A = R = 12/24 = 50; the site (ce1 OK & se1) is OK all day: EXCLUDED op X = X
    rec = Recomputations(
        metrics=(MetricExclusion("s1", Period(at(0) - timedelta(hours=3), at(11, 59))),)
    )
    out = run(recomputations=rec)
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar == DailyAR(50.0, 50.0, 0.5, 0.0, 0.0)
    assert out.sites["SITE-A"].ar.availability == 100.0
    # an exclusion naming another host changes nothing
    other = MetricExclusion("s1", Period(at(0), at(11, 59)), hostname="se2")
    assert (
        run(recomputations=Recomputations(metrics=(other,)))
        .endpoints[("SITE-A", "SRM", "se1")]
        .ar.availability
        == 100.0
    )


def test_an_excluded_site_counts_unknown() -> None:
    whole = Recomputations(sites=(SiteExclusion("SITE-A", Period(at(0), at(23, 59, 59))),))
    out = run(recomputations=whole)
    assert out.sites["SITE-A"].ar == DailyAR(-1.0, -1.0, 0.0, 1.0, 0.0)
    assert out.named(out.sites["SITE-A"].timeline) == [(0, "OK")]  # its status is untouched
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar.availability == 100.0
    assert out.supergroups["NGI_X"] == SupergroupAR(None, None)
    # 00:00-05:59 -> UNKNOWN 00:00-06:00, OK 06:00-07:00, the site's CRITICAL 07:00-10:00:
    # A = R = 15/18 = 83.333.. -> 83.33333
    half = Recomputations(sites=(SiteExclusion("SITE-A", Period(at(0), at(5, 59))),))
    out = run(
        results={("se1", "SRM", "s1"): [R(at(7), "CRITICAL"), R(at(10), "OK")]},
        recomputations=half,
    )
    assert out.sites["SITE-A"].ar == DailyAR(83.33333, 83.33333, 0.625, 0.25, 0.0)


def test_an_excluded_monitoring_source() -> None:
    s1 = ("se1", "SRM", "s1")
    results = {
        s1: [
            R(at(10), "CRITICAL", "mon-bad.example.org"),
            R(at(11), "OK", "mon-bad.example.org"),
            R(at(13), "CRITICAL", "mon-good.example.org"),
            R(at(13, 30), "OK", "mon-good.example.org"),
        ]
    }
    # without the exclusion: CRITICAL 1.5 h: A = 22.5/24 = 93.75
    assert run(results=results).endpoints[("SITE-A", "SRM", "se1")].ar.availability == 93.75
    # mon-bad excluded 09:00-12:00: its results are dropped, CRITICAL 0.5 h: 23.5/24 = 97.91667
    rec = Recomputations(sources=(SourceExclusion("mon-bad.example.org", Period(at(9), at(12))),))
    assert rec.source_excluded("mon-bad.example.org", at(12))
    assert not rec.source_excluded("mon-bad.example.org", at(12, 0, 1))
    out = run(results=results, recomputations=rec)
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar.availability == 97.91667


def test_status_changes_at_each_level() -> None:
    s1 = ("se1", "SRM", "s1")
    results = {s1: [R(at(6), "CRITICAL"), R(at(12, 30), "OK")]}
    # the metric forced OK 06:00-11:59: the CRITICAL in force at 11:59 resumes at 12:00 until
    # 12:30: A = 23.5/24 = 97.91667
    metric = StatusChange("OK", Period(at(6), at(11, 59)), metric="s1", hostname="se1")
    out = run(results=results, recomputations=Recomputations(status_changes=(metric,)))
    assert out.sites["SITE-A"].ar.availability == 97.91667
    # the endpoint ce1 forced CRITICAL 00:00-05:59 -> CRITICAL 00:00-06:00 (6 h): A = 75
    endpoint = StatusChange("CRITICAL", Period(at(0), at(5, 59)), hostname="ce1")
    out = run(recomputations=Recomputations(status_changes=(endpoint,)))
    assert out.endpoints[("SITE-A", "ARC-CE", "ce1")].ar.availability == 75.0
    assert out.sites["SITE-A"].ar.availability == 75.0
    # the service SRM forced UNKNOWN for 12 h: the service and the site A = 12/12 = 100,
    # unknown 0.5, the endpoint untouched
    service = StatusChange("UNKNOWN", Period(at(12), at(23, 59, 59)), service="SRM", site="SITE-A")
    out = run(recomputations=Recomputations(status_changes=(service,)))
    assert out.services[("SITE-A", "SRM")].ar == DailyAR(100.0, 100.0, 0.5, 0.5, 0.0)
    assert out.endpoints[("SITE-A", "SRM", "se1")].ar.unknown == 0.0
    # the site forced DOWNTIME 00:00-05:59 -> 6 h down: A = 75, R = 100
    site = StatusChange("DOWNTIME", Period(at(0), at(5, 59)), site="SITE-A")
    out = run(recomputations=Recomputations(status_changes=(site,)))
    assert out.sites["SITE-A"].ar == DailyAR(75.0, 100.0, 0.75, 0.0, 0.25)


def test_services_fold_their_endpoints_and_ngis_weigh_their_sites() -> None:
    topology = Topology(
        (
            Endpoint("ce1", "ARC-CE", "SITE-A"),
            Endpoint("ce2", "ARC-CE", "SITE-A"),
            Endpoint("se1", "SRM", "SITE-A"),
            Endpoint("se9", "SRM", "SITE-B"),
        ),
        {"SITE-A": "NGI_X", "SITE-B": "NGI_X"},
    )
    previous = {
        ("ce1", "ARC-CE", "m1"): "CRITICAL",
        ("ce1", "ARC-CE", "m2"): "OK",
        ("ce2", "ARC-CE", "m1"): "OK",
        ("ce2", "ARC-CE", "m2"): "OK",
        ("se1", "SRM", "s1"): "OK",
        ("se9", "SRM", "s1"): "OK",
    }
    results = {("se9", "SRM", "s1"): [R(at(12), "CRITICAL")]}
    out = run(results=results, previous=previous, topology=topology, weights={"SITE-A": 9.0})
    # ce1 CRITICAL, ce2 OK: the ARC-CE service = ce1 OR ce2 = OK; SITE-A all OK
    assert out.endpoints[("SITE-A", "ARC-CE", "ce1")].ar.availability == 0.0
    assert out.services[("SITE-A", "ARC-CE")].ar.availability == 100.0
    # SITE-B: storage only, CRITICAL from 12:00: A = 50
    assert out.sites["SITE-B"].ar.availability == 50.0
    # NGI_X = (100 x (9+1) + 50 x (0+1)) / 11 = 95.4545..
    assert out.supergroups["NGI_X"] == SupergroupAR(1050 / 11, 1050 / 11)


def test_a_day_still_running_fills_nothing_after_now() -> None:
    # now 11:00, downtime 10:00-12:00: DOWNTIME from 10:00, no resume point placed
    out = run(downtimes={("se1", "SRM"): [Period(at(10), at(12))]}, now=at(11))
    assert out.named(out.endpoints[("SITE-A", "SRM", "se1")].timeline) == [
        (0, "OK"),
        (10 * 3600, "DOWNTIME"),
    ]
    # a `now` past the day is no limit
    out = run(downtimes={("se1", "SRM"): [Period(at(10), at(12))]}, now=at(30))
    assert len(out.endpoints[("SITE-A", "SRM", "se1")].timeline) == 3


def test_recomputations_of_another_site_leave_this_one_alone() -> None:
    topology = Topology(
        (Endpoint("se1", "SRM", "SITE-A"), Endpoint("se2", "SRM", "SITE-C")),
        {"SITE-A": "NGI_X"},  # SITE-C belongs to no NGI
    )
    whole = Period(at(0), at(23, 59, 59))
    rec = Recomputations(
        sites=(SiteExclusion("SITE-C", whole),),
        status_changes=(StatusChange("CRITICAL", whole, site="SITE-C"),),
    )
    out = run(
        previous={("se1", "SRM", "s1"): "OK", ("se2", "SRM", "s1"): "OK"},
        topology=topology,
        recomputations=rec,
    )
    assert out.sites["SITE-A"].ar.availability == 100.0
    assert out.named(out.sites["SITE-C"].timeline) == [(0, "CRITICAL")]
    assert out.sites["SITE-C"].ar.availability == -1.0  # excluded: UNKNOWN in its A/R
    assert out.supergroups == {"NGI_X": SupergroupAR(100.0, 100.0)}
