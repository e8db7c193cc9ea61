"""What the egress tests share: a fake resolver (names -> addresses, in turn for DNS
rebinding) and a guard that records every outbound TCP connection of the process and
refuses any that is not to loopback, so a test never sends traffic off this machine even
when the code under test is wrong."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from domains.common.egress import EgressPolicy, parse_allow


class FakeDns:
    """`answers[name]`: the addresses of `name`; a list of lists answers each in turn (the
    last one from then on). A name not in it does not resolve."""

    def __init__(self, answers: Mapping[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self.answers = dict(answers)
        self.asked: list[str] = []
        self._turn: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, host: str, port: int) -> list[str]:
        with self._lock:
            self.asked.append(host)
            answer = self.answers.get(host)
            if answer is None:
                raise socket.gaierror(socket.EAI_NONAME, f"{host}: no such name (fake)")
            if answer and not isinstance(answer[0], str):
                turn = self._turn.get(host, 0)
                self._turn[host] = turn + 1
                return list(answer[min(turn, len(answer) - 1)])
            return [str(a) for a in answer]


class Connections:
    """Every socket.create_connection of the process while installed (httpcore's and
    smtplib's way to connect): recorded, and refused unless to loopback."""

    def __init__(self) -> None:
        self.made: list[tuple[str, int]] = []
        self.refused: list[tuple[str, int]] = []


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    seen = Connections()
    original = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False  # a name: the egress client never connects to a name
        if not loopback:
            seen.refused.append((host, port))
            raise AssertionError(f"a test tried to connect to {host}:{port}")
        seen.made.append((host, port))
        return original(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return seen


PUBLIC = "93.184.215.14"  # a public address: checked, never connected to


def policy(dns: FakeDns, *allow: str, loopback: bool = False, verify: Any = True) -> EgressPolicy:
    return EgressPolicy(
        allow=parse_allow(allow), allow_loopback=loopback, resolver=dns, verify=verify
    )
