"""Run the installed `opsgraph` console script as a real server on loopback: for the tests
and for the benchmarks (`python -m benchmarks.<name>` from the repository's root)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
    assert opsgraph, "the opsgraph console script is not installed"
    port = free_port()
    if output is None:
        fd, name = tempfile.mkstemp(prefix="opsgraph-serve-", suffix=".log")
        os.close(fd)
        log_file, temporary = Path(name), True
    else:
        log_file, temporary = output, False
    with log_file.open("w") as sink:
        proc = subprocess.Popen(
            [opsgraph, "serve", "--port", str(port), *args, *extra],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded 2-core machine starts slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1, verify=verify).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=20)
                # an AssertionError: a failed test, or a benchmark's traceback
                raise AssertionError(f"server did not come up: {log_file.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()  # a server that does not stop fails its test, and is not left behind
            proc.wait(timeout=20)
            raise
        finally:
            if temporary:
                log_file.unlink(missing_ok=True)
