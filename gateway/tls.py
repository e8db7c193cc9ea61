"""`opsgraph serve`'s TLS with client certificates: the server's SSLContext (an optional
client certificate, verified against an IGTF-style CA directory or a bundle, with CRLs),
and the peer certificate handed to the application as the ASGI TLS extension
(`scope["extensions"]["tls"]`), which uvicorn does not fill.

uvicorn builds each connection's protocol object from the class it is given (`http=`,
`ws=`); `TLSScope` wraps that object's application so that every scope it starts (HTTP
requests, and the WebSocket handshake after an upgrade) carries the connection's
certificate. It relies on uvicorn's protocol classes keeping the application in
`self.app` and calling it per request: pyproject.toml pins uvicorn's minor version, and
tests/compat/test_x509_live.py checks it against a real `opsgraph serve`.

Python before 3.13 gives only the peer's own certificate (`getpeercert(binary_form=True)`),
not the verified chain; from 3.13 on `get_verified_chain()` gives the chain, and proxy
certificates can be mapped to their owner (gateway/auth/x509.py).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


@dataclass(frozen=True, slots=True)
class ClientCertificates:
    """`serve --ssl-ca-certs DIR_OR_FILE [--ssl-crl-dir DIR]`."""

    ca_certs: str
    crl_dir: str | None = None

    def check(self) -> str | None:
        """What is wrong with the paths (a message), or None."""
        if not Path(self.ca_certs).exists():
            return f"--ssl-ca-certs {self.ca_certs}: no such file or directory"
        if self.crl_dir is not None and not Path(self.crl_dir).is_dir():
            return f"--ssl-crl-dir {self.crl_dir}: not a directory"
        return None

    def context_factory(
        self, _config: object, default: Callable[[], ssl.SSLContext]
    ) -> ssl.SSLContext:
        """uvicorn's `ssl_context_factory`: its context (certificate and key), configured."""
        return self.configure(default())

    def configure(self, context: ssl.SSLContext) -> ssl.SSLContext:
        """Ask for a client certificate (optional: callers without one are anonymous) and
        verify it: a certificate that does not verify fails the handshake."""
        context.verify_mode = ssl.CERT_OPTIONAL
        if Path(self.ca_certs).is_dir():
            context.load_verify_locations(capath=self.ca_certs)  # <hash>.0, as IGTF lays out
        else:
            context.load_verify_locations(cafile=self.ca_certs)
        # RFC 3820 proxies verify (OpenSSL checks their naming and signer); the
        # application maps them to their owner or refuses them
        flags = context.verify_flags | ssl.VERIFY_ALLOW_PROXY_CERTS
        if self.crl_dir is not None:
            # <hash>.r0 files, looked up like the CAs; every certificate of the chain
            context.load_verify_locations(capath=self.crl_dir)
            flags |= ssl.VERIFY_CRL_CHECK_CHAIN
        context.verify_flags = flags
        return context


def tls_extension(transport: asyncio.BaseTransport) -> dict[str, Any] | None:
    """The ASGI TLS extension of a connection; None for plain HTTP."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    verified = getattr(ssl_object, "get_verified_chain", None)  # Python 3.13+
    if verified is not None:  # pragma: no cover (the project runs 3.11)
        chain = [c.public_bytes() for c in verified()]  # PEM text, the default
    else:
        der = ssl_object.getpeercert(binary_form=True)
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
    name = (
        x509.load_pem_x509_certificate(chain[0].encode("ascii")).subject.rfc4514_string()
        if chain
        else None
    )
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class TLSScope(asyncio.Protocol):
    """Mixed into a uvicorn protocol class: its application sees the connection's TLS
    extension in every scope."""

    app: Any

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        tls = tls_extension(transport)
        if tls is None:
            return
        app = self.app

        async def with_tls(scope: Any, receive: Any, send: Any) -> None:
            extensions = {**(scope.get("extensions") or {}), "tls": tls}
            await app({**scope, "extensions": extensions}, receive, send)

        self.app = with_tls


class TLSWebSocketProtocol(TLSScope, WebSocketsSansIOProtocol):
    """uvicorn's default WebSocket protocol (websockets' sans-I/O) with the TLS scope."""
