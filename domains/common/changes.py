"""Which tables committed writes touched: the invalidation side of the response cache
(gateway/cache.py).

Every statement a connection sends passes `before_cursor_execute`: an INSERT, UPDATE,
DELETE, COPY or TRUNCATE adds its target table to the connection's pending set (ORM
flushes and raw SQL alike, so bulk loaders and monitoring ingestion are seen too); DDL or
a statement not understood marks everything. Writes sent on the driver's own cursor (COPY
through psycopg) are declared with `wrote`. A foreign key's ON DELETE/UPDATE action writes
the referencing table as well, so the tables referencing a written one are added when the
set is published.

The set is published only once the transaction COMMITTED (never on rollback): each of its
tables gets a new `generation` from one process-wide sequence. A cached answer stores the
sequence as it was before its query ran and the tables the query read; it is still good
while none of those tables has a later generation. A write that commits during the query
gets a later generation, so its answer is never kept past it.

On PostgreSQL the committing transaction also sends `NOTIFY opsgraph_changes, '<tables>'`
(delivered only if it commits), and every serving process LISTENs
(domains/messaging/notify.py's PostgresListener): other replicas and `opsgraph worker`
processes invalidate this process's entries too.

With a shared response cache (OPSGRAPH_CACHE_URL), each committed set is also handed to the
sinks registered with `publish_to` (gateway/cache.py's Redis generations), at the same
point, before the writing request answers; changes heard from other processes are not
(their writers published them)."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

CHANNEL = "opsgraph_changes"
EVERYTHING = "*"
_PENDING = "opsgraph.changes.pending"
_FRESH = "opsgraph.changes.fresh"  # written since the last savepoint released
_NOTIFY_MAX = 7000  # PostgreSQL's payload limit is 8000 bytes: beyond, "*"

log = logging.getLogger("opsgraph.changes")

_lock = threading.Lock()
_sequence = 0
_generations: dict[str, int] = {}
_everything = 0  # the generation of the last change to every table (DDL, a lost listener)
_committed = threading.local()  # sets committed on this thread, not yet published
# where this process's committed writes are published as well, by name (publish_to)
_sinks: dict[str, Callable[[frozenset[str]], None]] = {}

_TARGET = re.compile(
    r"\b(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from|truncate(?:\s+table)?|copy)"
    r"\s+(?:only\s+)?\"?([A-Za-z_][A-Za-z0-9_]*)",
    re.IGNORECASE,
)
# statements that write nothing (their first word)
_NO_WRITE = frozenset(
    {
        "SELECT",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "SET",
        "SHOW",
        "PRAGMA",
        "LISTEN",
        "UNLISTEN",
        "EXPLAIN",
        "VALUES",
        "ANALYZE",
    }
)
_WRITE = frozenset({"INSERT", "UPDATE", "DELETE", "WITH", "COPY", "TRUNCATE", "REPLACE"})


def sequence() -> int:
    """The sequence now: taken before a query runs, stored with its answer."""
    return _sequence


def unchanged(tables: Iterable[str], since: int) -> bool:
    """Whether none of `tables` changed (in a committed transaction) after `since`."""
    if _everything > since:
        return False
    generations = _generations
    return all(generations.get(table, 0) <= since for table in tables)


def bump(tables: Iterable[str], *, ours: bool = True) -> None:
    """Mark `tables` changed now (EVERYTHING among them: every table). `ours`: written by
    this process, so published to the sinks too (not a change heard of or guessed)."""
    global _sequence, _everything
    changed = frozenset(tables)
    with _lock:
        _sequence += 1
        for table in changed:
            if table == EVERYTHING:
                _everything = _sequence
            else:
                _generations[table] = _sequence
    if ours and changed:
        for sink in list(_sinks.values()):
            sink(changed)


def publish_to(name: str, sink: Callable[[frozenset[str]], None] | None) -> None:
    """Hand every set of tables this process commits to `sink` as well (None: no longer).
    One sink per name: registering a name again replaces its sink."""
    if sink is None:
        _sinks.pop(name, None)
    else:
        _sinks[name] = sink


def publishing_to(name: str) -> Callable[[frozenset[str]], None] | None:
    return _sinks.get(name)


class SQLiteWatch:
    """Commits made to a SQLite file by other connections, through `PRAGMA data_version` on
    a connection of its own. Another process (the CLI while `serve` runs) sends no NOTIFY,
    and SQLite cannot say which tables it wrote: any commit this connection did not see
    before counts as a change to every table (ours included: coarse, but never stale)."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._seen: int | None = None

    def check(self) -> None:
        with self._lock:
            version = int(self._connection.execute("PRAGMA data_version").fetchone()[0])
            if self._seen is not None and version != self._seen:
                bump([EVERYTHING], ours=False)
            self._seen = version

    def close(self) -> None:
        self._connection.close()


