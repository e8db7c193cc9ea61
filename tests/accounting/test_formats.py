"""APEL's formats read as APEL's loader reads them: every header and version, the framing,
null tokens, FQAN splitting, benchmark priority, and each rule that refuses a message whole,
named by the record's position, the field and the rule's code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.accounting.formats import MAX_RECORDS, RecordKind, parse_message
from domains.accounting.formats.fields import parse_fqan
from domains.common.errors import Invalid

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
START = int(datetime(2026, 11, 30, 8, 0, tzinfo=UTC).timestamp())
END = START + 3600

JOB = f"""Site: UKI-SOUTHGRID-OX-HEP
SubmitHost: t2ce06.physics.ox.ac.uk:8443/cream-pbs-gridpp
MachineName: t2ce06.physics.ox.ac.uk
Queue: gridpp
LocalJobId: 123456
LocalUserId: atlasprd012
GlobalUserName: /C=UK/O=eScience/OU=Oxford/L=OeSC/CN=some user
FQAN: /atlas/Role=production/Capability=NULL;/atlas/Role=NULL/Capability=NULL
VO: ignored-when-fqan
WallDuration: 3600
CpuDuration: 3400
Processors: 8
NodeCount: 1
StartTime: {START}
EndTime: {END}
InfrastructureDescription: APEL-CREAM-PBS
InfrastructureType: grid
MemoryReal: 2000000
MemoryVirtual: null
ServiceLevelType: HEPSPEC
ServiceLevel: 10.5
SubmitHostType: CE-ID
"""


def job_message(*records: str, version: str = "0.3") -> str:
    body = "%%\n".join(records)
    return f"APEL-individual-job-message: v{version}\n{body}%%\n"


def refusal(body: str, now: datetime = NOW) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse_message(body, now)
    return caught.value


def test_a_job_message_of_two_records_with_the_trailing_separator_and_whitespace() -> None:
    second = JOB.replace("LocalJobId: 123456", "LocalJobId: 123457").replace("FQAN: ", "FQAN: ")
    message = parse_message("\n  " + job_message(JOB, second) + "\n\n", NOW)
    assert message.kind is RecordKind.JOB
    assert message.header == "APEL-individual-job-message: v0.3"
    assert [r["LocalJobId"] for r in message.records] == ["123456", "123457"]
    record = message.records[0]
    assert record["WallDuration"] == 3600
    assert record["Processors"] == 8
    assert record["StartTime"] == datetime.fromtimestamp(START, UTC)
    assert record["ServiceLevelType"] == "HEPSPEC"
    assert record["ServiceLevel"] == Decimal("10.5")
    assert record["MemoryVirtual"] is None  # a null token
    assert "SubmitHostType" not in record  # accepted and dropped, as APEL does
    # the first FQAN overrides VO, VOGroup and VORole
    assert (record["VO"], record["VOGroup"], record["VORole"]) == (
        "atlas",
        "/atlas",
        "Role=production",
    )


@pytest.mark.parametrize(
    ("fqan", "vo", "group", "role"),
    [
        ("/atlas/Role=production/Capability=NULL", "atlas", "/atlas", "Role=production"),
        ("/atlas/lcg1/Role=pilot", "atlas", "/atlas/lcg1", "Role=pilot"),
        ("/biomed/ROLE=NULL;/biomed/x", "biomed", "/biomed", "ROLE=NULL"),
        ("/dteam", "/dteam", None, None),  # no role: the whole FQAN is the VO
        ("atlas/Role=x", "atlas/Role=x", None, None),  # not starting with /
        ("/Role=x", "/Role=x", None, None),
    ],
)
def test_fqans_split_as_apel_splits_them(
    fqan: str, vo: str, group: str | None, role: str | None
) -> None:
    parsed = parse_fqan(fqan)
    assert (parsed.vo, parsed.group, parsed.role) == (vo, group, role)


def test_vo_fields_keep_a_literal_none_and_other_fields_read_it_as_missing() -> None:
    record = JOB.replace(
        "FQAN: /atlas/Role=production/Capability=NULL;/atlas/Role=NULL/Capability=NULL\n", ""
    )
    record = record.replace("VO: ignored-when-fqan", "VO: None\nVORole: NULL")
    record = record.replace("Queue: gridpp", "Queue: NONE")
    parsed = parse_message(job_message(record), NOW).records[0]
    assert (parsed["VO"], parsed["VORole"], parsed["Queue"]) == ("None", "NULL", None)


def test_version_01_names_are_read_as_todays() -> None:
    old = (
        JOB.replace("LocalJobId:", "LocalJobID:")
        .replace("FQAN:", "UserFQAN:")
        .replace("ServiceLevelType:", "ScalingFactorUnit:")
        .replace("ServiceLevel:", "ScalingFactor:")
    )
    record = parse_message(job_message(old, version="0.1"), NOW).records[0]
    assert (record["LocalJobId"], record["VO"], record["ServiceLevel"]) == (
        "123456",
        "atlas",
        Decimal("10.5"),
    )
    # v0.3 knows only today's names
    assert refusal(job_message(old)).rule_code == "ACCOUNTING_FIELD_UNKNOWN"


def test_version_04_takes_the_benchmark_of_highest_priority_from_the_dictionary() -> None:
    v04 = JOB.replace("ServiceLevelType: HEPSPEC\n", "").replace(
        "ServiceLevel: 10.5", "ServiceLevel: {hepspec: 11.4, HEPscore23: 15.3, si2k: 2500}"
    )
    record = parse_message(job_message(v04, version="0.4"), NOW).records[0]
    assert (record["ServiceLevelType"], record["ServiceLevel"]) == ("HEPscore23", Decimal("15.3"))
    si2k = v04.replace("{hepspec: 11.4, HEPscore23: 15.3, si2k: 2500}", "{SI2K: 2500, other: 3}")
    record = parse_message(job_message(si2k, version="0.4"), NOW).records[0]
    assert (record["ServiceLevelType"], record["ServiceLevel"]) == ("si2k", Decimal(2500))
    without = v04.replace("ServiceLevel: {hepspec: 11.4, HEPscore23: 15.3, si2k: 2500}\n", "")
    record = parse_message(job_message(without, version="0.4"), NOW).records[0]
    assert (record["ServiceLevelType"], record["ServiceLevel"]) == ("custom", Decimal(1))
    for bad in (
        "{hepspec: 1, HEPSPEC: 2}",
        "{other: 3}",
        "{hepspec 1}",
        "hepspec: 1",
        "{hepspec: x}",
    ):
        error = refusal(
            job_message(
                v04.replace("{hepspec: 11.4, HEPscore23: 15.3, si2k: 2500}", bad), version="0.4"
            )
        )
        assert error.field == "record[1].ServiceLevel", bad
        assert error.rule_code in ("ACCOUNTING_BENCHMARK_INVALID", "ACCOUNTING_NUMBER_INVALID"), bad
    # the type is in the dictionary: a separate line is no v0.4 field
    assert refusal(job_message(JOB, version="0.4")).field == "record[1].ServiceLevelType"


def test_both_or_neither_of_the_service_level_pair() -> None:
    neither = JOB.replace("ServiceLevelType: HEPSPEC\n", "").replace("ServiceLevel: 10.5\n", "")
    record = parse_message(job_message(neither), NOW).records[0]
    assert (record["ServiceLevelType"], record["ServiceLevel"]) == ("custom", Decimal(1))
    half = JOB.replace("ServiceLevel: 10.5\n", "")
    error = refusal(job_message(JOB, half))
    assert (error.field, error.rule_code) == (
        "record[2].ServiceLevel",
        "ACCOUNTING_SERVICE_LEVEL_PAIR",
    )
    error = refusal(job_message(JOB.replace("HEPSPEC", "specint")))
    assert (error.field, error.rule_code) == (
        "record[1].ServiceLevelType",
        "ACCOUNTING_SERVICE_LEVEL_TYPE",
    )
    assert (
        parse_message(job_message(JOB.replace("HEPSPEC", "hepscore23")), NOW).records[0][
            "ServiceLevelType"
        ]
        == "HEPscore23"
    )


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (("LocalJobId: 123456\n", ""), "LocalJobId", "ACCOUNTING_FIELD_MISSING"),
        (("Site: UKI-SOUTHGRID-OX-HEP", "Site: null"), "Site", "ACCOUNTING_FIELD_MISSING"),
        (("Queue: gridpp", "Queue: gridpp\nColour: blue"), "Colour", "ACCOUNTING_FIELD_UNKNOWN"),
        (("Queue: gridpp", "Queue: gridpp\nQueue: other"), "Queue", "ACCOUNTING_FIELD_REPEATED"),
        (
            ("Queue: gridpp", "Queue: gridpp\n\nNodeCount: 2"),
            "line",
            "ACCOUNTING_LINE_NOT_KEY_VALUE",
        ),
        (
            ("WallDuration: 3600", "WallDuration: 3600.0"),
            "WallDuration",
            "ACCOUNTING_INTEGER_INVALID",
        ),
        (
            ("WallDuration: 3600", "WallDuration: 3_600"),
            "WallDuration",
            "ACCOUNTING_INTEGER_INVALID",
        ),
        (
            ("Processors: 8", "Processors: 99999999999999999999"),
            "Processors",
            "ACCOUNTING_INTEGER_INVALID",
        ),
        (("ServiceLevel: 10.5", "ServiceLevel: nan"), "ServiceLevel", "ACCOUNTING_NUMBER_INVALID"),
        (("ServiceLevel: 10.5", "ServiceLevel: inf"), "ServiceLevel", "ACCOUNTING_NUMBER_INVALID"),
        ((f"StartTime: {START}", "StartTime: yesterday"), "StartTime", "ACCOUNTING_TIME_INVALID"),
        (
            (f"StartTime: {START}", "StartTime: 99999999999999"),
            "StartTime",
            "ACCOUNTING_TIME_INVALID",
        ),
        (
            (f"StartTime: {START}", f"StartTime: {END + 1}"),
            "EndTime",
            "ACCOUNTING_END_BEFORE_START",
        ),
        (
            (
                f"EndTime: {END}",
                f"EndTime: {int((NOW + timedelta(days=2, seconds=1)).timestamp())}",
            ),
            "EndTime",
            "ACCOUNTING_END_IN_FUTURE",
        ),
        (("Queue: gridpp", "Queue: " + "q" * 256), "Queue", "ACCOUNTING_TEXT_TOO_LONG"),
    ],
)
def test_an_invalid_job_record_refuses_the_whole_message_naming_position_field_and_rule(
    change: tuple[str, str], field: str, rule: str
) -> None:
    bad = JOB.replace(*change)
    assert bad != JOB
    error = refusal(job_message(JOB, JOB, bad))
    assert (error.field, error.rule_code) == (f"record[3].{field}", rule)
    assert str(error).startswith(f"record[3].{field}: ")


def test_end_time_up_to_two_days_ahead_and_iso_times_are_accepted() -> None:
    ahead = int((NOW + timedelta(days=2)).timestamp())
    record = parse_message(
        job_message(JOB.replace(f"EndTime: {END}", f"EndTime: {ahead}")), NOW
    ).records[0]
    assert record["EndTime"] == NOW + timedelta(days=2)
    iso = JOB.replace(f"StartTime: {START}", "StartTime: 2026-11-30T08:00:00Z")
    assert parse_message(job_message(iso), NOW).records[0]["StartTime"] == datetime.fromtimestamp(
        START, UTC
    )


SUMMARY = """Site: RAL-LCG2
Month: 11
Year: 2026
GlobalUserName: /C=UK/CN=user
VO: atlas
VOGroup: /atlas
VORole: Role=production
SubmitHost: ce01.example.org
InfrastructureType: grid
ServiceLevelType: HEPSPEC
ServiceLevel: 10
NodeCount: 1
Processors: 1
EarliestEndTime: 1793491200
LatestEndTime: 1796083199
WallDuration: 234256
CpuDuration: 2345
NumberOfJobs: 100
"""


def test_summaries_of_every_version() -> None:
    message = parse_message(f"APEL-summary-job-message: v0.2\n{SUMMARY}%%\n{SUMMARY}", NOW)
    assert message.kind is RecordKind.SUMMARY
    assert len(message.records) == 2
    assert message.records[0]["NumberOfJobs"] == 100
    v04 = SUMMARY.replace("ServiceLevelType: HEPSPEC\n", "").replace(
        "ServiceLevel: 10", "ServiceLevel: {HEPSPEC: 10}"
    )
    record = parse_message(f"APEL-summary-job-message: v0.4\n{v04}%%", NOW).records[0]
    assert (record["ServiceLevelType"], record["ServiceLevel"]) == ("HEPSPEC", Decimal(10))
    # v0.3 is the normalised summary: "Infrastructure", the normalised durations, no service level
    v03 = (
        SUMMARY.replace("InfrastructureType:", "Infrastructure:")
        .replace("ServiceLevelType: HEPSPEC\nServiceLevel: 10\n", "")
        .replace(
            "NumberOfJobs: 100",
            "NumberOfJobs: 100\nNormalisedWallDuration: 2342560\nNormalisedCpuDuration: 23450",
        )
    )
    message = parse_message(f"APEL-summary-job-message: v0.3\n{v03}", NOW)
    assert message.kind is RecordKind.NORMALISED_SUMMARY
    assert message.records[0]["NormalisedWallDuration"] == 2342560
    assert (
        refusal(f"APEL-summary-job-message: v0.3\n{SUMMARY}").field
        == "record[1].InfrastructureType"
    )
    n04 = v03.replace(
        "NormalisedWallDuration: 2342560",
        "NormalisedWallDuration: {hepspec: 2342560, HEPscore23: 2000000}",
    )
    n04 = n04.replace(
        "NormalisedCpuDuration: 23450",
        "NormalisedCpuDuration: {HEPscore23: 20000.4, hepspec: 23450}",
    )
    record = parse_message(f"APEL-normalised-summary-message: v0.4\n{n04}", NOW).records[0]
    assert (
        record["ServiceLevelType"],
        record["NormalisedWallDuration"],
        record["NormalisedCpuDuration"],
    ) == ("HEPscore23", 2000000, 20000)
    mixed = n04.replace("{HEPscore23: 20000.4, hepspec: 23450}", "{hepspec: 23450}")
    error = refusal(f"APEL-normalised-summary-message: v0.4\n{mixed}")
    assert (error.field, error.rule_code) == (
        "record[1].NormalisedCpuDuration",
        "ACCOUNTING_BENCHMARK_MIXTURE",
    )


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (("Month: 11", "Month: 13"), "Month", "ACCOUNTING_MONTH_INVALID"),
        (("Month: 11", "Month: 0"), "Month", "ACCOUNTING_MONTH_INVALID"),
        (("Year: 2026", "Year: 1969"), "Year", "ACCOUNTING_YEAR_INVALID"),
        (("Year: 2026", "Year: 2027"), "Month", "ACCOUNTING_MONTH_IN_FUTURE"),
        (
            ("EarliestEndTime: 1793491200", "EarliestEndTime: 1793491199"),
            "EarliestEndTime",
            "ACCOUNTING_END_TIME_OUTSIDE_MONTH",
        ),
        (
            ("LatestEndTime: 1796083199", "LatestEndTime: 1796083201"),
            "LatestEndTime",
            "ACCOUNTING_END_TIME_OUTSIDE_MONTH",
        ),
        (
            ("EarliestEndTime: 1793491200", "EarliestEndTime: 1796083199\nUpdateTime: x"),
            "LatestEndTime",
            None,
        ),
        (
            ("LatestEndTime: 1796083199", "LatestEndTime: 1793491300\nEarliestEndTime: 1"),
            "EarliestEndTime",
            "ACCOUNTING_FIELD_REPEATED",
        ),
        (("WallDuration: 234256", "WallDuration: -1"), "WallDuration", "ACCOUNTING_NEGATIVE"),
        (("CpuDuration: 2345", "CpuDuration: -2345"), "CpuDuration", "ACCOUNTING_NEGATIVE"),
        (("NumberOfJobs: 100", "NumberOfJobs: null"), "NumberOfJobs", "ACCOUNTING_FIELD_MISSING"),
    ],
)
def test_summary_rules(change: tuple[str, str], field: str, rule: str | None) -> None:
    bad = SUMMARY.replace(*change)
    body = f"APEL-summary-job-message: v0.2\n{SUMMARY}%%\n{bad}"
    if rule is None:  # earliest equal to latest, UpdateTime accepted and dropped: valid
        assert (
            parse_message(body, NOW).records[1]["EarliestEndTime"]
            == parse_message(body, NOW).records[1]["LatestEndTime"]
        )
        return
    error = refusal(body)
    assert (error.field, error.rule_code) == (f"record[2].{field}", rule)


def test_earliest_after_latest_is_refused() -> None:
    bad = SUMMARY.replace("EarliestEndTime: 1793491200", "EarliestEndTime: 1796083100").replace(
        "LatestEndTime: 1796083199", "LatestEndTime: 1793491300"
    )
    error = refusal(f"APEL-summary-job-message: v0.2\n{bad}")
    assert (error.field, error.rule_code) == (
        "record[1].LatestEndTime",
        "ACCOUNTING_END_TIME_OUTSIDE_MONTH",
    )


def test_sync_records() -> None:
    sync = (
        "Site: RAL-LCG2\nSubmitHost: ce01.example.org\nNumberOfJobs: 1200\nMonth: 12\nYear: 2026\n"
    )
    record = parse_message(f"APEL-sync-message: v0.1\n{sync}%%\n", NOW).records[0]
    assert (record["Site"], record["NumberOfJobs"], record["Month"]) == ("RAL-LCG2", 1200, 12)
    error = refusal(
        f"APEL-sync-message: v0.1\n{sync.replace('Month: 12', 'Month: 1').replace('2026', '2027')}"
    )
    assert error.rule_code == "ACCOUNTING_MONTH_IN_FUTURE"


CLOUD = f"""VMUUID: 2a1b-33
SiteName: CESGA
CloudComputeService: cloud.cesga.es
MachineName: vm-1
LocalUserId: u1
LocalGroupId: g1
GlobalUserName: /DC=org/CN=user
FQAN: /fedcloud.egi.eu/Role=NULL/Capability=NULL
Status: started
StartTime: {START}
EndTime: NULL
SuspendDuration: 100
WallDuration: 7200
CpuDuration: 7000
CpuCount: 2.5
NetworkType: NULL
NetworkInbound: 1
NetworkOutbound: 2
PublicIPCount: 1
Memory: 4096
Disk: 40
BenchmarkType: HEPSPEC06
StorageRecordId: NULL
ImageId: img-7
CloudType: caso/5.2.1 (OpenStack)
"""


def test_cloud_records_get_their_measurement_time_and_defaults() -> None:
    for version in ("0.2", "0.4"):
        record = parse_message(f"APEL-cloud-message: v{version}\n{CLOUD}%%", NOW).records[0]
        assert record["MeasurementTime"] == datetime.fromtimestamp(START + 100 + 7200, UTC)
        assert (record["Benchmark"], record["CpuCount"], record["VO"]) == (
            Decimal(0),
            Decimal("2.5"),
            "fedcloud.egi.eu",
        )
    created = CLOUD + f"RecordCreateTime: {END}\n"
    assert parse_message(f"APEL-cloud-message: v0.4\n{created}", NOW).records[0][
        "MeasurementTime"
    ] == datetime.fromtimestamp(END, UTC)
    done = created.replace("Status: started", "Status: completed").replace(
        "EndTime: NULL", f"EndTime: {END + 60}"
    )
    assert parse_message(f"APEL-cloud-message: v0.4\n{done}", NOW).records[0][
        "MeasurementTime"
    ] == datetime.fromtimestamp(END + 60, UTC)
    nothing = CLOUD.replace(f"StartTime: {START}", "StartTime: none")
    error = refusal(f"APEL-cloud-message: v0.4\n{nothing}")
    assert (error.field, error.rule_code) == (
        "record[1].StartTime",
        "ACCOUNTING_CLOUD_MEASUREMENT_TIME",
    )
    assert (
        refusal(f"APEL-cloud-message: v0.4\n{CLOUD.replace('VMUUID: 2a1b-33', 'VMUUID:')}").field
        == "record[1].VMUUID"
    )


def test_cloud_summaries() -> None:
    summary = (
        "SiteName: CESGA\nCloudComputeService: c\nMonth: 11\nYear: 2026\nStatus: completed\n"
        "CpuCount: 2\nNumberOfVMs: 3\nWallDuration: 10\n"
    )
    record = parse_message(f"APEL-cloud-summary-message: v0.4\n{summary}", NOW).records[0]
    assert (record["NumberOfVMs"], record["CpuCount"]) == (3, Decimal(2))
    error = refusal(
        f"APEL-cloud-summary-message: v0.4\n{summary.replace('NumberOfVMs: 3', 'NumberOfVMs: -3')}"
    )
    assert (error.field, error.rule_code) == ("record[1].NumberOfVMs", "ACCOUNTING_NEGATIVE")


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ("", "header", "ACCOUNTING_HEADER_UNKNOWN"),
        ("APEL-individual-job-message: v0.5\n" + JOB, "header", "ACCOUNTING_HEADER_UNKNOWN"),
        ("APEL-summary-job-message: v0.2x\n" + SUMMARY, "header", "ACCOUNTING_HEADER_UNKNOWN"),
        ("Site: X\nLocalJobId: 1\n", "header", "ACCOUNTING_HEADER_UNKNOWN"),
        ("APEL-individual-job-message: v0.3\n%%\n  \n%%", "message", "ACCOUNTING_MESSAGE_EMPTY"),
        ("APEL-individual-job-message: v0.3", "message", "ACCOUNTING_MESSAGE_EMPTY"),
    ],
)
def test_a_message_without_records_or_a_known_header_is_refused_whole(
    body: str, field: str, rule: str
) -> None:
    error = refusal(body)
    assert (error.field, error.rule_code) == (field, rule)


def test_the_record_count_is_bounded() -> None:
    record = "Site: S\nSubmitHost: h\nNumberOfJobs: 1\nMonth: 1\nYear: 2026\n"
    parse_message("APEL-sync-message: v0.1\n" + "%%\n".join([record] * MAX_RECORDS), NOW)
    error = refusal("APEL-sync-message: v0.1\n" + "%%\n".join([record] * (MAX_RECORDS + 1)))
    assert error.rule_code == "ACCOUNTING_TOO_MANY_RECORDS"


CAR_DOC = f"""<?xml version="1.0" encoding="UTF-8"?>
<urf:UsageRecords xmlns:urf="http://eu-emi.eu/namespaces/2012/11/computerecord">
 <urf:UsageRecord>
  <urf:RecordIdentity urf:createTime="2026-12-01T10:00:00Z" urf:recordId="ce01 77 1"/>
  <urf:JobIdentity><urf:LocalJobId>77</urf:LocalJobId></urf:JobIdentity>
  <urf:UserIdentity>
   <urf:GlobalUserName urf:type="opensslCompat">/C=UK/CN=user</urf:GlobalUserName>
   <urf:Group>atlas</urf:Group>
   <urf:GroupAttribute urf:type="FQAN">/atlas/Role=pilot/Capability=NULL</urf:GroupAttribute>
   <urf:LocalUserId>atl001</urf:LocalUserId>
  </urf:UserIdentity>
  <urf:Status>completed</urf:Status>
  <urf:Infrastructure urf:type="grid" urf:description="APEL-ARC-SLURM"/>
  <urf:WallDuration>PT1H0M0S</urf:WallDuration>
  <urf:CpuDuration urf:usageType="user">PT10S</urf:CpuDuration>
  <urf:CpuDuration urf:usageType="all">P0DT0H50M30.6S</urf:CpuDuration>
  <urf:ServiceLevel urf:type="HEPscore23">14.2</urf:ServiceLevel>
  <urf:Memory urf:type="Physical" urf:storageUnit="KB">1024</urf:Memory>
  <urf:Processors>4</urf:Processors>
  <urf:EndTime>{datetime.fromtimestamp(END, UTC):%Y-%m-%dT%H:%M:%SZ}</urf:EndTime>
  <urf:StartTime>{datetime.fromtimestamp(START, UTC):%Y-%m-%dT%H:%M:%SZ}</urf:StartTime>
  <urf:MachineName>ce01.example.org</urf:MachineName>
  <urf:Queue>long</urf:Queue>
  <urf:Site>EXAMPLE-SITE</urf:Site>
 </urf:UsageRecord>
