"""The values of APEL's fields: null tokens, text, whole numbers, decimals, times, ISO
durations, benchmark dictionaries and FQANs, each read as APEL's loader reads it (its
`Record.checked`, `_extract_benchmark_dict`, `parse_fqan`), and refused with the field's
name and the rule it breaks where APEL would refuse it."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from domains.accounting.rules import AccountingRule as R
from domains.common.errors import Invalid

Value = str | int | Decimal | datetime | tuple[tuple[str, str], ...] | None
Record = dict[str, Value]

# APEL stores its dimension strings in VARCHAR(255) lookup tables
TEXT_MAX = 255
# the three fields whose literal "None" (or empty) text APEL keeps as sent
LITERAL_NULLS = frozenset({"VO", "VOGroup", "VORole"})
NULL_TOKENS = frozenset({"none", "null", ""})
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(
    r"[+-]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?"
)
_ISO_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?Z"
)
_ISO_DURATION = re.compile(
    r"P(?:([0-9]{1,9})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,12}(?:\.[0-9]{1,9})?)S)?)?"
)
_BENCHMARK_ITEM = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*:\s*(\S+?)\s*")
INT_MAX = 2**63 - 1
EPOCH_MAX = 253402300799  # 9999-12-31T23:59:59Z


class Kind(enum.Enum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    TIME = "time"
    BENCHMARK = "benchmark"  # v0.4's {type: value, ...}


class Benchmark(enum.StrEnum):
    """The benchmark types APEL knows, in its spelling; their priority in a v0.4 dictionary
    is HEPscore23, then HEPSPEC, then si2k."""

    HEPSCORE23 = "HEPscore23"
    HEPSPEC = "HEPSPEC"
    SI2K = "si2k"


BENCHMARK_PRIORITY = (Benchmark.HEPSCORE23, Benchmark.HEPSPEC, Benchmark.SI2K)
_BY_LOWER = {b.value.lower(): b for b in Benchmark}
# what a record without any benchmark gets: APEL's "custom" type, factor 1
CUSTOM = "custom"


def at(position: int, name: str) -> str:
    """The path of a record's field in errors: `record[3].EndTime` (records count from 1)."""
    return f"record[{position}].{name}"


def fail(position: int, name: str, rule: R, detail: str | None = None) -> Invalid:
    path = at(position, name)
    return Invalid(path, rule, f"{path}: {rule.text}" + (f" ({detail})" if detail else ""))


def is_null(raw: str) -> bool:
    return raw.strip().lower() in NULL_TOKENS


_NOT_STORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(raw: str) -> bool:
    """No character a text column cannot hold (NUL, a lone surrogate) anywhere in `raw`."""
    return _NOT_STORABLE.search(raw) is None


def text(raw: str, position: int, name: str) -> str:
    if len(raw) > TEXT_MAX:
        raise fail(position, name, R.ACCOUNTING_TEXT_TOO_LONG, f"{len(raw)} characters")
    if _NOT_STORABLE.search(raw):
        raise fail(position, name, R.ACCOUNTING_TEXT_NOT_STORABLE)
    return raw


def integer(raw: str, position: int, name: str) -> int:
    # int() would also take "1_000" and " 7 "; APEL's int() refuses "2.0", and so does this
    if len(raw) < 19 and raw.isascii() and raw.isdigit():  # the common case, in range
        return int(raw)
    if not _INTEGER.fullmatch(raw) or abs(int(raw)) > INT_MAX:
        raise fail(position, name, R.ACCOUNTING_INTEGER_INVALID, repr(short(raw)))
    return int(raw)


def decimal(raw: str, position: int, name: str) -> Decimal:
    if not _DECIMAL.fullmatch(raw):
        raise fail(position, name, R.ACCOUNTING_NUMBER_INVALID, repr(short(raw)))
    try:
        value = Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise fail(position, name, R.ACCOUNTING_NUMBER_INVALID, repr(short(raw))) from None
    return value


