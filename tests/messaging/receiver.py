"""A real push endpoint on loopback (threaded http.server) that records what it is sent.

- GET /ams_verification_hash answers 200 with `hash` (the endpoint owner's proof);
- POST anything: recorded, then held while `hold` is clear, then answered `fail_status`
  (with `fail_body`) while `fail_next` > 0, else `ok_status`.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD_LIMIT = 120.0  # seconds a held POST waits at most (the test failed by then)


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: a server context, to answer over HTTPS (the URL then says https)."""
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.hash = ""
        self.fail_next = 0
        self.fail_status = 500
        self.fail_body = "boom"
        self.ok_status = 200
        self.hold = threading.Event()
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _record(self, body: bytes) -> None:
                with receiver.lock:
                    receiver.requests.append(
                        Received(
                            self.command,
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._record(b"")
                if self.path == "/ams_verification_hash":
                    self._answer(200, receiver.hash.encode())
                else:
                    self._answer(404, b"not found")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._record(body)
                receiver.hold.wait(HOLD_LIMIT)
                with receiver.lock:
                    failing = receiver.fail_next > 0
                    if failing:
                        receiver.fail_next -= 1
                if failing:
                    self._answer(receiver.fail_status, receiver.fail_body.encode())
                else:
                    self._answer(receiver.ok_status, b"")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http" if tls is None else "https"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def posts(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [
                r for r in self.requests if r.method == "POST" and (path is None or r.path == path)
            ]

    def gets(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "GET"]

    def message_ids(self, path: str | None = None) -> list[str]:
        """messageIds in the order they arrived, over every POST (single or batched)."""
        ids: list[str] = []
        for post in self.posts(path):
            body = post.json()
            items = body.get("messages", [body])
            ids.extend(item["message"]["messageId"] for item in items)
        return ids

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
