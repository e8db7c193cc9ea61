"""One egress policy: every outbound call the server makes for a user (push endpoints,
Mattermost hooks, downtime webhooks, push-endpoint verification; later probes) goes
through here, so the workers never become a scanner of the operator's own network.

    policy = EgressPolicy.from_settings(settings)
    policy.check_url(url)               # at input time: scheme, host, resolved addresses
    with policy.client(timeout=10) as http:  # an httpx client whose connections are checked
        http.post(url, content=...)

A destination is allowed when every address its name resolves to is public (`is_global`,
and not multicast, reserved, link-local, loopback, private or unspecified; an IPv4 address
embedded in IPv6 — mapped, 6to4, NAT64 — is judged as that IPv4 address), unless
OPSGRAPH_EGRESS_ALLOW lists its network (CIDR) or its host name. OPSGRAPH_ALLOW_INSECURE_PUSH
adds loopback (and plain http:// to a loopback host) for tests and local development.

The check runs at input time and again when connecting: the client's network backend
resolves the name once, checks every address, then connects to a checked address itself
(TLS still names the original host: SNI and certificate check, and the Host header, are
untouched). So a name that resolves to a public address when checked and to 127.0.0.1 a
moment later (DNS rebinding) never reaches 127.0.0.1. Redirects are not followed; had a
caller turned them on, each hop would be a new connection and checked the same way.
Environment proxies are ignored (a proxy would make the connection the policy cannot see).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httpcore2
import httpx2

from domains.common import tracing
from domains.common.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# host, port -> the IP addresses (as text) the name stands for; raises OSError when the
# name does not resolve. Tests inject a fake one; the default asks the system.
Resolver = Callable[[str, int], Sequence[str]]

ALLOW_SETTING = "OPSGRAPH_EGRESS_ALLOW"
REFUSED = "refused by egress policy"

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_loopback_host(host: str) -> bool:
    """Whether `host` (as written in a URL, not resolved) names this machine: `localhost`
    or a name under it (RFC 6761), or a loopback address (127.0.0.0/8, ::1, and
    ::ffff:127.x). The one definition of "loopback" for SMTP logins, push endpoints and
    webhooks."""
    host = host.lower().strip("[]").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return _loopback(ipaddress.ip_address(host))
    except ValueError:
        return False


def _loopback(ip: IPAddress) -> bool:
    return _as_v4(ip).is_loopback


def _as_v4(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), else `ip` itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def address_class(ip: IPAddress) -> str | None:
    """Why `ip` is not a public destination ("loopback", "private", ...); None if it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _IPV4_COMPATIBLE:
        return "unspecified" if ip.is_unspecified else "loopback" if ip.is_loopback else "reserved"
    ip = _as_v4(ip)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("non-public", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


@dataclass(frozen=True, slots=True)
class EgressAllow:
    """What OPSGRAPH_EGRESS_ALLOW lists: networks, host names, `*.domain` patterns."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # ".example.org" for "*.example.org"

    def host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.hosts or any(host.endswith(s) for s in self.suffixes)

    def address(self, ip: IPAddress) -> bool:
        candidates = {ip, _as_v4(ip)}
        return any(c in n for c in candidates for n in self.networks if c.version == n.version)


def parse_allow(entries: Iterable[str]) -> EgressAllow:
    """The entries of OPSGRAPH_EGRESS_ALLOW: CIDRs (10.1.2.0/24, fd00::/8, or one address)
    and host names (mattermost.internal, *.example.org). Invalid naming the variable."""
    networks: list[IPNetwork] = []
    hosts: set[str] = set()
    suffixes: list[str] = []
    rule = "comma-separated CIDRs (10.0.0.0/8, fd00::/8) or host names (a.example, *.example)"
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry[2:] if entry.startswith("*.") else entry
        labels = name.split(".")
        if "/" in entry or not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
            for label in labels
        ):
            raise Invalid(ALLOW_SETTING, rule, f"{ALLOW_SETTING}: {raw.strip()!r} is not {rule}")
        if entry.startswith("*."):
            suffixes.append("." + name)
        else:
            hosts.add(name)
    return EgressAllow(tuple(networks), frozenset(hosts), tuple(suffixes))


def scheme_refusal(scheme: str, host: str, *, allow_loopback: bool) -> str | None:
    """Why a URL's scheme and host are refused, None if they are not: https:// anywhere;
    http:// only to a loopback host, and only with loopback allowed
    (OPSGRAPH_ALLOW_INSECURE_PUSH). Where the host leads is `EgressPolicy.check_url`'s."""
    if not host:
        return "a URL with a host"
    if scheme == "https":
        return None
    if scheme == "http" and allow_loopback and is_loopback_host(host):
        return None
    if scheme == "http" and is_loopback_host(host):
        return "plain http:// only to loopback, with OPSGRAPH_ALLOW_INSECURE_PUSH on"
    return "an https:// URL"


class EgressRefused(httpx2.TransportError):
    """A destination the egress policy refuses: raised before any connection is made."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{REFUSED}: {reason}")
        self.reason = reason


class EgressSettings(Protocol):
    @property
    def egress_allow(self) -> tuple[str, ...]: ...

    @property
    def allow_insecure_push(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class EgressPolicy:
    allow: EgressAllow = field(default_factory=EgressAllow)
    allow_loopback: bool = False  # OPSGRAPH_ALLOW_INSECURE_PUSH: loopback, plain http there
    resolver: Resolver = system_resolver
    verify: ssl.SSLContext | bool = True  # the TLS trust of clients (tests: their own CA)

    @classmethod
    def from_settings(
        cls, settings: EgressSettings, *, resolver: Resolver = system_resolver
    ) -> EgressPolicy:
        return cls(
            allow=parse_allow(settings.egress_allow),
            allow_loopback=settings.allow_insecure_push,
            resolver=resolver,
        )

    # --- the rules -------------------------------------------------------------------

    def scheme_refusal(self, scheme: str, host: str) -> str | None:
        return scheme_refusal(scheme, host, allow_loopback=self.allow_loopback)

    def address_refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to `ip` for `host` is refused; None when it is allowed."""
        if self.allow.host(host) or self.allow.address(ip):
            return None
        if is_loopback_host(host) and not _loopback(ip):
            return f"{host} is a loopback name that resolves elsewhere"
        kind = address_class(ip)
        if kind is None or (kind == "loopback" and self.allow_loopback):
            return None
        literal = _literal(host) is not None
        return f"{host} is a {kind} address" if literal else f"{host} resolves to a {kind} address"

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for `host`, every one of them checked: EgressRefused
        if any is refused (a name with one public and one private address is refused, not
        half-used); OSError when the name does not resolve."""
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in self.resolver(host, port)]
            if not addresses:
                raise socket.gaierror(socket.EAI_NONAME, "no address")
        for ip in addresses:
            reason = self.address_refusal(host, ip)
            if reason is not None:
                raise EgressRefused(reason)
        return addresses

    def check_url(self, url: str) -> None:
        """The input-time check of a destination URL: EgressRefused with the reason. A name
        that does not resolve (yet) passes: the connection is checked again anyway."""
        parts = urlsplit(url)
        try:
            host, port = parts.hostname or "", parts.port
        except ValueError as exc:
            raise EgressRefused("a valid port") from exc
        reason = self.scheme_refusal(parts.scheme, host)
        if reason is not None:
            raise EgressRefused(reason)
        try:
            self.resolve(host, port or (443 if parts.scheme == "https" else 80))
        except (OSError, UnicodeError, ValueError):
            return

    # --- the client ------------------------------------------------------------------

    def client(self, *, timeout: float) -> httpx2.Client:
        """An httpx client whose every connection is checked by this policy (no redirects,
        no environment proxies)."""
        return httpx2.Client(
            transport=_Transport(self),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class _Backend(httpcore2.SyncBackend):
    """Resolves once, checks, connects to a checked address (never to the name)."""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        try:
            addresses = self._policy.resolve(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore2.ConnectError(f"{host} does not resolve") from exc
        failure: Exception | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


class _Transport(httpx2.HTTPTransport):
    """httpx's transport on a connection pool whose network backend is `_Backend`. (Its
    own __init__ would only build a pool of its own, without a way to pass the backend.)"""

    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._pool = httpcore2.ConnectionPool(
            # trust as any httpx client (SSL_CERT_FILE honoured); proxies are off (Client)
            ssl_context=httpx2.create_ssl_context(verify=policy.verify, trust_env=True),
            network_backend=_Backend(policy),
        )

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        reason = self._policy.scheme_refusal(request.url.scheme, request.url.host)
        if reason is not None:
            raise EgressRefused(reason)
        url = request.url
        with tracing.outgoing(
            request.method, url.scheme, url.host, url.port, request.headers
        ) as span:
            response = super().handle_request(request)
            if span is not None:
                span.set_attribute("http.response.status_code", response.status_code)
            return response


def failure_class(exc: BaseException) -> str:
    """What class of failure an outbound call met, for what a user sees (push status,
    delivery errors): never the remote port's state nor the text of a system error, which
    would let a user tell an open port from a closed one."""
    if isinstance(exc, EgressRefused):
        return REFUSED
    if isinstance(exc, httpx2.TimeoutException | TimeoutError):
        return "timeout"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return "TLS error"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx2.ConnectError | httpx2.ReadError | httpx2.WriteError | OSError):
        return "connection failed"
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.DecodingError):
        return "invalid HTTP response"
    return "request failed"


def http_status_error(status: int) -> str:
    """The class of an unexpected answer: its status only, never the body (an excerpt of
    what a server answered is what a server-side request forgery would want to read)."""
    return f"HTTP {status}"


STRICT = EgressPolicy()  # public destinations only, asked of the system's resolver
