"""Runs a batch of checks concurrently: asyncio, at most `concurrency` probes in flight
(a semaphore), each bounded by its time limit. A check is a probe (built-in `tcp`,
`http`, `tls`, or an external plugin's command) with a metric's parameters, for one
registered target.

Parameters a built-in probe reads (a metric's `parameters`; anything else is refused
by `check_parameters`, which the catalogue may call when a metric is defined):
- every probe: `timeout` (seconds, at most the worker's OPSGRAPH_PROBE_TIME_LIMIT);
- http: `path` (default the target URL's), `expected_status` (a status or a list,
  default any below 400), `warning_ms` and `critical_ms` (latency thresholds);
- tls: `warning_days` (default 30) and `critical_days` (default 14);
- apel-pub, apel-sync: those of apel.py (they read the database, not the network: the
  scheduler runs them while it plans a batch, never here)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domains.monitoring.probes import apel
from domains.monitoring.probes.apel import ParameterError as ParameterError
from domains.monitoring.probes.builtin import (
    CertificateCheck,
    HttpCheck,
    certificate_probe,
    http_probe,
    tcp_probe,
)
from domains.monitoring.probes.nagios import UNKNOWN, ProbeResult
from domains.monitoring.probes.plugin import run_plugin
from domains.monitoring.probes.targets import ProbeEgress, Target

BUILTINS = ("tcp", "http", "tls", *apel.BUILTINS)
_PARAMETERS = {
    "tcp": {"timeout"},
    "http": {"timeout", "path", "expected_status", "warning_ms", "critical_ms"},
    "tls": {"timeout", "warning_days", "critical_days"},
}


@dataclass(frozen=True, slots=True)
class Check:
    target: Target
    builtin: str | None = None  # tcp, http, tls; None: `command` is a plugin's
    command: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    time_limit: float | None = None  # the probe's own limit (never above the worker's)


def _number(params: Mapping[str, Any], name: str, default: float | None) -> float | None:
    value = params.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ParameterError(name, "a number of at least 0")
    return float(value)


def http_check(params: Mapping[str, Any]) -> HttpCheck:
    path = params.get("path")
    if path is not None and (
        not isinstance(path, str) or not path.startswith("/") or any(c in path for c in " \r\n\0")
    ):
        raise ParameterError("path", "a path starting with / without spaces or line ends")
    expect = params.get("expected_status", [])
    if isinstance(expect, int) and not isinstance(expect, bool):
        expect = [expect]
    if not isinstance(expect, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in expect
    ):
        raise ParameterError("expected_status", "HTTP statuses (100 to 599)")
    return HttpCheck(
        path=path,
        expect=frozenset(expect),
        warning=_seconds(_number(params, "warning_ms", None)),
        critical=_seconds(_number(params, "critical_ms", None)),
    )


def _seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


def _certificate_check(params: Mapping[str, Any]) -> CertificateCheck:
    warning = _number(params, "warning_days", None)
    critical = _number(params, "critical_days", None)
    return CertificateCheck(
        30 if warning is None else int(warning), 14 if critical is None else int(critical)
    )


def check_parameters(builtin: str, params: Mapping[str, Any]) -> None:
    """ParameterError naming the parameter a built-in probe does not take or reads as
    invalid; ValueError for an unknown built-in."""
    if builtin in apel.BUILTINS:
        apel.check_parameters(builtin, params)
        return
    if builtin not in _PARAMETERS:
        raise ParameterError("builtin", f"one of {', '.join(BUILTINS)}")
    unknown = sorted(set(params) - _PARAMETERS[builtin])
    if unknown:
        raise ParameterError(unknown[0], f"not a parameter of the {builtin} probe")
    _number(params, "timeout", None)
    if builtin == "http":
        http_check(params)
    elif builtin == "tls":
        _certificate_check(params)


async def run_check(
    check: Check,
    egress: ProbeEgress,
    *,
    plugin_dir: str | os.PathLike[str] | None,
    time_limit: float,
) -> ProbeResult:
    """One check's result; a check that cannot run is UNKNOWN, saying why."""
    if check.time_limit is not None:
        time_limit = min(time_limit, check.time_limit)
    try:
        if check.builtin is not None:
            check_parameters(check.builtin, check.parameters)
        limit = min(time_limit, _number(check.parameters, "timeout", time_limit) or time_limit)
    except ParameterError as exc:
        return ProbeResult(UNKNOWN, f"probe not run: {exc}")
    if check.builtin in apel.BUILTINS:
        return ProbeResult(UNKNOWN, f"probe not run: {check.builtin} reads the database")
    if check.builtin == "tcp":
        return await tcp_probe(check.target, egress, time_limit=limit)
    if check.builtin == "http":
        http = http_check(check.parameters)
        return await http_probe(check.target, egress, http, time_limit=limit)
    if check.builtin == "tls":
        tls = _certificate_check(check.parameters)
        return await certificate_probe(check.target, egress, tls, time_limit=limit)
    return await run_plugin(plugin_dir, check.command, check.target, egress, time_limit=limit)


async def run_checks(
    checks: Sequence[Check],
    egress: ProbeEgress,
    *,
    concurrency: int,
    plugin_dir: str | os.PathLike[str] | None = None,
    time_limit: float = 30.0,
) -> list[ProbeResult]:
    """The results of `checks`, in their order, at most `concurrency` running at once."""
    gate = asyncio.Semaphore(concurrency)

    async def one(check: Check) -> ProbeResult:
        async with gate:
            return await run_check(check, egress, plugin_dir=plugin_dir, time_limit=time_limit)

    return list(await asyncio.gather(*(one(c) for c in checks)))
