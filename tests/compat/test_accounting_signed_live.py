"""Signed APEL messages through a real `opsgraph serve` as SSM sends them: the administrator
makes the accounting project, topic and loader subscription over AMS's REST routes, S/MIME
messages are published to the topic, and the embedded accounting worker (its interval
shortened) verifies them against a CA directory holding the CA's CRL: the registered APEL
host's records reach the portal, and an unknown signer's and a revoked signer's messages
reach the reject store, read back over GraphQL."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import time
from pathlib import Path

import httpx2 as httpx

from tests.accounting.test_intake import records, sign
from tests.compat.tls import make_pki
from tests.server import copy_demo, server_env, serving

APEL_HOST = """SELECT s.host_dn, site.short_name FROM service s
JOIN service_type t ON t.id = s.service_type_id JOIN site ON site.id = s.site_id
WHERE t.name = 'gLite-APEL' AND s.host_dn <> '' ORDER BY s.id LIMIT 1"""
REJECTS = """{ accountingRejects { totalCount nodes { sender messageId
  rule reason } } }"""
TOPIC = "/v1/projects/accounting/topics/gLite-APEL"


def test_signed_messages_published_to_ams_are_loaded_or_rejected(
    demo_database: Path, tmp_path: Path
) -> None:
    pki = make_pki(tmp_path / "pki")
    ca_path = tmp_path / "certificates"  # as fetch-crl leaves it: <hash>.0 and <hash>.r0
    shutil.copytree(pki.ca_dir, ca_path)
    for crl in pki.crl_dir.iterdir():
        shutil.copy(crl, ca_path)
    database = copy_demo(demo_database, tmp_path, demo_accounting=False)
    with sqlite3.connect(database) as db:
        dn, site = db.execute(APEL_HOST).fetchone()
    personas = json.loads((tmp_path / "cli.db.personas.json").read_text())["personas"]
    token = next(p["token"] for p in personas if p["key"] == "admin")
    host = pki.issue("apel-host", dn)
    messages = [
        ("ok-1", sign(records(site, "1", "2"), host.cert_file, host.key_file)),
        ("stranger-1", sign(records(site, "3"), pki.other.cert_file, pki.other.key_file)),
        # refused for its CRL entry before its (unregistered) DN is looked at
        ("revoked-1", sign(records(site, "4"), pki.revoked.cert_file, pki.revoked.key_file)),
    ]
    env = server_env(
        tmp_path,
        OPSGRAPH_ACCOUNTING_CA_PATH=str(ca_path),
        OPSGRAPH_ACCOUNTING_INGEST_INTERVAL="0.2",
    )
    with (
        serving(env) as base,
        httpx.Client(base_url=base, timeout=60, headers={"x-api-key": token}) as client,
    ):
        assert client.post("/v1/projects/accounting", json={}).status_code == 200
        assert client.put(TOPIC).status_code == 200
        sub = {"topic": "projects/accounting/topics/gLite-APEL"}
        assert client.put("/v1/projects/accounting/subscriptions/loader", json=sub).is_success
        body = {
            "messages": [
                {"data": base64.b64encode(data).decode(), "attributes": {"empaid": empaid}}
                for empaid, data in messages
            ]
        }
        published = client.post(f"{TOPIC}:publish", json=body)
        assert published.status_code == 200, published.text

        portal = f"/accounting/egi/site/{site}/njobs/VO/DATE/2026/11/2026/11/all/onlyinfrajobs/JSON"
        deadline = time.monotonic() + 60
        while True:
            rows = {item["id"]: item for item in client.get(portal).json()}
            rejects = client.post("/graphql", json={"query": REJECTS}).json()["data"]
            if ("atlas" in rows and rejects["accountingRejects"]["totalCount"] == 2) or (
                time.monotonic() > deadline
            ):
                break
            time.sleep(0.2)
        assert rows["atlas"]["2026-11"] == 2  # the two records of ok-1, not the others'
        found = {n["messageId"]: n for n in rejects["accountingRejects"]["nodes"]}
        assert (found["stranger-1"]["sender"], found["stranger-1"]["rule"]) == (
            pki.other.dn,
            "ACCOUNTING_SIGNER_NOT_VALID",
        )
        assert found["revoked-1"]["rule"] == "ACCOUNTING_SIGNER_REVOKED"
        assert "revoked" in found["revoked-1"]["reason"]
