"""Loading a message: one message, one transaction, all its records or none.

`load_message` reads the body (`formats.parse_message`), checks that every record is of a
site the topology registers and that the sender accounts for, and replaces the rows with
the same APEL keys (last write wins: a message sent twice changes nothing). A message
refused for any reason (its format, a site, the database refusing a row) goes whole to the
reject store with the rule, the field, the reason, the sender, its message id and its body as
received, and nothing of it is loaded; a reject loaded again and refused again keeps its row,
with the new reason (`Kept.row`). It runs inside the caller's transaction (a savepoint
around the rows), so a consumer acknowledges the message only after that commit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from pydantic_core import PydanticUndefined
from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Enum,
    Float,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel, col

from domains.accounting import models as m
from domains.accounting.formats import Message, RecordKind, parse_message
from domains.accounting.formats.fields import Record
from domains.accounting.rules import AccountingRule as R
from domains.accounting.service.summaries import refresh_loaded
from domains.common import changes
from domains.common.errors import Invalid
from domains.common.time import utcnow
from domains.topology.models import Site

_UNPRINTABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message: `publisher` (the signer's DN, or the principal of an HTTP post) is
    stored on every row; `sites` are the sites it may send records for (None: any site, as
    the benchmarks load)."""

    publisher: str
    sites: frozenset[str] | None
    source: str


@dataclass(frozen=True, slots=True)
class Kept:
    """What the reject store keeps of a message it refuses: `body` as received (the signed
    message, when what was read is its opened content), whether it came `signed` (a reload
    verifies it again), and `row`, the reject a reload retries: updated, not added again."""

    body: bytes
    signed: bool = False
    row: m.RejectedMessage | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: RecordKind | None
    records: int  # loaded; 0 when rejected
    reject_id: int | None
    rule: str | None = None
    reason: str | None = None
    field: str | None = None  # what the refusal names: `message`, `record[3].EndTime`


