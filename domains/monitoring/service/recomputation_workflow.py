"""A recomputation's workflow state, as ARGO's `POST|DELETE /recomputations/{id}/status`
change it: pending, approved, rejected, running, done (models.recomputations).

- Who may: whoever may manage the recomputation (`recomputations.managed`: platform
  administrators; an NGI's operations manager for recomputations of its sites only).
- The engine applies a recomputation while it is approved, running or done; moving it
  between those and pending or rejected asks the workers to compute the days it touches
  again (`recomputations.rerun`), so a rejected correction stops counting and an approved
  one starts to.
- Every change is appended to its `history` (`{"status", "timestamp"}`, as ARGO keeps it)
  and audited (`recomputation.status`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from domains.common import audit
from domains.common.errors import Invalid
from domains.common.identity import Principal
from domains.common.time import utcnow
from domains.monitoring.models.recomputations import (
    APPLIED,
    RECOMPUTATION_STATUSES,
    Recomputation,
)
from domains.monitoring.rules import MonitoringRule as R
from domains.monitoring.service.recomputations import Field, graphql_field, managed, rerun

PENDING = "pending"


def set_recomputation_status(
    session: Session,
    principal: Principal,
    *,
    uuid: str,
    status: str,
    at: Field = graphql_field,
    now: dt.datetime | None = None,
) -> Recomputation:
    """Move the recomputation `uuid` to `status` (one of RECOMPUTATION_STATUSES, any case):
    NOT_FOUND for an unknown one, FORBIDDEN for a caller who may not manage it, Invalid
    (`status`) for another state. Setting the state it has records nothing."""
    now = now or utcnow()
    row = managed(session, principal, uuid)
    wanted = status.strip().lower()
    if wanted not in RECOMPUTATION_STATUSES:
        raise Invalid(at("status"), R.RECOMPUTATION_STATUS_UNKNOWN)
    before = row.status
    if wanted == before:
        return row
    row.status = wanted
    row.history = [
        *row.history,
        {"status": wanted, "timestamp": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")},
    ]
    row.updated_at = now
    session.flush()
    audit.record_change(
        session, principal, "recomputation", "status", row, {"status": [before, wanted]}
    )
    if (before in APPLIED) != (wanted in APPLIED):
        rerun(session, [row], now)
    return row
