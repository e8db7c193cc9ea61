"""Summaries, kept current cell by cell: a cell is a (site, year, month).

`refresh_cells` recomputes the given cells of a summary table from its source tables (SQL
GROUP BY over those cells only) and writes the difference: rows whose values changed are
updated (with `updated_at`), new ones inserted, vanished ones deleted, unchanged ones left
alone — so loading a message again changes nothing, and cells a message does not touch are
never read or written. `load_message` calls `refresh_loaded` inside its savepoint; `rebuild`
recomputes every table whole, for operators. On PostgreSQL the grid cells are refreshed by one
statement on the server (`_grid_refresh_pg`), the same computation as `_grid_rows`.

- Grid (APEL's HybridSuperSummaries): jobs grouped by APEL's key in the month of their
  EndTime; then site-sent summaries, normalised row by row, replace job-derived rows with an
  identical key; then site-sent normalised summaries (service level 0, as APEL copies them)
  replace both. Normalised = round(sum(max(duration, 0) × f)), f = service level / 250 for
  si2k, else the service level (HEPSPEC, HEPscore23 1:1; `custom` has level 1).
- Cloud: each VM row minus the VM's previous row (by measurement time) for wall, CPU and
  network, so a month holds what accrued in it; a cell is recomputed whole from the rows, so a
  VM gone from started to completed leaves no stale `started` row (APEL #217). Site-sent cloud
  summaries replace derived rows with the same key.
- Storage: per key, the records of the month's latest end time, summed."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    TextClause,
    and_,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from domains.accounting import models as m
from domains.accounting.formats import RecordKind
from domains.common.time import utcnow

Cell = tuple[str, int, int]  # (site, year, month)
Key = tuple[Any, ...]
CELLS_PER_STATEMENT = 200  # keeps the OR of cells well under the parameter limits

JOBS, SITE_SUMMARY, SITE_NORMALISED = "jobs", "site summary", "site normalised summary"
CLOUD_RECORDS, SITE_CLOUD_SUMMARY = "cloud records", "site cloud summary"
STORAGE_RECORDS = "storage records"

GRID_KEY = (
    "site", "year", "month", "global_user_name", "vo", "vo_group", "vo_role", "submit_host",
    "infrastructure", "service_level_type", "service_level", "node_count", "processors",
)  # fmt: skip
CLOUD_KEY = (
    "site", "year", "month", "cloud_compute_service", "global_user_name", "vo", "vo_group",
    "vo_role", "status", "image_id", "cpu_count", "benchmark_type", "benchmark",
)  # fmt: skip
STORAGE_KEY = (
    "site", "year", "month", "storage_system", "storage_share", "storage_media", "group_name",
)  # fmt: skip


def factor(service_level_type: str, service_level: float) -> float:
    """HS06 per unit of the benchmark: si2k / 250; HEPSPEC, HEPscore23 (and custom) 1:1."""
    return service_level / 250 if service_level_type.lower() == "si2k" else service_level


def normalised(duration: int | None, service_level_type: str, service_level: float) -> int:
    return _round(max(duration or 0, 0) * factor(service_level_type, service_level))


def _round(value: Any) -> int:
    """Half away from zero on both databases (the sums are never negative)."""
    return 0 if value is None else math.floor(float(value) + 0.5)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _cells_where(site: Any, year: Any, month: Any, cells: Sequence[Cell]) -> ColumnElement[bool]:
    return or_(false(), *(and_(site == s, year == y, month == mo) for s, y, mo in cells))


def _chunks(cells: Iterable[Cell]) -> Iterable[list[Cell]]:
    ordered = sorted(set(cells))
    for start in range(0, len(ordered), CELLS_PER_STATEMENT):
        yield ordered[start : start + CELLS_PER_STATEMENT]


def _write(
    session: Session,
    model: type[SQLModel],
    keys: Sequence[str],
    where: ColumnElement[bool] | None,
    computed: Mapping[Key, dict[str, Any]],
) -> None:
    """Make the table's rows under `where` equal to `computed`, touching only what differs."""
    table = model.__table__  # type: ignore[attr-defined]
    query = select(table) if where is None else select(table).where(where)
    existing = {tuple(r[k] for k in keys): r for r in session.execute(query).mappings()}
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, values in computed.items():
        old = existing.pop(key, None)
        if old is None:
            inserts.append({**values, "updated_at": now})
        elif any(old[c] != v for c, v in values.items()):
            updates.append({**values, "id": old["id"], "updated_at": now})
    gone = [r["id"] for r in existing.values()]
    for start in range(0, len(gone), 1000):
        session.execute(delete(table).where(table.c.id.in_(gone[start : start + 1000])))
    if updates:
        session.execute(update(model), updates)
    if inserts:
        session.execute(insert(table), inserts)


