"""The background work's metrics (workers/metrics.py): the brokers' queue depths while
nobody consumes; then, read from real processes on OPSGRAPH_METRICS_ADDRESS (which serves
/metrics without a token), the jobs an `opsgraph worker` ran, by actor and handler name and
outcome, and in the embedded mode the handlers and periodic jobs `serve` ran itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client import CollectorRegistry

from tests.conftest import BACKENDS
from tests.server import free_port
from tests.workers.conftest import Rig, wait_until
from tests.workers.handlers import FIRST, SECOND
from workers.runtime import WorkerRuntime

# what is measured here does not depend on the database: the first backend only
pytestmark = pytest.mark.parametrize("database_url", BACKENDS[:1], indirect=True)

ACTOR = 'opsgraph_jobs_total{{job="opsgraph.handle_event",kind="actor",outcome="{}"}}'
HANDLED = 'opsgraph_jobs_total{{job="{}",kind="handler",outcome="{}"}}'


def _scrape(url: str) -> dict[str, float] | None:
    """The samples on `url`, or None while the listener is not up yet."""
    try:
        response = httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        name: float(value)
        for name, _, value in (
            line.rpartition(" ") for line in response.text.splitlines() if line[:1] != "#"
        )
        if name
    }


def _start(rig: Rig, command: str, *args: str, **env: str) -> tuple[subprocess.Popen[str], str]:
    address = f"127.0.0.1:{free_port()}"
    proc = rig.spawn(command, *args, env=rig.env(OPSGRAPH_METRICS_ADDRESS=address, **env))
    url = f"http://{address}/metrics"
    wait_until(lambda: proc.poll() is not None or _scrape(url) is not None, f"{url} to answer")
    assert proc.poll() is None, rig.output()
    return proc, url


def _at_least(url: str, name: str, value: float) -> bool:
    return (_scrape(url) or {}).get(name, 0.0) >= value


@pytest.mark.parametrize("mode", ["rabbitmq", "redis"], indirect=True)
def test_the_broker_queue_depth_is_read_at_scrape(rig: Rig) -> None:
    runtime = WorkerRuntime(rig.settings(), schedule=False)  # relays; nobody consumes
    assert runtime.queue_depths is not None
    registry = CollectorRegistry()
    registry.register(runtime.queue_depths)
    depth = "opsgraph_broker_queue_messages"

    def waiting(state: str) -> float | None:
        return registry.get_sample_value(depth, {"queue": rig.namespace, "state": state})

    assert (waiting("ready"), waiting("delayed"), waiting("dead")) == (0, 0, 0)
    runtime.start()
    try:
        rig.emit(3)
        wait_until(lambda: waiting("ready") == 6, "3 events x 2 handlers queued")
    finally:
        runtime.stop()


@pytest.mark.parametrize("mode", ["rabbitmq"], indirect=True)
def test_a_worker_shows_its_jobs_by_actor_handler_and_outcome(rig: Rig, tmp_path: Path) -> None:
    down = tmp_path / "down"
    down.touch()  # the first handler of the next event fails while this exists
    _, worker = _start(rig, "worker", "--threads", "2", "--shutdown-timeout", "5")
    failing = rig.emit(1, fail_while=str(down))
    wait_until(lambda: _at_least(worker, ACTOR.format("error"), 1), "a failed actor run")
    down.unlink()
    ids = rig.emit(2) + failing
    rig.wait_all_handled(ids)
    # the actor's run is counted once it returned, after its commit
    wait_until(lambda: _at_least(worker, HANDLED.format(FIRST, "ok"), 3), "3 runs counted")
    samples = _scrape(worker) or {}
    assert samples[HANDLED.format(FIRST, "error")] >= 1
    assert samples[HANDLED.format(SECOND, "ok")] == 3
    assert samples[ACTOR.format("ok")] >= 6
    assert samples['opsgraph_job_duration_seconds_count{job="test.count",kind="handler"}'] >= 4
    assert not any(name.startswith("opsgraph_http_") for name in samples)  # no app here
    assert f'opsgraph_broker_queue_messages{{queue="{rig.namespace}",state="dead"}}' in samples


@pytest.mark.parametrize("mode", ["embedded"], indirect=True)
def test_serve_shows_its_own_jobs_on_the_metrics_address_and_nothing_else(rig: Rig) -> None:
    port = free_port()
    _, url = _start(rig, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    rig.wait_all_handled(rig.emit(2))
    wait_until(lambda: _at_least(url, HANDLED.format(SECOND, "ok"), 2), "the handlers counted")
    samples = _scrape(url) or {}
    assert samples[HANDLED.format(FIRST, "ok")] == 2
    assert any('kind="periodic"' in name for name in samples)
    assert samples['opsgraph_http_requests_total{method="GET",route="health",status="2xx"}'] >= 1
    assert not any(name.startswith("opsgraph_broker_queue") for name in samples)
    # only /metrics there; and the app's own /metrics still wants the token (none is set)
    assert httpx.get(url.replace("/metrics", "/graphql"), timeout=5).status_code == 404
    assert httpx.get(f"{base}/metrics", timeout=5).status_code == 404
