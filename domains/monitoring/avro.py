"""ARGO's `metric_data` wire format: one metric result as an Avro-binary record (the schema
is `metric_data.avsc` beside this module, ARGO's field order and nullable fields), carried
in an AMS message whose attributes are `{"type": "metric_data", "partition_date":
"YYYY-MM-DD"}` and whose `data` is the base64 of the record, as argo-nagios-ams-publisher
sends it and ARGO's ingestion job reads it.

`decode` and `from_message` raise `MalformedRecord(field, rule, reason)` for anything that
is not such a record (truncated or trailing bytes, a wrong union branch, bad UTF-8, a
timestamp not in ARGO's form), so that the caller rejects that one record and goes on."""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro

from domains.monitoring.rules import MonitoringRule

MESSAGE_TYPE = "metric_data"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PARTITION_DATE_FORMAT = "%Y-%m-%d"
SCHEMA_FILE = Path(__file__).with_name("metric_data.avsc")
SCHEMA: Any = fastavro.parse_schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True, slots=True)
class MetricResultIn:
    """One metric result as ARGO's `metric_data` record holds it; `timestamp` is UTC,
    `actual_data` the Nagios perfdata, `tags` e.g. the VO (`vofqan`, `voname`, `roc`)."""

    timestamp: datetime
    service: str
    hostname: str
    metric: str
    status: str
    monitoring_host: str | None = None
    actual_data: str | None = None
    summary: str | None = None
    message: str | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict)


class MalformedRecord(ValueError):
    """What made a message no `metric_data` record: the field and the rule it broke."""

    def __init__(self, field_name: str, rule: MonitoringRule, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.rule = rule
        self.reason = reason


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z", re.ASCII)


def parse_timestamp(text: str) -> datetime:
    """ARGO's `YYYY-MM-DDTHH:MM:SSZ` (fractions of a second accepted and kept)."""
    try:
        if _CANONICAL.fullmatch(text):
            # what publishers send: fromisoformat reads it many times faster than strptime
            return datetime.fromisoformat(text)
        if "." in text:
            return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise MalformedRecord(
            "timestamp",
            MonitoringRule.RESULT_TIMESTAMP_MALFORMED,
            f"{text[:40]!r} is not a UTC time as YYYY-MM-DDTHH:MM:SSZ",
        ) from None


def to_record(result: MetricResultIn) -> dict[str, Any]:
    """The Avro record's fields, in the schema's order."""
    return {
        "timestamp": format_timestamp(result.timestamp),
        "service": result.service,
        "hostname": result.hostname,
        "metric": result.metric,
        "status": result.status,
        "monitoring_host": result.monitoring_host,
        "actual_data": result.actual_data,
        "summary": result.summary,
        "message": result.message,
        "tags": dict(result.tags) if result.tags else None,
    }


def from_record(record: Mapping[str, Any]) -> MetricResultIn:
    return MetricResultIn(
        timestamp=parse_timestamp(record["timestamp"]),
        service=record["service"],
        hostname=record["hostname"],
        metric=record["metric"],
        status=record["status"],
        monitoring_host=record["monitoring_host"],
        actual_data=record["actual_data"],
        summary=record["summary"],
        message=record["message"],
        tags=dict(record["tags"] or {}),
    )


def encode(result: MetricResultIn) -> bytes:
    """The Avro binary encoding of one record (no container, no schema: ARGO's form)."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, SCHEMA, to_record(result))
    return out.getvalue()


def decode(data: bytes) -> MetricResultIn:
    """One Avro-binary `metric_data` record, all of `data` and nothing more."""
    stream = io.BytesIO(data)
    try:
        record = fastavro.schemaless_reader(stream, SCHEMA, None)
    # Untrusted bytes: fastavro reports a bad record as whatever its reader hit (EOFError,
    # IndexError for a union branch out of range, UnicodeDecodeError, ValueError, ...).
    except Exception as exc:
        raise MalformedRecord(
            "data",
            MonitoringRule.RESULT_AVRO_MALFORMED,
            f"not an Avro metric_data record ({type(exc).__name__})",
        ) from None
    if stream.tell() != len(data):
        raise MalformedRecord(
            "data",
            MonitoringRule.RESULT_AVRO_MALFORMED,
            f"{len(data) - stream.tell()} bytes after the record",
        )
    assert isinstance(record, dict)
    return from_record(record)


def to_message(result: MetricResultIn) -> dict[str, Any]:
    """The AMS message a publisher sends: `{"attributes": {...}, "data": "<base64>"}`."""
    return {
        "attributes": {
            "type": MESSAGE_TYPE,
            "partition_date": result.timestamp.astimezone(UTC).strftime(PARTITION_DATE_FORMAT),
        },
        "data": base64.b64encode(encode(result)).decode("ascii"),
    }


def from_message(attributes: Mapping[str, Any], data: bytes | str) -> MetricResultIn:
    """A pulled AMS message back to its result: `data` as stored (raw bytes) or as sent
    (base64 text). A message whose `type` attribute names another kind (ARGO's publishers
    also send `alarm`) is no metric result."""
    kind = attributes.get("type")
    if kind != MESSAGE_TYPE:
        raise MalformedRecord(
            "attributes.type",
            MonitoringRule.RESULT_MESSAGE_TYPE,
            f"{str(kind)[:40]!r} is not {MESSAGE_TYPE!r}",
        )
    if isinstance(data, str):
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRecord(
                "data", MonitoringRule.RESULT_AVRO_MALFORMED, "data is not base64"
            ) from None
    return decode(data)