# --- grid ---------------------------------------------------------------------------------


def _positive(column: Any) -> Any:
    return case((column > 0, column), else_=0)


def _grid_rows(session: Session, cells: Sequence[Cell] | None) -> dict[Key, dict[str, Any]]:
    job = m.JobRecord.__table__.c  # type: ignore[attr-defined]
    si2k = func.lower(job.service_level_type) == "si2k"
    f = case((si2k, job.service_level / 250.0), else_=job.service_level)
    groups = (
        job.site, job.end_year, job.end_month, job.global_user_name, job.vo, job.vo_group,
        job.vo_role, job.submit_host, job.infrastructure_type, job.service_level_type,
        job.service_level, job.node_count, job.processors,
    )  # fmt: skip
    query = select(
        *groups,
        func.max(job.infrastructure_description),
        func.min(job.end_time),
        func.max(job.end_time),
        func.sum(job.wall_duration),
        func.sum(job.cpu_duration),
        func.sum(_positive(job.wall_duration) * f),
        func.sum(_positive(job.cpu_duration) * f),
        func.count(),
    ).group_by(*groups)
    if cells is not None:
        query = query.where(_cells_where(job.site, job.end_year, job.end_month, cells))
    rows: dict[Key, dict[str, Any]] = {}
    for r in session.execute(query):
        key = tuple(r[:13])
        rows[key] = dict(zip(GRID_KEY, key, strict=True)) | {
            "infrastructure_description": r[13],
            "earliest_end_time": r[14],
            "latest_end_time": r[15],
            "wall_duration": _int(r[16]),
            "cpu_duration": _int(r[17]),
            "normalised_wall_duration": _round(r[18]),
            "normalised_cpu_duration": _round(r[19]),
            "number_of_jobs": int(r[20]),
            "source": JOBS,
        }
    sent: tuple[tuple[Any, str], ...] = (
        (m.Summary.__table__, SITE_SUMMARY),  # type: ignore[attr-defined]
        (m.NormalisedSummary.__table__, SITE_NORMALISED),  # type: ignore[attr-defined]
    )
    for table, source in sent:
        query = select(table)
        if cells is not None:
            query = query.where(_cells_where(table.c.site, table.c.year, table.c.month, cells))
        for s in session.execute(query).mappings():
            row = _site_summary_row(s, source)
            rows[tuple(row[k] for k in GRID_KEY)] = row  # replaces an identical key
    return rows


def _site_summary_row(s: Any, source: str) -> dict[str, Any]:
    raw = source == SITE_SUMMARY
    level = s["service_level"] if raw else 0.0
    kind = s["service_level_type"]
    return {
        **{k: s[k] for k in GRID_KEY if k not in ("infrastructure", "service_level")},
        "infrastructure": s["infrastructure_type"] if raw else s["infrastructure"],
        "service_level": level,
        "infrastructure_description": s["infrastructure_description"],
        "earliest_end_time": s["earliest_end_time"],
        "latest_end_time": s["latest_end_time"],
        "wall_duration": s["wall_duration"],
        "cpu_duration": s["cpu_duration"],
        "normalised_wall_duration": (
            normalised(s["wall_duration"], kind, level) if raw else s["normalised_wall_duration"]
        ),
        "normalised_cpu_duration": (
            normalised(s["cpu_duration"], kind, level) if raw else s["normalised_cpu_duration"]
        ),
        "number_of_jobs": s["number_of_jobs"],
        "source": source,
    }


GRID_VALUES = (
    "infrastructure_description", "earliest_end_time", "latest_end_time", "wall_duration",
    "cpu_duration", "normalised_wall_duration", "normalised_cpu_duration", "number_of_jobs",
    "source",
)  # fmt: skip


