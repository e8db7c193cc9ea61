"""Engine and sessions for SQLite (embedded default) and PostgreSQL (production).

Every session is a reader or a writer, chosen by whoever opens it (`unit_of_work(factory,
write=...)`, `set_write_intent`): a GraphQL query, a feed or an AMS GET reads; a mutation,
an AMS call that changes something, the CLI and the workers write.

On SQLite (WAL) a reader's transaction begins deferred (`BEGIN`): it takes no lock, never
waits for a writer and never makes one wait. A writer's begins with `BEGIN IMMEDIATE`, which
takes the database's one write lock at once, so a transaction that reads before it writes
cannot fail later on a snapshot another writer made stale (SQLITE_BUSY_SNAPSHOT, "database
is locked" at once, whatever the busy timeout). In one process the writers of a database
file queue for that lock in order (`WriteGate`) rather than poll it; another process (the
CLI, `opsgraph worker`) waits on SQLite's own lock, up to the busy timeout
(OPSGRAPH_SQLITE_BUSY_TIMEOUT_MS). A reader that tries to write is refused before any SQL
is sent (`ReadOnlySession`). On PostgreSQL the intent changes nothing but that refusal.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker
from sqlalchemy.pool import StaticPool

from domains.common import changes
from domains.common.deadline import Deadline

DEFAULT_BUSY_TIMEOUT_MS = 60_000
# the execution option that makes a connection's transactions writers (SQLite)
WRITE_OPTION = "opsgraph_write"
# Session.info key: True for a writer, False for a reader (refused any write), absent for
# a session nobody declared (it behaves as before: reads and writes, deferred on SQLite)
WRITE_INTENT = "opsgraph.write"
# the execution option carrying a request's Deadline to where its transaction begins
# (gateway/deadlines.py sets it): a writer's wait for the SQLite write lock ends there
DEADLINE_OPTION = "opsgraph_deadline"


class WriteGate:
    """One SQLite write transaction at a time per database file in this process, handed to
    the waiting threads in the order they came: under load, threads waiting in SQLite's busy
    handler would poll with growing sleeps and be served in no order (one could wait past
    any timeout while others pass). Released by the connection right after its COMMIT or
    ROLLBACK (`_SQLiteConnection`)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._owner: int | None = None
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                # the same thread already holds the write lock on another connection: SQLite
                # would make it wait for itself until the busy timeout
                raise RuntimeError(
                    "a second SQLite write transaction in a thread that holds one open"
                )
            if not self._held:
                self._held, self._owner = True, me
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):  # handed over by release()
            with self._mutex:
                self._owner = me
            return
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                raise TimeoutError(f"waited {timeout:g} s for the SQLite write lock")
            self._owner = me  # handed over just as the wait ended

    @property
    def waiting(self) -> int:
        """How many threads wait for their turn."""
        with self._mutex:
            return len(self._waiters)

    def release(self) -> None:
        with self._mutex:
            self._owner = None
            if self._waiters:
                self._waiters.popleft().release()  # still held: handed to the next in line
            else:
                self._held = False


_gates: dict[str, WriteGate] = {}
_gates_lock = threading.Lock()


def _gate_for(database: str | None) -> WriteGate:
    """The process's gate for a database file; a private one for an in-memory database."""
    if database in (None, "", ":memory:"):
        return WriteGate()
    key = os.path.realpath(database)
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate()
        return gate


class _SQLiteConnection(sqlite3.Connection):
    """Releases the write gate its transaction took, once COMMIT or ROLLBACK is done."""

    write_gate: WriteGate | None = None

    def _leave_gate(self) -> None:
        gate, self.write_gate = self.write_gate, None
        if gate is not None:
            gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave_gate()


def make_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    """`busy_timeout_ms` (SQLite): how long a writer waits for the write lock, in this
    process (its turn at the gate) and behind other processes (SQLite's busy timeout)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "factory": _SQLiteConnection}
        }
        if parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", partial(_sqlite_pragmas, busy_timeout_ms))
        gate = _gate_for(parsed.database)
        event.listen(engine, "begin", partial(_sqlite_begin, gate, busy_timeout_ms / 1000))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin; otherwise
    # SAVEPOINTs and transactional DDL misbehave (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()


def _sqlite_begin(gate: WriteGate, wait: float, connection: Connection) -> None:
    if not connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    deadline: Deadline | None = connection.get_execution_options().get(DEADLINE_OPTION)
    if deadline is not None:  # a request's writer waits for its turn until its deadline
        wait = max(0.0, min(wait, deadline.remaining()))
    try:
        gate.acquire(wait)
    except TimeoutError:
        if deadline is not None and deadline.expired():
            raise deadline.error() from None
        raise
    try:
        with _busy_timeout_within(dbapi_connection, deadline):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        gate.release()
        if deadline is not None and deadline.expired():
            raise deadline.error() from None  # another process held the lock until then
        raise
    if isinstance(dbapi_connection, _SQLiteConnection):
        dbapi_connection.write_gate = gate  # released after its COMMIT or ROLLBACK
    else:  # a connection not made by make_engine's factory: nothing would release it
        gate.release()


@contextmanager
def _busy_timeout_within(dbapi_connection: Any, deadline: Deadline | None) -> Iterator[None]:
    """SQLite's busy timeout no longer than the time `deadline` leaves, for one statement
    (BEGIN IMMEDIATE waiting for another process's write lock)."""
    if deadline is None:
        yield
        return
    busy = dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0]
    left = max(1, int(deadline.remaining() * 1000) + 1)
    if left >= busy:
        yield
        return
    dbapi_connection.execute(f"PRAGMA busy_timeout = {left}")
    try:
        yield
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {busy}")


