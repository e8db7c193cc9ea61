"""The response cache (issue 16 item 2): answers of GraphQL queries, kept until a committed
write changes what they read.

An answer is kept per normalised document, operation name, variables and the caller's
visibility class: `anonymous`, or the principal itself (every authenticated caller has
fields of their own, `viewerCan…` and the like, so no class wider than one principal is
safe). Only queries over HTTP, only answers without errors or extensions.

Exactness: while the answer is computed, every SQL statement it sends is read for the
tables it names (`before_cursor_execute`), and domains/common/changes.py's sequence is
taken before its transaction began. The entry is served while none of those tables changed
in a committed transaction since (changes.unchanged): checked at each hit, so a write this
process (or, through NOTIFY, another) committed is never answered past. An answer holding
values that change with time (a downtime's `ongoing`, a status) expires at the first moment
one of them changes, as their resolvers tell (domains/common/time.py's `changing_at`); one
that read the clock without saying when its value changes (`utcnow`, the request's
`clock`, SQL's `now()`) is not kept.

In this process: a bounded LRU (OPSGRAPH_RESPONSE_CACHE_MAX entries, 0 turns the cache
off). On PostgreSQL it is on only while the process LISTENs for other processes' changes
(OPSGRAPH_PG_LISTEN); on a SQLite file, any commit by another connection or process drops
every entry (changes.SQLiteWatch)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from graphql import parse, print_ast
from sqlalchemy import URL, Connection, Engine, event

from domains.common import changes
from domains.common.identity import Principal
from domains.common.time import Horizon, watch_clock

ANONYMOUS = "anonymous"
MAX_ENTRY_BYTES = 1024 * 1024  # a larger answer is not kept
PUBLIC = "public, max-age=0, must-revalidate"
PRIVATE = "private, max-age=0, must-revalidate"

_WORD = re.compile(r"[a-z_][a-z0-9_]*")
# SQL that reads the clock or chance: the answer is not kept
_TIMELY = frozenset(
    {
        "now",
        "current_timestamp",
        "current_date",
        "current_time",
        "localtimestamp",
        "clock_timestamp",
        "statement_timestamp",
        "transaction_timestamp",
        "random",
    }
)


@dataclass
class Reads:
    """What an answer being computed read: tables, and how it depends on the time."""

    tables: set[str] = field(default_factory=set)
    horizon: Horizon = field(default_factory=Horizon)


_reading: ContextVar[Reads | None] = ContextVar("opsgraph_cache_reads", default=None)


@dataclass(frozen=True, slots=True)
class Entry:
    body: str  # the encoded `data`
    etag: str
    since: int  # changes.sequence() before the answer's transaction began
    tables: frozenset[str]
    expires: datetime | None = None  # when a time-dependent value in it changes


def etag_of(body: str) -> str:
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:40] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names `etag` (weakly compared, as RFC 9110 says)."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def visibility(principal: Principal) -> str:
    """The class whose members see the same answers: anonymous, or one principal."""
    if principal.is_anonymous and principal.client_dn is None:
        return ANONYMOUS
    return "principal:" + hashlib.sha256(repr(principal).encode()).hexdigest()


@lru_cache(maxsize=4096)
def _statement_reads(statement: str) -> tuple[frozenset[str], bool]:
    from sqlmodel import SQLModel

    words = set(_WORD.findall(statement.lower()))
    return frozenset(words.intersection(SQLModel.metadata.tables)), not words.isdisjoint(_TIMELY)


def _capture(_conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    reads = _reading.get()
    if reads is not None:
        tables, timely = _statement_reads(statement)
        reads.tables.update(tables)
        if timely:
            reads.horizon.unbounded = True


def watch() -> Reads:
    """From now on in this context (a request's thread), record what is read."""
    reads = Reads(horizon=watch_clock())
    _reading.set(reads)
    return reads


class ResponseCache:
    def __init__(self, capacity: int, watch: changes.SQLiteWatch | None = None) -> None:
        self.capacity = capacity
        self.watch = watch
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        # told "hit", "miss" or "skip" for each query that could be cached (gateway/metrics.py)
        self.observe: Callable[[str], None] = _unobserved
        if not event.contains(Engine, "before_cursor_execute", _capture):
            event.listen(Engine, "before_cursor_execute", _capture)

    def key(
        self,
        normal: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        visibility_class: str,
    ) -> str:
        material = json.dumps(
            [normal, operation_name, variables or {}, visibility_class],
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def lookup(
        self,
        normal: str,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        visibility_class: str,
        now: datetime,
    ) -> tuple[str, Entry | None]:
        """The request's key and its entry, if one is kept at `now` (counted as a hit)."""
        key = self.key(normal, operation_name, variables, visibility_class)
        found = self.get(key, now)
        if found is not None:
            self.observe("hit")
        return key, found

    def get(self, key: str, now: datetime) -> Entry | None:
        if self.watch is not None:
            self.watch.check()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not changes.unchanged(entry.tables, entry.since) or (
                entry.expires is not None and now >= entry.expires
            ):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, body: str, since: int, reads: Reads) -> Entry | None:
        """Keep an answer, unless it read the clock unbounded or is too large; the entry
        kept (until its horizon, if it has one)."""
        if reads.horizon.unbounded or len(body) > MAX_ENTRY_BYTES:
            return None
        entry = Entry(body, etag_of(body), since, frozenset(reads.tables), reads.horizon.until)
        if not changes.unchanged(entry.tables, since):  # changed already: still answered
            return entry
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()

    def __len__(self) -> int:
        return len(self._entries)


@lru_cache(maxsize=1024)
def normalised(document: str) -> str:
    """The document printed in one canonical layout (spacing, commas and comments gone).
    Called only for a document the view parsed already, within its token limit."""
    return print_ast(parse(document, no_location=True))


def _unobserved(_result: str) -> None:
    """No metrics: lookups are not counted."""


def from_settings(capacity: int, url: URL, listening: bool) -> ResponseCache | None:
    """The process's cache, or None: off (capacity 0), or on PostgreSQL without a LISTEN
    connection, where other replicas' writes would go unseen. On a SQLite file, other
    processes' commits are watched (changes.SQLiteWatch)."""
    backend = url.get_backend_name()
    if capacity <= 0 or (backend == "postgresql" and not listening):
        return None
    watch = None
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        watch = changes.SQLiteWatch(str(url.database))
    return ResponseCache(capacity, watch)
