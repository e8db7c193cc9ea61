"""Issue 10, points 5 and 6, against a real `opsgraph serve --demo` process: the change log
reveals no secret (masked where stored, and each caller reads only what they may read), and
a stream over a real WebSocket ends when its credential does (4401)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.auth.issuer import OIDCIssuer
from tests.server import run_cli, server_env, serving

WEBHOOK = "https://hooks.example.org/services/T0/B0/alice-webhook-secret"
MATTERMOST = "https://chat.example.org/hooks/other-project-hook-secret"
SECRETS = ("alice-webhook-secret", "other-project-hook-secret")
PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription { downtimeEvents { sequence kind } }"
CHANGES = """query($f: ChangeFilter, $after: String) {
  changes(filter: $f, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { actor action entityType entityName changes } } }"""


@dataclass
class Server:
    base: str
    database: Path
    issuer: OIDCIssuer

    def bearer(self, subject: str, *, expires_in: int = 3600) -> str:
        token = self.issuer.issue_access_token(
            {"sub": subject, "voperson_id": subject}, expires_in=expires_in
        )
        return f"Bearer {token}"

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={k.replace("_", "-"): v for k, v in headers.items()},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def changes(self, subject: str, filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every entry the caller reads, page after page."""
        nodes: list[dict[str, Any]] = []
        after = None
        auth = self.bearer(subject)
        while True:
            page = self.graphql(CHANGES, {"f": filter, "after": after}, authorization=auth)
            nodes += page["changes"]["nodes"]
            if not page["changes"]["pageInfo"]["hasNextPage"]:
                return nodes
            after = page["changes"]["pageInfo"]["endCursor"]

    def socket(self) -> ClientConnection:
        url = self.base.replace("http", "ws", 1) + "/graphql"
        return connect(url, subprotocols=[PROTOCOL], open_timeout=30)  # type: ignore[list-item]


def _cli(tmp: Path, env: dict[str, str], *args: str) -> str:
    done = run_cli(tmp, *args, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, oidc_issuer: OIDCIssuer) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("secrets")
    env = server_env(
        tmp,
        OPSGRAPH_OIDC_ISSUER=oidc_issuer.issuer,
        OPSGRAPH_STREAM_RECHECK_SECONDS="1",
    )
    # seeded first (under load that takes longer than `serving` waits for a server to
    # come up); `serve --demo` then finds the demo data there
    _cli(tmp, env, "seed", "--demo")
    with serving(env, "--demo") as base:
        live = Server(base, tmp / "cli.db", oidc_issuer)
        sites = live.graphql("{ sites(first: 2) { nodes { shortName } } }")["sites"]["nodes"]
        _cli(tmp, env, "admin", "make-admin", "--subject", "root@egi.eu")
        _cli(
            tmp,
            env,
            *("admin", "grant-role", "--subject", "site.admin@egi.eu"),
            *("--role", "Site Administrator", "--site", sites[1]["shortName"]),
        )
        _cli(tmp, env, "messaging", "create-project", "OTHER")
        other_key = _cli(
            tmp,
            env,
            *("messaging", "issue-token", "--subject", "other.admin@egi.eu"),
            *("--project", "OTHER", "--roles", "project_admin"),
        ).strip()
        # another user's downtime subscription with a webhook
        live.graphql(
            "mutation($i: SubscribeToDowntimesInput!) {"
            " subscribeToDowntimes(input: $i) { subscription { id } } }",
            {"i": {"name": "mine", "events": ["DECLARED"], "webhookUrl": WEBHOOK}},
            authorization=live.bearer("alice@egi.eu"),
        )
        # another project's Mattermost hook
        live.graphql(
            'mutation { createTopic(input: {project: "OTHER", name: "alerts"}) '
            "{ topic { name } } }",
            x_api_key=other_key,
        )
        live.graphql(
            "mutation($i: CreateSubscriptionInput!) "
            "{ createSubscription(input: $i) { subscription { name } } }",
            {
                "i": {
                    "project": "OTHER",
                    "name": "to-chat",
                    "topic": "alerts",
                    "pushConfig": {"type": "mattermost", "mattermostUrl": MATTERMOST},
                }
            },
            x_api_key=other_key,
        )
        yield live


def test_a_site_administrator_reads_no_other_users_or_projects_secrets(server: Server) -> None:
    seen = server.changes("site.admin@egi.eu")
    assert seen, "the site administrator reads the entries about their site"
    assert not any(secret in json.dumps(seen) for secret in SECRETS)
    kinds = {n["entityType"] for n in seen}
    assert not kinds & {"downtime_subscription", "msg_project", "msg_topic", "msg_subscription"}
    for kind in ("downtime_subscription", "msg_subscription"):
        assert server.changes("site.admin@egi.eu", {"entityType": kind}) == []


def test_the_stored_entries_are_masked(server: Server) -> None:
    with sqlite3.connect(server.database) as db:
        stored = [row[0] for row in db.execute("SELECT changes FROM audit_entry")]
    assert stored
    assert not any(secret in text for text in stored for secret in SECRETS)
    # a platform administrator reads them all, masked: where the hooks point, not the key
    webhook = server.changes("root@egi.eu", {"entityType": "downtime_subscription"})
    assert webhook[0]["changes"]["webhook_url"] == [None, "https://hooks.example.org/***"]
    hook = server.changes("root@egi.eu", {"entityType": "msg_subscription"})
    assert hook[0]["changes"]["mattermost_url"] == ["", "https://chat.example.org/***"]
    # and the owners read their own
    assert server.changes("alice@egi.eu", {"entityType": "downtime_subscription"}) != []
    assert len(server.changes("alice@egi.eu")) == 1


def _stream(socket: ClientConnection, init: dict[str, str]) -> None:
    socket.send(json.dumps({"type": "connection_init", "payload": init}))
    assert json.loads(socket.recv(timeout=30))["type"] == "connection_ack"
    socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
    socket.send(json.dumps({"type": "ping"}))
    assert json.loads(socket.recv(timeout=30)) == {"type": "pong"}  # the stream runs


def _close_code(socket: ClientConnection) -> int | None:
    """How the server ends the socket; a stream that goes on fails the test (30 s)."""
    try:
        while True:  # downtime events the demo's clock may produce are fine meanwhile
            message = json.loads(socket.recv(timeout=30))
            assert message["type"] == "next", message
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


def test_a_stream_ends_when_its_api_token_is_revoked(server: Server) -> None:
    owner = server.bearer("token.owner@egi.eu")
    created = server.graphql(
        'mutation { createApiToken(input: {name: "stream"}) { apiToken { id } secret } }',
        authorization=owner,
    )["createApiToken"]
    with server.socket() as socket:
        _stream(socket, {"x-api-key": created["secret"]})
        server.graphql(
            "mutation($id: ID!) "
            "{ revokeApiToken(input: {tokenId: $id}) { apiToken { revokedAt } } }",
            {"id": created["apiToken"]["id"]},
            authorization=owner,
        )
        assert _close_code(socket) == 4401


def test_a_stream_ends_when_its_token_expires(server: Server) -> None:
    with server.socket() as socket:
        _stream(socket, {"authorization": server.bearer("short@egi.eu", expires_in=3)})
        assert _close_code(socket) == 4401
