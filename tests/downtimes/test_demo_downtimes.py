"""The demo downtimes cover every case the timeline shows, and every row obeys the rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domains.downtimes import rules
from domains.downtimes.models import Classification, Severity
from domains.downtimes.seed import seed_demo_downtimes, seed_scale_downtimes
from domains.downtimes.seed.demo import offset
from domains.downtimes.service import T_DOWNTIME, T_DT_ENDPOINT, T_DT_SERVICE
from domains.topology.service import T_ENDPOINT, T_NGI, T_SERVICE, T_SITE

NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


def _phase(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    if ends_at <= now:
        return "past"
    if starts_at <= now:
        return "ongoing"
    return "upcoming"


def _check_rules(session: Session, now: datetime) -> list[Any]:
    """Assert GOCDB's rules on every downtime row; return the rows."""
    rows = list(session.execute(select(*T_DOWNTIME.c).order_by(T_DOWNTIME.c.id)).all())
    service_site = dict(session.execute(select(T_SERVICE.c.id, T_SERVICE.c.site_id)).all())
    endpoint_service = dict(session.execute(select(T_ENDPOINT.c.id, T_ENDPOINT.c.service_id)).all())
    links: dict[int, list[tuple[int, bool, datetime | None]]] = defaultdict(list)
    for downtime_id, service_id, all_endpoints, ended_at in session.execute(
        select(
            T_DT_SERVICE.c.downtime_id,
            T_DT_SERVICE.c.service_id,
            T_DT_SERVICE.c.all_endpoints,
            T_DT_SERVICE.c.ended_at,
        )
    ):
        links[downtime_id].append((service_id, all_endpoints, ended_at))
    chosen: dict[int, list[int]] = defaultdict(list)
    for downtime_id, endpoint_id in session.execute(
        select(T_DT_ENDPOINT.c.downtime_id, T_DT_ENDPOINT.c.endpoint_id)
    ):
        chosen[downtime_id].append(endpoint_id)
    for row in rows:
        assert row.primary_key == f"{row.id}G0"
        assert row.starts_at < row.ends_at, row
        assert row.declared_at <= now, row
        assert row.updated_at >= row.declared_at, row
        # the rules at the moment of declaration
        assert row.starts_at >= row.declared_at - rules.MAX_PAST_START, row
        assert row.classification is rules.classify(row.starts_at, row.declared_at), row
        rules.check_description(row.description)
        # one site per downtime; endpoints only of the chosen services
        services = links[row.id]
        assert services, row
        assert {service_site[s] for s, _, _ in services} == {row.site_id}, row
        by_service = {s: all_endpoints for s, all_endpoints, _ in services}
        owners = {endpoint_service[e] for e in chosen[row.id]}
        assert owners <= set(by_service), row
        assert {s for s, all_endpoints in by_service.items() if not all_endpoints} == owners
        for _, _, ended_at in services:
            if ended_at is not None:
                assert row.starts_at < ended_at <= row.ends_at, row
        # moments already past were announced; none in the future was
        if row.started_notified:
            assert row.starts_at <= now, row
        if row.ended_notified:
            assert row.ends_at <= now, row
    return rows


