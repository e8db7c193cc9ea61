"""AMS's `authx509` route against a real `opsgraph serve` with TLS and client certificates,
called by argo-ams-library itself as an SSM sender without a token calls it: the host
certificate of a registered accounting service (a demo gLite-APEL host) gets a token, and
the library publishes with it. tests/accounting/test_hosttokens.py covers the rest
in-process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from argo_ams_library import AmsMessage, ArgoMessagingService

from tests.compat.tls import make_pki
from tests.server import cli_output, copy_demo, server_env, serving

APEL_HOST = """SELECT s.host_dn FROM service s JOIN service_type t ON t.id = s.service_type_id
WHERE t.name = 'gLite-APEL' AND s.host_dn <> '' ORDER BY s.id LIMIT 1"""


def test_an_apel_host_gets_a_token_with_its_certificate_and_publishes(
    demo_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = make_pki(tmp_path / "pki")
    database = copy_demo(demo_database, tmp_path)
    with sqlite3.connect(database) as db:
        (dn,) = db.execute(APEL_HOST).fetchone()
    host = pki.issue("apel-host", dn)
    env = server_env(tmp_path)
    cli_output(env, "messaging", "create-project", "accounting")
    admin = cli_output(
        env, "messaging", "issue-token", "--subject", "acct@egi.eu", "--project", "accounting",
        "--roles", "project_admin",
    )  # fmt: skip
    tls = (
        "--ssl-certfile", str(pki.server.cert_file), "--ssl-keyfile", str(pki.server.key_file),
        "--ssl-ca-certs", str(pki.ca_dir),
    )  # fmt: skip
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki.ca_file))  # how requests trusts a CA
    with serving(env, scheme="https", verify=pki.client_context(), extra=tls) as base:
        endpoint = base.removeprefix("https://")
        operator = ArgoMessagingService(endpoint=endpoint, token=admin, project="accounting")
        operator.create_topic("apel")
        operator.create_sub("loader", "apel")
        # the library calls https://{endpoint}:{authn_port}/v1/service-types/ams/hosts/…
        port = int(endpoint.rsplit(":", 1)[1])
        sender = ArgoMessagingService(
            endpoint="127.0.0.1",
            project="accounting",
            cert=str(host.cert_file),
            key=str(host.key_file),
            authn_port=port,
        )
        assert len(sender.token) == 40
        publisher = ArgoMessagingService(
            endpoint=endpoint, token=sender.token, project="accounting"
        )
        sent = publisher.publish("apel", AmsMessage(data="APEL-summary-job-message: v0.2"))
        assert sent == {"messageIds": ["0"]}
