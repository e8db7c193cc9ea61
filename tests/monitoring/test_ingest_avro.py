"""ARGO's metric_data wire format: the schema's field order and nullable fields, a record
through Avro binary and an AMS message and back, and every way a message is no record."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import fastavro
import pytest

from domains.monitoring import avro
from domains.monitoring.avro import MalformedRecord, MetricResultIn
from domains.monitoring.rules import MonitoringRule

RESULT = MetricResultIn(
    timestamp=datetime(2026, 12, 4, 10, 20, 30, tzinfo=UTC),
    service="ARC-CE",
    hostname="ce01.example.org",
    metric="org.nordugrid.ARC-CE-submit",
    status="WARNING",
    monitoring_host="mon.egi.eu",
    actual_data="time=1.2s;5;10;0",
    summary="job submitted",
    message="long output\nsecond line",
    tags={"vofqan": "ops", "roc": None},
)


def test_the_schema_is_argos_field_order_with_its_nullable_fields() -> None:
    schema = json.loads(avro.SCHEMA_FILE.read_text())
    assert (schema["namespace"], schema["name"]) == ("argo.avro", "metric_data")
    assert [(f["name"], f["type"]) for f in schema["fields"][:9]] == [
        ("timestamp", "string"),
        ("service", "string"),
        ("hostname", "string"),
        ("metric", "string"),
        ("status", "string"),
        ("monitoring_host", ["null", "string"]),
        ("actual_data", ["null", "string"]),
        ("summary", ["null", "string"]),
        ("message", ["null", "string"]),
    ]
    tags = schema["fields"][9]
    assert tags["name"] == "tags"
    assert tags["type"][0] == "null"
    assert tags["type"][1]["type"] == "map"
    assert tags["type"][1]["values"] == ["null", "string"]


def test_a_record_survives_avro_binary_and_an_ams_message() -> None:
    assert avro.decode(avro.encode(RESULT)) == RESULT
    message = avro.to_message(RESULT)
    assert message["attributes"] == {"type": "metric_data", "partition_date": "2026-12-04"}
    assert avro.from_message(message["attributes"], message["data"]) == RESULT
    raw = base64.b64decode(message["data"])
    assert avro.from_message(message["attributes"], raw) == RESULT


def test_the_bytes_are_what_a_generic_avro_writer_makes() -> None:
    """The publisher side (ARGO uses the `avro` package's DatumWriter on the same schema):
    a record written field by field in ARGO's order decodes here."""
    out = io.BytesIO()
    record = {
        "timestamp": "2026-12-04T10:20:30Z",
        "service": "ARC-CE",
        "hostname": "ce01.example.org",
        "metric": "org.nordugrid.ARC-CE-submit",
        "status": "OK",
        "monitoring_host": None,
        "actual_data": None,
        "summary": None,
        "message": None,
        "tags": None,
    }
    schema = fastavro.parse_schema(json.loads(avro.SCHEMA_FILE.read_text()))
    fastavro.schemaless_writer(out, schema, record)
    decoded = avro.decode(out.getvalue())
    assert decoded.status == "OK"
    assert decoded.tags == {}
    assert decoded.monitoring_host is None
    assert avro.to_record(decoded) == record


@pytest.mark.parametrize(
    ("data", "field", "rule"),
    [
        (b"", "data", MonitoringRule.RESULT_AVRO_MALFORMED),
        (b"\x02", "data", MonitoringRule.RESULT_AVRO_MALFORMED),
        (avro.encode(RESULT)[:-3], "data", MonitoringRule.RESULT_AVRO_MALFORMED),
        (avro.encode(RESULT) + b"\x00", "data", MonitoringRule.RESULT_AVRO_MALFORMED),
        (b"\xff" * 40, "data", MonitoringRule.RESULT_AVRO_MALFORMED),
    ],
)
def test_bytes_that_are_no_record_are_malformed(
    data: bytes, field: str, rule: MonitoringRule
) -> None:
    with pytest.raises(MalformedRecord) as caught:
        avro.decode(data)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_timestamp_not_in_argos_form_is_named() -> None:
    bad = avro.to_record(RESULT) | {"timestamp": "04/12/2026 10:20"}
    out = io.BytesIO()
    fastavro.schemaless_writer(out, avro.SCHEMA, bad)
    with pytest.raises(MalformedRecord) as caught:
        avro.decode(out.getvalue())
    assert caught.value.field == "timestamp"
    assert caught.value.rule is MonitoringRule.RESULT_TIMESTAMP_MALFORMED
    assert avro.parse_timestamp("2026-12-04T10:20:30.250Z").microsecond == 250000
    # the fast path for the canonical form and strptime for the rest read the same times
    # and refuse the same impossible ones
    canonical = avro.parse_timestamp("2026-12-04T10:20:30Z")
    assert canonical == datetime(2026, 12, 4, 10, 20, 30, tzinfo=UTC)
    assert avro.parse_timestamp("2026-12-4T10:20:30Z") == canonical  # strptime's form
    assert avro.parse_timestamp("2026-12-4T10:20:30.5Z").microsecond == 500000
    for impossible in (
        "2026-02-30T10:20:30Z",
        "2026-12-04T24:00:00Z",
        "2026-12-04T10:20:30.1234567Z",
    ):
        with pytest.raises(MalformedRecord):
            avro.parse_timestamp(impossible)


def test_a_message_of_another_type_or_not_base64_is_no_record() -> None:
    message = avro.to_message(RESULT)
    with pytest.raises(MalformedRecord) as caught:
        avro.from_message({"type": "alarm"}, message["data"])
    assert caught.value.field == "attributes.type"
    assert caught.value.rule is MonitoringRule.RESULT_MESSAGE_TYPE
    with pytest.raises(MalformedRecord) as caught:
        avro.from_message(message["attributes"], "not base64!")
    assert caught.value.rule is MonitoringRule.RESULT_AVRO_MALFORMED
