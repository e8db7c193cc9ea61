"""GOCDB's PI matches names with SQL LIKE: the service and service-group reads take one
pattern per field, checked here against an oracle over the unfiltered demo list, and
get_service's rule that services of Closed sites are left out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.common.identity import ANONYMOUS
from domains.common.pagination import MAX_KEY, PageRequest
from domains.common.scopes import ScopeDefaults, ScopeSelection
from domains.topology.filters import ServiceFilter, ServiceGroupFilter, SiteLike
from domains.topology.service import list_service_groups, list_services
from tests.conftest import StatementCounter

EVERYTHING = PageRequest(first=MAX_KEY, after=None)
ANY_SCOPE = ScopeSelection(names=())


def like(pattern: str, value: str) -> bool:
    """SQL LIKE as GOCDB's PI filters apply it (case-sensitive on every backend)."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


@pytest.fixture
def services(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        text(
            """SELECT s.id, s.host_name, t.name AS type, si.short_name AS site,
                      n.name AS ngi, c.name AS country, si.certification_status AS status
               FROM service s JOIN service_type t ON t.id = s.service_type_id
               JOIN site si ON si.id = s.site_id JOIN ngi n ON n.id = si.ngi_id
               JOIN country c ON c.id = si.country_id ORDER BY s.id"""
        )
    ).mappings()
    return [dict(r) for r in rows]


def ids(session: Session, service_filter: ServiceFilter) -> list[int]:
    page = list_services(
        session, ANONYMOUS, filter=service_filter, page=EVERYTHING, scope_defaults=ScopeDefaults()
    )
    return [row.id for row in page.items]


PATTERNS: list[tuple[str, str, ServiceFilter]] = (
    [
        ("host_name", p, ServiceFilter(scopes=ANY_SCOPE, host_name_like=p))
        for p in ("%.gridka.de", "ce0_.%", "CE0_.%")
    ]
    + [("type", p, ServiceFilter(scopes=ANY_SCOPE, service_type_like=p)) for p in ("%CE%", "%ce")]
    + [
        ("site", "%-%", ServiceFilter(scopes=ANY_SCOPE, site_like=SiteLike(short_name="%-%"))),
        ("ngi", "NGI_D%", ServiceFilter(scopes=ANY_SCOPE, site_like=SiteLike(ngi="NGI_D%"))),
    ]
)


@pytest.mark.parametrize(("column", "pattern", "service_filter"), PATTERNS)
def test_each_pattern_matches_as_like_does(
    session: Session,
    services: list[dict[str, Any]],
    column: str,
    pattern: str,
    service_filter: ServiceFilter,
) -> None:
    expected = [s["id"] for s in services if like(pattern, s[column])]
    assert len(expected) < len(services), f"the demo does not exercise {pattern}"
    assert ids(session, service_filter) == expected


def test_a_country_matches_by_its_name(session: Session, services: list[dict[str, Any]]) -> None:
    country = services[0]["country"]
    pattern = country[:3] + "%"
    expected = [s["id"] for s in services if like(pattern, s["country"])]
    found = ids(session, ServiceFilter(scopes=ANY_SCOPE, site_like=SiteLike(country=pattern)))
    assert services[0]["id"] in found
    assert found == expected


def test_an_exact_name_is_a_pattern_without_wildcards(
    session: Session, services: list[dict[str, Any]]
) -> None:
    host = services[3]["host_name"]
    assert ids(session, ServiceFilter(scopes=ANY_SCOPE, host_name_like=host)) == [
        s["id"] for s in services if s["host_name"] == host
    ]
    nowhere = SiteLike(short_name="no such site")
    assert ids(session, ServiceFilter(scopes=ANY_SCOPE, site_like=nowhere)) == []


def test_patterns_combine_with_and(session: Session, services: list[dict[str, Any]]) -> None:
    first = services[0]
    expected = [
        s["id"] for s in services if s["site"] == first["site"] and s["type"] == first["type"]
    ]
    service_filter = ServiceFilter(
        scopes=ANY_SCOPE,
        site_like=SiteLike(short_name=first["site"]),
        service_type_like=first["type"],
    )
    assert ids(session, service_filter) == expected


def test_services_of_closed_sites_can_be_left_out(
    session: Session, services: list[dict[str, Any]]
) -> None:
    expected = [s["id"] for s in services if s["status"] != "Closed"]
    assert len(expected) < len(services), "the demo has no Closed site with services"
    open_sites = SiteLike(exclude_certification_status="Closed")
    found = ids(session, ServiceFilter(scopes=ANY_SCOPE, site_like=open_sites))
    assert found == expected


def test_service_groups_match_by_name_pattern(session: Session) -> None:
    names = [
        name for (name,) in session.execute(text("SELECT name FROM service_group ORDER BY id"))
    ]
    assert names, "the demo has no service groups"
    pattern = names[0][:4] + "%"
    page = list_service_groups(
        session,
        ANONYMOUS,
        filter=ServiceGroupFilter(scopes=ANY_SCOPE, name_like=pattern),
        page=EVERYTHING,
        scope_defaults=ScopeDefaults(),
    )
    assert [row.name for row in page.items] == [n for n in names if like(pattern, n)]


def test_one_statement_whatever_the_number_of_services(
    session: Session, statements: StatementCounter
) -> None:
    counts = []
    for pattern in ("%", "no%match"):
        statements.reset()
        site_like = SiteLike(short_name=pattern, ngi="%")
        ids(session, ServiceFilter(scopes=ANY_SCOPE, site_like=site_like, host_name_like="%"))
        counts.append(statements.count)
    assert counts == [1, 1]


def test_a_trailing_backslash_is_a_literal_backslash(session: Session) -> None:
    for pattern in ("\\", "ce01.gridka.de\\", "%\\\\\\"):
        assert ids(session, ServiceFilter(scopes=ANY_SCOPE, host_name_like=pattern)) == []
    assert ids(session, ServiceFilter(scopes=ANY_SCOPE, host_name_like="ce01.gridka.de\\%")) == []
