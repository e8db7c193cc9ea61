"""Monitoring's GraphQL on a real `opsgraph serve --demo` process (the demo server the session
shares): the catalogue and the demo's week of results as a client reads them over HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx2 as httpx


def _graphql(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_the_demo_catalogue_and_statuses_over_http(demo_server: str, demo_database: Path) -> None:
    reports = _graphql(
        demo_server,
        "{ monitoringProfiles(filter: {kind: REPORT}, first: 20) { nodes { name kind } } }",
    )["monitoringProfiles"]["nodes"]
    assert {"name": "Critical", "kind": "REPORT"} in reports

    with sqlite3.connect(demo_database) as db:  # what the demo seeded, read beside the server
        hostname, service_type, metric, status = db.execute(
            "SELECT hostname, service_type, metric, status FROM monitoring_metric_status "
            "ORDER BY hostname, service_type, metric LIMIT 1"
        ).fetchone()
    statuses = _graphql(
        demo_server,
        "query($h: String!, $t: String) { metricStatuses(hostname: $h, serviceType: $t) "
        "{ nodes { metric status } } }",
        {"h": hostname, "t": service_type},
    )["metricStatuses"]["nodes"]
    assert {"metric": metric, "status": status} in statuses
