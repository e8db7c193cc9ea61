"""GraphQL types of the accounting portal's views: a pivot table of one metric."""

from __future__ import annotations

import strawberry

from domains.accounting.service.pivot import Dimension, LocalJobs, Metric, Pivot, Unit

AccountingMetricEnum = strawberry.enum(
    Metric,
    name="AccountingMetric",
    description="NJOBS: jobs; SUMCPU, SUMELAP: CPU and wall time; NORMCPU, NORMELAP: the same "
    "normalised (HS06); ELAP_PROCESSORS, NORMELAP_PROCESSORS: wall time (normalised) × "
    "processors; CPUEFF: NORMCPU / NORMELAP_PROCESSORS in percent.",
)
AccountingUnitEnum = strawberry.enum(
    Unit, name="AccountingUnit", description="What a duration metric is given in."
)
AccountingDimensionEnum = strawberry.enum(
    Dimension,
    name="AccountingDimension",
    description="What rows or columns are: MONTH (YYYY-MM), YEAR, SITE, NGI, COUNTRY (the "
    "site's, from the topology), VO, SUBMIT_HOST, PROCESSORS, INFRASTRUCTURE (grid, local).",
)
AccountingLocalJobsEnum = strawberry.enum(
    LocalJobs,
    name="AccountingLocalJobs",
    description="ONLY_INFRA: grid jobs (anything not marked local); LOCAL_AND_INFRA: grid and "
    "local jobs; ONLY_LOCAL: local jobs.",
)


@strawberry.input(description="Which summary rows an accounting table counts.")
class AccountingFilter:
    vo_group: str = strawberry.field(
        default="all",
        description="all, egi (OPSGRAPH_ACCOUNTING_EGI_VOS), lhc (alice, atlas, cms, lhcb), "
        "top10 (the ten VOs with the most normalised CPU in the range) or custom-<vo>[,<vo>…] "
        "(at most 100 VOs).",
    )
    exclude_ops_dteam: bool = strawberry.field(
        default=False, description="Leave out the ops and dteam VOs."
    )
    local_jobs: LocalJobs = LocalJobs.ONLY_INFRA
    site: str | None = strawberry.field(default=None, description="Only this site's rows.")
    ngi: str | None = strawberry.field(default=None, description="Only this NGI's sites.")
    country: str | None = strawberry.field(
        default=None, description="Only the sites of this country (name or code)."
    )


@strawberry.type(description="One cell: a row key's and a column key's value.")
class AccountingCell:
    row: str
    column: str
    value: float | None = strawberry.field(description="Null: undefined (CPUEFF of no time).")
    percent: float | None = strawberry.field(
        description="Percent of the grand total (null for CPUEFF)."
    )


@strawberry.type(description="A row's or a column's total.")
class AccountingTotal:
    key: str
    value: float | None
    percent: float | None = strawberry.field(
        description="Percent of the grand total (null for CPUEFF)."
    )


@strawberry.type(
    description="A pivot table of one metric: cells only where rows were found; totals of "
    "CPUEFF are ratios of the sums."
)
class AccountingPivot:
    metric: Metric
    unit: Unit | None = strawberry.field(description="Null for NJOBS and CPUEFF.")
    rows: list[str] = strawberry.field(description="The row keys, sorted.")
    columns: list[str] = strawberry.field(description="The column keys, sorted.")
    cells: list[AccountingCell]
    row_totals: list[AccountingTotal]
    column_totals: list[AccountingTotal]
    total: float | None = strawberry.field(description="The grand total (null: no rows).")
    vos: list[str] | None = strawberry.field(description="The VO group's VOs (null: every VO).")

    @classmethod
    def from_pivot(cls, found: Pivot) -> AccountingPivot:
        query = found.query
        return cls(
            metric=query.metric,
            unit=query.unit if query.metric.is_duration else None,
            rows=found.row_keys,
            columns=found.column_keys,
            cells=[
                AccountingCell(row=c.row, column=c.column, value=c.value, percent=c.percent)
                for c in found.cells
            ],
            row_totals=[
                AccountingTotal(key=t.key, value=t.value, percent=t.percent)
                for t in found.row_totals
            ],
            column_totals=[
                AccountingTotal(key=t.key, value=t.value, percent=t.percent)
                for t in found.column_totals
            ],
            total=found.total,
            vos=None if found.vos is None else list(found.vos),
        )
