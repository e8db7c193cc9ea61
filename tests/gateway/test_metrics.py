"""GET /metrics (gateway/metrics.py): counters that move with requests, labels that stay
bounded whatever callers send, and the token that guards the page."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from gateway.metrics import route_group
from tests.conftest import AppFactory, GraphQLClient
from tests.websocket import receive_json

TOKEN = "s3cret-scrape-token"
TRUSTED = "query TrustedNgis { ngis(first: 1) { totalCount } }"
AD_HOC = "query MadeUpName { ngis(first: 1) { totalCount } }"


def _manifest(tmp_path: Path, *documents: str) -> str:
    path = tmp_path / "persisted-documents.json"
    digests = {f"sha256:{hashlib.sha256(d.encode()).hexdigest()}": d for d in documents}
    path.write_text(json.dumps(digests))
    return str(path)


def _scrape(client: GraphQLClient) -> dict[str, float]:
    response = client.client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples: dict[str, float] = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def _post(client: GraphQLClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.client.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_requests_operations_errors_and_statements_are_counted_with_bounded_labels(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(
        metrics_token=TOKEN, trusted_documents_manifest=_manifest(tmp_path, TRUSTED)
    )
    before = _scrape(client)
    assert before['opsgraph_persisted_queries_total{result="hit"}'] == 0

    assert "errors" not in _post(client, {"query": TRUSTED})
    digest = hashlib.sha256(TRUSTED.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    assert "errors" not in _post(client, by_hash)
    assert "errors" not in _post(client, {"query": AD_HOC})
    unknown = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    assert _post(client, unknown)["errors"][0]["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    bad = _post(client, {"query": "query Broken { noSuchField }"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert client.client.get("/healthz").status_code == 200
    assert client.client.get("/v1/no-such-thing").status_code == 404

    after = _scrape(client)
    ops = "opsgraph_graphql_operations_total"
    assert after[f'{ops}{{operation="TrustedNgis",outcome="ok"}}'] == 2
    # an ad-hoc document is `other` whatever it calls itself; so are refused ones
    assert after[f'{ops}{{operation="other",outcome="ok"}}'] == 1
    assert after[f'{ops}{{operation="other",outcome="error"}}'] == 2
    assert not any("MadeUpName" in name or "Broken" in name for name in after)
    errors = "opsgraph_graphql_errors_total"
    assert after[f'{errors}{{code="PERSISTED_QUERY_NOT_FOUND"}}'] == 1
    assert after[f'{errors}{{code="BAD_USER_INPUT"}}'] == 1
    assert after['opsgraph_persisted_queries_total{result="hit"}'] == 1
    assert after['opsgraph_persisted_queries_total{result="miss"}'] == 1
    http = "opsgraph_http_requests_total"
    assert after[f'{http}{{method="POST",route="graphql",status="2xx"}}'] == 5
    assert after[f'{http}{{method="GET",route="health",status="2xx"}}'] == 1
    assert after[f'{http}{{method="GET",route="ams",status="4xx"}}'] == 1
    assert after['opsgraph_http_request_duration_seconds_count{route="graphql"}'] == 5
    assert after['opsgraph_graphql_operation_duration_seconds_count{operation="TrustedNgis"}'] == 2
    # the three that ran read the database; every request is observed
    assert after["opsgraph_graphql_sql_statements_count"] == 5
    assert after["opsgraph_graphql_sql_statements_sum"] >= 3
    assert after["opsgraph_db_pool_checked_out"] >= 0
    assert after["opsgraph_outbox_backlog"] >= 0
    assert after["opsgraph_outbox_oldest_age_seconds"] >= 0
    # every label value is from a fixed set
    labels = {m for name in after for m in re.findall(r'(\w+)="([^"]*)"', name)}
    assert {value for key, value in labels if key == "route"} <= {
        "graphql",
        "ams",
        "argo",
        "gocdbpi",
        "accounting",
        "feeds",
        "health",
        "app",
        "other",
    }


def test_registrations_are_counted(make_client: AppFactory) -> None:
    client = make_client(metrics_token=TOKEN)
    document = "query Registered { __typename }"
    digest = hashlib.sha256(document.encode()).hexdigest()
    extension = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    assert "errors" not in _post(client, {"query": document, "extensions": extension})
    assert _scrape(client)['opsgraph_persisted_queries_total{result="registered"}'] == 1


def test_metrics_need_the_token_and_are_absent_without_one(make_client: AppFactory) -> None:
    guarded = make_client(metrics_token=TOKEN)
    assert guarded.client.get("/metrics").status_code == 401
    for wrong in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
        refused = guarded.client.get("/metrics", headers={"authorization": wrong})
        assert refused.status_code == 401, wrong
        assert "opsgraph_" not in refused.text
    unconfigured = make_client()
    answer = unconfigured.client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404


def test_route_groups_are_a_fixed_set() -> None:
    assert route_group("/graphql") == "graphql"
    assert route_group("/v1/projects/p/topics") == "ams"
    assert route_group("/api/v2/results") == "argo"
    assert route_group("/gocdbpi/public/") == "gocdbpi"
    assert route_group("/accounting/egi/x") == "accounting"
    assert route_group("/feeds/downtimes.ics") == "feeds"
    assert route_group("/readyz") == "health"
    assert route_group("/sites/INFN-T1") == "app"
    assert route_group("/metrics") == "other"
    assert route_group("/graphqlx") == "app"


def test_websocket_subscribes_and_their_replies_are_counted(
    make_client: AppFactory, tmp_path: Path
) -> None:
    client = make_client(
        metrics_token=TOKEN,
        trusted_documents="only",
        trusted_documents_manifest=_manifest(tmp_path, TRUSTED),
    )
    digest = hashlib.sha256(TRUSTED.encode()).hexdigest()
    by_hash = {"query": "", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    with client.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert receive_json(ws)["type"] == "connection_ack"
        assert _scrape(client)["opsgraph_ws_connections"] == 1
        ad_hoc = "subscription Mine { statusChanges { __typename } }"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": ad_hoc}})
        assert receive_json(ws)["type"] == "error"  # refused: not a trusted document
        ws.send_json({"id": "2", "type": "subscribe", "payload": by_hash})
        assert receive_json(ws)["type"] == "error"  # trusted, but a query: not over the socket
    after = _scrape(client)
    subscribes = "opsgraph_ws_subscribes_total"
    assert after[f'{subscribes}{{operation="other",outcome="refused"}}'] == 1
    assert after[f'{subscribes}{{operation="TrustedNgis",outcome="accepted"}}'] == 1
    sent = "opsgraph_ws_messages_sent_total"
    assert after[f'{sent}{{operation="other",type="error"}}'] == 1
    assert after[f'{sent}{{operation="TrustedNgis",type="error"}}'] == 1
    assert not any("Mine" in name for name in after)
    assert after["opsgraph_ws_connections"] == 0