def test_demo_downtimes_cover_every_case(session: Session) -> None:
    written = seed_demo_downtimes(session, now=NOW)
    rows = _check_rules(session, NOW)
    assert written == len(rows) >= 30

    cases = Counter(
        (_phase(r.starts_at, r.ends_at, NOW), r.severity, r.classification) for r in rows
    )
    for phase in ("past", "ongoing", "upcoming"):
        for severity in Severity:
            for classification in Classification:
                assert cases[(phase, severity, classification)] >= 1, (
                    phase,
                    severity,
                    classification,
                )
    # SCHEDULED ones declared long ago that are past or under way
    assert any(
        r.classification is Classification.SCHEDULED
        and r.starts_at <= NOW
        and r.declared_at < r.starts_at - timedelta(days=7)
        for r in rows
    )
    # historic: more than a year back; upcoming: weeks ahead
    assert min(r.starts_at for r in rows) < NOW - timedelta(days=365)
    assert max(r.starts_at for r in rows) > NOW + timedelta(days=21)

    # spread over many sites and NGIs
    sites = {r.site_id for r in rows}
    ngis = set(session.execute(select(T_SITE.c.ngi_id).where(T_SITE.c.id.in_(sites))).scalars())
    assert len(sites) >= 25
    assert len(ngis) >= 10
    assert len(set(session.execute(select(T_NGI.c.id)).scalars())) >= len(ngis)

    # chosen endpoints, several multi-service ones, one partially ended while ongoing
    assert session.execute(select(func.count()).select_from(T_DT_ENDPOINT)).scalar_one() > 0
    per_downtime = Counter(session.execute(select(T_DT_SERVICE.c.downtime_id)).scalars())
    assert sum(1 for n in per_downtime.values() if n > 1) >= 5
    ongoing = {r.id for r in rows if _phase(r.starts_at, r.ends_at, NOW) == "ongoing"}
    partially_ended = set(
        session.execute(
            select(T_DT_SERVICE.c.downtime_id).where(T_DT_SERVICE.c.ended_at.is_not(None))
        ).scalars()
    )
    assert partially_ended & ongoing
    for downtime_id in partially_ended & ongoing:
        ended = session.execute(
            select(T_DT_SERVICE.c.ended_at).where(T_DT_SERVICE.c.downtime_id == downtime_id)
        ).scalars()
        values = list(ended)
        assert any(v is None for v in values), "the downtime goes on for the other services"
        assert all(v is None or v <= NOW for v in values)

    # the years-old moments are not left for the transitions job to announce
    assert all(r.started_notified for r in rows if r.starts_at < NOW - timedelta(days=2))
    assert all(r.ended_notified for r in rows if r.ends_at < NOW - timedelta(days=2))
    assert not any(r.started_notified for r in rows if r.starts_at > NOW)


def test_demo_downtimes_are_deterministic(session: Session) -> None:
    seed_demo_downtimes(session, now=NOW)
    columns = [c for c in T_DOWNTIME.c if c.name not in ("id", "primary_key")]
    first = session.execute(select(*columns).order_by(T_DOWNTIME.c.id)).all()
    session.execute(T_DOWNTIME.delete())
    seed_demo_downtimes(session, now=NOW)
    again = session.execute(select(*columns).order_by(T_DOWNTIME.c.id)).all()
    assert first == again


def test_demo_scale_downtimes_obey_the_rules(session: Session) -> None:
    written = seed_scale_downtimes(session, 600, seed=3, now=NOW)
    rows = _check_rules(session, NOW)
    assert written == len(rows) == 600
    cases = Counter(
        (_phase(r.starts_at, r.ends_at, NOW), r.severity, r.classification) for r in rows
    )
    # over two years, few of 600 are under way or due within a day; the rest of the mix:
    for severity in Severity:
        for classification in Classification:
            assert cases[("past", severity, classification)] > 0
        assert cases[("upcoming", severity, Classification.SCHEDULED)] > 0
    starts = [r.starts_at for r in rows]
    assert NOW - timedelta(days=366) <= min(starts)
    assert max(starts) <= NOW + timedelta(days=366)
    declared = [r.declared_at for r in rows]
    assert declared == sorted(declared), "ids follow declaration order"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-700d", -timedelta(days=700)),
        ("90m", timedelta(minutes=90)),
        ("-365d -3h", -timedelta(days=365, hours=3)),
        ("-300d +40m", -timedelta(days=300) + timedelta(minutes=40)),
    ],
)
def test_demo_offsets_read_as_signed_terms(text: str, expected: timedelta) -> None:
    assert offset(text) == expected


@pytest.mark.parametrize("text", ["", "3", "-2 d", "1w", "-1d3h", "+-1h"])
def test_demo_offsets_refuse_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="not an offset"):
        offset(text)
