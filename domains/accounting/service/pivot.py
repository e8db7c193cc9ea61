"""The accounting portal's pivot tables over `accounting_grid_summary` (APEL's
HybridSuperSummaries), the one function GraphQL's `accounting` query and the portal's URL
API (gateway/compat/portal.py) both call.

A table is one metric summed over the summary rows of a month range, grouped by a row and a
column dimension (the site's NGI and country from the topology). Totals of a ratio metric
(`cpueff`) are ratios of the sums, never sums of ratios; percentages are of the grand total
(none for `cpueff`).

Access (issue 15; reference §5.3): the public sees aggregates only. Per-user figures — the
USER (DN) dimension, or a `detail` view (the portal's /vo_admin) — need Action.VIEW_USER_USAGE
on the query's VO, site or NGI (the policy in rules.py: the VO's managers, the site's
administrators, the NGI's managers; platform administrators always). `mine` restricts the
rows to the caller's own DNs (Action.VIEW_OWN_USAGE); a `withheld` DN (APEL's
MAY_WITHHOLD_DNS) is nobody's. The summaries keep the DN (GlobalUserName), as APEL's do."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import GridSummary
from domains.accounting.rules import AccountingRule, Action, UsageScope
from domains.common.authz import authorize
from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, Principal
from domains.identity import service as identity
from domains.topology.models import Country, Ngi, Site

LHC_VOS = ("alice", "atlas", "cms", "lhcb")
OPS_VOS = ("ops", "dteam")
MAX_MONTHS = 20 * 12
TOP = 10
MAX_CUSTOM_VOS = 100  # a custom group's VOs (an IN list; SQLite binds at most 32,766)
WITHHELD = "withheld"  # the DN of a record whose site withholds DNs (APEL's MAY_WITHHOLD_DNS)


class Metric(enum.Enum):
    NJOBS = "njobs"
    SUMCPU = "sumcpu"
    SUMELAP = "sumelap"
    NORMCPU = "normcpu"
    NORMELAP = "normelap"
    ELAP_PROCESSORS = "elap_processors"
    NORMELAP_PROCESSORS = "normelap_processors"
    CPUEFF = "cpueff"

    @property
    def is_duration(self) -> bool:
        return self not in (Metric.NJOBS, Metric.CPUEFF)


class Unit(enum.Enum):
    """What a duration metric is given in (seconds of the summaries divided by it)."""

    SECOND = "second"
    HOUR = "hour"
    DAY = "day"


UNIT_SECONDS = {Unit.SECOND: 1, Unit.HOUR: 3600, Unit.DAY: 86400}


class Dimension(enum.Enum):
    MONTH = "month"
    YEAR = "year"
    SITE = "site"
    NGI = "ngi"
    COUNTRY = "country"
    VO = "vo"
    SUBMIT_HOST = "submit_host"
    PROCESSORS = "processors"
    INFRASTRUCTURE = "infrastructure"
    USER = "user"  # the DN (GlobalUserName): per-user figures, not public


class LocalJobs(enum.Enum):
    """The portal's local-job filters: grid jobs only (anything not marked `local`), grid
    and local jobs, local jobs only."""

    ONLY_INFRA = "onlyinfrajobs"
    LOCAL_AND_INFRA = "localinfrajobs"
    ONLY_LOCAL = "onlylocaljobs"


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int

    @property
    def index(self) -> int:
        return self.year * 12 + self.month - 1

    @classmethod
    def parse(cls, argument: str, text: str) -> Month:
        """`YYYY-MM` (or `YYYY-M`); Invalid naming `argument`."""
        year, _, month = text.strip().partition("-")
        return cls.of(argument, year, month)

    @classmethod
    def of(cls, argument: str, year: str, month: str) -> Month:
        if not (year.isdigit() and month.isdigit() and len(year) == 4 and len(month) <= 2):
            raise Invalid(argument, AccountingRule.ACCOUNTING_PERIOD_MONTH_INVALID)
        found = cls(int(year), int(month))
        if not (1970 <= found.year <= 9999 and 1 <= found.month <= 12):
            raise Invalid(argument, AccountingRule.ACCOUNTING_PERIOD_MONTH_INVALID)
        return found

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class PivotQuery:
    metric: Metric
    rows: Dimension
    columns: Dimension
    start: Month
    end: Month
    unit: Unit = Unit.HOUR
    vo_group: str = "all"
    exclude_ops: bool = False
    local_jobs: LocalJobs = LocalJobs.ONLY_INFRA
    site: str | None = None
    ngi: str | None = None
    country: str | None = None
    egi_vos: tuple[str, ...] = field(default_factory=tuple)
    vo: str | None = None  # only this VO's rows
    mine: bool = False  # only the caller's own DNs' rows
    detail: bool = False  # a per-user view (the portal's /vo_admin) whatever the dimensions

    @property
    def per_user(self) -> bool:
        return self.detail or Dimension.USER in (self.rows, self.columns)


@dataclass(frozen=True, slots=True)
class Cell:
    row: str
    column: str
    value: float | None
    percent: float | None


@dataclass(frozen=True, slots=True)
class Total:
    key: str
    value: float | None
    percent: float | None


@dataclass(frozen=True, slots=True)
class Pivot:
    query: PivotQuery
    row_keys: list[str]
    column_keys: list[str]
    cells: list[Cell]
    row_totals: list[Total]
    column_totals: list[Total]
    total: float | None
    vos: tuple[str, ...] | None  # the VOs of the group; None: every VO

    def by_key(self) -> dict[tuple[str, str], Cell]:
        """The cells by (row, column), for renderers that walk the whole grid."""
        return {(c.row, c.column): c for c in self.cells}


def parse_metric(text: str) -> tuple[Metric, Unit]:
    """The portal's `<metric>` or `<metric>-<unit>` (`normcpu-hour`)."""
    name, _, unit_name = text.strip().lower().partition("-")
    try:
        metric = Metric(name)
    except ValueError:
        raise Invalid("metric", AccountingRule.ACCOUNTING_METRIC_UNKNOWN) from None
    if not unit_name:
        return metric, Unit.HOUR
    try:
        unit = Unit(unit_name)
    except ValueError:
        raise Invalid("metric", AccountingRule.ACCOUNTING_UNIT_UNKNOWN) from None
    if not metric.is_duration:
        raise Invalid("metric", AccountingRule.ACCOUNTING_UNIT_UNKNOWN)
    return metric, unit


