"""The probes' schedule on both databases: the checks the enabled reports' metric profiles
expect for monitored production services, spread over the interval; claims that two
schedulers never share; the retry interval after a non-OK result; and the worker's batch:
real probes against loopback servers, results through ingest_results."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.egress import EgressPolicy
from domains.common.models import pk
from domains.common.settings import CoreSettings
from domains.monitoring.models import (
    Metric,
    MetricProfile,
    MetricProfileEntry,
    MetricResult,
    Probe,
    ProbeKind,
    Report,
    ScheduledCheck,
)
from domains.monitoring.probes import apel
from domains.monitoring.service import scheduling
from domains.topology.models import Service, ServiceType, Site
from tests.monitoring.probe_servers import http_server, stopped_port
from workers import monitoring as worker

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 1, 1)
TYPE = "org.opsgraph.probe-test"
INTERVAL, RETRY = 300, 60
UUIDS = ("p-http", "p-tcp", "m-http", "m-tcp", "mp", "r")  # the catalogue rows made here


def _catalogue(
    session: Session, *, disabled: bool = False, metrics: tuple[str, ...] = ("t.HTTP", "t.TCP")
) -> None:
    # only this test's report: the demo catalogue's expect the demo's (real) hosts; nor the
    # APEL checks, which the demo's gLite-APEL services would get whatever the reports say
    session.execute(update(Report).where(col(Report.uuid).not_in(UUIDS)).values(disabled=True))
    session.execute(delete(Metric).where(col(Metric.name).in_(apel.EXPECTED[apel.SERVICE_TYPE])))
    session.add_all(
        [
            Probe(
                uuid="p-http",
                date=DAY,
                name="http",
                version="1",
                kind=ProbeKind.BUILTIN,
                builtin="http",
                timeout_seconds=5,
            ),
            Probe(
                uuid="p-tcp",
                date=DAY,
                name="tcp",
                version="1",
                kind=ProbeKind.BUILTIN,
                builtin="tcp",
            ),
            Metric(
                uuid="m-http",
                date=DAY,
                name="t.HTTP",
                probe_name="http",
                probe_version="1",
                parameters={"expected_status": [200]},
                interval_seconds=INTERVAL,
                retry_interval_seconds=RETRY,
                max_check_attempts=2,
            ),
            Metric(
                uuid="m-tcp",
                date=DAY,
                name="t.TCP",
                probe_name="tcp",
                probe_version="1",
                interval_seconds=INTERVAL,
                retry_interval_seconds=RETRY,
            ),
            MetricProfile(uuid="mp", date=DAY, name="probe-test"),
        ]
    )
    session.flush()
    profile = session.scalars(select(MetricProfile).where(col(MetricProfile.uuid) == "mp")).one()
    assert profile.id is not None
    session.add_all(
        MetricProfileEntry(profile_id=profile.id, service_type=TYPE, metric=m) for m in metrics
    )
    session.add(
        Report(
            uuid="r",
            date=DAY,
            name="probe-test",
            metric_profile_uuid="mp",
            operations_profile_uuid="o",
            aggregation_profile_uuid="a",
            disabled=disabled,
        )
    )
    session.flush()


def _services(session: Session, urls: list[str | None]) -> list[int]:
    kind = ServiceType(name=TYPE)
    session.add(kind)
    session.flush()
    site = session.scalars(select(Site).order_by(col(Site.id))).first()
    assert site is not None
    assert site.id is not None
    assert kind.id is not None
    rows = [
        Service(site_id=site.id, service_type_id=kind.id, host_name="127.0.0.1", url=url)
        for url in urls
    ]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows if r.id is not None]


def _checks(session: Session) -> list[ScheduledCheck]:
    session.expire_all()
    return list(
        session.scalars(
            select(ScheduledCheck).order_by(
                col(ScheduledCheck.service_id), col(ScheduledCheck.metric)
            )
        )
    )


def test_sync_follows_the_reports_profiles_and_the_topology(session: Session) -> None:
    _catalogue(session)
    ids = _services(session, ["http://127.0.0.1:1/", "http://127.0.0.1:2/", None])
    assert scheduling.sync_checks(session, now=NOW) == scheduling.SyncReport(added=6, removed=0)
    checks = _checks(session)
    assert [(c.service_id, c.metric) for c in checks] == [
        (i, m) for i in ids for m in ("t.HTTP", "t.TCP")
    ]
    for check in checks:  # spread over the interval, stable per service and metric
        assert NOW <= check.next_due < NOW + dt.timedelta(seconds=INTERVAL)
        assert check.next_due == NOW + scheduling.spread(check.service_id, check.metric, INTERVAL)
    assert scheduling.sync_checks(session, now=NOW) == scheduling.SyncReport()
    session.execute(update(Service).where(col(Service.id) == ids[0]).values(monitored=False))
    session.execute(update(Service).where(col(Service.id) == ids[1]).values(production=False))
    assert scheduling.sync_checks(session, now=NOW) == scheduling.SyncReport(removed=4)
    session.execute(update(Report).values(disabled=True))
    assert scheduling.sync_checks(session, now=NOW) == scheduling.SyncReport(removed=2)
    assert _checks(session) == []
    # a report valid only from tomorrow expects nothing today
    session.execute(update(Report).values(disabled=False, date=NOW.date() + dt.timedelta(days=1)))
    assert scheduling.sync_checks(session, now=NOW) == scheduling.SyncReport()


def test_claims_leases_and_the_retry_interval(session: Session) -> None:
    _catalogue(session, metrics=("t.HTTP",))
    (service,) = _services(session, ["http://127.0.0.1:1/"])
    scheduling.sync_checks(session, now=NOW)
    (check,) = _checks(session)
    due = check.next_due
    lease = dt.timedelta(minutes=5)
    assert (
        scheduling.claim_due(
            session, now=due - dt.timedelta(seconds=1), limit=10, lease=lease
        ).check_ids
        == ()
    )
    first = scheduling.claim_due(session, now=due, limit=10, lease=lease)
    assert first.check_ids == (check.id,)
    assert scheduling.claim_due(session, now=due, limit=10, lease=lease).check_ids == ()
    # the lease ran out (the worker died): claimable again, and the first claim is void
    second = scheduling.claim_due(
        session, now=due + lease + dt.timedelta(seconds=1), limit=10, lease=lease
    )
    assert second.check_ids == (check.id,)
    ran = due + dt.timedelta(seconds=2)
    assert (
        scheduling.complete_checks(
            session, first.token, [scheduling.Outcome(pk(check), "OK", ran)], now=ran
        )
        == 0
    )
    # CRITICAL: the retry interval, until max_check_attempts (2) non-OK results in a row
    assert (
        scheduling.complete_checks(
            session, second.token, [scheduling.Outcome(pk(check), "CRITICAL", ran)], now=ran
        )
        == 1
    )
    (check,) = _checks(session)
    assert (check.attempt, check.last_status, check.claim_token) == (1, "CRITICAL", None)
    assert check.next_due == due + dt.timedelta(seconds=RETRY)
    for attempt, status, step in (
        (2, "CRITICAL", INTERVAL),
        (0, "OK", INTERVAL),
        (1, "WARNING", RETRY),
    ):
        previous = check.next_due
        claim = scheduling.claim_due(session, now=previous, limit=10, lease=lease)
        scheduling.complete_checks(
            session,
            claim.token,
            [scheduling.Outcome(pk(check), status, previous)],
            now=previous,
        )
        (check,) = _checks(session)
        assert (check.attempt, check.next_due) == (attempt, previous + dt.timedelta(seconds=step))
    # a run far behind its schedule is next due one interval after it ran
    late = check.next_due + dt.timedelta(hours=1)
    claim = scheduling.claim_due(session, now=late, limit=10, lease=lease)
    scheduling.complete_checks(
        session, claim.token, [scheduling.Outcome(pk(check), "OK", late)], now=late
    )
    assert _checks(session)[0].next_due == late + dt.timedelta(seconds=INTERVAL)


@contextmanager
def _committed(engine: Engine) -> Iterator[list[int]]:
    """Two services and their checks committed (two sessions must see them), removed after."""
    with Session(engine) as session:
        ids = _services(session, ["tcp://127.0.0.1:1/", "tcp://127.0.0.1:2/"])
        session.add_all(ScheduledCheck(service_id=i, metric="t.TCP", next_due=NOW) for i in ids)
        session.commit()
    try:
        yield ids
    finally:
        with Session(engine) as session:
            session.execute(delete(ScheduledCheck).where(col(ScheduledCheck.service_id).in_(ids)))
            session.execute(delete(Service).where(col(Service.id).in_(ids)))
            session.execute(delete(ServiceType).where(col(ServiceType.name) == TYPE))
            session.commit()


def test_two_schedulers_never_claim_the_same_check(engine: Engine) -> None:
    later = NOW + dt.timedelta(seconds=INTERVAL)
    lease = dt.timedelta(minutes=5)
    with _committed(engine):
        with Session(engine) as a, Session(engine) as b:
            seen_a = scheduling.due_checks(a, now=later, limit=10)
            seen_b = scheduling.due_checks(b, now=later, limit=10)
            a.rollback()
            b.rollback()
            assert len(seen_a) == 2
            assert seen_a == seen_b
            claim_a = scheduling.claim(a, seen_a, now=later, lease=lease)
            a.commit()
            claim_b = scheduling.claim(b, seen_b, now=later, lease=lease)
            b.commit()
        assert sorted(claim_a.check_ids) == sorted(seen_a)
        assert claim_b.check_ids == ()
        if engine.dialect.name == "postgresql":  # B's UPDATE waits for A's claim to commit
            with Session(engine) as session:
                session.execute(update(ScheduledCheck).values(claim_token=None, claimed_until=None))
                session.commit()
            with Session(engine) as a, Session(engine) as b:
                claim_a = scheduling.claim(a, seen_a, now=later, lease=lease)  # not committed
                claims: list[scheduling.Claim] = []
                racer = threading.Thread(
                    target=lambda: claims.append(
                        scheduling.claim(b, seen_b, now=later, lease=lease)
                    )
                )
                racer.start()
                a.commit()
                racer.join(30)
                b.commit()
            assert sorted(claim_a.check_ids) == sorted(seen_a)
            assert claims[0].check_ids == ()


def _no_names(host: str, port: int) -> list[str]:
    raise OSError(f"the tests probe loopback addresses only, not {host}")


def _worker_config() -> worker.ProbeConfig:
    return worker.ProbeConfig(
        schedule=True,
        concurrency=10,
        time_limit=5,
        egress=EgressPolicy(allow_loopback=True, resolver=_no_names),
        batch_size=3,
    )


def test_the_worker_probes_claimed_checks_and_ingests_the_results(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    async def serve_and_run() -> None:
        async with http_server(200) as (port, seen):
            up, down = f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{stopped_port()}/"
            _catalogue(session)
            _services(session, [up, down])
            session.commit()
            scheduling.sync_checks(session, now=NOW)
            session.commit()
            clock = lambda: NOW + dt.timedelta(seconds=INTERVAL)  # noqa: E731
            sent: list[str] = []
            assert (
                worker.schedule_due(
                    session_factory, _worker_config(), clock=clock, send=sent.append
                )
                == 4
            )
            assert len(sent) == 2  # batches of 3
            ran = await asyncio.to_thread(
                lambda: sum(
                    worker.run_claimed(session_factory, t, _worker_config(), clock=clock)
                    for t in sent
                )
            )
            assert ran == 4
            assert len(seen.requests) == 1

    asyncio.run(serve_and_run())
    session.expire_all()
    results = session.scalars(
        select(MetricResult)
        .where(col(MetricResult.service_type) == TYPE)
        .order_by(col(MetricResult.metric), col(MetricResult.status))
    ).all()
    assert [(r.metric, r.status, r.source) for r in results] == [
        ("t.HTTP", "CRITICAL", "opsgraph-probes"),
        ("t.HTTP", "OK", "opsgraph-probes"),
        ("t.TCP", "CRITICAL", "opsgraph-probes"),
        ("t.TCP", "OK", "opsgraph-probes"),
    ]
    assert all(r.hostname == "127.0.0.1" and r.summary for r in results)
    assert {c.last_status for c in _checks(session)} == {"OK", "CRITICAL"}
    assert all(c.claim_token is None for c in _checks(session))


def test_unrunnable_checks_are_unknown_and_unregistered_hosts_unreached(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    _catalogue(session)
    _services(session, [None])  # no URL, and the type documents no default port
    scheduling.sync_checks(session, now=NOW)
    session.execute(update(Metric).where(col(Metric.name) == "t.TCP").values(probe_version="9"))
    session.commit()
    later = NOW + dt.timedelta(seconds=INTERVAL)
    claim = scheduling.claim_due(session, now=later, limit=10, lease=dt.timedelta(minutes=5))
    session.commit()
    plans = scheduling.plan_checks(session, claim.token, day=later.date(), time_limit=5)
    assert [p.problem for p in plans] == [
        f"no target: {TYPE} documents no default port and 127.0.0.1 no URL",
        "no probe tcp 9",
    ]
    assert (
        worker.run_claimed(session_factory, claim.token, _worker_config(), clock=lambda: later) == 2
    )
    session.expire_all()
    results = session.scalars(
        select(MetricResult).where(col(MetricResult.service_type) == TYPE)
    ).all()
    assert sorted(r.status for r in results) == ["UNKNOWN", "UNKNOWN"]
    assert worker.run_claimed(session_factory, "no-such-token", _worker_config()) == 0


def test_the_jobs_are_off_unless_configured_and_the_actor_is_declared(
    session_factory: sessionmaker[Session],
) -> None:
    assert worker.probe_config().schedule is False
    assert worker.sync_job(session_factory) == 0
    assert worker.schedule_job(session_factory) == 0
    config = worker.ProbeConfig.from_settings(
        CoreSettings.from_env({"OPSGRAPH_PROBE_SCHEDULE": "on", "OPSGRAPH_PROBE_CONCURRENCY": "7"})
    )
    assert (config.schedule, config.concurrency) == (True, 7)
    assert config.lease == dt.timedelta(seconds=2 * 72 * 30)  # 500 checks in waves of 7
    assert worker.ProbeConfig().lease == dt.timedelta(seconds=300)
    broker = StubBroker()
    try:
        actor = worker.declare_actor(broker, session_factory, CoreSettings())
        assert actor.actor_name == "monitoring.run_checks"
        assert worker._send is not None
        worker._send("token")
        assert broker.queues["opsgraph"].qsize() == 1
    finally:
        worker._send = None
        broker.close()


def test_the_jobs_when_on(session: Session, session_factory: sessionmaker[Session]) -> None:
    _catalogue(session, metrics=("t.TCP",))
    _services(session, ["tcp://127.0.0.1:1/"])
    session.commit()
    before = worker.PROBES.replace(_worker_config())
    try:
        assert worker.sync_job(session_factory) == 1
        assert worker.schedule_job(session_factory) == 0  # not due yet (spread over 5 min)
    finally:
        worker.PROBES.replace(before)