def _grid_refresh_pg() -> TextClause:
    """PostgreSQL: `refresh_grid` in one statement, on the server: the cells' rows computed as
    `_grid_rows` computes them (the same sums, the same normalisation and replacement
    order: DISTINCT ON the key, the highest `priority` kept), vanished rows deleted, new ones
    inserted, and a row updated (with `updated_at`) only where its values differ. The cells
    are the unnested arrays, not an OR of triples, and each cell's jobs are aggregated in a
    LATERAL subquery: an index scan of that cell's rows whatever the planner estimates (a
    plain join of 30 cells was a scan of the whole table, 8.8 s at 10,000,000 jobs). (In
    Python: five round trips a message, and the rows read back and compared on the client.)"""
    keys = ", ".join(GRID_KEY)
    level = "CASE WHEN lower({t}.service_level_type) = 'si2k' THEN {t}.service_level / 250.0E0 "
    level += "ELSE {t}.service_level END"
    jobs, sent = level.format(t="j"), level.format(t="s")

    def in_cells(t: str, year: str = "year", month: str = "month") -> str:
        return f"JOIN cells c ON ({t}.site, {t}.{year}, {t}.{month}) = (c.site, c.year, c.month)"

    def same(a: str, b: str, columns: Sequence[str]) -> str:
        left, right = (", ".join(f"{t}.{k}" for k in columns) for t in (a, b))
        return f"({left}) = ({right})"

    job_columns = {
        "year": "end_year",
        "month": "end_month",
        "infrastructure": "infrastructure_type",
    }
    grouped = ", ".join(f"j.{job_columns.get(k, k)} AS {k}" for k in GRID_KEY)
    values = ", ".join(GRID_VALUES)
    changed = ", ".join(f"{k} = excluded.{k}" for k in (*GRID_VALUES, "updated_at"))
    old = ", ".join(f"accounting_grid_summary.{k}" for k in GRID_VALUES)
    new = ", ".join(f"excluded.{k}" for k in GRID_VALUES)
    common = "{t}.site, {t}.year, {t}.month, {t}.global_user_name, {t}.vo, {t}.vo_group, "
    common += "{t}.vo_role, {t}.submit_host"
    tail = "{t}.node_count, {t}.processors, {t}.infrastructure_description, "
    tail += "{t}.earliest_end_time, {t}.latest_end_time, {t}.wall_duration, {t}.cpu_duration"
    # every name is the models' and every literal ours; the cells are bound parameters
    return text(
        "WITH cells AS (SELECT * FROM unnest(CAST(:sites AS varchar[]), "  # noqa: S608
        "CAST(:years AS integer[]), CAST(:months AS integer[])) AS c(site, year, month)), "
        "sources AS (SELECT g.* FROM cells c CROSS JOIN LATERAL ("
        f"SELECT {grouped}, "
        "max(j.infrastructure_description) AS infrastructure_description, "
        "min(j.end_time) AS earliest_end_time, max(j.end_time) AS latest_end_time, "
        "CAST(sum(j.wall_duration) AS bigint) AS wall_duration, "
        "CAST(sum(j.cpu_duration) AS bigint) AS cpu_duration, "
        f"CAST(floor(sum(GREATEST(j.wall_duration, 0) * {jobs}) + 0.5) AS bigint) "
        "AS normalised_wall_duration, "
        f"CAST(floor(sum(GREATEST(j.cpu_duration, 0) * {jobs}) + 0.5) AS bigint) "
        "AS normalised_cpu_duration, "
        f"count(*) AS number_of_jobs, CAST('{JOBS}' AS varchar) AS source, 0 AS priority "
        "FROM accounting_job j "
        "WHERE (j.site, j.end_year, j.end_month) = (c.site, c.year, c.month) "
        f"GROUP BY {', '.join(str(i) for i in range(1, len(GRID_KEY) + 1))}) AS g "
        f"UNION ALL SELECT {common.format(t='s')}, s.infrastructure_type, s.service_level_type, "
        f"s.service_level, {tail.format(t='s')}, "
        f"CAST(floor(GREATEST(coalesce(s.wall_duration, 0), 0) * {sent} + 0.5) AS bigint), "
        f"CAST(floor(GREATEST(coalesce(s.cpu_duration, 0), 0) * {sent} + 0.5) AS bigint), "
        f"s.number_of_jobs, '{SITE_SUMMARY}', 1 FROM accounting_summary s {in_cells('s')} "
        f"UNION ALL SELECT {common.format(t='n')}, n.infrastructure, n.service_level_type, "
        f"0.0E0, {tail.format(t='n')}, n.normalised_wall_duration, n.normalised_cpu_duration, "
        f"n.number_of_jobs, '{SITE_NORMALISED}', 2 "
        f"FROM accounting_normalised_summary n {in_cells('n')}), "
        f"computed AS (SELECT DISTINCT ON ({keys}) * FROM sources "
        f"ORDER BY {keys}, priority DESC), "
        "gone AS (DELETE FROM accounting_grid_summary g USING cells c "
        "WHERE (g.site, g.year, g.month) = (c.site, c.year, c.month) AND NOT EXISTS "
        f"(SELECT FROM computed k WHERE {same('k', 'g', GRID_KEY)})) "
        f"INSERT INTO accounting_grid_summary ({keys}, {values}, updated_at) "
        f"SELECT {keys}, {values}, CAST(:now AS timestamptz) FROM computed "
        f"ON CONFLICT ({keys}) DO UPDATE SET {changed} "
        f"WHERE ({old}) IS DISTINCT FROM ({new})"
    )


