"""The functions other domains call: which endpoints were in an OUTAGE during a window
and when, and the transitions job that announces starts and ends exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.common.models import pk
from domains.downtimes import service as downtimes
from domains.downtimes.models import Severity
from domains.downtimes.service import Interval
from tests.downtimes.conftest import NOW, SiteFixture

H = timedelta(hours=1)


def _make(
    session: Session,
    services: list[int],
    start: timedelta,
    end: timedelta,
    severity: Severity = Severity.OUTAGE,
    endpoints: tuple[int, ...] = (),
) -> int:
    made = downtimes.declare_downtime(
        session,
        PLATFORM,
        declaration=downtimes.Declaration(
            service_ids=services,
            endpoint_ids=endpoints,
            severity=severity,
            starts_at=NOW + start,
            ends_at=NOW + end,
            description="Intervention",
        ),
        now=NOW,
    )
    return pk(made)


def _endpoints_of(session: Session, service_id: int) -> list[int]:
    return list(
        session.execute(
            text("SELECT id FROM endpoint WHERE service_id = :s ORDER BY id"), {"s": service_id}
        ).scalars()
    )


def test_outage_intervals_of_endpoints(session: Session, target: SiteFixture) -> None:
    s0, s1 = target.service_ids
    e0, e1 = target.endpoint_ids
    whole = _make(session, [s0, s1], -H, 5 * H)
    one_endpoint = _make(session, [s0], 10 * H, 12 * H, endpoints=(e1,))
    _make(session, [s0, s1], 6 * H, 7 * H, severity=Severity.WARNING)
    _make(session, [target.other_service_id], -40 * H, -30 * H)
    start, end = NOW - 2 * H, NOW + 24 * H
    found = downtimes.endpoint_downtime_intervals(
        session,
        ANONYMOUS,
        endpoint_ids=[e0, e1, target.other_endpoint_id, *_endpoints_of(session, s1)],
        start=start,
        end=end,
    )
    assert found[e0] == [Interval(NOW - H, NOW + 5 * H, whole)]
    assert found[e1] == [
        Interval(NOW - H, NOW + 5 * H, whole),
        Interval(NOW + 10 * H, NOW + 12 * H, one_endpoint),
    ]
    for endpoint in _endpoints_of(session, s1):  # the whole service is affected
        assert found[endpoint] == [Interval(NOW - H, NOW + 5 * H, whole)]
    assert target.other_endpoint_id not in found  # its outage is before the window
    # clipped to the window; WARNING counted when asked for
    clipped = downtimes.endpoint_downtime_intervals(
        session,
        ANONYMOUS,
        endpoint_ids=[e0],
        start=NOW,
        end=NOW + 6 * H + H / 2,
        severities=(Severity.OUTAGE, Severity.WARNING),
    )
    assert [(i.start, i.end) for i in clipped[e0]] == [
        (NOW, NOW + 5 * H),
        (NOW + 6 * H, NOW + 6 * H + H / 2),
    ]
    # a service ended early leaves at its own end
    downtimes.end_downtime_services(session, PLATFORM, downtime_id=whole, service_ids=[s0], now=NOW)
    after = downtimes.endpoint_downtime_intervals(
        session, ANONYMOUS, endpoint_ids=[e0, *_endpoints_of(session, s1)], start=start, end=end
    )
    assert after[e0] == [Interval(NOW - H, NOW + timedelta(seconds=60), whole)]
    assert after[_endpoints_of(session, s1)[0]] == [Interval(NOW - H, NOW + 5 * H, whole)]


def test_many_endpoints_go_in_chunks(session: Session, target: SiteFixture) -> None:
    s0, _ = target.service_ids
    whole = _make(session, [s0], -H, H)
    real = _endpoints_of(session, s0)
    absent = list(range(10**7, 10**7 + 12_000))  # more than two chunks of ids
    found = downtimes.endpoint_downtime_intervals(
        session, ANONYMOUS, endpoint_ids=[*absent, *real], start=NOW - H, end=NOW + H
    )
    assert sorted(found) == real
    assert all(v == [Interval(NOW - H, NOW + H, whole)] for v in found.values())


def test_lookup_refuses_a_backwards_window(session: Session) -> None:
    with pytest.raises(Invalid) as refused:
        downtimes.endpoint_downtime_intervals(
            session, ANONYMOUS, endpoint_ids=[1], start=NOW, end=NOW - H
        )
    assert refused.value.field == "end"


def _transition_events(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        text(
            "SELECT kind, payload FROM outbox_event WHERE kind IN "
            "('downtime.started', 'downtime.ended') ORDER BY id"
        )
    ).all()
    import json

    out = []
    for kind, payload in rows:
        data = json.loads(payload) if isinstance(payload, str) else payload
        out.append((str(kind), int(data["id"])))
    return out


def test_transitions_are_announced_once_each(session: Session, target: SiteFixture) -> None:
    s0, s1 = target.service_ids
    past = _make(session, [s0], -40 * H, -30 * H)
    ongoing = _make(session, [s1], -H, 2 * H)
    upcoming = _make(session, [s0], 3 * H, 4 * H)
    assert downtimes.emit_transitions(session, now=NOW) == 3
    assert _transition_events(session) == [
        ("downtime.started", past),
        ("downtime.started", ongoing),
        ("downtime.ended", past),
    ]
    assert downtimes.emit_transitions(session, now=NOW) == 0  # nothing twice
    # a scheduler that was down for hours catches up, in order
    assert downtimes.emit_transitions(session, now=NOW + 5 * H) == 3
    assert _transition_events(session)[3:] == [
        ("downtime.started", upcoming),
        ("downtime.ended", ongoing),
        ("downtime.ended", upcoming),
    ]
    assert downtimes.emit_transitions(session, now=NOW + 6 * H) == 0


def test_an_edit_back_into_the_future_announces_the_start_again(
    session: Session, target: SiteFixture
) -> None:
    made = _make(session, [target.service_ids[0]], -H, 5 * H)
    assert downtimes.emit_transitions(session, now=NOW) == 1
    downtimes.update_downtime(
        session, PLATFORM, downtime_id=made, starts_at=NOW + H, ends_at=NOW + 2 * H, now=NOW
    )
    assert downtimes.emit_transitions(session, now=NOW) == 0
    assert downtimes.emit_transitions(session, now=NOW + H) == 1
    assert [k for k, _ in _transition_events(session)] == [
        "downtime.started",
        "downtime.started",
    ]


def test_snapshot_carries_what_subscribers_match_on(session: Session, target: SiteFixture) -> None:
    made = _make(session, list(target.service_ids), H, 2 * H)
    snap = downtimes.snapshot(session, made)
    assert snap["site"] == target.site
    assert snap["ngi"] == target.ngi
    assert [s["id"] for s in snap["services"]] == list(target.service_ids)
    assert all(s["hostName"] and s["serviceType"] for s in snap["services"])
    assert snap["classification"] == "UNSCHEDULED"
