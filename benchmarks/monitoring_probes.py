"""Checks per second one worker process sustains (issue 14: target >= 500/s).

    python -m benchmarks.monitoring_probes [--checks 5000] [--concurrency 200]
        [--probe http|tcp] [--runs 3]

A local HTTP server runs in a child process (asyncio, one answer per connection, as a
small service would); this process runs `--checks` checks through
`domains.monitoring.probes.runner.run_checks`, exactly as the worker does: each a new
connection through the egress policy to the registered 127.0.0.1 target, the HTTP probe
a GET with an expected status and latency thresholds. Prints checks/s per run and the
median. Only loopback traffic, bounded in count.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection

from domains.common.egress import EgressPolicy
from domains.monitoring.probes.runner import Check, run_checks
from domains.monitoring.probes.targets import ProbeEgress, Target


def _serve(ready: Connection) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        ready.send(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


async def _run(target: Target, probe: str, checks: int, concurrency: int) -> float:
    egress = ProbeEgress.for_targets(EgressPolicy(allow_loopback=True), [target])
    parameters = (
        {"expected_status": [200], "warning_ms": 1000, "critical_ms": 5000}
        if probe == "http"
        else {}
    )
    batch = [Check(target, probe, parameters=parameters) for _ in range(checks)]
    started = time.perf_counter()
    results = await run_checks(batch, egress, concurrency=concurrency, time_limit=10)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if r.status != "OK"]
    if failed:
        raise SystemExit(f"{len(failed)} checks not OK, e.g. {failed[0].summary}")
    return checks / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checks", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--probe", choices=("http", "tcp"), default="http")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=_serve, args=(theirs,), daemon=True)
    server.start()
    try:
        port = ours.recv()
        target = Target("127.0.0.1", port, f"http://127.0.0.1:{port}/health")
        rates = []
        for run in range(1, args.runs + 1):
            rate = asyncio.run(_run(target, args.probe, args.checks, args.concurrency))
            rates.append(rate)
            print(f"run {run}: {args.checks} {args.probe} checks, {rate:,.0f} checks/s")
        print(
            f"{args.probe} probe, concurrency {args.concurrency}: "
            f"median {statistics.median(rates):,.0f} checks/s (target >= 500/s)"
        )
    finally:
        server.kill()
        server.join()


if __name__ == "__main__":
    main()
