"""The database honours a request's Deadline (OPSGRAPH_REQUEST_TIMEOUT).

`limit(session, deadline)` marks a session; from then on, each transaction it begins is
bounded on the connection it runs on:

- PostgreSQL: `SET LOCAL statement_timeout` to the time left, when the transaction begins
  (and lower again before a statement that could otherwise outlive the deadline by more
  than a twentieth of the limit); the server cancels the statement itself.
- SQLite: a progress handler that interrupts the running statement once the deadline has
  passed (SQLite then rolls back a write statement's whole transaction), and a busy timeout
  no longer than the time left (a wait for another writer's lock runs no statement, so the
  progress handler does not see it). A writer's wait for the write lock in BEGIN, in this
  process's queue or behind another process, ends at the deadline too (the session's
  engine carries it, domains/common/db.py).
- Both: no statement starts once the deadline has passed, and the driver's cancellation
  error is raised as `RequestTimeout`, which the routes answer as a timeout.

The bound is removed before the transaction commits (a commit is not interrupted halfway),
after it rolls back, and in any case before the connection goes back to the pool.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from domains.common.db import DEADLINE_OPTION
from domains.common.deadline import Deadline

_KEY = "opsgraph.deadline"  # session.info: the Deadline; connection.info: the _Armed state
_ARMED = "opsgraph.deadline.armed"  # session.info: the connections it bounded
_SQLITE_STEPS = 10_000  # SQLite virtual-machine steps between looks at the clock
_PG_CANCELLED = "57014"  # query_canceled: statement_timeout (or a cancel request)
# how a transaction or savepoint ends (or begins): never refused, whatever the time
_ENDINGS = ("ROLLBACK", "RELEASE", "SAVEPOINT", "COMMIT")


class _Armed:
    """A connection's bound: the deadline; for PostgreSQL the statement_timeout set and when
    (a statement started at `set_at` may run until `set_at + timeout`); for SQLite the busy
    timeout to put back (None: not changed)."""

    __slots__ = ("busy", "deadline", "set_at", "timeout")

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.set_at = 0.0
        self.timeout = 0.0
        self.busy: int | None = None


def install(engine: Engine, session_factory: sessionmaker[Session]) -> None:
    """Registers the listeners (once per engine and per session factory)."""
    engine_events: tuple[tuple[str, Callable[..., Any]], ...] = (
        ("before_cursor_execute", _before_execute),
        ("handle_error", _translate_error),
        ("checkin", _on_checkin),
    )
    for name, fn in engine_events:
        if not event.contains(engine, name, fn):
            event.listen(engine, name, fn)
    session_events: tuple[tuple[str, Callable[..., Any]], ...] = (
        ("after_begin", _arm),
        ("before_commit", _disarm),
        ("after_rollback", _disarm),
    )
    for name, fn in session_events:
        if not event.contains(session_factory, name, fn):
            event.listen(session_factory, name, fn)


def start(seconds: float) -> Deadline | None:
    """A deadline `seconds` from now; None for 0 (OPSGRAPH_REQUEST_TIMEOUT=0: no limit)."""
    return Deadline(seconds) if seconds > 0 else None


def limit(session: Session, deadline: Deadline | None) -> None:
    """Bound the transactions `session` begins from now on by `deadline` (None: unbounded).
    A transaction already begun is not bounded: call this before the session's first use."""
    if deadline is None:
        session.info.pop(_KEY, None)
    else:
        session.info[_KEY] = deadline
        if isinstance(session.bind, Engine):  # not a caller's connection (tests): its own
            session.bind = session.bind.execution_options(**{DEADLINE_OPTION: deadline})


def _arm(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    deadline: Deadline | None = session.info.get(_KEY)
    existing: _Armed | None = connection.info.get(_KEY)
    if deadline is None or (existing is not None and existing.deadline is deadline):
        return  # unbounded, or this request's bound already (a savepoint, a new transaction)
    name = connection.dialect.name
    if existing is not None:
        # left by a session closed without commit or rollback, on a connection that went
        # back to no pool (a caller's): this session's own deadline replaces it
        if name == "sqlite":
            _sqlite_disarm(connection.connection.driver_connection, existing)
        del connection.info[_KEY]
    armed = _Armed(deadline)
    if name == "sqlite":
        at = deadline.at
        monotonic = time.monotonic

        def progress() -> int:
            return 1 if monotonic() >= at else 0

        dbapi = connection.connection.driver_connection
        dbapi.set_progress_handler(progress, _SQLITE_STEPS)  # type: ignore[union-attr]
        busy = dbapi.execute("PRAGMA busy_timeout").fetchone()[0]  # type: ignore[union-attr]
        left = max(1, int(deadline.remaining() * 1000) + 1)
        if left < busy:
            dbapi.execute(f"PRAGMA busy_timeout = {left}")  # type: ignore[union-attr]
            armed.busy = busy
    elif name == "postgresql":
        _set_statement_timeout(connection, armed)
    connection.info[_KEY] = armed
    session.info.setdefault(_ARMED, []).append(connection)


def _disarm(session: Session, *_: Any) -> None:
    for connection in session.info.pop(_ARMED, ()):
        armed = None if connection.closed else connection.info.pop(_KEY, None)
        if armed is None:
            continue
        if connection.dialect.name == "sqlite":
            _sqlite_disarm(connection.connection.driver_connection, armed)
        elif connection.dialect.name == "postgresql" and connection.in_nested_transaction():
            # SET LOCAL outlives a released savepoint: a caller's transaction that goes on
            # (tests run each request in one) must not keep this request's bound
            cursor = connection.connection.cursor()
            try:
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
            finally:
                cursor.close()


def _on_checkin(dbapi_connection: Any, record: Any) -> None:
    """A connection back in the pool keeps no request's bound (a session closed without
    commit or rollback)."""
    armed = record.info.pop(_KEY, None)
    if armed is not None and hasattr(dbapi_connection, "set_progress_handler"):  # sqlite3
        _sqlite_disarm(dbapi_connection, armed)


def _sqlite_disarm(dbapi_connection: Any, armed: _Armed) -> None:
    dbapi_connection.set_progress_handler(None, 0)
    if armed.busy is not None:
        dbapi_connection.execute(f"PRAGMA busy_timeout = {armed.busy}")


def _set_statement_timeout(connection: Connection, armed: _Armed) -> None:
    # on the driver's own cursor: not a statement of the request's (nor counted as one)
    now = time.monotonic()
    milliseconds = max(1, int((armed.deadline.at - now) * 1000) + 1)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
    finally:
        cursor.close()
    armed.set_at = now
    armed.timeout = milliseconds / 1000


def _before_execute(
    connection: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    armed: _Armed | None = connection.info.get(_KEY)
    if armed is None or statement.startswith(_ENDINGS):
        return
    deadline = armed.deadline
    now = time.monotonic()
    if now >= deadline.at:
        raise deadline.error()
    if armed.timeout and now + armed.timeout - deadline.at > deadline.seconds / 20:
        _set_statement_timeout(connection, armed)


def _translate_error(context: ExceptionContext) -> BaseException | None:
    connection = context.connection
    if connection is None or connection.closed:
        return None
    armed: _Armed | None = connection.info.get(_KEY)
    if armed is None:
        return None
    original = context.original_exception
    cancelled = getattr(original, "sqlstate", None) == _PG_CANCELLED or (
        type(original).__module__ == "sqlite3"
        and (str(original) == "interrupted" or armed.deadline.expired())  # or a busy wait's end
    )
    return armed.deadline.error() if cancelled else None
