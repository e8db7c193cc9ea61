"""A recomputation's workflow state through the service (both backends), on the world of
test_availability_service: a rejected or pending one no longer applies and an approved one
applies again (the A/R of test_recomputations_service's excluded site, by hand), each
crossing asks again for exactly the days it touches, every change is in its history and
audited, and who may not manage it, or a state ARGO does not have, is refused by name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.audit import AuditEntry
from domains.common.errors import Forbidden, Invalid, NotFound, Unauthenticated
from domains.common.identity import ANONYMOUS
from domains.monitoring.models import ArLevel
from domains.monitoring.rules import MonitoringRule
from domains.monitoring.service import availability as svc
from domains.monitoring.service import recomputations as rec
from domains.monitoring.service.recomputation_workflow import set_recomputation_status
from tests.monitoring import test_availability_service as base
from tests.monitoring.alerts_world import user
from tests.monitoring.test_availability_service import DAY, add_result, at
from tests.monitoring.test_recomputations_service import (
    ADMIN,
    WHOLE_DAY,
    ar,
    last_event,
    requested,
    spec,
)

world = base.world  # the fixture
EXCLUDED = (94.73684, 94.73684, 0.75, 0.20833)  # test_recomputations_service's numbers
PLAIN = (75.0, 75.0, 0.75, 0.0)


def test_only_approved_running_and_done_ones_apply(session: Session, world: dict[str, Any]) -> None:
    for hour, status in ((0, "OK"), (12, "CRITICAL"), (18, "OK")):
        add_result(session, world, at(DAY, hour), status)
    made = rec.create_recomputation(
        session, ADMIN, spec=spec(world, at(DAY, 12), at(DAY, 16, 59), exclude=[world["site"]])
    )
    now = at(DAY, 23)
    day = [(world["report"].uuid, DAY.isoformat())]
    for status, applies, asked in (
        ("approved", True, []),  # as made: nothing to do
        ("rejected", False, day),
        ("pending", False, []),  # still not applied: nothing to compute again
        ("approved", True, day),
        ("running", True, []),
        ("done", True, []),
    ):
        mark = last_event(session)
        row = set_recomputation_status(session, ADMIN, uuid=made.uuid, status=status, now=now)
        assert row.status == status
        assert requested(session, mark) == asked, status
        svc.compute_report_day(session, "ar-test-report", DAY)
        assert ar(session, ArLevel.SITE, world["site"]) == (EXCLUDED if applies else PLAIN)
    assert [h["status"] for h in made.history] == [
        "approved",
        "rejected",
        "pending",
        "approved",
        "running",
        "done",
    ]
    assert made.history[-1]["timestamp"] == "2025-05-10T23:00:00"
    changes = session.scalars(
        select(col(AuditEntry.changes)).where(col(AuditEntry.action) == "recomputation.status")
    ).all()
    assert len(changes) == 5
    assert changes[0] == {"status": ["approved", "rejected"]}


def test_refusals_name_what_is_wrong(session: Session, world: dict[str, Any]) -> None:
    made = rec.create_recomputation(
        session, ADMIN, spec=spec(world, *WHOLE_DAY, exclude=[world["site"]])
    )
    with pytest.raises(Invalid) as refused:
        set_recomputation_status(session, ADMIN, uuid=made.uuid, status="finished")
    assert refused.value.field == "input.status"
    assert refused.value.rule is MonitoringRule.RECOMPUTATION_STATUS_UNKNOWN
    with pytest.raises(Invalid) as in_argo:
        set_recomputation_status(session, ADMIN, uuid=made.uuid, status="", at=rec.argo_field)
    assert in_argo.value.field == "body.status"
    with pytest.raises(NotFound):
        set_recomputation_status(session, ADMIN, uuid="no-such-id", status="done")
    with pytest.raises(Unauthenticated):
        set_recomputation_status(session, ANONYMOUS, uuid=made.uuid, status="rejected")
    stranger = user(session, "recompute.stranger@egi.eu")
    with pytest.raises(Forbidden):
        set_recomputation_status(session, stranger, uuid=made.uuid, status="rejected")
    assert made.status == "approved"
