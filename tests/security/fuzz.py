"""scripts/fuzz: run the fuzz properties of test_fuzz.py longer, on a random seed, and print
what they found, each distinct failure once with its smallest example.

Every finding is recorded (OPSGRAPH_FUZZ_REPORT) instead of failing the property at the
first one, so a long run finds all it can. Exit status 1 if anything was found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.security.test_fuzz import _OUR_FRAME

TESTS = "tests/security/test_fuzz.py"


def _pytest(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", TESTS, "-p", "no:cacheprovider", *args],
        env=env,
        capture_output=True,
        text=True,
    )


def _size(finding: dict[str, Any]) -> int:
    return len(json.dumps([finding["body"], finding["params"]]))


def report(findings: list[dict[str, Any]]) -> None:
    by_signature: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        by_signature[finding["signature"]].append(finding)
    for signature, same in sorted(by_signature.items(), key=lambda kv: -len(kv[1])):
        smallest = min(same, key=_size)
        print(f"\n{len(same)} x {signature}")
        print(f"  {smallest['problem']}; as {smallest['caller']}")
        print(f"  {smallest['method']} {smallest['path']}")
        if smallest["params"]:
            print(f"  params: {json.dumps(smallest['params'])[:2000]}")
        if smallest["body"] is not None:
            print(f"  body: {json.dumps(smallest['body'])[:2000]}")
        print(f"  answer ({smallest['status']}): {smallest['answer'][:500]}")
        if smallest["server_traceback"]:
            frames = _OUR_FRAME.findall(smallest["server_traceback"][-1])
            for path, line, function in frames[-4:]:
                print(f"    {path}:{line} in {function}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, help="examples per property (default: no cap)")
    parser.add_argument(
        "--seconds",
        type=float,
        default=600.0,
        help="the run's time, shared by the properties (server start-up comes on top)",
    )
    parser.add_argument("--seed", type=int, help="repeat the run of this seed")
    parser.add_argument(
        "--backends",
        default=os.environ.get("OPSGRAPH_TEST_BACKENDS", "sqlite,postgresql"),
        help="database backends, as OPSGRAPH_TEST_BACKENDS",
    )
    parser.add_argument("-k", dest="select", help="which properties, as pytest's -k")
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(2**32)
    selection = ["-k", args.select] if args.select else []
    env = {**os.environ, "OPSGRAPH_TEST_BACKENDS": args.backends}
    collected = _pytest(["--collect-only", "-q", *selection], env)
    properties = [line for line in collected.stdout.splitlines() if "::" in line]
    if not properties:
        print(collected.stdout + collected.stderr, file=sys.stderr)
        return 2
    share = args.seconds / len(properties)
    print(
        f"seed {seed}: {len(properties)} properties ({args.backends}), "
        f"{share:.0f} s each, {args.examples or 'uncapped'} examples each",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        found = Path(tmp) / "findings.jsonl"
        env.update(
            OPSGRAPH_FUZZ_SEED=str(seed),
            OPSGRAPH_FUZZ_EXAMPLES=str(args.examples or 10**9),
            OPSGRAPH_FUZZ_SECONDS=str(share),
            OPSGRAPH_FUZZ_REPORT=str(found),
        )
        run = _pytest(["-q", "-rN", *selection], env)
        print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr)
        findings = (
            [json.loads(line) for line in found.read_text().splitlines()] if found.exists() else []
        )
    if run.returncode not in (0, 5) and not findings:
        print(run.stdout[-5000:] + run.stderr[-5000:], file=sys.stderr)
        return 2
    if not findings:
        print(f"nothing found (seed {seed})")
        return 0
    report(findings)
    print(f"\n{len(findings)} findings; repeat with: scripts/fuzz --seed {seed}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
