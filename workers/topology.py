"""The topology's background work, thin around domains.topology:

- `topology.unused_api_credentials` (periodic, hourly): flags the site API credentials
  neither used nor renewed for OPSGRAPH_API_CREDENTIAL_UNUSED_MONTHS months (default 13),
  each flag audited on its site (domains.topology.service.flag_unused_credentials). GOCDB
  does this with an operator's script (resources/ManageAPICredentials) that warns the owners
  by e-mail and deletes after a second threshold; here the flag is shown beside the
  credential (`SiteApiCredential.unusedFlaggedAt`) and nothing is deleted: the site's
  editors renew or delete it. Idempotent: a flagged credential is not flagged again until a
  use or a renewal lifts the flag.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from domains.common.db import unit_of_work
from domains.common.settings import CoreSettings
from domains.common.time import utcnow
from domains.topology import service as topology
from workers.config import WorkerConfig

UNUSED_CREDENTIALS_JOB = "topology.unused_api_credentials"
UNUSED_CREDENTIALS_EVERY = 3600.0
Clock = Callable[[], datetime]


def _unused_months(settings: CoreSettings) -> int:
    return settings.api_credential_unused_months


CONFIG = WorkerConfig(_unused_months)
configure = CONFIG.configure  # called by workers.registry.load_modules
current_config = CONFIG.current


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier (the last day of a shorter month)."""
    total = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def flag_unused(
    factory: sessionmaker[Session], *, months: int, clock: Clock = utcnow, batch: int = 500
) -> int:
    """Flag, a batch per transaction, until none is left; how many were flagged."""
    cutoff = months_before(clock(), months)
    total = 0
    while True:
        with unit_of_work(factory) as session:
            flagged = topology.flag_unused_credentials(session, unused_since=cutoff, batch=batch)
        total += flagged
        if flagged < batch:
            return total


@CONFIG.periodic(UNUSED_CREDENTIALS_JOB, every=lambda _settings: UNUSED_CREDENTIALS_EVERY)
def unused_credentials_job(factory: sessionmaker[Session]) -> int:
    """The `topology.unused_api_credentials` job."""
    return flag_unused(factory, months=current_config())
