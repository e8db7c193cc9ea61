"""Reads on a PostgreSQL streaming standby (OPSGRAPH_DATABASE_READ_URL), each caller still
reading their own writes.

A session declared a reader (`unit_of_work(factory, write=False)`: a GraphQL query, a REST
GET) made by a factory with a `ReadReplica` runs each of its transactions on the standby,
with three exceptions that send it to the primary instead:

- the caller committed a write whose WAL position (`pg_current_wal_lsn()` read just after
  the commit) the standby has not replayed yet (`pg_last_wal_replay_lsn()`): they would not
  see what they just did.
  The caller is who the request's credential names (`set_caller`, from the gateway's
  authenticator); an anonymous caller has none, writes nothing, and always reads the standby.
  The positions are kept in memory shared by this server's processes (`--processes`):
  behind a load balancer, a caller's next request may reach another server, which knows
  nothing of the write (use sticky sessions there).
- the standby does not answer (stopped, unreachable, refusing): the read goes to the primary
  and the standby is left alone for `RETRY_SECONDS` before it is tried again, so no request
  fails for its loss and none waits on it.
- a writer, or a session of no declared intent: always the primary; so are a live
  stream's reads (`read_on_primary`).

The decision is taken once per transaction, by the one statement each costs the standby
(the replay position, which also shows that the standby answers).
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import multiprocessing
import time
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from domains.common.db import WRITE_INTENT, make_session_factory

log = logging.getLogger("opsgraph.replica")

# Session.info keys: the ReadReplica; the engine chosen for the transaction under way
REPLICA = "opsgraph.replica"
_CHOSEN = "opsgraph.replica.chosen"
_ON_PRIMARY = "opsgraph.replica.on_primary"  # a transaction of a writer's began
_PRIMARY_ONLY = "opsgraph.replica.primary_only"  # a reader kept on the primary
_READ_STANDBY = "opsgraph.replica.read_standby"  # a transaction of the session ran there
RETRY_SECONDS = 5.0  # how long a standby that did not answer is left alone
CONNECT_TIMEOUT_SECONDS = 2  # a standby that cannot be reached holds a read this long at most
_NEVER = (1 << 64) - 1  # past any WAL position
SLOTS = 1 << 16  # callers' last write positions kept (8 bytes each)

# who the request's credential names (None: anonymous); anyio.to_thread copies it
_caller: ContextVar[str | None] = ContextVar("opsgraph_caller", default=None)


def set_caller(key: str | None) -> None:
    """Name the caller of the request under way (its credential's identity, never a
    secret): their writes are remembered, and their reads wait for the standby to have them."""
    _caller.set(key)


def current_caller() -> str | None:
    return _caller.get()


def _lsn(value: str | None) -> int | None:
    """`'16/B374D848'` as a number (None stays None: not a standby)."""
    if value is None:
        return None
    high, low = value.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class WritePositions:
    """Per caller, the WAL position of their last write, in SLOTS slots by a hash of the
    caller: memory shared with the processes forked after it was made (`serve --processes
    N`), so whichever process takes a caller's next request knows of their write. Callers
    sharing a slot only read from the primary a little more often; nothing is evicted."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, SLOTS * 8)  # anonymous, MAP_SHARED: survives fork
        self._slots = memoryview(self._memory).cast("Q")
        self._lock = multiprocessing.get_context("fork").Lock()

    @staticmethod
    def _slot(caller: str) -> int:
        digest = hashlib.blake2b(caller.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") % SLOTS

    def raise_to(self, caller: str, position: int) -> None:
        slot = self._slot(caller)
        with self._lock:  # two commits of one caller at once: the later position stays
            if self._slots[slot] < position:
                self._slots[slot] = position

    def get(self, caller: str) -> int:
        """0: no write known."""
        return int(self._slots[self._slot(caller)])


class ReadReplica:
    """The standby's engine, and what each caller wrote last (WAL positions on the primary)."""

    def __init__(self, primary: Engine, standby: Engine) -> None:
        self.primary = primary
        self.engine = standby
        self._written = WritePositions()
        self._down_until = 0.0

    @classmethod
    def connect(cls, primary: Engine, url: str) -> ReadReplica:
        """The standby at `url`, lazily: nothing is connected before the first read."""
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in make_url(url).query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
        # no pre-ping: the replay position asked at each transaction's start shows the same
        return cls(primary, create_engine(url, connect_args=connect_args))

    def wrote(self, caller: str) -> None:
        """After `caller`'s commit on the primary: remember where its WAL stands now."""
        try:
            with self.primary.connect() as connection:
                position = _lsn(connection.execute(text("SELECT pg_current_wal_lsn()")).scalar())
        except exc.DBAPIError:  # committed, but where is unknown: the primary from now on
            position = None
        self._written.raise_to(caller, _NEVER if position is None else position)

    def reader(self) -> Engine:
        """Where a reader's transaction for the current caller runs."""
        if time.monotonic() < self._down_until:
            return self.primary
        caller = _caller.get()
        needed = 0 if caller is None else self._written.get(caller)
        try:
            with self.engine.connect() as connection:
                replayed = connection.execute(text("SELECT pg_last_wal_replay_lsn()")).scalar()
        except exc.SQLAlchemyError as failed:  # a dead pooled connection may end in either
            self._down_until = time.monotonic() + RETRY_SECONDS
            cause = failed.orig if isinstance(failed, exc.DBAPIError) else failed
            log.warning(  # the error's name only: its text may quote the URL
                "read replica unavailable, reading from the primary for %gs: %s",
                RETRY_SECONDS,
                type(cause).__name__,
            )
            return self.primary
        if needed == 0:
            return self.engine
        position = _lsn(replayed)
        return self.primary if position is None or position < needed else self.engine

    def dispose(self) -> None:
        self.engine.dispose()


class RoutedSession(Session):
    """A session whose reader transactions go where its ReadReplica says."""

    def get_bind(
        self, mapper: Any = None, *, clause: Any = None, bind: Any = None, **kw: Any
    ) -> Any:
        replica: ReadReplica | None = self.info.get(REPLICA)
        if (
            replica is not None
            and bind is None
            and self.info.get(WRITE_INTENT) is False
            and not self.info.get(_PRIMARY_ONLY)
        ):
            chosen = self.info.get(_CHOSEN)
            if chosen is None:
                chosen = self.info[_CHOSEN] = replica.reader()
                if chosen is replica.engine:
                    self.info[_READ_STANDBY] = True
            return chosen
        return super().get_bind(mapper, clause=clause, bind=bind, **kw)


@event.listens_for(RoutedSession, "after_begin")
def _began(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
    if session.info.get(WRITE_INTENT) is not False:
        session.info[_ON_PRIMARY] = True


@event.listens_for(RoutedSession, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the next transaction decides again
        session.info.pop(_CHOSEN, None)
        session.info.pop(_ON_PRIMARY, None)


@event.listens_for(RoutedSession, "after_commit")
def _committed(session: Session) -> None:
    replica: ReadReplica | None = session.info.get(REPLICA)
    caller = _caller.get()
    if replica is not None and caller is not None and session.info.pop(_ON_PRIMARY, False):
        replica.wrote(caller)


def read_on_primary(session: Session) -> None:
    """Keep a reader on the primary: a live stream's reads, woken by a commit on the primary
    (NOTIFY) that the standby may not have replayed yet, would find nothing new."""
    session.info[_PRIMARY_ONLY] = True


def read_standby(session: Session) -> bool:
    """Whether any of the session's transactions read the standby: what it read may be
    older than the changes the process heard of (the response cache does not keep it)."""
    return bool(session.info.get(_READ_STANDBY))


def routed_session_factory(engine: Engine, replica: ReadReplica | None) -> sessionmaker[Session]:
    """`make_session_factory(engine)`, its readers on `replica` when there is one (both
    PostgreSQL: the engine needs none of SQLite's per-intent binds)."""
    if replica is None:
        return make_session_factory(engine)
    return sessionmaker(
        bind=engine, class_=RoutedSession, expire_on_commit=False, info={REPLICA: replica}
    )


def replica_of(factory: sessionmaker[Session]) -> ReadReplica | None:
    found: ReadReplica | None = (factory.kw.get("info") or {}).get(REPLICA)
    return found
