"""Fixtures of the downtime tests: a clock the rules read, a site with services and
endpoints of the demo data, and GraphQL callers holding roles over it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.auth.issuer import GATEWAY_CLIENT, OIDCIssuer
from tests.conftest import AppFactory, Callers, GraphQLClient
from tests.downtimes.notify_world import alice, bob, where  # noqa: F401 (fixtures)
from tests.identity.helpers import global_id, grant
from tests.notifications.smtp import smtp  # noqa: F401 (a fixture)

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The time the service rules read; tests move it to the second."""

    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class SiteFixture:
    """A demo site with two services (the first with two endpoints or more), and a second
    site of another NGI."""

    site: str
    site_id: int
    ngi: str
    service_ids: tuple[int, int]
    endpoint_ids: tuple[int, int]  # both of service_ids[0]
    other_site: str
    other_service_id: int
    other_endpoint_id: int

    @property
    def services(self) -> list[str]:
        return [global_id("Service", s) for s in self.service_ids]


def _service_with_two_endpoints(session: Session, exclude_ngi: str | None = None) -> Any:
    return session.execute(
        text(
            "SELECT sv.id, s.id, s.short_name, n.name FROM service sv "
            "JOIN site s ON s.id = sv.site_id JOIN ngi n ON n.id = s.ngi_id "
            "WHERE (SELECT count(*) FROM endpoint e WHERE e.service_id = sv.id) >= 2 "
            "AND (SELECT count(*) FROM service o WHERE o.site_id = s.id) >= 2 "
            "AND n.name <> :ngi ORDER BY sv.id LIMIT 1"
        ),
        {"ngi": exclude_ngi or ""},
    ).one()


@pytest.fixture
def target(session: Session) -> SiteFixture:
    service_id, site_id, site, ngi = _service_with_two_endpoints(session)
    second = session.execute(
        text("SELECT id FROM service WHERE site_id = :s AND id <> :v ORDER BY id LIMIT 1"),
        {"s": site_id, "v": service_id},
    ).scalar_one()
    endpoints = (
        session.execute(
            text("SELECT id FROM endpoint WHERE service_id = :v ORDER BY id LIMIT 2"),
            {"v": service_id},
        )
        .scalars()
        .all()
    )
    other_service, _other_site_id, other_site, _ = _service_with_two_endpoints(session, ngi)
    other_endpoint = session.execute(
        text("SELECT id FROM endpoint WHERE service_id = :v ORDER BY id LIMIT 1"),
        {"v": other_service},
    ).scalar_one()
    return SiteFixture(
        site=site,
        site_id=int(site_id),
        ngi=ngi,
        service_ids=(int(service_id), int(second)),
        endpoint_ids=(int(endpoints[0]), int(endpoints[1])),
        other_site=other_site,
        other_service_id=int(other_service),
        other_endpoint_id=int(other_endpoint),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked(make_client: AppFactory, oidc_issuer: OIDCIssuer, clock: Clock) -> Callers:
    client = make_client(
        oidc_issuer=oidc_issuer.issuer,
        oidc_client_id=GATEWAY_CLIENT[0],
        oidc_client_secret=GATEWAY_CLIENT[1],
        admin_entitlements=("urn:mace:egi.eu:group:ops.egi.eu:role=admin#aai.egi.eu",),
        clock=clock,
    )
    return Callers(client, oidc_issuer)


@pytest.fixture
def site_admin(clocked: Callers, session: Session, target: SiteFixture) -> GraphQLClient:
    grant(session, "dt.admin@egi.eu", "Site Administrator", "site", target.site)
    return clocked.as_user("dt.admin@egi.eu")


@pytest.fixture
def other_admin(clocked: Callers, session: Session, target: SiteFixture) -> GraphQLClient:
    """Site Administrator of the other site only: a sideways role."""
    grant(session, "dt.other@egi.eu", "Site Administrator", "site", target.other_site)
    return clocked.as_user("dt.other@egi.eu")


@pytest.fixture
def both_admin(clocked: Callers, session: Session, target: SiteFixture) -> GraphQLClient:
    grant(session, "dt.both@egi.eu", "Site Administrator", "site", target.site)
    grant(session, "dt.both@egi.eu", "Site Administrator", "site", target.other_site)
    return clocked.as_user("dt.both@egi.eu")


def iso(moment: datetime) -> str:
    return moment.isoformat()


DECLARE = """
mutation($i: DeclareDowntimeInput!) {
  declareDowntime(input: $i) {
    downtime {
      id primaryKey severity classification startsAt endsAt description declaredAt
      announcedAt ongoing site { shortName } services { id hostName } endpoints { id }
      affectedServices { allEndpoints endedAt service { id } }
    }
  }
}
"""


def declare_input(
    target: SiteFixture,
    *,
    start: timedelta,
    end: timedelta,
    severity: str = "OUTAGE",
    services: list[str] | None = None,
    endpoints: list[str] | None = None,
    description: str = "Storage firmware upgrade",
    now: datetime = NOW,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "serviceIds": target.services if services is None else services,
        "severity": severity,
        "startsAt": iso(now + start),
        "endsAt": iso(now + end),
        "description": description,
    }
    if endpoints is not None:
        value["endpointIds"] = endpoints
    return value


def declare(client: GraphQLClient, target: SiteFixture, **kwargs: Any) -> dict[str, Any]:
    data = client.data(DECLARE, {"i": declare_input(target, **kwargs)})
    result: dict[str, Any] = data["declareDowntime"]["downtime"]
    return result
