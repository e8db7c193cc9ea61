"""The periodic job that flags site API credentials left unused
(OPSGRAPH_API_CREDENTIAL_UNUSED_MONTHS): one transaction per batch, idempotent, registered
with the other periodic jobs and configured from the settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from domains.common.audit import AuditEntry
from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.outbox import periodic_job_named
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.identity import service as identity
from domains.topology import service as topology
from domains.topology.models import CredentialKind, SiteApiCredential
from workers import topology as job


def _flagged(session: Session) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(SiteApiCredential)
            .where(SiteApiCredential.unused_flagged_at.is_not(None))  # type: ignore[union-attr]
        ).scalar_one()
    )


def test_months_before_counts_calendar_months() -> None:
    at = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert job.months_before(at, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert job.months_before(at, 13) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    assert job.months_before(at, 3) == datetime(2025, 12, 31, 12, 0, tzinfo=UTC)


def test_the_job_flags_old_credentials_once_in_batches(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session:
        user = identity.ensure_user(session, issuer="test", subject="job.owner@egi.eu")
        site_id = int(session.execute(text("SELECT id FROM site ORDER BY id LIMIT 1")).scalar_one())
        ids = [
            pk(
                topology.add_site_credential(
                    session,
                    PLATFORM,
                    site_id=site_id,
                    identifier=f"/DC=org/CN=job robot {n}",
                    kind=CredentialKind.X509,
                    owner_id=pk(user),
                )
            )
            for n in range(3)
        ]
        old = utcnow() - timedelta(days=500)
        session.execute(
            text("UPDATE site_api_credential SET last_renewed_at = :t WHERE id IN (:a, :b)"),
            {"t": old, "a": ids[0], "b": ids[1]},
        )
        session.commit()
    assert job.flag_unused(session_factory, months=13, batch=1) == 2
    assert job.flag_unused(session_factory, months=13) == 0
    with session_factory() as session:
        assert _flagged(session) == 2
        entries = session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "site.flag_unused_api_credential")  # type: ignore[arg-type]
        ).scalar_one()
        assert entries == 2
    # a shorter period flags the third one only when its time has come
    assert job.flag_unused(session_factory, months=1, clock=utcnow) == 0
    later = lambda: utcnow() + timedelta(days=70)  # noqa: E731
    assert job.flag_unused(session_factory, months=1, clock=later) == 1


def test_the_job_is_registered_and_reads_its_months_from_the_settings(
    session_factory: sessionmaker[Session],
) -> None:
    assert periodic_job_named(job.UNUSED_CREDENTIALS_JOB).every_seconds == 3600.0
    assert CoreSettings.from_env({}).api_credential_unused_months == 13
    settings = CoreSettings.from_env({"OPSGRAPH_API_CREDENTIAL_UNUSED_MONTHS": "6"})
    before = job.CONFIG.replace(13)
    try:
        job.configure(settings)
        assert job.current_config() == 6
        assert job.unused_credentials_job(session_factory) == 0
    finally:
        job.CONFIG.replace(before)
