"""A worker process killed (SIGKILL) inside a handler loses nothing and duplicates nothing:
after a restart every event is handled, and each (handler, event) has exactly one effect.

Brokers: `opsgraph worker` is killed; RabbitMQ returns its unacknowledged messages when the
connection drops, Redis hands them out again once the dead worker's heartbeat is older than
OPSGRAPH_REDIS_HEARTBEAT_TIMEOUT_MS. Embedded: `opsgraph serve`, which runs the handlers
itself, is killed; the outbox rows are still unsent and its relay picks them up again."""

from __future__ import annotations

import signal
import subprocess

import httpx2 as httpx

from tests.server import free_port
from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import FIRST


def _start(rig: Rig) -> subprocess.Popen[str]:
    if rig.mode == "embedded":
        port = free_port()
        proc = rig.spawn("serve", "--port", str(port))
        proc.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        return proc
    return rig.spawn("worker", "--threads", "2", "--shutdown-timeout", "5")


def _serving(proc: subprocess.Popen[str]) -> bool:
    """True once the process handles signals as it means to (uvicorn: once it serves)."""
    url = getattr(proc, "url", None)
    if url is None or proc.poll() is not None:
        return True
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_killed_inside_a_handler_then_restarted(rig: Rig) -> None:
    ids = rig.emit(3, gate=str(rig.gate))
    first = _start(rig)
    entered = lambda: any(rig.gate.glob("entered-*")) or first.poll() is not None  # noqa: E731
    wait_until(entered, "a handler to start")
    assert first.poll() is None, rig.output()
    if rig.mode != "embedded":
        # With a broker, the relay marks rows sent once the broker has the messages: from
        # then on only the broker's redelivery can bring them back.
        wait_until(lambda: not rig.unsent(), "the relay to hand every event to the broker")

    first.send_signal(signal.SIGKILL)
    first.wait(30)
    # The handler had written its effect but never committed it.
    assert not any(name == FIRST for name, _ in rig.effects())
    assert not rig.processed() >= {(FIRST, i) for i in ids}
    if rig.mode == "embedded":
        assert [row.id for row in rig.unsent()] == ids  # marked sent only once handled

    (rig.gate / "open").touch()
    second = _start(rig)
    try:
        rig.wait_all_handled(ids)
        wait_until(lambda: not rig.unsent(), "every outbox row to be marked sent")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{rig.output()}") from None
    wait_until(lambda: _serving(second), "the server to answer")
    second.send_signal(signal.SIGTERM)
    assert second.wait(30) == 0, rig.output()
    rig.assert_exactly_once(ids)
