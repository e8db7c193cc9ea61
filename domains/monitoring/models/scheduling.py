"""The probes' check schedule: one row per (monitored service endpoint, metric) that a
report's metric profile expects, with when it is next due and its attempt state.

A scheduler claims due rows with one `UPDATE … WHERE claimable` (claim_token and a lease
until `claimed_until`), so two schedulers never run the same check: the second one's
UPDATE finds the row no longer claimable. A claim that was never completed (a worker
died) can be claimed again once its lease has run out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from domains.common import models as _common  # noqa: F401  (naming convention)
from domains.common.time import UTCDateTime

CLAIM_TOKEN_MAX = 32
STATUS_MAX = 16


class ScheduledCheck(SQLModel, table=True):
    __tablename__ = "monitoring_check"
    __table_args__ = (
        UniqueConstraint("service_id", "metric", name="uq_monitoring_check_service_id"),
        Index("ix_monitoring_check_next_due", "next_due"),
        Index("ix_monitoring_check_claim_token", "claim_token"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(
        sa_column=Column(Integer, ForeignKey("service.id", ondelete="CASCADE"), nullable=False)
    )
    metric: str = Field(max_length=255)
    next_due: datetime = Field(sa_type=UTCDateTime)
    # consecutive non-OK results (0 after an OK): the retry interval applies while it is
    # below the metric's max_check_attempts
    attempt: int = 0
    last_status: str | None = Field(default=None, max_length=STATUS_MAX)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_token: str | None = Field(default=None, max_length=CLAIM_TOKEN_MAX)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
