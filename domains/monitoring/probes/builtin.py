"""Built-in probes that really probe, over asyncio streams so that one worker runs
hundreds at once: a TCP connect, an HTTP(S) GET (expected status, latency thresholds) and
a TLS certificate check (trusted, valid for the name, days to expiry).

Each connects only through `ProbeEgress` (targets.py): to the registered host and port,
at an address the policy allows. Each returns a `ProbeResult` in Nagios' terms:
- connection refused, reset, a name that does not resolve, a TLS failure: CRITICAL;
- no answer within the time limit: UNKNOWN (the probe could not tell);
- a destination the egress policy refuses: UNKNOWN, and nothing is sent.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from domains.common.egress import EgressRefused
from domains.monitoring.probes.nagios import CRITICAL, OK, UNKNOWN, WARNING, ProbeResult
from domains.monitoring.probes.targets import ProbeEgress, Target

MAX_HEADER_BYTES = 64 * 1024
USER_AGENT = "opsgraph-probes/1"
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class HttpCheck:
    """What an HTTP(S) probe expects: `expect` the acceptable statuses (empty: any status
    below 400, as check_http), latency thresholds in seconds (None: none)."""

    path: str | None = None  # None: the target URL's path and query
    expect: Collection[int] = ()
    warning: float | None = None
    critical: float | None = None


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    warning_days: int = 30
    critical_days: int = 14


class _Failed(Exception):
    def __init__(self, status: str, summary: str) -> None:
        super().__init__(summary)
        self.status = status
        self.summary = summary


@functools.cache
def _system_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _tls_context(egress: ProbeEgress) -> ssl.SSLContext:
    verify = egress.policy.verify
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify:
        return _system_context()
    return _unverified_context()


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def _connect(
    egress: ProbeEgress, target: Target, tls: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        addresses = await egress.resolve(target.host, target.port)
    except EgressRefused as exc:
        raise _Failed(UNKNOWN, f"refused by egress policy: {exc.reason}") from exc
    except (OSError, UnicodeError, ValueError) as exc:
        raise _Failed(CRITICAL, f"{target.host} does not resolve") from exc
    failure: OSError | None = None
    for ip in addresses:
        try:
            return await asyncio.open_connection(
                str(ip),
                target.port,
                ssl=tls,
                server_hostname=target.host if tls is not None else None,
                limit=MAX_HEADER_BYTES,
            )
        except ssl.SSLCertVerificationError as exc:
            raise _Failed(CRITICAL, f"TLS certificate not valid: {exc.verify_message}") from exc
        except ssl.SSLError as exc:
            raise _Failed(CRITICAL, f"TLS handshake failed: {exc.reason or exc}") from exc
        except ConnectionRefusedError as exc:
            failure = exc
        except OSError as exc:
            failure = exc
    assert failure is not None
    if isinstance(failure, ConnectionRefusedError):
        raise _Failed(CRITICAL, f"connection refused by {target.host} port {target.port}")
    raise _Failed(CRITICAL, f"cannot connect to {target.host} port {target.port}: {failure}")


def _close(writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


def _elapsed(started: float) -> float:
    return time.perf_counter() - started


def _time_perf(
    seconds: float, warning: float | None, critical: float | None, timeout: float
) -> str:
    def fmt(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return f"time={seconds:.6f}s;{fmt(warning)};{fmt(critical)};0;{timeout:g}"


async def tcp_probe(
    target: Target, egress: ProbeEgress, *, time_limit: float = DEFAULT_TIMEOUT
) -> ProbeResult:
    """Connects and closes: OK when the port accepts a connection."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await _connect(egress, target, None)
    except _Failed as failed:
        return ProbeResult(
            failed.status, f"TCP {failed.status} - {failed.summary}", duration=_elapsed(started)
        )
    except TimeoutError:
        return _timed_out("TCP", target, time_limit, started)
    _close(writer)
    seconds = _elapsed(started)
    return ProbeResult(
        OK,
        f"TCP OK - {seconds:.3f} second response time on {target.host} port {target.port}",
        perfdata=_time_perf(seconds, None, None, time_limit),
        duration=seconds,
    )


def _timed_out(kind: str, target: Target, timeout: float, started: float) -> ProbeResult:
    return ProbeResult(
        UNKNOWN,
        f"{kind} UNKNOWN - no answer from {target.host} port {target.port} within {timeout:g} s",
        duration=_elapsed(started),
    )


