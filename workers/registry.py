"""Which modules register event handlers and periodic jobs (domains.common.outbox).

Every process that relays or consumes must import the same modules: the relay sends one
message per registered handler, the consumer looks handlers up by name."""

from __future__ import annotations

import importlib

from gateway.config import Settings

# Domain modules that call on_event / periodic at import. A new domain adds its module here.
DOMAIN_MODULES: tuple[str, ...] = ("domains.common.outbox",)


def load_modules(settings: Settings) -> None:
    """Import the domain modules, then OPSGRAPH_WORKER_IMPORTS (site-local additions)."""
    for name in (*DOMAIN_MODULES, *settings.worker_imports):
        importlib.import_module(name)
