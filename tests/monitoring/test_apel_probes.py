"""APEL-Pub and APEL-Sync on both databases (issue 15, item 8): OK, WARNING and CRITICAL
from what the accounting repository holds; scheduled for exactly the monitored production
gLite-APEL services whatever the reports expect; run by the worker without a target and
ingested like any probe's results."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

import domains.accounting.service.publication  # noqa: F401  (hands the probes their reads)
from domains.accounting.service.loading import load_message
from domains.monitoring.models import MetricResult, Report, ScheduledCheck
from domains.monitoring.probes import apel
from domains.monitoring.probes.nagios import CRITICAL, OK, UNKNOWN, WARNING
from domains.monitoring.service import scheduling
from domains.topology.models import Service, ServiceType, Site
from tests.accounting.test_formats import job_message
from tests.accounting.test_loading import NOW, a_site, sender
from tests.accounting.test_publication import HOST, sync_message
from tests.accounting.test_summaries import job
from workers import monitoring as worker

DAY = dt.timedelta(days=1)


def load(session: Session, site: str, body: str, at: dt.datetime = NOW) -> None:
    outcome = load_message(session, body.encode(), sender(site), "m", at)
    assert outcome.reject_id is None, outcome.reason


def test_apel_pub_by_the_days_since_the_last_publication(session: Session) -> None:
    site = a_site(session)
    never = apel.run(session, apel.PUB, site, {}, NOW)
    assert (never.status, never.summary) == (
        CRITICAL,
        "APEL-Pub CRITICAL - the site has never published",
    )
    load(session, site, sync_message(site, **{HOST: 0}))
    for days, status in ((1, OK), (8, WARNING), (31, CRITICAL)):
        assert apel.run(session, apel.PUB, site, {}, NOW + days * DAY).status == status
    assert apel.run(session, apel.PUB, site, {"warning_days": 10}, NOW + 8 * DAY).status == OK
    refused = apel.run(session, apel.PUB, site, {"warning_days": 5, "critical_days": 2}, NOW)
    assert (refused.status, refused.summary) == (
        UNKNOWN,
        "probe not run: critical_days: at least warning_days",
    )


def test_apel_sync_compares_the_last_complete_months(session: Session) -> None:
    site = a_site(session)
    # November 2026 (the month before NOW's): two jobs from HOST, one from z
    load(session, site, job_message(job(site, "1"), job(site, "2"), job(site, "3", SubmitHost="z")))
    load(session, site, sync_message(site, **{HOST: 2, "z": 1}))
    assert apel.run(session, apel.SYNC, site, {}, NOW).summary == (
        "APEL-Sync OK - in sync from 2026-10 to 2026-11"
    )
    load(session, site, sync_message(site, **{HOST: 2, "z": 2}))  # 4 said, 3 held: 25 % off
    off = apel.run(session, apel.SYNC, site, {}, NOW)
    assert (off.status, off.message) == (CRITICAL, "2026-11: z says 2, held 1")
    assert apel.run(session, apel.SYNC, site, {"critical_percent": 50}, NOW).status == WARNING
    # a month outside the window is not looked at
    assert apel.run(session, apel.SYNC, site, {"months": 1}, NOW + 31 * DAY).status == OK
    # jobs held for a host the site sent no sync record for
    load(session, site, sync_message(site, **{HOST: 2, "z": 1}))
    load(session, site, job_message(job(site, "4", SubmitHost="y")))
    unsent = apel.run(session, apel.SYNC, site, {"critical_percent": 50}, NOW)
    assert (unsent.status, unsent.message) == (CRITICAL, "2026-11: y says nothing, held 1")


def _apel_services(session: Session) -> set[int]:
    rows = session.scalars(
        select(col(Service.id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(ServiceType.name) == apel.SERVICE_TYPE)
        .where(col(Service.production).is_(True), col(Service.monitored).is_(True))
    )
    return {i for i in rows if i is not None}


def test_the_checks_follow_the_accounting_services_and_their_results_are_ingested(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    session.execute(update(Report).values(disabled=True))  # the profiles expect nothing
    scheduling.sync_checks(session, now=NOW)
    services = _apel_services(session)
    assert services
    rows = session.execute(select(col(ScheduledCheck.service_id), col(ScheduledCheck.metric)))
    checks = {(service, metric) for service, metric in rows}
    assert checks == {(s, m) for s in services for m in (apel.PUB_METRIC, apel.SYNC_METRIC)}
    # one site's service no longer monitored: its checks go, a site without one has none
    chosen = min(services)
    session.execute(update(Service).where(col(Service.id) == chosen).values(monitored=False))
    assert scheduling.sync_checks(session, now=NOW).removed == 2
    session.execute(update(Service).where(col(Service.id) == chosen).values(monitored=True))
    scheduling.sync_checks(session, now=NOW)

    host, site = session.execute(
        select(col(Service.host_name), col(Site.short_name))
        .join(Site, col(Site.id) == col(Service.site_id))
        .where(col(Service.id) == chosen)
    ).one()
    load(session, site, sync_message(site, **{HOST: 0}))
    session.execute(delete(ScheduledCheck).where(col(ScheduledCheck.service_id) != chosen))
    session.execute(update(ScheduledCheck).values(next_due=NOW))
    session.commit()
    config = worker.ProbeConfig(schedule=True, batch_size=10)
    later = NOW + dt.timedelta(hours=1)
    assert worker.schedule_due(session_factory, config, clock=lambda: later) == 2
    session.expire_all()
    results = session.execute(
        select(col(MetricResult.metric), col(MetricResult.status), col(MetricResult.source))
        .where(col(MetricResult.hostname) == host)
        .where(col(MetricResult.service_type) == apel.SERVICE_TYPE)
        .order_by(col(MetricResult.metric))
    ).all()
    assert [(m, s) for m, s, _ in results][0] == (apel.PUB_METRIC, OK)
    assert [m for m, _, _ in results] == [apel.PUB_METRIC, apel.SYNC_METRIC]
    assert {source for _, _, source in results} == {"opsgraph-probes"}
