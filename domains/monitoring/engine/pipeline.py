"""One report-day, ARGO's batch job in one function (reference §3.2, `ArgoMultiJob`):

1. metric timelines: each expected metric (topology endpoint x metric profile) from its
   results of the day, seeded at 00:00 by the previous day's last result, MISSING without
   either; results of excluded monitoring sources dropped; excluded metrics EXCLUDED;
2. endpoint timelines: the metrics folded with `metric_operation`, then each downtime of
   (hostname, service type) overwrites it (resuming at end + 1 minute);
3. service timelines per site: the endpoints of a type folded with the service's operation;
4. group timelines per site: the service types of a group folded with the group's operation;
5. site timelines: the groups folded with `profile_operation`; a site excluded by a
   recomputation counts its excluded periods UNKNOWN in its A/R;
6. supergroups (NGIs): the weight + 1 mean of their sites' A/R (`periods.supergroup_day`).

Status changes of recomputations overwrite the metric, endpoint, service or site timeline
they name (the most specific field set decides the level) before it is combined upwards.
Endpoints of a service type that the metric profile or the aggregation profile does not list
are left out, as ARGO's job leaves them out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from operator import itemgetter
from typing import NamedTuple

from domains.monitoring.engine.aggregation import AggregationSpec
from domains.monitoring.engine.integrate import Counted, DailyAR, calc_ar
from domains.monitoring.engine.operations import EXCLUDED, OperationsTable
from domains.monitoring.engine.periods import SupergroupAR, supergroup_day
from domains.monitoring.engine.timeline import (
    DAY,
    Timeline,
    day_start,
    fill,
    fold,
    metric_timeline,
    second_of,
)

MetricKey = tuple[str, str, str]  # (hostname, service type, metric)
_FIRST = itemgetter(0)


class Result(NamedTuple):
    """A metric result: `second` counts from the report day's 00:00 UTC (`result_at`)."""

    second: int
    status: str
    monitoring_host: str = ""


def result_at(day: date, timestamp: datetime, status: str, monitoring_host: str = "") -> Result:
    return Result(second_of(timestamp, day_start(day)), status, monitoring_host)


@dataclass(frozen=True)
class Period:
    """A closed interval [start, end] (ARGO's downtimes and recomputations)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Endpoint:
    hostname: str
    service: str  # service type
    site: str  # endpoint group


@dataclass(frozen=True)
class Topology:
    endpoints: tuple[Endpoint, ...]
    supergroups: Mapping[str, str] = field(default_factory=dict)  # site -> NGI


@dataclass(frozen=True)
class SiteExclusion:
    site: str
    period: Period


@dataclass(frozen=True)
class MetricExclusion:
    """ARGO's `exclude_metrics`: None matches any site, service type or host."""

    metric: str
    period: Period
    site: str | None = None
    service: str | None = None
    hostname: str | None = None


@dataclass(frozen=True)
class SourceExclusion:
    monitoring_host: str
    period: Period


@dataclass(frozen=True)
class StatusChange:
    """ARGO's `applied_status_changes`: the level is the most specific field given (metric,
    else hostname, else service, else site); the fields given must all match."""

    status: str
    period: Period
    site: str | None = None
    service: str | None = None
    hostname: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Recomputations:
    sites: tuple[SiteExclusion, ...] = ()
    metrics: tuple[MetricExclusion, ...] = ()
    sources: tuple[SourceExclusion, ...] = ()
    status_changes: tuple[StatusChange, ...] = ()

    def source_excluded(self, monitoring_host: str, moment: datetime) -> bool:
        """Whether a result published by `monitoring_host` at `moment` is dropped."""
        return any(
            s.monitoring_host == monitoring_host and s.period.start <= moment <= s.period.end
            for s in self.sources
        )


@dataclass(frozen=True)
class DayInputs:
    day: date
    operations: OperationsTable
    aggregation: AggregationSpec
    metric_profile: Mapping[str, Sequence[str]]  # service type -> metrics
    topology: Topology
    results: Mapping[MetricKey, Sequence[Result]]  # the day's results, any order
    # the status of the previous day's last result per metric, not from an excluded source
    # (`Recomputations.source_excluded` tells)
    previous: Mapping[MetricKey, str] = field(default_factory=dict)
    downtimes: Mapping[tuple[str, str], Sequence[Period]] = field(default_factory=dict)
    recomputations: Recomputations = Recomputations()
    weights: Mapping[str, float] = field(default_factory=dict)  # site -> weight (e.g. HEPSPEC)
    now: datetime | None = None  # for a day still running: nothing is filled after it


@dataclass(frozen=True)
class Item:
    timeline: Timeline
    ar: DailyAR


@dataclass(frozen=True)
class DayOutput:
    operations: OperationsTable
    metrics: dict[tuple[str, str, str, str], Timeline]  # (site, service, host, metric)
    endpoints: dict[tuple[str, str, str], Item]  # (site, service, host)
    services: dict[tuple[str, str], Item]  # (site, service)
    groups: dict[tuple[str, str], Item]  # (site, aggregation group)
    sites: dict[str, Item]
    supergroups: dict[str, SupergroupAR]

    def named(self, timeline: Timeline) -> list[tuple[int, str]]:
        return [(second, self.operations.name_of(status)) for second, status in timeline]


