"""The workers' liveness: one row per worker process (host name and process id), whose
`beat_at` the process moves forward every OPSGRAPH_HEARTBEAT_INTERVAL seconds while it
runs (workers/runtime.py). `/healthz/workers` answers from these rows, and opsgraph's own
report probes that route like any other endpoint (domains/monitoring/selfmon.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.time import UTCDateTime

WORKER_MAX = 255
KIND_MAX = 16


class WorkerHeartbeat(SQLModel, table=True):
    __tablename__ = "monitoring_worker_heartbeat"
    __table_args__ = (Index("ix_monitoring_worker_heartbeat_beat_at", "beat_at"),)

    worker: str = Field(primary_key=True, max_length=WORKER_MAX)  # host:pid
    kind: str = Field(max_length=KIND_MAX)  # embedded (in `serve`) or dramatiq (`worker`)
    started_at: datetime = Field(sa_type=UTCDateTime)
    beat_at: datetime = Field(sa_type=UTCDateTime)
