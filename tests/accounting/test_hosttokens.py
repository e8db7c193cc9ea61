"""AMS's `authx509` route in-process (the DN from a trusted proxy's header): an accounting
host's certificate gets a token that publishes to the accounting topic and does nothing
else, a DN linked to a user gets a token of that user, tokens stay bounded, and a request
without a certificate or with an unknown DN gets argo-api-authn's errors.
tests/compat/test_authx509_live.py goes through a real `opsgraph serve` with TLS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col
from starlette.testclient import TestClient

from domains.common.db import unit_of_work
from domains.common.identity import PLATFORM
from domains.identity import service as identity
from domains.identity.models import ApiToken
from domains.messaging import service as messaging
from domains.topology.models import Service, ServiceType
from gateway.app import create_app
from gateway.auth.x509 import parse_networks
from gateway.config import Settings

HEADER = "x-ssl-client-s-dn"
PROXY = "10.0.0.5"
ROUTE = "/v1/service-types/ams/hosts/ams.example.org:authx509"
TOPIC = "/v1/projects/accounting/topics/apel"
MESSAGE = {"messages": [{"data": "aGVsbG8=", "attributes": {"empaid": "1"}}]}


@pytest.fixture
def api(
    engine: Engine, session_factory: sessionmaker[Session], database_url: str
) -> Iterator[TestClient]:
    """The app behind a TLS-terminating proxy (PROXY, trusted for HEADER), with the
    accounting project, its topic `apel` and the intake's subscription `loader`."""
    with unit_of_work(session_factory) as session:
        messaging.create_project(session, PLATFORM, name="accounting", description="")
        messaging.create_topic(session, PLATFORM, project="accounting", topic="apel")
        messaging.create_topic(session, PLATFORM, project="accounting", topic="other")
        messaging.create_subscription(
            session,
            PLATFORM,
            project="accounting",
            subscription="loader",
            topic="projects/accounting/topics/apel",
        )
    settings = replace(
        Settings(database_url=database_url, log_format="text", pg_listen=False),
        client_dn_header=HEADER,
        trusted_proxies=parse_networks([PROXY]),
    )
    app = create_app(settings, engine=engine, session_factory=session_factory)
    with TestClient(app, client=(PROXY, 40000)) as client:
        yield client


def apel_host_dn(session_factory: sessionmaker[Session]) -> str:
    with unit_of_work(session_factory, write=False) as session:
        dn = session.execute(
            select(col(Service.host_dn))
            .join(ServiceType, col(ServiceType.id) == col(Service.service_type_id))
            .where(col(ServiceType.name) == "gLite-APEL", col(Service.host_dn) != "")
            .limit(1)
        ).scalar_one()
    return str(dn)


def token_of(api: TestClient, dn: str) -> str:
    response = api.get(ROUTE, headers={HEADER: dn})
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def test_an_accounting_hosts_token_publishes_to_the_accounting_topic_only(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    dn = apel_host_dn(session_factory)
    first = token_of(api, dn)
    published = api.post(f"{TOPIC}:publish", params={"key": first}, json=MESSAGE)
    assert published.status_code == 200, published.text
    assert published.json() == {"messageIds": ["0"]}
    # nothing else: another topic of the project, its subscription, a new topic
    refused: list[tuple[str, str, Any]] = [
        ("POST", "/v1/projects/accounting/topics/other:publish", MESSAGE),
        ("POST", "/v1/projects/accounting/subscriptions/loader:pull", {}),
        ("PUT", "/v1/projects/accounting/topics/mine", None),
    ]
    for method, path, body in refused:
        answer = api.request(method, path, headers={"x-api-key": first}, json=body)
        assert answer.status_code == 403, (path, answer.text)
    # asked again (a sender's next run): a new token, the one before still works, the one
    # before that is gone; membership and ACL are written once
    second, third = token_of(api, dn), token_of(api, dn)
    assert len({first, second, third}) == 3
    statuses = [
        api.post(f"{TOPIC}:publish", headers={"x-api-key": t}, json=MESSAGE).status_code
        for t in (first, second, third)
    ]
    assert statuses == [401, 200, 200]
    with unit_of_work(session_factory, write=False) as session:
        acl = messaging.get_topic_acl(session, PLATFORM, project="accounting", topic="apel")
        members = messaging.list_members(session, PLATFORM, project="accounting")
        user = identity.user_by_subject(session, dn)
        names = session.execute(
            select(col(ApiToken.name)).where(col(ApiToken.user_id) == user.id)
        ).scalars()
        assert list(names) == ["authx509", "authx509"]
    assert acl == [dn]
    assert [(m.subject, m.roles) for m in members] == [(dn, ("publisher",))]


def test_a_dn_linked_to_a_user_gets_a_token_of_that_user(
    api: TestClient, session_factory: sessionmaker[Session]
) -> None:
    dn = "/DC=org/DC=example/O=Example/CN=Jane Doe"
    with unit_of_work(session_factory) as session:
        identity.user_by_subject(session, "jane@egi.eu", create=True)
        identity.link_identity(
            session, PLATFORM, user_subject="jane@egi.eu", issuer=identity.X509_ISSUER, subject=dn
        )
    token = token_of(api, dn)
    profile = api.get("/v1/users/profile", params={"key": token})
    assert profile.status_code == 200, profile.text
    assert profile.json()["name"] == "jane@egi.eu"


@pytest.mark.parametrize(
    ("path", "dn", "code", "status", "message"),
    [
        (ROUTE, None, 400, "BAD REQUEST", "No certificate provided"),
        (ROUTE, "/DC=org/CN=Nobody", 404, "NOT_FOUND", "Binding was not found: the DN"),
        (ROUTE.replace("/ams/", "/web-api/"), "/CN=x", 404, "NOT FOUND", "ServiceType was"),
        (ROUTE.replace(":authx509", ":other"), "/CN=x", 404, "NOT FOUND", "API call not found"),
    ],
)
def test_refusals_are_argo_api_authns(
    api: TestClient, path: str, dn: str | None, code: int, status: str, message: str
) -> None:
    response = api.get(path, headers={HEADER: dn} if dn else {})
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert error["message"].startswith(message), error