_GRID_REFRESH_PG = _grid_refresh_pg()


def refresh_grid(session: Session, cells: Iterable[Cell]) -> None:
    wanted = sorted(set(cells))
    if not wanted:
        return
    if session.connection().dialect.name == "postgresql":
        sites, years, months = (list(column) for column in zip(*wanted, strict=True))
        values = {"sites": sites, "years": years, "months": months, "now": utcnow()}
        session.execute(_GRID_REFRESH_PG, values)
        # the statement bypasses the session: summary rows it holds are read again when used
        for held in list(session.identity_map.values()):
            if isinstance(held, m.GridSummary):
                session.expire(held)
        return
    _refresh_grid_rows(session, wanted)


def _refresh_grid_rows(session: Session, cells: Iterable[Cell]) -> None:
    """`refresh_grid` through Python: the cells' rows read, compared and written (SQLite)."""
    t = m.GridSummary.__table__.c  # type: ignore[attr-defined]
    for chunk in _chunks(cells):
        where = _cells_where(t.site, t.year, t.month, chunk)
        _write(session, m.GridSummary, GRID_KEY, where, _grid_rows(session, chunk))


# --- cloud --------------------------------------------------------------------------------


def _cloud_rows(session: Session, cells: Sequence[Cell] | None) -> dict[Key, dict[str, Any]]:
    vm = m.CloudRecord.__table__.c  # type: ignore[attr-defined]
    window = {"partition_by": vm.vm_uuid, "order_by": vm.measurement_time}

    def accrued(column: Any) -> Any:
        return (column - func.coalesce(func.lag(column).over(**window), 0)).label(column.name)

    same = (
        vm.site, vm.cloud_compute_service, vm.global_user_name, vm.vo, vm.vo_group,
        vm.vo_role, vm.status, vm.image_id, vm.cpu_count, vm.benchmark_type, vm.benchmark,
        vm.cloud_type, vm.start_time, vm.memory, vm.disk,
    )  # fmt: skip
    inner = select(
        *same,
        vm.measurement_year.label("year"),
        vm.measurement_month.label("month"),
        *(accrued(c) for c in (vm.wall_duration, vm.cpu_duration)),
        *(accrued(c) for c in (vm.network_inbound, vm.network_outbound)),
    )
    if cells is not None:
        # only the VMs with a row in the cells, but all their rows: the previous one counts
        in_cells = _cells_where(vm.site, vm.measurement_year, vm.measurement_month, cells)
        inner = inner.where(vm.vm_uuid.in_(select(vm.vm_uuid).where(in_cells)))
    d = inner.subquery().c
    groups = tuple(d[k] for k in CLOUD_KEY)
    query = select(
        *groups,
        func.max(d.cloud_type),
        func.min(d.start_time),
        func.max(d.start_time),
        *(func.sum(d[k]) for k in ("wall_duration", "cpu_duration", "network_inbound")),
        *(func.sum(d[k]) for k in ("network_outbound", "memory", "disk")),
        func.count(),
    ).group_by(*groups)
    if cells is not None:
        query = query.where(_cells_where(d.site, d.year, d.month, cells))
    rows: dict[Key, dict[str, Any]] = {}
    sums = ("wall_duration", "cpu_duration", "network_inbound", "network_outbound", "memory")
    for r in session.execute(query):
        key = tuple(r[:13])
        rows[key] = (
            dict(zip(CLOUD_KEY, key, strict=True))
            | {"cloud_type": r[13], "earliest_start_time": r[14], "latest_start_time": r[15]}
            | {name: _int(r[16 + i]) for i, name in enumerate((*sums, "disk"))}
            | {"number_of_vms": int(r[22]), "source": CLOUD_RECORDS}
        )
    sent = m.CloudSummary.__table__  # type: ignore[attr-defined]
    query = select(sent)
    if cells is not None:
        query = query.where(_cells_where(sent.c.site, sent.c.year, sent.c.month, cells))
    columns = [*CLOUD_KEY, "cloud_type", "earliest_start_time", "latest_start_time", *sums]
    for s in session.execute(query).mappings():
        row = {k: s[k] for k in (*columns, "disk", "number_of_vms")}
        rows[tuple(s[k] for k in CLOUD_KEY)] = row | {"source": SITE_CLOUD_SUMMARY}
    return rows


