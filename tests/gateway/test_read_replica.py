"""OPSGRAPH_DATABASE_READ_URL against a real PostgreSQL streaming standby: a primary and a
standby made by the test (`initdb`, `pg_basebackup -R`, a second `postgres` on another
port), a real `opsgraph serve --processes 2` on both. With the standby's replay paused, an anonymous
caller and a signed-in caller who wrote nothing still read the old value (only the standby
has it), while the writer reads their own write (from the primary); once replay resumes,
everyone reads it; the same for a REST GET (GOCDB's get_roc_list); with the standby
stopped, reads still succeed (on the primary)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from domains.common.db import make_engine, make_session_factory, unit_of_work
from domains.common.identity import PLATFORM
from domains.identity import service as identity
from domains.identity.service import tokens
from domains.topology.service.writes.ngis import create_ngi
from gateway import migrate
from tests.server import free_port, opsgraph_env, serving

_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
pytestmark = pytest.mark.skipif(not _BIN, reason="PostgreSQL's server binaries are not installed")

ADMIN, READER = "admin@egi.eu", "reader@egi.eu"
CREATE = """mutation($i: CreateMonitoringProbeInput!) {
  createMonitoringProbe(input: $i) { probe { id } } }"""
UPDATE = """mutation($i: UpdateMonitoringProbeInput!) {
  updateMonitoringProbe(input: $i) { probe { description } } }"""
READ = "query($id: ID!) { node(id: $id) { ... on MonitoringProbe { description } } }"


class Cluster(NamedTuple):
    directory: Path
    primary: int
    standby: int


def _as_postgres(*command: str, check: bool = True) -> None:
    """`command` as the postgres user when run as root (PostgreSQL refuses root), in a
    directory that user may enter."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, timeout=120, cwd="/", check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed: {done.stderr}")


def _url(port: int, database: str = "opsgraph") -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


def _sql(port: int, statement: str) -> Any:
    engine = create_engine(_url(port), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return connection.execute(text(statement)).scalar()
    finally:
        engine.dispose()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = Path(_BIN[-1]).parent
    directory = Path(tempfile.mkdtemp(prefix="opsgraph-replica-"))
    if os.geteuid() == 0:
        os.chown(directory, pwd.getpwnam("postgres").pw_uid, -1)
    primary, standby = free_port(), free_port()
    started: list[Path] = []
    try:
        _as_postgres(
            str(bin_dir / "initdb"),
            "-D",
            str(directory / "p"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
        )
        with (directory / "p" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {primary}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{directory}'\nfsync = off\n"
            )
        for data, port in (("p", primary), ("s", standby)):
            if data == "s":  # a copy of the primary that streams its WAL (-R: standby.signal)
                _as_postgres(
                    *(str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary)),
                    *("-U", "postgres", "-D", str(directory / "s"), "-R", "-X", "stream"),
                    *("--checkpoint", "fast", "--no-sync"),
                )
            _as_postgres(
                *(str(bin_dir / "pg_ctl"), "-D", str(directory / data), "-w", "-l"),
                *(str(directory / f"{data}.log"), "-o", f"-p {port}", "start"),
            )
            started.append(directory / data)
            if data == "p":
                server = create_engine(_url(primary, "postgres"), isolation_level="AUTOCOMMIT")
                with server.connect() as connection:
                    connection.execute(text("CREATE DATABASE opsgraph"))
                server.dispose()
        yield Cluster(directory, primary, standby)
    finally:
        for running in reversed(started):
            _as_postgres(
                str(bin_dir / "pg_ctl"), "-D", str(running), "-m", "immediate", "stop", check=False
            )
        shutil.rmtree(directory, ignore_errors=True)


def _tokens(url: str) -> tuple[str, str]:
    """The schema on the primary, and API tokens of an administrator and of a reader (what
    `opsgraph migrate`, `admin issue-token` and `admin make-admin` do, without their start)."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with unit_of_work(make_session_factory(engine)) as session:
            _, admin = tokens.create_api_token(session, PLATFORM, name="t", user_subject=ADMIN)
            identity.make_admin(session, PLATFORM, subject=ADMIN)
            _, reader = tokens.create_api_token(session, PLATFORM, name="t", user_subject=READER)
    finally:
        engine.dispose()
    return admin, reader


def _ngi_elsewhere(url: str, name: str) -> None:
    """An NGI written on the primary by someone other than the server's callers."""
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            create_ngi(session, PLATFORM, name=name)
    finally:
        engine.dispose()


def _rocs(base: str) -> str:
    """GOCDB's REST `get_roc_list`, read anonymously."""
    response = httpx.get(f"{base}/gocdbpi/public/", params={"method": "get_roc_list"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def _graphql(base: str, query: str, variables: dict[str, Any], token: str | None) -> Any:
    headers = {} if token is None else {"x-api-key": token}
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _caught_up(cluster: Cluster) -> None:
    """Waits until the standby has replayed all the primary has written so far."""
    target = _sql(cluster.primary, "SELECT pg_current_wal_lsn()::text")
    for _ in range(300):
        if _sql(cluster.standby, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            return
        time.sleep(0.1)
    raise AssertionError("the standby did not catch up in 30 s")


def test_reads_go_to_the_standby_and_writers_read_their_writes(cluster: Cluster) -> None:
    env = opsgraph_env(
        _url(cluster.primary),
        OPSGRAPH_DATABASE_READ_URL=_url(cluster.standby),
        OPSGRAPH_SHUTDOWN_TIMEOUT="2",
    )
    admin, reader = _tokens(_url(cluster.primary))
    # two processes: a caller's requests reach either, and both know of their writes
    with serving(env, "--processes", "2") as base:
        probe = {"name": "replica", "version": "1", "kind": "PLUGIN", "command": ["true"]}
        created = _graphql(base, CREATE, {"i": {**probe, "description": "before"}}, admin)
        node = {"id": created["createMonitoringProbe"]["probe"]["id"]}
        # the reader's first request records their token's use: a write of theirs, which
        # they read from the primary until the standby has it (the next lines wait for that)
        assert _graphql(base, READ, node, reader)["node"] == {"description": "before"}
        _caught_up(cluster)
        _sql(cluster.standby, "SELECT pg_wal_replay_pause()")

        changed = {"i": {**node, "description": "after"}}
        assert _graphql(base, UPDATE, changed, admin)["updateMonitoringProbe"]["probe"] == {
            "description": "after"
        }
        assert _graphql(base, READ, node, admin)["node"] == {"description": "after"}
        # only the paused standby still has the old value
        assert _graphql(base, READ, node, None)["node"] == {"description": "before"}
        assert _graphql(base, READ, node, reader)["node"] == {"description": "before"}
        _ngi_elsewhere(_url(cluster.primary), "REPLICA_NGI")  # a REST GET reads the standby
        assert "REPLICA_NGI" not in _rocs(base)

        _sql(cluster.standby, "SELECT pg_wal_replay_resume()")
        _caught_up(cluster)
        for token in (None, reader, admin):  # none of the standby's old answers was kept
            assert _graphql(base, READ, node, token)["node"] == {"description": "after"}
        assert "REPLICA_NGI" in _rocs(base)

        bin_dir = Path(_BIN[-1]).parent
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(cluster.directory / "s"), "stop")
        for token in (None, reader, admin):  # the primary answers while the standby is gone
            assert _graphql(base, READ, node, token)["node"] == {"description": "after"}
        assert "REPLICA_NGI" in _rocs(base)
