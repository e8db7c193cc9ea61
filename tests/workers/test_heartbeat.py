"""A worker consuming from a broker beats through the broker: its heartbeat is a message,
recorded only when a consumer takes it, so `/healthz/workers` turns 503 when the brokers'
consumers stop, not only when the processes die (domains.monitoring.service.heartbeat)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from domains.common.db import make_session_factory
from domains.monitoring.models.heartbeat import WorkerHeartbeat
from domains.monitoring.service import heartbeat
from tests.workers.conftest import Rig, wait_until
from workers.runtime import WorkerRuntime

STARTED = dt.datetime(2026, 12, 5, 4, 0, tzinfo=dt.UTC)


def _beats(rig: Rig) -> dict[str, WorkerHeartbeat]:
    with make_session_factory(rig.engine)() as session:
        return {row.worker: row for row in session.scalars(select(WorkerHeartbeat))}


@pytest.mark.parametrize("mode", ["rabbitmq", "redis"], indirect=True)
def test_a_heartbeat_counts_only_once_a_consumer_took_it(rig: Rig) -> None:
    settings = rig.settings(OPSGRAPH_HEARTBEAT_INTERVAL="0.5")
    sender = WorkerRuntime(settings, consume=True, relay=False, schedule=False)
    assert sender.actors is not None
    sender.actors.send_heartbeat("elsewhere:1", STARTED)
    time.sleep(1.0)  # nobody consumes yet: the beat is a message waiting on the broker
    assert "elsewhere:1" not in _beats(rig)
    consumer = WorkerRuntime(settings, consume=True, relay=False, schedule=False)
    consumer.start()
    try:
        wait_until(lambda: "elsewhere:1" in _beats(rig), "the waiting beat to be consumed")
        wait_until(
            lambda: heartbeat.worker_name() in _beats(rig), "the consumer's own beat, sent by it"
        )
    finally:
        consumer.stop()
        sender.stop()
    beats = _beats(rig)
    assert beats["elsewhere:1"].kind == heartbeat.DRAMATIQ
    assert beats["elsewhere:1"].started_at == STARTED
    assert beats[heartbeat.worker_name()].kind == heartbeat.DRAMATIQ


@pytest.mark.parametrize("mode", ["rabbitmq"], indirect=True)
def test_a_stale_heartbeat_is_dropped_not_recorded(rig: Rig) -> None:
    """A beat older than the misses that make a worker dead says nothing about now."""
    settings = rig.settings(OPSGRAPH_HEARTBEAT_INTERVAL="0.2")  # max age 0.6 s
    sender = WorkerRuntime(settings, consume=True, relay=False, schedule=False)
    assert sender.actors is not None
    sender.actors.send_heartbeat("stale:1", STARTED)
    time.sleep(1.5)
    consumer = WorkerRuntime(settings, consume=True, relay=False, schedule=False)
    consumer.start()
    try:
        wait_until(lambda: heartbeat.worker_name() in _beats(rig), "a fresh beat")
    finally:
        consumer.stop()
        sender.stop()
    assert "stale:1" not in _beats(rig)


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_an_embedded_runtime_beats_in_its_own_process(rig: Rig) -> None:
    runtime = WorkerRuntime(rig.settings(OPSGRAPH_HEARTBEAT_INTERVAL="0.2"))
    runtime.start()
    try:
        wait_until(lambda: heartbeat.worker_name() in _beats(rig), "the embedded beat")
    finally:
        runtime.stop()
    assert _beats(rig)[heartbeat.worker_name()].kind == heartbeat.EMBEDDED
