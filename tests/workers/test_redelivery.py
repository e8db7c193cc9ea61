"""The same message delivered twice changes nothing the second time (DESIGN rule 9)."""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
import pytest
from dramatiq.broker import MessageProxy
from sqlalchemy import update
from sqlmodel import col

from domains.common.db import make_session_factory, unit_of_work
from domains.common.outbox import OutboxEvent, run_handler
from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import FIRST, HANDLERS
from workers.actors import HANDLE_EVENT
from workers.runtime import WorkerRuntime


class Outcomes(dramatiq.Middleware):
    """What each processed message returned (True: applied, False: duplicate)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: list[Any] = []

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if message.actor_name != HANDLE_EVENT:  # the workers' heartbeats go the same way
            return
        with self.lock:
            self.results.append(exception or result)


@pytest.mark.parametrize("mode", ["rabbitmq", "redis"], indirect=True)
def test_a_message_sent_twice_is_applied_once(rig: Rig) -> None:
    consumer = WorkerRuntime(rig.settings(), consume=True, relay=False, schedule=False)
    assert consumer.broker is not None
    assert consumer.actors is not None
    outcomes = Outcomes()
    consumer.broker.add_middleware(outcomes)
    consumer.start()
    try:
        (event_id,) = rig.emit(1)
        for _ in range(2):  # the relay is not running: these are the only messages
            for handler in HANDLERS:
                consumer.actors.send_event(handler, event_id)
        wait_until(lambda: len(outcomes.results) == 4, "four deliveries")
    finally:
        consumer.stop()
    assert sorted(outcomes.results) == [False, False, True, True]
    rig.assert_exactly_once([event_id])


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_a_handler_run_twice_is_applied_once(rig: Rig) -> None:
    factory = make_session_factory(rig.engine)
    (event_id,) = rig.emit(1)
    outcomes = []
    for _ in range(2):
        for handler in HANDLERS:
            with unit_of_work(factory) as session:
                outcomes.append(run_handler(session, handler, event_id))
    assert outcomes == [True, True, False, False]
    rig.assert_exactly_once([event_id])


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_relaying_an_event_again_changes_nothing(rig: Rig) -> None:
    """The process died after the handlers committed but before the row was marked sent."""
    runtime = WorkerRuntime(rig.settings(), relay=False, schedule=False)
    try:
        ids = rig.emit(2)
        assert runtime.relay.run_once().done == 2
        with unit_of_work(make_session_factory(rig.engine)) as session:
            session.execute(
                update(OutboxEvent).where(col(OutboxEvent.id) == ids[0]).values(sent_at=None)
            )
        assert runtime.relay.run_once().done == 1
    finally:
        runtime.stop()
    assert not rig.unsent()
    rig.assert_exactly_once(ids)


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_concurrent_duplicates_apply_once(rig: Rig) -> None:
    """Two deliveries at the same time: the second waits on the first's processed_event row
    and finds the work done (whatever the interleaving, one applies and one does not)."""
    (event_id,) = rig.emit(1, gate=str(rig.gate))
    factory = make_session_factory(rig.engine)
    results: list[bool | BaseException] = []

    def deliver() -> None:
        try:
            with unit_of_work(factory) as session:
                results.append(run_handler(session, FIRST, event_id))
        except BaseException as exc:  # reported below, never lost in the thread
            results.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    threads[0].start()
    wait_until(lambda: any(rig.gate.glob("entered-*")), "the first delivery to be inside")
    threads[1].start()
    (rig.gate / "open").touch()
    for thread in threads:
        thread.join(60)
    assert sorted(results, key=str) == [False, True]
    assert rig.effects()[(FIRST, event_id)] == 1
