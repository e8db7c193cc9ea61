"""opsgraph measures itself (domains/monitoring/selfmon.py): its own site, services and
report, seeded once and following the configured URL; the workers' heartbeat behind
/healthz/workers; its own listener an allowed destination of the egress policy, and no
other loopback address; and a real `opsgraph serve` that probes itself through its own
scheduler (OK), whose stopped listener then probes CRITICAL, and whose report's
availability anyone can read."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.egress import STRICT, EgressPolicy, EgressRefused
from domains.common.settings import CoreSettings
from domains.monitoring.models import MetricStatus, ScheduledCheck, WorkerHeartbeat
from domains.monitoring.probes.targets import ProbeEgress, Target, own_listener
from domains.monitoring.service import availability, heartbeat, scheduling, selfmon
from domains.monitoring.service.catalogue import report_by_name
from domains.topology.models import Service, ServiceType, Site
from tests.conftest import AppFactory
from tests.databases import private_database
from tests.server import server_env, serving
from workers import monitoring as worker

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


def _self_services(session: Session) -> dict[str, tuple[str, str | None]]:
    rows = session.execute(
        select(col(ServiceType.name), col(Service.host_name), col(Service.url))
        .join(Service, col(Service.service_type_id) == col(ServiceType.id))
        .join(Site, col(Site.id) == col(Service.site_id))
        .where(col(Site.short_name) == selfmon.SITE)
    ).all()
    return {t: (h, u) for t, h, u in rows}


def test_the_self_report_is_seeded_once_and_follows_the_url(session: Session) -> None:
    site_id = selfmon.ensure_self_monitoring(session, "http://127.0.0.1:8000")
    assert selfmon.ensure_self_monitoring(session, "http://127.0.0.1:8000") == site_id
    services = _self_services(session)
    assert services == {
        x.service_type: ("127.0.0.1", f"http://127.0.0.1:8000{x.path}") for x in selfmon.LISTENERS
    }
    report = report_by_name(session, selfmon.REPORT_NAME)
    assert report is not None
    assert not report.disabled

    selfmon.ensure_self_monitoring(session, "https://opsgraph.example.org/")
    assert _self_services(session)["opsgraph.workers"] == (
        "opsgraph.example.org",
        "https://opsgraph.example.org/healthz/workers",
    )
    selfmon.ensure_self_monitoring(session, "http://localhost:8000")  # no dot: a stand-in name
    assert _self_services(session)["opsgraph.ams"][0] == selfmon.FALLBACK_HOST

    # the existing scheduler expects the self checks, because the report's profile does
    scheduling.sync_checks(session, now=NOW)
    checked = session.execute(
        select(col(ServiceType.name), col(ScheduledCheck.metric))
        .join(Service, col(Service.id) == col(ScheduledCheck.service_id))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .where(col(Service.site_id) == site_id)
    ).all()
    assert sorted(checked) == sorted((x.service_type, selfmon.METRIC) for x in selfmon.LISTENERS)


def test_a_url_without_a_host_is_refused_by_name(session: Session) -> None:
    from domains.common.errors import Invalid

    with pytest.raises(ValueError, match="not an http"):
        selfmon.ensure_self_monitoring(session, "ldap://")
    for wrong in ("ldap://x.org", "https://", "opsgraph.example.org"):
        with pytest.raises(Invalid) as caught:
            CoreSettings.from_env({"OPSGRAPH_PUBLIC_URL": wrong})
        assert caught.value.field == "OPSGRAPH_PUBLIC_URL"


def test_the_heartbeat_counts_recent_workers_only(session: Session) -> None:
    gone = NOW - dt.timedelta(days=2)
    heartbeat.beat(session, worker="old:1", kind=heartbeat.DRAMATIQ, now=gone, started_at=gone)
    assert not heartbeat.live_workers(session, now=NOW, interval=30).alive
    heartbeat.beat(session, worker="w:1", kind=heartbeat.EMBEDDED, now=NOW, started_at=NOW)
    heartbeat.beat(
        session,
        worker="w:2",
        kind=heartbeat.DRAMATIQ,
        now=NOW - dt.timedelta(seconds=60),
        started_at=NOW,
    )
    live = heartbeat.live_workers(session, now=NOW, interval=30)
    assert live.live == {"embedded": 1, "dramatiq": 1}
    assert live.last_beat == NOW
    assert session.get(WorkerHeartbeat, "old:1") is None  # forgotten after a day
    heartbeat.beat(session, worker="w:1", kind=heartbeat.EMBEDDED, now=NOW, started_at=NOW)
    later = heartbeat.live_workers(session, now=NOW + dt.timedelta(seconds=91), interval=30)
    assert later.live == {}
    assert not later.alive


def test_the_workers_route_answers_from_the_heartbeats(
    make_client: AppFactory, session: Session
) -> None:
    client = make_client(heartbeat_interval=30.0).client
    session.execute(update(WorkerHeartbeat).values(beat_at=NOW - dt.timedelta(hours=1)))
    session.commit()
    down = client.get("/healthz/workers")
    assert down.status_code == 503
    assert down.json()["status"] == "no live worker"
    heartbeat.beat(
        session, worker="w:1", kind=heartbeat.EMBEDDED, now=dt.datetime.now(dt.UTC), started_at=NOW
    )
    session.commit()
    up = client.get("/healthz/workers")
    assert up.status_code == 200
    assert up.json()["workers"] == {"embedded": 1}


def test_only_the_own_listener_is_an_allowed_loopback_destination() -> None:
    own = own_listener("http://127.0.0.1:8000")
    assert own == Target("127.0.0.1", 8000, "http://127.0.0.1:8000")
    assert own_listener(None) is None
    assert own_listener("http://") is None
    other = Target("127.0.0.1", 9000, "http://127.0.0.1:9000/")
    assert own is not None
    egress = ProbeEgress.for_targets(STRICT, [own, other], own=[own])
    assert [str(a) for a in asyncio.run(_resolve(egress, own))] == ["127.0.0.1"]
    with pytest.raises(EgressRefused):  # registered, but loopback and not opsgraph's own
        asyncio.run(_resolve(egress, other))
    unregistered = ProbeEgress.for_targets(STRICT, [other], own=[own])
    with pytest.raises(EgressRefused):  # its own listener, but registered by no endpoint
        asyncio.run(_resolve(unregistered, own))


async def _resolve(egress: ProbeEgress, target: Target) -> Any:
    return await egress.resolve(target.host, target.port)


def test_the_probe_settings_name_the_own_listener() -> None:
    settings = CoreSettings.from_env({"OPSGRAPH_PUBLIC_URL": "https://ops.example.org/"})
    assert settings.self_url == "https://ops.example.org"
    config = worker.ProbeConfig.from_settings(settings)
    assert config.own_listener == Target("ops.example.org", 443, "https://ops.example.org")

    listening = replace(CoreSettings(), listener_url="http://127.0.0.1:8080")
    assert worker.ProbeConfig.from_settings(listening).own_listener == Target(
        "127.0.0.1", 8080, "http://127.0.0.1:8080"
    )


# --- a real server probing itself ------------------------------------------------------------


def _graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


STATUSES = (
    "query($h: String!) { metricStatuses(hostname: $h) { nodes { serviceType metric status } } }"
)


def _statuses(base: str) -> dict[str, str]:
    rows = _graphql(base, STATUSES, {"h": "127.0.0.1"})["metricStatuses"]["nodes"]
    return {r["serviceType"]: r["status"] for r in rows if r["metric"] == selfmon.METRIC}


def _due_now(factory: sessionmaker[Session]) -> int:
    """The self checks due at once (their first run is spread over the minute)."""
    with unit_of_work(factory) as session:
        session.execute(
            update(ScheduledCheck).values(next_due=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
        return len(session.scalars(select(col(ScheduledCheck.id))).all())


def test_a_real_server_probes_itself(tmp_path: Path) -> None:
    env = server_env(tmp_path, OPSGRAPH_PROBE_SCHEDULE="true", OPSGRAPH_HEARTBEAT_INTERVAL="1")
    engine = make_engine(env["OPSGRAPH_DATABASE_URL"], busy_timeout_ms=30_000)
    factory = make_session_factory(engine, write=True)
    types = {x.service_type for x in selfmon.LISTENERS}
    try:
        with serving(env) as base:
            deadline = time.monotonic() + 120
            while _due_now(factory) < len(types):  # the scheduler's sync runs at start
                assert time.monotonic() < deadline, "no self checks scheduled"
                time.sleep(0.2)
            while (seen := _statuses(base)) != dict.fromkeys(types, "OK"):
                assert time.monotonic() < deadline, f"the self probes gave {seen}"
                time.sleep(0.2)
            today = dt.datetime.now(dt.UTC).date()
            with unit_of_work(factory) as session:
                assert availability.compute_report_day(session, selfmon.REPORT_NAME, today)
            rows = _graphql(  # anonymously, as anyone
                base,
                'query($d: Date!) { availability(report: "opsgraph", level: SITE, '
                'name: "OPSGRAPH", from: $d, to: $d) { nodes { name parent availability } } }',
                {"d": today.isoformat()},
            )["availability"]["nodes"]
            assert [(r["name"], r["parent"]) for r in rows] == [("OPSGRAPH", "OPSGRAPH")]
            assert rows[0]["availability"] is not None
        # the server stopped: its listeners refuse, and the same checks give CRITICAL
        config = worker.ProbeConfig(
            schedule=True,
            time_limit=5,
            egress=EgressPolicy(),
            own_listener=own_listener(base),
        )
        _due_now(factory)
        assert worker.schedule_due(factory, config) == len(types)
        with unit_of_work(factory, write=False) as session:
            after = session.execute(
                select(col(MetricStatus.service_type), col(MetricStatus.status)).where(
                    col(MetricStatus.hostname) == "127.0.0.1"
                )
            ).all()
        assert dict(after) == dict.fromkeys(types, "CRITICAL")
    finally:
        engine.dispose()


def test_serve_reaches_itself_on_loopback_from_a_wildcard_host() -> None:
    from gateway.cli import _listener_url

    assert _listener_url("http", "0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert _listener_url("https", "::", 8443) == "https://[::1]:8443"
    assert _listener_url("http", "10.0.0.5", 80) == "http://10.0.0.5:80"


def test_the_self_site_leaves_a_database_empty_for_seeding(session: Session) -> None:
    """`opsgraph seed --demo` still fills a database where only `serve` measured itself."""
    from sqlalchemy import delete

    from domains.topology.models import Ngi
    from gateway.cli import _database_is_empty

    assert not _database_is_empty(session)  # the demo's sites
    selfmon.ensure_self_monitoring(session, "http://127.0.0.1:8000")
    others = select(col(Site.id)).where(col(Site.short_name) != selfmon.SITE)
    session.execute(delete(Service).where(col(Service.site_id).in_(others)))
    session.execute(delete(Site).where(col(Site.short_name) != selfmon.SITE))
    assert not _database_is_empty(session)  # the demo's NGIs
    session.execute(delete(Ngi).where(col(Ngi.name) != selfmon.NGI))
    assert _database_is_empty(session)


# --- whichever process runs the probe scheduler ensures it ------------------------------------


def test_the_probe_scheduler_ensures_the_self_report(
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An `opsgraph worker` (no listener of its own) running the scheduler measures opsgraph
    on OPSGRAPH_PUBLIC_URL; with the schedule off, or without a URL, nothing is created."""
    monkeypatch.setattr(worker, "_ensured", set())
    settings = CoreSettings.from_env(
        {"OPSGRAPH_PROBE_SCHEDULE": "true", "OPSGRAPH_PUBLIC_URL": "https://ops.example.org"}
    )

    def self_site() -> int | None:
        with unit_of_work(session_factory, write=False) as session:
            return session.scalar(select(col(Site.id)).where(col(Site.short_name) == selfmon.SITE))

    before = worker.PROBES.replace(
        replace(worker.ProbeConfig.from_settings(settings), schedule=False)
    )
    try:
        assert worker.sync_job(session_factory) == 0  # the schedule is off: not this process
        assert self_site() is None

        worker.PROBES.replace(replace(worker.ProbeConfig.from_settings(settings), self_url=None))
        with caplog.at_level("WARNING", logger="opsgraph.workers.monitoring"):
            worker.sync_job(session_factory)
            worker.sync_job(session_factory)
        assert self_site() is None
        assert sum("OPSGRAPH_PUBLIC_URL is not set" in r.message for r in caplog.records) == 1

        worker.PROBES.replace(worker.ProbeConfig.from_settings(settings))
        assert worker.sync_job(session_factory) > 0
        site_id = self_site()
        assert site_id is not None
        with unit_of_work(session_factory, write=False) as session:
            assert _self_services(session)["opsgraph.graphql"] == (
                "ops.example.org",
                "https://ops.example.org/graphql?query=%7B__typename%7D",
            )
            scheduled = session.scalars(
                select(col(ScheduledCheck.metric))
                .join(Service, col(Service.id) == col(ScheduledCheck.service_id))
                .where(col(Service.site_id) == site_id)
            ).all()
            assert report_by_name(session, selfmon.REPORT_NAME) is not None
        assert sorted(scheduled) == [selfmon.METRIC] * len(selfmon.LISTENERS)
        worker.sync_job(session_factory)  # again: nothing new
        assert self_site() == site_id
    finally:
        worker.PROBES.replace(before)