def _vo_group(session: Session, query: PivotQuery, scope: list[Any]) -> tuple[str, ...] | None:
    group = query.vo_group.strip()
    lowered = group.lower()
    if lowered == "all":
        return None
    if lowered == "egi":
        return query.egi_vos or None
    if lowered == "lhc":
        return LHC_VOS
    if lowered == "top10":
        normcpu = func.sum(col(GridSummary.normalised_cpu_duration))
        ranked = session.execute(
            _joined(select(col(GridSummary.vo), normcpu))
            .where(*scope)
            .group_by(col(GridSummary.vo))
            .order_by(normcpu.desc(), col(GridSummary.vo))
            .limit(TOP)
        )
        return tuple(str(r[0]) for r in ranked)
    if lowered.startswith("custom-"):
        vos = tuple(v.strip() for v in group[len("custom-") :].split(",") if v.strip())
        if 0 < len(vos) <= MAX_CUSTOM_VOS:
            return vos
    raise Invalid("voGroup", AccountingRule.ACCOUNTING_VO_GROUP_UNKNOWN)


def _joined(statement: Any) -> Any:
    return (
        statement.select_from(GridSummary)
        .outerjoin(Site, col(Site.short_name) == col(GridSummary.site))
        .outerjoin(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .outerjoin(Country, col(Country.id) == col(Site.country_id))
    )


def _columns(dimension: Dimension) -> list[Any]:
    found: dict[Dimension, list[Any]] = {
        Dimension.MONTH: [col(GridSummary.year), col(GridSummary.month)],
        Dimension.YEAR: [col(GridSummary.year)],
        Dimension.SITE: [col(GridSummary.site)],
        Dimension.NGI: [func.coalesce(col(Ngi.name), "")],
        Dimension.COUNTRY: [func.coalesce(col(Country.name), "")],
        Dimension.VO: [col(GridSummary.vo)],
        Dimension.SUBMIT_HOST: [col(GridSummary.submit_host)],
        Dimension.PROCESSORS: [col(GridSummary.processors)],
        Dimension.INFRASTRUCTURE: [func.lower(col(GridSummary.infrastructure))],
        Dimension.USER: [col(GridSummary.global_user_name)],
    }
    return found[dimension]


def _key(dimension: Dimension, values: Sequence[Any]) -> tuple[Any, str]:
    """(what sorts it, what is shown)."""
    if dimension is Dimension.MONTH:
        return (values[0], values[1]), f"{values[0]:04d}-{values[1]:02d}"
    if dimension in (Dimension.YEAR, Dimension.PROCESSORS):
        return values[0], str(values[0])
    return str(values[0]), str(values[0])


@dataclass(slots=True)
class _Sums:
    """The summed columns one value of any metric is computed from (seconds, HS06·s)."""

    njobs: int = 0
    sumcpu: int = 0
    sumelap: int = 0
    normcpu: int = 0
    normelap: int = 0
    elap_processors: int = 0
    normelap_processors: int = 0

    def add(self, other: _Sums) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def value(self, metric: Metric, unit: Unit) -> float | None:
        if metric is Metric.CPUEFF:
            if not self.normelap_processors:
                return None
            return 100.0 * self.normcpu / self.normelap_processors
        raw = int(getattr(self, metric.value))
        return float(raw) if metric is Metric.NJOBS else raw / UNIT_SECONDS[unit]


def _percent(value: float | None, total: float | None, metric: Metric) -> float | None:
    if metric is Metric.CPUEFF or value is None or not total:
        return None
    return 100.0 * value / total


def check(query: PivotQuery) -> None:
    """The arguments' rules, each Invalid naming its argument."""
    if query.rows is query.columns:
        raise Invalid("columns", AccountingRule.ACCOUNTING_DIMENSIONS_SAME)
    if query.start.index > query.end.index:
        raise Invalid("to", AccountingRule.ACCOUNTING_PERIOD_REVERSED)
    if query.end.index - query.start.index + 1 > MAX_MONTHS:
        raise Invalid("to", AccountingRule.ACCOUNTING_PERIOD_TOO_LONG)
    if query.unit is not Unit.HOUR and not query.metric.is_duration:
        raise Invalid("unit", AccountingRule.ACCOUNTING_UNIT_UNKNOWN)


def own_dns(session: Session, principal: Principal) -> tuple[str, ...]:
    """The caller's DNs that records may carry (never `withheld`)."""
    return tuple(
        dn for dn in identity.certificate_dns(session, principal) if dn.lower() != WITHHELD
    )


def _authorize(session: Session, principal: Principal, query: PivotQuery) -> list[Any]:
    """What the caller may see of `query`, as conditions on the summaries; Unauthenticated
    or Forbidden (naming the rule) for what they may not."""
    if query.mine:
        authorize(session, principal, Action.VIEW_OWN_USAGE)
        return [col(GridSummary.global_user_name).in_(own_dns(session, principal))]
    if query.per_user:
        scope = UsageScope(vo=query.vo, site=query.site, ngi=query.ngi)
        authorize(session, principal, Action.VIEW_USER_USAGE, scope)
    return []


def pivot(session: Session, query: PivotQuery, principal: Principal = ANONYMOUS) -> Pivot:
    """The table of `query` (see the module's docstring) as `principal` may see it;
    Invalid for a bad argument, Unauthenticated or Forbidden for a view not theirs."""
    check(query)
    allowed = _authorize(session, principal, query)
    period = (col(GridSummary.year) * 12 + col(GridSummary.month) - 1).between(
        query.start.index, query.end.index
    )
    infrastructure = func.lower(col(GridSummary.infrastructure))
    scope: list[Any] = [period, *allowed]
    if query.local_jobs is LocalJobs.ONLY_INFRA:
        scope.append(infrastructure != "local")
    elif query.local_jobs is LocalJobs.ONLY_LOCAL:
        scope.append(infrastructure == "local")
    if query.site is not None:
        scope.append(col(GridSummary.site) == query.site)
    if query.ngi is not None:
        scope.append(col(Ngi.name) == query.ngi)
    if query.country is not None:
        scope.append(or_(col(Country.name) == query.country, col(Country.code) == query.country))
    if query.vo is not None:
        scope.append(col(GridSummary.vo) == query.vo)
    if query.exclude_ops:
        scope.append(col(GridSummary.vo).not_in(OPS_VOS))
    vos = _vo_group(session, query, scope)
    where = and_(*scope, col(GridSummary.vo).in_(vos)) if vos is not None else and_(*scope)

    processors = case((col(GridSummary.processors) > 0, col(GridSummary.processors)), else_=1)
    sums = [
        func.sum(col(GridSummary.number_of_jobs)),
        func.sum(col(GridSummary.cpu_duration)),
        func.sum(col(GridSummary.wall_duration)),
        func.sum(col(GridSummary.normalised_cpu_duration)),
        func.sum(col(GridSummary.normalised_wall_duration)),
        func.sum(col(GridSummary.wall_duration) * processors),
        func.sum(col(GridSummary.normalised_wall_duration) * processors),
    ]
    row_cols, column_cols = _columns(query.rows), _columns(query.columns)
    groups = [*row_cols, *column_cols]
    statement = _joined(select(*groups, *sums)).where(where).group_by(*groups)
    cells: dict[tuple[str, str], _Sums] = {}
    rows: dict[str, tuple[Any, _Sums]] = {}
    columns: dict[str, tuple[Any, _Sums]] = {}
    grand = _Sums()
    for found in session.execute(statement):
        values = list(found)
        row_sort, row = _key(query.rows, values[: len(row_cols)])
        column_sort, column = _key(query.columns, values[len(row_cols) : len(groups)])
        part = _Sums(*(int(v or 0) for v in values[len(groups) :]))
        cells.setdefault((row, column), _Sums()).add(part)
        rows.setdefault(row, (row_sort, _Sums()))[1].add(part)
        columns.setdefault(column, (column_sort, _Sums()))[1].add(part)
        grand.add(part)
    metric, unit = query.metric, query.unit
    total = grand.value(metric, unit) if rows else None
    row_keys = [k for k, _ in sorted(rows.items(), key=lambda item: item[1][0])]
    column_keys = [k for k, _ in sorted(columns.items(), key=lambda item: item[1][0])]

    def totals(keys: list[str], found: dict[str, tuple[Any, _Sums]]) -> list[Total]:
        out = []
        for key in keys:
            value = found[key][1].value(metric, unit)
            out.append(Total(key, value, _percent(value, total, metric)))
        return out

    table = []
    for row in row_keys:
        for column in column_keys:
            if (row, column) in cells:
                value = cells[row, column].value(metric, unit)
                table.append(Cell(row, column, value, _percent(value, total, metric)))
    return Pivot(
        query=query,
        row_keys=row_keys,
        column_keys=column_keys,
        cells=table,
        row_totals=totals(row_keys, rows),
        column_totals=totals(column_keys, columns),
        total=total,
        vos=vos,
    )
