"""Which modules register event handlers and periodic jobs (domains.common.outbox).

Every process that relays or consumes must import the same modules: the relay sends one
message per registered handler, the consumer looks handlers up by name."""

from __future__ import annotations

import importlib

from domains.common.settings import CoreSettings

# Modules that call on_event / periodic at import (domains' own, or workers' thin modules
# that run domain functions around I/O the domains do not do). A new one is added here.
DOMAIN_MODULES: tuple[str, ...] = (
    "domains.common.outbox",
    "workers.messaging",
    "workers.downtimes",
    "workers.topology",
    "workers.monitoring",
    "workers.accounting",
)


def load_modules(settings: CoreSettings) -> None:
    """Import the modules, then OPSGRAPH_WORKER_IMPORTS (site-local additions). A module
    that defines `configure(settings)` gets it called, after every import: its jobs and
    handlers read their settings from there (they are registered at import, before any)."""
    for name in (*DOMAIN_MODULES, *settings.worker_imports):
        module = importlib.import_module(name)
        configure = getattr(module, "configure", None)
        if callable(configure):
            configure(settings)
