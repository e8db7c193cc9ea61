"""The accounting portal's reports (`/wlcg/report/tier1|tier2|countries/...`,
`/report/disciplines/...`), over the pivot function (service/pivot.py, so the same access
rules: aggregates, public) and the reports' data (service/reportdata.py).

The real portal renders these from its own database; their columns are not published, so
these are ours (README says so):

- tier1 / tier2: a row per federation of that tier, each followed by a row per member site;
  countries: a row per country of the federations (both tiers), each followed by its
  federations' rows. Delivered is WLCG's measure of CPU against pledges: normalised
  wall-clock time × processors (HS06 hours, or days), of the LHC VOs (one column each, then
  their sum), grid jobs only. Pledge is the pledged HEPSPEC06 × the period's length (each
  month at its year's pledge; a year without a pledge counts 0; no pledge in the whole
  period: null), in the same unit, so that `Pledge %` = Delivered / Pledge × 100;
  `Pledged HS06` is the pledge's average over the period.
- disciplines: a row per discipline asked for, counting the VOs mapped to it and to the
  disciplines below it; `include_parent` adds a row for each discipline above one asked
  for. Months as columns (normalised CPU time in HS06 hours for htc, wall-clock × vCPUs in
  hours for cloud), then Total and Percent (of the Total row, which counts each VO once)."""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from domains.accounting.rules import AccountingRule as R
from domains.accounting.service import reportdata
from domains.accounting.service.pivot import (
    LHC_VOS,
    UNIT_SECONDS,
    CloudMetric,
    Dimension,
    Metric,
    Month,
    PivotQuery,
    Unit,
    check_period,
    pivot,
)
from domains.accounting.service.reportdata import Federation
from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, Principal


class ReportKind(enum.Enum):
    TIER1 = "tier1"
    TIER2 = "tier2"
    COUNTRIES = "countries"


TIER_COLUMNS = (
    "Level",
    "Federation",
    "Country",
    "Tier",
    *LHC_VOS,
    "Delivered",
    "Pledge",
    "Pledged HS06",
    "Pledge %",
)
DELIVERED = Metric.NORMELAP_PROCESSORS


@dataclass(frozen=True, slots=True)
class Report:
    """A report as the portal renders it: `rows` are objects keyed by `key` (their "id")
    and `columns`, the last a total row; `var` says what was asked."""

    name: str
    key: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    var: dict[str, Any] = field(default_factory=dict)