# --- intent -----------------------------------------------------------------------------

_intent_binds: weakref.WeakKeyDictionary[Engine, dict[bool, Engine]] = weakref.WeakKeyDictionary()


def _bind_for(bind: Any, write: bool) -> Any:
    """The engine whose SQLite transactions begin as a writer's (or a reader's); any other
    bind (a PostgreSQL engine, or a Connection as the tests' savepoint sessions have) as is."""
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        return bind
    per_intent = _intent_binds.get(bind)
    if per_intent is None:
        per_intent = _intent_binds[bind] = {}
    engine = per_intent.get(write)
    if engine is None:
        engine = per_intent[write] = bind.execution_options(**{WRITE_OPTION: write})
    return engine


def writer_engine(engine: Engine) -> Engine:
    """`engine`, its transactions a writer's (SQLite): for work that writes outside a
    session, such as a migration."""
    bind: Engine = _bind_for(engine, True)
    return bind


def make_session_factory(engine: Engine, *, write: bool | None = None) -> sessionmaker[Session]:
    """`write`: the intent of the sessions made without one (`factory()`, `factory.begin()`):
    True for background work (workers, jobs), which writes in most of its transactions."""
    if write is None:
        return sessionmaker(bind=engine, expire_on_commit=False)
    return sessionmaker(
        bind=_bind_for(engine, write), expire_on_commit=False, info={WRITE_INTENT: write}
    )


def set_write_intent(session: Session, write: bool) -> None:
    """Declare a session a writer or a reader, before its first statement (its transactions
    begin accordingly; a reader is refused any write)."""
    if session.in_transaction() and session.get_transaction().connections:  # type: ignore[union-attr]
        raise RuntimeError("the intent of a session is set before its first statement")
    session.bind = _bind_for(session.bind, write)
    session.info[WRITE_INTENT] = write


def open_session(factory: sessionmaker[Session], *, write: bool) -> Session:
    session = factory()
    set_write_intent(session, write)
    return session


def reader_memo(session: Session, name: str) -> dict[Any, Any] | None:
    """What a reader's session learnt once and reuses, under `name` (a dict kept in
    `session.info`); None for a writer or a session of no declared intent, which must ask
    again. A reader writes nothing, so the roles, ownership and decisions it read hold for
    its whole request (e.g. five hundred sites' `viewerCan…` fields ask once per site)."""
    if session.info.get(WRITE_INTENT) is not False:
        return None
    memo: dict[Any, Any] = session.info.setdefault(f"opsgraph.memo.{name}", {})
    return memo


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, write: bool = True) -> Iterator[Session]:
    """The one place that commits: all of the block, or nothing (DESIGN rule 4). `write`
    False: a reader's transaction (see the module's docstring)."""
    session = open_session(factory, write=write)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class ReadOnlySession(RuntimeError):
    """A session declared a reader tried to write: a bug, not the caller's mistake."""


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if session.info.get(WRITE_INTENT) is False and (
        session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)
    ):
        raise ReadOnlySession("a read-only transaction tried to write (flush)")


@event.listens_for(Session, "do_orm_execute")
def _refuse_dml(state: ORMExecuteState) -> None:
    if state.session.info.get(WRITE_INTENT) is False and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise ReadOnlySession("a read-only transaction tried to write (INSERT/UPDATE/DELETE)")


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL's `COPY table (columns) FROM STDIN` of `rows` (values in `columns`' order)
    on the session's connection, inside its transaction: one stream for a batch, where an
    `executemany` sends a statement per row and an array per column is dumped value by value
    in Python. `table` and `columns` are the caller's own names, never input."""
    if session.info.get(WRITE_INTENT) is False:
        raise ReadOnlySession("a read-only transaction tried to write (COPY)")
    connection = session.connection()
    changes.wrote(connection, table)  # past SQLAlchemy's cursor: declared for the cache
    driver: Any = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def array_text(values: Iterable[object]) -> str:
    """PostgreSQL's text form of a one-dimensional array of `values` (each quoted, its
    backslashes and double quotes escaped; None as NULL; a datetime as `str` gives it, ISO
    with its offset), to bind as ONE text parameter cast to the array's type (`CAST(:p AS
    timestamptz[])`): a batch's column is then one string join, where psycopg dumps a list
    bound as an array value by value in Python. The values' text must be storable (no NUL)."""
    return (
        "{"
        + ",".join(
            "NULL"
            if value is None
            else '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            for value in values
        )
        + "}"
    )
