"""workers.config.WorkerConfig: what a worker module's jobs read, and their periods."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domains.common.outbox import periodic_job_named
from domains.common.settings import CoreSettings
from workers.config import WorkerConfig


@dataclass(frozen=True)
class Config:
    timeout: float

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> Config:
        return cls(timeout=settings.push_timeout)


def test_defaults_until_configured_then_the_settings() -> None:
    held = WorkerConfig(Config.from_settings)
    assert held.current() == Config(timeout=CoreSettings().push_timeout)
    held.configure(replace(CoreSettings(), push_timeout=3.0))
    assert held.current() == Config(timeout=3.0)
    assert held.replace(Config(timeout=1.0)) == Config(timeout=3.0)
    assert held.current() == Config(timeout=1.0)


def test_the_downtime_jobs_take_their_periods_from_the_settings() -> None:
    from domains.downtimes import notifications
    from workers import downtimes

    settings = replace(CoreSettings(), downtime_tick=2.5, notify_interval=0.5, notify_timeout=4)
    try:
        downtimes.configure(settings)
        assert periodic_job_named(downtimes.TRANSITIONS_JOB).every_seconds == 2.5
        assert periodic_job_named(notifications.DELIVER_JOB).every_seconds == 0.5
        assert downtimes.current_config().timeout == 4
    finally:
        downtimes.configure(CoreSettings())
    assert periodic_job_named(notifications.DELIVER_JOB).every_seconds == 5.0