</urf:UsageRecords>
"""

STAR_DOC = """<sr:StorageUsageRecords xmlns:sr="http://eu-emi.eu/namespaces/2011/02/storagerecord">
 <sr:StorageUsageRecord>
  <sr:RecordIdentity sr:createTime="2026-12-01T00:00:00Z"
                     sr:recordId="host.example.org/sr/87912469269276"/>
  <sr:StorageSystem>host.example.org</sr:StorageSystem>
  <sr:Site>EXAMPLE-SITE</sr:Site>
  <sr:StorageShare>atlas-disk</sr:StorageShare>
  <sr:StorageMedia>disk</sr:StorageMedia>
  <sr:FileCount>42</sr:FileCount>
  <sr:SubjectIdentity>
   <sr:Group>atlas</sr:Group>
   <sr:GroupAttribute sr:attributeType="subgroup">higgs</sr:GroupAttribute>
   <sr:GroupAttribute sr:attributeType="role">production</sr:GroupAttribute>
   <sr:GroupAttribute sr:attributeType="authority">/O=Grid/CN=host</sr:GroupAttribute>
  </sr:SubjectIdentity>
  <sr:StartTime>2026-11-30T00:00:00Z</sr:StartTime>
  <sr:EndTime>2026-12-01T00:00:00Z</sr:EndTime>
  <sr:ResourceCapacityUsed>14728</sr:ResourceCapacityUsed>
  <sr:LogicalCapacityUsed>13617</sr:LogicalCapacityUsed>
 </sr:StorageUsageRecord>
