"""Loading APEL messages on both databases: one message, all its records or none; rows
replaced by APEL's keys, so that a message sent again changes nothing; every refusal kept
whole in the reject store with its reason, sender, message id and body."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.accounting.formats import RecordKind
from domains.accounting.models import (
    CloudRecord,
    JobRecord,
    NormalisedSummary,
    RejectedMessage,
    StorageRecord,
    Summary,
    SyncRecord,
)
from domains.accounting.service.loading import Sender, counts, load_message
from domains.topology.models import Site
from tests.accounting.test_formats import CAR_DOC, CLOUD, JOB, STAR_DOC, SUMMARY, job_message

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
DN = "/C=UK/O=eScience/OU=Oxford/CN=apel.example.org"


def a_site(session: Session, index: int = 0) -> str:
    names = session.execute(select(col(Site.short_name)).order_by(col(Site.id))).scalars().all()
    return str(names[index])


def sender(*sites: str) -> Sender:
    return Sender(DN, frozenset(sites), "topic:accounting/test")


def jobs(site: str, *ids: str, wall: int = 3600) -> bytes:
    records = [
        JOB.replace("Site: UKI-SOUTHGRID-OX-HEP", f"Site: {site}")
        .replace("LocalJobId: 123456", f"LocalJobId: {i}")
        .replace("WallDuration: 3600", f"WallDuration: {wall}")
        for i in ids
    ]
    return job_message(*records).encode()


def rejects(session: Session) -> list[RejectedMessage]:
    return list(
        session.execute(select(RejectedMessage).order_by(col(RejectedMessage.id))).scalars()
    )


def test_a_job_message_loads_whole_and_sending_it_again_changes_nothing(session: Session) -> None:
    site = a_site(session)
    outcome = load_message(session, jobs(site, "1", "2", "3"), sender(site), "m-1", NOW)
    assert (outcome.kind, outcome.records, outcome.reject_id) == (RecordKind.JOB, 3, None)
    rows = session.execute(select(JobRecord).order_by(col(JobRecord.local_job_id))).scalars().all()
    assert [r.local_job_id for r in rows] == ["1", "2", "3"]
    first = rows[0]
    assert (first.site, first.vo, first.vo_group, first.vo_role) == (
        site,
        "atlas",
        "/atlas",
        "Role=production",
    )
    assert (first.end_year, first.end_month, first.wall_duration) == (2026, 11, 3600)
    assert (first.service_level_type, first.service_level, first.publisher, first.message_id) == (
        "HEPSPEC",
        10.5,
        DN,
        "m-1",
    )
    assert first.memory_virtual is None
    before = counts(session)
    load_message(session, jobs(site, "1", "2", "3"), sender(site), "m-1", NOW)
    assert counts(session) == before
    # the same keys again with other values: the last write wins
    load_message(session, jobs(site, "2", wall=7200), sender(site), "m-2", NOW)
    found = session.execute(select(col(JobRecord.local_job_id), col(JobRecord.wall_duration)))
    walls = dict(found.all())
    assert walls == {"1": 3600, "2": 7200, "3": 3600}
    assert counts(session)["accounting_job"] == 3
    assert rejects(session) == []


def test_within_one_message_the_last_record_of_a_key_wins(session: Session) -> None:
    site = a_site(session)
    body = job_message(
        JOB.replace("UKI-SOUTHGRID-OX-HEP", site),
        JOB.replace("UKI-SOUTHGRID-OX-HEP", site).replace("CpuDuration: 3400", "CpuDuration: 1"),
    )
    assert load_message(session, body.encode(), sender(site), "m", NOW).records == 2
    assert session.execute(select(col(JobRecord.cpu_duration))).scalars().all() == [1]


def test_a_row_the_database_refuses_rejects_the_message_and_keeps_loaded_at(
    session: Session,
) -> None:
    """PostgreSQL's loader COPYs through a temporary table: a value its column cannot hold
    (Processors beyond a 32-bit integer) still rejects the message whole, and a message sent
    again leaves each row's loaded_at as it was."""
    site = a_site(session)
    load_message(session, jobs(site, "1"), sender(site), "m-1", NOW)
    session.commit()
    loaded = session.execute(select(col(JobRecord.loaded_at))).scalar_one()
    load_message(session, jobs(site, "1"), sender(site), "m-1", NOW)
    assert session.execute(select(col(JobRecord.loaded_at))).scalar_one() == loaded
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite stores any integer
    body = jobs(site, "2", "3").replace(b"Processors: 8", b"Processors: 9999999999")
    outcome = load_message(session, body, sender(site), "m-2", NOW)
    assert outcome.rule == "ACCOUNTING_DATABASE_REFUSED"
    assert outcome.field == "message"
    assert session.execute(select(col(JobRecord.local_job_id))).scalars().all() == ["1"]
    # the connection goes on loading, through the same temporary table
    assert load_message(session, jobs(site, "4"), sender(site), "m-3", NOW).records == 1


def test_one_invalid_record_rejects_the_whole_message_with_its_body(session: Session) -> None:
    site = a_site(session)
    good = JOB.replace("UKI-SOUTHGRID-OX-HEP", site)
    bad = good.replace("LocalJobId: 123456", "LocalJobId: 9").replace(
        "WallDuration: 3600", "WallDuration: lots"
    )
    body = job_message(good, bad).encode()
    outcome = load_message(session, body, sender(site), "empaid-7", NOW)
    assert (outcome.records, outcome.rule) == (0, "ACCOUNTING_INTEGER_INVALID")
    assert counts(session)["accounting_job"] == 0
    [row] = rejects(session)
    assert (row.rule, row.field, row.sender, row.message_id, row.source) == (
        "ACCOUNTING_INTEGER_INVALID",
        "record[2].WallDuration",
        DN,
        "empaid-7",
        "topic:accounting/test",
    )
    assert row.body == body
    assert row.reason.startswith("record[2].WallDuration: a whole number")


