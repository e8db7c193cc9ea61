"""In-process wake-ups for waiting pulls.

`publish` records the topics it wrote to in `session.info`; after that session COMMITS
(never before, never on rollback) every waiter on those topics is woken. A long-polling
pull takes a `token(topic_id)` before its (empty) pull, then waits outside the transaction
with `wait_for_messages(topic_id, timeout, since=token)` and pulls again: a publish that
committed between the pull and the wait is not missed.

On PostgreSQL the publishing transaction also sends `NOTIFY opsgraph_messaging, '<topic>'`
(delivered by PostgreSQL when, and only if, it commits), and every process that serves
waiters runs a `PostgresListener`: publishes made by other gateway replicas wake this
process's waiters too. Sibling processes of one `opsgraph serve --processes N` also pass
their committed topics to each other (`forward_commits`, set by gateway/processes.py), which
is what wakes them on SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from domains.common import changes

SESSION_KEY = "messaging.published_topics"
CHANNEL = "opsgraph_messaging"

log = logging.getLogger("opsgraph.messaging")

_lock = threading.Lock()
_versions: dict[int, int] = defaultdict(int)
_waiters: dict[int, set[Callable[[], None]]] = defaultdict(set)
_forward: Callable[[Iterable[int]], None] | None = None


def forward_commits(send: Callable[[Iterable[int]], None] | None) -> None:
    """Also hand the topics of each commit to `send` (the sibling server processes)."""
    global _forward
    _forward = send


def token(topic_id: int) -> int:
    """How many publishes to the topic this process has seen committed."""
    with _lock:
        return _versions.get(topic_id, 0)


def notify_topics(topic_ids: Iterable[int]) -> None:
    """Wake everyone waiting on these topics (called after commit, or by a bridge)."""
    callbacks: list[Callable[[], None]] = []
    with _lock:
        for topic_id in set(topic_ids):
            _versions[topic_id] += 1
            callbacks.extend(_waiters.pop(topic_id, ()))
    for callback in callbacks:
        callback()


def _register(topic_id: int, since: int | None, callback: Callable[[], None]) -> bool:
    """Add a waiter; False (and nothing added) if a publish already came after `since`."""
    with _lock:
        if since is not None and _versions.get(topic_id, 0) != since:
            return False
        _waiters[topic_id].add(callback)
        return True


def _unregister(topic_id: int, callback: Callable[[], None]) -> None:
    with _lock:
        waiting = _waiters.get(topic_id)
        if waiting is not None:
            waiting.discard(callback)
            if not waiting:
                del _waiters[topic_id]


def wait_for_messages(topic_id: int, timeout: float, *, since: int | None = None) -> bool:
    """Block until a publish to the topic commits (True) or `timeout` seconds pass (False)."""
    woken = threading.Event()
    if not _register(topic_id, since, woken.set):
        return True
    try:
        return woken.wait(timeout)
    finally:
        _unregister(topic_id, woken.set)


async def wait_for_messages_async(
    topic_id: int, seconds: float, *, since: int | None = None
) -> bool:
    """The same for asyncio callers, without holding a thread while waiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    def wake() -> None:
        loop.call_soon_threadsafe(resolve)

    if not _register(topic_id, since, wake):
        return True
    try:
        await asyncio.wait_for(future, seconds)
    except TimeoutError:
        return False
    finally:
        _unregister(topic_id, wake)
    return True


def published(session: Session, topic_id: int) -> None:
    """Record in the session that it published to the topic; waiters wake after commit,
    in this process and (PostgreSQL) in every other process listening."""
    topics = session.info.setdefault(SESSION_KEY, set())
    if topic_id not in topics and session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_notify(:channel, :topic)"), {"channel": CHANNEL, "topic": str(topic_id)}
        )
    topics.add(topic_id)


class PostgresListener:
    """A thread that LISTENs on the channel and wakes this process's waiters for publishes
    committed anywhere; it reconnects after a lost connection. It also hears the tables
    other processes' transactions changed (domains/common/changes.py), for the response
    cache: after a lost connection, everything counts as changed."""

    def __init__(self, database_url: str, *, poll_seconds: float = 1.0) -> None:
        url = make_url(database_url)
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="messaging-listener", daemon=True)
        # set once a connection LISTENs (and everything cached before it counts as changed)
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._poll * 5)

    def _run(self) -> None:
        import psycopg  # the PostgreSQL driver, installed where PostgreSQL is used

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    conn.execute(f"LISTEN {changes.CHANNEL}")
                    # what changed while no connection listened is not known
                    changes.bump([changes.EVERYTHING], ours=False)
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self._poll):
                            if note.channel == changes.CHANNEL:
                                changes.bump_from_notice(note.payload)
                            elif note.payload.isdigit():
                                notify_topics([int(note.payload)])
            except psycopg.Error as exc:
                log.warning("messaging listener lost its connection: %s", exc)
                self._stop.wait(self._poll)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(SESSION_KEY, None)
    if topics:
        notify_topics(topics)
        if _forward is not None:
            _forward(topics)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(SESSION_KEY, None)
