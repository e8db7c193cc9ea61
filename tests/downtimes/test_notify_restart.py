"""Once and only once per event per subscriber, across restarts, on a database of the
test's own: the embedded worker runtime stopped part-way and started again, and an
`opsgraph serve` process killed (SIGKILL) in the middle of sending an e-mail. Every
expected e-mail arrives at the loopback SMTP server exactly once (counted by Message-ID),
none is missing. Also: the transitions job run by two sessions at once announces each
start and end once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM, Principal
from domains.common.models import pk
from domains.common.outbox import OutboxEvent
from domains.common.time import utcnow
from domains.downtimes import notifications as notes
from domains.downtimes import service as downtimes
from domains.downtimes.models import Downtime, DowntimeNotification
from domains.notifications.models import NotificationStatus
from domains.topology.seed import seed_demo
from gateway.config import Settings
from tests.databases import private_database
from tests.downtimes.notify_world import Target, declare, spec, subscriber, target
from tests.notifications.smtp import SmtpServer
from tests.server import free_port
from workers.downtimes import run_transitions
from workers.runtime import WorkerRuntime

REPO = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).parent / "opsgraph"
OPSGRAPH = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("opsgraph") or "opsgraph")
SENDER = "downtimes@ops.example.org"
WAIT = 60.0


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class World:
    url: str
    engine: Engine
    factory: sessionmaker[Session]
    where: Target
    subscribers: list[Principal]
    subscription_ids: list[int]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    with private_database(database_url, tmp_path) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine, write=True)  # as the workers' (runtime.py)
        try:
            with unit_of_work(factory) as session:
                seed_demo(session)
            with unit_of_work(factory) as session:
                where = target(session)
                people = [subscriber(session, s) for s in ("alice@egi.eu", "bob@egi.eu")]
                subs = [pk(notes.subscribe(session, p, spec=spec(site=where.site))) for p in people]
            yield World(url, engine, factory, where, people, subs)
        finally:
            engine.dispose()


def env(world: World, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
    values.update(
        {
            "OPSGRAPH_DATABASE_URL": world.url,
            "OPSGRAPH_SMTP_URL": smtp.url,
            "OPSGRAPH_SMTP_FROM": SENDER,
            "OPSGRAPH_DOWNTIME_TICK": "0.1",
            "OPSGRAPH_NOTIFY_INTERVAL": "0.1",
            "OPSGRAPH_NOTIFY_TIMEOUT": "3",
            "OPSGRAPH_RELAY_INTERVAL": "0.05",
            "OPSGRAPH_LOG_FORMAT": "text",
            **extra,
        }
    )
    return values


def expected_message_ids(world: World) -> set[str]:
    """One per (downtime event, subscriber): both subscribe to every event of the site."""
    with world.factory() as session:
        ids = session.execute(
            select(col(OutboxEvent.id)).where(col(OutboxEvent.kind).in_(downtimes.EVENT_KINDS))
        ).scalars()
        return {
            f"<downtime-{event_id}-{sub}@ops.example.org>"
            for event_id in ids
            for sub in world.subscription_ids
        }


def all_sent(world: World) -> bool:
    with world.factory() as session:
        statuses = session.execute(select(col(DowntimeNotification.status))).scalars().all()
    return bool(statuses) and all(s == NotificationStatus.SENT for s in statuses)


def edit_and_cancel(world: World, downtime_id: int) -> None:
    with unit_of_work(world.factory) as session:
        downtimes.update_downtime(
            session, PLATFORM, downtime_id=downtime_id, description="Controller firmware too"
        )
    with unit_of_work(world.factory) as session:
        downtimes.delete_downtime(session, PLATFORM, downtime_id=downtime_id)


def short_downtime(world: World) -> Downtime:
    """Starts and ends within seconds: the transitions job announces both."""
    with unit_of_work(world.factory) as session:
        return declare(
            session,
            world.where.services,
            now=utcnow(),
            start_in=timedelta(seconds=1),
            length=timedelta(seconds=1),
        )


def later_downtime(world: World) -> Downtime:
    with unit_of_work(world.factory) as session:
        return declare(session, world.where.services, now=utcnow())


def assert_exactly_once(world: World, smtp: SmtpServer) -> None:
    expected = expected_message_ids(world)
    # D1 declared/started/ended, D2 declared/changed/cancelled, for two subscribers
    assert len(expected) == 12
    arrived = smtp.by_message_id()
    assert set(arrived) == expected
    assert set(arrived.values()) == {1}
    recipients = sorted(str(m["To"]) for m in smtp.received())
    assert recipients == sorted(["alice@example.org", "bob@example.org"] * 6)


def test_a_runtime_stopped_part_way_and_restarted_sends_each_e_mail_once(
    world: World, smtp: SmtpServer
) -> None:
    settings = Settings.from_env(env(world, smtp))
    later = later_downtime(world)
    short_downtime(world)
    first = WorkerRuntime(settings)
    first.start()
    try:
        wait_until(lambda: len(smtp.received()) >= 3, "the first e-mails")
    finally:
        first.stop()
    # while nothing runs, the other downtime is changed and cancelled
    edit_and_cancel(world, pk(later))
    second = WorkerRuntime(settings)
    second.start()
    try:
        wait_until(lambda: len(expected_message_ids(world)) == 12, "every downtime event")
        wait_until(lambda: len(smtp.received()) >= 12 and all_sent(world), "every e-mail")
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        second.stop()
    assert_exactly_once(world, smtp)


def _spawn(world: World, smtp: SmtpServer, log: Path) -> subprocess.Popen[str]:
    port = free_port()
    handle = log.open("w")
    proc = subprocess.Popen(
        [OPSGRAPH, "serve", "--port", str(port)],
        env=env(world, smtp),
        stdout=handle,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    handle.close()
    return proc


def test_a_process_killed_while_sending_loses_and_duplicates_nothing(
    world: World, smtp: SmtpServer, tmp_path: Path
) -> None:
    later = later_downtime(world)
    short_downtime(world)
    smtp.hold.clear()  # the server does not answer DATA: the sender hangs inside SMTP
    first = _spawn(world, smtp, tmp_path / "first.log")
    try:
        wait_until(lambda: smtp.held_count() >= 1 or first.poll() is not None, "a send")
        assert first.poll() is None, (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    wait_until(lambda: smtp.held_count() == 0, "the server to see the connection drop")
    assert smtp.received() == []  # never answered 250: not taken
    smtp.hold.set()
    edit_and_cancel(world, pk(later))
    second = _spawn(world, smtp, tmp_path / "second.log")
    try:
        # the killed process's leases (3 x OPSGRAPH_NOTIFY_TIMEOUT) run out first
        wait_until(lambda: len(expected_message_ids(world)) == 12, "every downtime event")
        wait_until(lambda: len(smtp.received()) >= 12 and all_sent(world), "every e-mail")
        time.sleep(0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{(tmp_path / 'second.log').read_text()}") from None
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    assert_exactly_once(world, smtp)


def test_two_sessions_running_the_transitions_job_announce_each_moment_once(
    world: World,
) -> None:
    with unit_of_work(world.factory) as session:
        for _ in range(5):
            declare(
                session,
                world.where.services,
                now=utcnow(),
                start_in=timedelta(milliseconds=200),
                length=timedelta(milliseconds=300),
            )
    time.sleep(0.6)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(run_transitions(world.factory))
        counts.append(run_transitions(world.factory))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sum(counts) == 10
    with world.factory() as session:
        kinds = session.execute(select(col(OutboxEvent.kind))).scalars().all()
    assert kinds.count(downtimes.EVENT_STARTED) == 5
    assert kinds.count(downtimes.EVENT_ENDED) == 5