def test_processes_racing_at_start_neither_fail_nor_duplicate(
    database_url: str, tmp_path: Path
) -> None:
    """Four schedulers starting together on a fresh database (each its own engine, as
    separate processes have): one creates, the others find it."""
    import threading

    from domains.monitoring.models import Report
    from domains.topology.models import Ngi

    racers = 4
    with private_database(database_url, tmp_path) as url:
        engines = [make_engine(url, busy_timeout_ms=30_000) for _ in range(racers)]
        start = threading.Barrier(racers)
        failures: list[BaseException] = []

        def race(factory: sessionmaker[Session]) -> None:
            try:
                start.wait()
                with unit_of_work(factory) as session:
                    selfmon.ensure_self_monitoring(session, "https://ops.example.org")
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [
            threading.Thread(target=race, args=(make_session_factory(e, write=True),))
            for e in engines
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            assert failures == []
            with unit_of_work(make_session_factory(engines[0]), write=False) as session:
                counted = {
                    name: len(session.scalars(query).all())
                    for name, query in (
                        ("ngi", select(col(Ngi.id)).where(col(Ngi.name) == selfmon.NGI)),
                        ("site", select(col(Site.id)).where(col(Site.short_name) == selfmon.SITE)),
                        ("service", select(col(Service.id))),
                        (
                            "report",
                            select(col(Report.id)).where(col(Report.uuid) == selfmon.REPORT_ID),
                        ),
                    )
                }
        finally:
            for e in engines:
                e.dispose()
    assert counted == {"ngi": 1, "site": 1, "service": len(selfmon.LISTENERS), "report": 1}
