"""A throw-away certificate authority and a server certificate for 127.0.0.1/localhost
(or the names given), with subjectAltName (urllib3 2 ignores the CN), as a small
deployment would make; and (`make_pki`) a test CA laid out as an IGTF installation with
client certificates: valid, expired, revoked (with a CRL), from an untrusted CA, and
proxy certificates of a valid one."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class ServerCertificate:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_certificate(
    directory: Path, names: Sequence[str] = ("127.0.0.1", "localhost")
) -> ServerCertificate:
    """`names`: the host names and IP addresses the server certificate is for (the first
    is also its CN)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("opsgraph test CA"))
        .issuer_name(_name("opsgraph test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([_alt_name(n) for n in names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    paths = ServerCertificate(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# --- X.509 client certificates (tests/compat/test_x509*.py) ---------------------------

JANE = "/DC=org/DC=example/O=Example/CN=Jane Doe"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def slash_name(dn: str) -> x509.Name:
    """A DN in slash form (single-valued RDNs, no escapes) as a Name, in that order."""
    oids = {
        "DC": NameOID.DOMAIN_COMPONENT,
        "C": NameOID.COUNTRY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
        "L": NameOID.LOCALITY_NAME,
    }
    rdns = []
    for part in dn.strip("/").split("/"):
        key, _, value = part.partition("=")
        rdns.append(x509.RelativeDistinguishedName([x509.NameAttribute(oids[key], value)]))
    return x509.Name(rdns)


@dataclass(frozen=True)
class Authority:
    """A CA: its certificate and key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def make(cls, subject: str) -> Authority:
        now = dt.datetime.now(dt.UTC)
        key = _key()
        name = slash_name(subject)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    def issue(
        self,
        subject: x509.Name,
        key: ec.EllipticCurvePrivateKey,
        *,
        days: float = 1,
        expired: bool = False,
        server_names: Sequence[str] = (),
    ) -> x509.Certificate:
        now = dt.datetime.now(dt.UTC)
        start = now - dt.timedelta(days=3 if expired else 0, minutes=5)
        end = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=days)
        usage = (
            x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
            if server_names
            else x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_alt_name(n) for n in server_names]), False
            )
        return builder.sign(self.key, hashes.SHA256())

    def crl(self, revoked: Sequence[x509.Certificate]) -> x509.CertificateRevocationList:
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - dt.timedelta(minutes=5))
            .next_update(now + dt.timedelta(days=1))
        )
        for cert in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(cert.serial_number)
                .revocation_date(now - dt.timedelta(minutes=1))
                .build()
            )
        return builder.sign(self.key, hashes.SHA256())


def proxy_of(
    owner: x509.Certificate,
    owner_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    *,
    rfc3820: bool = True,
) -> x509.Certificate:
    """A proxy certificate `owner` signed: RFC 3820 (subject + /CN=<serial>, proxyCertInfo
    with the inherit-all policy), or a legacy Globus one (+ /CN=proxy, no extension)."""
    now = dt.datetime.now(dt.UTC)
    serial = x509.random_serial_number()
    cn = str(serial % 10**9) if rfc3820 else "proxy"
    subject = x509.Name(
        [
            *owner.subject.rdns,
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, cn)]),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(owner.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=12))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if rfc3820:
        # ProxyCertInfo ::= SEQUENCE { ProxyPolicy SEQUENCE { id-ppl-inheritAll } }
        inherit_all = bytes.fromhex("300c300a06082b06010505071501")
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.14"), inherit_all),
            critical=True,
        )
    return builder.sign(owner_key, hashes.SHA256())


@dataclass(frozen=True)
class Credential:
    """A client's certificate (file: it, then the chain it sends) and key files."""

    cert_file: Path
    key_file: Path
    dn: str


@dataclass(frozen=True)
class Pki:
    """A test CA with a server certificate and client certificates, laid out as an IGTF
    installation: `ca_dir` with hashed names (`<hash>.0`), `crl_dir` with `<hash>.r0`, and
    the same CA as a bundle (`ca_file`)."""

    ca_file: Path
    ca_dir: Path
    crl_dir: Path
    server: ServerCertificate
    valid: Credential
    other: Credential  # a second valid one
    expired: Credential
    revoked: Credential
    untrusted: Credential  # from a CA the server does not know
    proxy: Credential  # an RFC 3820 proxy of `valid`
    legacy_proxy: Credential  # a legacy Globus proxy of `valid`
    authority: Authority  # the test CA, for credentials of other DNs (`issue`)
    directory: Path

    def issue(self, name: str, dn: str) -> Credential:
        """A valid client credential for `dn` (slash form) from the test CA."""
        key = _key()
        paths = Credential(self.directory / f"{name}.pem", self.directory / f"{name}-key.pem", dn)
        paths.cert_file.write_bytes(_pem(self.authority.issue(slash_name(dn), key)))
        paths.key_file.write_bytes(_key_pem(key))
        return paths

    def client_context(self, credential: Credential | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if credential is not None:
            context.load_cert_chain(str(credential.cert_file), str(credential.key_file))
        return context


OPENSSL = shutil.which("openssl") or "openssl"


def _openssl_hash(kind: str, path: Path) -> str:
    done = subprocess.run(
        [OPENSSL, kind, "-hash", "-noout", "-in", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_pki(directory: Path) -> Pki:
    """Everything a client-certificate test needs, under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = Authority.make("/DC=org/DC=example/CN=opsgraph test CA")
    stranger = Authority.make("/DC=org/DC=elsewhere/CN=Another CA")

    def credential(
        name: str,
        authority: Authority,
        dn: str,
        *,
        expired: bool = False,
    ) -> tuple[Credential, x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = _key()
        cert = authority.issue(slash_name(dn), key, expired=expired)
        paths = Credential(directory / f"{name}.pem", directory / f"{name}-key.pem", dn)
        paths.cert_file.write_bytes(_pem(cert))
        paths.key_file.write_bytes(_key_pem(key))
        return paths, cert, key

    valid, valid_cert, valid_key = credential("valid", ca, JANE)
    other, _, _ = credential("other", ca, "/DC=org/DC=example/O=Example/CN=John Roe")
    expired, _, _ = credential(
        "expired", ca, "/DC=org/DC=example/O=Example/CN=Old Timer", expired=True
    )
    revoked, revoked_cert, _ = credential("revoked", ca, "/DC=org/DC=example/O=Example/CN=Revoked")
    untrusted, _, _ = credential("untrusted", stranger, "/DC=org/DC=elsewhere/CN=Stranger")

    def proxy(name: str, *, rfc3820: bool) -> Credential:
        key = _key()
        cert = proxy_of(valid_cert, valid_key, key, rfc3820=rfc3820)
        paths = Credential(directory / f"{name}.pem", directory / f"{name}-key.pem", JANE)
        # as grid-proxy-init writes it: the proxy, then the certificate that signed it
        paths.cert_file.write_bytes(_pem(cert) + _pem(valid_cert))
        paths.key_file.write_bytes(_key_pem(key))
        return paths

    server_key = _key()
    server_cert = ca.issue(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        server_key,
        server_names=("127.0.0.1", "localhost"),
    )
    server = ServerCertificate(
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server-key.pem",
    )
    server.ca_file.write_bytes(_pem(ca.cert))
    server.cert_file.write_bytes(_pem(server_cert))
    server.key_file.write_bytes(_key_pem(server_key))

    ca_dir, crl_dir = directory / "certificates", directory / "crls"
    ca_dir.mkdir()
    crl_dir.mkdir()
    crl_file = directory / "ca.crl.pem"
    crl_file.write_bytes(ca.crl([revoked_cert]).public_bytes(serialization.Encoding.PEM))
    (ca_dir / f"{_openssl_hash('x509', server.ca_file)}.0").write_bytes(_pem(ca.cert))
    (crl_dir / f"{_openssl_hash('crl', crl_file)}.r0").write_bytes(crl_file.read_bytes())
    return Pki(
        ca_file=server.ca_file,
        ca_dir=ca_dir,
        crl_dir=crl_dir,
        server=server,
        valid=valid,
        other=other,
        expired=expired,
        revoked=revoked,
        untrusted=untrusted,
        proxy=proxy("proxy", rfc3820=True),
        legacy_proxy=proxy("legacy-proxy", rfc3820=False),
        authority=ca,
        directory=directory,
    )
