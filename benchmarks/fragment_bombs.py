"""Fragment bombs against a real server, with /healthz probed all along.

    python -m benchmarks.fragment_bombs [--bombs 40] [--levels 40] [--rounds 3]

Starts `opsgraph serve --demo` on a temporary SQLite file, then, for each round, sends
`--bombs` fragment bombs at once (one thread and connection each; fragment i spreads
fragment i-1 twice, 2^(levels-1) fields once expanded; each document differs, so that no
parser or validation cache helps) while another thread probes
/healthz every 50 ms with a 2 s client timeout. Prints how long each bomb took to be
refused (median / max), whether every one was refused with BAD_USER_INPUT, and the /healthz
latencies (median / max, failures); then the same for as many trivial queries
(`{ __typename }`) at once, as the baseline of the HTTP stack on the machine. Before
gateway/cost.py a single bomb never returned.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx2

from tests.server import opsgraph_env, serving


def fragment_bomb(levels: int, name: str = "Bomb") -> str:
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)
    ]
    return f"query {name} {{ ...F{levels - 1} }}\n" + "\n".join(fragments)


@contextmanager
def demo_server(directory: str) -> Iterator[str]:
    env = opsgraph_env(f"sqlite:///{directory}/bombs.db", OPSGRAPH_LOG_LEVEL="WARNING")
    with serving(env, "--demo") as base:
        yield base


@dataclass(frozen=True, slots=True)
class Round:
    latencies: list[float]
    refused: int  # answers refused with BAD_USER_INPUT
    probes: list[float]  # latencies of the /healthz probes answered 200
    failed: int  # probes that timed out or failed


def one_round(base: str, count: int, document: Callable[[int], str]) -> Round:
    probes: list[float] = []
    failed = 0
    done = threading.Event()

    def probe() -> None:
        nonlocal failed
        with httpx2.Client(timeout=2.0) as client:
            while not done.is_set():
                start = time.perf_counter()
                try:
                    ok = client.get(f"{base}/healthz").status_code == 200
                except httpx2.TransportError:
                    ok = False
                if ok:
                    probes.append(time.perf_counter() - start)
                else:
                    failed += 1
                done.wait(0.05)

    def send(index: int) -> tuple[float, bool]:
        query = document(index)
        start = time.perf_counter()
        try:
            response = httpx2.post(f"{base}/graphql", json={"query": query}, timeout=120)
            errors = response.json().get("errors") or [{}]
            refused = errors[0].get("extensions", {}).get("code") == "BAD_USER_INPUT"
        except httpx2.TransportError:
            refused = False
        return time.perf_counter() - start, refused

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(send, range(count)))
    finally:
        done.set()
        prober.join()
    return Round([t for t, _ in results], sum(r for _, r in results), probes, failed)


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * 1000:.1f} ms / {max(values) * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bombs", type=int, default=40)
    parser.add_argument("--levels", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = len(fragment_bomb(args.levels).encode())
    print(f"{args.bombs} bombs at once, {args.levels} fragments ({size:,} bytes) each")
    with tempfile.TemporaryDirectory() as directory, demo_server(directory) as base:
        for round_ in range(1, args.rounds + 1):
            # each document differs (its operation name), so that no cache helps
            bombs = one_round(
                base, args.bombs, lambda i: fragment_bomb(args.levels, f"B{i}_{time.time_ns()}")
            )
            # the baseline: as many trivial queries at once
            trivial = one_round(
                base, args.bombs, lambda i: f"query T{i}_{time.time_ns()} {{ __typename }}"
            )
            for label, found in (("bombs", bombs), ("trivial queries", trivial)):
                print(
                    f"round {round_}, {label}: {found.refused}/{args.bombs} refused, latency "
                    f"median/max {_ms(found.latencies)}; /healthz {len(found.probes)} probes "
                    f"answered 200, median/max {_ms(found.probes)}, {found.failed} timed out "
                    "or failed"
                )


if __name__ == "__main__":
    main()