def time(raw: str, position: int, name: str) -> datetime:
    """Seconds since the epoch (key/value messages), or ISO UTC (CAR, StAR)."""
    if len(raw) < 19 and raw.isascii() and raw.isdigit():  # the common case
        seconds = int(raw)
        if seconds <= EPOCH_MAX:
            return datetime.fromtimestamp(seconds, UTC)
    elif _INTEGER.fullmatch(raw):
        seconds = int(raw)
        if 0 <= seconds <= EPOCH_MAX:
            return datetime.fromtimestamp(seconds, UTC)
    else:
        found = _ISO_TIME.fullmatch(raw)
        if found:
            try:
                year, month, day, hour, minute, second = (int(g) for g in found.groups())
                return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError:
                pass
    raise fail(position, name, R.ACCOUNTING_TIME_INVALID, repr(short(raw)))


def duration(raw: str, position: int, name: str) -> int:
    """An ISO 8601 duration (CAR's WallDuration, CpuDuration) in whole seconds, rounded."""
    found = _ISO_DURATION.fullmatch(raw.strip())
    if not found or raw.strip() in ("P", "PT") or raw.strip().endswith("T"):
        raise fail(position, name, R.ACCOUNTING_DURATION_INVALID, repr(short(raw)))
    days, hours, minutes, seconds = found.groups()
    total = Decimal(seconds or 0) + 60 * (
        int(minutes or 0) + 60 * (int(hours or 0) + 24 * int(days or 0))
    )
    return int(total.to_integral_value())


def benchmark_type(raw: str, position: int, name: str) -> str:
    found = _BY_LOWER.get(raw.lower())
    if found is None:
        raise fail(position, name, R.ACCOUNTING_SERVICE_LEVEL_TYPE, repr(short(raw)))
    return found.value


@dataclass(frozen=True, slots=True)
class BenchmarkValue:
    """The one value a v0.4 dictionary gives: of the highest-priority type it names."""

    type: str
    value: Decimal


def benchmark_dict(raw: str, position: int, name: str) -> BenchmarkValue:
    """`{hepspec: 11.4, HEPscore23: 15.3}` → HEPscore23 15.3: keys in any case, each once;
    a dictionary naming none of the known types is invalid, as in APEL."""
    body = raw.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise fail(position, name, R.ACCOUNTING_BENCHMARK_INVALID, repr(short(raw)))
    values: dict[Benchmark, Decimal] = {}
    seen: set[str] = set()
    for item in body[1:-1].split(","):
        found = _BENCHMARK_ITEM.fullmatch(item)
        if not found:
            raise fail(position, name, R.ACCOUNTING_BENCHMARK_INVALID, repr(short(raw)))
        key = found.group(1).lower()
        if key in seen:
            raise fail(position, name, R.ACCOUNTING_BENCHMARK_INVALID, f"{key} twice")
        seen.add(key)
        number = decimal(found.group(2), position, name)
        if key in _BY_LOWER:
            values[_BY_LOWER[key]] = number
    for kind in BENCHMARK_PRIORITY:
        if kind in values:
            return BenchmarkValue(kind.value, values[kind])
    raise fail(position, name, R.ACCOUNTING_BENCHMARK_INVALID, "no known benchmark type")


@dataclass(frozen=True, slots=True)
class Fqan:
    vo: str | None
    group: str | None
    role: str | None


@lru_cache(maxsize=1024)  # a message's records repeat a handful of FQANs
def parse_fqan(fqan: str) -> Fqan:
    """The first FQAN of a `;`-separated list as APEL splits it: `/atlas/lcg1/Role=pilot/
    Capability=NULL` → VO `atlas`, group `/atlas/lcg1`, role `Role=pilot`. One that does not
    start with `/` or has no `Role=` after its VO is the VO as a whole, with no group or role."""
    first = fqan.split(";")[0]
    lower = first.lower()
    where = lower.find("role=")
    if not first.startswith("/") or where in (-1, 1):
        return Fqan(first, None, None)
    pieces = [p for p in first.split("/") if p]
    group = ""
    role: str | None = None
    for piece in pieces:
        if piece.lower().startswith("role="):
            role = piece
            break
        group += "/" + piece
    return Fqan(pieces[0], group or None, role)


def short(raw: str) -> str:
    """A value or key as an error quotes it: at most 40 characters."""
    return raw if len(raw) <= 40 else raw[:37] + "..."
