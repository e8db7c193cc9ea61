"""Where a probe may go: the host and port the topology registers for an endpoint, and
nowhere else.

A monitored endpoint is a service row (host name, service type, optional URL). Its target
is its URL's host and port (the scheme's port when the URL names none) or, without a URL,
its host name on the service type's documented default port: the port of the type's main
endpoint in topology's reference (`domains/topology/seed/reference.toml`, e.g. Top-BDII's
`ldap://{host}:2170/…`). A type without a documented URL has no default: such an
endpoint needs a URL to be probed.

`ProbeEgress` is the egress policy of `domains/common/egress.py` (OPSGRAPH_EGRESS_ALLOW,
OPSGRAPH_ALLOW_INSECURE_PUSH, its address classification and resolver) with the
registered targets added as allowed destinations: a registered host and port may resolve
to a private address (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 — sites' services
often sit there), never to a loopback, link-local (cloud metadata), multicast,
unspecified or reserved one unless the policy itself allows that address. Any host and
port not registered is refused before a name is resolved; a registered name is resolved
once, every address checked, and the probe connects to a checked address (TLS still
names the host), so DNS rebinding cannot turn a registered name into another target.

opsgraph's own listeners (the host and port of OPSGRAPH_PUBLIC_URL, or where `serve`
listens: `own_listener`) are allowed destinations too, at any address, loopback included,
as long as the topology registers them (opsgraph's own report, domains/monitoring/selfmon.py):
the operator configured that address, a registered endpoint of a site did not."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from domains.common.egress import (
    STRICT,
    EgressPolicy,
    EgressRefused,
    IPAddress,
    address_class,
    system_resolver,
)
from domains.topology.seed.reference import reference

SCHEME_PORTS = {
    "http": 80,
    "https": 443,
    "davs": 443,
    "dav": 80,
    "ldap": 389,
    "ldaps": 636,
    "gsiftp": 2811,
    "root": 1094,
    "xroot": 1094,
    "httpg": 8443,
}
# what a registered endpoint may resolve to beyond what the policy allows
REGISTERED_CLASSES = frozenset({"private", "site-local", "non-public"})


class TargetError(ValueError):
    """An endpoint the topology registers no probe-able host and port for."""


@dataclass(frozen=True, slots=True)
class Target:
    host: str  # as registered (a name or an address literal, without brackets)
    port: int
    url: str  # the registered URL, or scheme://host:port/ from the documented default

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()


def default_url(service_type: str, host: str) -> str | None:
    """scheme://host:port/ of the service type's documented main endpoint; None when the
    reference documents none for the type."""
    spec = reference().service_types.get(service_type)
    if spec is None or not spec.endpoints:
        return None
    documented = urlsplit(spec.endpoints[0].url_for(host="h.invalid", site="s", vo="v"))
    port = documented.port or SCHEME_PORTS.get(documented.scheme)
    if port is None:
        return None
    return f"{documented.scheme}://{_netloc(host)}:{port}/"


def _netloc(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def target_of(host_name: str, service_type: str, url: str | None) -> Target:
    """The target of an endpoint as the topology registers it (TargetError if none)."""
    if url:
        parts = urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError as exc:
            raise TargetError(f"{url!r} has an invalid port") from exc
        host = (parts.hostname or "").rstrip(".")
        port = port or SCHEME_PORTS.get(parts.scheme.lower())
        if not host or port is None:
            raise TargetError(f"{url!r} names no host and port")
        return Target(host, port, url.strip())
    host = host_name.strip().lower().rstrip(".")
    fallback = default_url(service_type, host) if host else None
    if fallback is None:
        raise TargetError(f"{service_type} documents no default port and {host_name} no URL")
    parts = urlsplit(fallback)
    assert parts.port is not None
    return Target(host, parts.port, fallback)


@dataclass(frozen=True, slots=True)
class ProbeEgress:
    policy: EgressPolicy = STRICT
    registered: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    own: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # opsgraph's listeners

    @classmethod
    def for_targets(
        cls, policy: EgressPolicy, targets: Iterable[Target], *, own: Iterable[Target] = ()
    ) -> ProbeEgress:
        return cls(
            policy,
            frozenset((_key(t.host), t.port) for t in targets),
            frozenset((_key(t.host), t.port) for t in own),
        )

    def refusal(self, host: str, port: int, ip: IPAddress) -> str | None:
        """Why connecting to `ip` for the registered (host, port) is refused, or None."""
        if (_key(host), port) in self.own:
            return None
        reason = self.policy.address_refusal(host, ip)
        if reason is None or address_class(ip) in REGISTERED_CLASSES:
            return None
        return reason

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The checked addresses to connect to: EgressRefused for an unregistered host and
        port or any refused address; OSError when the name does not resolve."""
        if (_key(host), port) not in self.registered:
            raise EgressRefused(f"{host}:{port} is not a registered endpoint")
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            if self.policy.resolver is system_resolver:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM
                )
                raw = list(dict.fromkeys(str(info[4][0]) for info in infos))
            else:
                raw = list(self.policy.resolver(host, port))
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in raw]
            if not addresses:
                raise OSError(f"{host} resolves to no address")
        for ip in addresses:
            reason = self.refusal(host, port, ip)
            if reason is not None:
                raise EgressRefused(reason)
        return addresses


def own_listener(base_url: str | None) -> Target | None:
    """The target of this server's own base URL (None without one or when it names no
    host and port)."""
    if not base_url:
        return None
    try:
        return target_of("", "", base_url)
    except TargetError:
        return None


def _key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
