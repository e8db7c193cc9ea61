"""A real SMTP server on loopback (aiosmtpd) that keeps what arrived.

A message counts as arrived once the server has answered 250 to its DATA, as a real MTA
takes responsibility only then. While `hold` is clear, the server waits before answering
DATA (`held` counts the messages waiting): a client killed meanwhile drops the connection,
aiosmtpd cancels the wait and the message never arrives, as with a real server.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOLD_LIMIT = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpServer:
    def __init__(self, login: tuple[str, str] | None = None) -> None:
        """`login`: (user, password) the server requires (AUTH over plain SMTP: loopback)."""
        self.login = login
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        self.held = 0
        self.port = _free_port()
        auth: dict[str, Any] = {}
        if login is not None:
            auth = {
                "authenticator": self._authenticate,
                "auth_required": False,  # True warns without TLS; a bad login still fails
                "auth_require_tls": False,
            }
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **auth)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.login == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
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
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

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
