"""WorkerRuntime: the relay loop and the periodic scheduler in background threads, plus a
dramatiq Worker when this process consumes from a broker (`opsgraph worker`).

    runtime = WorkerRuntime(settings)        # embedded: handlers run in this process
    watch_commits(session_factory, runtime.wake)   # relay at once after commits that emit
    runtime.start(); ...; runtime.stop()
"""

from __future__ import annotations

import logging
import threading
import time

import dramatiq
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domains.common import tracing
from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.outbox import PeriodicJob, listen_run_soon, periodic_jobs
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.monitoring.service import heartbeat
from workers.actors import Actors, declare_actors
from workers.broker import broker_from_settings, close_broker
from workers.metrics import PERIODIC, JobMetrics, QueueDepths, timed
from workers.outbox import BrokerRelay, EmbeddedRelay, Relay
from workers.registry import load_modules

log = logging.getLogger("opsgraph.workers")


class WorkerRuntime:
    def __init__(
        self,
        settings: CoreSettings,
        engine: Engine | None = None,
        *,
        consume: bool = False,
        relay: bool = True,
        schedule: bool = True,
        threads: int | None = None,
    ) -> None:
        """consume: run a dramatiq Worker on the broker (requires OPSGRAPH_BROKER_URL).
        relay: run the outbox relay loop. schedule: run the periodic jobs."""
        load_modules(settings)
        self.settings = settings
        self._owns_engine = engine is None
        self.engine = engine or make_engine(
            settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        # background work writes in most of its transactions: its sessions are writers
        self.factory: sessionmaker[Session] = make_session_factory(self.engine, write=True)
        if settings.otlp_endpoint:  # traced: jobs' and handlers' spans, with their SQL
            tracing.configure(settings)
            tracing.instrument_engine(self.engine)
        self.broker: dramatiq.Broker | None = broker_from_settings(settings)
        if consume and self.broker is None:
            raise ValueError("consuming needs a broker: set OPSGRAPH_BROKER_URL")
        self.actors: Actors | None = None
        self.relay: Relay
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._tick = threading.Event()  # the scheduler: stop, or a job asked for now
        self._soon: set[str] = set()
        self._soon_lock = threading.Lock()
        # the broker's queue depths, for the /metrics of this process (None: embedded)
        self.queue_depths: QueueDepths | None = None
        if self.broker is not None:
            broker = self.broker
            broker.add_middleware(JobMetrics(broker.get_declared_actors))
            self.queue_depths = QueueDepths(broker, (settings.broker_namespace,))
            self.actors = declare_actors(self.broker, self.factory, settings)
            self.relay = BrokerRelay(
                self.factory,
                self.actors.send_event,
                batch_size=settings.relay_batch_size,
                backoff=settings.relay_interval,
            )
        else:
            self.relay = EmbeddedRelay(
                self.factory,
                batch_size=settings.relay_batch_size,
                min_backoff=settings.worker_min_backoff_ms / 1000,
                max_backoff=settings.worker_max_backoff_ms / 1000,
                stopping=self._stop.is_set,
            )
        self.worker: dramatiq.Worker | None = None
        if consume and self.broker is not None:
            self.worker = dramatiq.Worker(
                self.broker,
                worker_threads=threads or settings.worker_threads,
                worker_timeout=200,
            )
        self._run_relay = relay
        self._run_schedule = schedule
        self._threads: list[threading.Thread] = []
        self._started = False
        self._started_at = utcnow()

    @property
    def embedded(self) -> bool:
        return self.broker is None

    @property
    def does_work(self) -> bool:
        """Whether this process is a worker (runs the periodic jobs or consumes from the
        broker), and so beats: `serve` with a broker only relays and does not."""
        return self._run_schedule or self.worker is not None

    def beat(self) -> None:
        """One heartbeat of this process (domains.monitoring.service.heartbeat). A process
        consuming from a broker sends it as a message, recorded by whichever worker
        consumes it: a beat then shows that the broker delivers and a consumer works."""
        if self.worker is not None and self.actors is not None:
            self.actors.send_heartbeat(heartbeat.worker_name(), self._started_at)
            return
        with unit_of_work(self.factory) as session:
            heartbeat.beat(
                session,
                worker=heartbeat.worker_name(),
                kind=heartbeat.EMBEDDED if self.worker is None else heartbeat.DRAMATIQ,
                now=utcnow(),
                started_at=self._started_at,
            )

    def _heartbeat_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # the database is unreachable: the next beat tries again
                log.exception("heartbeat failed")
            self._stop.wait(self.settings.heartbeat_interval)

    def wake(self) -> None:
        """Relay now (called after a commit that emitted events)."""
        self._wake.set()

    def start(self) -> None:
        if self._started:
            raise RuntimeError("this runtime was started already")
        self._started = True
        if self.worker is not None and self.broker is not None:
            self.broker.emit_after("process_boot")
            self.worker.start()
        if self._run_relay:
            self._spawn("opsgraph-relay", self._relay_loop)
        if self._run_schedule:
            self._spawn("opsgraph-scheduler", self._schedule_loop)
        if self.does_work:
            self._spawn("opsgraph-heartbeat", self._heartbeat_loop)
        log.info(
            "worker runtime started (%s)",
            "embedded" if self.embedded else f"broker, namespace {self.settings.broker_namespace}",
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the loops, let running handlers finish (up to `timeout`), close everything."""
        self._stop.set()
        self._wake.set()
        self._tick.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        if self.worker is not None:
            self.worker.stop(timeout=int(timeout * 1000))
        if self.broker is not None:
            close_broker(self.broker)
        if self._owns_engine:
            self.engine.dispose()
        log.info("worker runtime stopped")

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _relay_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                report = self.relay.run_once()
            except Exception:  # the database is unreachable: wait and try again
                log.exception("relay: pass failed")
                report = None
            if report is not None and report.done >= self.relay.batch_size:
                continue  # more may be waiting
            self._wake.wait(self.settings.relay_interval)

    def _run_soon(self, name: str) -> None:
        """A handler asked for job `name` now (domains.common.outbox.run_soon)."""
        with self._soon_lock:
            self._soon.add(name)
        self._tick.set()

    def _take_soon(self) -> set[str]:
        with self._soon_lock:
            names, self._soon = self._soon, set()
        return names

    def _schedule_loop(self) -> None:
        jobs = periodic_jobs()
        next_run = {job.name: time.monotonic() for job in jobs}
        unlisten = listen_run_soon(self._run_soon)
        try:
            while not self._stop.is_set():
                self._tick.clear()
                soon = self._take_soon()
                now = time.monotonic()
                for job in jobs:
                    if self._stop.is_set():
                        return
                    if next_run[job.name] <= now or job.name in soon:
                        self.run_job(job)
                        next_run[job.name] = time.monotonic() + job.every_seconds
                wait = 5.0
                if jobs:
                    wait = min(wait, max(0.0, min(next_run.values()) - time.monotonic()))
                self._tick.wait(wait)
        finally:
            unlisten()

    def run_job(self, job: PeriodicJob) -> int:
        try:
            with timed(PERIODIC, job.name):
                done = job.fn(self.factory)
        except Exception:
            log.exception("periodic job %s failed", job.name)
            return 0
        if done:
            log.info("periodic job %s did %d", job.name, done)
        return done
