"""A newcomer's first minutes, against a real `opsgraph serve`: the demo personas and their
tokens, a personal token from the CLI, a busy port, and the login routes' trust in Host."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.server import run_cli, server_env, serving

VIEWER = "{ viewer { subject name email isAdmin } }"
PERSONA_KEYS = {"admin", "ngi-manager", "site-admin", "vo-member"}


def _graphql(base: str, token: str, query: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql", json={"query": query}, headers={"x-api-key": token}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


def _personas(path: Path) -> dict[str, dict[str, str]]:
    return {p["key"]: p for p in json.loads(path.read_text())["personas"]}


def _log_records(output: Path) -> list[str]:
    """The structured log lines (JSON objects) among what the server printed."""
    records = []
    for line in output.read_text().splitlines():
        if line.startswith("{"):
            records.append(line)
    return records


def test_demo_personas_work_everywhere_and_survive_a_restart(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    personas_path = tmp_path / "cli.db.personas.json"
    first_output = tmp_path / "first.log"
    with serving(env, "--demo", output=first_output) as base:
        assert stat.S_IMODE(personas_path.stat().st_mode) == 0o600
        personas = _personas(personas_path)
        assert set(personas) == PERSONA_KEYS
        for persona in personas.values():
            assert persona["name"]
            assert "@" in persona["email"]
            viewer = _graphql(base, persona["token"], VIEWER)["data"]["viewer"]
            assert viewer["subject"] == persona["subject"]
            assert viewer["name"] == persona["name"]
            assert viewer["email"] == persona["email"]
            assert viewer["isAdmin"] is (persona["key"] == "admin")
            # the AMS routes and the personal feed take the same token
            profile = httpx.get(
                f"{base}/v1/users/profile", params={"key": persona["token"]}, timeout=30
            )
            assert profile.status_code == 200, profile.text
            feed = httpx.get(
                f"{base}/feeds/downtimes.json",
                params={"mine": "true", "token": persona["token"]},
                timeout=30,
            )
            assert feed.status_code == 200, feed.text
        # each persona holds what it says: the site administrator edits INFN-T1's downtimes,
        # the NGI manager NGI_DE's sites, the VO member publishes in the VO's project
        roles = _graphql(
            base, personas["site-admin"]["token"], "{ viewer { roles { roleType entityName } } }"
        )["data"]["viewer"]["roles"]
        assert {"roleType": "Site Administrator", "entityName": "INFN-T1"} in roles
        roles = _graphql(
            base, personas["ngi-manager"]["token"], "{ viewer { roles { roleType entityName } } }"
        )["data"]["viewer"]["roles"]
        assert {"roleType": "NGI Operations Manager", "entityName": "NGI_DE"} in roles
        vo = httpx.get(
            f"{base}/v1/projects/biomed/topics", params={"key": personas["vo-member"]["token"]}
        )
        assert vo.status_code == 200, vo.text
    # shown on the console, never in a log record
    printed = first_output.read_text()
    for persona in personas.values():
        assert persona["token"] in printed
        assert not any(persona["token"] in record for record in _log_records(first_output))

    # a restart reuses the file and its tokens
    before = personas_path.read_text()
    with serving(env, "--demo") as base:
        assert personas_path.read_text() == before
        _graphql(base, personas["admin"]["token"], VIEWER)


def test_lost_personas_file_gives_new_tokens_and_revokes_the_old(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    personas_path = tmp_path / "cli.db.personas.json"
    seeded = run_cli(tmp_path, "seed", "--demo", env=env)
    assert seeded.returncode == 0, seeded.stderr
    old = _personas(personas_path)
    personas_path.unlink()
    with serving(env, "--demo") as base:
        new = _personas(personas_path)
        assert {k: p["token"] for k, p in new.items()} != {k: p["token"] for k, p in old.items()}
        _graphql(base, new["vo-member"]["token"], VIEWER)
        refused = httpx.post(
            f"{base}/graphql",
            json={"query": VIEWER},
            headers={"x-api-key": old["vo-member"]["token"]},
        ).json()
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_admin_issue_token_gives_a_personal_token(tmp_path: Path) -> None:
    env = server_env(tmp_path)
    issued = run_cli(tmp_path, "admin", "issue-token", "--subject", "robot@example.org", env=env)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    with serving(env) as base:
        viewer = _graphql(base, token, VIEWER)["data"]["viewer"]
        assert viewer["subject"] == "robot@example.org"
        # a personal token, not a messaging membership
        profile = httpx.get(f"{base}/v1/users/profile", params={"key": token}).json()
        assert profile["projects"] == []
    expired = run_cli(
        tmp_path, "admin", "issue-token", "--subject", "x", "--expires-in-days", "0", env=env
    )
    assert expired.returncode == 2


def test_a_busy_port_fails_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port), "--demo")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    # nothing started: no database was even created, let alone migrated or seeded
    assert not (tmp_path / "cli.db").exists()


def test_login_without_a_public_url_is_refused_beyond_loopback(tmp_path: Path) -> None:
    env = server_env(
        tmp_path,
        OPSGRAPH_OIDC_ISSUER="https://issuer.invalid",
        OPSGRAPH_OIDC_CLIENT_ID="gateway",
        OPSGRAPH_OIDC_CLIENT_SECRET="secret",
        OPSGRAPH_SESSION_SECRET="session-secret",
    )
    result = run_cli(tmp_path, "serve", "--host", "0.0.0.0", "--port", "9", env=env)
    assert result.returncode == 2
    assert "OPSGRAPH_PUBLIC_URL" in result.stderr
