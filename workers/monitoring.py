"""Monitoring's background work, thin around domains.monitoring (each part appends its own
jobs and actors here):

- `monitoring.ingest_topic` (periodic, every OPSGRAPH_MONITORING_INGEST_INTERVAL s): ARGO
  `metric_data` messages published to OPSGRAPH_MONITORING_PROJECT / OPSGRAPH_MONITORING_TOPIC
  are ingested, OPSGRAPH_MONITORING_INGEST_BATCH per transaction, until the topic is drained
  (or MAX_BATCHES per run) (domains.monitoring.service.topic). Nothing happens while the
  topic does not exist: an administrator creates the project and topic and lets the
  monitoring hosts publish (AMS ACLs), as on ARGO.
- `monitoring.retention` (periodic, hourly): metric results and status history older than
  OPSGRAPH_MONITORING_RETENTION_DAYS are deleted; on PostgreSQL whole days by dropping their
  partitions, and the partitions of yesterday, today and the next two days are created
  (domains.monitoring.service.partitions).
- `monitoring.downtime_moments` (periodic, every OPSGRAPH_DOWNTIME_TICK s): the downtimes'
  starts, ends of effect and edits since its last run become rows among the status changes,
  so that the `statusChanges` streams tell the levels they change at that time, once across
  restarts (domains.monitoring.service.downtime_moments).
- `monitoring.availability` (periodic, hourly): each enabled report's yesterday and today,
  and every day marked for recomputation, are requested as outbox events; each (report,
  day) is then computed by whichever worker takes it, idempotently
  (domains.monitoring.service.availability.compute_requested).

Probes (OPSGRAPH_PROBE_SCHEDULE on; both jobs do nothing otherwise):

- `monitoring.sync_checks` (periodic, every minute): the check schedule follows the
  topology and the catalogue (domains.monitoring.service.scheduling.sync_checks). Its
  first run in a process also ensures opsgraph's own site and report on the base URL
  (domains.monitoring.service.selfmon): the process that schedules probes is the one that
  knows they will run; a worker without OPSGRAPH_PUBLIC_URL logs that it cannot.
- `monitoring.schedule_checks` (periodic, every second): claims the due checks in batches
  (`UPDATE … WHERE` still claimable, so two schedulers never take the same check) and,
  with a broker, sends each batch as a dramatiq message to the `monitoring.run_checks`
  actor, so that every worker process consuming the queue shares the probing; embedded
  (no broker), runs each batch here.
- `monitoring.run_checks` (actor): runs a claimed batch concurrently (asyncio, at most
  OPSGRAPH_PROBE_CONCURRENCY probes in flight, each within OPSGRAPH_PROBE_TIME_LIMIT),
  through the egress policy with the batch's registered targets as the only allowed
  destinations, then hands the results to `ingest_results` (source `opsgraph-probes`)
  and records the next due times, in one transaction. No database transaction is open
  while probes run. A batch whose worker died is claimed again when its lease runs out.
  The checks that read the database instead of the network (APEL-Pub, APEL-Sync on
  `gLite-APEL` services) run in the planning transaction, before the network probes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.egress import EgressPolicy
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.monitoring.avro import MetricResultIn
from domains.monitoring.probes.nagios import UNKNOWN, ProbeResult
from domains.monitoring.probes.runner import Check, run_checks
from domains.monitoring.probes.targets import ProbeEgress, Target, own_listener
from domains.monitoring.service import (
    alert_evaluation,
    alerts,
    availability,
    downtime_moments,
    results,
    scheduling,
    selfmon,
    topic,
)
from domains.monitoring.service.results import PROBES_SOURCE, ingest_results
from workers.config import WorkerConfig
from workers.drain import drain
from workers.notifications import NotifyConfig, deliver_due

log = logging.getLogger("opsgraph.workers.monitoring")

INGEST_JOB = "monitoring.ingest_topic"
RETENTION_JOB = "monitoring.retention"
RETENTION_EVERY = 3600.0
AVAILABILITY_JOB = "monitoring.availability"
AVAILABILITY_EVERY = 3600.0
MAX_BATCHES = 50  # per run of the ingest job: the scheduler's other jobs wait meanwhile
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class IngestConfig:
    project: str = "monitoring"
    topic: str = "metric_data"
    batch: int = 1000
    policy: results.IngestPolicy = results.IngestPolicy()
    retention_days: int = 90

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> IngestConfig:
        return cls(
            project=settings.monitoring_project,
            topic=settings.monitoring_topic,
            batch=settings.monitoring_ingest_batch,
            policy=results.IngestPolicy(
                clock_skew=timedelta(seconds=settings.monitoring_clock_skew_seconds),
                late_age=timedelta(hours=settings.monitoring_late_results_hours),
                retention_days=settings.monitoring_retention_days,
            ),
            retention_days=settings.monitoring_retention_days,
        )


CONFIG = WorkerConfig(IngestConfig.from_settings)
current_config = CONFIG.current


def configure(settings: CoreSettings) -> None:
    """Called by workers.registry.load_modules (in `opsgraph serve` and `opsgraph worker`):
    the jobs' settings, and the ingest policy every path into ingest_results applies."""
    CONFIG.configure(settings)
    results.set_policy(current_config().policy)
    PROBES.configure(settings)  # the probes' part, below
    ALERT_CONFIG.configure(settings)  # the alerts' part, below


