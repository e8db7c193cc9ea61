"""The response cache (gateway/cache.py): answers kept until a committed write changes what
they read, per caller class; ETag and 304 (across two real server processes on PostgreSQL:
tests/compat/test_replicas.py). That no answer survives a change of any kind of entity:
test_response_cache_kinds.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domains.common import changes
from tests.auth.issuer import OIDCIssuer
from tests.conftest import (
    BACKENDS,
    AppFactory,
    GraphQLClient,
    StatementCounter,
    _ensure_pg_database,
    pg_test_url,
)
from tests.gateway import response_cache as shared
from tests.gateway.response_cache import a_site, add_downtime, as_admin, cached_at

cached = shared.cached  # the fixture

# one answer reading each kind of entity (no field that depends on the time)
READ = """
query Read($s: String!) {
  site(shortName: $s) {
    description
    ngi { description }
    services { id description endpoints { id description } }
    downtimes { id description }
  }
}
"""


def read(client: GraphQLClient, site: str) -> dict[str, Any]:
    found: dict[str, Any] = client.data(READ, {"s": site})["site"]
    return found


def test_a_hit_runs_no_sql_and_answers_304_to_its_etag(
    cached: GraphQLClient, session: Session, statements: StatementCounter
) -> None:
    site, _, _ = a_site(session)
    body = {"query": READ, "variables": {"s": site}}
    first = cached.client.post("/graphql", json=body)
    assert first.headers["cache-control"] == "public, max-age=0, must-revalidate"
    statements.reset()
    # the same document laid out otherwise is the same entry
    second = cached.client.post("/graphql", json={**body, "query": " ".join(READ.split())})
    assert statements.count == 0
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    again = cached.client.post(
        "/graphql", json=body, headers={"if-none-match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    other = cached.client.post("/graphql", json={**body, "variables": {"s": "no-such-site"}})
    assert other.json() == {"data": {"site": None}}


def test_anonymous_and_authenticated_callers_do_not_share_answers(
    cached: GraphQLClient, oidc_issuer: OIDCIssuer, session: Session
) -> None:
    query = "query($s: String!) { site(shortName: $s) { viewerCanEdit } }"
    site = {"s": a_site(session)[0]}
    assert (
        cached.data(query, site) == cached.data(query, site) == {"site": {"viewerCanEdit": False}}
    )
    admin = as_admin(cached, oidc_issuer)
    body = {"query": query, "variables": site}
    for _ in range(2):  # a miss, then a hit of the admin's own entry
        response = admin.client.post("/graphql", json=body, headers=admin.headers)
        assert response.json() == {"data": {"site": {"viewerCanEdit": True}}}
        assert response.headers["cache-control"] == "private, max-age=0, must-revalidate"
    assert cached.data(query, site) == {"site": {"viewerCanEdit": False}}


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        ("SELECT * FROM site JOIN service ON true", None),
        ("INSERT INTO site (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 1", {"site", "set"}),
        ('UPDATE "service" SET description = ?', {"service"}),
        ("DELETE FROM endpoint WHERE id = 1", {"endpoint"}),
        ("COPY metric_result (a, b) FROM STDIN", {"metric_result"}),
        ("WITH x AS (DELETE FROM ngi RETURNING id) SELECT * FROM x", {"ngi"}),
        ("ALTER TABLE site ADD COLUMN x int", {"*"}),
        ("SET LOCAL statement_timeout = 5", None),
    ],
)
def test_the_tables_a_statement_writes(statement: str, tables: set[str] | None) -> None:
    assert changes.written_tables(statement) == tables


def test_a_lost_connection_rolls_back_with_its_own_error() -> None:
    """PostgreSQL: a connection whose server process died mid-transaction (a restart, a
    failover) is rolled back by SQLAlchemy; the change recorder's rollback listener must not
    fail there (it read the dead connection's `info`, and PendingRollbackError hid the
    disconnect), and the connection works again after it."""
    if "postgresql" not in BACKENDS:
        pytest.skip("a server process to terminate is PostgreSQL's")
    url = pg_test_url()
    _ensure_pg_database(url)
    engine = create_engine(url)
    try:
        with engine.connect() as victim, engine.connect() as killer:
            victim.begin()
            victim.execute(text("CREATE TEMP TABLE lost (x int)"))
            victim.execute(text("INSERT INTO lost VALUES (1)"))  # a pending write
            pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
            killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            killer.commit()
            with pytest.raises(DBAPIError) as lost:
                victim.execute(text("SELECT 1"))
            assert lost.value.connection_invalidated
            victim.rollback()
            assert victim.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_an_answer_holding_ongoing_expires_when_a_downtime_starts_and_ends(
    make_client: AppFactory, session: Session, statements: StatementCounter
) -> None:
    """`Downtime.ongoing` changes with time alone: the answer holding it is kept until the
    first start or end still ahead (domains/common/time.py's changing_at), then computed
    again; an answer that read the clock without saying so is not kept at all."""
    site = a_site(session)[0]
    starts = datetime(2031, 5, 4, 10, tzinfo=UTC)
    ends = starts + timedelta(hours=6)
    add_downtime(session, site, starts, ends)
    moment = [starts - timedelta(hours=1)]
    client = cached_at(make_client, moment)
    query = "query($s: String!) { site(shortName: $s) { downtimes { startsAt ongoing } } }"

    def ongoing() -> bool:
        found = client.data(query, {"s": site})["site"]["downtimes"]
        (mine,) = [d for d in found if d["startsAt"].startswith("2031-05-04T10:00")]
        return bool(mine["ongoing"])

    assert ongoing() is False
    statements.reset()
    assert ongoing() is False  # kept: nothing changes before the start
    assert statements.count == 0
    moment[0] = starts  # started: the kept answer has expired
    assert ongoing() is True
    statements.reset()
    moment[0] = ends - timedelta(microseconds=1)
    assert ongoing() is True  # kept until the end
    assert statements.count == 0
    moment[0] = ends
    assert ongoing() is False
    # the site's status today (timelines up to now) reads the clock unbounded: never kept
    today = "query($s: String!) { site(shortName: $s) { status { until } } }"
    client.data(today, {"s": site})
    statements.reset()
    client.data(today, {"s": site})
    assert statements.count > 0