</sr:StorageUsageRecords>
"""


def test_car_job_records_meet_the_job_records_rules() -> None:
    message = parse_message(CAR_DOC, NOW)
    assert (message.kind, message.header) == (RecordKind.JOB, "CAR")
    record = message.records[0]
    assert (record["Site"], record["LocalJobId"], record["VO"], record["VORole"]) == (
        "EXAMPLE-SITE",
        "77",
        "atlas",
        "Role=pilot",
    )
    assert (record["WallDuration"], record["CpuDuration"], record["Processors"]) == (3600, 3031, 4)
    assert (record["ServiceLevelType"], record["ServiceLevel"], record["MemoryReal"]) == (
        "HEPscore23",
        Decimal("14.2"),
        1024,
    )
    assert (record["InfrastructureType"], record["EndTime"]) == (
        "grid",
        datetime.fromtimestamp(END, UTC),
    )
    error = refusal(CAR_DOC.replace("PT1H0M0S", "an hour"))
    assert (error.field, error.rule_code) == (
        "record[1].WallDuration",
        "ACCOUNTING_DURATION_INVALID",
    )
    error = refusal(CAR_DOC.replace("<urf:Site>EXAMPLE-SITE</urf:Site>", ""))
    assert (error.field, error.rule_code) == ("record[1].Site", "ACCOUNTING_FIELD_MISSING")


def test_star_storage_records() -> None:
    message = parse_message(STAR_DOC, NOW)
    assert (message.kind, message.header) == (RecordKind.STORAGE, "StAR")
    record = message.records[0]
    assert (record["RecordId"], record["StorageSystem"], record["Group"]) == (
        "host.example.org/sr/87912469269276",
        "host.example.org",
        "atlas",
    )
    assert (record["SubGroup"], record["Role"], record["FileCount"]) == ("higgs", "production", 42)
    assert record["GroupAttributes"] == (("authority", "/O=Grid/CN=host"),)
    assert record["ResourceCapacityUsed"] == 14728
    error = refusal(
        STAR_DOC.replace("<sr:ResourceCapacityUsed>14728</sr:ResourceCapacityUsed>", "")
    )
    assert (error.field, error.rule_code) == (
        "record[1].ResourceCapacityUsed",
        "ACCOUNTING_FIELD_MISSING",
    )


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "ACCOUNTING_XML_INVALID"),
        ("<sr:StorageUsageRecords xmlns:sr='x'>", "ACCOUNTING_XML_INVALID"),
        ("<records/>", "ACCOUNTING_XML_INVALID"),
        (
            '<a:SummaryRecords xmlns:a="http://eu-emi.eu/namespaces/2012/11/aggregatedcomputerecord"/>',
            "ACCOUNTING_XML_AGGREGATED",
        ),
        (
            '<sr:StorageUsageRecords xmlns:sr="http://eu-emi.eu/namespaces/2011/02/storagerecord"/>',
            "ACCOUNTING_MESSAGE_EMPTY",
        ),
    ],
)
def test_xml_that_is_no_car_or_star_is_refused(body: str, rule: str) -> None:
    assert refusal(body).rule_code == rule


@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(
        [
            "APEL-individual-job-message: v0.4",
            "APEL-summary-job-message: v0.3",
            "APEL-cloud-message: v0.4",
            "<",
            "x",
        ]
    ),
    lines=st.lists(st.text(max_size=60), max_size=12),
)
def test_any_text_is_read_or_refused_with_a_rule_never_anything_else(
    header: str, lines: list[str]
) -> None:
    body = header + "\n" + "\n".join(lines)
    rule = "read"
    try:
        parse_message(body, NOW)
    except Invalid as error:
        rule = error.rule_code
    assert rule == "read" or rule.startswith("ACCOUNTING_")


# what the whole-message reader (`read_records`) must read exactly as the line-by-line one
_TRICKY_VALUES = (
    "None", "null", "NULL", "", " ", "5", "-5", "+5", "5.0", "1e3", "0x10", "\uff19",
    "9" * 19, "253402300799", "253402300800", "2026-11-30T08:00:00Z", "a" * 256,
    "{hepspec: 10}", "{HEPscore23: 15.3, si2k: 2500}", "si2k", "HEPSPEC", "hepspec",
    "10.5", "/atlas/Role=pilot", "x\ty", "x\x00y", "x\u2028y", "local", "1 ", " 1",
)  # fmt: skip
_TRICKY_KEYS = ("Site", "site", "SubmitHostType", "UpdateTime", "Unknown", " VO", "LocalJobID")


def _outcome(body: str) -> object:
    try:
        message = parse_message(body, NOW)
    except Invalid as error:
        return (error.field, error.rule_code, str(error))
    return (message.kind, message.header, [list(r.items()) for r in message.records])


_TEMPLATES = {
    "0.3": JOB,
    "0.4": JOB.replace("ServiceLevelType: HEPSPEC\n", "").replace(
        "ServiceLevel: 10.5", "ServiceLevel: {hepspec: 11.4, HEPscore23: 15.3}"
    ),
    "summary": SUMMARY,
}
Edit = tuple[int, int, str, str, str]  # record, line, what, a value, a key


def _edited(version: str, records: int, edits: list[Edit]) -> str:
    chunks = [_TEMPLATES[version].rstrip("\n").split("\n") for _ in range(records)]
    for which, line, edit, value, key in edits:
        lines = chunks[which % records]
        at = line % len(lines)
        name = lines[at].partition(":")[0]
        if edit == "value":
            lines[at] = f"{name}: {value}"
        elif edit == "key":
            lines[at] = f"{key}: {lines[at].partition(': ')[2]}"
        elif edit == "twice":
            lines.append(lines[at])
        elif edit == "drop":
            del lines[at]
        elif edit == "blank":
            lines.insert(at, "")
        else:  # odd spacing
            lines[at] = lines[at].replace(": ", ":" if value == "" else ":  ", 1) + " " * (at % 2)
    header = (
        "APEL-summary-job-message: v0.2"
        if version == "summary"
        else f"APEL-individual-job-message: v{version}"
    )
    return header + "\n" + "%%\n".join("\n".join(c) + "\n" for c in chunks if c) + "%%\n"


def _same_either_way(body: str) -> None:
    whole = _outcome(body)
    with patch("domains.accounting.formats.keyvalue.is_plain", return_value=False):
        assert whole == _outcome(body), body


@pytest.mark.parametrize("version", sorted(_TEMPLATES))
def test_the_whole_message_reader_reads_and_refuses_exactly_as_line_by_line(
    version: str,
) -> None:
    """Every single edit of every line of the second of two records: the same records, or
    the same refusal (field, rule and words), as read line by line."""
    _same_either_way(_edited(version, 2, []))
    for line in range(len(_TEMPLATES[version].splitlines())):
        edits: list[Edit] = [(1, line, "value", value, "") for value in _TRICKY_VALUES]
        edits += [(1, line, "key", "", key) for key in _TRICKY_KEYS]
        edits += [(1, line, what, "", "") for what in ("twice", "drop", "blank", "space")]
        edits += [(1, line, "space", "x", "")]
        for edit in edits:
            _same_either_way(_edited(version, 2, [edit]))


@settings(max_examples=150, deadline=None)
@given(
    version=st.sampled_from(sorted(_TEMPLATES)),
    records=st.integers(1, 4),
    edits=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 30),
            st.sampled_from(["value", "key", "twice", "drop", "blank", "space"]),
            st.sampled_from(_TRICKY_VALUES),
            st.sampled_from(_TRICKY_KEYS),
        ),
        max_size=4,
    ),
)
def test_several_edits_are_read_and_refused_exactly_as_line_by_line(
    version: str, records: int, edits: list[Edit]
) -> None:
    _same_either_way(_edited(version, records, edits))


def test_plain_messages_with_null_tokens_and_ignored_fields_take_the_whole_message_reader() -> None:
    nulls = JOB.replace("Queue: gridpp", "Queue: NULL")
    nulls = nulls.replace("MemoryReal: 2000000", "MemoryReal: none")
    for body in (job_message(JOB, nulls), _edited("0.4", 3, []), _edited("summary", 2, [])):
        with patch("domains.accounting.formats.keyvalue.read_record", side_effect=AssertionError):
            read = parse_message(body, NOW)
        assert len(read.records) >= 2


def test_the_whole_message_reader_takes_every_line_break_and_odd_space_for_unusual() -> None:
    from domains.accounting.formats.keyvalue import is_plain

    odd = [chr(c) for c in range(0x3000 + 1) if chr(c).isspace() and chr(c) not in "\n "]
    odd += [f"x{chr(c)}y" for c in (0x1C, 0x85, 0x2028, 0x2029)]
    for character in odd:
        assert not is_plain(f"Site: a{character}b\nVO: x"), repr(character)
    assert not is_plain("Site: a \nVO: x")
    assert not is_plain("Site:  a")
    assert not is_plain("Site: a\x00")
    assert is_plain("Site: a\nVO: \u00e9")
