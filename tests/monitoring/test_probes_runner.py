"""A batch of checks runs concurrently, bounded, in order; a built-in probe's parameters
are checked; the probe settings are read from OPSGRAPH_PROBE_* variables."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from domains.common.errors import Invalid
from domains.common.settings import CoreSettings
from domains.monitoring.probes.runner import (
    Check,
    ParameterError,
    check_parameters,
    http_check,
    run_checks,
)
from domains.monitoring.probes.targets import Target
from tests.monitoring.probe_servers import egress_for, stopped_port


def test_a_batch_runs_bounded_and_keeps_its_order(tmp_path: Path) -> None:
    plugin = tmp_path / "check_echo"
    plugin.write_text('#!/bin/sh\necho "ECHO OK - $1"\n')
    plugin.chmod(0o755)
    in_flight = 0
    most = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.001)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        in_flight -= 1

    async def main() -> list[str]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            up = Target("127.0.0.1", port, f"http://127.0.0.1:{port}/")
            down = Target("127.0.0.1", stopped_port(), "https://127.0.0.1/")
            checks = [Check(up, "http", parameters={"expected_status": [200]}) for _ in range(40)]
            checks += [
                Check(up, "tcp"),
                Check(down, "tls", parameters={"warning_days": 5}),
                Check(up, "http", parameters={"expected_status": 204, "timeout": 2}),
                Check(up, "http", parameters={"bogus": 1}),
                Check(up, None, command=("check_echo", "{url}")),
                Check(up, "ftp"),
            ]
            results = await run_checks(
                checks, egress_for(up, down), concurrency=5, plugin_dir=tmp_path, time_limit=5
            )
            server.close()
        return [f"{r.status} {r.summary}" for r in results]

    outcomes = asyncio.run(main())
    assert all(o.startswith("OK HTTP OK: HTTP/1.1 200 OK") for o in outcomes[:40])
    assert outcomes[40].startswith("OK TCP OK")
    assert outcomes[41].startswith("CRITICAL SSL CRITICAL - connection refused")
    assert outcomes[42].startswith("CRITICAL HTTP CRITICAL: HTTP/1.1 200 OK (expected 204)")
    assert outcomes[43] == "UNKNOWN probe not run: bogus: not a parameter of the http probe"
    assert outcomes[44].startswith("OK ECHO OK - http://127.0.0.1:")
    assert (
        outcomes[45] == "UNKNOWN probe not run: builtin: one of tcp, http, tls, apel-pub, apel-sync"
    )
    assert 1 <= most <= 5


@pytest.mark.parametrize(
    ("builtin", "params", "name"),
    [
        ("http", {"expected_status": ["200"]}, "expected_status"),
        ("http", {"expected_status": [700]}, "expected_status"),
        ("http", {"expected_status": True}, "expected_status"),
        ("http", {"path": "no-slash"}, "path"),
        ("http", {"path": "/a b"}, "path"),
        ("http", {"warning_ms": -1}, "warning_ms"),
        ("http", {"critical_ms": "1"}, "critical_ms"),
        ("tls", {"critical_days": True}, "critical_days"),
        ("tcp", {"timeout": -2}, "timeout"),
        ("tcp", {"path": "/"}, "path"),
    ],
)
def test_bad_parameters_are_named(builtin: str, params: dict[str, Any], name: str) -> None:
    with pytest.raises(ParameterError) as caught:
        check_parameters(builtin, params)
    assert caught.value.name == name


def test_good_parameters_pass() -> None:
    check_parameters(
        "http",
        {"path": "/x?y=1", "expected_status": [200, 301], "warning_ms": 1000, "critical_ms": 2500},
    )
    check_parameters("tls", {"warning_days": 20, "critical_days": 7, "timeout": 3})
    check_parameters("tcp", {})


def test_probe_settings() -> None:
    defaults = CoreSettings.from_env({})
    assert (defaults.probe_plugin_dir, defaults.probe_concurrency, defaults.probe_time_limit) == (
        None,
        200,
        30.0,
    )
    settings = CoreSettings.from_env(
        {
            "OPSGRAPH_PROBE_PLUGIN_DIR": "/usr/lib/nagios/plugins",
            "OPSGRAPH_PROBE_CONCURRENCY": "50",
            "OPSGRAPH_PROBE_TIME_LIMIT": "2.5",
        }
    )
    assert (settings.probe_plugin_dir, settings.probe_concurrency, settings.probe_time_limit) == (
        "/usr/lib/nagios/plugins",
        50,
        2.5,
    )
    for name, value in (
        ("OPSGRAPH_PROBE_PLUGIN_DIR", "plugins"),
        ("OPSGRAPH_PROBE_CONCURRENCY", "0"),
        ("OPSGRAPH_PROBE_TIME_LIMIT", "0"),
    ):
        with pytest.raises(Invalid) as caught:
            CoreSettings.from_env({name: value})
        assert caught.value.field == name


def test_latency_thresholds_are_milliseconds() -> None:
    check = http_check({"warning_ms": 1500, "critical_ms": 2000})
    assert (check.warning, check.critical) == (1.5, 2.0)
