"""X.509 client certificates: the subject DN in OpenSSL's slash form (as GOCDB stores it),
RFC 3820 and legacy Globus proxy certificates, the TLS-terminating proxies whose DN header
is trusted, and the DN a connection's scope carries (gateway/protocol.py puts the peer
certificate into the ASGI TLS extension)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from domains.common.errors import Unauthenticated
from domains.common.x509dn import slash_dn

PROXY_CERT_INFO = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14")  # RFC 3820
# a legacy (pre-RFC) Globus proxy: the issuer's subject and one more CN of these
_LEGACY_PROXY_CN = re.compile(r"proxy|limited proxy|[0-9]+")


def header_dn(value: str) -> str:
    """The DN a TLS-terminating proxy sent: slash form as it is (Apache's
    `SSLOptions +LegacyDNStringFormat`, nginx's `$ssl_client_s_dn_legacy`), an RFC 4514
    string (nginx's `$ssl_client_s_dn`, Apache's default) converted to slash form."""
    value = value.strip()
    if not value:
        raise Unauthenticated("the client DN header is empty")
    if value.startswith("/"):
        return value
    try:
        return slash_dn(x509.Name.from_rfc4514_string(value))
    except ValueError as exc:
        raise Unauthenticated("the client DN header is not a distinguished name") from exc


def _is_legacy_proxy(cert: x509.Certificate) -> bool:
    subject, issuer = cert.subject.rdns, cert.issuer.rdns
    if len(subject) != len(issuer) + 1 or subject[:-1] != issuer:
        return False
    last = list(subject[-1])
    return (
        len(last) == 1
        and last[0].oid == NameOID.COMMON_NAME
        and isinstance(last[0].value, str)
        and _LEGACY_PROXY_CN.fullmatch(last[0].value) is not None
    )


def is_proxy(cert: x509.Certificate) -> bool:
    """An RFC 3820 proxy (proxyCertInfo) or a legacy Globus one (by its subject)."""
    try:
        cert.extensions.get_extension_for_oid(PROXY_CERT_INFO)
    except x509.ExtensionNotFound:
        return _is_legacy_proxy(cert)
    return True


NO_PROXY_CHAIN = (
    "proxy certificates (RFC 3820) are refused: this server cannot see the verified chain "
    "that names their owner (Python before 3.13); present the end-entity certificate"
)


def owner_dn(chain: Sequence[x509.Certificate]) -> str:
    """The DN a verified chain (the peer's certificate first) identifies: the subject of
    its first certificate that is not a proxy, i.e. a proxy's (of a proxy's …) owner.
    Unauthenticated when the chain holds proxies only (the end-entity certificate that
    signed them is not known here)."""
    for cert in chain:
        if not is_proxy(cert):
            return slash_dn(cert.subject)
    raise Unauthenticated(NO_PROXY_CHAIN)


def client_dn_from_scope(scope: Mapping[str, Any]) -> str | None:
    """The verified client DN of a connection, from the ASGI TLS extension that
    gateway/protocol.py fills: None without a client certificate. Its chain is the
    verified one where Python exposes it (3.13+), else the peer's certificate alone: a
    proxy certificate then names no owner and is refused."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    chain: Iterable[str] = tls.get("client_cert_chain") or ()
    certs = [x509.load_pem_x509_certificate(pem.encode("ascii")) for pem in chain]
    return owner_dn(certs) if certs else None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: Iterable[str]) -> tuple[Network, ...]:
    """OPSGRAPH_TRUSTED_PROXIES: addresses and CIDR ranges. ValueError for a bad one."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw if item.strip())


def peer_is_trusted(host: str | None, networks: Sequence[Network]) -> bool:
    if host is None or not networks:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
