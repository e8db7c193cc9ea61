"""Unit tests of gateway/auth/x509.py and gateway/tls.py: the DN in OpenSSL's slash form
(compared with what `openssl x509 -subject -nameopt compat` prints), DN headers, proxy
certificates, trusted proxies, the settings, and the TLS scope extension."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from domains.common.errors import Invalid, Unauthenticated
from domains.common.x509dn import slash_dn
from gateway.auth.x509 import (
    NO_PROXY_CHAIN,
    client_dn_from_scope,
    header_dn,
    is_proxy,
    owner_dn,
    parse_networks,
    peer_is_trusted,
)
from gateway.config import Settings
from gateway.tls import ClientCertificates, tls_extension
from tests.compat.tls import JANE, OPENSSL, Authority, Pki, _key, make_pki, proxy_of, slash_name


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _openssl_subject(cert: x509.Certificate, tmp_path: Path) -> str:
    path = tmp_path / "c.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    done = subprocess.run(
        [OPENSSL, "x509", "-in", str(path), "-noout", "-subject", "-nameopt", "compat"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().removeprefix("subject=")


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    return x509.NameAttribute(oid, value)


def test_slash_form_is_openssls(tmp_path: Path) -> None:
    """RDN order as in the certificate, multi-valued RDNs joined by `+`, `/` and `+`
    escaped, non-ASCII as \\xHH, unknown attributes by their OID: as OpenSSL prints it."""
    rdn = x509.RelativeDistinguishedName
    name = x509.Name(
        [
            rdn([_attr(NameOID.DOMAIN_COMPONENT, "org")]),
            rdn([_attr(NameOID.DOMAIN_COMPONENT, "example")]),
            rdn(
                [
                    _attr(NameOID.ORGANIZATION_NAME, "Org/Unit"),
                    _attr(NameOID.ORGANIZATIONAL_UNIT_NAME, "A+B"),
                ]
            ),
            rdn([_attr(NameOID.COMMON_NAME, "Jané Doe, =\\x")]),
            rdn([_attr(NameOID.EMAIL_ADDRESS, "jane@example.org")]),
            rdn([_attr(NameOID.USER_ID, "jdoe")]),
            rdn([_attr(x509.ObjectIdentifier("1.2.3.4"), "other")]),
        ]
    )
    key = _key()
    cert = Authority.make("/CN=Issuer").issue(name, key)
    ours = slash_dn(cert.subject)  # parsed back: the multi-valued RDN in DER's order
    assert ours == _openssl_subject(cert, tmp_path)
    assert ours.startswith("/DC=org/DC=example/")
    assert "O=Org\\/Unit" in ours
    assert "OU=A\\+B" in ours
    assert (
        "/CN=Jan\\xC3\\xA9 Doe, =\\x/emailAddress=jane@example.org/UID=jdoe/1.2.3.4=other" in ours
    )


def test_a_plain_dn(pki: Pki) -> None:
    assert slash_dn(_certs(pki.valid.cert_file)[0].subject) == JANE


def test_header_dn_takes_slash_form_and_rfc4514() -> None:
    assert header_dn(f" {JANE} ") == JANE
    # nginx's $ssl_client_s_dn (RFC 4514: the last RDN first)
    assert header_dn("CN=Jane Doe,O=Example,DC=example,DC=org") == JANE
    with pytest.raises(Unauthenticated, match="empty"):
        header_dn("  ")
    with pytest.raises(Unauthenticated, match="not a distinguished name"):
        header_dn("not a DN")


def test_proxy_certificates_are_recognised(pki: Pki) -> None:
    proxy, owner = _certs(pki.proxy.cert_file)
    legacy, _ = _certs(pki.legacy_proxy.cert_file)
    assert is_proxy(proxy)
    assert is_proxy(legacy)
    assert not is_proxy(owner)
    assert slash_dn(proxy.subject).startswith(JANE + "/CN=")
    assert slash_dn(legacy.subject) == JANE + "/CN=proxy"


def test_a_subject_ending_in_a_number_is_no_proxy_unless_its_issuer_is_the_rest() -> None:
    ca = Authority.make("/DC=org/CN=CA")
    cert = ca.issue(slash_name("/DC=org/CN=CA/CN=12"), _key())  # a CA's subject + CN, by a CA
    assert is_proxy(cert)  # by its name (a legacy proxy cannot be told apart otherwise)
    other = ca.issue(slash_name("/DC=org/CN=Robot/CN=12"), _key())
    assert not is_proxy(other)
    named = ca.issue(slash_name("/DC=org/CN=CA/CN=host"), _key())
    assert not is_proxy(named)


def test_a_verified_proxy_chain_maps_to_its_owner(pki: Pki) -> None:
    proxy, owner = _certs(pki.proxy.cert_file)
    owner_key = serialization.load_pem_private_key(pki.proxy.key_file.read_bytes(), None)
    assert isinstance(owner_key, type(_key()))
    # a proxy of the proxy: still Jane
    second = proxy_of(proxy, owner_key, _key())
    ca = _certs(pki.ca_file)[0]
    assert owner_dn([proxy, owner, ca]) == JANE
    assert owner_dn([second, proxy, owner, ca]) == JANE
    assert owner_dn([owner, ca]) == JANE
    with pytest.raises(Unauthenticated) as refused:
        owner_dn([proxy])
    assert refused.value.message == NO_PROXY_CHAIN


def _scope(*certs: x509.Certificate) -> dict[str, Any]:
    chain = [c.public_bytes(serialization.Encoding.PEM).decode() for c in certs]
    return {"type": "http", "extensions": {"tls": {"client_cert_chain": chain}}}


def test_the_dn_of_a_scope(pki: Pki) -> None:
    proxy, owner = _certs(pki.proxy.cert_file)
    assert client_dn_from_scope({"type": "http"}) is None
    assert client_dn_from_scope({"type": "http", "extensions": {"tls": {}}}) is None
    assert client_dn_from_scope(_scope(owner)) == JANE
    # Python 3.11 hands over the peer's certificate alone: a proxy names no owner
    with pytest.raises(Unauthenticated, match="RFC 3820"):
        client_dn_from_scope(_scope(proxy))
    # the verified chain (Python 3.13's get_verified_chain) does
    assert client_dn_from_scope(_scope(proxy, owner)) == JANE


def test_trusted_peers() -> None:
    networks = parse_networks(["10.0.0.0/8", " 192.0.2.7 ", "", "2001:db8::/32"])
    assert peer_is_trusted("10.1.2.3", networks)
    assert peer_is_trusted("192.0.2.7", networks)
    assert peer_is_trusted("::ffff:10.9.9.9", networks)  # a v4 peer on a dual-stack socket
    assert peer_is_trusted("2001:db8::1", networks)
    assert not peer_is_trusted("192.0.2.8", networks)
    assert not peer_is_trusted("testclient", networks)
    assert not peer_is_trusted(None, networks)
    assert not peer_is_trusted("10.1.2.3", ())
    with pytest.raises(ValueError, match="10.0.0.0/33"):
        parse_networks(["10.0.0.0/33"])


def test_settings() -> None:
    settings = Settings.from_env(
        {
            "OPSGRAPH_CLIENT_DN_HEADER": "X-SSL-Client-S-DN",
            "OPSGRAPH_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8",
        }
    )
    assert settings.client_dn_header == "x-ssl-client-s-dn"
    assert len(settings.trusted_proxies) == 2
    assert Settings.from_env({}).client_dn_header is None
    with pytest.raises(Invalid) as no_proxies:
        Settings.from_env({"OPSGRAPH_CLIENT_DN_HEADER": "X-SSL-Client-S-DN"})
    assert no_proxies.value.field == "OPSGRAPH_TRUSTED_PROXIES"
    with pytest.raises(Invalid) as bad:
        Settings.from_env({"OPSGRAPH_TRUSTED_PROXIES": "proxy.example.org"})
    assert bad.value.field == "OPSGRAPH_TRUSTED_PROXIES"


def test_client_certificate_options(pki: Pki, tmp_path: Path) -> None:
    assert ClientCertificates(str(pki.ca_dir), str(pki.crl_dir)).check() is None
    assert ClientCertificates(str(pki.ca_file)).check() is None
    assert "no such file" in (ClientCertificates(str(tmp_path / "none")).check() or "")
    wrong = ClientCertificates(str(pki.ca_file), str(pki.ca_file)).check()
    assert "not a directory" in (wrong or "")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ClientCertificates(str(pki.ca_dir), str(pki.crl_dir)).configure(context)
    assert context.verify_mode is ssl.CERT_OPTIONAL
    assert context.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN
    assert context.verify_flags & ssl.VERIFY_ALLOW_PROXY_CERTS


class _Transport:
    def __init__(self, ssl_object: object | None) -> None:
        self.ssl_object = ssl_object

    def get_extra_info(self, name: str) -> object | None:
        return self.ssl_object if name == "ssl_object" else None


class _SSLObject:
    def __init__(self, der: bytes | None) -> None:
        self.der = der

    def getpeercert(self, binary_form: bool = False) -> bytes | None:
        assert binary_form
        return self.der

    def version(self) -> str:
        return "TLSv1.3"


def test_the_tls_extension(pki: Pki) -> None:
    assert tls_extension(_Transport(None)) is None  # type: ignore[arg-type]
    none = tls_extension(_Transport(_SSLObject(None)))  # type: ignore[arg-type]
    assert none is not None
    assert none["client_cert_chain"] == []
    assert none["tls_version"] == 0x0304
    cert = _certs(pki.valid.cert_file)[0]
    tls = tls_extension(
        _Transport(_SSLObject(cert.public_bytes(serialization.Encoding.DER)))  # type: ignore[arg-type]
    )
    assert tls is not None
    assert tls["client_cert_name"] == "CN=Jane Doe,O=Example,DC=example,DC=org"
    assert client_dn_from_scope({"extensions": {"tls": tls}}) == JANE


def test_serve_checks_the_client_certificate_options(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before anything starts (exit 2, a message naming the option)."""
    from gateway import cli

    tls = ["--ssl-certfile", str(pki.server.cert_file), "--ssl-keyfile", str(pki.server.key_file)]
    cases = [
        ([*tls, "--ssl-ca-certs", str(tmp_path / "none")], "no such file"),
        ([*tls, "--ssl-ca-certs", str(pki.ca_dir), "--ssl-crl-dir", str(pki.ca_file)], "not a"),
        (["--ssl-ca-certs", str(pki.ca_dir)], "needs --ssl-certfile"),
        ([*tls, "--ssl-crl-dir", str(pki.crl_dir)], "goes with --ssl-ca-certs"),
    ]
    for args, message in cases:
        assert cli.main(["serve", *args]) == 2
        assert message in capsys.readouterr().err
