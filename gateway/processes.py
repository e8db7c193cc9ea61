"""`opsgraph serve --processes N`: N server processes, forked from one parent.

The parent starts up once (migrations, the app and its schema), then forks: the children
share what start-up built, copy-on-write. Each child serves its own listening socket, the N
sockets bound by the parent to one port with SO_REUSEPORT, so the kernel spreads incoming
connections across them; a restarted child takes over its predecessor's socket and the
connections queued on it.

Child 0 alone runs the background work (WorkerRuntime: the outbox relay, the periodic jobs,
the heartbeat). The others wake it through a pipe after a commit that emitted events, and
every child passes the messaging topics of its commits to the others (domains/messaging/
notify.py), so a waiting pull wakes whichever process took the publish, SQLite included.
The pipes are a prompt wake-up only: a full pipe drops the byte, and the relay's poll
(OPSGRAPH_RELAY_INTERVAL) or the pull's wait then catches up; the work itself lives in the
database.

The parent does no serving. SIGTERM or SIGINT: it passes SIGTERM to every child and waits
for them (graceful shutdown, then the runtime's stop), killing any still alive after that.
A child that dies otherwise is forked again, unless it died within CRASH_SECONDS of its
start (a crash loop): then the parent stops the others and exits 1, for the service manager
to see. A child exits when the parent dies (PR_SET_PDEATHSIG), so none is left orphaned.

Metrics: `share_metrics` puts prometheus-client in its multiprocess mode before it is
imported, so every child's counters, histograms and WebSocket gauge live in files in one
fresh directory, summed at each scrape (gateway/metrics.py); the parent marks a dead child's
live gauges gone and removes the directory at exit. Tracing: each child makes a provider
and an exporter of its own (`tracing.after_fork`), its spans naming its pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domains.common import tracing
from domains.common.outbox import watch_commits
from domains.common.replica import replica_of
from domains.messaging import notify
from gateway.config import Settings

if TYPE_CHECKING:
    from workers.runtime import WorkerRuntime

log = logging.getLogger("opsgraph.processes")

CRASH_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1
_WAKE_RELAY = b"R\n"
_SIGNALS = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT}


def listen(host: str, port: int, count: int) -> list[socket.socket]:
    """`count` listening sockets on one address, in one SO_REUSEPORT group."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
        sockets.append(sock)
    return sockets


@dataclass
class _Siblings:
    """One pipe per child: child i reads pipe i; the others write to it."""

    count: int
    pipes: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for _ in range(self.count):
            read, write = os.pipe()
            os.set_blocking(write, False)
            self.pipes.append((read, write))

    def send(self, slot: int, data: bytes) -> None:
        # a wake-up only: when it is dropped, the relay's poll or the pull's wait catches up
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self.pipes[slot][1], data)

    def broadcast(self, me: int, topics: Iterable[int]) -> None:
        data = b"".join(b"T%d\n" % topic for topic in topics)
        for slot in range(self.count):
            if slot != me:
                self.send(slot, data)

    def read_loop(self, me: int, wake_relay: Callable[[], None]) -> None:
        """Child `me`'s reader thread: relay wake-ups and other children's topics."""
        pending = b""
        while True:
            chunk = os.read(self.pipes[me][0], 4096)
            if not chunk:
                return
            *lines, pending = (pending + chunk).split(b"\n")
            topics = [int(line[1:]) for line in lines if line[:1] == b"T" and line[1:].isdigit()]
            if topics:
                notify.notify_topics(topics)
            if any(line == _WAKE_RELAY.strip() for line in lines):
                wake_relay()


