"""X.509 identities in-process: the DN a trusted TLS-terminating proxy sends (and refused
from anyone else), the DN of a connection's certificate (the ASGI TLS extension), and
how a DN resolves to a principal (linked to a user, or a DN alone that makes no user),
through GraphQL as a client would see it. tests/compat/test_x509_live.py does the same
against a real `opsgraph serve`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection
from starlette.testclient import TestClient

from domains.common.db import unit_of_work
from domains.common.identity import PLATFORM
from domains.identity import service as identity
from domains.identity.models import ApiToken, Role, User
from domains.identity.service.tokens import create_api_token
from gateway import cli
from gateway.app import create_app
from gateway.auth.authenticator import Authenticator, Credentials
from gateway.auth.x509 import parse_networks
from gateway.config import Settings
from tests.compat.tls import JANE, Pki, make_pki

HEADER = "x-ssl-client-s-dn"
PROXY = "10.0.0.5"
VIEWER = "{ viewer { subject name clientDn isAdmin apiTokens { name } } }"
Client = Callable[..., TestClient]


@pytest.fixture
def client_from(
    engine: Engine, session_factory: sessionmaker[Session], database_url: str
) -> Iterator[Client]:
    """A TestClient whose requests come from `peer`, on an app trusting PROXY's header."""
    clients: list[TestClient] = []

    def build(peer: str, **overrides: Any) -> TestClient:
        settings = replace(
            Settings(database_url=database_url, log_format="text", pg_listen=False),
            client_dn_header=HEADER,
            trusted_proxies=parse_networks([PROXY, "192.0.2.0/24"]),
            **overrides,
        )
        app = create_app(settings, engine=engine, session_factory=session_factory)
        client = TestClient(app, client=(peer, 40000)).__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def _graphql(client: TestClient, query: str = VIEWER, **headers: str) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _users(session_factory: sessionmaker[Session]) -> int:
    with unit_of_work(session_factory, write=False) as session:
        return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def test_a_trusted_proxys_dn_is_a_signed_in_caller_without_a_user(
    client_from: Client, session_factory: sessionmaker[Session]
) -> None:
    before = _users(session_factory)
    body = _graphql(client_from(PROXY), **{HEADER: JANE})
    assert body == {
        "data": {
            "viewer": {
                "subject": JANE,
                "name": JANE,
                "clientDn": JANE,
                "isAdmin": False,
                "apiTokens": [],
            }
        }
    }
    # nginx's $ssl_client_s_dn, RFC 4514, from an address of a trusted range
    rfc = _graphql(client_from("192.0.2.9"), **{HEADER: "CN=Jane Doe,O=Example,DC=example,DC=org"})
    assert rfc["data"]["viewer"]["clientDn"] == JANE
    assert _users(session_factory) == before  # no user row is made for a DN


def test_a_signed_in_dn_holds_no_roles(client_from: Client) -> None:
    """What needs a user is refused with a reason, not an INTERNAL error."""
    body = _graphql(
        client_from(PROXY),
        'mutation { createApiToken(input: {name: "mine"}) { secret } }',
        **{HEADER: JANE},
    )
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "registered users" in error["message"]
    # and the viewerCan… fields say so beforehand, as for every refused mutation
    can = _graphql(
        client_from(PROXY),
        "{ viewer { viewerCanCreateApiToken viewerCanRequestRole } }",
        **{HEADER: JANE},
    )
    assert can == {
        "data": {"viewer": {"viewerCanCreateApiToken": False, "viewerCanRequestRole": False}}
    }


