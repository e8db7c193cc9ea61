"""The workers' heartbeat: each worker process (`serve`'s in-process runtime, or an
`opsgraph worker` consuming from the broker) records that it is alive every
OPSGRAPH_HEARTBEAT_INTERVAL seconds (workers/runtime.py; a worker on a broker sends its
beat as a message, recorded when a consumer takes it: workers/actors.py); `live_workers`
says which beat recently enough, and `/healthz/workers` answers 200 while at least one
does, 503 when none does, so that the built-in HTTP probe of opsgraph's own report sees a
stopped worker as CRITICAL like any failing endpoint.

No authorization: the processes' own bookkeeping; the route shows only counts."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.monitoring.models.heartbeat import WORKER_MAX, WorkerHeartbeat

EMBEDDED = "embedded"
DRAMATIQ = "dramatiq"
# a process that has not beaten for this long is gone: its row is deleted
FORGET_AFTER = dt.timedelta(days=1)
# missed beats after which a worker no longer counts as live
MISSED_BEATS = 3


def worker_name() -> str:
    """This process's name in the heartbeat table: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:WORKER_MAX]


def beat(
    session: Session, *, worker: str, kind: str, now: dt.datetime, started_at: dt.datetime
) -> None:
    """Records that `worker` is alive at `now` (and forgets long-gone workers)."""
    row = session.get(WorkerHeartbeat, worker)
    if row is None:
        session.add(WorkerHeartbeat(worker=worker, kind=kind, started_at=started_at, beat_at=now))
    else:
        row.kind, row.beat_at = kind, now
    session.execute(
        delete(WorkerHeartbeat).where(col(WorkerHeartbeat.beat_at) < now - FORGET_AFTER)
    )
    session.flush()


@dataclass(frozen=True, slots=True)
class Liveness:
    live: dict[str, int]  # kind -> live workers of that kind
    last_beat: dt.datetime | None  # the most recent beat of any worker

    @property
    def alive(self) -> bool:
        return bool(self.live)


def live_workers(session: Session, *, now: dt.datetime, interval: float) -> Liveness:
    """The workers that beat within MISSED_BEATS intervals before `now`, by kind."""
    since = now - dt.timedelta(seconds=MISSED_BEATS * interval)
    rows = session.execute(select(col(WorkerHeartbeat.kind), col(WorkerHeartbeat.beat_at))).all()
    live: dict[str, int] = {}
    for kind, beat_at in rows:
        if beat_at >= since:
            live[kind] = live.get(kind, 0) + 1
    last = max((beat_at for _, beat_at in rows), default=None)
    return Liveness(live, last)
