"""GOCDB's write API against a real `opsgraph serve` over HTTPS with client certificates:
a DN registered as a writing X.509 credential of a site writes its extension properties,
audited under that DN; a certificate whose DN is not registered there, and no certificate,
are refused with GOCDB's 403."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx2 as httpx
import pytest

from domains.common.graphql import to_global_id
from tests.compat.tls import Pki, make_pki
from tests.server import cli_output, server_env, serving

ADMIN = "admin@egi.eu"
ADD = """mutation($i: AddSiteApiCredentialInput!) {
  addSiteApiCredential(input: $i) { credential { identifier allowWrite } }
}"""
CHANGES = "{ changes(first: 5, order: NEWEST_FIRST) { edges { node { actor action } } } }"


class Live(NamedTuple):
    base: str
    site_id: int
    token: str


def _client(context: ssl.SSLContext) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(verify=context), timeout=30)


def _graphql(live: Live, pki: Pki, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    with _client(pki.client_context()) as client:
        response = client.post(
            f"{live.base}/graphql",
            json={"query": query, "variables": variables},
            headers={"x-api-key": live.token},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def live(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo federation served over HTTPS, verifying client certificates against the
    test CA; Jane's DN registered, allowed to write, at the first site by an administrator
    through GraphQL, as a site's editor would."""
    env = server_env(tmp_path_factory.mktemp("write"))
    cli_output(env, "migrate")
    cli_output(env, "seed", "--demo")
    token = cli_output(env, "admin", "issue-token", "--subject", ADMIN)
    cli_output(env, "admin", "make-admin", "--subject", ADMIN)
    extra = (
        *("--ssl-certfile", str(pki.server.cert_file), "--ssl-keyfile", str(pki.server.key_file)),
        *("--ssl-ca-certs", str(pki.ca_dir)),
    )
    with serving(env, scheme="https", verify=pki.client_context(), extra=extra) as base:
        with _client(pki.client_context()) as client:
            sites = client.get(f"{base}/gocdbpi/public/", params={"method": "get_site_list"})
        site_id = int(sites.text.split(' ID="', 1)[1].split('"', 1)[0])
        served = Live(base, site_id, token.splitlines()[-1].strip())
        variables = {
            "i": {
                "siteId": to_global_id("Site", site_id),
                "identifier": pki.valid.dn,
                "kind": "X509",
                "allowWrite": True,
            }
        }
        _graphql(served, pki, ADD, variables)
        yield served


def _write(live: Live, context: ssl.SSLContext, method: str) -> httpx.Response:
    path = f"{live.base}/gocdbpi/v5/Site/{live.site_id}/ExtensionProperties/api.x509"
    with _client(context) as client:
        return client.request(method, path, content=b'{"value": "by certificate"}')


def test_a_registered_certificate_writes_as_its_dn(live: Live, pki: Pki) -> None:
    assert _write(live, pki.client_context(pki.valid), "POST").status_code == 204
    again = _write(live, pki.client_context(pki.valid), "POST")  # it is there now
    assert again.status_code == 409, again.text
    assert again.json()["Error"]["Code"] == 409
    changes = _graphql(live, pki, CHANGES, {})["data"]["changes"]["edges"]
    assert {"actor": pki.valid.dn, "action": "site.set_property"} in [e["node"] for e in changes]


def test_other_certificates_and_none_are_403(live: Live, pki: Pki) -> None:
    for context in (pki.client_context(pki.other), pki.client_context()):
        response = _write(live, context, "PUT")
        assert response.status_code == 403, response.text
        assert response.json()["Error"]["Code"] == 403


def test_get_is_gocdbs_405(live: Live, pki: Pki) -> None:
    with _client(pki.client_context(pki.valid)) as client:
        response = client.get(f"{live.base}/gocdbpi/v5/Site/{live.site_id}/ExtensionProperties")
    assert response.status_code == 405
    assert response.json()["Error"]["Code"] == 405
