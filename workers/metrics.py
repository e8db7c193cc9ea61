"""Metrics of the background work (issue 16 item 4): jobs, deliveries, broker queues, and
the separate listener OPSGRAPH_METRICS_ADDRESS that serves them.

The counters are the process's (`WORK`): the work runs in `serve` (embedded), or in
`opsgraph worker` processes that have no HTTP app; gateway/metrics.py shows them beside
the app's own. Every label is from a fixed set: a job is named by the code that registers
it (an actor, an event handler, a periodic job), a delivery by its channel and outcome, a
queue by OPSGRAPH_BROKER_NAMESPACE. Queue depths are read when Prometheus scrapes."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from domains.common.outbox import handler_named

log = logging.getLogger("opsgraph.metrics")

OTHER = "other"
ACTOR, HANDLER, PERIODIC = "actor", "handler", "periodic"
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)

WORK = CollectorRegistry()
JOBS = Counter(
    "opsgraph_jobs",
    "Background jobs run, by kind (actor, handler, periodic), name and outcome",
    ["kind", "job", "outcome"],
    registry=WORK,
)
JOB_SECONDS = Histogram(
    "opsgraph_job_duration_seconds",
    "Background job durations, by kind and name",
    ["kind", "job"],
    buckets=_JOB_BUCKETS,
    registry=WORK,
)
PUSH = Counter(
    "opsgraph_push_deliveries",
    "AMS push delivery cycles (one POST each), by outcome (delivered, failed)",
    ["outcome"],
    registry=WORK,
)
PUSHED = Counter(
    "opsgraph_push_messages", "Messages pushed and acknowledged by the endpoints", registry=WORK
)
NOTIFICATIONS = Counter(
    "opsgraph_notification_deliveries",
    "Notification deliveries, by what they are about (downtime, alert), channel and outcome",
    ["about", "channel", "outcome"],
    registry=WORK,
)


def handler_label(name: str) -> str:
    """An event handler's name when one is registered under it, else `other` (a message
    from the broker names it: a stray one must not add a series)."""
    try:
        handler_named(name)
    except LookupError:
        return OTHER
    return name


@contextmanager
def timed(kind: str, job: str) -> Iterator[None]:
    """Count the job's run and its duration; an exception leaving it makes it an `error`."""
    started = time.monotonic()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        JOBS.labels(kind, job, outcome).inc()
        JOB_SECONDS.labels(kind, job).observe(time.monotonic() - started)


class JobMetrics(dramatiq.Middleware):
    """dramatiq actors' runs into WORK, by actor name (dramatiq's own Prometheus middleware
    serves a registry of its own, through files, on a port of its own)."""

    def __init__(self, actors: Callable[[], Iterable[str]]) -> None:
        self._actors = actors
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.monotonic()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if started is None:
            return
        name = message.actor_name if message.actor_name in set(self._actors()) else OTHER
        JOBS.labels(ACTOR, name, "ok" if exception is None else "error").inc()
        JOB_SECONDS.labels(ACTOR, name).observe(time.monotonic() - started)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        with self._lock:
            self._started.pop(message.message_id, None)


class QueueDepths(Collector):
    """The broker's messages waiting, read at each scrape: `ready` (to be consumed),
    `delayed` (retries waiting their backoff) and `dead` (given up), per queue."""

    def __init__(self, broker: dramatiq.Broker, queues: tuple[str, ...]) -> None:
        self.broker = broker
        self.queues = queues

    def _rabbitmq(self, broker: RabbitmqBroker) -> Iterator[tuple[str, str, int]]:
        # a connection of its own: the broker's are per thread, and a scrape's thread
        # would keep one open for good
        connection = pika.BlockingConnection(broker.parameters)
        try:
            channel = connection.channel()
            for queue in self.queues:
                for state, name in (
                    ("ready", queue),
                    ("delayed", f"{queue}.DQ"),
                    ("dead", f"{queue}.XQ"),
                ):
                    try:
                        declared = channel.queue_declare(queue=name, passive=True)
                    except pika.exceptions.ChannelClosedByBroker as exc:
                        if exc.reply_code != 404:
                            raise
                        # not declared yet (dramatiq declares at the first send): empty
                        channel = connection.channel()
                        yield queue, state, 0
                        continue
                    yield queue, state, int(declared.method.message_count)
        finally:
            connection.close()

    def _redis(self, broker: RedisBroker) -> Iterator[tuple[str, str, int]]:
        # dramatiq's layout: a list of ids per queue and per delay queue, a sorted set of
        # the dead (its own qsize counts messages being worked on as well)
        pipe = broker.client.pipeline(transaction=False)
        for queue in self.queues:
            prefix = f"{broker.namespace}:{queue}"
            pipe.llen(prefix)
            pipe.llen(f"{prefix}.DQ")
            pipe.zcard(f"{prefix}.XQ")
        counts = iter(pipe.execute())
        for queue in self.queues:
            for state in ("ready", "delayed", "dead"):
                yield queue, state, int(next(counts))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "opsgraph_broker_queue_messages",
            "Messages in the broker's queues, by queue and state (ready, delayed, dead)",
            labels=["queue", "state"],
        )
        try:
            if isinstance(self.broker, RabbitmqBroker):
                depths = list(self._rabbitmq(self.broker))
            elif isinstance(self.broker, RedisBroker):
                depths = list(self._redis(self.broker))
            else:
                depths = []
        except Exception:  # a scrape reports what it can; the broker may be away
            log.warning("broker queue depths unreadable", exc_info=True)
            return
        for queue, state, count in depths:
            family.add_metric([queue, state], float(count))
        yield family


class Forward(Collector):
    """Another registry's metrics, shown in this one (WORK in each app's registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def listen(host: str, port: int, registry: CollectorRegistry) -> WSGIServer:
    """Serve GET /metrics of `registry` on host:port in a daemon thread, without a token:
    the address is meant for a network only Prometheus reaches. Raises OSError when the
    address cannot be bound."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found: only /metrics is served here\n"]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        body = generate_latest(registry)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [body]

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
    server_class = type("MetricsServer", (_Threading,), {"address_family": family})
    server: WSGIServer = make_server(host, port, app, server_class, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, name="opsgraph-metrics", daemon=True)
    thread.start()
    return server