def ingest_topic(
    factory: sessionmaker[Session],
    config: IngestConfig,
    *,
    clock: Clock = utcnow,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Batches until the topic is drained (or `max_batches`); how many messages were read."""

    def take(session: Session) -> topic.TopicBatch | None:
        return topic.ingest_topic(
            session,
            project=config.project,
            topic=config.topic,
            limit=config.batch,
            policy=config.policy,
            now=clock(),
        )

    def report(batch: topic.TopicBatch) -> None:
        if batch.outcome.rejected:
            first = batch.outcome.rejected[0]
            log.warning(
                "%s/%s: %d of %d messages rejected (first: %s %s: %s)",
                config.project,
                config.topic,
                len(batch.outcome.rejected),
                batch.messages,
                first.field,
                first.rule_code,
                first.reason,
            )

    return drain(factory, take, max_batches=max_batches, report=report)


@CONFIG.periodic(INGEST_JOB, every=lambda settings: settings.monitoring_ingest_interval)
def ingest_topic_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.ingest_topic` job."""
    return ingest_topic(factory, current_config())


def purge_expired(
    factory: sessionmaker[Session], *, retention_days: int, clock: Clock = utcnow
) -> int:
    now = clock()
    with unit_of_work(factory) as session:
        results.prepare_partitions(session, now=now)
        return results.purge_expired_results(
            session, older_than=now - timedelta(days=retention_days)
        )


@CONFIG.periodic(RETENTION_JOB, every=lambda _settings: RETENTION_EVERY)
def purge_expired_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.retention` job."""
    removed = purge_expired(factory, retention_days=current_config().retention_days)
    if removed:
        log.info("retention: %d expired metric results deleted", removed)
    return removed


# --- probes ---------------------------------------------------------------------------

SYNC_JOB = "monitoring.sync_checks"
SCHEDULE_JOB = "monitoring.schedule_checks"
RUN_ACTOR = "monitoring.run_checks"
SYNC_EVERY = 60.0
SCHEDULE_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    schedule: bool = False  # OPSGRAPH_PROBE_SCHEDULE
    concurrency: int = 200
    time_limit: float = 30.0
    plugin_dir: str | None = None
    egress: EgressPolicy = EgressPolicy()
    batch_size: int = 500  # checks per claim and per message
    own_listener: Target | None = None  # opsgraph's own (OPSGRAPH_PUBLIC_URL or serve's)
    self_url: str | None = None  # the base URL of opsgraph's own report (selfmon)

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> ProbeConfig:
        return cls(
            schedule=settings.probe_schedule,
            concurrency=settings.probe_concurrency,
            time_limit=settings.probe_time_limit,
            plugin_dir=settings.probe_plugin_dir,
            egress=EgressPolicy.from_settings(settings),
            own_listener=own_listener(settings.self_url),
            self_url=settings.self_url,
        )

    @property
    def lease(self) -> dt.timedelta:
        """How long a claim holds: a batch waits in the queue, then runs in waves of
        `concurrency` probes of at most `time_limit` each."""
        waves = -(-self.batch_size // self.concurrency)
        return dt.timedelta(seconds=max(300.0, 2 * waves * self.time_limit))


PROBES = WorkerConfig(ProbeConfig.from_settings)
probe_config = PROBES.current


_send: Callable[[str], Any] | None = None  # the actor's send, once declared on a broker


def declare_actor(
    broker: dramatiq.Broker, factory: sessionmaker[Session], settings: CoreSettings
) -> dramatiq.Actor[[str], int]:
    """The `monitoring.run_checks` actor on `broker` (workers.actors.declare_actors). No
    retries: a batch that failed is claimed again when its lease runs out."""
    global _send

    def run(token: str) -> int:
        return run_claimed(factory, token, probe_config())

    actor: dramatiq.Actor[[str], int] = dramatiq.actor(
        actor_name=RUN_ACTOR,
        queue_name=settings.broker_namespace,
        broker=broker,
        max_retries=0,
        time_limit=settings.worker_time_limit_ms,
    )(run)
    _send = actor.send
    return actor


@functools.cache
def monitoring_host() -> str:
    return socket.getfqdn()[:255] or "opsgraph"


def _checks(
    plans: list[scheduling.PlannedCheck], done: Mapping[int, ProbeResult]
) -> list[Check | ProbeResult]:
    checks: list[Check | ProbeResult] = []
    for plan in plans:
        if plan.check_id in done:
            checks.append(done[plan.check_id])
        elif plan.target is None:
            checks.append(ProbeResult(UNKNOWN, f"probe not run: {plan.problem}"))
        else:
            checks.append(
                Check(plan.target, plan.builtin, plan.command, plan.parameters, plan.time_limit)
            )
    return checks


async def probe_all(
    plans: list[scheduling.PlannedCheck],
    config: ProbeConfig,
    done: Mapping[int, ProbeResult] | None = None,
) -> list[ProbeResult]:
    """The planned checks' results, in order (a check that cannot run: UNKNOWN; `done`:
    those already run, by check id, such as the database-reading APEL checks)."""
    prepared = _checks(plans, done or {})
    runnable = [c for c in prepared if isinstance(c, Check)]
    own = () if config.own_listener is None else (config.own_listener,)
    egress = ProbeEgress.for_targets(config.egress, [c.target for c in runnable], own=own)
    ran = iter(
        await run_checks(
            runnable,
            egress,
            concurrency=config.concurrency,
            plugin_dir=config.plugin_dir,
            time_limit=config.time_limit,
        )
    )
    return [next(ran) if isinstance(c, Check) else c for c in prepared]


def run_claimed(
    factory: sessionmaker[Session], token: str, config: ProbeConfig, *, clock: Clock = utcnow
) -> int:
    """Runs the checks claimed under `token`, ingests their results, records the next due
    times; how many checks ran."""
    started = clock()
    with unit_of_work(factory, write=False) as session:
        plans = scheduling.plan_checks(
            session, token, day=started.date(), time_limit=config.time_limit
        )
        done = scheduling.run_planned(session, plans, now=started)
    if not plans:
        return 0
    results = asyncio.run(probe_all(plans, config, done))
    host = monitoring_host()
    records = []
    outcomes = []
    for plan, result in zip(plans, results, strict=True):
        ran_at = started + dt.timedelta(seconds=result.duration)
        records.append(
            MetricResultIn(
                timestamp=ran_at.replace(microsecond=0),
                service=plan.service_type,
                hostname=plan.hostname,
                metric=plan.metric,
                status=result.status,
                monitoring_host=host,
                actual_data=result.perfdata or None,
                summary=result.summary,
                message=result.message or None,
            )
        )
        outcomes.append(scheduling.Outcome(plan.check_id, result.status, ran_at))
    with unit_of_work(factory) as session:
        outcome = ingest_results(session, PROBES_SOURCE, records)
        scheduling.complete_checks(session, token, outcomes, now=clock())
    for rejection in outcome.rejected[:5]:
        log.warning("probe result rejected: %s %s", rejection.field, rejection.reason)
    return len(plans)


def schedule_due(
    factory: sessionmaker[Session],
    config: ProbeConfig,
    *,
    clock: Clock = utcnow,
    send: Callable[[str], Any] | None = None,
) -> int:
    """Claims due checks batch by batch until none is due; each batch sent to the actor
    (`send`) or, without one, run here. How many checks were claimed."""
    total = 0
    while True:
        with unit_of_work(factory) as session:
            claim = scheduling.claim_due(
                session, now=clock(), limit=config.batch_size, lease=config.lease
            )
        if not claim.check_ids:
            return total
        total += len(claim.check_ids)
        if send is not None:
            send(claim.token)
        else:
            run_claimed(factory, claim.token, config, clock=clock)
        if len(claim.check_ids) < config.batch_size:
            return total


_ensured: set[str | None] = set()  # the base URLs this process ensured its report on


def ensure_self(factory: sessionmaker[Session], config: ProbeConfig) -> bool:
    """opsgraph's own site and report on `config.self_url`, once per process and URL (or,
    without a URL, one warning); whether they are there."""
    if config.self_url in _ensured:
        return config.self_url is not None
    if config.self_url is None:
        log.warning(
            "OPSGRAPH_PROBE_SCHEDULE is on but OPSGRAPH_PUBLIC_URL is not set: this process "
            "does not know where opsgraph listens, so it does not measure opsgraph itself"
        )
    else:
        with unit_of_work(factory) as session:
            selfmon.ensure_self_monitoring(session, config.self_url)
    _ensured.add(config.self_url)
    return config.self_url is not None


@PROBES.periodic(SYNC_JOB, every=lambda _settings: SYNC_EVERY)
def sync_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.sync_checks` job: checks added plus removed."""
    config = probe_config()
    if not config.schedule:
        return 0
    ensure_self(factory, config)
    with unit_of_work(factory) as session:
        report = scheduling.sync_checks(session, now=utcnow())
    return report.added + report.removed


@PROBES.periodic(SCHEDULE_JOB, every=lambda _settings: SCHEDULE_EVERY)
def schedule_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.schedule_checks` job."""
    config = probe_config()
    return schedule_due(factory, config, send=_send) if config.schedule else 0


MOMENTS_JOB = "monitoring.downtime_moments"


def record_downtime_moments(factory: sessionmaker[Session], *, clock: Clock = utcnow) -> int:
    """The downtimes' moments since the last run, recorded for the streams; how many."""
    with unit_of_work(factory) as session:
        return downtime_moments.record_moments(session, now=clock())


@CONFIG.periodic(MOMENTS_JOB, every=lambda settings: settings.downtime_tick)
def downtime_moments_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.downtime_moments` job."""
    return record_downtime_moments(factory)


def schedule_availability(factory: sessionmaker[Session], *, clock: Clock = utcnow) -> int:
    with unit_of_work(factory) as session:
        return availability.schedule_availability(session, now=clock())


@CONFIG.periodic(AVAILABILITY_JOB, every=lambda _settings: AVAILABILITY_EVERY)
def schedule_availability_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.availability` job."""
    return schedule_availability(factory)


# --- alerts (domains.monitoring.service.alert_evaluation, .alerts) ---------------------------
#
# - `monitoring.alerts` (periodic, every OPSGRAPH_MONITORING_INGEST_INTERVAL s, as often as
#   results come in): the alert rules evaluated over the new status changes and the open
#   problems' timers, a batch per transaction until none is left (MAX_BATCHES per run).
# - `monitoring.alerts.deliver` (periodic, every OPSGRAPH_NOTIFY_INTERVAL s, and at once when
#   the outbox handler `monitoring.alert.notify` wrote notifications): the PENDING e-mail
#   and webhook alert notifications, with the shared sender (workers.notifications).

ALERTS_JOB = "monitoring.alerts"
ALERT_CONFIG = WorkerConfig(NotifyConfig.from_settings)


def evaluate_alerts(
    factory: sessionmaker[Session], *, clock: Clock = utcnow, max_batches: int = MAX_BATCHES
) -> int:
    """Batches until no status change is left (or `max_batches`); how many alerts fired."""
    fired = 0
    for _ in range(max_batches):
        with unit_of_work(factory) as session:
            done = alert_evaluation.evaluate(session, now=clock())
        fired += done.fired
        if not done.more:
            break
    return fired


@CONFIG.periodic(ALERTS_JOB, every=lambda settings: settings.monitoring_ingest_interval)
def evaluate_alerts_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.alerts` job."""
    return evaluate_alerts(factory)


@ALERT_CONFIG.periodic(alerts.DELIVER_JOB, every=lambda settings: settings.notify_interval)
def deliver_alerts_job(factory: sessionmaker[Session]) -> int:
    """The `monitoring.alerts.deliver` job."""
    return deliver_due(factory, alerts.CHANNELS, ALERT_CONFIG.current())
