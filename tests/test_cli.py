"""The console script, run as a newcomer would: a real server on loopback, real files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

# The console script installed beside the interpreter that runs the tests.
_SCRIPT = Path(sys.executable).parent / "opsgraph"
OPSGRAPH = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("opsgraph") or "")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
    env["OPSGRAPH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPSGRAPH, *args], env=_env(tmp_path), capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    assert OPSGRAPH, "the opsgraph console script is not installed"
    port = _free_port()
    proc = subprocess.Popen(
        [OPSGRAPH, "serve", "--demo", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"server did not come up: {out}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()


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
    import sqlite3

    with sqlite3.connect(tmp_path / "cli.db") as db:
        admin = db.execute(
            "SELECT is_admin FROM user_account WHERE subject = 'root@egi.eu'"
        ).fetchone()
        audit = db.execute(
            "SELECT actor, action FROM audit_entry WHERE action IN ('role.granted', "
            "'user.make_admin') ORDER BY id"
        ).fetchall()
    assert admin == (1,)
    assert audit == [("opsgraph", "role.granted"), ("opsgraph", "user.make_admin")]