def refresh_cloud(session: Session, cells: Iterable[Cell]) -> None:
    t = m.CloudUsageSummary.__table__.c  # type: ignore[attr-defined]
    for chunk in _chunks(cells):
        where = _cells_where(t.site, t.year, t.month, chunk)
        _write(session, m.CloudUsageSummary, CLOUD_KEY, where, _cloud_rows(session, chunk))


def cloud_cells(session: Session, rows: Sequence[Mapping[str, Any]]) -> set[Cell]:
    """The cells of loaded VM rows, and for each the cell of that VM's next row: its
    difference to the loaded row changes too."""
    vm = m.CloudRecord.__table__.c  # type: ignore[attr-defined]
    loaded = {(r["vm_uuid"], r["measurement_year"], r["measurement_month"]) for r in rows}
    cells = {(r["site"], r["measurement_year"], r["measurement_month"]) for r in rows}
    uuids = sorted({u for u, _, _ in loaded})
    later: dict[str, list[tuple[int, int, str]]] = {}
    for start in range(0, len(uuids), 1000):
        query = select(vm.vm_uuid, vm.measurement_year, vm.measurement_month, vm.site).where(
            vm.vm_uuid.in_(uuids[start : start + 1000])
        )
        for uuid, year, month, site in session.execute(query):
            later.setdefault(uuid, []).append((year, month, site))
    for uuid, year, month in loaded:
        after = [row for row in later.get(uuid, []) if row[:2] > (year, month)]
        if after:
            y, mo, site = min(after)
            cells.add((site, y, mo))
    return cells


# --- storage ------------------------------------------------------------------------------


def _storage_rows(session: Session, cell: Cell) -> dict[Key, dict[str, Any]]:
    star = m.StorageRecord.__table__.c  # type: ignore[attr-defined]
    site, year, month = cell
    in_cell = and_(
        star.site == site,
        star.end_time >= month_start(year, month),
        star.end_time < month_start(*next_month(year, month)),
    )
    groups = (star.storage_system, star.storage_share, star.storage_media, star.group_name)
    latest = (
        select(*groups, func.max(star.end_time).label("latest"))
        .where(in_cell)
        .group_by(*groups)
        .subquery()
    )
    query = (
        select(
            *groups,
            latest.c.latest,
            func.count(),
            func.sum(star.resource_capacity_used),
            func.sum(star.logical_capacity_used),
            func.sum(star.resource_capacity_allocated),
            func.sum(star.file_count),
        )
        .join(
            latest, and_(*(g == latest.c[g.name] for g in groups), star.end_time == latest.c.latest)
        )  # fmt: skip
        .where(in_cell)
        .group_by(*groups, latest.c.latest)
    )
    rows: dict[Key, dict[str, Any]] = {}
    for r in session.execute(query):
        key = (site, year, month, *r[:4])
        rows[key] = dict(zip(STORAGE_KEY, key, strict=True)) | {
            "end_time": r[4],
            "records": int(r[5]),
            "resource_capacity_used": _int(r[6]) or 0,
            "logical_capacity_used": _int(r[7]),
            "resource_capacity_allocated": _int(r[8]),
            "file_count": _int(r[9]),
            "source": STORAGE_RECORDS,
        }
    return rows


