"""The console script, run as a newcomer would: a real server on loopback, real files."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.compat.tls import make_certificate
from tests.server import OPSGRAPH, run_cli, server_env, serving


def _env(tmp_path: Path) -> dict[str, str]:
    return server_env(tmp_path)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, *args)


METRICS_TOKEN = "scrape-secret"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    env = {**server_env(tmp_path), "OPSGRAPH_METRICS_TOKEN": METRICS_TOKEN}
    with serving(env, "--demo") as base:
        yield base


def test_serve_demo_answers_graphql_and_graphiql(served: str) -> None:
    assert httpx.get(f"{served}/readyz").status_code == 200
    page = httpx.get(f"{served}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    body = httpx.post(
        f"{served}/graphql",
        json={
            "query": "{ ngis { totalCount } sites(filter: {scopes: []}) "
            "{ totalCount nodes { services { endpoints { name } } } } }"
        },
    ).json()
    assert "errors" not in body, body
    assert body["data"]["ngis"]["totalCount"] >= 3
    assert body["data"]["sites"]["totalCount"] >= 30


def test_migrate_seed_and_check(tmp_path: Path, repo_root: Path) -> None:
    assert OPSGRAPH
    migrated = run(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    seeded = run(tmp_path, "seed", "--scale", "20")
    assert seeded.returncode == 0, seeded.stderr
    again = run(tmp_path, "seed", "--demo")
    assert again.returncode == 1
    assert "already holds" in again.stderr
    checked = subprocess.run(
        [OPSGRAPH, "check", "--schema-file", str(repo_root / "schema.graphql")],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    stale = tmp_path / "stale.graphql"
    stale.write_text("type Query { old: Int }\n")
    failed = run(tmp_path, "check", "--schema-file", str(stale))
    assert failed.returncode == 1
    assert "+type Query" in failed.stdout


def test_cli_reports_bad_configuration(tmp_path: Path) -> None:
    assert OPSGRAPH
    env = _env(tmp_path) | {"OPSGRAPH_MAX_PAGE_SIZE": "lots"}
    out = subprocess.run([OPSGRAPH, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "OPSGRAPH_MAX_PAGE_SIZE" in out.stderr


def test_admin_bootstrap(tmp_path: Path) -> None:
    assert OPSGRAPH
    assert run(tmp_path, "seed", "--demo").returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.db") as db:
        seeded_up_to = db.execute("SELECT MAX(id) FROM audit_entry").fetchone()[0]
    granted = run(
        tmp_path,
        "admin",
        "grant-role",
        "--subject",
        "boot@egi.eu",
        "--role",
        "NGI Operations Manager",
        "--ngi",
        "NGI_DE",
    )
    assert granted.returncode == 0, granted.stderr
    assert "GRANTED" in granted.stdout
    wrong = run(
        tmp_path,
        "admin",
        "grant-role",
        "--subject",
        "boot@egi.eu",
        "--role",
        "Site Administrator",
        "--ngi",
        "NGI_DE",
    )
    assert wrong.returncode == 1
    assert "roleType" in wrong.stderr
    missing = run(
        tmp_path,
        "admin",
        "grant-role",
        "--subject",
        "boot@egi.eu",
        "--role",
        "Site Administrator",
        "--site",
        "NO-SUCH-SITE",
    )
    assert missing.returncode == 1
    made = run(tmp_path, "admin", "make-admin", "--subject", "root@egi.eu")
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "cli.db") as db:
        admin = db.execute(
            "SELECT is_admin FROM user_account WHERE subject = 'root@egi.eu'"
        ).fetchone()
        audit = db.execute(
            "SELECT actor, action FROM audit_entry WHERE action IN ('role.granted', "
            "'user.make_admin') AND id > ? ORDER BY id",
            (seeded_up_to,),
        ).fetchall()
    assert admin == (1,)
    assert audit == [("opsgraph", "role.granted"), ("opsgraph", "user.make_admin")]


def test_serve_speaks_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert = make_certificate(tmp_path / "tls")
    tls = ("--ssl-certfile", str(cert.cert_file), "--ssl-keyfile", str(cert.key_file))
    ca = ssl.create_default_context(cafile=str(cert.ca_file))
    with serving(server_env(tmp_path), scheme="https", verify=ca, extra=tls) as base:
        assert base.startswith("https://")
        assert httpx.get(f"{base}/readyz", verify=ca).status_code == 200
        # verified against our CA, refused against the system's
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/healthz")


def test_serve_wants_certificate_and_key_together(tmp_path: Path) -> None:
    done = run(tmp_path, "serve", "--ssl-certfile", "x.pem")
    assert done.returncode == 2
    assert "--ssl-keyfile" in done.stderr
