"""An endpoint's target (its URL, or its type's documented default port) and the egress
rule: a registered endpoint may sit on a private address; nothing else is reachable."""

from __future__ import annotations

import asyncio

import pytest

from domains.common.egress import EgressPolicy, EgressRefused, parse_allow
from domains.monitoring.probes.targets import (
    ProbeEgress,
    Target,
    TargetError,
    default_url,
    target_of,
)


def test_the_url_decides_host_and_port() -> None:
    assert target_of("ce.example.org", "ARC-CE", "https://arc.example.org:8443/arex") == Target(
        "arc.example.org", 8443, "https://arc.example.org:8443/arex"
    )
    assert target_of("x", "webdav", "https://se.example.org/vo").port == 443
    assert target_of("x", "Top-BDII", "ldap://[2001:db8::5]/o=grid") == Target(
        "2001:db8::5", 389, "ldap://[2001:db8::5]/o=grid"
    )


def test_without_a_url_the_documented_default_port() -> None:
    assert target_of("Top-BDII.Example.org.", "Top-BDII", None) == Target(
        "top-bdii.example.org", 2170, "ldap://top-bdii.example.org:2170/"
    )
    assert target_of("voms.example.org", "VOMS", "").port == 8443
    assert target_of("apel.example.org", "APEL", None).port == 443  # https:// without port
    assert default_url("org.squid-cache.Squid", "2001:db8::1") == "http://[2001:db8::1]:3128/"
    assert default_url("no.such.type", "h") is None


@pytest.mark.parametrize(
    ("host", "service_type", "url"),
    [
        ("h.example.org", "no.such.type", None),
        ("", "Top-BDII", None),
        ("h", "x", "https://h.example.org:99999/"),
        ("h", "x", "condor://h.example.org/"),
        ("h", "x", "https:///path"),
    ],
)
def test_no_target(host: str, service_type: str, url: str | None) -> None:
    with pytest.raises(TargetError):
        target_of(host, service_type, url)


def _resolver(answers: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[host.lower().rstrip(".")]

    return resolve, asked


def test_registered_endpoints_may_be_private_but_not_metadata_or_loopback() -> None:
    resolve, asked = _resolver(
        {
            "ce.site.example": ["10.1.2.3", "fd00::3"],
            "cgnat.site.example": ["100.64.0.9"],
            "meta.site.example": ["169.254.169.254"],
            "lo.site.example": ["127.0.0.1"],
            "mixed.site.example": ["192.168.1.1", "0.0.0.0"],
            "public.example": ["192.0.2.1"],  # TEST-NET: not global, but not private either
        }
    )
    hosts = [
        "ce.site.example",
        "cgnat.site.example",
        "meta.site.example",
        "lo.site.example",
        "mixed.site.example",
        "10.9.9.9",
        "224.0.0.1",
    ]
    egress = ProbeEgress.for_targets(
        EgressPolicy(resolver=resolve), [Target(h, 443, f"https://{h}/") for h in hosts]
    )

    def outcome(host: str, port: int = 443) -> str:
        try:
            return ",".join(str(a) for a in asyncio.run(egress.resolve(host, port)))
        except EgressRefused as exc:
            return f"refused: {exc.reason}"

    assert outcome("ce.site.example") == "10.1.2.3,fd00::3"
    assert outcome("CE.site.example.") == "10.1.2.3,fd00::3"
    assert outcome("cgnat.site.example") == "100.64.0.9"
    assert outcome("10.9.9.9") == "10.9.9.9"
    assert (
        outcome("meta.site.example")
        == "refused: meta.site.example resolves to a link-local address"
    )
    assert outcome("lo.site.example") == "refused: lo.site.example resolves to a loopback address"
    assert outcome("mixed.site.example").startswith("refused: ")
    assert outcome("224.0.0.1") == "refused: 224.0.0.1 is a multicast address"
    asked.clear()
    assert (
        outcome("ce.site.example", 444)
        == "refused: ce.site.example:444 is not a registered endpoint"
    )
    assert outcome("public.example") == "refused: public.example:443 is not a registered endpoint"
    assert asked == []  # an unregistered destination is refused before any look-up


def test_the_policy_allow_list_still_applies() -> None:
    resolve, _ = _resolver({"lo.site.example": ["127.0.0.1"], "empty.example": []})
    policy = EgressPolicy(allow=parse_allow(["127.0.0.0/8"]), resolver=resolve)
    targets = [
        Target("lo.site.example", 80, "http://lo.site.example/"),
        Target("empty.example", 80, ""),
    ]
    egress = ProbeEgress.for_targets(policy, targets)
    assert [str(a) for a in asyncio.run(egress.resolve("lo.site.example", 80))] == ["127.0.0.1"]
    with pytest.raises(OSError, match="no address"):
        asyncio.run(egress.resolve("empty.example", 80))


def test_the_system_resolver_is_asked_asynchronously() -> None:
    egress = ProbeEgress.for_targets(
        EgressPolicy(allow_loopback=True), [Target("localhost", 80, "http://localhost/")]
    )
    assert all(a.is_loopback for a in asyncio.run(egress.resolve("localhost", 80)))
