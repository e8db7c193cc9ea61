"""What the response cache tests share: the app with the cache on, an administrator's
client, and whether a read was answered from the cache (the app's own counter)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from domains.downtimes.models import Classification, Downtime, Severity
from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, GraphQLClient

ADMIN = ("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",)


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
        {
            "sub": "cache.admin@egi.eu",
            "name": "Cache Admin",
            "email": "cache.admin@egi.eu",
            "eduperson_entitlement": [*ADMIN],
        }
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


def site_id(session: Session, site: str) -> int:
    return int(
        session.execute(text("SELECT id FROM site WHERE short_name = :s"), {"s": site}).scalar_one()
    )


def sql(session: Session, statement: str, **params: Any) -> None:
    """A write committed past the ORM and the GraphQL API (as bulk loaders write)."""
    session.execute(text(statement), params)
    session.commit()


def outcomes(client: GraphQLClient) -> dict[str, float]:
    """The app's opsgraph_response_cache_total by result (hit, miss, skip)."""
    counter = client.client.app.state.metrics.response_cache  # type: ignore[attr-defined]
    return {
        sample.labels["result"]: sample.value
        for family in counter.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def read(client: GraphQLClient, query: str, variables: dict[str, Any]) -> tuple[Any, str]:
    """The answer's data, and how the cache answered it: "hit", "miss" (computed and
    kept), "skip" (computed, not kept)."""
    before = outcomes(client)
    data = client.data(query, variables)
    moved = [r for r, n in outcomes(client).items() if n != before.get(r)]
    assert len(moved) == 1, moved
    return data, moved[0]


def add_downtime(session: Session, site: str, starts: datetime, ends: datetime) -> None:
    """A scheduled OUTAGE of `site` from `starts` to `ends`, committed."""
    session.add(
        Downtime(
            severity=Severity.OUTAGE,
            classification=Classification.SCHEDULED,
            description="response cache test",
            site_id=site_id(session, site),
            declared_by="test",
            starts_at=starts,
            ends_at=ends,
        )
    )
    session.commit()


def cached_at(make_client: AppFactory, moment: list[datetime]) -> GraphQLClient:
    """A client with the response cache on, whose clock reads `moment[0]`."""
    client = make_client(response_cache_max=100, pg_listen=True, clock=lambda: moment[0])
    listener = client.client.app.state.listener  # type: ignore[attr-defined]
    assert listener is None or listener.listening.wait(30)
    return client