def months(start: Month, end: Month) -> list[Month]:
    return [Month(i // 12, i % 12 + 1) for i in range(start.index, end.index + 1)]


def _hours(month: Month) -> int:
    return calendar.monthrange(month.year, month.month)[1] * 24


def _pledge(fed: Federation, period: list[Month], unit: Unit) -> float | None:
    """The pledge's HS06 × the period's length in `unit` (None: no pledge in the period)."""
    if not any(fed.pledge_in(m.year) is not None for m in period):
        return None
    hours = sum((fed.pledge_in(m.year) or 0.0) * _hours(m) for m in period)
    return hours * 3600 / UNIT_SECONDS[unit]


def _sum(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return sum(found) if found else None


def _line(
    key: str,
    level: str,
    delivered: dict[str, float],
    pledge: float | None,
    seconds: float,
    unit: Unit,
    **about: Any,
) -> dict[str, Any]:
    total = sum(delivered.values())
    return {
        "id": key,
        "Level": level,
        "Federation": about.get("federation"),
        "Country": about.get("country"),
        "Tier": about.get("tier"),
        **{vo: delivered.get(vo, 0.0) for vo in LHC_VOS},
        "Delivered": total,
        "Pledge": pledge,
        "Pledged HS06": None if pledge is None else pledge * UNIT_SECONDS[unit] / seconds,
        "Pledge %": 100.0 * total / pledge if pledge else None,
    }


def _merge(parts: Iterable[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        for vo, value in part.items():
            out[vo] = out.get(vo, 0.0) + value
    return out


def tier_report(
    session: Session,
    kind: ReportKind,
    start: Month,
    end: Month,
    unit: Unit,
    principal: Principal = ANONYMOUS,
) -> Report:
    """The tier1, tier2 or countries report over `start`–`end` (see the module)."""
    if unit not in (Unit.HOUR, Unit.DAY):
        raise Invalid("unit", R.ACCOUNTING_REPORT_UNIT_UNKNOWN)
    check_period(start, end)
    tier = {ReportKind.TIER1: 1, ReportKind.TIER2: 2}.get(kind)
    feds = reportdata.federations(session, tier=tier)
    sites = sorted({s for f in feds for s in f.sites})
    by_site: dict[str, dict[str, float]] = {s: {} for s in sites}
    if sites:
        query = PivotQuery(
            metric=DELIVERED,
            rows=Dimension.SITE,
            columns=Dimension.VO,
            start=start,
            end=end,
            unit=unit,
            vos=LHC_VOS,
            among=tuple(sites),
        )
        for cell in pivot(session, query, principal).cells:
            by_site[cell.row][cell.column] = cell.value or 0.0
    period = months(start, end)
    seconds = float(sum(_hours(m) for m in period) * 3600)

    def fed_line(fed: Federation) -> dict[str, Any]:
        delivered = _merge(by_site[s] for s in fed.sites)
        about = {"federation": fed.name, "country": fed.country, "tier": fed.tier}
        pledge = _pledge(fed, period, unit)
        return _line(fed.name, "federation", delivered, pledge, seconds, unit, **about)

    rows: list[dict[str, Any]] = []
    if kind is ReportKind.COUNTRIES:
        for country in sorted({f.country for f in feds}):
            members = [f for f in feds if f.country == country]
            delivered = _merge(by_site[s] for f in members for s in f.sites)
            pledge = _sum(_pledge(f, period, unit) for f in members)
            rows.append(
                _line(country, "country", delivered, pledge, seconds, unit, country=country)
            )
            rows.extend(fed_line(f) for f in members)
    else:
        for fed in feds:
            rows.append(fed_line(fed))
            about = {"federation": fed.name, "country": fed.country, "tier": fed.tier}
            rows.extend(
                _line(s, "site", by_site[s], None, seconds, unit, **about) for s in fed.sites
            )
    pledge = _sum(_pledge(f, period, unit) for f in feds)
    rows.append(_line("Total", "total", _merge(by_site.values()), pledge, seconds, unit, tier=tier))
    return Report(
        name=kind.value,
        key="Name",
        columns=TIER_COLUMNS,
        rows=rows,
        var=_var(kind.value, start, end, unit, DELIVERED.value),
    )


def _var(name: str, start: Month, end: Month, unit: Unit, metric: str) -> dict[str, Any]:
    unit_name = f"{unit.value}s"  # the portal's path segment: hours, days
    return {"report": name, "from": str(start), "to": str(end), "unit": unit_name, "query": metric}


def _below(rows: list[reportdata.DisciplineRow]) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {r.name: [] for r in rows}
    for r in rows:
        if r.parent is not None:
            children[r.parent].append(r.name)
    return children


def discipline_report(
    session: Session,
    start: Month,
    end: Month,
    *,
    cloud: bool,
    include_parent: bool,
    names: list[str],
    principal: Principal = ANONYMOUS,
) -> Report:
    """The disciplines report over `start`–`end` (see the module)."""
    check_period(start, end)
    known = {r.name: r for r in reportdata.disciplines(session)}
    chosen: list[str] = []
    for name in names:
        if name not in known:
            raise Invalid(
                "disciplines", R.ACCOUNTING_DISCIPLINE_UNKNOWN, f"disciplines: no {name!r}"
            )
        if name not in chosen:
            chosen.append(name)
    if include_parent:
        for name in list(chosen):
            parent = known[name].parent
            while parent is not None:
                if parent not in chosen:
                    chosen.append(parent)
                parent = known[parent].parent
    children = _below(list(known.values()))

    def vos_of(name: str) -> set[str]:
        found = set(known[name].vos)
        for child in children[name]:
            found |= vos_of(child)
        return found

    subtree = {name: vos_of(name) for name in chosen}
    every = sorted(set().union(*subtree.values())) if subtree else []
    metric: Metric | CloudMetric = CloudMetric.SUM_ELAP_PROCESSORS if cloud else Metric.NORMCPU
    period = [str(m) for m in months(start, end)]
    by_vo: dict[str, dict[str, float]] = {}
    if every:
        query = PivotQuery(
            metric=metric,
            rows=Dimension.VO,
            columns=Dimension.MONTH,
            start=start,
            end=end,
            vos=tuple(every),
        )
        for cell in pivot(session, query, principal).cells:
            by_vo.setdefault(cell.row, {})[cell.column] = cell.value or 0.0

    def line(key: str, parent: str | None, vos: Iterable[str]) -> dict[str, Any]:
        members = sorted(vos)
        cells = {m: sum(by_vo.get(vo, {}).get(m, 0.0) for vo in members) for m in period}
        return {"id": key, "Parent": parent, "VOs": ";".join(members), **cells}

    total = line("Total", None, every)
    grand = sum(total[m] for m in period)
    rows = [line(name, known[name].parent, subtree[name]) for name in sorted(chosen)]
    for row in [*rows, total]:
        row["Total"] = sum(row[m] for m in period)
        row["Percent"] = 100.0 * row["Total"] / grand if grand else None
    return Report(
        name="disciplines",
        key="Discipline",
        columns=("Parent", "VOs", *period, "Total", "Percent"),
        rows=[*rows, total],
        var=_var("disciplines", start, end, Unit.HOUR, metric.value),
    )
