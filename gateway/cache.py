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
every entry (changes.SQLiteWatch).

Shared (OPSGRAPH_CACHE_URL, `SharedEntries`): the entries live in Redis for every replica,
and so do the generations, which must be comparable across processes: every process with
the URL (serve, worker, CLI) publishes each committed write, before the writing request
answers, in one script that increments a global counter and sets it as the generation of
each table written. An entry stores the counter as read before its query's transaction
began and the tables it read; a hit is checked against the tables' generations in the same
script as the read, so a write another replica committed is never answered past, with no
broadcast delay. Entries expire at their horizon and at most MAX_AGE after they were kept.
Redis unreachable: queries are computed and not kept (counted `unavailable`), never
answered from an entry that could be stale."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
NAMESPACE = "opsgraph:rc:"  # the shared entries' and generations' Redis keys
MAX_AGE = timedelta(hours=1)  # a shared entry is dropped then at the latest (a memory bound)
RETRY_SECONDS = 5.0  # Redis unreachable: not asked again before this

log = logging.getLogger("opsgraph.cache")

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
    def __init__(
        self,
        capacity: int,
        watch: changes.SQLiteWatch | None = None,
        shared: SharedEntries | None = None,
    ) -> None:
        self.capacity = capacity
        self.watch = watch
        self.shared = shared  # the entries in Redis, not here
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        # told "hit", "miss", "skip" or "unavailable" for each query that could be cached
        # (gateway/metrics.py)
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

    def sequence(self) -> int | None:
        """Taken before an answer's transaction begins, stored with it; None: the shared
        store is unreachable (the answer is computed, not looked up nor kept)."""
        if self.shared is not None:
            return self.shared.sequence()
        return changes.sequence()

    def get(self, key: str, now: datetime) -> Entry | None:
        if self.shared is not None:
            entry = self.shared.get(key)
            if entry is not None and entry.expires is not None and now >= entry.expires:
                return None
            return entry
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

    def put(self, key: str, body: str, since: int, reads: Reads) -> tuple[Entry | None, str]:
        """Keep an answer, unless it read the clock unbounded or is too large; the entry
        kept (until its horizon, if it has one) and what to count: "miss" (kept), "skip" or
        "unavailable" (the shared store could not keep it)."""
        if reads.horizon.unbounded or len(body) > MAX_ENTRY_BYTES:
            return None, "skip"
        entry = Entry(body, etag_of(body), since, frozenset(reads.tables), reads.horizon.until)
        if self.shared is not None:
            return (entry, "miss") if self.shared.put(key, entry) else (None, "unavailable")
        if not changes.unchanged(entry.tables, since):  # changed already: still answered
            return entry, "miss"
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return entry, "miss"

    def close(self) -> None:
        if self.watch is not None:
            self.watch.close()
        if self.shared is not None:
            self.shared.close()

    def __len__(self) -> int:
        return len(self._entries)


@lru_cache(maxsize=1024)
def normalised(document: str) -> str:
    """The document printed in one canonical layout (spacing, commas and comments gone).
    Called only for a document the view parsed already, within its token limit."""
    return print_ast(parse(document, no_location=True))


def _unobserved(_result: str) -> None:
    """No metrics: lookups are not counted."""


def from_settings(
    capacity: int, url: URL, listening: bool, cache_url: str | None = None
) -> ResponseCache | None:
    """The process's cache, or None: off (capacity 0), or on PostgreSQL without a LISTEN
    connection, where other replicas' writes would go unseen. On a SQLite file, other
    processes' commits are watched (changes.SQLiteWatch). With `cache_url`, in Redis."""
    backend = url.get_backend_name()
    if capacity <= 0:
        return None
    if cache_url:
        return ResponseCache(capacity, shared=SharedEntries(cache_url))
    if backend == "postgresql" and not listening:
        return None
    watch = None
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        watch = changes.SQLiteWatch(str(url.database))
    return ResponseCache(capacity, watch)


# Redis scripts (SharedEntries). KEYS[1] is the generations hash: field "#seq" is the global
# counter, "*" the generation of the last change to every table, the others a table's.
# Created missing (Redis restarted, the key evicted), the counter starts at the server's
# time in microseconds and "*" with it: every entry kept before counts as changed, and no
# later counter falls back to one an older entry holds.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  local now = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], '#seq', now, '*', now)
end
"""
# ARGV: the tables written; the new generation
_BUMP = (
    _CREATE
    + """