class _Day:
    """What every step needs: the day's clock and the profile's ints."""

    def __init__(self, inputs: DayInputs) -> None:
        self.start = day_start(inputs.day)
        ops = inputs.operations
        self.ops = ops
        self.now: int | None = None
        if inputs.now is not None and second_of(inputs.now, self.start) < DAY:
            self.now = second_of(inputs.now, self.start)
        self.unknown = ops.index(ops.defaults.unknown)
        self.missing = ops.index(ops.defaults.missing)
        self.down = ops.index(ops.defaults.down)
        self.codes = {name: ops.index(name) for name in (*ops.states, EXCLUDED)}

    def status(self, name: str) -> int:
        """A status the loaded profile lacks counts as its unknown default."""
        return self.codes.get(name, self.unknown)

    def fill(self, points: Timeline, period: Period, status: int) -> Timeline:
        start = second_of(period.start, self.start)
        end = second_of(period.end, self.start)
        return fill(points, start, end, status, self.now)


def _matches(wanted: str | None, value: str) -> bool:
    return wanted is None or wanted == value


def compute_day(inputs: DayInputs) -> DayOutput:
    d = _Day(inputs)
    ops, agg, rec = inputs.operations, inputs.aggregation, inputs.recomputations
    counted = Counted.of(ops)
    metric_cells = ops.cells(agg.metric_operation)
    service_ops = agg.service_operations()
    changes = rec.status_changes
    metric_changes = [c for c in changes if c.metric is not None]
    endpoint_changes = [c for c in changes if c.metric is None and c.hostname is not None]
    service_changes = [
        c for c in changes if c.metric is None and c.hostname is None and c.service is not None
    ]
    site_changes = [
        c
        for c in changes
        if c.metric is None and c.hostname is None and c.service is None and c.site is not None
    ]
    excluded_sources: dict[str, list[tuple[int, int]]] = {}
    for src in rec.sources:
        excluded_sources.setdefault(src.monitoring_host, []).append(
            (second_of(src.period.start, d.start), second_of(src.period.end, d.start))
        )
    code, unknown, missing = d.codes.get, d.unknown, d.missing

    metrics: dict[tuple[str, str, str, str], Timeline] = {}
    endpoints: dict[tuple[str, str, str], Item] = {}
    by_service: dict[tuple[str, str], list[tuple[str, Timeline]]] = {}
    for ep in inputs.topology.endpoints:
        host, service, site = ep.hostname, ep.service, ep.site
        expected = inputs.metric_profile.get(service)
        if not expected or service not in service_ops:
            continue
        folded: list[Timeline] = []
        for metric in expected:
            key = (host, service, metric)
            seconds: list[tuple[int, int]] = []
            for second, status, source in inputs.results.get(key, ()):
                if 0 <= second < DAY and not (
                    source in excluded_sources
                    and any(a <= second <= b for a, b in excluded_sources[source])
                ):
                    seconds.append((second, code(status, unknown)))
            seconds.sort(key=_FIRST)
            prev = inputs.previous.get(key)
            points = metric_timeline(
                seconds, None if prev is None else code(prev, unknown), missing
            )
            for ex in rec.metrics:
                if (
                    ex.metric == metric
                    and _matches(ex.site, site)
                    and _matches(ex.service, service)
                    and _matches(ex.hostname, host)
                ):
                    points = d.fill(points, ex.period, ops.excluded)
            for c in metric_changes:
                if (
                    c.metric == metric
                    and _matches(c.site, site)
                    and _matches(c.service, service)
                    and _matches(c.hostname, host)
                ):
                    points = d.fill(points, c.period, d.status(c.status))
            metrics[(site, service, host, metric)] = points
            folded.append(points)
        timeline = fold(folded, metric_cells)
        for period in inputs.downtimes.get((host, service), ()):
            timeline = d.fill(timeline, period, d.down)
        for c in endpoint_changes:
            if c.hostname == host and _matches(c.site, site) and _matches(c.service, service):
                timeline = d.fill(timeline, c.period, d.status(c.status))
        endpoints[(site, service, host)] = Item(timeline, calc_ar(timeline, counted))
        by_service.setdefault((site, service), []).append((host, timeline))

    services: dict[tuple[str, str], Item] = {}
    by_site: dict[str, dict[str, Timeline]] = {}
    for (site, service), members in sorted(by_service.items()):
        members.sort(key=_FIRST)
        timeline = fold([t for _, t in members], ops.cells(service_ops[service]))
        for c in service_changes:
            if c.service == service and _matches(c.site, site):
                timeline = d.fill(timeline, c.period, d.status(c.status))
        services[(site, service)] = Item(timeline, calc_ar(timeline, counted))
        by_site.setdefault(site, {})[service] = timeline

    groups: dict[tuple[str, str], Item] = {}
    sites: dict[str, Item] = {}
    for site, present in by_site.items():
        site_members: list[Timeline] = []
        for group in agg.groups:
            in_group = [present[s.name] for s in group.services if s.name in present]
            if not in_group:
                continue
            timeline = fold(in_group, ops.cells(group.operation))
            groups[(site, group.name)] = Item(timeline, calc_ar(timeline, counted))
            site_members.append(timeline)
        timeline = fold(site_members, ops.cells(agg.profile_operation))
        for c in site_changes:
            if c.site == site:
                timeline = d.fill(timeline, c.period, d.status(c.status))
        for_ar = timeline
        for excluded in rec.sites:
            if excluded.site == site:
                for_ar = d.fill(for_ar, excluded.period, d.unknown)
        sites[site] = Item(timeline, calc_ar(for_ar, counted))

    members_of: dict[str, list[tuple[float, float, float]]] = {}
    for site, item in sorted(sites.items()):
        ngi = inputs.topology.supergroups.get(site)
        if ngi is not None:
            members_of.setdefault(ngi, []).append(
                (item.ar.availability, item.ar.reliability, inputs.weights.get(site, 0.0))
            )
    supergroups = {ngi: supergroup_day(members) for ngi, members in members_of.items()}
    return DayOutput(ops, metrics, endpoints, services, groups, sites, supergroups)
