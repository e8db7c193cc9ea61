"""The status changes a `statusChanges` stream reads (domains.monitoring.service.changes),
both backends: each change once, with its endpoint's site and NGI, through the filter; a
gap (an id still in flight) read again when it commits; bad filters refused by name."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session
from sqlmodel import col

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS
from domains.monitoring.service import changes
from domains.monitoring.service import results as ingest
from domains.monitoring.service.alert_evaluation import GAP_GRACE
from domains.monitoring.service.changes import ChangeCursor, ChangeFilter, Gap
from domains.topology.models import Ngi, Service, ServiceType, Site
from tests.monitoring.ingest_world import METRIC, add_endpoint, result

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
Endpoint = tuple[str, str, str, str]  # host, service type, site, NGI


def _endpoints(session: Session) -> tuple[Endpoint, Endpoint]:
    """Two registered endpoints at different sites (METRIC added to the catalogue)."""
    add_endpoint(session)
    rows = session.execute(
        select(col(Service.host_name), col(ServiceType.name), col(Site.short_name), col(Ngi.name))
        .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
        .join(Site, col(Site.id) == col(Service.site_id))
        .join(Ngi, col(Ngi.id) == col(Site.ngi_id))
        .order_by(col(Service.id))
    ).all()
    first = tuple(map(str, rows[0]))
    second = next(tuple(map(str, r)) for r in rows if r[2] != first[2])
    return first, second  # type: ignore[return-value]


def _ingest(session: Session, *records: ingest.MetricResultIn) -> None:
    outcome = ingest.ingest_results(session, "test-changes", list(records), now=NOW)
    assert not outcome.rejected, outcome.rejected
    session.flush()


def _read(
    session: Session, cursor: ChangeCursor, filter: ChangeFilter | None = None
) -> list[changes.StatusChangeEvent]:
    found, _full = changes.read_changes(
        session, ANONYMOUS, cursor=cursor, filter=filter or ChangeFilter(), now=NOW
    )
    return found


def test_changes_come_once_with_their_place_and_through_the_filter(session: Session) -> None:
    one, two = _endpoints(session)
    start = changes.last_change_id(session, ANONYMOUS)
    at = NOW - dt.timedelta(minutes=10)
    _ingest(
        session,
        result(one[:2], at=at, status="OK"),
        result(two[:2], at=at, status="OK"),
        result(one[:2], at=at + dt.timedelta(minutes=1), status="CRITICAL"),
        result(one[:2], at=at + dt.timedelta(minutes=2), status="CRITICAL"),  # no change
    )
    everything = ChangeCursor(high=start)
    found = _read(session, everything)
    assert [(e.hostname, e.status, e.previous_status) for e in found] == [
        (one[0], "OK", None),
        (two[0], "OK", None),
        (one[0], "CRITICAL", "OK"),
    ]
    assert (found[0].site, found[0].ngi, found[0].metric) == (one[2], one[3], METRIC)
    assert found[2].summary == "CRITICAL: fine"
    assert [e.id for e in found] == sorted(e.id for e in found)
    assert _read(session, everything) == []  # each once

    def matching(**conditions: Any) -> list[tuple[str, str]]:  # ChangeFilter's conditions
        return [
            (e.hostname, e.status)
            for e in _read(session, ChangeCursor(high=start), ChangeFilter(**conditions))
        ]

    assert matching(sites=(two[2],)) == [(two[0], "OK")]
    assert matching(ngis=(one[3],), statuses=("CRITICAL",)) == [(one[0], "CRITICAL")]
    assert matching(hosts=(one[0],), service_types=(one[1],), metrics=(METRIC,)) == [
        (one[0], "OK"),
        (one[0], "CRITICAL"),
    ]
    assert matching(metrics=("no.such.metric",)) == []


def test_an_unregistered_endpoint_has_no_place_and_matches_no_site(session: Session) -> None:
    start = changes.last_change_id(session, ANONYMOUS)
    session.execute(
        insert(changes.T_CHANGE).values(
            timestamp=NOW, hostname="gone.example.org", service_type="X", metric="m", status="OK"
        )
    )
    found = _read(session, ChangeCursor(high=start))
    assert [(e.hostname, e.site, e.ngi) for e in found] == [("gone.example.org", None, None)]
    assert _read(session, ChangeCursor(high=start), ChangeFilter(sites=("ANY",))) == []


def test_a_gap_is_read_again_when_it_commits(session: Session) -> None:
    start = changes.last_change_id(session, ANONYMOUS)

    def add(change_id: int) -> None:
        session.execute(
            insert(changes.T_CHANGE).values(
                id=change_id, timestamp=NOW, hostname="h", service_type="T", metric="m", status="OK"
            )
        )

    add(start + 2)  # start + 1 is still in flight
    cursor = ChangeCursor(high=start)
    assert [e.id for e in _read(session, cursor)] == [start + 2]
    assert cursor.gaps == [Gap(start + 1, start + 1, NOW)]
    add(start + 1)
    assert [e.id for e in _read(session, cursor)] == [start + 1]
    assert (cursor.high, cursor.gaps) == (start + 2, [])


def test_a_full_read_says_so(session: Session) -> None:
    start = changes.last_change_id(session, ANONYMOUS)
    for n in range(3):
        session.execute(
            insert(changes.T_CHANGE).values(
                timestamp=NOW, hostname=f"h{n}", service_type="T", metric="m", status="OK"
            )
        )
    cursor = ChangeCursor(high=start)
    found, full = changes.read_changes(
        session, ANONYMOUS, cursor=cursor, filter=ChangeFilter(), now=NOW, limit=2
    )
    assert (len(found), full) == (2, True)
    found, full = changes.read_changes(
        session, ANONYMOUS, cursor=cursor, filter=ChangeFilter(), now=NOW, limit=2
    )
    assert (len(found), full) == (1, False)


def test_gaps_split_when_filled_and_are_given_up_after_the_grace() -> None:
    cursor = ChangeCursor(high=10)
    cursor.advance([14, 15], NOW)
    assert cursor.gaps == [Gap(11, 13, NOW)]
    later = NOW + dt.timedelta(seconds=1)
    cursor.advance([12, 17], later)
    assert cursor.gaps == [Gap(11, 11, NOW), Gap(13, 13, NOW), Gap(16, 16, later)]
    assert cursor.high == 17
    cursor.advance([], NOW + GAP_GRACE)
    assert cursor.gaps == [Gap(16, 16, later)]
    cursor.advance([], later + GAP_GRACE)
    assert cursor.gaps == []


@pytest.mark.parametrize(
    ("conditions", "field", "rule"),
    [
        ({"sites": ()}, "filter.site", "STATUS_FILTER_VALUE_COUNT"),
        ({"ngis": ("N",) * 101}, "filter.ngi", "STATUS_FILTER_VALUE_COUNT"),
        ({"hosts": ("",)}, "filter.hostname", "STATUS_FILTER_NAME_INVALID"),
        ({"metrics": ("m" * 256,)}, "filter.metric", "STATUS_FILTER_NAME_INVALID"),
        ({"service_types": ("",)}, "filter.serviceType", "STATUS_FILTER_NAME_INVALID"),
        ({"statuses": ("MISSING",)}, "filter.status", "STATUS_FILTER_STATUS_UNKNOWN"),
    ],
)
def test_bad_filters_are_refused_by_name(
    conditions: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(Invalid) as refused:
        ChangeFilter(**conditions).check()  # type: ignore[arg-type]
    assert (refused.value.field, refused.value.rule_code) == (field, rule)


def test_a_good_filter_passes() -> None:
    ChangeFilter(sites=("S",), statuses=("OK", "CRITICAL"), metrics=("m",) * 100).check()