# APEL's field → the column, by record kind; values absent from a record are "" (text key
# columns), 0 (counts in keys) or NULL (the rest) as the model's defaults say
_COLUMNS: dict[RecordKind, tuple[type[SQLModel], dict[str, str]]] = {
    RecordKind.JOB: (
        m.JobRecord,
        {
            "Site": "site", "LocalJobId": "local_job_id", "EndTime": "end_time",
            "StartTime": "start_time", "SubmitHost": "submit_host",
            "MachineName": "machine_name", "Queue": "queue", "LocalUserId": "local_user_id",
            "GlobalUserName": "global_user_name", "FQAN": "fqan", "VO": "vo",
            "VOGroup": "vo_group", "VORole": "vo_role", "WallDuration": "wall_duration",
            "CpuDuration": "cpu_duration", "Processors": "processors",
            "NodeCount": "node_count",
            "InfrastructureDescription": "infrastructure_description",
            "InfrastructureType": "infrastructure_type", "MemoryReal": "memory_real",
            "MemoryVirtual": "memory_virtual", "ServiceLevelType": "service_level_type",
            "ServiceLevel": "service_level",
        },
    ),
    RecordKind.SUMMARY: (
        m.Summary,
        {
            "Site": "site", "Month": "month", "Year": "year",
            "GlobalUserName": "global_user_name", "VO": "vo", "VOGroup": "vo_group",
            "VORole": "vo_role", "SubmitHost": "submit_host",
            "InfrastructureType": "infrastructure_type",
            "InfrastructureDescription": "infrastructure_description",
            "ServiceLevelType": "service_level_type", "ServiceLevel": "service_level",
            "NodeCount": "node_count", "Processors": "processors",
            "EarliestEndTime": "earliest_end_time", "LatestEndTime": "latest_end_time",
            "WallDuration": "wall_duration", "CpuDuration": "cpu_duration",
            "NumberOfJobs": "number_of_jobs",
        },
    ),
    RecordKind.NORMALISED_SUMMARY: (
        m.NormalisedSummary,
        {
            "Site": "site", "Month": "month", "Year": "year",
            "GlobalUserName": "global_user_name", "VO": "vo", "VOGroup": "vo_group",
            "VORole": "vo_role", "SubmitHost": "submit_host", "Infrastructure": "infrastructure",
            "InfrastructureDescription": "infrastructure_description",
            "ServiceLevelType": "service_level_type", "NodeCount": "node_count",
            "Processors": "processors", "EarliestEndTime": "earliest_end_time",
            "LatestEndTime": "latest_end_time", "WallDuration": "wall_duration",
            "CpuDuration": "cpu_duration", "NormalisedWallDuration": "normalised_wall_duration",
            "NormalisedCpuDuration": "normalised_cpu_duration",
            "NumberOfJobs": "number_of_jobs",
        },
    ),
    RecordKind.SYNC: (
        m.SyncRecord,
        {"Site": "site", "SubmitHost": "submit_host", "Month": "month", "Year": "year",
         "NumberOfJobs": "number_of_jobs"},
    ),
    RecordKind.CLOUD: (
        m.CloudRecord,
        {
            "VMUUID": "vm_uuid", "SiteName": "site", "MeasurementTime": "measurement_time",
            "CloudComputeService": "cloud_compute_service", "MachineName": "machine_name",
            "LocalUserId": "local_user_id", "LocalGroupId": "local_group_id",
            "GlobalUserName": "global_user_name", "FQAN": "fqan", "VO": "vo",
            "VOGroup": "vo_group", "VORole": "vo_role", "Status": "status",
            "StartTime": "start_time", "EndTime": "end_time",
            "SuspendDuration": "suspend_duration", "WallDuration": "wall_duration",
            "CpuDuration": "cpu_duration", "CpuCount": "cpu_count",
            "NetworkType": "network_type", "NetworkInbound": "network_inbound",
            "NetworkOutbound": "network_outbound", "PublicIPCount": "public_ip_count",
            "Memory": "memory", "Disk": "disk", "BenchmarkType": "benchmark_type",
            "Benchmark": "benchmark", "StorageRecordId": "storage_record_id",
            "ImageId": "image_id", "CloudType": "cloud_type",
        },
    ),
    RecordKind.CLOUD_SUMMARY: (
        m.CloudSummary,
        {
            "SiteName": "site", "CloudComputeService": "cloud_compute_service",
            "Month": "month", "Year": "year", "GlobalUserName": "global_user_name",
            "VO": "vo", "VOGroup": "vo_group", "VORole": "vo_role", "Status": "status",
            "CloudType": "cloud_type", "ImageId": "image_id",
            "EarliestStartTime": "earliest_start_time",
            "LatestStartTime": "latest_start_time", "WallDuration": "wall_duration",
            "CpuDuration": "cpu_duration", "CpuCount": "cpu_count",
            "NetworkInbound": "network_inbound", "NetworkOutbound": "network_outbound",
            "Memory": "memory", "Disk": "disk", "BenchmarkType": "benchmark_type",
            "Benchmark": "benchmark", "NumberOfVMs": "number_of_vms",
        },
    ),
    RecordKind.STORAGE: (
        m.StorageRecord,
        {
            "RecordId": "record_id", "CreateTime": "create_time",
            "StorageSystem": "storage_system", "Site": "site", "StorageShare": "storage_share",
            "StorageMedia": "storage_media", "StorageClass": "storage_class",
            "FileCount": "file_count", "DirectoryPath": "directory_path",
            "LocalUser": "local_user", "LocalGroup": "local_group",
            "UserIdentity": "user_identity", "Group": "group_name", "SubGroup": "sub_group",
            "Role": "role", "GroupAttributes": "group_attributes", "StartTime": "start_time",
            "EndTime": "end_time", "ResourceCapacityUsed": "resource_capacity_used",
            "LogicalCapacityUsed": "logical_capacity_used",
            "ResourceCapacityAllocated": "resource_capacity_allocated",
        },
    ),
}  # fmt: skip
SITE_FIELD = {RecordKind.CLOUD: "SiteName", RecordKind.CLOUD_SUMMARY: "SiteName"}


def _key_columns(model: type[SQLModel]) -> tuple[str, ...]:
    """The columns of the model's one unique constraint: APEL's key for that table."""
    table = model.__table__  # type: ignore[attr-defined]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            return tuple(c.name for c in constraint.columns)
    raise LookupError(f"{table.name} has no unique key")  # pragma: no cover - by construction