def _request(target: Target, path: str | None) -> bytes:
    parts = urlsplit(target.url)
    if path is None:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme.lower() == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    authority = host if target.port == default else f"{host}:{target.port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii", "backslashreplace")


def _http_status(head: bytes) -> tuple[int, str]:
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    version, _, rest = line.partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
        raise _Failed(CRITICAL, "invalid HTTP response")
    return int(code), line


async def http_probe(
    target: Target,
    egress: ProbeEgress,
    check: HttpCheck = HttpCheck(),
    *,
    time_limit: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """GET the target's URL (http:// or https://, the certificate verified): CRITICAL for
    an unexpected status (or, without `expect`, a 5xx; WARNING a 4xx), WARNING/CRITICAL
    when the answer took longer than the thresholds."""
    started = time.perf_counter()
    scheme = target.scheme
    if scheme not in {"http", "https"}:
        return ProbeResult(UNKNOWN, f"HTTP UNKNOWN - {scheme}:// is not an http(s) URL")
    try:
        async with asyncio.timeout(time_limit):
            tls = _tls_context(egress) if scheme == "https" else None
            reader, writer = await _connect(egress, target, tls)
            try:
                writer.write(_request(target, check.path))
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                    raise _Failed(CRITICAL, "invalid HTTP response") from exc
                except OSError as exc:
                    raise _Failed(CRITICAL, f"connection lost: {exc}") from exc
                code, line = _http_status(head)
            finally:
                _close(writer)
    except _Failed as failed:
        return ProbeResult(
            failed.status, f"HTTP {failed.status} - {failed.summary}", duration=_elapsed(started)
        )
    except TimeoutError:
        return _timed_out("HTTP", target, time_limit, started)
    seconds = _elapsed(started)
    return _http_result(code, line, seconds, check, time_limit)


def _http_result(
    code: int, line: str, seconds: float, check: HttpCheck, timeout: float
) -> ProbeResult:
    if check.expect:
        status = OK if code in check.expect else CRITICAL
    else:
        status = OK if code < 400 else WARNING if code < 500 else CRITICAL
    why = "" if status == OK else f" (expected {_expected(check)})"
    if status == OK and check.critical is not None and seconds > check.critical:
        status, why = CRITICAL, f" (over {check.critical:g} s)"
    elif status == OK and check.warning is not None and seconds > check.warning:
        status, why = WARNING, f" (over {check.warning:g} s)"
    return ProbeResult(
        status,
        f"HTTP {status}: {line}{why} - {seconds:.3f} second response time",
        perfdata=_time_perf(seconds, check.warning, check.critical, timeout),
        duration=seconds,
    )


def _expected(check: HttpCheck) -> str:
    return ", ".join(str(c) for c in sorted(check.expect)) if check.expect else "below 400"


async def certificate_probe(
    target: Target,
    egress: ProbeEgress,
    check: CertificateCheck = CertificateCheck(),
    *,
    time_limit: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """A TLS handshake with the target (any protocol over TLS): CRITICAL when the
    certificate is not trusted, not for the host or expired, or expires within
    `critical_days`; WARNING within `warning_days`."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(time_limit):
            _, writer = await _connect(egress, target, _tls_context(egress))
    except _Failed as failed:
        return ProbeResult(
            failed.status, f"SSL {failed.status} - {failed.summary}", duration=_elapsed(started)
        )
    except TimeoutError:
        return _timed_out("SSL", target, time_limit, started)
    try:
        cert = writer.get_extra_info("peercert") or {}
    finally:
        _close(writer)
    seconds = _elapsed(started)
    if "notAfter" not in cert:
        return ProbeResult(UNKNOWN, "SSL UNKNOWN - certificate not verified (verification off)")
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)
    days = (not_after - datetime.now(UTC)).total_seconds() / 86400
    status = OK
    if days < check.critical_days:
        status = CRITICAL
    elif days < check.warning_days:
        status = WARNING
    subject = dict(x[0] for x in cert.get("subject", ()))
    name = subject.get("commonName", target.host)
    return ProbeResult(
        status,
        f"SSL {status} - Certificate '{name}' will expire in {int(days)} days "
        f"({not_after:%Y-%m-%d %H:%M} +0000)",
        perfdata=f"days={days:.2f};{check.warning_days};{check.critical_days};0",
        duration=seconds,
    )
