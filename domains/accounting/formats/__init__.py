"""APEL's message formats read into records: `parse_message(body, now)` gives the message's
record kind, its header and its records, or raises `Invalid` naming the record's position
(from 1), the field and the rule, so that a loader rejects the message whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domains.accounting.formats import keyvalue as kv
from domains.accounting.formats import xml as xr
from domains.accounting.formats.fields import Record
from domains.accounting.formats.keyvalue import RecordKind
from domains.accounting.rules import AccountingRule as R
from domains.common.errors import Invalid

# APEL's sender writes 1,000 records a message by default, 5,000 at most
MAX_RECORDS = 10_000

__all__ = ["MAX_RECORDS", "Message", "RecordKind", "parse_message"]


@dataclass(frozen=True)
class Message:
    kind: RecordKind
    header: str  # the APEL header line, or "CAR" / "StAR"
    records: tuple[Record, ...]


def _too_many(count: int) -> Invalid:
    return Invalid(
        "message", R.ACCOUNTING_TOO_MANY_RECORDS, f"message: {count} records, over {MAX_RECORDS:,}"
    )


def parse_message(body: str, now: datetime) -> Message:
    """One message, all its records or none: a header that is no record type, or any
    invalid record, refuses the whole message. `now` is the loader's clock (EndTime may be
    at most two days ahead of it; a summary's month must have begun)."""
    text = body.lstrip("\ufeff").strip()
    if text.startswith("<"):
        return _parse_xml(text, now)
    header, _, rest = text.partition("\n")
    header = " ".join(header.split())
    spec = kv.SPECS.get(header)
    if spec is None:
        shown = header if len(header) <= 60 else header[:57] + "..."
        raise Invalid(
            "header",
            R.ACCOUNTING_HEADER_UNKNOWN,
            f"header: {R.ACCOUNTING_HEADER_UNKNOWN.text} (not {shown!r})",
        )
    chunks = [c.strip() for c in rest.split(kv.SEPARATOR)]
    chunks = [c for c in chunks if c]
    if not chunks:
        raise Invalid("message", R.ACCOUNTING_MESSAGE_EMPTY)
    if len(chunks) > MAX_RECORDS:
        raise _too_many(len(chunks))
    records = kv.read_records(spec, chunks, now, plain=kv.is_plain(rest))
    return Message(spec.kind, header, records)


def _parse_xml(text: str, now: datetime) -> Message:
    root = xr.root_of(text)
    kind, elements, _ = xr.records_of(root)
    if not elements:
        raise Invalid("message", R.ACCOUNTING_MESSAGE_EMPTY)
    if len(elements) > MAX_RECORDS:
        raise _too_many(len(elements))
    read = xr.car_record if kind is RecordKind.JOB else xr.star_record
    records = tuple(read(e, i, now) for i, e in enumerate(elements, start=1))
    return Message(kind, "CAR" if kind is RecordKind.JOB else "StAR", records)
