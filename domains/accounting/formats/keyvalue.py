"""APEL's key/value messages: the header line, `%%`-separated records of `Key: Value` lines,
and each record type's fields and checks (APEL's `apel/db/records/*.py`, paraphrased in
../shared/reference/accounting-apel.md §1–2)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import methodcaller
from typing import Any

from domains.accounting.formats import fields as fv
from domains.accounting.formats.fields import Kind, Record
from domains.accounting.rules import AccountingRule as R
from domains.common.errors import Invalid

SEPARATOR = "%%"
_NULL_LONGEST = max(map(len, fv.NULL_TOKENS))
# APEL's EndTime check allows two days ahead of the loader's clock, for time zones
FUTURE_SLACK = timedelta(days=2)


class RecordKind(enum.StrEnum):
    """What a message carries: one kind per message."""

    JOB = "job"
    SUMMARY = "summary"
    NORMALISED_SUMMARY = "normalised_summary"
    SYNC = "sync"
    CLOUD = "cloud"
    CLOUD_SUMMARY = "cloud_summary"
    STORAGE = "storage"


Check = Callable[[Record, int, datetime], None]


@dataclass(frozen=True)
class Spec:
    """One header's record type: its fields and their kinds, the mandatory ones, the ones
    accepted and dropped, old names read as new ones, and the checks across fields."""

    kind: RecordKind
    version: str
    fields: Mapping[str, Kind]
    mandatory: frozenset[str]
    ignored: frozenset[str] = frozenset()
    renamed: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    # each field's reader, by its name
    readers: Mapping[str, Callable[[str, int, str], fv.Value | fv.BenchmarkValue]] = field(
        init=False, repr=False, compare=False
    )
    # what the parser's loop looks up once a line: each key as sent (an old name too) → the
    # field's name and its kind (None: a field accepted and dropped)
    keys: Mapping[str, tuple[str, Kind | None]] = field(init=False, repr=False, compare=False)
    mandatory_order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        readers = {name: _READERS[kind] for name, kind in self.fields.items()}
        object.__setattr__(self, "readers", readers)
        keys: dict[str, tuple[str, Kind | None]] = {n: (n, k) for n, k in self.fields.items()}
        keys |= {n: (n, None) for n in self.ignored}
        keys |= {old: (new, keys[new][1]) for old, new in self.renamed.items() if new in keys}
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "mandatory_order", tuple(sorted(self.mandatory)))


_READERS: dict[Kind, Callable[[str, int, str], fv.Value | fv.BenchmarkValue]] = {
    Kind.TEXT: fv.text,
    Kind.INTEGER: fv.integer,
    Kind.DECIMAL: fv.decimal,
    Kind.TIME: fv.time,
    Kind.BENCHMARK: fv.benchmark_dict,
}

T, N, D, TM, B = Kind.TEXT, Kind.INTEGER, Kind.DECIMAL, Kind.TIME, Kind.BENCHMARK

_JOB_FIELDS: dict[str, Kind] = {
    "Site": T, "SubmitHost": T, "MachineName": T, "Queue": T, "LocalJobId": T,
    "LocalUserId": T, "GlobalUserName": T, "FQAN": T, "VO": T, "VOGroup": T, "VORole": T,
    "WallDuration": N, "CpuDuration": N, "Processors": N, "NodeCount": N, "StartTime": TM,
    "EndTime": TM, "InfrastructureDescription": T, "InfrastructureType": T, "MemoryReal": N,
    "MemoryVirtual": N, "ServiceLevelType": T, "ServiceLevel": D,
}  # fmt: skip
_JOB_MANDATORY = frozenset(
    {"Site", "LocalJobId", "WallDuration", "CpuDuration", "StartTime", "EndTime"}
)
# v0.1 spelled four fields differently (EGI's grid-accounting format page)
_JOB_V01_NAMES = {
    "LocalJobID": "LocalJobId",
    "UserFQAN": "FQAN",
    "ScalingFactorUnit": "ServiceLevelType",
    "ScalingFactor": "ServiceLevel",
}

_SUMMARY_FIELDS: dict[str, Kind] = {
    "Site": T, "Month": N, "Year": N, "GlobalUserName": T, "VO": T, "VOGroup": T,
    "VORole": T, "SubmitHost": T, "InfrastructureType": T, "InfrastructureDescription": T,
    "ServiceLevelType": T, "ServiceLevel": D, "NodeCount": N, "Processors": N,
    "EarliestEndTime": TM, "LatestEndTime": TM, "WallDuration": N, "CpuDuration": N,
    "NumberOfJobs": N,
}  # fmt: skip
_SUMMARY_MANDATORY = frozenset(
    {"Site", "Month", "Year", "WallDuration", "CpuDuration", "NumberOfJobs"}
)
# the normalised summaries name the infrastructure type "Infrastructure", and carry no
# service level but the normalised durations
_NORMALISED_FIELDS: dict[str, Kind] = {
    **{k: v for k, v in _SUMMARY_FIELDS.items() if k not in ("ServiceLevelType", "ServiceLevel")},
    "Infrastructure": T,
    "NormalisedWallDuration": N,
    "NormalisedCpuDuration": N,
}
del _NORMALISED_FIELDS["InfrastructureType"]
_NORMALISED_MANDATORY = _SUMMARY_MANDATORY | {"NormalisedWallDuration", "NormalisedCpuDuration"}

_CLOUD_FIELDS: dict[str, Kind] = {
    "VMUUID": T, "SiteName": T, "CloudComputeService": T, "MachineName": T,
    "LocalUserId": T, "LocalGroupId": T, "GlobalUserName": T, "FQAN": T, "VO": T,
    "VOGroup": T, "VORole": T, "Status": T, "StartTime": TM, "EndTime": TM,
    "SuspendDuration": N, "WallDuration": N, "CpuDuration": N, "CpuCount": D,
    "NetworkType": T, "NetworkInbound": N, "NetworkOutbound": N, "PublicIPCount": N,
    "Memory": N, "Disk": N, "BenchmarkType": T, "Benchmark": D, "StorageRecordId": T,
    "ImageId": T, "CloudType": T, "RecordCreateTime": TM,
}  # fmt: skip
_CLOUD_SUMMARY_FIELDS: dict[str, Kind] = {
    "SiteName": T, "CloudComputeService": T, "Month": N, "Year": N, "GlobalUserName": T,
    "VO": T, "VOGroup": T, "VORole": T, "Status": T, "CloudType": T, "ImageId": T,
    "EarliestStartTime": TM, "LatestStartTime": TM, "WallDuration": N, "CpuDuration": N,
    "CpuCount": D, "NetworkInbound": N, "NetworkOutbound": N, "Memory": N, "Disk": N,
    "BenchmarkType": T, "Benchmark": D, "NumberOfVMs": N,
}  # fmt: skip


# -- checks across fields -------------------------------------------------------------------


def _apply_fqan(record: Record, _position: int, _now: datetime) -> None:
    """A FQAN overrides VO, VOGroup and VORole with what it says (APEL's JobRecord)."""
    fqan = record.get("FQAN")
    if isinstance(fqan, str):
        parsed = fv.parse_fqan(fqan)
        record["VO"], record["VOGroup"], record["VORole"] = parsed.vo, parsed.group, parsed.role


def _service_level_pair(record: Record, position: int, _now: datetime) -> None:
    """v0.1–v0.3 and summary v0.2: type and value both given (the type one APEL knows) or
    both left out (then APEL's `custom` with factor 1)."""
    kind, value = record.get("ServiceLevelType"), record.get("ServiceLevel")
    if kind is None and value is None:
        record["ServiceLevelType"], record["ServiceLevel"] = fv.CUSTOM, Decimal(1)
        return
    if kind is None or value is None:
        missing = "ServiceLevelType" if kind is None else "ServiceLevel"
        raise fv.fail(position, missing, R.ACCOUNTING_SERVICE_LEVEL_PAIR)
    record["ServiceLevelType"] = fv.benchmark_type(str(kind), position, "ServiceLevelType")


def resolve_benchmarks(record: Record, dicts: dict[str, fv.BenchmarkValue], position: int) -> None:
    """v0.4's dictionaries: `ServiceLevel: {hepspec: 11.4, HEPscore23: 15.3}` gives the type
    and value (none: APEL's `custom`, 1); a normalised summary's two durations give theirs,
    which must be of one benchmark type."""
    level = dicts.get("ServiceLevel")
    if level is not None:
        record["ServiceLevelType"], record["ServiceLevel"] = level.type, level.value
    wall, cpu = dicts.get("NormalisedWallDuration"), dicts.get("NormalisedCpuDuration")
    if wall is not None and cpu is not None:
        if wall.type != cpu.type:
            detail = f"{wall.type} and {cpu.type}"
            raise fv.fail(position, "NormalisedCpuDuration", R.ACCOUNTING_BENCHMARK_MIXTURE, detail)
        record["ServiceLevelType"] = wall.type
        record["NormalisedWallDuration"] = int(wall.value.to_integral_value())
        record["NormalisedCpuDuration"] = int(cpu.value.to_integral_value())


def _custom_when_absent(record: Record, _position: int, _now: datetime) -> None:
    if "ServiceLevel" not in record:
        record["ServiceLevelType"], record["ServiceLevel"] = fv.CUSTOM, Decimal(1)


def _job_times(record: Record, position: int, now: datetime) -> None:
    start, end = record["StartTime"], record["EndTime"]
    assert isinstance(start, datetime)
    assert isinstance(end, datetime)
    if end < start:
        raise fv.fail(position, "EndTime", R.ACCOUNTING_END_BEFORE_START)
    if end > now + FUTURE_SLACK:
        raise fv.fail(position, "EndTime", R.ACCOUNTING_END_IN_FUTURE, end.isoformat())


def month_start(record: Record, position: int) -> datetime:
    """The first second of the record's Month and Year, both checked."""
    month, year = record.get("Month"), record.get("Year")
    assert isinstance(month, int)
    assert isinstance(year, int)
    if not 1 <= month <= 12:
        raise fv.fail(position, "Month", R.ACCOUNTING_MONTH_INVALID, str(month))
    if not 1970 <= year <= 9999:
        raise fv.fail(position, "Year", R.ACCOUNTING_YEAR_INVALID, str(year))
    return datetime(year, month, 1, tzinfo=UTC)


def _next_month(start: datetime) -> datetime:
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def _month_begun(record: Record, position: int, now: datetime) -> None:
    start = month_start(record, position)
    if start > now:
        raise fv.fail(position, "Month", R.ACCOUNTING_MONTH_IN_FUTURE, f"{start:%Y-%m}")


def _end_times_in_month(record: Record, position: int, _now: datetime) -> None:
    start = month_start(record, position)
    end = _next_month(start)
    earliest, latest = record.get("EarliestEndTime"), record.get("LatestEndTime")
    for name, value in (("EarliestEndTime", earliest), ("LatestEndTime", latest)):
        if isinstance(value, datetime) and not start <= value <= end:
            raise fv.fail(position, name, R.ACCOUNTING_END_TIME_OUTSIDE_MONTH, value.isoformat())
    if isinstance(earliest, datetime) and isinstance(latest, datetime) and earliest > latest:
        raise fv.fail(position, "LatestEndTime", R.ACCOUNTING_END_TIME_OUTSIDE_MONTH)


def _not_negative(*names: str) -> Check:
    def check(record: Record, position: int, _now: datetime) -> None:
        for name in names:
            value = record.get(name)
            if isinstance(value, int | Decimal) and value < 0:
                raise fv.fail(position, name, R.ACCOUNTING_NEGATIVE, str(value))

    return check


def _cloud_defaults(record: Record, position: int, _now: datetime) -> None:
    """APEL's cloud loader: Benchmark and CpuCount default to 0; the measurement time (the
    month a running VM's usage is counted in) is EndTime for a completed VM, else the record's
    creation time, else StartTime + SuspendDuration + WallDuration."""
    for name in ("Benchmark", "CpuCount"):
        if record.get(name) is None:
            record[name] = Decimal(0)
    end, created, start = (
        record.get("EndTime"),
        record.get("RecordCreateTime"),
        record.get("StartTime"),
    )
    status = record.get("Status")
    if isinstance(status, str) and status.lower() == "completed" and isinstance(end, datetime):
        measured = end
    elif isinstance(created, datetime):
        measured = created
    elif isinstance(start, datetime):
        extra = sum(
            v
            for v in (record.get("SuspendDuration"), record.get("WallDuration"))
            if isinstance(v, int)
        )
        try:
            measured = start + timedelta(seconds=extra)
        except OverflowError:
            raise fv.fail(position, "WallDuration", R.ACCOUNTING_CLOUD_MEASUREMENT_TIME) from None
    else:
        raise fv.fail(position, "StartTime", R.ACCOUNTING_CLOUD_MEASUREMENT_TIME)
    record["MeasurementTime"] = measured


_SUMMARY_CHECKS: tuple[Check, ...] = (
    _month_begun,
    _end_times_in_month,
    _not_negative("WallDuration", "CpuDuration", "NumberOfJobs"),
)
_NORMALISED_CHECKS = (
    *_SUMMARY_CHECKS,
    _not_negative("NormalisedWallDuration", "NormalisedCpuDuration"),
)


def _job(version: str) -> Spec:
    fields = dict(_JOB_FIELDS)
    checks: tuple[Check, ...] = (_apply_fqan, _service_level_pair, _job_times)
    if version == "0.4":
        del fields["ServiceLevelType"]
        fields["ServiceLevel"] = B
        checks = (_apply_fqan, _custom_when_absent, _job_times)
    return Spec(
        RecordKind.JOB,
        version,
        fields,
        _JOB_MANDATORY,
        frozenset({"SubmitHostType", "UpdateTime"}),
        _JOB_V01_NAMES if version == "0.1" else {},
        checks,
    )


def _summary(version: str) -> Spec:
    fields = dict(_SUMMARY_FIELDS)
    checks = (_service_level_pair, *_SUMMARY_CHECKS)
    if version == "0.4":
        del fields["ServiceLevelType"]
        fields["ServiceLevel"] = B
        checks = (_custom_when_absent, *_SUMMARY_CHECKS)
    return Spec(
        RecordKind.SUMMARY,
        version,
        fields,
        _SUMMARY_MANDATORY,
        frozenset({"UpdateTime"}),
        {},
        checks,
    )


def _normalised(version: str) -> Spec:
    fields = dict(_NORMALISED_FIELDS)
    checks: tuple[Check, ...] = _NORMALISED_CHECKS
    if version == "0.4":
        fields["NormalisedWallDuration"] = B
        fields["NormalisedCpuDuration"] = B
    return Spec(RecordKind.NORMALISED_SUMMARY, version, fields, _NORMALISED_MANDATORY,
                frozenset({"UpdateTime"}), {}, checks)  # fmt: skip


def _cloud(version: str) -> Spec:
    return Spec(
        RecordKind.CLOUD,
        version,
        _CLOUD_FIELDS,
        frozenset({"VMUUID", "SiteName"}),
        frozenset({"MeasurementTime", "MeasurementMonth", "MeasurementYear", "UpdateTime"}),
        {},
        (_apply_fqan, _cloud_defaults),
    )


SPECS: dict[str, Spec] = {
    **{f"APEL-individual-job-message: v{v}": _job(v) for v in ("0.1", "0.2", "0.3", "0.4")},
    "APEL-summary-job-message: v0.2": _summary("0.2"),
    "APEL-summary-job-message: v0.3": _normalised("0.3"),
    "APEL-summary-job-message: v0.4": _summary("0.4"),
    "APEL-normalised-summary-message: v0.4": _normalised("0.4"),
    "APEL-sync-message: v0.1": Spec(
        RecordKind.SYNC,
        "0.1",
        {"Site": T, "SubmitHost": T, "NumberOfJobs": N, "Month": N, "Year": N},
        frozenset({"Site", "NumberOfJobs", "Month", "Year"}),
        checks=(_month_begun, _not_negative("NumberOfJobs")),
    ),
    **{f"APEL-cloud-message: v{v}": _cloud(v) for v in ("0.2", "0.4")},
    "APEL-cloud-summary-message: v0.4": Spec(
        RecordKind.CLOUD_SUMMARY,
        "0.4",
        _CLOUD_SUMMARY_FIELDS,
        frozenset({"SiteName", "Month", "Year", "NumberOfVMs"}),
        frozenset({"UpdateTime"}),
        checks=(_month_begun, _not_negative("WallDuration", "CpuDuration", "NumberOfVMs")),
    ),
}


def read_value(spec: Spec, name: str, raw: str, position: int) -> fv.Value | fv.BenchmarkValue:
    """One field's value by its kind; None for APEL's null tokens, except the VO fields,
    which keep the text as sent."""
    if fv.is_null(raw) and not (name in fv.LITERAL_NULLS and raw):
        if name in spec.mandatory:
            raise fv.fail(position, name, R.ACCOUNTING_FIELD_MISSING, "null")
        return None
    return spec.readers[name](raw, position, name)


def read_record(spec: Spec, chunk: str, position: int, now: datetime) -> Record:
    """One record's lines: each `Key: Value` once, a field of the spec (an ignored one is
    dropped), its value read by its kind; then mandatory fields and the checks across them.
    (The loop is the loader's hottest: a message of 1,000 jobs is some 15,000 lines. Text
    values are checked for what cannot be stored once for the whole record.)"""
    record: Record = {}
    dicts: dict[str, fv.BenchmarkValue] = {}
    dropped: set[str] = set()
    keys, readers = spec.keys, spec.readers
    storable = fv.storable(chunk)
    for line in chunk.splitlines():
        key, colon, raw = line.partition(":")
        if not colon:
            path = fv.at(position, "line")
            words = f"{path}: {R.ACCOUNTING_LINE_NOT_KEY_VALUE.text} (not {fv.short(line)!r})"
            raise Invalid(path, R.ACCOUNTING_LINE_NOT_KEY_VALUE, words)
        found = keys.get(key)
        if found is None:
            key = key.strip()
            found = keys.get(key)
            if found is None:
                raise fv.fail(position, fv.short(key), R.ACCOUNTING_FIELD_UNKNOWN)
        name, kind = found
        if name in record or name in dicts or name in dropped:
            raise fv.fail(position, name, R.ACCOUNTING_FIELD_REPEATED)
        if kind is None:
            dropped.add(name)
            continue
        raw = raw.strip()
        if len(raw) <= _NULL_LONGEST and raw.lower() in fv.NULL_TOKENS:
            record[name] = read_plain(spec, name, raw, position)  # a null token
        elif kind is Kind.TEXT and storable and len(raw) <= fv.TEXT_MAX:
            record[name] = raw  # what fv.text would return
        elif kind is Kind.BENCHMARK:
            dicts[name] = fv.benchmark_dict(raw, position, name)
        else:
            value = readers[name](raw, position, name)
            assert not isinstance(value, fv.BenchmarkValue)
            record[name] = value
    return check_record(spec, record, dicts, position, now)


def check_record(
    spec: Spec, record: Record, dicts: dict[str, fv.BenchmarkValue], position: int, now: datetime
) -> Record:
    """Mandatory fields present, v0.4's dictionaries resolved, then the checks across fields."""
    for name in spec.mandatory_order:
        if record.get(name) is None and name not in dicts:
            raise fv.fail(position, name, R.ACCOUNTING_FIELD_MISSING)
    resolve_benchmarks(record, dicts, position)
    for check in spec.checks:
        check(record, position, now)
    return record


def read_plain(spec: Spec, name: str, raw: str, position: int) -> fv.Value:
    """A field that is no v0.4 dictionary (all of CAR's and StAR's)."""
    value = read_value(spec, name, raw, position)
    if isinstance(value, fv.BenchmarkValue):  # pragma: no cover - no such field in those specs
        raise fv.fail(position, name, R.ACCOUNTING_BENCHMARK_INVALID)
    return value


# --- the whole message at once: the loader's fast path ---------------------------------------

# what makes a message's lines read otherwise than split on "\n" and ": " (`is_plain`):
# whitespace other than a line's end or a single space (a tab, a CR, and every line break
# splitlines knows — \x0b, \x1c, \x85, \u2028, ... — are all whitespace), or a character no
# text column can hold; an ASCII message is searched for the ASCII ones only (one character
# class: a pattern of alternatives scanned a 400 kB message ten times slower)
_ODD_ASCII = re.compile(r"[\x00\t\r\x0b\x0c\x1c-\x1f]")
_ODD_SPACE = re.compile(r"[^\S\n ]")
_SPLIT = methodcaller("split", ": ", 1)
_ALL_DIGITS = 18  # digits an INTEGER or TIME value may have for int() without a range check


class _Unusual(Exception):
    """Something `read_records`' fast path does not decide itself: read the message line by
    line (`read_record`), which accepts it or names the first rule it breaks."""


def is_plain(text: str) -> bool:
    """No line of `text` needs more than splitting on "\n" and ": " to be read as
    `read_record` reads it: no odd whitespace or unstorable character, no space ending a
    line or following ": "."""
    if " \n" in text or ":  " in text:
        return False
    if text.isascii():
        return _ODD_ASCII.search(text) is None
    return _ODD_SPACE.search(text) is None and fv.storable(text)


def read_records(
    spec: Spec, chunks: Sequence[str], now: datetime, *, plain: bool
) -> tuple[Record, ...]:
    """Every record of a message, as `read_record` reads each: the same records, or the same
    refusal. A `plain` message (`is_plain`) is read a field at a time across all its records
    (a message of 1,000 jobs is some 15,000 lines: line by line, parsing was a third of the
    loader's time); anything the fast path does not settle itself — a field twice, a key
    not as spelled, a v0.1 name, a value that is not of the most usual form, any rule
    broken — is left to `read_record`, record by record, so that refusals name exactly what
    they named before."""
    if plain and not spec.renamed:
        try:
            return _read_plain_records(spec, chunks, now)
        except (_Unusual, Invalid):
            pass
    return tuple(read_record(spec, c, i, now) for i, c in enumerate(chunks, start=1))


def _read_plain_records(spec: Spec, chunks: Sequence[str], now: datetime) -> tuple[Record, ...]:
    raws: list[dict[str, Any]] = []
    accepted = spec.keys.keys()
    for chunk in chunks:
        lines = chunk.split("\n")
        try:
            raw = dict(map(_SPLIT, lines))  # ValueError: a line without ": "
        except ValueError:
            raise _Unusual from None
        if len(raw) != len(lines) or not raw.keys() <= accepted:
            raise _Unusual  # a key twice, or one not as spelled
        raws.append(raw)
    present: set[str] = set().union(*raws)
    for name in present & spec.ignored:
        for raw in raws:
            raw.pop(name, None)
    dicts: list[dict[str, fv.BenchmarkValue]] = [{} for _ in raws]
    for name in present - spec.ignored:
        _read_column(spec, name, raws, dicts)
    return tuple(
        check_record(spec, record, found, position, now)
        for position, (record, found) in enumerate(zip(raws, dicts, strict=True), start=1)
    )


def _read_column(
    spec: Spec, name: str, raws: list[dict[str, Any]], dicts: list[dict[str, fv.BenchmarkValue]]
) -> None:
    """One field of every record, read in place as `read_record` reads it (a v0.4 dictionary
    moved into `dicts`); `_Unusual` for anything else."""
    values: list[Any] = [raw.get(name) for raw in raws]
    places: Sequence[int] = range(len(raws))
    if None in values:  # some records leave it out
        places = [i for i, raw in enumerate(raws) if name in raw]
        values = [raws[i][name] for i in places]
    nulls = {v for v in set(values) if len(v) <= _NULL_LONGEST and v.lower() in fv.NULL_TOKENS}
    if name in fv.LITERAL_NULLS:
        nulls = {v for v in nulls if not v}  # the VO fields keep a literal "none"
    if nulls and name in spec.mandatory:
        raise _Unusual
    given = [v for v in values if v not in nulls] if nulls else values
    kind = spec.fields[name]
    read: list[Any]
    if kind is Kind.TEXT:
        if given and max(map(len, given)) > fv.TEXT_MAX:
            raise _Unusual
        if not nulls:
            return  # as sent (checked for unstorable characters with the whole message)
        read = given
    elif kind is Kind.INTEGER or kind is Kind.TIME:
        joined = "".join(given)
        if given and not (joined.isascii() and joined.isdigit()):
            raise _Unusual  # signed, not a number, ISO: left to `read_record`
        if given and max(map(len, given)) > _ALL_DIGITS:
            raise _Unusual  # perhaps out of range
        read = list(map(int, given))
        if kind is Kind.TIME:
            if read and max(read) > fv.EPOCH_MAX:
                raise _Unusual
            read = [datetime.fromtimestamp(n, UTC) for n in read]
    else:  # DECIMAL, BENCHMARK: a handful of distinct values a message
        reader, memo = spec.readers[name], {}
        for v in set(given):
            memo[v] = reader(v, 0, name)  # Invalid: left to `read_record`
        read = [memo[v] for v in given]
    if nulls:
        found = iter(read)
        read = [None if v in nulls else next(found) for v in values]
    if kind is Kind.BENCHMARK:
        for i, value in zip(places, read, strict=True):
            if value is None:
                raws[i][name] = None
            else:
                del raws[i][name]
                dicts[i][name] = value
        return
    for i, value in zip(places, read, strict=True):
        raws[i][name] = value
