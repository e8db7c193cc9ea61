"""Messaging's background work, thin around domains.messaging: AMS push delivery and the
retention purge.

- `messaging.push` (periodic, every OPSGRAPH_PUSH_INTERVAL s, and at once when woken):
  claims the due push subscriptions (domains.messaging.push.claim_due) and runs one
  delivery cycle for each, OPSGRAPH_PUSH_CONCURRENCY at a time, POSTing with a client of
  the egress policy (domains.common.egress: OPSGRAPH_EGRESS_ALLOW, OPSGRAPH_ALLOW_INSECURE_PUSH;
  OPSGRAPH_PUSH_TIMEOUT, no redirects). The lease a claim takes is 3 x the timeout.
- handlers of `messaging.published` and `messaging.push_changed`: wake the push job of
  this process's scheduler (outbox.run_soon), so a publish is pushed within moments in the
  embedded mode as with a broker, instead of at the next tick.
- `messaging.retention` (periodic, hourly): deletes messages older than
  OPSGRAPH_MESSAGE_RETENTION_DAYS.

Settings come from `configure(settings)`, which workers.registry.load_modules calls; they
are held, and the jobs' periods set, by workers.config.WorkerConfig.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.egress import STRICT, EgressPolicy
from domains.common.outbox import OutboxEvent, on_event, periodic, run_soon
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.messaging import push
from domains.messaging import service as msg
from domains.messaging.push import PushOutcome, PushRequest
from workers.config import WorkerConfig
from workers.metrics import PUSH, PUSHED

log = logging.getLogger("opsgraph.workers.messaging")

PUSH_JOB = "messaging.push"
RETENTION_JOB = "messaging.retention"
RETENTION_EVERY = 3600.0
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class PushConfig:
    timeout: float = 10.0
    concurrency: int = 4
    interval: float = 1.0
    egress: EgressPolicy = STRICT
    retention_days: int = 7

    @property
    def lease(self) -> timedelta:
        """How long a claimed subscription stays with its worker: a cycle is two short
        transactions around one POST bounded by the timeout."""
        return timedelta(seconds=3 * self.timeout)

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> PushConfig:
        return cls(
            timeout=settings.push_timeout,
            concurrency=settings.push_concurrency,
            interval=settings.push_interval,
            egress=EgressPolicy.from_settings(settings),
            retention_days=settings.message_retention_days,
        )


CONFIG = WorkerConfig(PushConfig.from_settings)
configure = CONFIG.configure  # called by workers.registry.load_modules
current_config = CONFIG.current


# --- HTTP ---------------------------------------------------------------------------------


class PushHttp:
    """The HTTP side of push: POST a PushRequest, GET a verification URL. No redirects
    (an endpoint is verified for its own host); every request bounded by `timeout`, and
    every connection checked by the egress policy.

        with PushHttp(timeout=10, egress=policy) as http:
            service.verify_push_endpoint(..., fetch=http.fetch)
    """

    def __init__(self, timeout: float, egress: EgressPolicy = STRICT) -> None:
        self._client = egress.client(timeout=timeout)

    def send(self, request: PushRequest) -> tuple[int, str]:
        response = self._client.post(
            request.url, content=request.body, headers=dict(request.headers)
        )
        return response.status_code, response.text

    def fetch(self, url: str) -> tuple[int, str]:
        response = self._client.get(url)
        return response.status_code, response.text

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PushHttp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


MAX_RUN_INTERVALS = 5  # how long one run of the push job may keep draining backlogs

_http: PushHttp | None = None
_http_key: tuple[float, EgressPolicy] | None = None
_http_lock = threading.Lock()


def _shared_http(timeout: float, egress: EgressPolicy) -> PushHttp:
    """One client for every push round of the process: its connections are reused, and
    building a client (its TLS context) costs more than a whole round of a busy topic."""
    global _http, _http_key
    with _http_lock:
        if _http is None or _http_key != (timeout, egress):
            if _http is not None:
                _http.close()
            _http, _http_key = PushHttp(timeout, egress), (timeout, egress)
        return _http


# --- delivery -----------------------------------------------------------------------------


def deliver(
    factory: sessionmaker[Session],
    subscription_id: int,
    send: push.Send,
    *,
    egress: EgressPolicy = STRICT,
    clock: Clock = utcnow,
) -> PushOutcome | None:
    """One delivery cycle: read (tx 1), POST (no transaction), record (tx 2)."""
    with unit_of_work(factory) as session:
        batch = push.begin_cycle(session, subscription_id, egress=egress)
    if batch is None:
        return None
    status, error = push.send_batch(batch, send)
    with unit_of_work(factory) as session:
        outcome = push.finish_cycle(session, batch, status, error, now=clock())
    PUSH.labels("failed" if error is not None else "delivered").inc()
    PUSHED.inc(outcome.delivered)
    if error is not None:
        log.warning(
            "push to subscription %s/%s failed: %s", batch.project, batch.subscription, error
        )
    return outcome


def claim(
    factory: sessionmaker[Session], *, limit: int, lease: timedelta, clock: Clock = utcnow
) -> list[int]:
    with unit_of_work(factory) as session:
        return push.claim_due(session, now=clock(), limit=limit, lease=lease)


def push_round(
    factory: sessionmaker[Session],
    send: push.Send,
    config: PushConfig,
    *,
    clock: Clock = utcnow,
    pool: ThreadPoolExecutor | None = None,
) -> list[PushOutcome]:
    """Claim up to `concurrency` due subscriptions and run one cycle for each."""
    ids = claim(factory, limit=config.concurrency, lease=config.lease, clock=clock)

    def one(subscription_id: int) -> PushOutcome | None:
        try:
            return deliver(factory, subscription_id, send, egress=config.egress, clock=clock)
        except Exception:  # the database went away mid-cycle: the lease brings it back
            log.exception("push cycle of subscription %s failed", subscription_id)
            return None

    serial = pool is None or len(ids) <= 1
    results = [one(i) for i in ids] if serial or pool is None else list(pool.map(one, ids))
    return [r for r in results if r is not None]


@CONFIG.periodic(PUSH_JOB, every=lambda settings: settings.push_interval)
def push_due(factory: sessionmaker[Session]) -> int:
    """The `messaging.push` job: rounds until nothing is due; how many messages went out.
    A subscription comes due again only after its policy's delay, so this ends."""
    config = current_config()
    delivered = 0
    http = _shared_http(config.timeout, config.egress)
    started = time.monotonic()
    with ThreadPoolExecutor(config.concurrency, thread_name_prefix="opsgraph-push") as pool:
        while True:
            outcomes = push_round(factory, http.send, config, pool=pool)
            delivered += sum(o.delivered for o in outcomes)
            if outcomes:
                continue
            # A backlog behind a short retry period (linear, 50 ms say) comes due again
            # before the next tick: wait for it here rather than a whole interval, for a
            # few intervals at most (the scheduler's other jobs wait meanwhile).
            with unit_of_work(factory) as session:
                due = push.next_due_at(session)
            if due is None:
                return delivered
            wait = (due - utcnow()).total_seconds()
            spent = time.monotonic() - started
            if wait >= config.interval or spent + wait > MAX_RUN_INTERVALS * config.interval:
                return delivered
            time.sleep(max(wait, 0.01))


@on_event("messaging.published", "messaging.push.wake_on_publish")
def wake_on_publish(_session: Session, _event: OutboxEvent) -> None:
    """New messages: look for due push subscriptions now (this process's scheduler)."""
    run_soon(PUSH_JOB)


@on_event("messaging.push_changed", "messaging.push.wake_on_change")
def wake_on_change(_session: Session, _event: OutboxEvent) -> None:
    """A push subscription was created, verified or changed: it may be due now."""
    run_soon(PUSH_JOB)


# --- retention ----------------------------------------------------------------------------


def purge_expired(
    factory: sessionmaker[Session], *, retention_days: int, clock: Clock = utcnow
) -> int:
    with unit_of_work(factory) as session:
        return msg.purge_expired_messages(
            session, older_than=clock() - timedelta(days=retention_days)
        )


@periodic(RETENTION_JOB, every_seconds=RETENTION_EVERY)
def purge_expired_job(factory: sessionmaker[Session]) -> int:
    """The `messaging.retention` job: messages older than the retention period go."""
    removed = purge_expired(factory, retention_days=current_config().retention_days)
    if removed:
        log.info("retention: %d expired messages deleted", removed)
    return removed