def test_a_dn_linked_to_no_user_requests_no_role_and_writes_nothing(
    client_from: Client, session_factory: sessionmaker[Session]
) -> None:
    """requestRole and createApiToken need a user (Caller.REGISTERED_USER): refused, with
    no row written (tests/test_permissions.py counts this as their wrong-caller case)."""

    def rows() -> tuple[int, ...]:
        with unit_of_work(session_factory, write=False) as session:
            return tuple(
                int(session.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (User, Role, ApiToken)
            )

    before = rows()
    for mutation in (
        'createApiToken(input: {name: "mine"}) { secret }',
        'requestRole(input: {roleType: "Site Administrator", entityId: "U2l0ZTox"}) '
        "{ role { id } }",
    ):
        body = _graphql(client_from(PROXY), f"mutation {{ {mutation} }}", **{HEADER: JANE})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert rows() == before


def test_the_header_from_an_untrusted_peer_is_refused(
    client_from: Client, session_factory: sessionmaker[Session]
) -> None:
    body = _graphql(client_from("10.0.0.6"), **{HEADER: JANE})
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "trusted proxy" in error["message"]
    # so is an empty one from a trusted proxy, and a value that is no DN
    empty = _graphql(client_from(PROXY), **{HEADER: " "})
    assert empty["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # a trusted proxy without the header: its client presented no certificate
    assert _graphql(client_from(PROXY)) == {"data": {"viewer": None}}


def test_a_linked_dn_is_its_user(client_from: Client, session: Session) -> None:
    with unit_of_work(sessionmaker(bind=session.get_bind())) as writer:
        identity.register_user(writer, PLATFORM, subject="jane@egi.eu", name="Jane")
        identity.link_identity(
            writer,
            PLATFORM,
            user_subject="jane@egi.eu",
            issuer=identity.X509_ISSUER,
            subject=JANE,
        )
    viewer = _graphql(client_from(PROXY), **{HEADER: JANE})["data"]["viewer"]
    assert viewer["subject"] == "jane@egi.eu"
    assert viewer["name"] == "Jane"
    assert viewer["clientDn"] == JANE


def test_a_user_registered_under_the_dn_is_that_user(client_from: Client, session: Session) -> None:
    dn = "/DC=org/DC=example/CN=Robot"
    with unit_of_work(sessionmaker(bind=session.get_bind())) as writer:
        identity.make_admin(writer, PLATFORM, subject=dn)
    viewer = _graphql(client_from(PROXY), **{HEADER: dn})["data"]["viewer"]
    assert viewer == {
        "subject": dn,
        "name": None,
        "clientDn": dn,
        "isAdmin": True,
        "apiTokens": [],
    }


def test_a_token_and_a_certificate_are_the_tokens_user(
    client_from: Client, session: Session
) -> None:
    with unit_of_work(sessionmaker(bind=session.get_bind())) as writer:
        _, secret = create_api_token(writer, PLATFORM, name="t", user_subject="tok@egi.eu")
    viewer = _graphql(client_from(PROXY), **{HEADER: JANE, "x-api-key": secret})["data"]["viewer"]
    assert viewer["subject"] == "tok@egi.eu"
    assert viewer["clientDn"] == JANE
    assert viewer["apiTokens"] == [{"name": "t"}]


def _connection(pki_cert: bytes | None, peer: str = "10.9.9.9") -> HTTPConnection:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [],
        "client": (peer, 1),
    }
    if pki_cert is not None:
        cert = x509.load_pem_x509_certificate(pki_cert)
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        scope["extensions"] = {"tls": {"client_cert_chain": [pem]}}
    return HTTPConnection(scope)


def test_a_connections_certificate(tmp_path: Path) -> None:
    asyncio.run(_connections_certificate(make_pki(tmp_path / "pki")))


async def _connections_certificate(pki: Pki) -> None:
    authenticator = Authenticator(Settings(), None)
    direct = await authenticator.credentials(_connection(pki.valid.cert_file.read_bytes()))
    assert direct == Credentials(client_dn=JANE)
    assert await authenticator.credentials(_connection(None)) == Credentials()
    # the peer's own proxy certificate, without the chain that names its owner
    proxy = await authenticator.credentials(_connection(pki.proxy.cert_file.read_bytes()))
    assert proxy.refused is not None
    assert "RFC 3820" in proxy.refused.message
    # a trusted proxy's own certificate is not its client's
    behind = Authenticator(
        replace(Settings(), client_dn_header=HEADER, trusted_proxies=parse_networks([PROXY])),
        None,
    )
    assert (
        await behind.credentials(_connection(pki.valid.cert_file.read_bytes(), PROXY))
        == Credentials()
    )
    # a WebSocket's connection_init payload keeps the handshake's certificate
    sent = await authenticator.credentials_from(authorization=None, api_key="k", client_dn=JANE)
    assert sent == Credentials(api_key="k", client_dn=JANE)
    refused = await authenticator.credentials_from(
        authorization="Basic x", api_key=None, client_dn=JANE
    )
    assert refused.refused is not None
    assert refused.client_dn is None


def test_link_identity_takes_a_dn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", f"sqlite:///{tmp_path / 'link.db'}")
    link = ["admin", "link-identity", "--subject", "jane@egi.eu"]
    assert cli.main([*link, "--x509", "CN=Jane"]) == 2  # not slash form
    assert cli.main([*link, "--x509", JANE, "--issuer", "X.509"]) == 2
    assert cli.main(link) == 2
    assert cli.main([*link, "--x509", JANE]) == 1  # no such user yet
    assert cli.main(["admin", "issue-token", "--subject", "jane@egi.eu"]) == 0
    assert cli.main([*link, "--x509", JANE]) == 0
    assert f"{JANE} at X.509 now signs in as jane@egi.eu" in capsys.readouterr().out
    import sqlite3

    with sqlite3.connect(tmp_path / "link.db") as db:
        rows = db.execute("SELECT issuer, subject FROM user_identity").fetchall()
    assert ("X.509", JANE) in rows
