"""The broker goes away (a proxy between opsgraph and it is cut), events keep being
committed: the relay fails, the rows stay unsent with the attempt recorded, and once the
broker is back every event is handled exactly once. The real broker is never stopped.

Embedded mode has no broker; its counterpart is a handler whose dependency is down: the
row stays unsent with the failure recorded until the handler succeeds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.broker import MessageProxy

from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import FIRST
from tests.workers.proxy import TcpProxy
from workers.runtime import WorkerRuntime


@pytest.fixture
def proxy(rig: Rig) -> Iterator[TcpProxy]:
    assert rig.mode != "embedded", "no broker to cut in the embedded mode"
    the_proxy = TcpProxy(rig.broker_port)
    the_proxy.start()
    yield the_proxy
    the_proxy.stop()


def _relay_until_all_sent(runtime: WorkerRuntime, rig: Rig) -> None:
    def attempt() -> bool:
        runtime.relay.run_once()
        return not rig.unsent()

    wait_until(attempt, "the relay to send every event")


@pytest.mark.parametrize("mode", ["rabbitmq", "redis"], indirect=True)
def test_broker_outage_loses_nothing(rig: Rig, proxy: TcpProxy) -> None:
    relay = WorkerRuntime(rig.settings(rig.broker_url(via=f"127.0.0.1:{proxy.port}")))
    consumer = WorkerRuntime(rig.settings(), consume=True, relay=False, schedule=False)
    consumer.start()
    try:
        before = rig.emit(1)
        assert relay.relay.run_once().done == 1  # through the proxy
        rig.wait_all_handled(before)

        proxy.cut()
        during = rig.emit(3)
        report = relay.relay.run_once()
        assert (report.done, report.failed) == (0, 3)
        assert report.error is not None
        unsent = rig.unsent()
        assert [row.id for row in unsent] == during
        assert all(row.attempts == 1 and row.last_error for row in unsent)
        assert all(row.retry_at is not None for row in unsent)
        assert not rig.processed() & {(FIRST, i) for i in during}

        proxy.restore()
        _relay_until_all_sent(relay, rig)
        rig.wait_all_handled(before + during)
    finally:
        relay.stop()
        consumer.stop()
    rig.assert_exactly_once(before + during)


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_dependency_outage_in_the_embedded_mode(rig: Rig) -> None:
    down = rig.tmp / "down"
    down.touch()
    runtime = WorkerRuntime(rig.settings(), relay=False, schedule=False)
    try:
        ids = rig.emit(3, fail_while=str(down))
        report = runtime.relay.run_once()
        assert (report.done, report.failed) == (0, 3)
        unsent = rig.unsent()
        assert [row.id for row in unsent] == ids
        assert all(row.attempts == 1 for row in unsent)
        assert all(row.last_error == "RuntimeError: dependency down" for row in unsent)
        assert rig.effects() == {}  # the failed handler's writes were rolled back

        down.unlink()
        _relay_until_all_sent(runtime, rig)
    finally:
        runtime.stop()
    rig.assert_exactly_once(ids)


@pytest.mark.parametrize("mode", ["rabbitmq", "redis"], indirect=True)
def test_a_failing_handler_is_retried_by_the_broker(rig: Rig) -> None:
    """dramatiq's retries (OPSGRAPH_WORKER_MIN_BACKOFF_MS) bring the message back until the
    handler succeeds; the failed attempts left nothing behind."""
    down = rig.tmp / "down"
    down.touch()
    runtime = WorkerRuntime(rig.settings(), consume=True, schedule=False)
    assert runtime.broker is not None
    failures = Failures()
    runtime.broker.add_middleware(failures)
    runtime.start()
    try:
        ids = rig.emit(2, fail_while=str(down))
        wait_until(lambda: failures.count >= 4, "two failed attempts per event")
        assert not rig.processed() & {(FIRST, i) for i in ids}
        down.unlink()
        rig.wait_all_handled(ids)
    finally:
        runtime.stop()
    rig.assert_exactly_once(ids)


class Failures(dramatiq.Middleware):
    def __init__(self) -> None:
        self.count = 0

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is not None:
            self.count += 1