def refresh_storage(session: Session, cells: Iterable[Cell]) -> None:
    t = m.StorageSummary.__table__.c  # type: ignore[attr-defined]
    for cell in sorted(set(cells)):
        where = _cells_where(t.site, t.year, t.month, [cell])
        _write(session, m.StorageSummary, STORAGE_KEY, where, _storage_rows(session, cell))


# --- entry points -------------------------------------------------------------------------


def refresh_cells(session: Session, cells: Iterable[Cell]) -> None:
    """Recompute these cells of every summary table (a cell without sources is emptied)."""
    wanted = set(cells)
    refresh_grid(session, wanted)
    refresh_cloud(session, wanted)
    refresh_storage(session, wanted)


def refresh_loaded(session: Session, kind: RecordKind, rows: Sequence[Mapping[str, Any]]) -> None:
    """After `load_message` upserted `rows` (column → value) of `kind`: refresh the cells
    they touch, in the summary table they feed."""
    if kind is RecordKind.JOB:
        refresh_grid(session, {(r["site"], r["end_year"], r["end_month"]) for r in rows})
    elif kind in (RecordKind.SUMMARY, RecordKind.NORMALISED_SUMMARY):
        refresh_grid(session, {(r["site"], r["year"], r["month"]) for r in rows})
    elif kind is RecordKind.CLOUD:
        refresh_cloud(session, cloud_cells(session, rows))
    elif kind is RecordKind.CLOUD_SUMMARY:
        refresh_cloud(session, {(r["site"], r["year"], r["month"]) for r in rows})
    elif kind is RecordKind.STORAGE:
        cells = {(r["site"], r["end_time"].year, r["end_time"].month) for r in rows}
        refresh_storage(session, cells)


def rebuild(session: Session) -> None:
    """Recompute every summary table whole from its sources (an operator's repair)."""
    _write(session, m.GridSummary, GRID_KEY, None, _grid_rows(session, None))
    _write(session, m.CloudUsageSummary, CLOUD_KEY, None, _cloud_rows(session, None))
    star = m.StorageRecord.__table__.c  # type: ignore[attr-defined]
    found = session.execute(select(star.site, star.end_time).distinct())
    computed: dict[Key, dict[str, Any]] = {}
    for cell in sorted({(site, end.year, end.month) for site, end in found}):
        computed |= _storage_rows(session, cell)
    _write(session, m.StorageSummary, STORAGE_KEY, None, computed)


# --- sync ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncLine:
    """A submit host's month: what the site says it sent (None: it sent no sync record for
    the host) and how many job records opsgraph holds."""

    submit_host: str
    site_says: int | None
    held: int

    @property
    def in_sync(self) -> bool:
        return self.site_says == self.held


def sync_comparison(session: Session, site: str, year: int, month: int) -> list[SyncLine]:
    return sync_months(session, site, (year, month), (year, month)).get((year, month), [])


def sync_months(
    session: Session, site: str, first: tuple[int, int], last: tuple[int, int]
) -> dict[tuple[int, int], list[SyncLine]]:
    """`sync_comparison` of each month from `first` to `last` (both included) that has a
    sync record or a job record, by (year, month): two statements whatever the range."""
    sync = m.SyncRecord.__table__.c  # type: ignore[attr-defined]
    job = m.JobRecord.__table__.c  # type: ignore[attr-defined]
    says_query = select(sync.year, sync.month, sync.submit_host, sync.number_of_jobs).where(
        sync.site == site, _months_between(sync.year, sync.month, first, last)
    )
    says = {(y, mo, host): int(n) for y, mo, host, n in session.execute(says_query)}
    held_query = (
        select(job.end_year, job.end_month, job.submit_host, func.count())
        .where(job.site == site, _months_between(job.end_year, job.end_month, first, last))
        .group_by(job.end_year, job.end_month, job.submit_host)
    )
    held = {(y, mo, host): int(n) for y, mo, host, n in session.execute(held_query)}
    out: dict[tuple[int, int], list[SyncLine]] = {}
    for y, mo, host in sorted(says.keys() | held.keys()):
        line = SyncLine(host, says.get((y, mo, host)), held.get((y, mo, host), 0))
        out.setdefault((y, mo), []).append(line)
    return out


def _months_between(
    year: Any, month: Any, first: tuple[int, int], last: tuple[int, int]
) -> ColumnElement[bool]:
    index = year * 12 + month
    return and_(index >= first[0] * 12 + first[1], index <= last[0] * 12 + last[1])
