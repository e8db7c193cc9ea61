"""The downtime reads of GOCDB's PI (domains/downtimes/service/gocdb.py) over the demo
downtimes: every parameter's semantics checked against a plain-Python oracle of
(downtime, service) pairs, the effective end of a service ended early, the endpoints,
cursor pages, and a statement count that does not grow with the downtimes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.errors import Invalid
from domains.common.identity import ANONYMOUS, PLATFORM
from domains.common.models import pk
from domains.common.scopes import ScopeDefaults, ScopeMatch, ScopeSelection
from domains.downtimes import service as downtimes
from domains.downtimes.models import Classification, Severity
from domains.downtimes.seed import seed_demo_downtimes
from domains.downtimes.service.gocdb import months_back
from domains.topology.filters import PropertyExpr
from domains.topology.service import writes
from tests.conftest import StatementCounter
from tests.downtimes.conftest import NOW

Q = downtimes.GocdbDowntimeQuery
NO_DEFAULT = ScopeDefaults()


@dataclass(frozen=True)
class Pair:
    downtime_id: int
    service_id: int
    host: str
    service_type: str
    site: str
    ngi: str
    country: str
    status: str
    production: bool
    monitored: bool
    severity: str
    classification: str
    starts_at: datetime
    ends_at: datetime  # the effective end
    declared_at: datetime
    scopes: frozenset[str]


def _aware(value: Any) -> datetime:
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _pairs(session: Session) -> list[Pair]:
    rows = session.execute(
        text(
            "SELECT d.id, sv.id, sv.host_name, t.name, s.short_name, n.name, c.name, "
            "s.certification_status, sv.production, sv.monitored, d.severity, "
            "d.classification, d.starts_at, coalesce(ds.ended_at, d.ends_at), d.declared_at "
            "FROM downtime_service ds JOIN downtime d ON d.id = ds.downtime_id "
            "JOIN service sv ON sv.id = ds.service_id "
            "JOIN service_type t ON t.id = sv.service_type_id "
            "JOIN site s ON s.id = sv.site_id JOIN ngi n ON n.id = s.ngi_id "
            "JOIN country c ON c.id = s.country_id"
        )
    ).all()
    scopes: dict[int, set[str]] = {}
    for service_id, name in session.execute(
        text(
            "SELECT ss.service_id, sc.name FROM service_scope ss "
            "JOIN scope sc ON sc.id = ss.scope_id"
        )
    ):
        scopes.setdefault(int(service_id), set()).add(name)
    return [
        Pair(
            int(r[0]),
            int(r[1]),
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            bool(r[8]),
            bool(r[9]),
            r[10],
            r[11],
            _aware(r[12]),
            _aware(r[13]),
            _aware(r[14]),
            frozenset(scopes.get(int(r[1]), set())),
        )
        for r in rows
    ]


def _like(pattern: str) -> Callable[[str], bool]:
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return lambda value: re.fullmatch(regex, value, re.DOTALL) is not None


def _got(result: list[downtimes.GocdbDowntime]) -> set[tuple[int, int]]:
    return {(int(d.row.id), s.id) for d in result for s in d.services}


@pytest.fixture
def pairs(session: Session) -> list[Pair]:
    seed_demo_downtimes(session, now=NOW)
    session.flush()
    return _pairs(session)


def _read(session: Session, query: downtimes.GocdbDowntimeQuery, **kw: Any) -> Any:
    kw.setdefault("scope_defaults", NO_DEFAULT)
    return downtimes.gocdb_downtimes(session, ANONYMOUS, query=query, now=NOW, **kw)


def _expect(pairs: list[Pair], keep: Callable[[Pair], bool]) -> set[tuple[int, int]]:
    return {(p.downtime_id, p.service_id) for p in pairs if keep(p)}


def test_unfiltered_lists_every_pair_by_ascending_id(session: Session, pairs: list[Pair]) -> None:
    result = _read(session, Q())
    assert _got(result) == _expect(pairs, lambda p: True)
    ids = [int(d.row.id) for d in result]
    assert ids == sorted(ids)
    assert len(ids) == len({p.downtime_id for p in pairs})
    for d in result:
        assert [s.id for s in d.services] == sorted(s.id for s in d.services)
        assert d.row.primary_key == f"{d.row.id}G0"


CASES: dict[str, tuple[downtimes.GocdbDowntimeQuery, Callable[[Pair], bool]]] = {
    "ongoing": (Q(ongoing=True), lambda p: p.starts_at < NOW < p.ends_at),
    "startdate": (
        Q(start_after=NOW - timedelta(days=3)),
        lambda p: p.starts_at > NOW - timedelta(days=3),
    ),
    "enddate": (Q(end_before=NOW), lambda p: p.ends_at < NOW),
    "windowstart": (Q(window_start=NOW), lambda p: p.ends_at > NOW),
    "windowend": (
        Q(window_end=NOW + timedelta(days=2)),
        lambda p: p.starts_at < NOW + timedelta(days=3),
    ),
    "window": (
        Q(window_start=NOW - timedelta(days=60), window_end=NOW - timedelta(days=20)),
        lambda p: p.ends_at > NOW - timedelta(days=60) and p.starts_at < NOW - timedelta(days=19),
    ),
    "all_lastmonth": (
        Q(last_month=True),
        lambda p: p.starts_at > datetime(2026, 10, 31, 12, tzinfo=UTC),
    ),
    "interval": (
        Q(declared_after=NOW - timedelta(days=5)),
        lambda p: p.declared_at > NOW - timedelta(days=5),
    ),
    "topentity site": (Q(top_entity="NIKHEF%"), lambda p: _like("NIKHEF%")(p.site)),
    "topentity host": (Q(top_entity="ce01.%"), lambda p: p.host.startswith("ce01.")),
    "topentity ngi": (Q(top_entity="NGI_IT"), lambda p: p.ngi == "NGI_IT"),
    "topentity country": (Q(top_entity="Fr_nce"), lambda p: p.country == "France"),
    "severity": (Q(severities=(Severity.WARNING,)), lambda p: p.severity == "WARNING"),
    "classification": (
        Q(classifications=(Classification.UNSCHEDULED,)),
        lambda p: p.classification == "UNSCHEDULED",
    ),
    "sitelist": (
        Q(site_names=("INFN-T1", "pic", "nowhere")),
        lambda p: p.site in ("INFN-T1", "pic"),
    ),
    "ngilist": (Q(ngi_names=("NGI_UK", "NGI_DE")), lambda p: p.ngi in ("NGI_UK", "NGI_DE")),
    "service_type_list": (
        Q(service_types=("SRM", "site-BDII")),
        lambda p: p.service_type in ("SRM", "site-BDII"),
    ),
    "certification_status": (
        Q(certification_status="Cert%"),
        lambda p: p.status.startswith("Cert"),
    ),
    "production": (Q(production=False), lambda p: not p.production),
    "monitored": (Q(monitored=True), lambda p: p.monitored),
    "scope": (
        Q(scopes=ScopeSelection(names=("wlcg",))),
        lambda p: "wlcg" in p.scopes,
    ),
    "scope any": (
        Q(scopes=ScopeSelection(names=("wlcg", "FedCloud"), match=ScopeMatch.ANY)),
        lambda p: bool({"wlcg", "FedCloud"} & p.scopes),
    ),
    "scope all": (
        Q(scopes=ScopeSelection(names=("EGI", "wlcg"), match=ScopeMatch.ALL)),
        lambda p: {"EGI", "wlcg"} <= p.scopes,
    ),
    "combined": (
        Q(top_entity="%", window_start=NOW - timedelta(days=30), severities=(Severity.OUTAGE,)),
        lambda p: p.ends_at > NOW - timedelta(days=30) and p.severity == "OUTAGE",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_parameter_as_gocdb_applies_it(session: Session, pairs: list[Pair], name: str) -> None:
    query, keep = CASES[name]
    expected = _expect(pairs, keep)
    assert expected, f"{name}: the demo data should have a pair for this case"
    assert _got(_read(session, query)) == expected


def test_the_default_scope_applies_when_none_is_named(session: Session, pairs: list[Pair]) -> None:
    defaults = ScopeDefaults(scopes=("EGI",))
    assert _got(_read(session, Q(), scope_defaults=defaults)) == _expect(
        pairs, lambda p: "EGI" in p.scopes
    )
    # `scope=` (no names): every scope
    everything = Q(scopes=ScopeSelection(names=()))
    assert _got(_read(session, everything, scope_defaults=defaults)) == _expect(
        pairs, lambda p: True
    )


def test_a_service_ended_early_left_the_downtime(session: Session, pairs: list[Pair]) -> None:
    """NIKHEF's move: site-bdii and ce02 came back early; ongoing lists the others only, and
    each service carries its own end."""
    result = [d for d in _read(session, Q(top_entity="NIKHEF-ELPROD")) if len(d.services) > 2]
    assert len(result) == 1
    move = result[0]
    ends = {s.host_name.split(".")[0]: s.ends_at for s in move.services}
    assert ends["site-bdii"] == NOW.replace(minute=0) - timedelta(days=1)
    assert ends["ce01"] == move.row.ends_at
    ongoing = _read(session, Q(ongoing=True, top_entity="NIKHEF-ELPROD"))
    hosts = {
        s.host_name.split(".")[0] for d in ongoing for s in d.services if d.row.id == move.row.id
    }
    assert "site-bdii" not in hosts
    assert "ce02" not in hosts
    assert "ce01" in hosts


def test_endpoints_chosen_or_all_of_the_service(session: Session, pairs: list[Pair]) -> None:
    result = _read(session, Q())
    by_service: dict[int, int] = {
        int(e): int(s) for e, s in session.execute(text("SELECT id, service_id FROM endpoint"))
    }
    chosen = {
        (int(d), int(e))
        for d, e in session.execute(text("SELECT downtime_id, endpoint_id FROM downtime_endpoint"))
    }
    links = {
        (int(d), int(s)): bool(a)
        for d, s, a in session.execute(
            text("SELECT downtime_id, service_id, all_endpoints FROM downtime_service")
        )
    }
    partial = 0
    for d in result:
        for s in d.services:
            ids = [e.id for e in s.endpoints]
            assert ids == sorted(ids)
            if links[(int(d.row.id), s.id)]:
                assert set(ids) == {e for e, sv in by_service.items() if sv == s.id}
            else:
                partial += 1
                assert set(ids) == {
                    e for dt, e in chosen if dt == d.row.id and by_service[e] == s.id
                }
        # the downtime's own list: every endpoint of every service it affects
        assert {e.id for s in d.services for e in s.endpoints} <= {e.id for e in d.endpoints}
    assert partial > 0


def test_only_the_services_meeting_the_conditions_are_listed(
    session: Session, pairs: list[Pair]
) -> None:
    infn = [p for p in pairs if p.site == "INFN-T1" and p.host.startswith("ce01.")]
    assert infn
    result = _read(session, Q(top_entity="ce01.%", site_names=("INFN-T1",)))
    assert {s.host_name for d in result for s in d.services} == {infn[0].host}


def test_cursor_pages(session: Session, pairs: list[Pair]) -> None:
    everything = [int(d.row.id) for d in _read(session, Q())]
    page = downtimes.GocdbPageRequest
    first = [int(d.row.id) for d in _read(session, Q(), page=page(limit=7, next_cursor=0))]
    assert first == everything[:7]
    second = [int(d.row.id) for d in _read(session, Q(), page=page(limit=7, next_cursor=first[-1]))]
    assert second == everything[7:14]
    back = [int(d.row.id) for d in _read(session, Q(), page=page(limit=7, prev_cursor=second[0]))]
    assert back == first
    # no cursor at all: the first page
    assert [int(d.row.id) for d in _read(session, Q(), page=page(limit=7))] == first
    # paged with a condition: the page holds downtimes that meet it
    ongoing = [int(d.row.id) for d in _read(session, Q(ongoing=True))]
    paged = [int(d.row.id) for d in _read(session, Q(ongoing=True), page=page(limit=2))]
    assert paged == ongoing[:2]
    assert _read(session, Q(), page=page(limit=7, next_cursor=everything[-1])) == []


def test_months_back_as_php_computes() -> None:
    assert months_back(datetime(2026, 3, 31, 10, tzinfo=UTC)) == datetime(
        2026, 3, 3, 10, tzinfo=UTC
    )
    assert months_back(datetime(2026, 1, 15, tzinfo=UTC)) == datetime(2025, 12, 15, tzinfo=UTC)
    assert months_back(datetime(2024, 3, 30, tzinfo=UTC)) == datetime(2024, 3, 1, tzinfo=UTC)
    assert months_back(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2026, 11, 1, tzinfo=UTC)


def test_bad_options_are_invalid_not_errors(session: Session, pairs: list[Pair]) -> None:
    with pytest.raises(Invalid):
        _read(session, Q(start_after=NOW.replace(tzinfo=None)))  # naive
    with pytest.raises(Invalid):
        _read(session, Q(site_properties=PropertyExpr(key="")))


def test_extension_expressions(session: Session, pairs: list[Pair]) -> None:
    some = next(p for p in pairs if p.site == "pic")
    site_id = session.execute(text("SELECT id FROM site WHERE short_name = 'pic'")).scalar_one()
    writes.set_property(session, PLATFORM, kind="site", owner_id=site_id, key="pi_dt", value="a")
    writes.set_property(
        session, PLATFORM, kind="service", owner_id=some.service_id, key="pi_dt", value="b"
    )
    session.flush()
    sites = _read(session, Q(site_properties=PropertyExpr(key="pi_dt", value="a")))
    assert _got(sites) == _expect(pairs, lambda p: p.site == "pic")
    services = _read(
        session,
        Q(
            service_properties=PropertyExpr(
                any_of=(PropertyExpr(key="pi_dt", value="b"), PropertyExpr(key="nothing"))
            )
        ),
    )
    assert _got(services) == _expect(pairs, lambda p: p.service_id == some.service_id)


def test_statements_do_not_grow_with_the_downtimes(
    session: Session, pairs: list[Pair], statements: StatementCounter
) -> None:
    service_ids = [
        int(s)
        for s in session.execute(text("SELECT id FROM service ORDER BY id LIMIT 40")).scalars()
    ]
    counts = []
    for n in (0, 30):
        for i in range(n):
            made = downtimes.declare_downtime(
                session,
                PLATFORM,
                declaration=downtimes.Declaration(
                    service_ids=[service_ids[i]],
                    severity=Severity.OUTAGE,
                    starts_at=NOW + timedelta(days=3, hours=i),
                    ends_at=NOW + timedelta(days=3, hours=i + 1),
                    description="Many downtimes",
                ),
                now=NOW,
            )
            assert pk(made)
        session.flush()
        statements.reset()
        result = _read(session, Q(top_entity="%"))
        counts.append(statements.count)
        statements.reset()
        _read(session, Q(), page=downtimes.GocdbPageRequest(limit=500, next_cursor=0))
        counts.append(statements.count)
        assert len(result) >= n
    assert counts == [2, 2, 2, 2]
