"""Run the installed `opsgraph` console script as a real server on loopback."""

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
import pytest

# The console script installed beside the interpreter that runs the tests.
_SCRIPT = Path(sys.executable).parent / "opsgraph"
OPSGRAPH = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("opsgraph") or "")


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without OPSGRAPH_* settings, on a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
    env["OPSGRAPH_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["OPSGRAPH_SHUTDOWN_TIMEOUT"] = "2"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


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
) -> Iterator[str]:
    """`opsgraph serve` in a subprocess; yields its base URL once /healthz answers. What the
    server prints goes to `output` (a temporary file if not given): a pipe nobody reads
    would stall a chatty server once its buffer filled."""
    assert OPSGRAPH, "the opsgraph console script is not installed"
    port = free_port()
    if output is None:
        fd, name = tempfile.mkstemp(prefix="opsgraph-serve-", suffix=".log")
        os.close(fd)
        log_file, temporary = Path(name), True
    else:
        log_file, temporary = output, False
    with log_file.open("w") as sink:
        proc = subprocess.Popen(
            [OPSGRAPH, "serve", "--port", str(port), *args, *extra],
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
                pytest.fail(f"server did not come up: {log_file.read_text()}")
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
