"""Accounting's background work, thin around domains.accounting:

- `accounting.consume` (periodic, every OPSGRAPH_ACCOUNTING_INGEST_INTERVAL s): the signed
  APEL messages of the AMS subscription OPSGRAPH_ACCOUNTING_SUBSCRIPTION in project
  OPSGRAPH_ACCOUNTING_PROJECT (default `accounting` / `loader`) are pulled, verified against
  OPSGRAPH_ACCOUNTING_CA_PATH, loaded or rejected, and acknowledged, a batch per transaction,
  until the subscription is drained (or MAX_BATCHES per run)
  (domains.accounting.service.intake.consume). Nothing happens while the subscription does
  not exist: an administrator creates the project, the topic the sites' SSM senders publish
  to and this subscription on it, as on ARGO's AMS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

# the APEL-Pub and APEL-Sync probes' reads, handed to monitoring at import: the processes
# that run `monitoring.run_checks` load this module (workers/registry.py)
import domains.accounting.service.publication  # noqa: F401
from domains.accounting.service import intake
from domains.accounting.smime import CryptoConfig
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from workers.config import WorkerConfig
from workers.drain import drain

log = logging.getLogger("opsgraph.workers.accounting")

CONSUME_JOB = "accounting.consume"
MAX_BATCHES = 20  # per run: the scheduler's other jobs wait meanwhile
BATCH = 20  # messages per transaction (each up to 1,000 records as APEL sends them)
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class AccountingConfig:
    project: str = "accounting"
    subscription: str = "loader"
    crypto: CryptoConfig = CryptoConfig(ca_path=None)

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> AccountingConfig:
        return cls(
            project=settings.accounting_project,
            subscription=settings.accounting_subscription,
            crypto=CryptoConfig.from_settings(settings),
        )


CONFIG = WorkerConfig(AccountingConfig.from_settings)
current_config = CONFIG.current


def configure(settings: CoreSettings) -> None:
    CONFIG.configure(settings)


def consume(
    factory: sessionmaker[Session],
    config: AccountingConfig,
    *,
    clock: Clock = utcnow,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Batches until the subscription is drained (or `max_batches`); messages read."""

    def take(session: Session) -> intake.Batch | None:
        return intake.consume(
            session,
            project=config.project,
            subscription=config.subscription,
            crypto=config.crypto,
            limit=BATCH,
            now=clock(),
        )

    def report(batch: intake.Batch) -> None:
        for outcome in batch.rejected:
            log.warning(
                "%s/%s: message rejected: %s", config.project, config.subscription, outcome.reason
            )

    return drain(factory, take, max_batches=max_batches, report=report)


@CONFIG.periodic(CONSUME_JOB, every=lambda settings: settings.accounting_ingest_interval)
def consume_job(factory: sessionmaker[Session]) -> int:
    """The `accounting.consume` job."""
    return consume(factory, current_config())