def test_records_of_unknown_sites_or_of_sites_not_the_senders_are_rejected(
    session: Session,
) -> None:
    mine, other = a_site(session, 0), a_site(session, 1)
    outcome = load_message(session, jobs("NO-SUCH-SITE", "1"), sender(mine), "a", NOW)
    assert outcome.rule == "ACCOUNTING_SITE_UNKNOWN"
    outcome = load_message(
        session,
        job_message(
            JOB.replace("UKI-SOUTHGRID-OX-HEP", mine), JOB.replace("UKI-SOUTHGRID-OX-HEP", other)
        ).encode(),
        sender(mine),
        "b",
        NOW,
    )
    assert outcome.rule == "ACCOUNTING_SITE_NOT_SENDERS"
    assert [r.field for r in rejects(session)] == ["record[1].Site", "record[2].Site"]
    assert counts(session)["accounting_job"] == 0
    # a sender without a site restriction (an operator's re-load) may load any registered site
    unrestricted = Sender(DN, None, "reload")
    assert load_message(session, jobs(other, "1"), unrestricted, "c", NOW).records == 1


def test_a_body_that_is_no_utf8_or_holds_nul_is_rejected_and_kept_as_it_came(
    session: Session,
) -> None:
    site = a_site(session)
    body = b"APEL-individual-job-message: v0.3\nSite: \xff\xfe\n%%"
    assert load_message(session, body, sender(site), "x", NOW).rule == "ACCOUNTING_NOT_UTF8"
    nul = jobs(site, "1").replace(b"Queue: gridpp", b"Queue: grid\x00pp")
    assert load_message(session, nul, sender(site), "y", NOW).rule == "ACCOUNTING_TEXT_NOT_STORABLE"
    odd_key = job_message(JOB.replace("Queue: gridpp", "Qu\x00eue: x")).encode()
    assert load_message(session, odd_key, sender(site), "z", NOW).rule == "ACCOUNTING_FIELD_UNKNOWN"
    stored = rejects(session)
    assert [r.body for r in stored] == [body, nul, odd_key]
    assert "\x00" not in stored[2].field


def test_every_other_kind_loads_into_its_table(session: Session) -> None:
    site = a_site(session)
    me = sender(site)
    summary = SUMMARY.replace("RAL-LCG2", site)
    assert (
        load_message(
            session, f"APEL-summary-job-message: v0.2\n{summary}".encode(), me, "s", NOW
        ).records
        == 1
    )
    normalised = (
        summary.replace("InfrastructureType:", "Infrastructure:")
        .replace("ServiceLevelType: HEPSPEC\nServiceLevel: 10\n", "")
        .replace(
            "NumberOfJobs: 100",
            "NumberOfJobs: 100\nNormalisedWallDuration: 5\nNormalisedCpuDuration: 4",
        )
    )
    assert (
        load_message(
            session, f"APEL-summary-job-message: v0.3\n{normalised}".encode(), me, "n", NOW
        ).records
        == 1
    )
    sync = f"APEL-sync-message: v0.1\nSite: {site}\nNumberOfJobs: 7\nMonth: 11\nYear: 2026\n"
    assert load_message(session, sync.encode(), me, "y", NOW).records == 1
    cloud = CLOUD.replace("SiteName: CESGA", f"SiteName: {site}")
    assert (
        load_message(session, f"APEL-cloud-message: v0.4\n{cloud}".encode(), me, "c", NOW).records
        == 1
    )
    car = CAR_DOC.replace("EXAMPLE-SITE", site)
    assert load_message(session, car.encode(), me, "car", NOW).records == 1
    star = STAR_DOC.replace("EXAMPLE-SITE", site)
    assert load_message(session, star.encode(), me, "star", NOW).records == 1
    assert rejects(session) == []
    assert session.execute(select(col(Summary.number_of_jobs))).scalar_one() == 100
    assert (
        session.execute(select(col(NormalisedSummary.normalised_wall_duration))).scalar_one() == 5
    )
    sync_row = session.execute(select(SyncRecord)).scalar_one()
    assert (sync_row.submit_host, sync_row.number_of_jobs) == ("", 7)
    vm = session.execute(select(CloudRecord)).scalar_one()
    assert (vm.measurement_year, vm.measurement_month, vm.cpu_count, vm.vo) == (
        2026,
        11,
        2.5,
        "fedcloud.egi.eu",
    )
    storage = session.execute(select(StorageRecord)).scalar_one()
    assert (storage.group_name, storage.sub_group, storage.group_attributes) == (
        "atlas",
        "higgs",
        [["authority", "/O=Grid/CN=host"]],
    )
    assert session.execute(select(col(JobRecord.cpu_duration))).scalar_one() == 3031
    # a second cloud record of the VM in the same month replaces the first
    later = cloud.replace("WallDuration: 7200", "WallDuration: 9000")
    load_message(session, f"APEL-cloud-message: v0.4\n{later}".encode(), me, "c2", NOW)
    assert session.execute(select(col(CloudRecord.wall_duration))).scalars().all() == [9000]
