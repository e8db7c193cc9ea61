"""S/MIME messages as APEL's SSM sends them: `multipart/signed` with the host certificate,
optionally encrypted to the server's certificate. Opened with the `openssl` command, as SSM
itself does (ssm/crypto.py): decrypted with the server's key when enveloped, the signature
and the signer's certificate verified against the configured CAs, the content's MIME header
(SSM signs with `-text`) removed and its transfer encoding undone, and the signer's DN given
in OpenSSL's slash form. Nothing here reads the database.

Revocation: the CRLs in the CA path (`<hash>.r0` as fetch-crl writes them, or CRLs in the CA
file) are checked for every certificate of the signer's chain (`-crl_check_all`, as SSM's
`check_crls`); a revoked signer is refused with `SignerRevoked`, and an expired or badly
signed CRL refuses the message too. A CA with no CRL: with `crl_required`
(OPSGRAPH_ACCOUNTING_CRL_REQUIRED, SSM's `check_crls = true`) the message is refused; without
it (the default) the chain is verified once more without revocation checks, as SSM with
`check_crls = false` verifies it (so a chain with one CA lacking a CRL is not checked at all)."""

from __future__ import annotations

import base64
import binascii
import quopri
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from domains.common.settings import CoreSettings
from domains.common.x509dn import slash_dn

# a signature check of a message of a few MB takes well under a second
TIMEOUT_SECONDS = 30.0
_ENVELOPED = (b"application/pkcs7-mime", b"application/x-pkcs7-mime")


# openssl's words (X509_verify_cert_error_string) for a revoked certificate and a missing CRL
_REVOKED = b"certificate revoked"
_NO_CRL = b"unable to get certificate CRL"


class SmimeRefused(Exception):
    """The message could not be opened: `reason` says why, for the reject store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignerRevoked(SmimeRefused):
    """The signer's certificate (or a CA's above it) is on its CA's CRL."""


@dataclass(frozen=True, slots=True)
class CryptoConfig:
    ca_path: str | None  # a directory of hashed CA certificates (`openssl rehash`), or a file
    server_cert: str | None = None
    server_key: str | None = None
    openssl: str = "openssl"
    crl_required: bool = False  # refuse signers whose CAs publish no CRL in ca_path

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> CryptoConfig:
        """OPSGRAPH_ACCOUNTING_CA_PATH, _SERVER_CERT, _SERVER_KEY and _CRL_REQUIRED."""
        return cls(
            ca_path=settings.accounting_ca_path,
            server_cert=settings.accounting_server_cert,
            server_key=settings.accounting_server_key,
            crl_required=settings.accounting_crl_required,
        )


@dataclass(frozen=True, slots=True)
class Opened:
    content: bytes
    signer_dn: str


def _run(config: CryptoConfig, args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(  # noqa: S603  (fixed arguments, no shell)
            [config.openssl, *args],
            input=data,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SmimeRefused(f"openssl {args[0]} took over {TIMEOUT_SECONDS:.0f} s") from None
    except OSError as exc:
        raise SmimeRefused(f"openssl could not run ({exc.strerror})") from None


def _first_error(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    useful = [line for line in lines if line and "Verification failure" not in line]
    return (useful[0] if useful else "no detail")[:300]


def _decrypt(data: bytes, config: CryptoConfig) -> bytes:
    if not (config.server_cert and config.server_key):
        raise SmimeRefused("an encrypted message, and no server certificate and key configured")
    done = _run(
        config,
        ["smime", "-decrypt", "-recip", config.server_cert, "-inkey", config.server_key],
        data,
    )
    if done.returncode != 0:
        raise SmimeRefused(f"could not decrypt: {_first_error(done.stderr)}")
    return done.stdout


def _without_mime_header(content: bytes) -> bytes:
    """The signed part as SSM reads it: a MIME header (`Content-Type: text/plain`, maybe a
    transfer encoding), a blank line, the body; content without such a header is the body."""
    normal = content.replace(b"\r\n", b"\n")
    head, blank, body = normal.partition(b"\n\n")
    lines = head.split(b"\n")
    if (
        not blank
        or not all(b":" in line for line in lines)
        or not lines[0].lower().startswith(b"content-")
    ):
        return content
    header = head.lower()
    try:
        if b"quoted-printable" in header:
            return quopri.decodestring(body)
        if b"base64" in header:
            return base64.b64decode(body, validate=False)
    except (ValueError, binascii.Error):
        raise SmimeRefused("the signed content's transfer encoding is broken") from None
    return body


def open_message(data: bytes, config: CryptoConfig) -> Opened:
    """The verified content and the signer's DN, or SmimeRefused."""
    if not config.ca_path:
        raise SmimeRefused("no CA certificates configured (OPSGRAPH_ACCOUNTING_CA_PATH)")
    if any(marker in data[:8192] for marker in _ENVELOPED):
        data = _decrypt(data, config)
    if b"multipart/signed" not in data[:8192] and b"application/pkcs7-signature" not in data:
        raise SmimeRefused("not an S/MIME signed message")
    ca = (
        ["-CApath", config.ca_path]
        if Path(config.ca_path).is_dir()
        else ["-CAfile", config.ca_path]
    )
    with tempfile.TemporaryDirectory(prefix="opsgraph-smime-") as tmp:
        signer_file = Path(tmp) / "signer.pem"
        # "-purpose any": host certificates are often not meant for S/MIME (SSM skips that
        # check too); the chain, the validity dates, the CRLs and the signature are checked
        verify = ["smime", "-verify", *ca, "-purpose", "any", "-signer", str(signer_file)]
        done = _run(config, [*verify, "-crl_check_all"], data + b"\n\n")
        if done.returncode != 0 and _NO_CRL in done.stderr and not config.crl_required:
            done = _run(config, verify, data + b"\n\n")  # a CA without a CRL: see above
        if done.returncode != 0 or not signer_file.exists():
            if _REVOKED in done.stderr:
                raise SignerRevoked("the signer's certificate, or a CA's above it, is revoked")
            hint = " (OPSGRAPH_ACCOUNTING_CRL_REQUIRED)" if _NO_CRL in done.stderr else ""
            raise SmimeRefused(f"signature not verified: {_first_error(done.stderr)}{hint}")
        try:
            signer = x509.load_pem_x509_certificate(signer_file.read_bytes())
        except ValueError:
            raise SmimeRefused("the signer's certificate could not be read") from None
    return Opened(_without_mime_header(done.stdout), slash_dn(signer.subject))
