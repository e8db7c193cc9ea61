"""Push delivery by the workers, on a fresh committed database, against a real endpoint on
loopback: a publish wakes the push job at once (embedded and with a broker); a worker
killed while its POST is in flight delivers nothing twice into the offset, and once its
lease runs out the next worker delivers the messages again (at least once), in order;
two claimers on PostgreSQL never hold the same subscription."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import make_session_factory, unit_of_work
from domains.common.egress import EgressPolicy
from domains.common.identity import PLATFORM
from domains.common.outbox import watch_commits
from domains.common.time import utcnow
from domains.messaging import push
from domains.messaging import service as msg
from domains.messaging.models import MsgSubscription
from tests.messaging.conftest import b64
from tests.messaging.receiver import Receiver
from tests.server import free_port
from tests.workers.conftest import Rig, wait_until
from workers.messaging import PushHttp
from workers.metrics import WORK
from workers.runtime import WorkerRuntime

CYCLES = "opsgraph_push_deliveries_total"
PUSH_ENV = {
    "OPSGRAPH_ALLOW_INSECURE_PUSH": "true",
    "OPSGRAPH_PUSH_INTERVAL": "0.1",
    "OPSGRAPH_PUSH_TIMEOUT": "2",  # a lease of 6 s
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def make_push_subscription(rig: Rig, receiver: Receiver, **config: object) -> int:
    factory = make_session_factory(rig.engine)
    with unit_of_work(factory) as session:
        msg.create_project(session, PLATFORM, name="ARGO")
        msg.create_topic(session, PLATFORM, project="ARGO", topic="T")
        view = msg.create_subscription(
            session,
            PLATFORM,
            project="ARGO",
            subscription="S",
            topic="projects/ARGO/topics/T",
            push_config={"pushEndpoint": f"{receiver.url}/push", **config},
            egress=EgressPolicy(allow_loopback=True),
        )
    receiver.hash = view.push.verification_hash
    with (
        unit_of_work(factory) as session,
        PushHttp(timeout=5, egress=EgressPolicy(allow_loopback=True)) as http,
    ):
        msg.verify_push_endpoint(
            session, PLATFORM, project="ARGO", subscription="S", fetch=http.fetch
        )
    return view.id


def publish(factory: sessionmaker[Session], *texts: str) -> None:
    with unit_of_work(factory) as session:
        msg.publish(
            session, PLATFORM, project="ARGO", topic="T", messages=[{"data": b64(t)} for t in texts]
        )


def offset(rig: Rig) -> int:
    with Session(rig.engine) as session:
        return int(session.execute(select(msg.T_SUB.c.offset)).scalar_one())


@pytest.mark.parametrize("mode", ["embedded", "rabbitmq"])
def test_a_publish_wakes_the_push_job(rig: Rig, receiver: Receiver) -> None:
    # The job's own tick is an hour away: only the handlers' wake-up delivers in time.
    settings = rig.settings(OPSGRAPH_ALLOW_INSECURE_PUSH="true", OPSGRAPH_PUSH_INTERVAL="3600")
    make_push_subscription(rig, receiver, retryPolicy={"type": "linear", "period": 1})
    runtime = WorkerRuntime(settings, consume=rig.mode != "embedded")
    factory = make_session_factory(runtime.engine)
    watch_commits(factory, runtime.wake)
    pushed = WORK.get_sample_value("opsgraph_push_messages_total") or 0.0
    cycles = WORK.get_sample_value(CYCLES, {"outcome": "delivered"}) or 0.0
    runtime.start()
    try:
        publish(factory, "first")
        wait_until(lambda: receiver.message_ids() == ["0"], "the first message to be pushed")
        wait_until(lambda: offset(rig) == 1, "the first message to be acknowledged")
        publish(factory, "second")  # after the job's first run: only a wake-up brings it
        wait_until(lambda: receiver.message_ids() == ["0", "1"], "the second message")
        wait_until(lambda: offset(rig) == 2, "the second message to be acknowledged")
    finally:
        runtime.stop()
    # workers/metrics.py: two cycles delivered (the process's counters: compared by change)
    assert WORK.get_sample_value("opsgraph_push_messages_total") == pushed + 2
    assert WORK.get_sample_value(CYCLES, {"outcome": "delivered"}) == cycles + 2


def _start(rig: Rig) -> subprocess.Popen[str]:
    env = rig.env(**PUSH_ENV)
    if rig.mode == "embedded":
        return rig.spawn("serve", "--port", str(free_port()), env=env)
    return rig.spawn("worker", "--threads", "2", "--shutdown-timeout", "5", env=env)


@pytest.mark.parametrize("mode", ["embedded", "rabbitmq"])
def test_a_worker_killed_mid_post_redelivers_after_its_lease(rig: Rig, receiver: Receiver) -> None:
    make_push_subscription(rig, receiver, retryPolicy={"type": "linear", "period": 50})
    publish(make_session_factory(rig.engine), "m0", "m1", "m2")
    receiver.hold.clear()  # the endpoint takes the first POST and does not answer
    first = _start(rig)
    wait_until(
        lambda: receiver.posts() != [] or first.poll() is not None, "the first POST to arrive"
    )
    assert first.poll() is None, rig.output()
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    assert receiver.message_ids() == ["0"]
    assert offset(rig) == 0  # the POST was never answered: nothing was acknowledged

    receiver.hold.set()
    _start(rig)
    try:
        wait_until(lambda: offset(rig) == 3, "every message to be delivered")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{rig.output()}") from None
    ids = receiver.message_ids()
    assert ids[:2] == ["0", "0"]  # at least once: the unanswered one came again, first
    assert ids[2:] == ["1", "2"]  # then the rest, in order, each once
    with Session(rig.engine) as session:
        sub = session.execute(select(MsgSubscription)).scalar_one()
        assert (sub.delivered_count, sub.consecutive_failures) == (3, 0)


@pytest.mark.parametrize("mode", ["embedded"])
def test_two_claimers_never_hold_the_same_subscription(rig: Rig, receiver: Receiver) -> None:
    make_push_subscription(rig, receiver)
    publish(make_session_factory(rig.engine), "x")
    now = utcnow() + timedelta(seconds=1)
    lease = timedelta(seconds=30)
    factory = make_session_factory(rig.engine)
    with factory() as first, factory() as second:
        claimed = push.claim_due(first, now=now, limit=10, lease=lease)
        assert len(claimed) == 1
        if rig.engine.dialect.name == "postgresql":
            # uncommitted: the row is locked and skipped, not waited for (SQLite has one
            # writer: a second claimer would wait for the first to commit)
            assert push.claim_due(second, now=now, limit=10, lease=lease) == []
            second.rollback()
        first.commit()
        # committed: the lease keeps it from every other claimer
        assert push.claim_due(second, now=now, limit=10, lease=lease) == []
        second.rollback()