def bump_from_notice(payload: str) -> None:
    """A NOTIFY from another process: its comma-separated tables."""
    bump([t for t in payload.split(",") if t], ours=False)


def written_tables(statement: str) -> set[str] | None:
    """The tables `statement` writes: None for none, {EVERYTHING} when it cannot tell."""
    word = statement.lstrip()[:10].split(None, 1)
    first = word[0].upper() if word else ""
    if first in _NO_WRITE:
        return None
    if first in _WRITE:
        found = {name.lower() for name in _TARGET.findall(statement)}
        return found or ({EVERYTHING} if first != "WITH" else None)
    return {EVERYTHING}


def wrote(connection: Connection, *tables: str) -> None:
    """Declare writes sent past SQLAlchemy's cursor (COPY on the driver's connection)."""
    _note(connection, tables)


def _note(connection: Connection, tables: Iterable[str]) -> None:
    info = connection.info
    info.setdefault(_PENDING, set()).update(tables)
    info.setdefault(_FRESH, set()).update(tables)


def _record(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    tables = written_tables(statement)
    if tables is not None:
        _note(conn, tables)


def _with_referencing(tables: set[str]) -> set[str]:
    """`tables` and every table whose foreign key acts (ON DELETE/UPDATE) on one of them."""
    if EVERYTHING in tables:
        return tables
    referencing = _referencing()
    result = set(tables)
    todo = list(tables)
    while todo:
        for other in referencing.get(todo.pop(), ()):
            if other not in result:
                result.add(other)
                todo.append(other)
    return result


_referencing_cache: tuple[int, dict[str, set[str]]] = (-1, {})


def _referencing() -> dict[str, set[str]]:
    global _referencing_cache
    from sqlmodel import SQLModel

    tables = SQLModel.metadata.tables
    if _referencing_cache[0] == len(tables):
        return _referencing_cache[1]
    found: dict[str, set[str]] = {}
    for table in tables.values():
        for key in table.foreign_keys:
            if (key.ondelete or key.onupdate) and key.column.table.name != table.name:
                found.setdefault(key.column.table.name, set()).add(table.name)
    _referencing_cache = (len(tables), found)
    return found


def _on_commit(conn: Connection) -> None:
    conn.info.pop(_FRESH, None)
    pending: set[str] | None = conn.info.pop(_PENDING, None)
    if not pending:
        return
    tables = _with_referencing(pending)
    if conn.dialect.name == "postgresql":
        payload = ",".join(sorted(tables))
        if len(payload) > _NOTIFY_MAX:
            payload = EVERYTHING
        # on the driver's cursor: this runs inside SQLAlchemy's commit, before COMMIT
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
        finally:
            cursor.close()
    committed: list[set[str]] | None = getattr(_committed, "sets", None)
    if committed is None:
        committed = _committed.sets = []
    committed.append(tables)


def _on_rollback(conn: Connection) -> None:
    if conn.invalidated:
        # a lost connection: its `info` cannot be read (that raised PendingRollbackError in
        # place of the disconnect), and the pool clears it before the DBAPI connection is
        # replaced, pending writes included
        return
    conn.info.pop(_PENDING, None)
    conn.info.pop(_FRESH, None)


def _on_release_savepoint(conn: Connection, _name: str, _context: Any) -> None:
    """A savepoint released inside an outer transaction (the tests' sessions commit so):
    what it wrote is visible on this connection now; it is bumped again at the outer
    COMMIT, which is what other connections see. Only what was written since the last
    release: a later savepoint that writes nothing changes nothing."""
    fresh: set[str] | None = conn.info.pop(_FRESH, None)
    if fresh:
        bump(_with_referencing(fresh))


def _publish(*_args: Any) -> None:
    """After COMMIT (the session's after_commit, or the connection's return to the pool)."""
    committed: list[set[str]] | None = getattr(_committed, "sets", None)
    if committed:
        _committed.sets = []
        bump(set().union(*committed))


def install() -> None:
    """The listeners, once per process, for every engine and session."""
    if event.contains(Engine, "before_cursor_execute", _record):
        return
    event.listen(Engine, "before_cursor_execute", _record)
    event.listen(Engine, "commit", _on_commit)
    event.listen(Engine, "rollback", _on_rollback)
    event.listen(Engine, "release_savepoint", _on_release_savepoint)
    event.listen(Session, "after_commit", _publish)
    event.listen(Pool, "checkin", _publish)


install()