@cache
def _defaults(model: type[SQLModel]) -> dict[str, Any]:
    """What a column holds when a record leaves its field out: the model's default."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            out[name] = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined:
            out[name] = info.default
    return out


@cache
def _plan(kind: RecordKind) -> tuple[type[SQLModel], tuple[tuple[str, str, Any], ...]]:
    """The kind's model, and each APEL field's column and the default it takes when absent."""
    model, columns = _COLUMNS[kind]
    defaults = _defaults(model)
    return model, tuple((f, c, defaults.get(c)) for f, c in columns.items())


def _rows(
    kind: RecordKind, records: Sequence[Record], sender: Sender, message_id: str
) -> list[dict[str, Any]]:
    """Each record as its table's row (column → value), built a column at a time: a field
    left out takes the column's default, a decimal is rounded to 3 places (as a float), a
    list of pairs becomes a list of lists. (Row by row, this was 5 ms of a 1,000-record
    message.)"""
    _, plan = _plan(kind)
    base: dict[str, Any] = {"publisher": sender.publisher[: m.DN_MAX], "message_id": message_id}
    rows = [base.copy() for _ in records]
    for field, column, default in plan:
        values: list[Any] = [r.get(field) for r in records]
        if not set(map(type, values)) <= _AS_THEY_ARE:
            values = [_column_value(v, default) for v in values]
        for row, value in zip(rows, values, strict=True):
            row[column] = value
    if kind is RecordKind.JOB:
        for row in rows:
            end = row["end_time"]
            row["end_year"], row["end_month"] = end.year, end.month
    elif kind is RecordKind.CLOUD:
        for row in rows:
            measured = row["measurement_time"]
            row["measurement_year"], row["measurement_month"] = measured.year, measured.month
    return rows


# the types of a record's values that its row holds unchanged
_AS_THEY_ARE = frozenset({str, int, datetime})


def _column_value(value: Any, default: Any) -> Any:
    if value is None:
        return default
    if isinstance(value, Decimal):
        return _rounded(value, value.is_signed())
    if isinstance(value, tuple):
        return [list(pair) for pair in value]
    return value


@lru_cache(maxsize=1024)  # a message repeats a handful of service levels
def _rounded(value: Decimal, _signed: bool) -> float:
    """`value` to 3 places, as a float (`_signed` in the key: -0 equals 0, but -0.0 is
    another float)."""
    return float(round(value, 3))


def _upsert(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows, or replace the rows with their keys: on PostgreSQL a COPY into a
    temporary table and one INSERT ... SELECT ... ON CONFLICT DO UPDATE (`_copy_upsert`);
    elsewhere one single-row INSERT ... ON CONFLICT DO UPDATE executed with every row,
    compiled once and cached. (A multi-row VALUES statement, with one bind parameter per
    value, was compiled again for every message: 84% of a job message's time.)"""
    if not rows:
        return
    # within one message the last record with a key wins, as APEL's REPLACE does
    keys = _key_columns(model)
    key_of = itemgetter(*keys)
    last = list({key_of(r): r for r in rows}.values())
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_upsert(connection, model, keys, last)
    else:
        session.execute(_upsert_statement(model, tuple(last[0])), last)


@cache
def _upsert_statement(model: type[SQLModel], columns: tuple[str, ...]) -> Any:
    table = model.__table__  # type: ignore[attr-defined]
    keys = _key_columns(model)
    stmt = sqlite.insert(table)
    changed = {c: stmt.excluded[c] for c in columns if c not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=changed)


# a column's type → the type OID a binary COPY sends it as, and what the staging table holds
# it as: every integer as bigint (psycopg's binary int4 would wrap a value beyond 32 bits
# silently; bigint makes the INSERT's cast refuse it, as the text COPY did)
_BINARY_TYPES: tuple[tuple[type[TypeEngine[Any]], int, str | None], ...] = (
    (Integer, 20, "bigint"),
    (Float, 701, "double precision"),
    (Boolean, 16, None),
)