local n = redis.call('HINCRBY', KEYS[1], '#seq', 1)
for i = 1, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], n) end
return n
"""
)
_SEQUENCE = _CREATE + "return redis.call('HGET', KEYS[1], '#seq')"
# whether the entry with `since` and comma-separated `tables` is still good: none of its
# tables has a later generation, and the generations are the ones it was kept under
_FRESH = """
local function fresh(since, tables)
  local names = {'#seq', '*'}
  for t in string.gmatch(tables, '[^,]+') do names[#names + 1] = t end
  local gens = redis.call('HMGET', KEYS[1], unpack(names))
  if not gens[1] or tonumber(gens[1]) < since then return false end
  for i = 2, #gens do
    if gens[i] and tonumber(gens[i]) > since then return false end
  end
  return true
end
"""
# KEYS[2] the entry: its body, etag and expiry if fresh (else dropped)
_GET = (
    _FRESH
    + """
local meta = redis.call('HMGET', KEYS[2], 'since', 'tables')
if not meta[1] then return false end
if not fresh(tonumber(meta[1]), meta[2]) then
  redis.call('DEL', KEYS[2])
  return false
end
return redis.call('HMGET', KEYS[2], 'body', 'etag', 'expires', 'since', 'tables')
"""
)
# ARGV: since, tables, body, etag, expires, expiry (Unix ms); kept only while fresh
_PUT = (
    _FRESH
    + """
if not fresh(tonumber(ARGV[1]), ARGV[2]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'since', ARGV[1], 'tables', ARGV[2], 'body', ARGV[3],
  'etag', ARGV[4], 'expires', ARGV[5])
redis.call('PEXPIREAT', KEYS[2], ARGV[6])
return 1
"""
)


class SharedEntries:
    """The response cache's entries and the tables' generations in Redis (OPSGRAPH_CACHE_URL),
    shared by every replica and process. Every call is one script, one round trip. Redis
    unreachable: logged once, then not asked again for RETRY_SECONDS; a write this process
    could not publish then is published as a change to every table before anything else."""

    def __init__(self, url: str, namespace: str | None = None) -> None:
        import redis

        self.namespace = namespace or NAMESPACE
        self._generations = self.namespace + "gen"
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=1.0)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._bump = self._redis.register_script(_BUMP)
        self._sequence = self._redis.register_script(_SEQUENCE)
        self._get = self._redis.register_script(_GET)
        self._put = self._redis.register_script(_PUT)
        self._lock = threading.Lock()
        self._down_until = 0.0  # monotonic: not asked before
        self._owed = False  # a committed write not published: publish "*" first
        self._name = f"{url}#{self.namespace}"  # one publisher per store (changes.publish_to)
        changes.publish_to(self._name, self.publish)

    def _reachable(self) -> bool:
        """Whether Redis may be asked now; pays a write owed to it first."""
        with self._lock:
            if time.monotonic() < self._down_until:
                return False
            owed = self._owed
        if owed:
            try:
                self._bump(keys=[self._generations], args=[changes.EVERYTHING])
            except self._errors as error:
                self._failed(error)
                return False
            with self._lock:
                self._owed = False
        return True

    def _failed(self, error: Exception) -> None:
        with self._lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + RETRY_SECONDS
        if first:  # once per outage, not per request
            log.warning("response cache: Redis unreachable, answers are not cached: %s", error)

    def _succeeded(self) -> None:
        if self._down_until:
            with self._lock:
                self._down_until = 0.0
            log.info("response cache: Redis reachable again")

    def _ask(
        self, script: Callable[..., Any], keys: list[str], args: Sequence[str | int] = ()
    ) -> tuple[bool, Any]:
        """One script run: (True, its answer), or (False, None) when Redis is not asked now
        or does not answer."""
        if not self._reachable():
            return False, None
        try:
            found = script(keys=keys, args=list(args))
        except self._errors as error:
            self._failed(error)
            return False, None
        self._succeeded()
        return True, found

    def publish(self, tables: frozenset[str]) -> None:
        """A committed write (changes.publish_to): its tables' new generation."""
        published, _ = self._ask(self._bump, [self._generations], sorted(tables))
        if not published:
            with self._lock:
                self._owed = True

    def sequence(self) -> int | None:
        asked, found = self._ask(self._sequence, [self._generations])
        return int(found) if asked else None

    def get(self, key: str) -> Entry | None:
        _asked, found = self._ask(self._get, [self._generations, self.namespace + key])
        if not found:
            return None
        body, etag, expires, since, tables = (
            value.decode() if isinstance(value, bytes) else str(value) for value in found
        )
        return Entry(
            body,
            etag,
            int(since),
            frozenset(tables.split(",")) - {""},
            datetime.fromisoformat(expires) if expires else None,
        )

    def put(self, key: str, entry: Entry) -> bool:
        """Keep `entry` (unless its tables changed since it was read: then not kept, yet
        true); false when Redis could not be asked."""
        expiry = datetime.now(UTC) + MAX_AGE
        if entry.expires is not None:
            expiry = min(expiry, entry.expires)
        args: list[str | int] = [
            entry.since,
            ",".join(sorted(entry.tables)),
            entry.body,
            entry.etag,
            "" if entry.expires is None else entry.expires.isoformat(),
            int(expiry.timestamp() * 1000),
        ]
        asked, _ = self._ask(self._put, [self._generations, self.namespace + key], args)
        return asked

    def close(self) -> None:
        if changes.publishing_to(self._name) == self.publish:
            changes.publish_to(self._name, None)
        self._redis.close()


def publish_writes(url: str) -> SharedEntries:
    """A process that writes without serving (worker, CLI): its committed writes change
    the shared generations too."""
    return SharedEntries(url)
