"""Run the installed `opsgraph` console script as a real server on loopback: for the tests
and for the benchmarks (`python -m benchmarks.<name>` from the repository's root)."""

from __future__ import annotations

import os
import random
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

import httpx2 as httpx

# The console script installed beside the interpreter that runs the tests.
_SCRIPT = Path(sys.executable).parent / "opsgraph"
OPSGRAPH = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("opsgraph") or "")


def opsgraph_env(database_url: str, **extra: str) -> dict[str, str]:
    """The caller's environment without its OPSGRAPH_* settings, on `database_url`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
    env["OPSGRAPH_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """`opsgraph_env` on a fresh SQLite file, stopping within 2 s."""
    return opsgraph_env(
        f"sqlite:///{tmp_path / 'cli.db'}", **{"OPSGRAPH_SHUTDOWN_TIMEOUT": "2", **extra}
    )


def copy_demo(database: Path, directory: Path, *, demo_accounting: bool = True) -> Path:
    """A copy of a seeded demo database (and its personas' file) in `directory`, as
    `server_env(directory)` expects it; the copy's path. `demo_accounting=False`: without
    the demo's accounting (its summaries, job records and the sites' last publications: a
    year ending this month, so they move with the date), for a test that reads back exact
    figures of its own."""
    target = directory / "cli.db"
    shutil.copyfile(database, target)
    if not demo_accounting:
        with closing(sqlite3.connect(target)) as connection, connection:
            # a fresh demo's accounting rows are all the demo's
            connection.execute("DELETE FROM accounting_grid_summary")
            connection.execute("DELETE FROM accounting_job")
            connection.execute("DELETE FROM accounting_publication")
    personas = database.parent / "cli.db.personas.json"
    if personas.exists():
        shutil.copyfile(personas, directory / "cli.db.personas.json")
        os.chmod(directory / "cli.db.personas.json", 0o600)
    return target


def _outside_ephemeral_range() -> range:
    """The ports the kernel never hands out by itself: an outgoing connection takes its local
    port from `ip_local_port_range`, and one that took a port a test had found free a moment
    before made the test's server fail with "address already in use" (CI, stop 21)."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    below, above = range(10000, max(10000, low)), range(high + 1, 65536)
    return below if len(below) >= len(above) else above


_PORTS = _outside_ephemeral_range()


def free_port() -> int:
    """A port free now for a server the test starts next, outside the kernel's ephemeral
    range. Under pytest-xdist each worker takes only ports of its own residue class (port mod
    the worker count), so that two workers that each find a port free and start a server on
    it a moment later never pick the same one."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    mine = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % workers
    mine_in_range = [p for p in _PORTS if p % workers == mine]
    for port in random.sample(mine_in_range, 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # a server (or a connection in TIME_WAIT) holds it
        return port
    raise AssertionError(f"no free port among 200 tried in {_PORTS}")


class CommandFailed(AssertionError):
    """An `opsgraph` command exited with an error (its stderr is the message)."""


def cli_output(env: dict[str, str], *args: str, opsgraph: str = OPSGRAPH) -> str:
    """What `opsgraph ARGS` printed, stripped; CommandFailed if it failed. `opsgraph`:
    another installation's console script (a benchmark comparing two checkouts)."""
    assert opsgraph, "the opsgraph console script is not installed"
    done = subprocess.run(
        [opsgraph, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise CommandFailed(f"opsgraph {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def run_cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPSGRAPH, *args],
        env=env or server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )


@contextmanager
def serving(
    env: dict[str, str],
    *args: str,
    scheme: str = "http",
    verify: ssl.SSLContext | bool = True,
    extra: Sequence[str] = (),
    output: Path | None = None,
    opsgraph: str = OPSGRAPH,
) -> Iterator[str]:
    """`opsgraph serve` in a subprocess; yields its base URL once /healthz answers. What the
    server prints goes to `output` (a temporary file if not given): a pipe nobody reads
    would stall a chatty server once its buffer filled."""
    with serving_process(
        env, *args, scheme=scheme, verify=verify, extra=extra, output=output, opsgraph=opsgraph
    ) as (base, _proc):
        yield base


@contextmanager
def serving_process(
    env: dict[str, str],
    *args: str,
    scheme: str = "http",
    verify: ssl.SSLContext | bool = True,
    extra: Sequence[str] = (),
    output: Path | None = None,
    opsgraph: str = OPSGRAPH,
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`serving`, yielding the process too: for a test that kills the server itself."""
    assert opsgraph, "the opsgraph console script is not installed"
    if output is None:
        fd, name = tempfile.mkstemp(prefix="opsgraph-serve-", suffix=".log")
        os.close(fd)
        log_file, temporary = Path(name), True
    else:
        log_file, temporary = output, False
    try:
        for attempt in range(3):
            port = free_port()
            with log_file.open("w") as sink:
                proc = subprocess.Popen(
                    [opsgraph, "serve", "--port", str(port), *args, *extra],
                    env=env,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            base = f"{scheme}://127.0.0.1:{port}"
            if _healthy(proc, base, verify):
                break
            printed = log_file.read_text()
            # another process took the port between free_port and the server's bind
            if attempt < 2 and "address already in use" in printed:
                continue
            # an AssertionError: a failed test, or a benchmark's traceback
            raise AssertionError(f"server did not come up: {printed}")
        with _stopped_at_exit(proc):
            yield base, proc
    finally:
        if temporary:
            log_file.unlink(missing_ok=True)


def _healthy(proc: subprocess.Popen[str], base: str, verify: ssl.SSLContext | bool) -> bool:
    """Waits until the server's /healthz answers (True), or until it exits or takes longer
    than a loaded 2-core machine's slowest start, when it is killed (False)."""
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1, verify=verify).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=20)
            return False
        time.sleep(0.2)


@contextmanager
def _stopped_at_exit(proc: subprocess.Popen[str]) -> Iterator[None]:
    """Terminates the server when the block ends; one that does not stop within 20 s is
    killed and fails its test, so it is never left behind."""
    try:
        yield
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
            raise