@cache
def _staging(model: type[SQLModel], columns: tuple[str, ...]) -> tuple[str, list[int] | None]:
    """The staging table's select list from the model's table, and the type OID of each
    column for a binary COPY (None: a column of a type not sent in binary; a text COPY)."""
    table = model.__table__  # type: ignore[attr-defined]
    selected, oids = [], []
    binary = True
    for name in columns:
        kind = table.c[name].type
        kind = kind.impl if isinstance(kind, TypeDecorator) else kind
        cast = None
        if isinstance(kind, DateTime):
            oid = 1184 if kind.timezone else 1114
        elif isinstance(kind, String) and not isinstance(kind, Enum):
            oid = 1043  # what psycopg dumps a str as; COPY reads the bytes as the column's type
        else:
            oid = 0  # none: a text COPY
            for python_type, type_oid, as_type in _BINARY_TYPES:
                if isinstance(kind, python_type):
                    oid, cast = type_oid, as_type
                    break
            binary = binary and oid != 0
        oids.append(oid)
        selected.append(f'CAST("{name}" AS {cast}) AS "{name}"' if cast else f'"{name}"')
    return ", ".join(selected), oids if binary else None


def _copy_upsert(
    connection: Connection,
    model: type[SQLModel],
    keys: tuple[str, ...],
    rows: Sequence[dict[str, Any]],
) -> None:
    """PostgreSQL: COPY the rows (binary, unless a column is of a type not sent so) into a
    temporary table of the columns they carry (kept for the connection, emptied before each
    use and at commit), then move them in one statement. Three round trips. `loaded_at` is
    set on insert only, as the model's default is: a message sent again changes nothing."""
    table = model.__table__  # type: ignore[attr-defined]
    columns = [*rows[0], "loaded_at"]
    selected, oids = _staging(model, tuple(columns))
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c}"' for c in columns)
    changed = ", ".join(f'"{c}" = excluded."{c}"' for c in rows[0] if c not in keys)
    staging = f"loading_{table.name}"
    # every name is the model's (its table and columns), none from a message; the staging
    # table is emptied with DELETE, not TRUNCATE (a temporary table's TRUNCATE replaces its
    # files), and emptied at commit anyway
    statements = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {selected} FROM {table.name} WITH NO DATA; DELETE FROM {staging}",
        f"COPY {staging} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if oids else ""),
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {changed}",
    )
    loaded_at = utcnow()
    changes.wrote(connection, table.name)  # past SQLAlchemy's cursor: declared for the cache
    driver: Any = connection.connection.driver_connection
    statement = statements[0]
    try:
        with driver.cursor() as cursor:
            cursor.execute(statement)
            statement = statements[1]
            with cursor.copy(statement) as copy:
                if oids:
                    copy.set_types(oids)
                values_of = itemgetter(*columns[:-1])  # every row has the first row's columns
                jsons = [i for i, c in enumerate(columns) if c in json_columns]
                for row in rows:
                    values = [*values_of(row), loaded_at]
                    for i in jsons:
                        if values[i] is not None:
                            values[i] = json.dumps(values[i])
                    copy.write_row(values)
            statement = statements[2]
            cursor.execute(statement)
    except connection.dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy's would be raised
        raise DBAPIError.instance(
            statement, None, exc, connection.dialect.loaded_dbapi.Error
        ) from exc


def registered_sites(session: Session, names: Iterable[str]) -> set[str]:
    wanted = set(names)
    found = session.execute(select(col(Site.short_name)).where(col(Site.short_name).in_(wanted)))
    return set(found.scalars())


def _check_sites(session: Session, message: Message, sender: Sender) -> None:
    field = SITE_FIELD.get(message.kind, "Site")
    named = [str(r.get(field) or "") for r in message.records]
    distinct = set(named)
    known = registered_sites(session, distinct - {""})
    if distinct <= known and (sender.sites is None or distinct <= sender.sites):
        return  # the usual case, settled per distinct site (a path a record was 2 ms a message)
    for position, site in enumerate(named, start=1):
        path = f"record[{position}].{field}"
        if site not in known:
            words = f"{path}: {R.ACCOUNTING_SITE_UNKNOWN.text} (not {site!r})"
            raise Invalid(path, R.ACCOUNTING_SITE_UNKNOWN, words)
        if sender.sites is not None and site not in sender.sites:
            words = f"{path}: {R.ACCOUNTING_SITE_NOT_SENDERS.text} ({site!r})"
            raise Invalid(path, R.ACCOUNTING_SITE_NOT_SENDERS, words)


