"""A worker module's configuration: built from the settings, held under a lock, read by its
jobs; and the periodic jobs whose period is a setting.

workers.registry.load_modules calls each module's `configure(settings)` once every module
is imported (in the thread that starts the process), while the scheduler's and the
handlers' threads may already read the configuration. A module declares what it holds once:

    CONFIG = WorkerConfig(PushConfig.from_settings)
    configure = CONFIG.configure           # what load_modules looks for
    current_config = CONFIG.current

    @CONFIG.periodic(PUSH_JOB, every=lambda s: s.push_interval)
    def push_due(factory): ...

A job is registered at import with the default settings' period (so that a process that
never calls configure still has it) and again by configure with the configured one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from domains.common.outbox import JobFn, periodic
from domains.common.settings import CoreSettings

C = TypeVar("C")
Period = Callable[[CoreSettings], float]


class WorkerConfig(Generic[C]):
    """The configuration `build(settings)` makes, the defaults' until configure() runs."""

    def __init__(self, build: Callable[[CoreSettings], C]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._value = build(CoreSettings())
        self._jobs: list[tuple[str, Period, JobFn]] = []

    def configure(self, settings: CoreSettings) -> None:
        """The settings' configuration, and the periodic jobs' periods from them."""
        value = self._build(settings)
        with self._lock:
            self._value = value
            jobs = list(self._jobs)
        for name, every, job in jobs:
            periodic(name, every_seconds=every(settings))(job)

    def current(self) -> C:
        with self._lock:
            return self._value

    def replace(self, value: C) -> C:
        """Hold `value` instead (tests); the configuration it replaces."""
        with self._lock:
            before, self._value = self._value, value
        return before

    def periodic(self, name: str, *, every: Period) -> Callable[[JobFn], JobFn]:
        """Register the job `name`, every `every(settings)` seconds: now with the default
        settings, and again whenever configure() runs."""

        def register(job: JobFn) -> JobFn:
            with self._lock:
                self._jobs.append((name, every, job))
            return periodic(name, every_seconds=every(CoreSettings()))(job)

        return register