def share_metrics() -> str:
    """A fresh directory for the processes' metrics, as PROMETHEUS_MULTIPROC_DIR: set before
    prometheus_client is imported, since the library picks its value class (in memory, or
    in a file per process there) at import. Fresh, so no file of an earlier run is summed;
    `remove_metrics` removes it at exit."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("--processes: prometheus_client was imported before its directory")
    path = tempfile.mkdtemp(prefix="opsgraph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


def remove_metrics(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _ignore(_signum: int, _frame: object) -> None:
    return None


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the parent's SIGTERM is the only way
        return
    if os.getppid() != parent:  # the parent died before prctl
        os.kill(os.getpid(), signal.SIGTERM)


def _child(
    slot: int,
    parent: int,
    sockets: list[socket.socket],
    siblings: _Siblings,
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    make_server: Callable[[], uvicorn.Server],
    start_metrics: Callable[[WorkerRuntime], Callable[[], None]],
) -> None:
    """The body of child `slot` (never returns to the caller's stack)."""
    from workers.runtime import WorkerRuntime

    server = make_server()

    def stop(_signum: int, _frame: object) -> None:
        # before uvicorn handles signals itself (a stop asked during start-up), and when it
        # re-raises the stopping signal after its shutdown
        server.should_exit = True

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # what came meanwhile arrives now
    os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the parent only, which passes it on
    _die_with_parent(parent)
    tracing.after_fork(settings)  # OPSGRAPH_OTLP_ENDPOINT: this process's exporter
    for index, (read, _write) in enumerate(siblings.pipes):
        if index != slot:
            os.close(read)
            sockets[index].close()
    engine.dispose(close=False)  # connections are per process
    replica = replica_of(factory)
    if replica is not None:  # the standby's too (OPSGRAPH_DATABASE_READ_URL)
        replica.engine.dispose(close=False)
    runtime = None
    if slot == 0:
        runtime = WorkerRuntime(settings, schedule=settings.broker_url is None)
        wake = runtime.wake
        watch_commits(factory, wake)
    else:
        wake = _noop
        watch_commits(factory, lambda: siblings.send(0, _WAKE_RELAY))
    notify.forward_commits(lambda topics: siblings.broadcast(slot, topics))
    threading.Thread(
        target=siblings.read_loop, args=(slot, wake), name="opsgraph-siblings", daemon=True
    ).start()
    # OPSGRAPH_METRICS_ADDRESS: served by the child doing the background work
    stop_metrics = _noop if runtime is None else start_metrics(runtime)
    if runtime is not None:
        runtime.start()
    try:
        server.run(sockets=[sockets[slot]])
    finally:
        if runtime is not None:
            runtime.stop()
        stop_metrics()


def _noop() -> None:
    return None


def serve(
    *,
    processes: int,
    host: str,
    port: int,
    settings: Settings,
    engine: Engine,
    factory: sessionmaker[Session],
    make_server: Callable[[], uvicorn.Server],
    start_metrics: Callable[[WorkerRuntime], Callable[[], None]],
) -> int:
    """Fork `processes` children, each serving with a `make_server()`, and supervise them."""
    sockets = listen(host, port, processes)
    siblings = _Siblings(processes)
    engine.dispose()  # no connection of the parent's crosses a fork
    parent = os.getpid()
    signal.signal(signal.SIGCHLD, _ignore)  # delivered (blocked, then waited for), not dropped
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)

    def fork(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _child(
                    slot,
                    parent,
                    sockets,
                    siblings,
                    settings,
                    engine,
                    factory,
                    make_server,
                    start_metrics,
                )
            except BaseException:  # a child never unwinds into the parent's code
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children[pid] = (slot, time.monotonic())

    for slot in range(processes):
        fork(slot)
    code = 0
    while children:
        received = signal.sigwaitinfo(_SIGNALS)
        if received.si_signo != signal.SIGCHLD:
            break
        crashed = False
        for pid, status in _reaped():
            slot, started = children.pop(pid)
            _forget(pid)
            quick = time.monotonic() - started < CRASH_SECONDS
            log.error(
                "server process %d (pid %d) ended (%s); %s",
                slot,
                pid,
                _describe(status),
                "stopping: it died within its first seconds" if quick else "restarting it",
            )
            if quick:
                crashed = True
            else:
                fork(slot)
        if crashed:
            code = 1
            break
    _stop(children, settings.shutdown_timeout + 35.0)
    return code


def _forget(pid: int) -> None:
    """A dead child's live gauges (its WebSocket connections) no longer count; its counters
    do (the totals stay monotonic across a restart)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def _reaped() -> list[tuple[int, int]]:
    done: list[tuple[int, int]] = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return done
        if pid == 0:
            return done
        done.append((pid, status))


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _stop(children: dict[int, Any], within: float) -> None:
    """SIGTERM every child, wait up to `within` seconds (graceful shutdown, then the
    runtime's stop), then SIGKILL the rest."""
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + within
    while children and time.monotonic() < deadline:
        for pid, _status in _reaped():
            children.pop(pid, None)
        if children:
            signal.sigtimedwait({signal.SIGCHLD}, 0.2)
    for pid in children:
        _signal(pid, signal.SIGKILL)
    for pid in list(children):
        os.waitpid(pid, 0)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)
