"""The built-in probes against real loopback servers: TCP connect, HTTP(S) GET (status,
latency thresholds), TLS certificate expiry; a stopped port is CRITICAL, a server that
never answers UNKNOWN, and a host or port the topology does not register is never
connected to."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from domains.common.egress import EgressPolicy
from domains.monitoring.probes.builtin import (
    CertificateCheck,
    HttpCheck,
    certificate_probe,
    http_probe,
    tcp_probe,
)
from domains.monitoring.probes.nagios import parse_perfdata
from domains.monitoring.probes.targets import Target
from tests.monitoring.probe_servers import (
    LOOPBACK,
    egress_for,
    http_server,
    make_pki,
    stopped_port,
    tls_http_server,
)


def _http(port: int, path: str = "/ping") -> Target:
    return Target("127.0.0.1", port, f"http://127.0.0.1:{port}{path}")


def test_tcp_connect_ok_and_a_stopped_port_is_critical() -> None:
    async def main() -> None:
        async with http_server() as (port, seen):
            target = Target("127.0.0.1", port, f"tcp://127.0.0.1:{port}")
            ok = await tcp_probe(target, egress_for(target), time_limit=5)
            assert ok.status == "OK", ok
            assert ok.summary.startswith("TCP OK - ")
            assert f"port {port}" in ok.summary
            assert parse_perfdata(ok.perfdata)[0].label == "time"
            await asyncio.sleep(0)
        down = Target("127.0.0.1", stopped_port(), "tcp://127.0.0.1/")
        critical = await tcp_probe(down, egress_for(down), time_limit=5)
        assert critical.status == "CRITICAL"
        assert "connection refused" in critical.summary

    asyncio.run(main())


def test_http_get_status_and_latency_thresholds() -> None:
    async def main() -> None:
        async with http_server(200) as (port, seen):
            target = _http(port, "/ping?x=1")
            egress = egress_for(target)
            ok = await http_probe(target, egress, time_limit=5)
            assert ok.status == "OK", ok
            assert "HTTP/1.1 200 Whatever" in ok.summary
            assert seen.requests[0].startswith(b"GET /ping?x=1 HTTP/1.1\r\nHost: 127.0.0.1:")
            unexpected = await http_probe(target, egress, HttpCheck(expect={204}), time_limit=5)
            assert unexpected.status == "CRITICAL"
            assert "expected 204" in unexpected.summary
            slow = await http_probe(target, egress, HttpCheck(warning=0.0), time_limit=5)
            assert slow.status == "WARNING"
            assert parse_perfdata(slow.perfdata)[0].warn == "0"
            slower = await http_probe(
                target, egress, HttpCheck(warning=0.0, critical=0.0), time_limit=5
            )
            assert slower.status == "CRITICAL"
            other_path = await http_probe(target, egress, HttpCheck(path="/health"), time_limit=5)
            assert other_path.status == "OK"
            assert seen.requests[-1].startswith(b"GET /health HTTP/1.1")
        async with http_server(404) as (port, _):
            target = _http(port)
            assert (await http_probe(target, egress_for(target), time_limit=5)).status == "WARNING"
            expected = await http_probe(
                target, egress_for(target), HttpCheck(expect={404}), time_limit=5
            )
            assert expected.status == "OK"
        async with http_server(503) as (port, _):
            target = _http(port)
            assert (await http_probe(target, egress_for(target), time_limit=5)).status == "CRITICAL"

    asyncio.run(main())


def test_stopped_server_is_critical_and_silent_server_unknown() -> None:
    async def main() -> None:
        down = _http(stopped_port())
        critical = await http_probe(down, egress_for(down), time_limit=5)
        assert critical.status == "CRITICAL"
        assert critical.summary.startswith("HTTP CRITICAL - connection refused")
        async with http_server(answer=False) as (port, seen):
            target = _http(port)
            unknown = await http_probe(target, egress_for(target), time_limit=0.3)
            assert unknown.status == "UNKNOWN"
            assert "no answer" in unknown.summary
            assert seen.connections == 1

    asyncio.run(main())


def test_unregistered_hosts_and_ports_are_never_reached() -> None:
    async def main() -> None:
        async with http_server() as (port, seen):
            registered = _http(port + 1 if port < 65535 else port - 1)
            egress = egress_for(registered)
            for probe in (tcp_probe(_http(port), egress), http_probe(_http(port), egress)):
                result = await probe
                assert result.status == "UNKNOWN"
                assert "is not a registered endpoint" in result.summary
            named = Target("localhost", port, f"http://localhost:{port}/")
            assert (await http_probe(named, egress)).status == "UNKNOWN"
            # registered, but loopback is not allowed by the policy (no ALLOW_INSECURE_PUSH)
            strict = egress_for(_http(port), policy=EgressPolicy())
            refused = await http_probe(_http(port), strict)
            assert refused.status == "UNKNOWN"
            assert "loopback" in refused.summary
            assert seen.connections == 0

    asyncio.run(main())


def test_http_probe_wants_an_http_url() -> None:
    target = Target("127.0.0.1", 2170, "ldap://127.0.0.1:2170/o=grid")
    result = asyncio.run(http_probe(target, egress_for(target)))
    assert result.status == "UNKNOWN"
    assert "ldap:// is not an http(s) URL" in result.summary


def test_https_and_certificate_expiry(tmp_path: Path) -> None:
    async def main() -> None:
        pki = make_pki(tmp_path / "ok", days=20)
        policy = dataclasses.replace(LOOPBACK, verify=pki.client)
        async with tls_http_server(pki) as port:
            target = Target("127.0.0.1", port, f"https://127.0.0.1:{port}/")
            egress = egress_for(target, policy=policy)
            assert (await http_probe(target, egress, time_limit=5)).status == "OK"
            fine = await certificate_probe(target, egress, CertificateCheck(10, 5), time_limit=5)
            assert fine.status == "OK", fine
            assert "will expire in 19 days" in fine.summary
            assert parse_perfdata(fine.perfdata)[0].label == "days"
            soon = await certificate_probe(target, egress, CertificateCheck(30, 14), time_limit=5)
            assert soon.status == "WARNING"
            sooner = await certificate_probe(target, egress, CertificateCheck(40, 30), time_limit=5)
            assert sooner.status == "CRITICAL"
            # a client that does not trust the CA
            untrusting = egress_for(target, policy=LOOPBACK)
            untrusted = await certificate_probe(target, untrusting, time_limit=5)
            assert untrusted.status == "CRITICAL"
            assert "certificate not valid" in untrusted.summary
            assert (await http_probe(target, untrusting, time_limit=5)).status == "CRITICAL"
            unverified = egress_for(target, policy=dataclasses.replace(LOOPBACK, verify=False))
            assert (await certificate_probe(target, unverified, time_limit=5)).status == "UNKNOWN"
        expired = make_pki(tmp_path / "expired", days=-2)
        async with tls_http_server(expired) as port:
            target = Target("127.0.0.1", port, f"https://127.0.0.1:{port}/")
            egress = egress_for(target, policy=dataclasses.replace(LOOPBACK, verify=expired.client))
            result = await certificate_probe(target, egress, time_limit=5)
            assert result.status == "CRITICAL"
            assert "expired" in result.summary
        down = Target("127.0.0.1", stopped_port(), "https://127.0.0.1/")
        assert (await certificate_probe(down, egress_for(down))).status == "CRITICAL"

    asyncio.run(main())


def test_a_tls_server_that_never_answers_is_unknown() -> None:
    async def main() -> None:
        async with http_server(answer=False) as (port, _):  # plain TCP: no handshake answer
            target = Target("127.0.0.1", port, f"https://127.0.0.1:{port}/")
            result = await certificate_probe(target, egress_for(target), time_limit=0.3)
            assert result.status == "UNKNOWN"
            assert result.summary.startswith("SSL UNKNOWN - no answer")

    asyncio.run(main())


async def _raw_server(answer: bytes) -> asyncio.Server:
    """A server that writes `answer` to what a client sends first, then closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.write(answer)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_broken_answers_are_critical() -> None:
    async def main() -> None:
        for answer, why in (
            (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "invalid HTTP response"),
            (b"HTTP/1.1 20", "invalid HTTP response"),
            (b"", "invalid HTTP response"),
        ):
            server = await _raw_server(answer)
            async with server:
                port = server.sockets[0].getsockname()[1]
                target = _http(port)
                result = await http_probe(target, egress_for(target), time_limit=5)
                assert (result.status, result.summary) == ("CRITICAL", f"HTTP CRITICAL - {why}")
                tls = Target("127.0.0.1", port, f"https://127.0.0.1:{port}/")
                handshake = await certificate_probe(tls, egress_for(tls), time_limit=5)
                assert handshake.status == "CRITICAL"
                server.close()

    asyncio.run(main())


def test_a_registered_name_that_does_not_resolve_is_critical() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    target = Target("gone.example.org", 443, "https://gone.example.org/")
    egress = egress_for(target, policy=EgressPolicy(resolver=nowhere))
    result = asyncio.run(tcp_probe(target, egress))
    assert (result.status, result.summary) == (
        "CRITICAL",
        "TCP CRITICAL - gone.example.org does not resolve",
    )
