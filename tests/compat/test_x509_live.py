"""X.509 client certificates against a real `opsgraph serve` over HTTPS: a test CA laid
out as an IGTF directory (hashed names, a CRL) and as a bundle; a valid certificate
reaches GraphQL as its DN (over HTTP and a WebSocket), a linked one as its user; expired,
untrusted and revoked ones fail the handshake; a proxy certificate is refused with its
reason; no certificate is anonymous. And the DN header of a TLS-terminating proxy, from
the trusted address (127.0.0.2) and forged from another (127.0.0.1)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.compat.tls import JANE, Credential, Pki, make_pki
from tests.server import cli_output, server_env, serving

VIEWER = "{ viewer { subject clientDn } }"
JOHN_USER = "john@egi.eu"
HEADER = "X-SSL-Client-S-DN"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _tls(pki: Pki, ca_certs: Path, *crl: str) -> tuple[str, ...]:
    return (
        "--ssl-certfile",
        str(pki.server.cert_file),
        "--ssl-keyfile",
        str(pki.server.key_file),
        "--ssl-ca-certs",
        str(ca_certs),
        *crl,
    )


@pytest.fixture(scope="module")
def igtf(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server verifying against the hashed CA directory with CRLs, trusting 127.0.0.2's
    DN header; John's DN linked to a user with the CLI, as an operator would."""
    env = server_env(
        tmp_path_factory.mktemp("igtf"),
        OPSGRAPH_CLIENT_DN_HEADER=HEADER,
        OPSGRAPH_TRUSTED_PROXIES="127.0.0.2/32",
    )
    cli_output(env, "migrate")
    cli_output(env, "admin", "issue-token", "--subject", JOHN_USER)
    cli_output(env, "admin", "link-identity", "--subject", JOHN_USER, "--x509", pki.other.dn)
    cli_output(env, "admin", "make-admin", "--subject", JOHN_USER)  # GOCDB PI's level 3
    extra = _tls(pki, pki.ca_dir, "--ssl-crl-dir", str(pki.crl_dir))
    with serving(env, scheme="https", verify=pki.client_context(), extra=extra) as base:
        yield base


def _viewer(
    base: str, context: ssl.SSLContext, *, local: str | None = None, **headers: str
) -> dict[str, Any]:
    transport = httpx.HTTPTransport(verify=context, local_address=local)
    with httpx.Client(transport=transport, timeout=30) as client:
        response = client.post(f"{base}/graphql", json={"query": VIEWER}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_valid_certificate_is_its_dn(igtf: str, pki: Pki) -> None:
    body = _viewer(igtf, pki.client_context(pki.valid))
    assert body == {"data": {"viewer": {"subject": JANE, "clientDn": JANE}}}


def test_a_linked_certificate_is_its_user(igtf: str, pki: Pki) -> None:
    body = _viewer(igtf, pki.client_context(pki.other))
    assert body == {"data": {"viewer": {"subject": JOHN_USER, "clientDn": pki.other.dn}}}


def test_no_certificate_is_anonymous(igtf: str, pki: Pki) -> None:
    assert _viewer(igtf, pki.client_context()) == {"data": {"viewer": None}}


@pytest.mark.parametrize("which", ["expired", "untrusted", "revoked", "legacy_proxy"])
def test_a_bad_certificate_fails_the_handshake(igtf: str, pki: Pki, which: str) -> None:
    credential: Credential = getattr(pki, which)
    with pytest.raises(httpx.TransportError):
        _viewer(igtf, pki.client_context(credential))


def test_a_proxy_certificate_is_refused_with_its_reason(igtf: str, pki: Pki) -> None:
    body = _viewer(igtf, pki.client_context(pki.proxy))
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "RFC 3820" in error["message"]


MESSAGES = """subscription {
  subscriptionMessages(project: "NONE", subscription: "none", maxMessages: 1) { messageId }
}"""


def _subscribe(base: str, context: ssl.SSLContext) -> dict[str, Any]:
    """The first answer to a subscription that needs a signed-in caller."""
    url = base.replace("https://", "wss://") + "/graphql"
    with connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        ssl=context,
        open_timeout=30,
        close_timeout=5,
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(socket.recv(timeout=30))["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": MESSAGES}}))
        answer: dict[str, Any] = json.loads(socket.recv(timeout=30))
    return answer


def test_a_websocket_carries_the_certificate(igtf: str, pki: Pki) -> None:
    """Without a certificate the caller is anonymous; with one, signed in (the project
    it asks for is then looked up, and does not exist)."""
    anonymous = _subscribe(igtf, pki.client_context())
    assert anonymous["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    signed_in = _subscribe(igtf, pki.client_context(pki.valid))
    assert signed_in["payload"]["errors"][0]["extensions"]["rule"] == "MESSAGING_PROJECT_UNKNOWN"


def test_the_trusted_proxys_header(igtf: str, pki: Pki) -> None:
    plain = pki.client_context()
    body = _viewer(igtf, plain, local="127.0.0.2", **{HEADER: JANE})
    assert body == {"data": {"viewer": {"subject": JANE, "clientDn": JANE}}}
    # the proxy's own certificate is not its client's
    assert _viewer(igtf, pki.client_context(pki.valid), local="127.0.0.2") == {
        "data": {"viewer": None}
    }


def test_a_forged_header_is_refused(igtf: str, pki: Pki) -> None:
    body = _viewer(igtf, pki.client_context(), local="127.0.0.1", **{HEADER: JANE})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert HEADER.lower() in body["errors"][0]["message"]
    # elsewhere than GraphQL: 401
    transport = httpx.HTTPTransport(verify=pki.client_context())
    with httpx.Client(transport=transport, timeout=30) as client:
        feed = client.get(f"{igtf}/feeds/downtimes.rss", headers={HEADER: JANE})
    assert feed.status_code == 401, feed.text


def _access_test(base: str, context: ssl.SSLContext) -> httpx.Response:
    transport = httpx.HTTPTransport(verify=context)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.get(f"{base}/gocdbpi/private/", params={"method": "access_test"})


def test_a_certificate_reaches_the_pis_private_methods(igtf: str, pki: Pki) -> None:
    """GOCDB's access_test (level 3): John's DN is linked to a platform administrator;
    Jane's is a DN of its own, authenticated but neither registered nor holding a role."""
    john = _access_test(igtf, pki.client_context(pki.other))
    assert john.status_code == 200, john.text
    assert f'identifier="{pki.other.dn}"' in john.text
    jane = _access_test(igtf, pki.client_context(pki.valid))
    anonymous = _access_test(igtf, pki.client_context())
    # GOCDB answers a refused level 3 with 200 and the reason; the private interface
    # without any credential with 403
    assert "Authorisation required" in jane.text
    assert "identifier=" not in jane.text
    assert anonymous.status_code == 403
    assert "X.509 certificate" in anonymous.text


def test_a_bundle_without_crls(pki: Pki, tmp_path: Path) -> None:
    """The CA as a PEM bundle; without a CRL directory the revoked certificate passes:
    it was the CRL that refused it above."""
    extra = _tls(pki, pki.ca_file)
    with serving(
        server_env(tmp_path), scheme="https", verify=pki.client_context(), extra=extra
    ) as base:
        assert _viewer(base, pki.client_context(pki.valid))["data"]["viewer"]["clientDn"] == JANE
        revoked = _viewer(base, pki.client_context(pki.revoked))
        assert revoked["data"]["viewer"]["clientDn"] == pki.revoked.dn
        with pytest.raises(httpx.TransportError):
            _viewer(base, pki.client_context(pki.untrusted))
