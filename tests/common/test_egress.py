"""The egress policy (domains/common/egress.py) on its own: which addresses are public,
what OPSGRAPH_EGRESS_ALLOW accepts, the input-time check, and the client's connection-time
check (DNS rebinding), with an injected resolver and never a connection off loopback."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from domains.common.egress import (
    REFUSED,
    EgressPolicy,
    EgressRefused,
    address_class,
    failure_class,
    is_loopback_host,
    parse_allow,
)
from domains.common.errors import Invalid
from domains.common.settings import parse_smtp_url
from gateway.config import Settings
from gateway.http import http_get
from tests.common.egress_rig import PUBLIC, Connections, FakeDns, connections, policy
from tests.compat.tls import make_certificate
from tests.messaging.receiver import Receiver

__all__ = ["connections"]  # the fixture, for pytest


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("10.0.0.1", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),  # fc00::/7
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.1.1", "multicast"),
        ("ff0e::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::10.0.0.1", "reserved"),  # IPv4-compatible IPv6 (deprecated)
        ("240.0.0.1", "private"),  # reserved, and private in Python's table
        ("255.255.255.255", "private"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("fec0::1", "site-local"),
        ("192.0.2.1", "private"),  # documentation
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    assert address_class(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_class(ipaddress.ip_address(address)) is None


def test_one_definition_of_loopback_for_smtp_push_and_webhooks() -> None:
    for host in ("localhost", "LOCALHOST.", "a.localhost", "127.0.0.1", "127.1.2.3", "::1"):
        assert is_loopback_host(host), host
    assert is_loopback_host("[::1]")
    assert is_loopback_host("::ffff:127.0.0.1")
    for host in ("localhost.example.org", "10.0.0.1", "example.org", "", "0.0.0.0"):
        assert not is_loopback_host(host), host
    # the SMTP rule reads the same definition: a login over plain smtp:// to a.localhost
    assert parse_smtp_url("smtp://u:p@a.localhost:25") == "smtp://u:p@a.localhost:25"
    with pytest.raises(Invalid):
        parse_smtp_url("smtp://u:p@10.0.0.1:25")


def test_the_allow_list_takes_cidrs_and_host_names() -> None:
    allow = parse_allow(
        ["10.1.0.0/16", " fd00::/8 ", "192.0.2.7", "Hooks.Internal.", "*.corp.example"]
    )
    assert allow.address(ipaddress.ip_address("10.1.2.3"))
    assert allow.address(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert allow.address(ipaddress.ip_address("fd00::5"))
    assert allow.address(ipaddress.ip_address("192.0.2.7"))
    assert not allow.address(ipaddress.ip_address("10.2.0.1"))
    assert allow.host("hooks.internal")
    assert allow.host("a.b.corp.example")
    assert not allow.host("corp.example")
    assert not allow.host("hooks.internal.evil")
    for bad in ("10.0.0.0/33", "not a name", "a..b", "http://x", "*"):
        with pytest.raises(Invalid) as caught:
            parse_allow([bad])
        assert caught.value.field == "OPSGRAPH_EGRESS_ALLOW"


def test_settings_read_and_check_opsgraph_egress_allow() -> None:
    settings = Settings.from_env({"OPSGRAPH_EGRESS_ALLOW": "10.0.0.0/8, hooks.internal"})
    assert settings.egress_allow == ("10.0.0.0/8", "hooks.internal")
    assert Settings.from_env({}).egress_allow == ()
    with pytest.raises(Invalid) as caught:
        Settings.from_env({"OPSGRAPH_EGRESS_ALLOW": "10.0.0.0/40"})
    assert caught.value.field == "OPSGRAPH_EGRESS_ALLOW"
    loopback = EgressPolicy.from_settings(Settings(allow_insecure_push=True))
    assert loopback.allow_loopback


def test_input_time_check_resolves_the_name() -> None:
    dns = FakeDns({"internal.example": ["10.0.0.1"], "mixed.example": [PUBLIC, "10.0.0.2"]})
    dns.answers["public.example"] = [PUBLIC]
    strict = policy(dns)
    with pytest.raises(EgressRefused, match="internal.example resolves to a private address"):
        strict.check_url("https://internal.example/push")
    with pytest.raises(EgressRefused, match="private"):  # one bad address is enough
        strict.check_url("https://mixed.example/push")
    for url in ("https://127.0.0.1/x", "https://[::1]/x", "https://0.0.0.0/", "https://[::]/"):
        with pytest.raises(EgressRefused):
            strict.check_url(url)
    with pytest.raises(EgressRefused, match="link-local"):
        strict.check_url("https://169.254.169.254/latest/meta-data")
    with pytest.raises(EgressRefused, match="https"):
        strict.check_url("http://public.example/")
    strict.check_url("https://public.example/push")
    strict.check_url("https://unknown.example/push")  # not resolvable (yet): checked later
    # allowed by CIDR or by name; loopback only with OPSGRAPH_ALLOW_INSECURE_PUSH
    policy(dns, "10.0.0.0/8").check_url("https://internal.example/push")
    policy(dns, "internal.example").check_url("https://internal.example/push")
    policy(dns, loopback=True).check_url("http://127.0.0.1:8080/push")
    policy(dns, loopback=True).check_url("https://localhost/push")
    with pytest.raises(EgressRefused):
        policy(dns, loopback=True).check_url("https://internal.example/push")
    with pytest.raises(EgressRefused, match="OPSGRAPH_ALLOW_INSECURE_PUSH"):
        strict.check_url("http://127.0.0.1:8080/push")


def test_a_loopback_name_must_resolve_to_loopback() -> None:
    dns = FakeDns({"evil.localhost": ["10.0.0.1"]})
    with pytest.raises(EgressRefused, match="loopback name"):
        policy(dns, loopback=True).check_url("http://evil.localhost/push")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_the_client_refuses_before_connecting(connections: Connections) -> None:
    dns = FakeDns({"internal.example": ["10.0.0.1"], "meta.example": ["169.254.169.254"]})
    with policy(dns).client(timeout=5) as http:
        for url in (
            "https://internal.example/push",
            "https://meta.example/",
            "https://10.0.0.1/",
            "https://[::ffff:10.0.0.1]/",
            "https://[fd00::1]/",
        ):
            with pytest.raises(EgressRefused):
                http.post(url, content=b"{}")
    assert connections.made == []
    assert connections.refused == []


def test_dns_rebinding_is_refused_at_connection_time(
    connections: Connections, receiver: Receiver
) -> None:
    """Public when checked, loopback when connecting: the connection is checked again, on
    the very address it goes to, and never made."""
    port = receiver.server.server_address[1]
    dns = FakeDns({"rebind.example": [[PUBLIC], ["127.0.0.1"]]})
    strict = policy(dns)
    url = f"https://rebind.example:{port}/push"
    strict.check_url(url)  # passes: the name is public now
    with strict.client(timeout=5) as http, pytest.raises(EgressRefused, match="loopback"):
        http.post(url, content=b"{}")
    assert dns.asked == ["rebind.example", "rebind.example"]
    assert connections.made == []
    assert connections.refused == []
    assert receiver.requests == []
    # the verification GET goes through the same client
    with pytest.raises(EgressRefused):
        http_get(url, egress=strict)
    assert connections.made == []
    assert receiver.requests == []


def test_an_allowed_name_reaches_the_address_that_was_checked(
    connections: Connections, tmp_path: Path
) -> None:
    """OPSGRAPH_EGRESS_ALLOW=hooks.internal, resolving to loopback: the client connects to
    the checked address itself, and TLS and the Host header still name hooks.internal."""
    tls = make_certificate(tmp_path, ("hooks.internal",))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tls.cert_file, tls.key_file)
    receiver = Receiver(tls=server)
    try:
        port = receiver.server.server_address[1]
        dns = FakeDns({"hooks.internal": ["127.0.0.1"]})
        trust = ssl.create_default_context(cafile=str(tls.ca_file))
        allowed = policy(dns, "hooks.internal", verify=trust)
        with allowed.client(timeout=5) as http:
            answer = http.post(f"https://hooks.internal:{port}/push", content=b"{}")
        assert answer.status_code == 200
        (post,) = receiver.posts()
        assert post.headers["host"] == f"hooks.internal:{port}"
        assert connections.made == [("127.0.0.1", port)]
        # the same address by CIDR; and not at all without an allowance
        with policy(dns, "127.0.0.0/8", verify=trust).client(timeout=5) as http:
            assert http.get(f"https://hooks.internal:{port}/x").status_code == 404
        with policy(dns, verify=trust).client(timeout=5) as http, pytest.raises(EgressRefused):
            http.get(f"https://hooks.internal:{port}/x")
        assert len(connections.made) == 2
    finally:
        receiver.close()


def test_failures_are_recorded_by_class_not_by_port_state(
    connections: Connections, receiver: Receiver
) -> None:
    loopback = policy(FakeDns({}), loopback=True)
    closed = Receiver()
    closed_url = closed.url
    closed.close()
    with loopback.client(timeout=5) as http:
        with pytest.raises(httpx.ConnectError) as refused:
            http.get(closed_url)
        with pytest.raises(httpx.ConnectError) as tls:  # TLS to a plain HTTP port
            http.get(receiver.url.replace("http://", "https://"))
        with pytest.raises(EgressRefused) as policy_refused:
            http.get("http://10.0.0.1/")
    assert failure_class(refused.value) == "connection failed"
    assert failure_class(tls.value) == "TLS error"
    assert failure_class(policy_refused.value) == REFUSED
    assert failure_class(httpx.ConnectTimeout("timed out")) == "timeout"
    assert failure_class(httpx.ReadTimeout("timed out")) == "timeout"
    assert failure_class(ConnectionRefusedError(111, "Connection refused")) == "connection failed"
    assert failure_class(httpx.RemoteProtocolError("bad")) == "invalid HTTP response"
    assert failure_class(ValueError("x")) == "request failed"
