"""Test-only event handlers, registered by importing this module (the worker subprocesses
get it through OPSGRAPH_WORKER_IMPORTS). Each handled (handler, event) writes one audit row,
so exactly-once is a row count.

Payload controls, both paths the test owns:
  gate: a directory; the first handler touches `entered-<event id>` there and waits until
        `open` appears (a handler to kill a process in).
  fail_while: a file; while it exists the first handler fails (a dependency that is down).
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.identity import PLATFORM
from domains.common.models import pk
from domains.common.outbox import OutboxEvent, on_event

KIND = "test.counted"
FIRST = "test.count"
SECOND = "test.count.second"
EFFECT = "outbox_test"


def _effect(session: Session, event: OutboxEvent, handler: str) -> None:
    audit.record(
        session,
        PLATFORM,
        action="handled",
        entity_type=EFFECT,
        entity_id=pk(event),
        entity_name=handler,
    )


@on_event(KIND, FIRST)
def count(session: Session, event: OutboxEvent) -> None:
    _effect(session, event, FIRST)  # written first: a kill below must roll it back
    session.flush()
    gate = event.payload.get("gate")
    if gate:
        (Path(gate) / f"entered-{pk(event)}").touch()
        while not (Path(gate) / "open").exists():
            time.sleep(0.02)
    fail_while = event.payload.get("fail_while")
    if fail_while and Path(fail_while).exists():
        raise RuntimeError("dependency down")


@on_event(KIND, SECOND)
def count_again(session: Session, event: OutboxEvent) -> None:
    _effect(session, event, SECOND)


HANDLERS = (FIRST, SECOND)
