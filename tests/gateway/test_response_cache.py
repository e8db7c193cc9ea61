"""The response cache (gateway/cache.py): answers kept until a committed write changes what
they read, per caller class; ETag and 304 (across two real server processes on PostgreSQL:
tests/compat/test_replicas.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domains.common import changes
from domains.downtimes.models import Classification, Downtime, Severity
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import (
    BACKENDS,
    AppFactory,
    GraphQLClient,
    StatementCounter,
    _ensure_pg_database,
    pg_test_url,
)
from tests.identity.helpers import global_id

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)

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


@pytest.fixture
def cached(make_client: AppFactory, oidc_issuer: OIDCIssuer) -> GraphQLClient:
    client = make_client(
        response_cache_max=100,
        pg_listen=True,  # on PostgreSQL the cache is on only while listening
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=ADMIN,
    )
    listener = client.client.app.state.listener  # type: ignore[attr-defined]
    # PostgreSQL: LISTENing drops what was cached before it; a hit is one after that
    assert listener is None or listener.listening.wait(30)
    return client


def as_admin(client: GraphQLClient, issuer: OIDCIssuer) -> GraphQLClient:
    token = issuer.issue_access_token(
        {"sub": "cache.admin@egi.eu", "name": "Cache Admin", "eduperson_entitlement": [*ADMIN]}
    )
    return GraphQLClient(client.client, headers={"authorization": f"Bearer {token}"})


def a_site(session: Session) -> tuple[str, int, int]:
    """A site with a service that has an endpoint: (short name, service id, endpoint id)."""
    row = session.execute(
        text(
            "SELECT s.short_name, sv.id, e.id FROM site s JOIN service sv ON sv.site_id = s.id "
            "JOIN endpoint e ON e.service_id = sv.id ORDER BY s.id, sv.id, e.id LIMIT 1"
        )
    ).one()
    return str(row[0]), int(row[1]), int(row[2])


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


def test_no_cached_answer_survives_a_change_of_any_entity(
    cached: GraphQLClient, oidc_issuer: OIDCIssuer, session: Session
) -> None:
    site, service_id, endpoint_id = a_site(session)
    admin = as_admin(cached, oidc_issuer)
    read(cached, site)

    def changed(change: Any) -> dict[str, Any]:
        before = read(cached, site)
        assert read(cached, site) == before  # cached
        change()
        after = read(cached, site)
        assert after != before
        return after

    after = changed(
        lambda: admin.data(
            "mutation($i: UpdateSiteInput!) { updateSite(input: $i) { site { id } } }",
            {"i": {"id": global_id("Site", _site_id(session, site)), "description": "S2"}},
        )
    )
    assert after["description"] == "S2"
    after = changed(
        lambda: admin.data(
            "mutation($i: UpdateServiceInput!) { updateService(input: $i) { service { id } } }",
            {"i": {"id": global_id("Service", service_id), "description": "V2"}},
        )
    )
    assert "V2" in [s["description"] for s in after["services"]]
    after = changed(
        lambda: admin.data(
            "mutation($i: UpdateEndpointInput!) { updateEndpoint(input: $i) { endpoint { id } } }",
            {"i": {"id": global_id("Endpoint", endpoint_id), "description": "E2"}},
        )
    )
    assert "E2" in [e["description"] for s in after["services"] for e in s["endpoints"]]
    start = datetime.now(UTC) + timedelta(days=3)
    after = changed(
        lambda: admin.data(
            "mutation($i: DeclareDowntimeInput!) "
            "{ declareDowntime(input: $i) { downtime { id } } }",
            {
                "i": {
                    "serviceIds": [global_id("Service", service_id)],
                    "severity": "OUTAGE",
                    "startsAt": start.isoformat(),
                    "endsAt": (start + timedelta(hours=2)).isoformat(),
                    "description": "D1",
                }
            },
        )
    )
    assert "D1" in [d["description"] for d in after["downtimes"]]
    # raw SQL, committed past the ORM (as bulk loaders write): the NGI
    after = changed(
        lambda: _sql(
            session,
            "UPDATE ngi SET description = 'N2' WHERE id = "
            "(SELECT ngi_id FROM site WHERE short_name = :s)",
            s=site,
        )
    )
    assert after["ngi"]["description"] == "N2"
    # a deleted row: the endpoint, then its service
    after = changed(lambda: _sql(session, "DELETE FROM endpoint WHERE id = :e", e=endpoint_id))
    assert endpoint_id not in [e["id"] for s in after["services"] for e in s["endpoints"]]


def test_no_cached_answer_survives_a_change_of_a_messaging_entity(
    cached: GraphQLClient, oidc_issuer: OIDCIssuer
) -> None:
    """The messaging domain: a platform administrator's answer (kept per principal) about a
    project's topics, through a topic created and one deleted."""
    admin = as_admin(cached, oidc_issuer)
    project = f"CACHE{uuid.uuid4().hex[:8].upper()}"
    admin.data(
        "mutation($i: CreateMessagingProjectInput!) "
        "{ createMessagingProject(input: $i) { project { name } } }",
        {"i": {"name": project}},
    )
    topics = (
        "query($p: String!) { messagingProject(name: $p) { topics { edges { node { name } } } } }"
    )

    def names() -> list[str]:
        edges = admin.data(topics, {"p": project})["messagingProject"]["topics"]["edges"]
        return [e["node"]["name"] for e in edges]

    assert names() == names() == []
    admin.data(
        "mutation($i: CreateTopicInput!) { createTopic(input: $i) { topic { name } } }",
        {"i": {"project": project, "name": "t1"}},
    )
    assert names() == names() == ["t1"]
    admin.data(
        "mutation($i: DeleteTopicInput!) { deleteTopic(input: $i) { __typename } }",
        {"i": {"project": project, "name": "t1"}},
    )
    assert names() == []


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


def _site_id(session: Session, site: str) -> int:
    return int(
        session.execute(text("SELECT id FROM site WHERE short_name = :s"), {"s": site}).scalar_one()
    )


def _sql(session: Session, statement: str, **params: Any) -> None:
    session.execute(text(statement), params)
    session.commit()


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
    session.add(
        Downtime(
            severity=Severity.OUTAGE,
            classification=Classification.SCHEDULED,
            description="cache horizon",
            site_id=_site_id(session, site),
            declared_by="test",
            starts_at=starts,
            ends_at=ends,
        )
    )
    session.commit()
    moment = [starts - timedelta(hours=1)]
    client = make_client(response_cache_max=100, pg_listen=True, clock=lambda: moment[0])
    listener = client.client.app.state.listener  # type: ignore[attr-defined]
    assert listener is None or listener.listening.wait(30)
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
    # the same downtimes through a list that reads the clock unbounded: never kept
    listed = "{ downtimes(first: 1) { edges { node { id } } } }"
    client.data(listed)
    statements.reset()
    client.data(listed)
    assert statements.count > 0