def _published(
    session: Session,
    kind: RecordKind,
    rows: Sequence[Mapping[str, Any]],
    sender: Sender,
    message_id: str,
    now: datetime,
) -> None:
    """Each site of the message: its latest publication is this message (one upsert)."""
    sites = sorted({str(row["site"]) for row in rows if row["site"]})
    if not sites:
        return
    values = {
        "loaded_at": now,
        "message_id": message_id[: m.TEXT_MAX],
        "publisher": sender.publisher[: m.DN_MAX],
        "kind": kind.value,
    }
    table = m.Publication.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site"], set_={name: stmt.excluded[name] for name in values}
    )
    session.execute(stmt, [{"site": site, **values} for site in sites])


def _storable(text: str, limit: int | None = None) -> str:
    text = _UNPRINTABLE.sub("\ufffd", text)
    return text if limit is None else text[:limit]


def reject(
    session: Session,
    body: bytes,
    sender: Sender,
    message_id: str,
    error: Invalid,
    *,
    signed: bool = False,
    into: m.RejectedMessage | None = None,
) -> m.RejectedMessage:
    """Keep a refused message; `into`: the reject it was loaded from again, which keeps its
    body, message id and time, and takes the new sender and reason."""
    row = into or m.RejectedMessage(
        source=_storable(sender.source, m.TEXT_MAX),
        message_id=_storable(message_id, m.TEXT_MAX),
        body=body,
        signed=signed,
        rule="",
        reason="",
    )
    row.sender = _storable(sender.publisher, m.DN_MAX)
    row.rule = error.rule_code[:64]
    row.field = _storable(error.field, m.TEXT_MAX)
    row.reason = _storable(str(error))
    session.add(row)
    session.flush()
    return row


def load_message(
    session: Session,
    body: bytes,
    sender: Sender,
    message_id: str,
    now: datetime,
    *,
    keep: Kept | None = None,
) -> Outcome:
    """Load one message whole, or keep it in the reject store (`keep`: what to keep, when
    not `body` as it is); either way in the caller's transaction, which the caller commits
    before it acknowledges the message."""
    kept = keep or Kept(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        not_utf8 = Invalid("message", R.ACCOUNTING_NOT_UTF8)
        return refuse(session, kept, sender, message_id, not_utf8)
    message: Message | None = None
    try:
        message = parse_message(text, now)
        _check_sites(session, message, sender)
        model, _ = _COLUMNS[message.kind]
        rows = _rows(message.kind, message.records, sender, message_id)
        with session.begin_nested():
            _upsert(session, model, rows)
            refresh_loaded(session, message.kind, rows)  # the summaries of the touched cells
            _published(session, message.kind, rows, sender, message_id, now)
    except Invalid as error:
        return refuse(session, kept, sender, message_id, error, _kind(message))
    except DBAPIError as exc:  # a row the database refuses: the savepoint is rolled back
        words = f"message: {R.ACCOUNTING_DATABASE_REFUSED.text} ({type(exc.orig).__name__})"
        refused = Invalid("message", R.ACCOUNTING_DATABASE_REFUSED, words)
        return refuse(session, kept, sender, message_id, refused, _kind(message))
    return Outcome(message.kind, len(message.records), None)


def refuse(
    session: Session,
    kept: Kept,
    sender: Sender,
    message_id: str,
    error: Invalid,
    kind: RecordKind | None = None,
) -> Outcome:
    """Keep the message in the reject store (`reject`) and say so."""
    row = reject(session, kept.body, sender, message_id, error, signed=kept.signed, into=kept.row)
    return Outcome(kind, 0, row.id, error.rule_code, str(error), error.field)


def _kind(message: Message | None) -> RecordKind | None:
    return None if message is None else message.kind


def counts(session: Session) -> Mapping[str, int]:
    """Rows per table, for tests and the operators' overview."""
    out: dict[str, int] = {}
    for model, _ in _COLUMNS.values():
        table = model.__table__  # type: ignore[attr-defined]
        out[table.name] = session.execute(select(func.count()).select_from(table)).scalar_one()
    return out
