"""A real SMTP server on loopback (aiosmtpd) that keeps what arrived.

A message counts as arrived once the server has answered 250 to its DATA, as a real MTA
takes responsibility only then. While `hold` is clear, the server waits before answering
DATA (`held` counts the messages waiting): a client killed meanwhile drops the connection,
aiosmtpd cancels the wait and the message never arrives, as with a real server.

With a certificate (tests.compat.tls) the server speaks TLS: `tls="starttls"` offers
STARTTLS and refuses every other command (AUTH, MAIL) before it, as a submission relay on
port 587 does; `tls="implicit"` is TLS from the first byte (smtps, port 465).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.compat.tls import ServerCertificate
from tests.server import free_port

HOLD_LIMIT = 120.0


class SmtpServer:
    def __init__(
        self,
        login: tuple[str, str] | None = None,
        *,
        certificate: ServerCertificate | None = None,
        tls: Literal["starttls", "implicit"] = "starttls",
    ) -> None:
        """`login`: (user, password) the server accepts; over plain SMTP (loopback) the
        login is optional, under TLS the server requires it before MAIL.
        `certificate`: speak TLS (`tls`) with this certificate."""
        if tls not in ("starttls", "implicit"):
            raise ValueError(tls)
        self.login = login
        self.tls = tls if certificate is not None else None
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.encrypted: list[bool] = []  # per message: whether it came over TLS
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        self.held = 0
        self.port = free_port()
        options: dict[str, Any] = {}
        if login is not None:
            options = {
                "authenticator": self._authenticate,
                "auth_required": False,  # True warns without TLS; a bad login still fails
                "auth_require_tls": False,
            }
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(certificate.cert_file, certificate.key_file)
            if login is not None:
                options["auth_required"] = True
            if tls == "starttls":
                options.update(tls_context=context, require_starttls=True)
                if login is not None:
                    options["auth_require_tls"] = True  # AUTH only after STARTTLS
            else:  # TLS from the first byte: aiosmtpd's STARTTLS state does not apply
                options["ssl_context"] = context
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(  # noqa: N802 (aiosmtpd calls handle_<SMTP verb>)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if not self.hold.is_set():
            with self.lock:
                self.held += 1
            try:  # cancelled when the client's connection drops
                await asyncio.to_thread(self.hold.wait, HOLD_LIMIT)
            finally:
                with self.lock:
                    self.held -= 1
        content: Any = envelope.original_content or envelope.content
        with self.lock:
            self.messages.append(message_from_bytes(content))
            self.recipients.append(list(envelope.rcpt_tos))
            transport = server.transport
            self.encrypted.append(
                transport is not None and transport.get_extra_info("ssl_object") is not None
            )
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        scheme = {None: "smtp", "starttls": "smtp+starttls", "implicit": "smtps"}[self.tls]
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.hold.set()
        self.controller.stop()

    def received(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def held_count(self) -> int:
        with self.lock:
            return self.held

    def by_message_id(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.received())


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback, for one test (the notification tests' conftest)."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
