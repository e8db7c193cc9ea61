"""The downtimes domain's background work, thin around domains.downtimes:

- `downtimes.transitions` (periodic, every OPSGRAPH_DOWNTIME_TICK s): emits
  `downtime.started` / `downtime.ended` for the downtimes whose moment has come
  (domains.downtimes.service.emit_transitions, exactly once each).
- `downtimes.deliver` (periodic, every OPSGRAPH_NOTIFY_INTERVAL s, and at once when a
  handler wrote new notifications): sends the PENDING e-mail and webhook notifications of
  downtimes' channels (domains.downtimes.notifications.CHANNELS) with the shared sender,
  workers.notifications.deliver_due.

The notification rows themselves are written by the outbox handlers that
domains.downtimes.notifications registers when this module imports it.

Settings come from `configure(settings)`, which workers.registry.load_modules calls; they
are held, and the jobs' periods set, by workers.config.WorkerConfig.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.time import utcnow
from domains.downtimes import notifications as notes
from domains.downtimes import service as downtimes
from domains.downtimes.notifications import DELIVER_JOB
from workers.config import WorkerConfig
from workers.notifications import NotifyConfig, deliver_due

TRANSITIONS_JOB = "downtimes.transitions"
Clock = Callable[[], datetime]


CONFIG = WorkerConfig(NotifyConfig.from_settings)
configure = CONFIG.configure  # called by workers.registry.load_modules
current_config = CONFIG.current


# --- transitions ------------------------------------------------------------------------


def run_transitions(factory: sessionmaker[Session], *, clock: Clock = utcnow) -> int:
    with unit_of_work(factory) as session:
        return downtimes.emit_transitions(session, now=clock())


@CONFIG.periodic(TRANSITIONS_JOB, every=lambda settings: settings.downtime_tick)
def transitions_job(factory: sessionmaker[Session]) -> int:
    """The `downtimes.transitions` job: started/ended events, in batches until none is due."""
    total = 0
    while True:
        emitted = run_transitions(factory)
        total += emitted
        if emitted == 0:
            return total


@CONFIG.periodic(DELIVER_JOB, every=lambda settings: settings.notify_interval)
def deliver_job(factory: sessionmaker[Session]) -> int:
    """The `downtimes.deliver` job."""
    return deliver_due(factory, notes.CHANNELS, current_config())
