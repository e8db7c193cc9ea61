"""The accounting portal's pivot tables over `accounting_grid_summary` (APEL's
HybridSuperSummaries; `Metric`) and `accounting_cloud_usage_summary` (`CloudMetric`), the one
function GraphQL's `accounting` and `cloudAccounting` and the portal's URL API
(gateway/compat/portal.py) all call.

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
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.models import CloudUsageSummary, GridSummary
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

    @property
    def is_ratio(self) -> bool:
        return self is Metric.CPUEFF


class CloudMetric(enum.Enum):
    """The portal's cloud metrics that the cloud summaries hold (`cost` is not: no cloud
    record carries a price). Durations in hours unless a unit says otherwise; memory in
    GB (the records' MB / 1024), disk and network in GB as sent."""

    SUM_ELAP_PROCESSORS = "sum_elap_processors"  # wall time × vCPUs (0 vCPUs counted as 1)
    SUM_ELAP = "sum_elap"
    VM_NUM = "vm_num"
    PROCESSORS = "processors"  # vCPUs × VMs
    MEMORY = "mem"  # the portal's `mem-GByte`
    DISK = "disk"
    NET_IN = "net_in"
    NET_OUT = "net_out"

    @property
    def is_duration(self) -> bool:
        return self in (CloudMetric.SUM_ELAP_PROCESSORS, CloudMetric.SUM_ELAP)

    @property
    def is_ratio(self) -> bool:
        return False


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
    metric: Metric | CloudMetric  # which summaries: grid (Metric) or cloud (CloudMetric)
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
    vos: tuple[str, ...] | None = None  # only these VOs' rows (the portal's /wlcg: LHC_VOS)
    mine: bool = False  # only the caller's own DNs' rows
    detail: bool = False  # a per-user view (the portal's /vo_admin) whatever the dimensions
    among: tuple[str, ...] | None = None  # only these rows (SITE or NGI): a batch of a loader

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


def parse_metric(text: str, *, cloud: bool = False) -> tuple[Metric | CloudMetric, Unit]:
    """The portal's `<metric>` or `<metric>-<unit>` (`normcpu-hour`); with `cloud`, one of
    its cloud metrics (`mem-GByte` is memory in GB)."""
    lowered = text.strip().lower()
    name, _, unit_name = lowered.partition("-")
    metric: Metric | CloudMetric
    try:
        if not cloud:
            metric = Metric(name)
        elif lowered == "mem-gbyte":
            return CloudMetric.MEMORY, Unit.HOUR
        else:
            metric = CloudMetric(name)
    except ValueError:
        rule = AccountingRule
        unknown = rule.ACCOUNTING_CLOUD_METRIC_UNKNOWN if cloud else rule.ACCOUNTING_METRIC_UNKNOWN
        raise Invalid("metric", unknown) from None
    if not unit_name:
        return metric, Unit.HOUR
    try:
        unit = Unit(unit_name)
    except ValueError:
        raise Invalid("metric", AccountingRule.ACCOUNTING_UNIT_UNKNOWN) from None
    if not metric.is_duration:
        raise Invalid("metric", AccountingRule.ACCOUNTING_UNIT_UNKNOWN)
    return metric, unit


@dataclass(frozen=True, slots=True)
class _Source:
    """One summary table as the pivot reads it: its columns, the sums a value of any of its
    metrics is computed from (by name: seconds, HS06·s, GB, MB), and what ranks `top10`."""

    table: Any
    dimensions: dict[Dimension, list[Any]]
    sums: dict[str, Any]
    rank: Any
    local: Any  # what marks a local (non-infrastructure) row; None: every row is infrastructure


def _grid() -> _Source:
    t = GridSummary
    processors = case((col(t.processors) > 0, col(t.processors)), else_=1)
    return _Source(
        table=t,
        dimensions={
            Dimension.SUBMIT_HOST: [col(t.submit_host)],
            Dimension.PROCESSORS: [col(t.processors)],
            Dimension.INFRASTRUCTURE: [func.lower(col(t.infrastructure))],
        },
        sums={
            "njobs": func.sum(col(t.number_of_jobs)),
            "sumcpu": func.sum(col(t.cpu_duration)),
            "sumelap": func.sum(col(t.wall_duration)),
            "normcpu": func.sum(col(t.normalised_cpu_duration)),
            "normelap": func.sum(col(t.normalised_wall_duration)),
            "elap_processors": func.sum(col(t.wall_duration) * processors),
            "normelap_processors": func.sum(col(t.normalised_wall_duration) * processors),
        },
        rank=func.sum(col(t.normalised_cpu_duration)),
        local=func.lower(col(t.infrastructure)) == "local",
    )


def _cloud() -> _Source:
    t = CloudUsageSummary
    vcpus = case((col(t.cpu_count) > 0, col(t.cpu_count)), else_=1.0)
    elap_processors = func.sum(col(t.wall_duration) * vcpus)
    return _Source(
        table=t,
        dimensions={Dimension.PROCESSORS: [col(t.cpu_count)]},
        sums={
            "sum_elap_processors": elap_processors,
            "sum_elap": func.sum(col(t.wall_duration)),
            "vm_num": func.sum(col(t.number_of_vms)),
            "processors": func.sum(col(t.cpu_count) * col(t.number_of_vms)),
            "mem": func.sum(col(t.memory)),
            "disk": func.sum(col(t.disk)),
            "net_in": func.sum(col(t.network_inbound)),
            "net_out": func.sum(col(t.network_outbound)),
        },
        rank=elap_processors,
        local=None,
    )


def _source(metric: Metric | CloudMetric) -> _Source:
    return _cloud() if isinstance(metric, CloudMetric) else _grid()


def _vo_group(
    session: Session, query: PivotQuery, source: _Source, scope: list[Any], topology: bool
) -> tuple[str, ...] | None:
    group = query.vo_group.strip()
    lowered = group.lower()
    if lowered == "all":
        return None
    if lowered == "egi":
        return query.egi_vos or None
    if lowered == "lhc":
        return LHC_VOS
    if lowered == "top10":
        vo = col(source.table.vo)
        ranked = session.execute(
            joined(select(vo, source.rank), source.table, topology=topology)
            .where(*scope)
            .group_by(vo)
            .order_by(source.rank.desc(), vo)
            .limit(TOP)
        )
        return tuple(str(r[0]) for r in ranked)
    if lowered.startswith("custom-"):
        vos = tuple(v.strip() for v in group[len("custom-") :].split(",") if v.strip())
        if 0 < len(vos) <= MAX_CUSTOM_VOS:
            return vos
    raise Invalid("voGroup", AccountingRule.ACCOUNTING_VO_GROUP_UNKNOWN)


def joined(statement: Any, table: Any, *, topology: bool = True) -> Any:
    """`statement` over `table` (a summary table with `site`) and the site's NGI and country
    (`topology`; without, `table` alone: the joins are on unique keys and add no rows, and
    PostgreSQL drops them unasked, but SQLite looked up three rows for each summary row)."""
    if not topology:
        return statement.select_from(table)
    return (
        statement.select_from(table)
        .outerjoin(Site, col(Site.short_name) == col(table.site))
        .outerjoin(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .outerjoin(Country, col(Country.id) == col(Site.country_id))
    )


def _columns(source: _Source, dimension: Dimension) -> list[Any]:
    t = source.table
    common: dict[Dimension, list[Any]] = {
        Dimension.MONTH: [col(t.year), col(t.month)],
        Dimension.YEAR: [col(t.year)],
        Dimension.SITE: [col(t.site)],
        Dimension.NGI: [func.coalesce(col(Ngi.name), "")],
        Dimension.COUNTRY: [func.coalesce(col(Country.name), "")],
        Dimension.VO: [col(t.vo)],
        Dimension.USER: [col(t.global_user_name)],
    }
    found = common | source.dimensions
    if dimension not in found:  # the cloud summaries have no submit host nor local rows
        raise Invalid("rows", AccountingRule.ACCOUNTING_CLOUD_DIMENSION_UNKNOWN)
    return found[dimension]


def _key(dimension: Dimension, values: Sequence[Any]) -> tuple[Any, str]:
    """(what sorts it, what is shown)."""
    if dimension is Dimension.MONTH:
        return (values[0], values[1]), f"{values[0]:04d}-{values[1]:02d}"
    if dimension in (Dimension.YEAR, Dimension.PROCESSORS):
        value = values[0]
        if isinstance(value, float | Decimal) and value == int(value):
            value = int(value)  # a VM's 2.0 vCPUs is "2"
        return value, str(value)
    return str(values[0]), str(values[0])


def _number(value: Any) -> int | float:
    """A sum as Python gives it (PostgreSQL's SUM of BIGINT is NUMERIC: a Decimal)."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value  # type: ignore[no-any-return]


Sums = dict[str, int | float]


def _add(into: Sums, part: Sums) -> None:
    for name, value in part.items():
        into[name] = into.get(name, 0) + value


MB_PER_GB = 1024


def _value(sums: Sums, metric: Metric | CloudMetric, unit: Unit) -> float | None:
    if metric is Metric.CPUEFF:
        if not sums.get("normelap_processors"):
            return None
        return 100.0 * sums["normcpu"] / sums["normelap_processors"]
    raw = sums.get(metric.value, 0)
    if metric.is_duration:
        return raw / UNIT_SECONDS[unit]
    if metric is CloudMetric.MEMORY:
        return raw / MB_PER_GB
    return float(raw)


def _percent(
    value: float | None, total: float | None, metric: Metric | CloudMetric
) -> float | None:
    if metric.is_ratio or value is None or not total:
        return None
    return 100.0 * value / total


def check(query: PivotQuery) -> None:
    """The arguments' rules, each Invalid naming its argument."""
    if query.rows is query.columns:
        raise Invalid("columns", AccountingRule.ACCOUNTING_DIMENSIONS_SAME)
    check_period(query.start, query.end)
    if query.unit is not Unit.HOUR and not query.metric.is_duration:
        raise Invalid("unit", AccountingRule.ACCOUNTING_UNIT_UNKNOWN)


def check_period(start: Month, end: Month) -> None:
    """Invalid (naming `to`) unless `start`–`end` runs forward over at most MAX_MONTHS."""
    if start.index > end.index:
        raise Invalid("to", AccountingRule.ACCOUNTING_PERIOD_REVERSED)
    if end.index - start.index + 1 > MAX_MONTHS:
        raise Invalid("to", AccountingRule.ACCOUNTING_PERIOD_TOO_LONG)


def own_dns(session: Session, principal: Principal) -> tuple[str, ...]:
    """The caller's DNs that records may carry (never `withheld`)."""
    return tuple(
        dn for dn in identity.certificate_dns(session, principal) if dn.lower() != WITHHELD
    )


def _authorize(session: Session, principal: Principal, query: PivotQuery, table: Any) -> list[Any]:
    """What the caller may see of `query`, as conditions on the summaries (`table`);
    Unauthenticated or Forbidden (naming the rule) for what they may not."""
    if query.mine:
        authorize(session, principal, Action.VIEW_OWN_USAGE)
        return [col(table.global_user_name).in_(own_dns(session, principal))]
    if query.per_user:
        scope = UsageScope(vo=query.vo, site=query.site, ngi=query.ngi)
        authorize(session, principal, Action.VIEW_USER_USAGE, scope)
    return []


def _period(t: Any, start: Month, end: Month) -> Any:
    """The months from `start` to `end`, written on year and month themselves: PostgreSQL
    estimates how many rows that keeps from their statistics (on `year * 12 + month` it
    guessed 0.5%, and sorted a year's summaries on disk to group them instead of hashing)."""
    year, month = col(t.year), col(t.month)
    return and_(
        or_(year > start.year, and_(year == start.year, month >= start.month)),
        or_(year < end.year, and_(year == end.year, month <= end.month)),
    )


def pivot(session: Session, query: PivotQuery, principal: Principal = ANONYMOUS) -> Pivot:
    """The table of `query` (see the module's docstring) as `principal` may see it;
    Invalid for a bad argument, Unauthenticated or Forbidden for a view not theirs."""
    check(query)
    source = _source(query.metric)
    t = source.table
    row_cols = _columns(source, query.rows)
    try:
        column_cols = _columns(source, query.columns)
    except Invalid as refused:
        raise Invalid("columns", refused.rule) from None
    allowed = _authorize(session, principal, query, t)
    scope: list[Any] = [_period(t, query.start, query.end), *allowed]
    if query.local_jobs is LocalJobs.ONLY_INFRA and source.local is not None:
        scope.append(~source.local)
    elif query.local_jobs is LocalJobs.ONLY_LOCAL:
        scope.append(false() if source.local is None else source.local)
    if query.site is not None:
        scope.append(col(t.site) == query.site)
    if query.ngi is not None:
        scope.append(col(Ngi.name) == query.ngi)
    if query.country is not None:
        scope.append(or_(col(Country.name) == query.country, col(Country.code) == query.country))
    if query.vo is not None:
        scope.append(col(t.vo) == query.vo)
    if query.vos is not None:  # before the VO group: top10 ranks within these
        scope.append(col(t.vo).in_(query.vos))
    if query.among is not None:
        named = col(Ngi.name) if query.rows is Dimension.NGI else col(t.site)
        scope.append(named.in_(query.among))
    if query.exclude_ops:
        scope.append(col(t.vo).not_in(OPS_VOS))
    topology = bool(
        {query.rows, query.columns} & {Dimension.NGI, Dimension.COUNTRY}
        or query.ngi is not None
        or query.country is not None
        or (query.among is not None and query.rows is Dimension.NGI)
    )  # whether anything reads the site's NGI or country
    vos = _vo_group(session, query, source, scope, topology)
    where = and_(*scope, col(t.vo).in_(vos)) if vos is not None else and_(*scope)

    names = list(source.sums)
    groups = [*row_cols, *column_cols]
    statement = joined(select(*groups, *source.sums.values()), t, topology=topology)
    statement = statement.where(where).group_by(*groups)
    cells: dict[tuple[str, str], Sums] = {}
    rows: dict[str, tuple[Any, Sums]] = {}
    columns: dict[str, tuple[Any, Sums]] = {}
    grand: Sums = {}
    for found in session.execute(statement):
        values = list(found)
        row_sort, row = _key(query.rows, values[: len(row_cols)])
        column_sort, column = _key(query.columns, values[len(row_cols) : len(groups)])
        part = {n: _number(v) for n, v in zip(names, values[len(groups) :], strict=True)}
        _add(cells.setdefault((row, column), {}), part)
        _add(rows.setdefault(row, (row_sort, {}))[1], part)
        _add(columns.setdefault(column, (column_sort, {}))[1], part)
        _add(grand, part)
    metric, unit = query.metric, query.unit
    total = _value(grand, metric, unit) if rows else None
    row_keys = [k for k, _ in sorted(rows.items(), key=lambda item: item[1][0])]
    column_keys = [k for k, _ in sorted(columns.items(), key=lambda item: item[1][0])]

    def totals(keys: list[str], found: dict[str, tuple[Any, Sums]]) -> list[Total]:
        out = []
        for key in keys:
            value = _value(found[key][1], metric, unit)
            out.append(Total(key, value, _percent(value, total, metric)))
        return out

    table = []
    for row in row_keys:
        for column in column_keys:
            if (row, column) in cells:
                value = _value(cells[row, column], metric, unit)
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


# --- the usage of a batch of sites or NGIs (GraphQL's Site.usage and NGI.usage) -----------


class UsageBy(enum.Enum):
    """What a site's or an NGI's usage is broken down by (public dimensions only)."""

    MONTH = "month"
    YEAR = "year"
    VO = "vo"
    SITE = "site"

    @property
    def dimension(self) -> Dimension:
        return Dimension(self.value)


@dataclass(frozen=True, slots=True)
class Usage:
    total: float | None  # None: no rows (or CPUEFF of no time)
    parts: list[Total]  # by the breakdown asked for, percentages of `total`


NO_USAGE = Usage(None, [])


def check_usage(query: PivotQuery, by: UsageBy | None) -> None:
    """The arguments' rules for `usage` (before any statement), Invalid naming each."""
    if by is not None and by.dimension is query.rows:
        raise Invalid("by", AccountingRule.ACCOUNTING_DIMENSIONS_SAME)
    check(query)


def usage(
    session: Session, query: PivotQuery, names: Sequence[str], by: UsageBy | None
) -> dict[str, Usage]:
    """The public usage of each of `names` (the short names of sites, or NGIs' names, as
    `query.rows` says) in one statement: its total and, `by` a dimension, its parts. The
    batch's rows of the pivot table, each with percentages of its own total."""
    check_usage(query, by)
    columns = Dimension.YEAR if by is None else by.dimension
    found = pivot(session, replace(query, columns=columns, among=tuple(names), mine=False))
    metric = query.metric
    parts: dict[str, list[Total]] = {}
    totals = {t.key: t.value for t in found.row_totals}
    for cell in found.cells:
        share = _percent(cell.value, totals[cell.row], metric)
        parts.setdefault(cell.row, []).append(Total(cell.column, cell.value, share))
    return {
        name: Usage(total, parts.get(name, []) if by is not None else [])
        for name, total in totals.items()
    }
